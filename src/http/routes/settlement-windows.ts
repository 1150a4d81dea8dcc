import { z } from 'zod';
import {
  PAY_IN_REFUSALS,
  WINDOW_STATUSES,
  type PayInView,
  type PayOutView,
  type PositionView,
  type ScheduleVersionView,
  type WindowView,
} from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, dateTime, idParam, pageQuery, pageSchema } from '../schemas';

/**
 * Settlement windows between platforms: the supervisor's schedule, windows with their positions,
 * pay-ins and pay-outs (a platform officer sees its own platform's rows only), closing a window
 * early and confirming a fiat pay-in (supervisor), and the window's books.
 */

const amount = z.string().meta({ description: 'sats (BTC) or minor units, as a decimal string' });
const iso = (d: Date | null) => d?.toISOString() ?? null;
const READERS = ['supervisor', 'auditor', 'platform'] as const;

const scheduleVersionSchema = z
  .object({
    version: z.number(),
    periodMinutes: z.number(),
    payInMinutes: z.number(),
    effectiveFrom: z.string(),
    reason: z.string(),
    setBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementScheduleVersion' });
const presentVersion = (v: ScheduleVersionView) => ({
  ...v,
  effectiveFrom: v.effectiveFrom.toISOString(),
  createdAt: v.createdAt.toISOString(),
});

const windowSchema = z
  .object({
    id: z.string(),
    sequence: z.number(),
    status: z.enum(WINDOW_STATUSES),
    opensAt: z.string(),
    closesAt: z.string().nullable(),
    closedAt: z.string().nullable(),
    payInDeadline: z.string().nullable(),
    settledAt: z.string().nullable(),
    scheduleVersion: z.number().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementWindow' });
const presentWindow = (w: WindowView) => ({
  ...w,
  opensAt: w.opensAt.toISOString(),
  closesAt: iso(w.closesAt),
  closedAt: iso(w.closedAt),
  payInDeadline: iso(w.payInDeadline),
  settledAt: iso(w.settledAt),
  createdAt: w.createdAt.toISOString(),
});

const positionSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    netAtClose: amount,
    netSettled: amount.nullable(),
    status: z.enum(['awaiting', 'settled', 'takenOut']),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPosition' });
const presentPosition = (p: PositionView) => ({
  ...p,
  netAtClose: p.netAtClose.toString(),
  netSettled: p.netSettled?.toString() ?? null,
  createdAt: p.createdAt.toISOString(),
});

const payInSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    amountDue: amount,
    address: z.string().nullable(),
    status: z.enum(['awaiting', 'confirming', 'held', 'received']).meta({
      description:
        "confirming: the exact amount is in a block short of the scheme's confirmation depth; held: held for the supervisor's review, and it does not count meanwhile (why is not said to the platform)",
    }),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    bankReference: z.string().nullable(),
    pendingConfirmation: z
      .object({ amount, bankReference: z.string(), recordedAt: z.string() })
      .nullable()
      .meta({
        description:
          'a fiat pay-in one person recorded, counted only when a different person confirms the same transfer (four eyes)',
      }),
    receivedAt: z.string().nullable(),
    refusals: z.array(
      z.object({
        id: z.string(),
        reason: z.enum(PAY_IN_REFUSALS),
        amount,
        txid: z.string().nullable(),
        vout: z.number().nullable(),
        bankReference: z.string().nullable(),
        createdAt: z.string(),
      }),
    ),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPayIn' });
const presentPayIn = (p: PayInView) => ({
  ...p,
  amountDue: p.amountDue.toString(),
  pendingConfirmation: p.pendingConfirmation
    ? {
        amount: p.pendingConfirmation.amount.toString(),
        bankReference: p.pendingConfirmation.bankReference,
        recordedAt: p.pendingConfirmation.recordedAt.toISOString(),
      }
    : null,
  receivedAt: iso(p.receivedAt),
  createdAt: p.createdAt.toISOString(),
  refusals: p.refusals.map((r) => ({
    ...r,
    reason: r.reason as (typeof PAY_IN_REFUSALS)[number],
    amount: r.amount.toString(),
    createdAt: r.createdAt.toISOString(),
  })),
});

const payOutSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    kind: z.enum(['payOut', 'refund']),
    amount,
    status: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPayOut' });
const presentPayOut = (p: PayOutView) => ({
  ...p,
  amount: p.amount.toString(),
  createdAt: p.createdAt.toISOString(),
});

export function registerSettlementWindowRoutes(app: TypedApp, deps: AppDeps): void {
  registerScheduleRoutes(app, deps);
  registerWindowReads(app, deps);
  registerWindowWrites(app, deps);
  registerPayOutBatch(app, deps);
}

function registerScheduleRoutes(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;
  const stateSchema = z
    .object({ inForce: scheduleVersionSchema.nullable(), versions: z.array(scheduleVersionSchema) })
    .meta({ id: 'SettlementSchedule' });

  app.get(
    '/v1/settlement-schedule',
    {
      config: { roles: [...READERS] },
      schema: {
        tags: ['settlement windows'],
        summary: 'The settlement window schedule: the version in force and every version',
        description:
          'The settlement window schedule: the cut-off period and the pay-in deadline, the version in force and every version.',
        response: { 200: stateSchema, ...commonErrors },
      },
    },
    async (request) => {
      const state = await windows.schedule(callerOf(request, [...READERS]));
      return {
        inForce: state.inForce ? presentVersion(state.inForce) : null,
        versions: state.versions.map(presentVersion),
      };
    },
  );

  app.put(
    '/v1/settlement-schedule',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'Set a new version of the window schedule (supervisor): the cut-off period and the pay-in deadline after it; audited',
        description:
          'Sets a new version of the window schedule: the cut-off period and the pay-in deadline after it. Audited; earlier versions stay listed.',
        body: z
          .object({
            periodMinutes: z.number().int().min(1).max(1440),
            payInMinutes: z.number().int().min(1).max(1440),
            effectiveFrom: dateTime.optional(),
            reason: z.string().trim().min(1).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                periodMinutes: 60,
                payInMinutes: 30,
                effectiveFrom: '2026-02-01T00:00:00Z',
                reason: 'hourly windows once volumes grew',
              },
            ],
          }),
        response: { 201: scheduleVersionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const version = await windows.setSchedule(callerOf(request, ['supervisor']), {
        periodMinutes: body.periodMinutes,
        payInMinutes: body.payInMinutes,
        effectiveFrom: body.effectiveFrom ? new Date(body.effectiveFrom) : undefined,
        reason: body.reason,
      });
      return reply.status(201).send(presentVersion(version));
    },
  );
}

function registerWindowReads(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;
  const page = (q: { limit: number; cursor?: string | undefined }) => ({
    limit: q.limit,
    cursor: q.cursor ?? null,
  });

  app.get(
    '/v1/settlement-windows',
    {
      config: { roles: [...READERS] },
      schema: {
        tags: ['settlement windows'],
        summary: 'Settlement windows, newest first',
        description: 'Settlement windows, newest first, with their state and totals.',
        querystring: z.object({ ...pageQuery }),
        response: { 200: pageSchema(windowSchema), ...commonErrors },
      },
    },
    async (request) => {
      const result = await windows.listWindows(
        callerOf(request, [...READERS]),
        page(request.query),
      );
      return { ...result, items: result.items.map(presentWindow) };
    },
  );

  app.get(
    '/v1/settlement-windows/:id',
    {
      config: { roles: [...READERS] },
      schema: {
        tags: ['settlement windows'],
        summary: 'One settlement window',
        description: 'One settlement window with its state, cut-off, deadline and totals.',
        params: idParam('swn'),
        response: { 200: windowSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentWindow(await windows.getWindow(callerOf(request, [...READERS]), request.params.id)),
  );

  const list = <T, R>(
    path: string,
    summary: string,
    item: z.ZodType<R>,
    read: (
      caller: ReturnType<typeof callerOf>,
      id: string,
      p: ReturnType<typeof page>,
    ) => Promise<{ items: T[]; nextCursor: string | null }>,
    present: (row: T) => R,
  ) =>
    app.get(
      `/v1/settlement-windows/:id/${path}`,
      {
        config: { roles: [...READERS] },
        schema: {
          tags: ['settlement windows'],
          summary,
          description: 'A platform officer sees its own platform’s rows only.',
          params: idParam('swn'),
          querystring: z.object({ ...pageQuery }),
          response: { 200: pageSchema(item), ...commonErrors },
        },
      },
      async (request) => {
        const result = await read(
          callerOf(request, [...READERS]),
          request.params.id,
          page(request.query),
        );
        return { ...result, items: result.items.map(present) };
      },
    );
  list(
    'positions',
    "Each platform's multilateral net position per asset",
    positionSchema,
    (c, id, p) => windows.listPositions(c, id, p),
    presentPosition,
  );
  list(
    'pay-ins',
    'Pay-ins due from net payers, with what arrived and what was refused',
    payInSchema,
    (c, id, p) => windows.listPayIns(c, id, p),
    presentPayIn,
  );
  list(
    'pay-outs',
    'Pay-outs to net receivers and refunds, as instructed at settlement',
    payOutSchema,
    (c, id, p) => windows.listPayOuts(c, id, p),
    presentPayOut,
  );

  app.get(
    '/v1/settlement-windows/:id/books',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "The clearing's books for the window: every account's balance (all zero once settled)",
        description:
          "The clearing's books for the window: every account's balance. Once the window is settled they are all zero.",
        params: idParam('swn'),
        response: {
          200: z
            .object({
              windowId: z.string(),
              status: z.string(),
              balanced: z.boolean(),
              balances: z.array(
                z.object({ account: z.string(), asset: z.string(), balance: amount }),
              ),
            })
            .meta({ id: 'SettlementBooks' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const books = await windows.reconcile(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
      );
      return {
        ...books,
        balances: books.balances.map((b) => ({ ...b, balance: b.balance.toString() })),
      };
    },
  );
}

function registerPayOutBatch(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;
  app.get(
    '/v1/settlement-windows/:id/pay-out-batch',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "The bitcoin pay-out batch for the scheme's signer: received pay-ins in, pay-outs and refunds out",
        description:
          "The bitcoin pay-out batch for the scheme's signer: the received pay-ins it spends and the pay-outs and refunds it makes.",
        params: idParam('swn'),
        response: {
          200: z
            .object({
              windowId: z.string(),
              status: z.string(),
              inputs: z.array(
                z.object({
                  payInId: z.string(),
                  platformId: z.string(),
                  txid: z.string(),
                  vout: z.number(),
                  valueSats: amount,
                  derivationIndex: z.number(),
                }),
              ),
              outputs: z.array(
                z.object({
                  payOutId: z.string(),
                  platformId: z.string(),
                  kind: z.enum(['payOut', 'refund']),
                  valueSats: amount,
                }),
              ),
            })
            .meta({ id: 'SettlementPayOutBatch' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const batch = await windows.payOutBatch(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
      );
      return {
        ...batch,
        inputs: batch.inputs.map((i) => ({ ...i, valueSats: i.valueSats.toString() })),
        outputs: batch.outputs.map((o) => ({ ...o, valueSats: o.valueSats.toString() })),
      };
    },
  );
}

function registerWindowWrites(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;

  app.post(
    '/v1/settlement-windows/:id/close',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary: 'Close a window before its cut-off (supervisor); audited. A closed one: 409',
        description:
          'Closes an open window before its cut-off, so that its net positions are computed now. A window already closed answers 409.',
        params: idParam('swn'),
        response: { 200: windowSchema, ...commonErrors, 409: errorResponseSchema },
      },
    },
    async (request) =>
      presentWindow(
        await windows.closeWindow(callerOf(request, ['supervisor']), request.params.id),
      ),
  );

  app.post(
    '/v1/settlement-windows/:id/fiat-pay-ins',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "Record or confirm a platform's fiat pay-in from the bank (two persons): the exact amount due counts once a second person confirms it; another amount is recorded as refused (422)",
        description:
          "Four eyes: the first person's call records the bank transfer (the pay-in's `pendingConfirmation`; it does not count yet); a different person confirming the same transfer (amount and bank reference) makes it count. The same person confirming their own record, with any credential, is SELF_APPROVAL (403); another transfer than the one recorded replaces the record, to be confirmed by another person. Only the exact amount due counts; another amount is recorded as refused at once (422).",
        params: idParam('swn'),
        body: z
          .object({
            platformId: z.string().regex(/^par_[0-9A-HJKMNP-TV-Z]{26}$/),
            amount: z.string().regex(/^[1-9]\d{0,17}$/, 'minor units, a positive whole number'),
            currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code'),
            bankReference: z.string().trim().min(1).max(140),
          })
          .strict()
          .meta({
            examples: [
              {
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                amount: '1250000',
                currency: 'USD',
                bankReference: 'BCR-2026-000731',
              },
            ],
          }),
        response: {
          200: payInSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const body = request.body;
      return presentPayIn(
        await windows.confirmFiatPayIn(
          callerOf(request, ['supervisor']),
          request.params.id,
          body.platformId,
          {
            amount: BigInt(body.amount),
            currency: body.currency,
            bankReference: body.bankReference,
          },
        ),
      );
    },
  );
}

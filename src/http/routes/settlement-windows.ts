import { z } from 'zod';
import {
  HELD_REASONS,
  PAY_IN_REFUSALS,
  PAY_IN_STATUSES,
  WINDOW_STATUSES,
  type ObligationView,
  type PayInView,
  type PayOutView,
  type PositionView,
  type ScheduleVersionView,
  type SettlementAddressView,
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
    status: z.enum(PAY_IN_STATUSES).meta({
      description:
        "confirming: the exact amount is in a block short of the scheme's confirmation depth; held: held for the supervisor's review, and it does not count meanwhile (why is not said to the platform); rejected: the supervisor rejected it after review: it counts nothing and is to be returned to the payer; frozen: the supervisor rejected it after review and its coins are frozen, not returned. After a rejected or frozen pay-in the due is reopened as its next attempt at a fresh address, while the pay-in deadline has not passed",
    }),
    attempt: z.number().meta({
      description:
        'the attempt of this due: 1 at the close, one more each time a rejected or frozen pay-in reopened it at a fresh deposit address',
    }),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    bankReference: z.string().nullable(),
    pendingConfirmation: z
      .object({
        recordedAt: z.string(),
        recordedBy: z
          .string()
          .nullable()
          .meta({ description: 'the person who recorded it (null to a platform)' }),
        amount: amount
          .nullable()
          .meta({ description: 'the recorded amount: null to everyone but its recorder' }),
        bankReference: z
          .string()
          .nullable()
          .meta({ description: 'the recorded reference: null to everyone but its recorder' }),
      })
      .nullable()
      .meta({
        description:
          'a fiat pay-in one person recorded, counted only when a different person confirms the same transfer (four eyes); the second person types the amount and reference from the bank, so they are shown only to the person who recorded them',
      }),
    decision: z
      .object({
        decision: z.enum(['accept', 'reject']),
        reason: z.string(),
        decidedBy: z.string(),
        decidedAt: z.string(),
        caseId: z.string().nullable().meta({
          description: 'the compliance case of the held alert, where the decision is noted',
        }),
      })
      .nullable()
      .meta({
        description:
          "the supervisor's decision on a held pay-in (supervisor and auditors only; null to a platform)",
      }),
    hold: z
      .object({
        reason: z.enum(HELD_REASONS).meta({
          description:
            'listMatch: a paying address is on a sanctions list (rejected, its coins are frozen and reported); unscreenable: an address could not be screened (rejected, it is returned)',
        }),
        alertId: z.string().nullable(),
        caseId: z.string().nullable(),
      })
      .nullable()
      .meta({
        description:
          'why the pay-in was held, with the screening alert it raised and its case (supervisor and auditors only; null to a platform)',
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
        recordedAt: p.pendingConfirmation.recordedAt.toISOString(),
        recordedBy: p.pendingConfirmation.recordedBy,
        amount: p.pendingConfirmation.amount?.toString() ?? null,
        bankReference: p.pendingConfirmation.bankReference,
      }
    : null,
  decision: p.decision ? { ...p.decision, decidedAt: p.decision.decidedAt.toISOString() } : null,
  receivedAt: iso(p.receivedAt),
  createdAt: p.createdAt.toISOString(),
  refusals: p.refusals.map((r) => ({
    ...r,
    reason: r.reason as (typeof PAY_IN_REFUSALS)[number],
    amount: r.amount.toString(),
    createdAt: r.createdAt.toISOString(),
  })),
});

const obligationSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    source: z.enum(['deal', 'transfer']),
    sourceId: z.string(),
    fromPlatform: z.string().meta({ description: 'the platform that owes' }),
    toPlatform: z.string().meta({ description: 'the platform owed' }),
    asset: z.string(),
    amount,
    at: z.string(),
    firstWindowId: z.string(),
    rolls: z.number().meta({ description: 'how often a take-out rolled it to a later window' }),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementObligation' });
const presentObligation = (o: ObligationView) => ({
  ...o,
  amount: o.amount.toString(),
  at: o.at.toISOString(),
  createdAt: o.createdAt.toISOString(),
});

const payOutSchema = z
  .object({
    id: z.string(),
    windowId: z.string(),
    platformId: z.string(),
    asset: z.string(),
    kind: z.enum(['payOut', 'refund']),
    amount,
    status: z.string().meta({
      description:
        'instructed (fiat: for the bank; bitcoin: not in a transaction yet), held (bitcoin: the platform registered no settlement address, see heldCode), signed, broadcast, confirmed',
    }),
    heldCode: z
      .string()
      .nullable()
      .meta({ description: 'why a held pay-out waits: SETTLEMENT_ADDRESS_MISSING' }),
    address: z.string().nullable().meta({ description: 'bitcoin: the settlement address paid' }),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    feeSats: amount
      .nullable()
      .meta({ description: 'bitcoin: its share of the network fee (outputs bear it pro rata)' }),
    paidSats: amount
      .nullable()
      .meta({ description: 'bitcoin: what reached the address, the amount less its fee share' }),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementPayOut' });
const presentPayOut = (p: PayOutView) => ({
  ...p,
  amount: p.amount.toString(),
  feeSats: p.feeSats?.toString() ?? null,
  paidSats: p.paidSats?.toString() ?? null,
  createdAt: p.createdAt.toISOString(),
});

const settlementAddressSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    network: z.string(),
    address: z.string(),
    current: z
      .boolean()
      .meta({ description: 'the newest of the platform: the address the clearing pays' }),
    registeredBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'SettlementAddress' });
const presentAddress = (a: SettlementAddressView) => ({
  ...a,
  createdAt: a.createdAt.toISOString(),
});

export function registerSettlementWindowRoutes(app: TypedApp, deps: AppDeps): void {
  registerScheduleRoutes(app, deps);
  registerWindowReads(app, deps);
  registerWindowWrites(app, deps);
  registerPayOutBatch(app, deps);
  registerSettlementAddresses(app, deps);
}

function registerSettlementAddresses(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;
  app.put(
    '/v1/settlement-address',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "Register the bitcoin address the clearing pays the caller's platform at (its officer); the newest counts",
        description:
          "A licensed platform's officer registers the bitcoin address the clearing pays the platform's net receipts and refunds of settlement windows at. It must be an address of the scheme's network, and it is screened against the sanctions address lists: an address that does not pass is refused with TRANSFER_BLOCKED (422), saying nothing of the list entry. Registering again replaces it (the newest counts; earlier ones stay listed). Audited.",
        body: z
          .object({ address: z.string().trim().min(14).max(120) })
          .strict()
          .meta({ examples: [{ address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' }] }),
        response: {
          200: settlementAddressSchema,
          ...commonErrors,
          422: errorResponseSchema,
        },
      },
    },
    async (request) =>
      presentAddress(
        await windows.registerSettlementAddress(callerOf(request, ['platform']), {
          address: request.body.address,
        }),
      ),
  );
  app.get(
    '/v1/settlement-addresses/:platformId',
    {
      config: { roles: [...READERS] },
      schema: {
        tags: ['settlement windows'],
        summary: "A platform's settlement addresses, newest (the one paid) first",
        description:
          "A platform's settlement addresses, newest first: the first (`current`) is the one the clearing pays, the rest its history. The supervisor and auditors read any platform's; a platform officer its own (another platform's answers 404, as one that does not exist). A page at a time (pass `nextCursor` as `cursor`).",
        params: z.object({
          platformId: z
            .string()
            .regex(/^par_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id like par_01J…'),
        }),
        querystring: z.object({ ...pageQuery }),
        response: { 200: pageSchema(settlementAddressSchema), ...commonErrors },
      },
    },
    async (request) => {
      const result = await windows.listSettlementAddresses(
        callerOf(request, [...READERS]),
        request.params.platformId,
        { limit: request.query.limit, cursor: request.query.cursor ?? null },
      );
      return { ...result, items: result.items.map(presentAddress) };
    },
  );
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
    description: string,
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
          description,
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
  const OWN_ROWS =
    'Newest first, a page at a time (pass `nextCursor` as `cursor`). A platform officer sees its own platform’s rows only.';
  list(
    'obligations',
    'The obligations between platforms settling in the window',
    'The obligations between platforms settling in the window (one a take-out rolled here says so in `rolls`), newest first, a page at a time (pass `nextCursor` as `cursor`). The supervisor and auditors see every one; a platform officer only those its platform owes or is owed.',
    obligationSchema,
    (c, id, p) => windows.listObligations(c, id, p),
    presentObligation,
  );
  list(
    'positions',
    "Each platform's multilateral net position per asset",
    OWN_ROWS,
    positionSchema,
    (c, id, p) => windows.listPositions(c, id, p),
    presentPosition,
  );
  list(
    'pay-ins',
    'Pay-ins due from net payers, with what arrived and what was refused',
    OWN_ROWS,
    payInSchema,
    (c, id, p) => windows.listPayIns(c, id, p),
    presentPayIn,
  );
  list(
    'pay-outs',
    'Pay-outs to net receivers and refunds, as instructed at settlement',
    OWN_ROWS,
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
          'The bitcoin pay-out batch of a window: received pay-ins in, pay-outs and refunds out, and its signed transaction (txid, status)',
        description:
          "The bitcoin pay-out batch of a settled window: the received pay-ins it spends, the pay-outs and refunds it makes (each to the platform's registered settlement address, with its share of the network fee: the outputs bear it pro rata), and `transaction`, the one transaction the clearing signed and stored for it before broadcasting it (txid; status signed, broadcast, confirmed or rejected; null until built). A receiver with no settlement address holds the whole batch (its pay-out `held`, heldCode SETTLEMENT_ADDRESS_MISSING) until it registers one.",
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
                  status: z.string(),
                  heldCode: z.string().nullable(),
                  address: z.string().nullable(),
                  vout: z.number().nullable(),
                  feeSats: amount.nullable(),
                  paidSats: amount.nullable(),
                }),
              ),
              transaction: z
                .object({
                  txid: z.string(),
                  status: z.enum(['signed', 'broadcast', 'confirmed', 'rejected']),
                  feeSats: amount,
                  feeRateSatPerKvB: amount,
                  attempts: z.number(),
                  lastError: z.string().nullable(),
                  nextAttemptAt: z.string().nullable(),
                  blockHash: z.string().nullable(),
                  blockHeight: z.number().nullable(),
                  signedAt: z.string(),
                  broadcastAt: z.string().nullable(),
                  confirmedAt: z.string().nullable(),
                })
                .nullable()
                .meta({
                  description:
                    'the signed pay-out transaction stored for the window (the same bytes on every broadcast); null until built',
                }),
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
      const t = batch.transaction;
      return {
        ...batch,
        inputs: batch.inputs.map((i) => ({ ...i, valueSats: i.valueSats.toString() })),
        outputs: batch.outputs.map((o) => ({
          ...o,
          valueSats: o.valueSats.toString(),
          feeSats: o.feeSats?.toString() ?? null,
          paidSats: o.paidSats?.toString() ?? null,
        })),
        transaction: t
          ? {
              ...t,
              status: t.status as 'signed' | 'broadcast' | 'confirmed' | 'rejected',
              feeSats: t.feeSats.toString(),
              feeRateSatPerKvB: t.feeRateSatPerKvB.toString(),
              nextAttemptAt: iso(t.nextAttemptAt),
              signedAt: t.signedAt.toISOString(),
              broadcastAt: iso(t.broadcastAt),
              confirmedAt: iso(t.confirmedAt),
            }
          : null,
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

  app.post(
    '/v1/settlement-windows/:id/pay-ins/:payInId/decision',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'Decide a held bitcoin pay-in (supervisor): accept (it counts, as received) or reject (it counts nothing: returned to the payer, or frozen after a sanctions list match); audited and noted on the case',
        description:
          'A bitcoin pay-in is held when the addresses paying it did not pass address screening or cannot be screened; it counts nothing and raised a screening alert. Named persons of the supervisor decide it, with a reason: `accept` takes two (the first proposes and the pay-in stays held; a second person accepting makes it count as received, and the window settles if it was the last awaited; the same person again is SELF_APPROVAL), `reject` (one person) counts nothing: held because an address could not be screened, it is recorded to be returned to the payer (`rejected`); held for a sanctions list match, its coins are frozen and reported, never returned (`frozen`, with a critical alert for the report). Before the pay-in deadline a reject reopens the due as its next attempt at a fresh deposit address, so that the platform can pay in again. Each decision is noted on the case of the held alert (`decision.caseId`). Only a held pay-in is decided (PAY_IN_NOT_HELD, 409); once its window settled without it, it can only be rejected (WINDOW_ALREADY_SETTLED, 409). The platform sees the new status, never the reason.',
        params: idParam('swn').extend({
          payInId: z.string().regex(/^pin_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id like pin_01J…'),
        }),
        body: z
          .object({
            decision: z.enum(['accept', 'reject']),
            reason: z.string().trim().min(10).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                decision: 'accept',
                reason:
                  'the match is a namesake address reused after the listing; cleared with the analytics provider',
              },
            ],
          }),
        response: { 200: payInSchema, ...commonErrors, 409: errorResponseSchema },
      },
    },
    async (request) =>
      presentPayIn(
        await windows.decideHeldPayIn(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.params.payInId,
          request.body,
        ),
      ),
  );
}

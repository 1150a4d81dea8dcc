import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, dateTime, idParam, pageQuery, pageSchema } from '../schemas';
import {
  amount,
  READERS,
  scheduleVersionSchema,
  presentVersion,
  windowSchema,
  presentWindow,
  positionSchema,
  presentPosition,
  payInSchema,
  presentPayIn,
  obligationSchema,
  presentObligation,
  payOutSchema,
  presentPayOut,
} from './settlement-windows-schemas';
import { registerPayInWrites } from './settlement-pay-ins';
import { registerPayOutBatch, registerSettlementAddresses } from './settlement-pay-outs';

/**
 * Settlement windows between platforms: the supervisor's schedule, windows with their positions,
 * pay-ins and pay-outs (a platform officer sees its own platform's rows only), closing a window
 * early and confirming a fiat pay-in (supervisor), and the window's books. One file per resource
 * family: the schedule and windows here; fiat pay-ins and held pay-in decisions in
 * settlement-pay-ins.ts; the pay-out batch and settlement addresses in settlement-pay-outs.ts;
 * the shared schemas in settlement-windows-schemas.ts.
 */

export function registerSettlementWindowRoutes(app: TypedApp, deps: AppDeps): void {
  registerScheduleRoutes(app, deps);
  registerWindowReads(app, deps);
  registerWindowClose(app, deps);
  registerPayInWrites(app, deps);
  registerPayOutBatch(app, deps);
  registerSettlementAddresses(app, deps);
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

function registerWindowClose(app: TypedApp, deps: AppDeps): void {
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
}

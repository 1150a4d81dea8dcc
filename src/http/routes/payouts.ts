import { z } from 'zod';
import { COMPLIANCE_STATUSES, discloseGate } from '../../compliance';
import { AppError, type Caller } from '../../kernel';
import { PAYOUT_STATUSES, type BatchView, type PayoutView } from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { withFixingId } from './fixings';
import { callerOf, WRITERS } from '../auth';
import { nameField, presentTransfers } from '../names';
import {
  commonErrors,
  idParam,
  jsonObject,
  pageQuery,
  pageSchema,
  idempotencyHeaders,
  travelRuleObject,
} from '../schemas';

/** Payouts (import side): maker-checker approvals, batches, external signing. */

const payoutSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    companyName: nameField,
    contractId: z.string(),
    counterpartyId: z.string(),
    counterpartyName: nameField,
    address: z.string(),
    amountSats: z.string(),
    amountBtc: z.string(),
    fiatMinor: z.string(),
    currency: z.string(),
    rateId: z.string(),
    fixingId: z
      .string()
      .nullable()
      .meta({ description: 'the published fixing the rate was taken from; null: the live source' }),
    status: z.enum(PAYOUT_STATUSES),
    requiredApprovals: z.number(),
    approvals: z
      .array(z.object({ actorId: z.string(), personId: z.string(), at: z.string() }))
      .meta({ description: 'one per person (maker-checker counts people, not credentials)' }),
    gate: z.object({
      outcome: z.enum(['allow', 'review', 'block']),
      reasons: z.array(z.string()),
      decidedBy: z.string(),
      decisionId: z.string().nullable(),
      resolution: z.enum(['allow', 'block']).nullable(),
      disclosure: z.enum(['detail', 'outcome']).meta({
        description:
          'outcome: reasons empty and decidedBy "compliance" (the company: no tipping-off, FATF R.21)',
      }),
      status: z.enum(COMPLIANCE_STATUSES),
      reference: z.string().meta({ description: 'what to quote to the platform about it' }),
    }),
    batchId: z.string().nullable(),
    txid: z.string().nullable(),
    vout: z.number().nullable(),
    feeShareSats: z.string(),
    memo: z.string(),
    createdBy: z.string(),
    createdByPerson: z
      .string()
      .meta({ description: 'the maker as a person: never an approver, with any credential' }),
    hold: z
      .object({
        step: z.enum(['approval', 'batching', 'signing', 'broadcast', 'release']),
        outcome: z.enum(['allow', 'review', 'block']),
        reasons: z.array(z.string()),
        decidedBy: z.string(),
        decisionId: z.string().nullable().meta({ description: 'the reference of the hold' }),
        at: z.string(),
      })
      .nullable()
      .meta({
        description:
          'why a held payout is held: the step whose compliance check did not pass (never broadcast; funds back from in transit)',
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
    settlementId: z.string().nullable(),
    travelRule: travelRuleObject('the Travel Rule data supplied with it').nullable(),
    originRefusal: z
      .object({
        code: z.literal('ORIGIN_NOT_CLEARED'),
        rule: z.string().nullable().meta({ description: 'the cleared-origin rule version' }),
        reason: z.string().meta({ description: 'what it means and what to do, in plain words' }),
        detail: z.string().nullable().meta({
          description:
            "the batcher's own message (which coins were refused): for the platform, the supervisor and auditors; null for the company",
        }),
        at: z.string(),
      })
      .nullable()
      .meta({
        description:
          'the last refusal of the payout at batching because the coins it would spend are not cleared in origin (ORIGIN_NOT_CLEARED); it stays queued and is batched once cleared coins cover it',
      }),
  })
  .meta({ id: 'Payout' });

/** What a company reads of a refusal by origin: the code and this, never the coins' details. */
export const ORIGIN_REFUSAL_REASON =
  'The wallet has not enough coins of cleared origin to pay this payout: coins still in quarantine or of undetermined origin cannot be spent. It stays queued and is paid once cleared coins cover it; ask your platform for details.';

const batchSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    status: z.string(),
    txid: z.string().nullable(),
    replacedTxids: z.array(z.string()),
    feeSats: z.string(),
    feeRateSatPerKvB: z.string(),
    vsize: z.number(),
    psbt: z.string().meta({ description: 'base64 PSBT (BIP174) for an external signer' }),
    payoutIds: z.array(z.string()),
    confirmedHeight: z.number().nullable(),
    broadcastAttempts: z.number(),
    lastBroadcastError: z.string().nullable(),
  })
  .meta({ id: 'PayoutBatch' });

/** A payout as the caller may read it: its gate verdict through compliance's disclosure rule. */
function presentPayout(
  caller: Caller,
  p: PayoutView & { fixingId: string | null },
): z.infer<typeof payoutSchema> {
  return {
    ...p,
    amountSats: p.amountSats.toString(),
    fiatMinor: p.fiatMinor.toString(),
    feeShareSats: p.feeShareSats.toString(),
    approvals: p.approvals.map((a) => ({
      actorId: a.actorId,
      personId: a.personId,
      at: a.at.toISOString(),
    })),
    gate: discloseGate(caller, p, p.gate, p.id),
    // A hold names the step for everyone; its reasons only to those who may read them.
    hold: p.hold
      ? (() => {
          const disclosed = discloseGate(caller, p, { ...p.hold, resolution: null }, p.id);
          return {
            step: p.hold.step,
            outcome: p.hold.outcome,
            reasons: disclosed.reasons,
            decidedBy: disclosed.decidedBy,
            decisionId: p.hold.decisionId,
            at: p.hold.at,
          };
        })()
      : null,
    travelRule: jsonObject(p.travelRule),
    originRefusal: p.originRefusal
      ? {
          code: p.originRefusal.code,
          rule: p.originRefusal.rule,
          reason: ORIGIN_REFUSAL_REASON,
          // The coins and lots the batcher named are the platform's wallet's, not the company's.
          detail: caller.role === 'company' ? null : p.originRefusal.message,
          at: p.originRefusal.at.toISOString(),
        }
      : null,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function presentBatch(b: BatchView): z.infer<typeof batchSchema> {
  return {
    ...b,
    replacedTxids: [...b.replacedTxids],
    payoutIds: [...b.payoutIds],
    feeSats: b.feeSats.toString(),
    feeRateSatPerKvB: b.feeRateSatPerKvB.toString(),
  };
}

export function registerPayoutsRoutes(app: TypedApp, deps: AppDeps): void {
  const payouts = deps.services.trade.payouts;

  app.post(
    '/v1/payouts',
    {
      config: { roles: ['company', 'platform'] },
      schema: {
        tags: ['trade'],
        summary: 'Request a payout to the counterparty against an active import contract',
        description:
          "Requests a payout to the counterparty against an active import contract. The compliance gate decides at once; an allowed payout waits for its officers' approvals. Takes an Idempotency-Key.",
        body: z
          .object({
            contractId: z.string().regex(/^ctr_[0-9A-HJKMNP-TV-Z]{26}$/),
            amount: z.string().max(40),
            address: z.string().min(14).max(100),
            memo: z.string().max(500).optional(),
            travelRule: travelRuleObject('The originator and beneficiary (Travel Rule)').optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                contractId: 'ctr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                amount: '15000.00',
                address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
                memo: 'machine parts, invoice 2026-117',
              },
            ],
          }),
        headers: idempotencyHeaders,
        response: { 200: payoutSchema, 201: payoutSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['company', 'platform']);
      const { payout, replayed } = await payouts.createOnce(
        caller,
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply
        .status(replayed ? 200 : 201)
        .send(presentPayout(caller, await withFixingId(deps, payout)));
    },
  );

  app.get(
    '/v1/payouts',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'Payouts visible to the caller',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({ status: z.enum(PAYOUT_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(payoutSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { status, limit, cursor } = request.query;
      const page = await payouts.list(caller, status ? { status } : {}, {
        limit,
        cursor: cursor ?? null,
      });
      return {
        ...page,
        items: await presentTransfers(deps, page.items, (p) => presentPayout(caller, p)),
      };
    },
  );

  app.get(
    '/v1/payouts/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'One payout',
        description: 'One payout with its gate decision, approvals and batch.',
        params: idParam('pay'),
        response: { 200: payoutSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const payout = await payouts.get(caller, request.params.id);
      const [one] = await presentTransfers(deps, [payout], (p) => presentPayout(caller, p));
      return one!;
    },
  );

  app.post(
    '/v1/payouts/:id/approve',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['trade'],
        summary: "An officer's approval (maker-checker quorum)",
        description:
          "An officer approves a payout (maker-checker): once the platform's quorum is reached it joins the next batch.",
        params: idParam('pay'),
        response: { 200: payoutSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['platform']);
      return presentPayout(
        caller,
        await withFixingId(deps, await payouts.approve(caller, request.params.id)),
      );
    },
  );

  app.post(
    '/v1/payouts/:id/release',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['trade'],
        summary: 'Release a held payout whose condition cleared',
        description:
          "An officer of the payout's platform (not its maker) releases a held payout once what held it has cleared (a licence active again, a party verified, the contract resumed, a check that could not run). Every check runs again now, with a new decision: a payout that had its quorum waits for the next batch, one held before it goes back to approval. A hold for a sanctions or screening match or a monitoring alert is not released here (HOLD_NOT_RELEASABLE: its compliance review or case decides); checks that still do not pass keep it held with the new reference (HOLD_NOT_CLEARED).",
        params: idParam('pay'),
        response: { 200: payoutSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['platform']);
      return presentPayout(
        caller,
        await withFixingId(deps, await payouts.release(caller, request.params.id)),
      );
    },
  );

  app.post(
    '/v1/payouts/:id/cancel',
    {
      config: { roles: WRITERS },
      schema: {
        tags: ['trade'],
        summary: 'Cancel a payout not yet batched',
        description: 'Cancels a payout that is not yet in a batch.',
        params: idParam('pay'),
        response: { 200: payoutSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, WRITERS);
      return presentPayout(
        caller,
        await withFixingId(deps, await payouts.cancel(caller, request.params.id)),
      );
    },
  );

  app.post(
    '/v1/payout-batches',
    {
      config: { roles: ['platform', 'supervisor'] },
      schema: {
        tags: ['trade'],
        summary: "Run a batch now: the platform's approved payouts in one transaction",
        description:
          "Builds a batch now from the platform's approved payouts: one transaction (a PSBT) for its signer.",
        body: z
          .object({ platformId: z.string().min(1).max(64) })
          .strict()
          .meta({ examples: [{ platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y' }] }),
        response: {
          200: z.object({ batch: batchSchema.nullable() }).meta({ id: 'PayoutBatchRun' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const batch = await payouts.runBatch(
        callerOf(request, ['platform', 'supervisor']),
        request.body.platformId,
        { force: true },
      );
      return { batch: batch ? presentBatch(batch) : null };
    },
  );

  app.get(
    '/v1/payout-batches',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'Payout batches',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(batchSchema), ...commonErrors },
      },
    },
    async (request) => {
      const page = await payouts.listBatches(callerOf(request), {
        limit: request.query.limit,
        cursor: request.query.cursor ?? null,
      });
      return { ...page, items: page.items.map(presentBatch) };
    },
  );

  app.get(
    '/v1/payout-batches/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'One payout batch (with its PSBT)',
        description: 'One payout batch with its payouts and its PSBT.',
        params: idParam('bat'),
        response: { 200: batchSchema, ...commonErrors },
      },
    },
    async (request) => presentBatch(await payouts.getBatch(callerOf(request), request.params.id)),
  );

  app.post(
    '/v1/payout-batches/:id/signed-psbt',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['trade'],
        summary:
          "An external signer returns the batch's signed PSBT; it is checked, stored, then broadcast",
        description:
          "An external signer returns the batch's signed PSBT: it is checked against the batch, stored, then broadcast.",
        params: idParam('bat'),
        body: z
          .object({ psbt: z.string().min(1).max(1_000_000).meta({ description: 'base64' }) })
          .strict()
          .meta({
            examples: [
              {
                psbt: 'cHNidP8BAHECAAAAAbiWoY6cYdZ2qiRE9S0Y7cWlNC3kvaDsvw2OXDaOgGCIAAAAAAD+////AmCFAQAAAAAAFgAU0HQpJxBqR8tD8jJRqZJpkXHpGtUQJwAAAAAAABYAFKBAV8C6NCU6pXuhk4dDb6aZwgcvAAAAAAABAR+ghgEAAAAAABYAFNB0KScQakfLQ/IyUamSaZFx6RrVAAAA',
              },
            ],
          }),
        response: { 200: batchSchema, ...commonErrors },
      },
    },
    async (request) => {
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(request.body.psbt)) {
        throw new AppError('INVALID_PSBT', 'psbt must be base64');
      }
      const bytes = new Uint8Array(Buffer.from(request.body.psbt, 'base64'));
      return presentBatch(
        await payouts.submitSignedPsbt(callerOf(request, ['platform']), request.params.id, bytes),
      );
    },
  );
}

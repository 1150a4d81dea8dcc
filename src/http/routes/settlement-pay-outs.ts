import { z } from 'zod';
import type { PayOutBatchView, PayOutTransactionView } from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { SETTLEMENT_STATEMENT_VALID_DAYS } from '../../clearing';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';
import {
  amount,
  iso,
  READERS,
  settlementAddressSchema,
  presentAddress,
} from './settlement-windows-schemas';

/**
 * Settlement pay-outs: a window's bitcoin pay-out batch (supervisor and auditors), and the
 * settlement addresses the clearing pays platforms at. Registered by settlement-windows.ts.
 */

const payOutTransactionSchema = z.object({
  seq: z.number().meta({
    description:
      "0: the window's transaction (its received pay-ins in); 1, 2, …: a later one paying receivers held at the one before, spending its change",
  }),
  txid: z.string(),
  status: z.enum(['signed', 'broadcast', 'confirmed', 'rejected', 'held']),
  heldCode: z.string().nullable().meta({
    description:
      'why a held transaction is no longer sent: PAY_IN_OUTPOINT_MISSING (an input it spends stayed missing on every attempt; the supervisor may rebuild it) or REPLACED_TRANSACTION_MINED (a transaction it replaced was mined after all, named in `mined`: the supervisor may adopt it)',
  }),
  replacedTxids: z.array(z.string()).meta({
    description:
      'the rejected or held transactions of the window this one replaced (rebuilt by the supervisor), oldest first; still followed on the chain',
  }),
  mined: z
    .object({
      txid: z.string(),
      blockHash: z.string().nullable(),
      blockHeight: z.number().nullable(),
    })
    .nullable()
    .meta({
      description:
        'held REPLACED_TRANSACTION_MINED: the replaced transaction mined after all (the one POST .../pay-out/adopt-mined adopts) and its block, null while a reorganization has taken that block away; null otherwise',
    }),
  feeSats: amount,
  feeRateSatPerKvB: amount,
  kept: z.object({ vout: z.number(), sats: amount }).nullable().meta({
    description:
      "the output to the clearing's own change address keeping the held receivers' pay-outs until their holds clear; null when nothing is held back",
  }),
  attempts: z.number(),
  lastError: z.string().nullable(),
  nextAttemptAt: z.string().nullable(),
  blockHash: z.string().nullable(),
  blockHeight: z.number().nullable(),
  signedAt: z.string(),
  broadcastAt: z.string().nullable(),
  confirmedAt: z.string().nullable(),
});

const payOutBatchSchema = z
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
    transaction: payOutTransactionSchema.nullable().meta({
      description:
        "the window's signed pay-out transaction (the same bytes on every broadcast): every receiver that passed its checks at signing; null until built",
    }),
    laterTransactions: z.array(payOutTransactionSchema).meta({
      description:
        'the later transactions, in order, each paying receivers held when the one before was signed once their holds cleared (spending its change once it is confirmed)',
    }),
  })
  .meta({ id: 'SettlementPayOutBatch' });

function presentTransaction(t: PayOutTransactionView) {
  return {
    ...t,
    status: t.status as 'signed' | 'broadcast' | 'confirmed' | 'rejected' | 'held',
    feeSats: t.feeSats.toString(),
    feeRateSatPerKvB: t.feeRateSatPerKvB.toString(),
    kept: t.kept ? { vout: t.kept.vout, sats: t.kept.sats.toString() } : null,
    nextAttemptAt: iso(t.nextAttemptAt),
    signedAt: t.signedAt.toISOString(),
    broadcastAt: iso(t.broadcastAt),
    confirmedAt: iso(t.confirmedAt),
  };
}

function presentBatch(batch: PayOutBatchView) {
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
    transaction: t ? presentTransaction(t) : null,
    laterTransactions: batch.laterTransactions.map(presentTransaction),
  };
}

export function registerPayOutBatch(app: TypedApp, deps: AppDeps): void {
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
          "The bitcoin pay-out batch of a settled window: the received pay-ins it spends, the pay-outs and refunds it makes (each to the platform's registered settlement address, with its share of the network fee: the outputs bear it pro rata), and `transaction`, the one transaction the clearing signed and stored for it before broadcasting it (txid; status signed, broadcast (in no block, or in one short of the scheme confirmation depth), confirmed (at that depth), rejected (refused for good: the supervisor may rebuild it) or held (not sent any more: heldCode PAY_IN_OUTPOINT_MISSING, an input it spends stayed missing on every bounded attempt, the supervisor may rebuild it; or REPLACED_TRANSACTION_MINED, a transaction it replaced was mined after all); null until built). A receiver with no settlement address holds the whole batch (its pay-out `held`, heldCode SETTLEMENT_ADDRESS_MISSING) until it registers one; so does, at signing, an address that no longer screens clear (TRANSFER_BLOCKED), a receiver whose licence is not active (LICENCE_NOT_ACTIVE) or an output below the dust limit once its fee share is taken (PAY_OUT_BELOW_DUST).",
        params: idParam('swn'),
        response: {
          200: payOutBatchSchema,
          ...commonErrors,
        },
      },
    },
    async (request) =>
      presentBatch(
        await windows.payOutBatch(callerOf(request, ['supervisor', 'auditor']), request.params.id),
      ),
  );
  app.post(
    '/v1/settlement-windows/:id/pay-out/rebuild',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'Rebuild a pay-out transaction the network rejected for good, or held for missing inputs (supervisor); audited with the old and new txids. In any other state: 409',
        description:
          'For a settled window whose pay-out transaction the network rejected for good (status rejected) or that is held because an input it spends stayed missing (status held, heldCode PAY_IN_OUTPOINT_MISSING), builds and signs a new one spending the same coins (the received pay-ins of the window, or for a later transaction the change it spends) to the same pay-outs, keeping the same held ones as change, checked as at signing: the settlement addresses current now, screened again, and the receivers licences active (a failing check refuses with its code: SETTLEMENT_ADDRESS_MISSING, TRANSFER_BLOCKED, LICENCE_NOT_ACTIVE or PAY_OUT_BELOW_DUST, and nothing of the rebuild is written). Every refusal, PAY_OUT_REBUILD_UNCHANGED included, is audited with its code (with an alert for the supervisor but for a missing address or an unchanged transaction). The new transaction replaces the old one in the window (whose txid is kept in replacedTxids and still followed on the chain: should it be mined after all, the window transaction is held, REPLACED_TRANSACTION_MINED, and the supervisor may adopt the mined one), is stored before it is sent (the clearing job sends it on its next run) and is audited with both txids; the fee entry of the old one in the window books is reversed (once) and that of the new one posted. A held transaction that would come out the same (same addresses and fee rate) is put back to signed with its attempts cleared, for the job to send again, audited as resumed by the supervisor. It acts on the latest transaction of the window. A transaction in any other state (held for another reason included) answers 409 PAY_OUT_NOT_REJECTED, audited with its code; a rejected one that would come out the same answers 409 PAY_OUT_REBUILD_UNCHANGED.',
        params: idParam('swn'),
        response: {
          200: payOutBatchSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) =>
      presentBatch(
        await windows.rebuildPayOut(callerOf(request, ['supervisor']), request.params.id),
      ),
  );
  app.post(
    '/v1/settlement-windows/:id/pay-out/adopt-mined',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'Adopt the replaced pay-out transaction mined after all as the window pay-out (supervisor), when it pays the window receivers; audited. In any other state: 409',
        description:
          "For a settled window whose pay-out transaction is held because a transaction it replaced was mined after all (status held, heldCode REPLACED_TRANSACTION_MINED, the mined one in `mined`), adopts the mined one as the window's pay-out when it is the transaction the clearing signed: it spends exactly what that transaction spent (the window's received pay-ins, or the change before it) and, output by output, pays exactly what its signing recorded (each pay-out at the settlement address active at that signing, less the fee share then taken, and the clearing's change); a transaction replaced before that record was kept is checked by the earlier rule (each pay-out its amount less its pro-rata share of the fee it paid, at an address its platform had approved). Otherwise 422 MINED_TRANSACTION_MISMATCH (the problems in the details), nothing adopted, the refusal audited with an alert for the supervisor. Adopted, the window's transaction is the mined one (broadcast in its block, confirmed at the scheme's confirmation depth as usual; should a reorganization take it away, the clearing job sends it again and it is followed as any other), the held one joins replacedTxids (still followed: mined after a reorganization, it holds the window again), the pay-outs name the mined txid with its outputs and fee shares, the held one's fee entry is reversed and the mined one's posted, audited with both txids. In any other state: 409 PAY_OUT_NOT_HELD_FOR_MINED, audited with its code.",
        params: idParam('swn'),
        response: {
          200: payOutBatchSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) =>
      presentBatch(
        await windows.adoptMinedPayOut(callerOf(request, ['supervisor']), request.params.id),
      ),
  );
}

export function registerSettlementAddresses(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;
  app.get(
    '/v1/settlement-address/statement',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'The statement a platform signs (BIP322) to prove it controls a settlement address it proposes, dated today',
        description: `The exact message the caller's platform signs with the key of \`address\` (a BIP322 simple signature) before proposing it as its settlement address: \`Tradeclear settlement address: platform <platformId> controls <address> and receives the clearing's pay-outs at it. Issued <YYYY-MM-DD>.\` (one line; the address in its canonical form; the issue date a UTC day, today by the server's clock). A proposal accepts it while it is at most ${SETTLEMENT_STATEMENT_VALID_DAYS} days old (\`validUntil\`). An address of another network is INVALID_ADDRESS.`,
        querystring: z
          .object({ address: z.string().trim().min(14).max(120) })
          .meta({ examples: [{ address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' }] }),
        response: {
          200: z
            .object({
              platformId: z.string(),
              address: z.string(),
              message: z.string(),
              validUntil: z.string(),
            })
            .meta({ id: 'SettlementAddressStatement' }),
          ...commonErrors,
        },
      },
    },
    (request) => {
      const statement = windows.settlementAddressStatement(callerOf(request, ['platform']), {
        address: request.query.address,
      });
      return { ...statement, validUntil: statement.validUntil.toISOString() };
    },
  );
  app.put(
    '/v1/settlement-address',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "Propose the bitcoin address the clearing pays the caller's platform at, with a BIP322 proof of control; paid once another officer approves it",
        description:
          "An officer of a licensed platform proposes the bitcoin address the clearing pays the platform's net receipts and refunds of settlement windows at (four eyes: it is `proposed`, and paid only once a different person of the platform approves it with POST /v1/settlement-address/{id}/approve; until then the active address, or none, stays the one paid). It must be an address of the scheme's network, proven controlled by the platform: `signature` is a BIP322 simple signature (base64) by the address of `message`, the statement of GET /v1/settlement-address/statement for this platform and address, dated recently (otherwise OWNERSHIP_PROOF_INVALID, 422, nothing written). It is screened against the sanctions address lists: an address that does not pass is refused with TRANSFER_BLOCKED (422), saying nothing of the list entry, and raises an alert for the supervisor. A pending proposal of the platform is superseded by the new one. Audited.",
        body: z
          .object({
            address: z.string().trim().min(14).max(120),
            message: z.string().min(1).max(400),
            signature: z.string().trim().min(1).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
                message:
                  "Tradeclear settlement address: platform par_01J2Z3X4Y5W6V7T8S9R0QPNMKH controls bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080 and receives the clearing's pay-outs at it. Issued 2026-07-01.",
                signature:
                  'AkcwRAIgIR5zi9kwVrEnwuNPFgXaNKeIVn5UPhhRnMMtM/i6e/wCIEphpNAlpDwS5LpQSI4pM6HEkDcfkGuVoU0LKPDbwQZOASECeb5mfvncu6xVoGKVzocLBwKb/NstzijZWfKBWxb4F5g=',
              },
            ],
          }),
        response: {
          200: settlementAddressSchema,
          ...commonErrors,
          422: errorResponseSchema,
        },
      },
    },
    async (request) =>
      presentAddress(
        await windows.proposeSettlementAddress(callerOf(request, ['platform']), request.body),
      ),
  );
  app.post(
    '/v1/settlement-address/:id/approve',
    {
      config: { roles: ['platform'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "Approve the platform's pending settlement address (four eyes: another person than its proposer)",
        description:
          "A second officer of the platform approves its pending settlement address proposal: from then on the clearing pays the platform there. People are counted, not credentials: the officer who proposed it cannot approve it with any of their keys (SELF_APPROVAL, 403). The licence and the sanctions screening are checked again (a listed address is TRANSFER_BLOCKED, 422, and alerted). A proposal no longer pending is INVALID_STATE_TRANSITION (409); another platform's answers SETTLEMENT_ADDRESS_NOT_FOUND (404). Audited.",
        params: idParam('sad'),
        response: { 200: settlementAddressSchema, ...commonErrors, 422: errorResponseSchema },
      },
    },
    async (request) =>
      presentAddress(
        await windows.approveSettlementAddress(callerOf(request, ['platform']), request.params.id),
      ),
  );
  app.post(
    '/v1/settlement-address/:id/reject',
    {
      config: { roles: ['platform', 'supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary: "Reject the platform's pending settlement address proposal",
        description:
          "An officer of the platform (its proposer too, withdrawing it) or the supervisor rejects a pending settlement address proposal, with a reason: the active address, or none, stays the one paid. A proposal no longer pending is INVALID_STATE_TRANSITION (409); another platform's answers SETTLEMENT_ADDRESS_NOT_FOUND (404). Audited.",
        params: idParam('sad'),
        body: z
          .object({ reason: z.string().trim().min(1).max(2000) })
          .strict()
          .meta({ examples: [{ reason: 'not an address of our treasury' }] }),
        response: { 200: settlementAddressSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentAddress(
        await windows.rejectSettlementAddress(
          callerOf(request, ['platform', 'supervisor']),
          request.params.id,
          { reason: request.body.reason },
        ),
      ),
  );
  app.get(
    '/v1/settlement-addresses/:platformId',
    {
      config: { roles: [...READERS] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "A platform's settlement addresses, newest first: the one paid (`current`), a pending proposal, the history",
        description:
          "A platform's settlement addresses, newest first, each with its `status` (four eyes): `current` marks the newest active one, the one the clearing pays; a `proposed` one is pending a second officer's approval and is not paid; the rest are its history (superseded, rejected, earlier active ones). The supervisor and auditors read any platform's; a platform officer its own (another platform's answers 404, as one that does not exist). A page at a time (pass `nextCursor` as `cursor`).",
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

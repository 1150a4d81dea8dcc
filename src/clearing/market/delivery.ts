import { and, eq, ne, sql } from 'drizzle-orm';
import { fromHex } from '../../bitcoin';
import { broadcastRejection, chainHasTransaction, type BroadcastRejection } from '../../chain';
import { backoffMs } from '../../jobs';
import { rowsOf, type Orm } from '../../db';
import { AppError, type Caller } from '../../kernel';
import type { FiatConfirmation } from './bank';
import { MARKET, forbidden, isMarketOfficer, notFound, type MarketContext } from './context';
import { readDeal, transition, type DealRow } from './deals';
import { spendEscrow, undoEscrowSpend } from './escrow';
import { decideCoinLeg, type CoinLegDecision } from './gate';
import { nextDealStatus } from './lifecycle';
import { marketDeals } from './schema';
import { dealView, type DealView } from './views';

type Paid = { bankReference: string; confirmedAt: Date };

/** The longest wait between two sends of a delivery refused for a passing reason. */
const RETRY_CAP_MS = 60 * 60_000;

/**
 * The sends of a delivery whose input the network does not have (`missingInputs`) before its
 * deal is held: at the tick's 10 s doubling, about 40 minutes. An input that a delivery signed
 * before it will create (its change) appears within that; one spent elsewhere never will.
 */
export const MISSING_INPUT_ATTEMPTS = 8;

export interface ConfirmOptions {
  /** When the bank's confirmation was received (held against the deadline; default: now). */
  readonly receivedAt?: Date;
  /** Runs in the confirmation's transaction (the bank inbox marks its row consumed). */
  readonly consume?: (tx: Orm) => Promise<void>;
}

/**
 * The platform confirms the fiat leg (from its bank: SettlementBank, an imported file, or an
 * officer): the amount and currency must be the deal's, before its deadline, once. In the same
 * transaction the coin leg is decided again by the policy gate and, when allowed, the delivery from escrow to the
 * importer's wallet is signed and the coins credited to the importer's client funds; it is
 * broadcast right after (or by `market.tick` if the chain is unreachable).
 */
export async function confirmFiat(
  ctx: MarketContext,
  caller: Caller,
  confirmation: FiatConfirmation,
  options: ConfirmOptions = {},
): Promise<DealView> {
  const id = confirmation.dealReference;
  const deal = await readDeal(ctx.db.orm, caller, id);
  if (!isMarketOfficer(caller, deal.platformId))
    throw forbidden('the fiat leg is confirmed by the platform running the market');
  const chain = ctx.deps.chain;
  if (!chain) throw new AppError('CHAIN_UNAVAILABLE', 'the market runs without a chain here');
  const estimate = await chain.estimateFeeRateSatPerKvB(6).catch(() => null);
  const now = ctx.clock.now();
  const confirmed = await ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(marketDeals).where(eq(marketDeals.id, id)).for('update');
    if (!row) throw notFound('deal', id);
    // Four eyes: an officer's word releases escrowed coins only if another officer matched.
    if (caller.role === 'platform' && row.matchedByPerson === caller.personId)
      throw new AppError(
        'SELF_APPROVAL',
        `the officer who matched deal ${id} cannot confirm its fiat leg, with any credential; another officer or the bank must`,
      );
    nextDealStatus(id, row.status, 'confirmed');
    await checkConfirmable(tx, row, confirmation, options.receivedAt ?? now);
    // The coin leg through the policy gate again, with the address the coins would go to.
    const destination = await deliveryAddress(ctx, tx, row);
    const decision = await decideCoinLeg(ctx, caller, row, destination);
    const paid = { bankReference: confirmation.bankReference, confirmedAt: now };
    const after = decision.allowed
      ? await deliver(ctx, tx, caller, row, paid, estimate, destination)
      : await hold(ctx, tx, caller, row, paid, decision);
    if (options.consume) await options.consume(tx);
    return after;
  });
  if (confirmed.status !== 'delivering') return dealView(confirmed);
  return broadcastDelivery(ctx, caller, confirmed);
}

/** The refusals of a confirmation (each a closed code; nothing is written before them). */
async function checkConfirmable(
  tx: Orm,
  row: DealRow,
  confirmation: FiatConfirmation,
  now: Date,
): Promise<void> {
  if (now.getTime() > row.deadline.getTime()) {
    throw new AppError(
      'DEAL_PAST_DEADLINE',
      `deal ${row.id}'s fiat leg was due by ${row.deadline.toISOString()}; it is unwound, return the payment to the importer`,
    );
  }
  if (confirmation.amountMinor !== row.fiatMinor || confirmation.currency !== row.currency) {
    throw new AppError(
      'FIAT_AMOUNT_MISMATCH',
      `the confirmation is for ${confirmation.amountMinor} ${confirmation.currency} minor units; deal ${row.id} is ${row.fiatMinor} ${row.currency}`,
      { details: { expectedMinor: row.fiatMinor.toString(), currency: row.currency } },
    );
  }
  const [reused] = await tx
    .select({ id: marketDeals.id })
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.platformId, row.platformId),
        eq(marketDeals.bankReference, confirmation.bankReference),
        ne(marketDeals.id, row.id),
      ),
    );
  if (reused) {
    throw new AppError(
      'BANK_REFERENCE_REUSED',
      `bank reference ${confirmation.bankReference} already confirmed deal ${reused.id}`,
    );
  }
}

/**
 * Signs the delivery and moves the deal on (audited). The importer is credited only once the
 * network accepts the delivery (`broadcastDelivery`), not here.
 */
async function deliver(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  paid: Paid,
  estimate: bigint | null,
  destination: string,
): Promise<DealRow> {
  const delivery = await signDelivery(ctx, tx, row, estimate, destination);
  const to = nextDealStatus(row.id, row.status, 'confirmed');
  const after: DealRow = { ...row, ...paid, ...delivery, status: to, updatedAt: paid.confirmedAt };
  await tx.update(marketDeals).set(after).where(eq(marketDeals.id, row.id));
  await ctx.audit.record(caller, {
    action: 'market_deal.confirmed',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status },
    after: {
      status: to,
      bankReference: paid.bankReference,
      fiatMinor: row.fiatMinor.toString(),
      currency: row.currency,
      deliveryTxid: delivery.deliveryTxid,
      deliveredSats: delivery.deliveredSats.toString(),
      feeSats: delivery.feeSats.toString(),
    },
  });
  return after;
}

/** A fresh receive address of the importer's wallet, for the deal's delivery (screened by the gate). */
export async function deliveryAddress(ctx: MarketContext, tx: Orm, deal: DealRow): Promise<string> {
  const handed = await ctx.deps.registry.nextReceiveAddress(
    deal.companyId,
    `cleared coins bought in market deal ${deal.id}`,
  );
  return handed.address;
}

/** The deal's coins from escrow to `destination` (the importer's wallet), signed. */
export async function signDelivery(
  ctx: MarketContext,
  tx: Orm,
  deal: DealRow,
  estimate: bigint | null,
  destination: string,
) {
  const spend = await spendEscrow(
    ctx,
    tx,
    {
      offerId: deal.offerId,
      platformId: deal.platformId,
      spentBy: deal.id,
      amountSats: deal.amountSats,
      to: () => Promise.resolve(destination),
    },
    estimate,
  );
  // Its place in the broadcast order: it may spend the change of a delivery signed before it.
  const [order] = rowsOf(
    await tx.execute(sql`select nextval('market_delivery_order')::text as next`),
  );
  return {
    deliveryTxid: spend.txid,
    deliveryVout: 0,
    deliveredSats: spend.paidSats,
    feeSats: spend.feeSats,
    deliveryTx: spend.raw,
    deliveryOrder: BigInt(typeof order?.next === 'string' ? order.next : '0'),
    deliveryAttempts: 0,
    deliveryLastError: null,
    deliveryNextAttemptAt: null,
  };
}

/** The delivered coin becomes the importer's client funds (trade's payouts spend only those). */
async function creditImporter(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
): Promise<void> {
  if (row.deliveryTxid === null || row.deliveredSats === null) return;
  await ctx.deps.ledger.post(caller, {
    kind: 'market.delivery',
    reference: row.id,
    platformId: row.importerPlatformId,
    rate: null,
    memo: `cleared coins bought on the market of ${row.platformId}`,
    postings: [
      {
        account: {
          participantId: row.companyId,
          purpose: 'clientFunds',
          platformId: row.importerPlatformId,
        },
        amountSats: row.deliveredSats,
      },
      {
        account: {
          participantId: row.minerId,
          purpose: 'counterpartySettled',
          platformId: row.importerPlatformId,
        },
        amountSats: -row.deliveredSats,
      },
    ],
    settles: [{ txid: row.deliveryTxid, vout: 0 }],
  });
}

async function hold(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  paid: Paid,
  decision: CoinLegDecision,
): Promise<DealRow> {
  const after: DealRow = {
    ...row,
    ...paid,
    // Sent to review: the officer's resolution moves the deal (reviews.ts).
    coinLegReviewId: decision.review ? decision.decisionId : null,
    coinLegReviewOutcome: null,
    heldFrom: row.status,
    status: nextDealStatus(row.id, row.status, 'held'),
    updatedAt: paid.confirmedAt,
  };
  await tx.update(marketDeals).set(after).where(eq(marketDeals.id, row.id));
  await ctx.audit.record(caller, {
    action: 'market_deal.held',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status },
    after: {
      status: after.status,
      bankReference: paid.bankReference,
      decisionId: decision.decisionId,
      review: decision.review,
      reasons: decision.reasons,
    },
  });
  return after;
}

/**
 * Sends a signed delivery, classified by the chain's typed rejection (`broadcastRejection`).
 * Accepted, or already known to the network: the deal is `delivered` and the importer credited,
 * in one transaction (audited). Refused for a reason that can pass later (its inputs not seen
 * yet, a fee below what the mempool takes now, not final yet): left `delivering`, sent again
 * after the job queue's backoff (`retryDelivery`). Refused for good (consensus or script
 * failure, a double-spend) of a transaction the chain does not already know: the deal is `held`
 * for the supervisor, its escrow coins free again, and the tick stops sending it. Unreachable
 * chain: left `delivering` for the next tick.
 */
export async function broadcastDelivery(
  ctx: MarketContext,
  caller: Caller,
  deal: DealRow,
): Promise<DealView> {
  const chain = ctx.deps.chain;
  if (!chain || !deal.deliveryTx) return dealView(deal);
  try {
    await chain.broadcast(fromHex(deal.deliveryTx));
  } catch (error) {
    const rejection = broadcastRejection(error);
    if (!rejection) return dealView(deal);
    // Already in the chain or mempool (sent before a crash): accepted after all. Asked first,
    // whatever the refusal: a delivery already confirmed is refused for "missing inputs" too (its
    // inputs are spent, by itself), and must not be retried as one whose inputs are not seen yet.
    const known =
      rejection.kind === 'alreadyKnown' ||
      (deal.deliveryTxid ? await chainHasTransaction(chain, deal.deliveryTxid) : false);
    if (!known && rejection.retryable) return retryDelivery(ctx, deal, rejection);
    if (!known)
      return rejectDelivery(ctx, deal, error instanceof Error ? error.message : rejection.kind);
  }
  return transition(
    ctx,
    caller,
    deal.id,
    'broadcast',
    (row) => ({ ...row, deliveryTx: null }),
    (tx, row) => creditImporter(ctx, tx, caller, row),
  );
}

/**
 * A delivery the network refused for good: held for the supervisor, its coins free again. The
 * reason stays on the deal (`deliveryLastError`) and in the audit event, for the supervisor.
 */
function rejectDelivery(
  ctx: MarketContext,
  deal: DealRow,
  reason: string,
  detail: Record<string, unknown> = {},
): Promise<DealView> {
  const rejectedTxid = deal.deliveryTxid;
  return transition(
    ctx,
    MARKET,
    deal.id,
    'rejected',
    (row) => ({
      ...row,
      heldFrom: row.status,
      deliveryLastError: reason.slice(0, 500),
      deliveryNextAttemptAt: null,
      deliveryTx: null,
      deliveryTxid: null,
      deliveryVout: null,
      deliveredSats: null,
      feeSats: null,
    }),
    async (tx) => {
      if (rejectedTxid) await undoEscrowSpend(tx, deal.id, rejectedTxid);
    },
    { rejectedTxid, reason, alert: 'supervisor', ...detail },
  );
}

/**
 * A delivery refused for a reason that can pass later: it stays `delivering`, with the attempt,
 * the reason and the next attempt after the job queue's backoff (`backoffMs`, doubling from the
 * tick's period up to an hour, jittered) recorded and audited.
 */
async function retryDelivery(
  ctx: MarketContext,
  deal: DealRow,
  rejection: BroadcastRejection,
): Promise<DealView> {
  const attempts = deal.deliveryAttempts + 1;
  // An escrow input still missing after the capped attempts was spent elsewhere (or never
  // will appear): retrying it forever would hide it. The supervisor decides (release or refund).
  if (rejection.kind === 'missingInputs' && attempts >= MISSING_INPUT_ATTEMPTS) {
    return rejectDelivery(
      ctx,
      { ...deal, deliveryAttempts: attempts },
      `missingInputs: the delivery's escrow input is still missing after ${attempts} attempts (spent elsewhere?); held for the supervisor`,
      { attempts, kind: rejection.kind },
    );
  }
  const jitter = () => (ctx.random.bytes(1)[0] ?? 0) / 256;
  const delay = backoffMs(ctx.tickMs, attempts, RETRY_CAP_MS, jitter);
  const patch = {
    deliveryAttempts: attempts,
    deliveryLastError: `${rejection.kind}: ${rejection.reason ?? 'no reason given'}`.slice(0, 500),
    deliveryNextAttemptAt: new Date(ctx.clock.now().getTime() + delay),
  };
  const [row] = await ctx.db.transaction(async (tx) => {
    const updated = await tx
      .update(marketDeals)
      .set(patch)
      .where(and(eq(marketDeals.id, deal.id), eq(marketDeals.status, 'delivering')))
      .returning();
    if (updated.length > 0)
      await ctx.audit.record(MARKET, {
        action: 'market_deal.deliveryRetrying',
        entityType: 'market_deal',
        entityId: deal.id,
        after: {
          deliveryTxid: deal.deliveryTxid,
          attempts,
          kind: rejection.kind,
          reason: rejection.reason,
          nextAttemptAt: patch.deliveryNextAttemptAt.toISOString(),
        },
      });
    return updated;
  });
  return dealView(row ?? { ...deal, ...patch });
}

/**
 * An officer's resolution of the coin leg's review moves its deal at once. The policy gate may
 * send a deal's coin leg to review at delivery (the deal is held, `coinLegReviewId`) or at a held
 * deal's release; compliance announces the resolution (`compliance.decision.resolved`), and the
 * market hears it in the event's delivery transaction:
 *
 * - allow: the deal goes on as if its coin leg had been allowed at delivery: the delivery to a
 *   fresh address of the importer's wallet is signed, the deal is `delivering`, and the tick
 *   sends it. Its fiat leg was confirmed before it was held, by the bank or by an officer other
 *   than the one who matched it (four eyes as before); the officer's resolution is the
 *   compliance decision, so no supervisor's release is asked for.
 * - block: the deal is refunded by the refund's own path (the miner's address screened afresh,
 *   the escrowed coins back, the bid lapsed, the fiat leg returned): the screening reads its
 *   lists on a connection of its own, so the resolution is recorded here and the tick carries the
 *   refund out (`refundBlockedReviews`); a refund the screening refuses leaves the deal held for
 *   the supervisors.
 *
 * A resolution of a decision that is not a held deal's pending review (a match refused, a deal
 * already moved on) changes nothing.
 */
import { and, eq, isNotNull } from 'drizzle-orm';
import type { Orm } from '../../db';
import type { DecisionResolved } from '../../compliance';
import { AppError } from '../../kernel';
import { MARKET, type MarketContext } from './context';
import type { DealRow } from './deals';
import { deliveryAddress, signDelivery } from './delivery';
import { NO_PENDING_DECISION } from './four-eyes';
import { carryOutRefund } from './held';
import { nextDealStatus } from './lifecycle';
import { marketDeals } from './schema';

/** Applies a resolved review to the deal it holds, in `tx` (the event's delivery). */
export async function applyCoinLegReview(
  ctx: MarketContext,
  tx: Orm,
  resolved: DecisionResolved,
  estimate: bigint | null,
): Promise<DealRow | null> {
  const [row] = await tx
    .select()
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.id, resolved.transferId),
        eq(marketDeals.coinLegReviewId, resolved.decisionId),
      ),
    )
    .for('update');
  if (row?.status !== 'held' || row.coinLegReviewOutcome !== null) return null;
  const now = ctx.clock.now();
  if (resolved.outcome === 'block') {
    await tx
      .update(marketDeals)
      .set({ coinLegReviewOutcome: 'block', ...NO_PENDING_DECISION, updatedAt: now })
      .where(eq(marketDeals.id, row.id));
    await ctx.audit.record(MARKET, {
      action: 'market_deal.reviewBlocked',
      entityType: 'market_deal',
      entityId: row.id,
      after: { status: row.status, decisionId: resolved.decisionId, refund: 'due' },
    });
    return { ...row, coinLegReviewOutcome: 'block' };
  }
  const to = nextDealStatus(row.id, row.status, 'released');
  const destination = await deliveryAddress(ctx, tx, row);
  const delivery = await signDelivery(ctx, tx, row, estimate, destination);
  const after: DealRow = {
    ...row,
    ...delivery,
    ...NO_PENDING_DECISION,
    status: to,
    heldFrom: null,
    coinLegReviewOutcome: 'allow',
    updatedAt: now,
  };
  await tx.update(marketDeals).set(after).where(eq(marketDeals.id, row.id));
  await ctx.audit.record(MARKET, {
    action: 'market_deal.released',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status, heldFrom: row.heldFrom },
    after: {
      status: to,
      reason: 'the coin leg was allowed on review',
      decisionId: resolved.decisionId,
      deliveryTxid: delivery.deliveryTxid,
    },
  });
  return after;
}

/**
 * Refunds the held deals whose coin leg was blocked on review (for `market.tick`), each on its
 * own; one the refund's screening refuses stays held for the supervisors (retried next tick).
 */
export async function refundBlockedReviews(ctx: MarketContext): Promise<string[]> {
  const due = await ctx.db.orm
    .select({ id: marketDeals.id })
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.status, 'held'),
        eq(marketDeals.coinLegReviewOutcome, 'block'),
        isNotNull(marketDeals.coinLegReviewId),
      ),
    );
  const refunded: string[] = [];
  if (due.length === 0) return refunded;
  const estimate = (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null;
  for (const { id } of due) {
    try {
      const view = await carryOutRefund(ctx, MARKET, id, estimate, {
        // Under the lock: still held on a blocked review (a supervisor may have moved it).
        approve: (_tx, row) =>
          Promise.resolve(
            row.status === 'held' && row.coinLegReviewOutcome === 'block' ? null : row,
          ),
        detail: (row) => ({
          reason: 'the coin leg was blocked on review',
          decisionId: row.coinLegReviewId,
        }),
      });
      if (view.status === 'refunded') refunded.push(id);
    } catch (error) {
      // Refused (the miner's address held by compliance, no chain): the supervisors decide.
      if (!(error instanceof AppError)) throw error;
    }
  }
  return refunded;
}

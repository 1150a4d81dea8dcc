import { and, asc, eq, inArray, isNull, lt, lte, notExists, or } from 'drizzle-orm';
import { AppError } from '../../kernel';
import { readOutput } from '../service';
import { MARKET, type MarketContext } from './context';
import { holdForFailedConfirmation, recordObligations, transition } from './deals';
import { broadcastDelivery } from './delivery';
import { pendingReturns, sendReturns, sendWithdrawal } from './held';
import { applyDue, receive } from './inbox';
import { refundBlockedReviews } from './reviews';
import { marketBankInbox, marketBids, marketDeals, marketOffers } from './schema';

export interface MarketTickResult {
  /** Bank confirmations applied, those refused with their code, those to retry with the error. */
  readonly confirmed: string[];
  readonly refused: { dealReference: string; bankReference: string; code: string }[];
  readonly retrying: { dealReference: string; bankReference: string; error: string }[];
  /** Bank confirmations given up after their last attempt (listed as `failed`). */
  readonly bankFailed: { dealReference: string; bankReference: string; error: string }[];
  readonly broadcast: string[];
  /** Deliveries the network refused for good: their deals are held for the supervisor. */
  readonly rejected: string[];
  /** Deliveries the network refused for a passing reason: sent again after a backoff. */
  readonly deliveriesRetrying: string[];
  readonly settled: string[];
  readonly unwound: string[];
  /** Deals past their deadline held (not unwound) for a bank confirmation given up. */
  readonly held: string[];
  /** Held deals refunded because an officer blocked their coin leg on review. */
  readonly refunded: string[];
}

/**
 * The market's periodic job (`market.tick`), safe to repeat after a crash at any point (each step
 * is one transaction keyed by the deal's state): applies the bank's confirmations, sends signed
 * deliveries not yet sent, settles deliveries confirmed in a block the watcher followed, and
 * unwinds the deals whose fiat leg was not confirmed by their deadline.
 */
export async function tick(ctx: MarketContext): Promise<MarketTickResult> {
  const result: MarketTickResult = {
    confirmed: [],
    refused: [],
    retrying: [],
    bankFailed: [],
    broadcast: [],
    rejected: [],
    deliveriesRetrying: [],
    settled: [],
    unwound: [],
    held: [],
    refunded: [],
  };
  const bank = ctx.deps.bank;
  // Stored before anything is applied: the bank hands each confirmation out once.
  if (bank) await receive(ctx, bank.name, await bank.confirmations());
  for (const outcome of await applyDue(ctx)) {
    const refs = {
      dealReference: outcome.row.dealReference,
      bankReference: outcome.row.bankReference,
    };
    if (outcome.kind === 'applied') result.confirmed.push(refs.dealReference);
    else if (outcome.kind === 'refused') result.refused.push({ ...refs, code: outcome.code });
    else if (outcome.kind === 'failed') result.bankFailed.push({ ...refs, error: outcome.error });
    else result.retrying.push({ ...refs, error: outcome.error });
  }
  const { orm } = ctx.db;
  // In the order they were signed (a delivery may spend the change of an earlier one); one the
  // network refused for a passing reason waits for its next attempt.
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.status, 'delivering'),
        or(
          isNull(marketDeals.deliveryNextAttemptAt),
          lte(marketDeals.deliveryNextAttemptAt, ctx.clock.now()),
        ),
      ),
    )
    .orderBy(asc(marketDeals.deliveryOrder), asc(marketDeals.id))) {
    const after = await broadcastDelivery(ctx, MARKET, deal);
    if (after.status === 'delivered') result.broadcast.push(deal.id);
    if (after.status === 'held') result.rejected.push(deal.id);
    if (after.status === 'delivering' && after.deliveryAttempts > deal.deliveryAttempts)
      result.deliveriesRetrying.push(deal.id);
  }
  // Coin legs blocked on review: refunded by the refund's path (screened outside a transaction).
  result.refunded.push(...(await refundBlockedReviews(ctx)));
  const returns = await pendingReturns(ctx);
  for (const deal of returns.deals) await sendReturns(ctx, deal);
  for (const offer of returns.offers) await sendWithdrawal(ctx, offer);
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(eq(marketDeals.status, 'delivered'))) {
    if (deal.deliveryTxid === null || deal.deliveryVout === null) continue;
    // The importer's coin is watched once its block is followed: clearing stored its clearance.
    if (await readOutput(orm, deal.deliveryTxid, deal.deliveryVout)) {
      // Settled: between two platforms the importer's platform, paid the fiat leg, now owes the
      // miner's. Only a deal whose coins arrived owes anything (a held or refunded one never does).
      await transition(ctx, MARKET, deal.id, 'settled', undefined, (tx, row) =>
        recordObligations(ctx, tx, row),
      );
      result.settled.push(deal.id);
    }
  }
  const now = ctx.clock.now();
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.status, 'awaitingPayment'),
        lt(marketDeals.deadline, now),
        // A confirmation received in time but not applied yet (retrying) keeps its deal; one
        // given up (failed) holds it for the supervisors instead (below).
        notExists(
          orm
            .select({ id: marketBankInbox.id })
            .from(marketBankInbox)
            .where(
              and(
                eq(marketBankInbox.dealReference, marketDeals.id),
                inArray(marketBankInbox.status, ['pending', 'failed']),
                lte(marketBankInbox.createdAt, marketDeals.deadline),
              ),
            ),
        ),
      ),
    )) {
    await unwind(ctx, deal.id);
    result.unwound.push(deal.id);
  }
  // A confirmation given up is held when it fails; one failed while its deal was not awaiting
  // payment (and the deal back since) is caught here, at the deadline, rather than unwound.
  for (const failed of await orm
    .select({
      id: marketBankInbox.id,
      dealReference: marketBankInbox.dealReference,
      bankReference: marketBankInbox.bankReference,
      receivedAt: marketBankInbox.createdAt,
    })
    .from(marketBankInbox)
    .innerJoin(marketDeals, eq(marketDeals.id, marketBankInbox.dealReference))
    .where(
      and(
        eq(marketBankInbox.status, 'failed'),
        eq(marketDeals.status, 'awaitingPayment'),
        lt(marketDeals.deadline, now),
        lte(marketBankInbox.createdAt, marketDeals.deadline),
      ),
    )) {
    if (await ctx.db.transaction((tx) => holdForFailedConfirmation(ctx, tx, failed)))
      result.held.push(failed.dealReference);
  }
  return result;
}

/** Unwinds a deal past its deadline: its sats return to the offer, its bid lapses (audited). */
async function unwind(ctx: MarketContext, id: string): Promise<void> {
  await transition(
    ctx,
    MARKET,
    id,
    'unwound',
    (row) => row,
    async (tx, row) => {
      const [offer] = await tx
        .select()
        .from(marketOffers)
        .where(eq(marketOffers.id, row.offerId))
        .for('update');
      if (!offer) throw new AppError('INTERNAL', `deal ${id} has no offer`);
      await tx
        .update(marketOffers)
        .set({ availableSats: offer.availableSats + row.amountSats, updatedAt: ctx.clock.now() })
        .where(eq(marketOffers.id, offer.id));
      await tx
        .update(marketBids)
        .set({ status: 'lapsed', updatedAt: ctx.clock.now() })
        .where(eq(marketBids.id, row.bidId));
      // No obligation to reverse: one arises only with the fiat leg's confirmation. No coins
      // moved: monitoring must not count the coin leg allowed at matching.
      await ctx.deps.gate?.voidTransfer(MARKET, row.id, 'deal unwound: no coins moved');
    },
  );
}

import { and, eq, lt } from 'drizzle-orm';
import { AppError } from '../../kernel';
import { readOutput } from '../service';
import { MARKET, type MarketContext } from './context';
import { recordObligations, transition } from './deals';
import { broadcastDelivery, confirmFiat } from './delivery';
import { marketBids, marketDeals, marketOffers } from './schema';

export interface MarketTickResult {
  /** Bank confirmations applied, and those refused with their code. */
  readonly confirmed: string[];
  readonly refused: { dealReference: string; bankReference: string; code: string }[];
  readonly broadcast: string[];
  readonly settled: string[];
  readonly unwound: string[];
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
    broadcast: [],
    settled: [],
    unwound: [],
  };
  for (const confirmation of (await ctx.deps.bank?.confirmations()) ?? []) {
    try {
      await confirmFiat(ctx, MARKET, confirmation);
      result.confirmed.push(confirmation.dealReference);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      result.refused.push({
        dealReference: confirmation.dealReference,
        bankReference: confirmation.bankReference,
        code: error.code,
      });
    }
  }
  const { orm } = ctx.db;
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(eq(marketDeals.status, 'delivering'))) {
    if ((await broadcastDelivery(ctx, MARKET, deal)).status === 'delivered')
      result.broadcast.push(deal.id);
  }
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(eq(marketDeals.status, 'delivered'))) {
    if (deal.deliveryTxid === null || deal.deliveryVout === null) continue;
    // The importer's coin is watched once its block is followed: clearing stored its clearance.
    if (await readOutput(orm, deal.deliveryTxid, deal.deliveryVout)) {
      await transition(ctx, MARKET, deal.id, 'settled');
      result.settled.push(deal.id);
    }
  }
  const now = ctx.clock.now();
  for (const deal of await orm
    .select()
    .from(marketDeals)
    .where(and(eq(marketDeals.status, 'awaitingPayment'), lt(marketDeals.deadline, now)))) {
    await unwind(ctx, deal.id);
    result.unwound.push(deal.id);
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
      await recordObligations(ctx, tx, row, true);
    },
  );
}

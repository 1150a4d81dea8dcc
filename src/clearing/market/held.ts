import { and, eq, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import { fromHex } from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, invalid, type Caller } from '../../kernel';
import { MARKET, forbidden, notFound, type MarketContext } from './context';
import { recordObligations, screenCoinLeg, type DealRow } from './deals';
import { broadcastDelivery, signDelivery } from './delivery';
import { minerReturnAddress, spendEscrow } from './escrow';
import { nextDealStatus } from './lifecycle';
import { LIVE_DEALS, readOffer } from './orders';
import { marketBids, marketDeals, marketOffers } from './schema';
import { dealView, offerView, type DealView, type OfferView } from './views';

/**
 * The supervisor's way out of `held`, and the miner's withdrawal of an unmatched offer.
 *
 * - release: the checks that held the deal run again (the coin leg's screening; a delivery the
 *   network refused is signed afresh and sent again, and refused again it is held again), and
 *   only if they pass does it go back on its path (`delivering`). Fail closed: TRANSFER_BLOCKED
 *   and nothing changes.
 * - refund: the deal's escrowed coins go back to the miner's address (screened afresh with the
 *   miner), the importer's bid lapses (its contract amount is free again), and the fiat leg is
 *   returned to the importer through the bank (`returnPayment`, else by the platform: audited).
 */

async function lotOf(ctx: MarketContext, offerId: string): Promise<string> {
  const [offer] = await ctx.db.orm
    .select({ lotId: marketOffers.lotId })
    .from(marketOffers)
    .where(eq(marketOffers.id, offerId));
  if (!offer) throw new AppError('INTERNAL', `no offer ${offerId}`);
  return offer.lotId;
}

function supervisorReason(caller: Caller, reason: string): string {
  if (caller.role !== 'supervisor') throw forbidden('only the supervisor decides on a held deal');
  const text = reason.trim();
  if (text.length < 3 || text.length > 500) throw invalid('reason', 'must be 3 to 500 characters');
  return text;
}

async function lockDeal(tx: Orm, id: string): Promise<DealRow> {
  const [row] = await tx.select().from(marketDeals).where(eq(marketDeals.id, id)).for('update');
  if (!row) throw notFound('deal', id);
  return row;
}

export async function releaseDeal(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  reason: string,
): Promise<DealView> {
  const why = supervisorReason(caller, reason);
  const estimate = (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null;
  const released = await ctx.db.transaction(async (tx) => {
    const row = await lockDeal(tx, id);
    const to = nextDealStatus(id, row.status, 'released');
    const reasons = await screenCoinLeg(ctx, tx, row.platformId, row.minerId, {
      companyId: row.companyId,
      companyPlatformId: row.importerPlatformId,
    });
    if (reasons.length > 0)
      throw new AppError('TRANSFER_BLOCKED', `deal ${id} still fails its checks; it stays held`, {
        details: { reasons },
      });
    const delivery = await signDelivery(ctx, tx, row, estimate);
    const after: DealRow = {
      ...row,
      ...delivery,
      status: to,
      heldFrom: null,
      updatedAt: ctx.clock.now(),
    };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    await recordAudit(tx, caller, ctx.clock, {
      action: 'market_deal.released',
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status, heldFrom: row.heldFrom },
      after: { status: to, reason: why, deliveryTxid: delivery.deliveryTxid },
    });
    return after;
  });
  return broadcastDelivery(ctx, caller, released);
}

export async function refundDeal(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  reason: string,
): Promise<DealView> {
  const why = supervisorReason(caller, reason);
  const estimate = (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null;
  const [deal] = await ctx.db.orm.select().from(marketDeals).where(eq(marketDeals.id, id));
  if (!deal) throw notFound('deal', id);
  nextDealStatus(id, deal.status, 'refunded');
  // Screened before the transaction (the screening reads its lists on its own connection).
  const address = await minerReturnAddress(ctx, ctx.db.orm, caller, {
    lotId: await lotOf(ctx, deal.offerId),
    minerId: deal.minerId,
  });
  const refunded = await ctx.db.transaction(async (tx) => {
    const row = await lockDeal(tx, id);
    const to = nextDealStatus(id, row.status, 'refunded');
    const spend = await spendEscrow(
      ctx,
      tx,
      {
        offerId: row.offerId,
        platformId: row.platformId,
        spentBy: row.id,
        amountSats: row.amountSats,
        to: () => Promise.resolve(address),
      },
      estimate,
    );
    const after: DealRow = {
      ...row,
      status: to,
      refundAddress: spend.address,
      refundTxid: spend.txid,
      refundTx: spend.raw,
      updatedAt: ctx.clock.now(),
    };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    await tx
      .update(marketBids)
      .set({ status: 'lapsed', updatedAt: ctx.clock.now() })
      .where(eq(marketBids.id, row.bidId));
    // Its obligations between platforms are reversed, as an unwound deal's are.
    await recordObligations(ctx, tx, row, true);
    await recordAudit(tx, caller, ctx.clock, {
      action: 'market_deal.refunded',
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status, heldFrom: row.heldFrom },
      after: {
        status: to,
        reason: why,
        refundTxid: spend.txid,
        refundAddress: spend.address,
        refundSats: spend.paidSats.toString(),
        // The fiat leg to unwind: the importer's payment back from the miner's account.
        fiatReturn: {
          from: row.minerId,
          to: row.companyId,
          amountMinor: row.fiatMinor.toString(),
          currency: row.currency,
          bankReference: row.bankReference,
        },
      },
    });
    return after;
  });
  return dealView(await sendReturns(ctx, refunded));
}

/**
 * What a refunded deal still owes the outside world, sent (again) until done: the refund
 * transaction, and the fiat leg's return through the bank when the bank takes such orders.
 */
export async function sendReturns(ctx: MarketContext, deal: DealRow): Promise<DealRow> {
  let row = deal;
  if (row.refundTx && (await sent(ctx, row.refundTx))) {
    await ctx.db.orm.update(marketDeals).set({ refundTx: null }).where(eq(marketDeals.id, row.id));
    row = { ...row, refundTx: null };
  }
  const bank = ctx.deps.bank;
  if (!row.fiatReturnReference && bank?.returnPayment) {
    const reference = await bank
      .returnPayment({
        from: row.minerId,
        to: row.companyId,
        amountMinor: row.fiatMinor,
        currency: row.currency,
        dealReference: row.id,
      })
      .catch(() => null);
    if (reference) {
      await ctx.db.transaction(async (tx) => {
        await tx
          .update(marketDeals)
          .set({ fiatReturnReference: reference })
          .where(eq(marketDeals.id, row.id));
        await recordAudit(tx, MARKET, ctx.clock, {
          action: 'market_deal.fiatReturned',
          entityType: 'market_deal',
          entityId: row.id,
          after: { bankReference: reference, amountMinor: row.fiatMinor.toString() },
        });
      });
      row = { ...row, fiatReturnReference: reference };
    }
  }
  return row;
}

/** Broadcasts a signed return; true once the network has it (false: try again later). */
async function sent(ctx: MarketContext, rawHex: string): Promise<boolean> {
  const chain = ctx.deps.chain;
  if (!chain) return false;
  return chain.broadcast(fromHex(rawHex)).then(
    () => true,
    () => false,
  );
}

/** Refunds and withdrawals with something left to send (for `market.tick`). */
export async function pendingReturns(ctx: MarketContext) {
  const { orm } = ctx.db;
  const deals = await orm
    .select()
    .from(marketDeals)
    .where(
      and(
        eq(marketDeals.status, 'refunded'),
        ctx.deps.bank?.returnPayment
          ? or(isNotNull(marketDeals.refundTx), isNull(marketDeals.fiatReturnReference))
          : isNotNull(marketDeals.refundTx),
      ),
    );
  const offers = await orm
    .select()
    .from(marketOffers)
    .where(and(eq(marketOffers.status, 'withdrawn'), isNotNull(marketOffers.withdrawalTx)));
  return { deals, offers };
}

/**
 * The miner withdraws an offer no live deal holds: whatever its escrow still holds goes back to
 * the miner's address (screened afresh, as a refund), and the offer is `withdrawn` (audited).
 */
export async function withdrawOffer(
  ctx: MarketContext,
  caller: Caller,
  id: string,
): Promise<OfferView> {
  if (caller.role !== 'miner') throw forbidden('the miner withdraws its own offer');
  const offer = await readOffer(ctx, ctx.db.orm, caller, id);
  const estimate = (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null;
  const address =
    offer.status === 'open' ? await minerReturnAddress(ctx, ctx.db.orm, caller, offer) : null;
  const withdrawn = await ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(marketOffers)
      .where(eq(marketOffers.id, offer.id))
      .for('update');
    if (!row || (row.status !== 'open' && row.status !== 'awaitingDeposit'))
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `offer ${id} is ${row?.status ?? 'gone'}; only an open or unfunded offer is withdrawn`,
      );
    const [live] = await tx
      .select({ id: marketDeals.id })
      .from(marketDeals)
      .where(and(eq(marketDeals.offerId, row.id), inArray(marketDeals.status, [...LIVE_DEALS])));
    if (live)
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `offer ${id} is matched (deal ${live.id}); it can be withdrawn once no deal holds it`,
      );
    let spend = null;
    if (row.status === 'open') {
      if (!address) throw new AppError('CONFLICT', `offer ${id} was funded meanwhile; try again`);
      const to = address;
      spend = await spendEscrow(
        ctx,
        tx,
        {
          offerId: row.id,
          platformId: row.platformId,
          spentBy: row.id,
          amountSats: 'all',
          to: () => Promise.resolve(to),
        },
        estimate,
      );
    }
    const after = {
      ...row,
      status: 'withdrawn',
      availableSats: 0n,
      withdrawalTxid: spend?.txid ?? null,
      withdrawalTx: spend?.raw ?? null,
      updatedAt: ctx.clock.now(),
    };
    await tx.update(marketOffers).set(after).where(eq(marketOffers.id, row.id));
    await recordAudit(tx, caller, ctx.clock, {
      action: 'market_offer.withdrawn',
      entityType: 'market_offer',
      entityId: row.id,
      before: { status: row.status },
      after: {
        status: 'withdrawn',
        withdrawalTxid: spend?.txid ?? null,
        address: spend?.address ?? null,
        returnedSats: spend?.paidSats.toString() ?? '0',
      },
    });
    return after;
  });
  return offerView(await sendWithdrawal(ctx, withdrawn));
}

export async function sendWithdrawal<T extends { id: string; withdrawalTx: string | null }>(
  ctx: MarketContext,
  offer: T,
): Promise<T> {
  if (!offer.withdrawalTx || !(await sent(ctx, offer.withdrawalTx))) return offer;
  await ctx.db.orm
    .update(marketOffers)
    .set({ withdrawalTx: null })
    .where(eq(marketOffers.id, offer.id));
  return { ...offer, withdrawalTx: null };
}

import { and, eq, inArray, isNotNull, isNull, or } from 'drizzle-orm';
import { fromHex, parseTransaction, toHex } from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, invalid, type Caller } from '../../kernel';
import {
  MARKET,
  escrowOutput,
  forbidden,
  notFound,
  readSettings,
  type MarketContext,
} from './context';
import { fiatPayee, heldForConfirmation, type DealRow } from './deals';
import { broadcastDelivery, deliveryAddress, signDelivery } from './delivery';
import { decideCoinLeg } from './gate';
import { minerReturnAddress, spendEscrow } from './escrow';
import { NO_PENDING_DECISION, decidedBy, proposeOrApprove } from './four-eyes';
import { nextDealStatus } from './lifecycle';
import { LIVE_DEALS, readOffer } from './orders';
import { clearingLots } from '../schema';
import { marketBids, marketDeals, marketOffers } from './schema';
import { dealView, offerView, type DealView, type OfferView } from './views';

/**
 * The supervisor's way out of `held`, and the miner's withdrawal of an unmatched offer. Each way
 * out takes two supervisors, different persons (four eyes, `proposeOrApprove`): the first one's
 * call records the decision as pending; the second one's carries it out as below.
 *
 * - release: the checks that held the deal run again (the policy gate decides the coin leg
 *   afresh, the decision recorded; a delivery the network refused is signed afresh and sent
 *   again, and refused again it is held again), and only if they pass does it go back on its
 *   path (`delivering`). Fail closed: TRANSFER_BLOCKED and nothing changes but the decision.
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
    // No fiat leg is recorded to deliver against: its confirmation is requeued, or it is refunded.
    if (heldForConfirmation(row))
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `deal ${id} is held for its bank confirmation given up: requeue the confirmation (POST /v1/market/confirmations/{id}/requeue) or refund the deal`,
        { details: { status: row.status, heldFrom: row.heldFrom } },
      );
    const proposed = await proposeOrApprove(ctx, tx, caller, row, 'release', why);
    if (proposed) return { done: false, row: proposed };
    // The coin leg through the policy gate again; a refusal commits its decision, nothing else.
    const destination = await deliveryAddress(ctx, tx, row);
    const decision = await decideCoinLeg(ctx, caller, row, destination);
    if (!decision.allowed) {
      // Sent to review: the officer's resolution moves the deal (reviews.ts).
      if (decision.review)
        await tx
          .update(marketDeals)
          .set({ coinLegReviewId: decision.decisionId, coinLegReviewOutcome: null })
          .where(eq(marketDeals.id, id));
      return { done: 'blocked' as const, row };
    }
    const delivery = await signDelivery(ctx, tx, row, estimate, destination);
    const after: DealRow = {
      ...row,
      ...delivery,
      ...NO_PENDING_DECISION,
      status: to,
      heldFrom: null,
      coinLegReviewId: null,
      coinLegReviewOutcome: null,
      updatedAt: ctx.clock.now(),
    };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    await ctx.audit.record(caller, {
      action: 'market_deal.released',
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status, heldFrom: row.heldFrom },
      after: {
        status: to,
        reason: why,
        deliveryTxid: delivery.deliveryTxid,
        ...decidedBy(row, caller),
      },
    });
    return { done: true, row: after };
  });
  // Which check failed is the gate's decision (the supervisor reads it), not this answer's.
  if (released.done === 'blocked')
    throw new AppError('TRANSFER_BLOCKED', `deal ${id} still fails its checks; it stays held`);
  if (!released.done) return dealView(released.row);
  return broadcastDelivery(ctx, caller, released.row);
}

export async function refundDeal(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  reason: string,
): Promise<DealView> {
  const why = supervisorReason(caller, reason);
  const estimate = (await ctx.deps.chain?.estimateFeeRateSatPerKvB(6).catch(() => null)) ?? null;
  // The first supervisor's call only proposes: nothing is screened or sent for it.
  const proposed = await ctx.db.transaction(async (tx) => {
    const row = await lockDeal(tx, id);
    nextDealStatus(id, row.status, 'refunded');
    return proposeOrApprove(ctx, tx, caller, row, 'refund', why);
  });
  if (proposed) return dealView(proposed);
  return carryOutRefund(ctx, caller, id, estimate, {
    approve: (tx, row) => proposeOrApprove(ctx, tx, caller, row, 'refund', why),
    detail: (row) => ({ reason: why, ...decidedBy(row, caller) }),
  });
}

/**
 * A held deal's refund carried out: the escrowed coins to the miner's address (screened afresh,
 * before the transaction), the bid lapsed, the coin leg voided for monitoring (nothing reached
 * the importer), the fiat leg's return sent. `approve` runs under the deal's lock and returns the
 * row as it stands when the refund must not run (it changed meanwhile), null to go on.
 */
export async function carryOutRefund(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  estimate: bigint | null,
  how: {
    approve: (tx: Orm, row: DealRow) => Promise<DealRow | null>;
    detail: (row: DealRow) => Record<string, unknown>;
  },
): Promise<DealView> {
  const [deal] = await ctx.db.orm.select().from(marketDeals).where(eq(marketDeals.id, id));
  if (!deal) throw notFound('deal', id);
  // Screened before the transaction (the screening reads its lists on its own connection).
  const address = await minerReturnAddress(ctx, ctx.db.orm, caller, {
    lotId: await lotOf(ctx, deal.offerId),
    minerId: deal.minerId,
  });
  const refunded = await ctx.db.transaction(async (tx) => {
    const row = await lockDeal(tx, id);
    const to = nextDealStatus(id, row.status, 'refunded');
    // Approved again under the lock: the proposal may have changed since.
    const changed = await how.approve(tx, row);
    if (changed) return changed;
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
      ...NO_PENDING_DECISION,
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
    // The coin leg never reached the importer: monitoring must not count it.
    await ctx.deps.gate?.voidTransfer(caller, row.id, 'deal refunded: no coins delivered');
    await ctx.audit.record(caller, {
      action: 'market_deal.refunded',
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status, heldFrom: row.heldFrom },
      after: {
        status: to,
        ...how.detail(row),
        refundTxid: spend.txid,
        refundAddress: spend.address,
        refundSats: spend.paidSats.toString(),
        // The fiat leg to unwind: the importer's payment back from whoever it was paid to.
        fiatReturn: {
          from: fiatPayee(row),
          to: row.companyId,
          amountMinor: row.fiatMinor.toString(),
          currency: row.currency,
          bankReference: row.bankReference,
        },
      },
    });
    return after;
  });
  if (refunded.status !== 'refunded') return dealView(refunded);
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
        // Whoever was paid returns it: the miner, or the importer's platform between two.
        from: fiatPayee(row),
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
        await ctx.audit.record(MARKET, {
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
 * The lot's coins as the chain watcher last saw them: the transaction that spent the lot's output
 * in a block the scheme followed (null: unspent there).
 */
async function lotSpentBy(tx: Orm, lotId: string): Promise<string | null> {
  const [lot] = await tx
    .select({ spentByTxid: clearingLots.spentByTxid })
    .from(clearingLots)
    .where(eq(clearingLots.id, lotId));
  return lot?.spentByTxid ?? null;
}

/**
 * The most mempool transactions read to find an unconfirmed deposit. The chain port has no
 * "which transaction spends this outpoint" lookup (Bitcoin Core's gettxspendingprevout, Esplora's
 * outspend), so the mempool is read transaction by transaction; past this many the check is not
 * made (a busy mainnet mempool), and only deposits in followed blocks are found.
 */
export const MEMPOOL_DEPOSIT_SCAN_LIMIT = 5_000;

/**
 * A transaction in the mempool paying the offer's escrow address (each offer has its own), or
 * null: none, no mempool to read, or too many transactions to read them all.
 */
async function mempoolDeposit(
  chain: NonNullable<MarketContext['deps']['chain']>,
  escrowScript: string,
): Promise<string | null> {
  if (!chain.getMempoolTxids) return null;
  const txids = await chain.getMempoolTxids();
  if (txids.length > MEMPOOL_DEPOSIT_SCAN_LIMIT) return null;
  for (const txid of txids) {
    // Gone from the mempool meanwhile (mined or replaced): the block check covers a mined one.
    const raw = await chain.getRawTransaction(txid).catch(() => null);
    if (raw && parseTransaction(raw).outputs.some((o) => toHex(o.scriptPubKey) === escrowScript))
      return txid;
  }
  return null;
}

/**
 * An unfunded offer's deposit that is on-chain though not reported: the lot's coins were spent,
 * in a followed block, by a transaction paying the offer's escrow address, or a transaction in the
 * mempool pays that address (not mined yet). Withdrawing such an offer would strand those coins
 * in escrow, so it is refused (DEPOSIT_NOT_RECORDED): the miner reports the deposit (once mined),
 * then withdraws, and the escrow goes back through the screened return.
 */
async function refuseUnrecordedDeposit(
  ctx: MarketContext,
  offer: typeof marketOffers.$inferSelect,
): Promise<string | null> {
  const spentBy = await lotSpentBy(ctx.db.orm, offer.lotId);
  const chain = ctx.deps.chain;
  if (!chain) {
    if (!spentBy) return null;
    throw new AppError('CHAIN_UNAVAILABLE', 'the market runs without a chain here');
  }
  const escrow = toHex(
    escrowOutput(
      ctx,
      (await readSettings(ctx.db.orm, offer.platformId)).escrowDescriptor,
      offer.escrowIndex,
    ).scriptPubKey,
  );
  if (!spentBy) {
    const pending = await mempoolDeposit(chain, escrow);
    if (pending)
      throw new AppError(
        'DEPOSIT_NOT_RECORDED',
        `transaction ${pending}, not yet mined, pays offer ${offer.id}'s escrow: once it is mined, report it (POST /v1/market/offers/${offer.id}/deposit), then withdraw the offer to have the escrow returned to your screened address`,
        { details: { depositTxid: pending, confirmed: false } },
      );
    return null;
  }
  const pays = parseTransaction(await chain.getRawTransaction(spentBy)).outputs.some(
    (o) => toHex(o.scriptPubKey) === escrow,
  );
  if (pays)
    throw new AppError(
      'DEPOSIT_NOT_RECORDED',
      `transaction ${spentBy} deposited the lot's coins into offer ${offer.id}'s escrow, but the deposit is not reported: report it (POST /v1/market/offers/${offer.id}/deposit), then withdraw the offer to have the escrow returned to your screened address; if the deposit cannot be recorded, ask the market platform for a refund`,
      { details: { depositTxid: spentBy, confirmed: true } },
    );
  return spentBy;
}

/**
 * The miner withdraws an offer no live deal holds: whatever its escrow still holds goes back to
 * the miner's address (screened afresh, as a refund), and the offer is `withdrawn` (audited). An
 * unfunded offer whose deposit is on-chain but not reported is refused (DEPOSIT_NOT_RECORDED):
 * its coins would stay in escrow.
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
  const [stored] = await ctx.db.orm
    .select()
    .from(marketOffers)
    .where(eq(marketOffers.id, offer.id));
  const lotSpent =
    stored?.status === 'awaitingDeposit' ? await refuseUnrecordedDeposit(ctx, stored) : null;
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
    // The lot's coins moved since they were looked at (a block came in): look again.
    if (row.status === 'awaitingDeposit' && (await lotSpentBy(tx, row.lotId)) !== lotSpent)
      throw new AppError('CONFLICT', `offer ${id}'s lot was spent meanwhile; try again`);
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
    await ctx.audit.record(caller, {
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

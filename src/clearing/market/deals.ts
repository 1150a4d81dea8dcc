import { eq } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError, formatRate, newId, satsToFiat, type Caller } from '../../kernel';
import {
  MARKET,
  forbidden,
  isMarketOfficer,
  notFound,
  readSettings,
  withSpread,
  type MarketContext,
} from './context';
import { decideCoinLeg } from './gate';
import { nextDealStatus, type DealAction } from './lifecycle';
import { CONTRACT_READER } from './orders';
import type { MarketObligation } from './ports';
import { marketBids, marketDeals, marketOffers } from './schema';
import { dealView, type DealView } from './views';

export type DealRow = typeof marketDeals.$inferSelect;

/**
 * A platform officer of the market matches an open bid against a funded offer: a deal at today's
 * reference rate plus the market's spread, with a deadline for the fiat leg. The coin leg is
 * decided by compliance's policy gate now and again at delivery (gate.ts).
 */
export async function matchDeal(
  ctx: MarketContext,
  caller: Caller,
  input: { offerId: string; bidId: string },
): Promise<DealView> {
  if (caller.role !== 'platform') throw forbidden('deals are matched by the market platform');
  const now = ctx.clock.now();
  const matched = await ctx.db.transaction(async (tx) => {
    const { offer, bid } = await lockMatchable(ctx, tx, caller, input);
    const row = {
      ...(await priceDeal(ctx, tx, offer, bid, now)),
      matchedByPerson: caller.personId,
    };
    // The coin leg through the policy gate (its domestic rule set). A refusal commits the
    // decision (and its audit event) and nothing of the deal.
    const decision = await decideCoinLeg(ctx, caller, row, null);
    if (!decision.allowed) {
      // No deal is stored, so no transfer happens: monitoring must not count it (the decision
      // stays, for the supervisor, and a review for its officer).
      if (decision.decisionId)
        await ctx.deps.gate?.voidTransfer(caller, row.id, 'match refused: no deal stored');
      return null;
    }
    await tx.insert(marketDeals).values(row);
    await tx
      .update(marketOffers)
      .set({ availableSats: offer.availableSats - bid.amountSats, updatedAt: now })
      .where(eq(marketOffers.id, offer.id));
    await tx
      .update(marketBids)
      .set({ status: 'matched', updatedAt: now })
      .where(eq(marketBids.id, bid.id));
    const view = dealView(row);
    await ctx.audit.record(caller, {
      action: 'market_deal.matched',
      entityType: 'market_deal',
      entityId: row.id,
      after: { ...view, decisionId: decision.decisionId },
    });
    return view;
  });
  // Said without the reasons: the market platform may not be the importer's (or the miner's)
  // platform, and a party's compliance standing is not its business (no tipping-off). The
  // decision, with every reason, is the supervisor's to read.
  if (!matched) throw coinLegBlocked();
  return matched;
}

/** The refusal of a coin leg the gate did not allow: it names no check and no party. */
export function coinLegBlocked(): AppError {
  return new AppError(
    'TRANSFER_BLOCKED',
    'the coin leg does not pass the scheme’s checks of its parties; the supervisor can see why',
  );
}

/** The offer and bid, locked, when they can make a deal (else the closed refusal). */
async function lockMatchable(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  input: { offerId: string; bidId: string },
) {
  const [offer] = await tx
    .select()
    .from(marketOffers)
    .where(eq(marketOffers.id, input.offerId))
    .for('update');
  if (!offer || !isMarketOfficer(caller, offer.platformId)) throw notFound('offer', input.offerId);
  const [bid] = await tx
    .select()
    .from(marketBids)
    .where(eq(marketBids.id, input.bidId))
    .for('update');
  if (!bid || bid.platformId !== offer.platformId) throw notFound('bid', input.bidId);
  if (offer.status === 'awaitingDeposit') {
    throw new AppError(
      'ESCROW_NOT_FUNDED',
      `offer ${offer.id} waits for the miner's deposit to ${offer.escrowAddress}; a deal needs the coins in escrow`,
    );
  }
  if (offer.status !== 'open' || bid.status !== 'open') {
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `offer ${offer.id} is ${offer.status} and bid ${bid.id} is ${bid.status}; both must be open`,
    );
  }
  if (bid.amountSats > offer.availableSats) {
    throw new AppError(
      'LOT_NOT_AVAILABLE',
      `offer ${offer.id} has ${offer.availableSats} sats available; bid ${bid.id} asks ${bid.amountSats}`,
      { details: { availableSats: offer.availableSats.toString() } },
    );
  }
  const contract = await ctx.deps.contracts.get(CONTRACT_READER, bid.contractId);
  if (contract.direction !== 'import' || contract.status !== 'active') {
    throw new AppError(
      'IMPORT_CONTRACT_REQUIRED',
      `contract ${contract.id} is no longer an active import contract (${contract.status})`,
    );
  }
  return { offer, bid };
}

/**
 * The deal at today's reference rate of the market's currency (the fixing, else the live source
 * before the cut-off) plus its spread, with its deadline.
 */
async function priceDeal(
  ctx: MarketContext,
  tx: Orm,
  offer: typeof marketOffers.$inferSelect,
  bid: typeof marketBids.$inferSelect,
  now: Date,
): Promise<DealRow> {
  const settings = await readSettings(tx, offer.platformId);
  // Valued as invoices and payouts are (the same ledger helper, the rate stored with its sources):
  // today's published fixing of the market's currency, else the live source's before the cut-off.
  const reference = await ctx.deps.rates.current(settings.currency);
  const dealRate = withSpread(reference.rate, settings.spreadBasisPoints);
  const miner = await ctx.deps.registry.partyFacts(offer.minerId);
  return {
    id: newId('deal', now, ctx.random),
    platformId: offer.platformId,
    offerId: offer.id,
    bidId: bid.id,
    minerId: offer.minerId,
    companyId: bid.companyId,
    contractId: bid.contractId,
    // A miner that is a platform's client sits there; otherwise at the market's platform.
    minerPlatformId: miner.platformId ?? offer.platformId,
    importerPlatformId: bid.companyPlatformId,
    amountSats: bid.amountSats,
    currency: settings.currency,
    fiatMinor: satsToFiat(bid.amountSats, dealRate, 'halfEven').minor,
    rateId: reference.id,
    fixingId: reference.fixingId,
    referenceRate: formatRate(reference.rate),
    dealRate: formatRate(dealRate),
    spreadBasisPoints: settings.spreadBasisPoints,
    status: 'awaitingPayment',
    deadline: new Date(now.getTime() + settings.deadlineSeconds * 1000),
    matchedByPerson: null,
    bankReference: null,
    confirmedAt: null,
    deliveryTxid: null,
    deliveryVout: null,
    deliveredSats: null,
    feeSats: null,
    deliveryTx: null,
    heldFrom: null,
    refundAddress: null,
    refundTxid: null,
    refundTx: null,
    fiatReturnReference: null,
    deliveryOrder: null,
    deliveryAttempts: 0,
    deliveryLastError: null,
    deliveryNextAttemptAt: null,
    pendingDecision: null,
    pendingDecisionByPerson: null,
    pendingDecisionReason: null,
    pendingDecisionAt: null,
    coinLegReviewId: null,
    coinLegReviewOutcome: null,
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * Whom the importer pays the deal's fiat leg: the miner, when both sit at one platform; else the
 * importer's own platform, which then owes the miner's platform that amount (`recordObligations`).
 * The coins move gross on-chain either way (delivery versus payment), so nothing is paid twice.
 */
export function fiatPayee(
  deal: Pick<DealRow, 'minerId' | 'minerPlatformId' | 'importerPlatformId'>,
): string {
  return deal.minerPlatformId === deal.importerPlatformId ? deal.minerId : deal.importerPlatformId;
}

/**
 * The fiat leg between two platforms: once the deal settled (its coins arrived), the importer's
 * platform, which the importer paid, owes the miner's the deal's amount in local currency,
 * netted in the settlement window (the miner's platform pays the miner). No bitcoin obligation:
 * the coins went gross from escrow. A deal held or refunded never settled, so it owes nothing.
 */
export async function recordObligations(ctx: MarketContext, tx: Orm, deal: DealRow): Promise<void> {
  const sink = ctx.deps.obligations;
  if (!sink || deal.minerPlatformId === deal.importerPlatformId) return;
  const owed: MarketObligation = {
    source: 'deal',
    sourceId: deal.id,
    from: deal.importerPlatformId,
    to: deal.minerPlatformId,
    asset: deal.currency,
    amount: deal.fiatMinor,
    at: ctx.clock.now(),
  };
  await sink.record(owed, tx);
}

/**
 * A deal held because the bank's confirmation of its fiat leg was given up (`failed` in the
 * inbox): held from `awaitingPayment` with no fiat leg recorded. Its confirmation is requeued
 * (back to `awaitingPayment`, applied by the tick) or the supervisors refund it; it is never
 * released (no fiat leg was recorded to deliver against).
 */
export function heldForConfirmation(
  row: Pick<DealRow, 'status' | 'heldFrom' | 'bankReference'>,
): boolean {
  return row.status === 'held' && row.heldFrom === 'awaitingPayment' && row.bankReference === null;
}

/**
 * Holds a deal whose bank confirmation was given up, in `tx` (the confirmation's own): the
 * importer paid, so the deal must not unwind at its deadline; it joins the supervisors' queue of
 * held deals (the alert), audited `market_deal.confirmationFailed`. Only a deal still awaiting
 * its fiat leg, for a confirmation received by its deadline; false otherwise (nothing changes).
 */
export async function holdForFailedConfirmation(
  ctx: MarketContext,
  tx: Orm,
  confirmation: { id: string; dealReference: string; bankReference: string; receivedAt: Date },
): Promise<boolean> {
  const [row] = await tx
    .select()
    .from(marketDeals)
    .where(eq(marketDeals.id, confirmation.dealReference))
    .for('update');
  if (row?.status !== 'awaitingPayment') return false;
  if (confirmation.receivedAt.getTime() > row.deadline.getTime()) return false;
  const to = nextDealStatus(row.id, row.status, 'confirmationFailed');
  await tx
    .update(marketDeals)
    .set({ status: to, heldFrom: row.status, updatedAt: ctx.clock.now() })
    .where(eq(marketDeals.id, row.id));
  await ctx.audit.record(MARKET, {
    action: 'market_deal.confirmationFailed',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status },
    after: {
      status: to,
      heldFrom: row.status,
      bankConfirmationId: confirmation.id,
      bankReference: confirmation.bankReference,
      alert: 'supervisor',
    },
  });
  return true;
}

/** A deal visible to the caller (404 otherwise; roles that see no deals, 403). */
export async function readDeal(orm: Orm, caller: Caller, id: string): Promise<DealRow> {
  if (caller.role === 'auditor' || caller.role === 'supervisor') {
    const [row] = await orm.select().from(marketDeals).where(eq(marketDeals.id, id));
    if (!row) throw notFound('deal', id);
    return row;
  }
  const [row] = await orm.select().from(marketDeals).where(eq(marketDeals.id, id));
  const sees =
    row &&
    ((caller.role === 'miner' && row.minerId === caller.participantId) ||
      (caller.role === 'company' && row.companyId === caller.participantId) ||
      (caller.role === 'platform' &&
        (row.platformId === caller.participantId ||
          row.importerPlatformId === caller.participantId)));
  if (!row || !sees) throw notFound('deal', id);
  return row;
}

/** One audited step of the transition table on a locked deal row. */
export async function transition(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  action: DealAction,
  patch: (row: DealRow) => DealRow = (row) => row,
  effects?: (tx: Orm, row: DealRow) => Promise<void>,
  detail: Record<string, unknown> = {},
): Promise<DealView> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(marketDeals).where(eq(marketDeals.id, id)).for('update');
    if (!row) throw notFound('deal', id);
    const to = nextDealStatus(id, row.status, action);
    const after = { ...patch(row), status: to, updatedAt: now };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    if (effects) await effects(tx, row);
    await ctx.audit.record(caller, {
      action: `market_deal.${action}`,
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status },
      after: { status: to, deliveryTxid: after.deliveryTxid ?? row.deliveryTxid, ...detail },
    });
    return dealView(after);
  });
}

import { and, asc, eq, isNull, ne } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import {
  createPsbt,
  extractTransaction,
  finalizePsbt,
  fromHex,
  toHex,
  type PsbtInputSpec,
  type PsbtOutputSpec,
} from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, formatRate, newId, satsToFiat, sats, type Caller } from '../../kernel';
import type { FiatConfirmation } from './bank';
import {
  escrowOutput,
  fixingOf,
  forbidden,
  isMarketOfficer,
  notFound,
  readSettings,
  withSpread,
  type MarketContext,
} from './context';
import { nextDealStatus, type DealAction } from './lifecycle';
import { CONTRACT_READER } from './orders';
import type { MarketObligation } from './ports';
import { marketBids, marketDeals, marketEscrowCoins, marketOffers } from './schema';
import { dealView, type DealView } from './views';

type DealRow = typeof marketDeals.$inferSelect;

/** P2WPKH sizes (BIP141 vbytes): overhead, one input, one output. */
const TX_OVERHEAD_VBYTES = 11n;
const INPUT_VBYTES = 68n;
const OUTPUT_VBYTES = 31n;
const DUST_SATS = 546n;
const DEFAULT_FEE_SAT_PER_KVB = 2_000n;
const MAX_FEE_SAT_PER_KVB = 100_000n;

/**
 * A platform officer of the market matches an open bid against a funded offer: a deal at today's
 * reference rate plus the market's spread, with a deadline for the fiat leg. The coin leg is
 * screened now (both parties and platforms licensed and verified) and again at delivery; the
 * inter-platform obligations are recorded in the same transaction.
 */
export async function matchDeal(
  ctx: MarketContext,
  caller: Caller,
  input: { offerId: string; bidId: string },
): Promise<DealView> {
  if (caller.role !== 'platform') throw forbidden('deals are matched by the market platform');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [offer] = await tx
      .select()
      .from(marketOffers)
      .where(eq(marketOffers.id, input.offerId))
      .for('update');
    if (!offer || !isMarketOfficer(caller, offer.platformId))
      throw notFound('offer', input.offerId);
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
    const contract = await ctx.deps.contracts.get(CONTRACT_READER, bid.contractId, tx);
    if (contract.direction !== 'import' || contract.status !== 'active') {
      throw new AppError(
        'IMPORT_CONTRACT_REQUIRED',
        `contract ${contract.id} is no longer an active import contract (${contract.status})`,
      );
    }
    const screening = await screenCoinLeg(ctx, tx, offer.platformId, offer.minerId, bid);
    if (screening.length > 0)
      throw new AppError('TRANSFER_BLOCKED', screening.join('; '), {
        details: { reasons: screening },
      });
    const settings = await readSettings(tx, offer.platformId);
    const fixing = await fixingOf(ctx, tx, settings.currency);
    const dealRate = withSpread(fixing.rate, settings.spreadBasisPoints);
    const fiat = satsToFiat(bid.amountSats, dealRate, 'halfEven');
    const miner = await ctx.deps.registry.partyFacts(offer.minerId, tx);
    const row: DealRow = {
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
      fiatMinor: fiat.minor,
      fixingId: fixing.id,
      referenceRate: formatRate(fixing.rate),
      dealRate: formatRate(dealRate),
      spreadBasisPoints: settings.spreadBasisPoints,
      status: 'awaitingPayment',
      deadline: new Date(now.getTime() + settings.deadlineSeconds * 1000),
      bankReference: null,
      confirmedAt: null,
      deliveryTxid: null,
      deliveryVout: null,
      deliveredSats: null,
      feeSats: null,
      deliveryTx: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insert(marketDeals).values(row);
    await tx
      .update(marketOffers)
      .set({ availableSats: offer.availableSats - bid.amountSats, updatedAt: now })
      .where(eq(marketOffers.id, offer.id));
    await tx
      .update(marketBids)
      .set({ status: 'matched', updatedAt: now })
      .where(eq(marketBids.id, bid.id));
    await recordObligations(ctx, tx, row, false);
    const view = dealView(row);
    await recordAudit(tx, caller, ctx.clock, {
      action: 'market_deal.matched',
      entityType: 'market_deal',
      entityId: row.id,
      after: view,
    });
    return view;
  });
}

/**
 * The coin leg's screening, at matching and again at delivery: the market platform and the
 * importer's platform licensed, the miner licensed, the importer verified (KYB, with no
 * unresolved sanctions hit). The reasons, or none.
 */
async function screenCoinLeg(
  ctx: MarketContext,
  tx: Orm,
  platformId: string,
  minerId: string,
  bid: { companyId: string; companyPlatformId: string },
): Promise<string[]> {
  const reasons: string[] = [];
  const now = ctx.clock.now();
  const check = async (run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      reasons.push(`${error.code}: ${error.message}`);
    }
  };
  const { registry } = ctx.deps;
  await check(() => registry.requireActiveLicence(platformId, now, tx));
  await check(() => registry.requireActiveLicence(bid.companyPlatformId, now, tx));
  await check(() => registry.requireActiveLicence(minerId, now, tx));
  await check(() => registry.requireVerified(bid.companyId, tx));
  return reasons;
}

/** BTC owed by the miner's platform to the importer's; fiat the other way (reversed on unwinding). */
export async function recordObligations(
  ctx: MarketContext,
  tx: Orm,
  deal: DealRow,
  reverse: boolean,
): Promise<void> {
  const sink = ctx.deps.obligations;
  if (!sink || deal.minerPlatformId === deal.importerPlatformId) return;
  const at = ctx.clock.now();
  const legs: MarketObligation[] = [
    {
      source: 'deal',
      sourceId: deal.id,
      from: deal.minerPlatformId,
      to: deal.importerPlatformId,
      asset: 'BTC',
      amount: deal.amountSats,
      at,
    },
    {
      source: 'deal',
      sourceId: deal.id,
      from: deal.importerPlatformId,
      to: deal.minerPlatformId,
      asset: deal.currency,
      amount: deal.fiatMinor,
      at,
    },
  ];
  for (const leg of legs)
    await sink.record(reverse ? { ...leg, from: leg.to, to: leg.from } : leg, tx);
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

/**
 * The platform confirms the fiat leg (from its bank: SettlementBank, an imported file, or an
 * officer): the amount and currency must be the deal's, before its deadline, once. In the same
 * transaction the coin leg is screened again and, when allowed, the delivery from escrow to the
 * importer's wallet is signed and the coins credited to the importer's client funds; it is
 * broadcast right after (or by `market.tick` if the chain is unreachable).
 */
export async function confirmFiat(
  ctx: MarketContext,
  caller: Caller,
  confirmation: FiatConfirmation,
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
    const to = nextDealStatus(id, row.status, 'confirmed');
    if (now.getTime() > row.deadline.getTime()) {
      throw new AppError(
        'DEAL_PAST_DEADLINE',
        `deal ${id}'s fiat leg was due by ${row.deadline.toISOString()}; it is unwound, return the payment to the importer`,
      );
    }
    if (confirmation.amountMinor !== row.fiatMinor || confirmation.currency !== row.currency) {
      throw new AppError(
        'FIAT_AMOUNT_MISMATCH',
        `the confirmation is for ${confirmation.amountMinor} ${confirmation.currency} minor units; deal ${id} is ${row.fiatMinor} ${row.currency}`,
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
          ne(marketDeals.id, id),
        ),
      );
    if (reused) {
      throw new AppError(
        'CONFLICT',
        `bank reference ${confirmation.bankReference} already confirmed deal ${reused.id}`,
      );
    }
    const reasons = await screenCoinLeg(ctx, tx, row.platformId, row.minerId, {
      companyId: row.companyId,
      companyPlatformId: row.importerPlatformId,
    });
    const paid = { bankReference: confirmation.bankReference, confirmedAt: now };
    if (reasons.length > 0) return hold(ctx, tx, caller, row, paid, reasons);
    const delivery = await buildDelivery(ctx, tx, row, estimate);
    const after: DealRow = { ...row, ...paid, ...delivery, status: to, updatedAt: now };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    await ctx.deps.ledger.post(tx, caller, {
      kind: 'market.delivery',
      reference: id,
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
          amountSats: delivery.deliveredSats,
        },
        {
          account: {
            participantId: row.minerId,
            purpose: 'counterpartySettled',
            platformId: row.importerPlatformId,
          },
          amountSats: -delivery.deliveredSats,
        },
      ],
      settles: [{ txid: delivery.deliveryTxid, vout: 0 }],
    });
    await recordAudit(tx, caller, ctx.clock, {
      action: 'market_deal.confirmed',
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status },
      after: {
        status: to,
        bankReference: confirmation.bankReference,
        fiatMinor: row.fiatMinor.toString(),
        currency: row.currency,
        deliveryTxid: delivery.deliveryTxid,
        deliveredSats: delivery.deliveredSats.toString(),
        feeSats: delivery.feeSats.toString(),
      },
    });
    return after;
  });
  if (confirmed.status !== 'delivering') return dealView(confirmed);
  return broadcastDelivery(ctx, caller, confirmed);
}

async function hold(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  paid: { bankReference: string; confirmedAt: Date },
  reasons: string[],
): Promise<DealRow> {
  const after: DealRow = {
    ...row,
    ...paid,
    status: nextDealStatus(row.id, row.status, 'held'),
    updatedAt: paid.confirmedAt,
  };
  await tx.update(marketDeals).set(after).where(eq(marketDeals.id, row.id));
  await recordAudit(tx, caller, ctx.clock, {
    action: 'market_deal.held',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status },
    after: { status: after.status, bankReference: paid.bankReference, reasons },
  });
  return after;
}

/**
 * The delivery transaction, signed by the market platform's key: every unspent escrow coin of the
 * offer in, the deal's sats less the network fee to a fresh receive address of the importer's
 * wallet (output 0), the rest back to the offer's escrow address. The importer bears the fee.
 */
async function buildDelivery(ctx: MarketContext, tx: Orm, deal: DealRow, estimate: bigint | null) {
  const coins = await tx
    .select()
    .from(marketEscrowCoins)
    .where(and(eq(marketEscrowCoins.offerId, deal.offerId), isNull(marketEscrowCoins.spentByDeal)))
    .orderBy(asc(marketEscrowCoins.createdAt), asc(marketEscrowCoins.txid))
    .for('update');
  const [offer] = await tx.select().from(marketOffers).where(eq(marketOffers.id, deal.offerId));
  if (!offer) throw new AppError('INTERNAL', `deal ${deal.id} has no offer`);
  const settings = await readSettings(tx, deal.platformId);
  const escrow = escrowOutput(ctx, settings.escrowDescriptor, offer.escrowIndex);
  const total = coins.reduce((sum, c) => sum + c.valueSats, 0n);
  const rate = estimate === null ? DEFAULT_FEE_SAT_PER_KVB : estimate;
  const feeRate = rate < 1_000n ? 1_000n : rate > MAX_FEE_SAT_PER_KVB ? MAX_FEE_SAT_PER_KVB : rate;
  const vsize = TX_OVERHEAD_VBYTES + INPUT_VBYTES * BigInt(coins.length) + OUTPUT_VBYTES * 2n;
  const fee = (vsize * feeRate + 999n) / 1000n;
  let change = total - deal.amountSats;
  if (change < 0n || deal.amountSats - fee < DUST_SATS) {
    throw new AppError(
      'ESCROW_NOT_FUNDED',
      `the escrow of offer ${offer.id} holds ${total} sats; deal ${deal.id} needs ${deal.amountSats}`,
    );
  }
  // Change too small to be worth an output goes to the fee (BIP-less dust rule of Bitcoin Core).
  const extraFee = change > 0n && change < DUST_SATS ? change : 0n;
  if (extraFee > 0n) change = 0n;
  const importer = await ctx.deps.registry.nextReceiveAddress(
    tx,
    deal.companyId,
    `cleared coins bought in market deal ${deal.id}`,
  );
  const inputs: PsbtInputSpec[] = coins.map((c) => ({
    txid: c.txid,
    vout: c.vout,
    value: sats(c.valueSats),
    scriptPubKey: escrow.scriptPubKey,
    derivations: escrow.keys.map((k) => ({
      pubkey: k.pubkey,
      fingerprint: k.fingerprint,
      path: k.path,
    })),
  }));
  const delivered = deal.amountSats - fee;
  const outputs: PsbtOutputSpec[] = [{ address: importer.address, amount: sats(delivered) }];
  if (change > 0n) outputs.push({ address: escrow.address, amount: sats(change) });
  const signer = await ctx.deps.signers.signerFor(tx, deal.platformId);
  if (!signer) {
    throw new AppError(
      'CONFIG_INVALID',
      `platform ${deal.platformId} has no local signer for its escrow wallet here`,
    );
  }
  const signed = finalizePsbt(
    await signer.signPsbt(createPsbt({ network: ctx.network, inputs, outputs })),
  );
  const extracted = extractTransaction(signed);
  const now = ctx.clock.now();
  for (const c of coins) {
    await tx
      .update(marketEscrowCoins)
      .set({ spentByDeal: deal.id })
      .where(and(eq(marketEscrowCoins.txid, c.txid), eq(marketEscrowCoins.vout, c.vout)));
  }
  if (change > 0n) {
    await tx.insert(marketEscrowCoins).values({
      txid: extracted.txid,
      vout: 1,
      offerId: offer.id,
      valueSats: change,
      spentByDeal: null,
      createdAt: now,
    });
  }
  return {
    deliveryTxid: extracted.txid,
    deliveryVout: 0,
    deliveredSats: delivered,
    feeSats: fee + extraFee,
    deliveryTx: toHex(extracted.raw),
  };
}

/** Sends a signed delivery; on success the deal is `delivered` (audited). */
export async function broadcastDelivery(
  ctx: MarketContext,
  caller: Caller,
  deal: DealRow,
): Promise<DealView> {
  const chain = ctx.deps.chain;
  if (!chain || !deal.deliveryTx) return dealView(deal);
  try {
    await chain.broadcast(fromHex(deal.deliveryTx));
  } catch {
    // Left `delivering` (the confirmation is committed): market.tick broadcasts it again, and
    // reconciliation shows a delivery that stays unsent.
    return dealView(deal);
  }
  return transition(ctx, caller, deal.id, 'broadcast', (row) => ({ ...row, deliveryTx: null }));
}

/** One audited step of the transition table on a locked deal row. */
export async function transition(
  ctx: MarketContext,
  caller: Caller,
  id: string,
  action: DealAction,
  patch: (row: DealRow) => DealRow = (row) => row,
  effects?: (tx: Orm, row: DealRow) => Promise<void>,
): Promise<DealView> {
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx.select().from(marketDeals).where(eq(marketDeals.id, id)).for('update');
    if (!row) throw notFound('deal', id);
    const to = nextDealStatus(id, row.status, action);
    const after = { ...patch(row), status: to, updatedAt: now };
    await tx.update(marketDeals).set(after).where(eq(marketDeals.id, id));
    if (effects) await effects(tx, row);
    await recordAudit(tx, caller, ctx.clock, {
      action: `market_deal.${action}`,
      entityType: 'market_deal',
      entityId: id,
      before: { status: row.status },
      after: { status: to, deliveryTxid: row.deliveryTxid },
    });
    return dealView(after);
  });
}

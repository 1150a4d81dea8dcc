import { and, eq, inArray, sql } from 'drizzle-orm';
import { descriptorToString, parseDescriptor, parseTransaction, toHex } from '../../bitcoin';
import type { Orm } from '../../db';
import {
  AppError,
  currency,
  fiatToSats,
  invalid,
  newId,
  systemCaller,
  type Caller,
} from '../../kernel';
import { blockProvenance } from '../../mining';
import { clearingLots } from '../schema';
import { readOutput } from '../service';
import {
  escrowOutput,
  forbidden,
  isMarketOfficer,
  notFound,
  positiveSats,
  readSettings,
  type MarketContext,
} from './context';
import { marketBids, marketDeals, marketEscrowCoins, marketOffers, marketSettings } from './schema';
import { bidView, offerView, settingsView, type BidView, type MarketSettingsView } from './views';
import type { OfferView } from './views';

export interface MarketSettingsInput {
  currency: string;
  spreadBasisPoints: number;
  deadlineSeconds: number;
  /** Watch-only descriptor of the platform's escrow wallet; fixed once set. */
  escrowDescriptor: string;
}

/** Deal states whose coins and contract amount are still committed. */
export const LIVE_DEALS = ['awaitingPayment', 'delivering', 'delivered', 'held'] as const;

/** A platform opens or changes its market (audited); the escrow wallet cannot change once set. */
export async function setSettings(
  ctx: MarketContext,
  caller: Caller,
  input: MarketSettingsInput,
): Promise<MarketSettingsView> {
  if (caller.role !== 'platform') throw forbidden('a market is run and set by a licensed platform');
  const platformId = caller.participantId;
  const code = currency(input.currency);
  if (!Number.isInteger(input.spreadBasisPoints) || input.spreadBasisPoints < 0)
    throw invalid('spreadBasisPoints', 'must be a whole number of basis points from 0 to 2000');
  if (input.spreadBasisPoints > 2000)
    throw invalid('spreadBasisPoints', 'must be a whole number of basis points from 0 to 2000');
  if (
    !Number.isInteger(input.deadlineSeconds) ||
    input.deadlineSeconds < 60 ||
    input.deadlineSeconds > 604_800
  )
    throw invalid('deadlineSeconds', 'must be a whole number of seconds from 60 to 604800');
  let descriptor: string;
  try {
    descriptor = descriptorToString(parseDescriptor(input.escrowDescriptor, ctx.network));
    escrowOutput(ctx, descriptor, 0);
  } catch (error) {
    throw invalid(
      'escrowDescriptor',
      error instanceof AppError ? error.message : 'is not a descriptor of this network',
    );
  }
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await ctx.deps.registry.requireActiveLicence(platformId, now);
    const [before] = await tx
      .select()
      .from(marketSettings)
      .where(eq(marketSettings.platformId, platformId))
      .for('update');
    if (before && before.escrowDescriptor !== descriptor) {
      throw new AppError(
        'CONFLICT',
        'the escrow wallet of a market cannot change: offers hold coins at its addresses',
      );
    }
    const row = {
      platformId,
      currency: code,
      spreadBasisPoints: input.spreadBasisPoints,
      deadlineSeconds: input.deadlineSeconds,
      escrowDescriptor: descriptor,
      nextEscrowIndex: before?.nextEscrowIndex ?? 0,
      version: (before?.version ?? 0) + 1,
      updatedBy: caller.personId,
      createdAt: before?.createdAt ?? now,
      updatedAt: now,
    };
    if (before)
      await tx.update(marketSettings).set(row).where(eq(marketSettings.platformId, platformId));
    else await tx.insert(marketSettings).values(row);
    const view = settingsView(row);
    await ctx.audit.record(caller, {
      action: 'market_settings.set',
      entityType: 'market',
      entityId: platformId,
      before: before ? settingsView(before) : null,
      after: view,
    });
    return view;
  });
}

export async function getSettings(
  ctx: MarketContext,
  caller: Caller,
  platformId: string,
): Promise<MarketSettingsView> {
  // Every participant may read a market's terms (currency, spread, deadline): they are its price.
  // The escrow wallet's descriptor is not: its xpub would show every escrow address and balance,
  // so only the platform itself, the supervisor and auditors see it.
  const view = settingsView(await readSettings(ctx.db.orm, platformId));
  const sees =
    caller.role === 'supervisor' ||
    caller.role === 'auditor' ||
    (caller.role === 'platform' && caller.participantId === platformId);
  return sees ? view : { ...view, escrowDescriptor: null };
}

/**
 * A miner offers coins of one of its lots (cleared or released, not spent), no more than the lot
 * holds beyond its other live offers; the offer gets its own escrow address, where the miner
 * deposits the coins before any deal can be matched (the coins then sit under the platform's key).
 */
export async function createOffer(
  ctx: MarketContext,
  caller: Caller,
  input: { platformId: string; lotId: string; amountSats: bigint | string },
): Promise<OfferView> {
  if (caller.role !== 'miner') throw forbidden('only a registered miner offers mined coins');
  const amount = positiveSats(input.amountSats, 'amountSats');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [lot] = await tx
      .select()
      .from(clearingLots)
      .where(eq(clearingLots.id, input.lotId))
      .for('update');
    if (!lot || lot.minerId !== caller.participantId) throw notFound('lot', input.lotId);
    if (lot.clearance === 'quarantined') {
      throw new AppError(
        'LOT_QUARANTINED',
        `lot ${lot.id} is quarantined (${lot.quarantineReason ?? 'unknown reason'}); only cleared or released coins are sold`,
      );
    }
    const [offered] = await tx
      .select({ sum: sql<string>`coalesce(sum(${marketOffers.amountSats}), 0)` })
      .from(marketOffers)
      .where(
        and(
          eq(marketOffers.lotId, lot.id),
          inArray(marketOffers.status, ['awaitingDeposit', 'open']),
        ),
      );
    const available = lot.status === 'spent' ? 0n : lot.valueSats - BigInt(offered?.sum ?? 0);
    if (amount > available) {
      throw new AppError(
        'LOT_NOT_AVAILABLE',
        lot.status === 'spent'
          ? `lot ${lot.id} is spent; offer coins of an unspent cleared lot`
          : `lot ${lot.id} holds ${available} sats not yet offered; the offer asks ${amount}`,
        { details: { availableSats: available.toString() } },
      );
    }
    await ctx.deps.registry.requireActiveLicence(caller.participantId, now);
    await ctx.deps.registry.requireActiveLicence(input.platformId, now);
    const settings = await readSettings(tx, input.platformId, true);
    const index = settings.nextEscrowIndex;
    await tx
      .update(marketSettings)
      .set({ nextEscrowIndex: index + 1 })
      .where(eq(marketSettings.platformId, settings.platformId));
    const row = {
      id: newId('offer', now, ctx.random),
      platformId: settings.platformId,
      minerId: caller.participantId,
      lotId: lot.id,
      amountSats: amount,
      availableSats: amount,
      escrowAddress: escrowOutput(ctx, settings.escrowDescriptor, index).address,
      escrowIndex: index,
      status: 'awaitingDeposit',
      depositTxid: null,
      withdrawalTxid: null,
      withdrawalTx: null,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insert(marketOffers).values(row);
    const view = offerView(row);
    await ctx.audit.record(caller, {
      action: 'market_offer.created',
      entityType: 'market_offer',
      entityId: row.id,
      after: view,
    });
    return view;
  });
}

/**
 * The miner's deposit into the offer's escrow address: the transaction's outputs to that address,
 * each confirmed in a block clearing followed and wholly cleared (no quarantined or undetermined
 * sats), together at least the offered amount. The offer opens for matching.
 */
export async function recordDeposit(
  ctx: MarketContext,
  caller: Caller,
  offerId: string,
  txid: string,
): Promise<OfferView> {
  if (caller.role !== 'miner' && caller.role !== 'platform')
    throw forbidden('the miner (or the market platform) reports an escrow deposit');
  if (!/^[0-9a-f]{64}$/.test(txid))
    throw invalid('txid', `must be 64 lower-case hex characters, got "${txid}"`);
  const chain = ctx.deps.chain;
  if (!chain) throw new AppError('CHAIN_UNAVAILABLE', 'the market runs without a chain here');
  const offer = await readOffer(ctx, ctx.db.orm, caller, offerId);
  const raw = await chain.getRawTransaction(txid);
  const script = toHex(
    escrowOutput(
      ctx,
      (await readSettings(ctx.db.orm, offer.platformId)).escrowDescriptor,
      offer.escrowIndex,
    ).scriptPubKey,
  );
  const paid = parseTransaction(raw)
    .outputs.map((o, vout) => ({ vout, value: o.value, script: toHex(o.scriptPubKey) }))
    .filter((o) => o.script === script);
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(marketOffers)
      .where(eq(marketOffers.id, offer.id))
      .for('update');
    if (!row || row.status !== 'awaitingDeposit') {
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `offer ${offerId} is ${row?.status ?? 'gone'}, not awaiting its deposit`,
      );
    }
    let total = 0n;
    let fromLot = 0n;
    for (const output of paid) {
      const stored = await readOutput(tx, txid, output.vout);
      if (!stored) {
        throw new AppError(
          'ESCROW_NOT_FUNDED',
          `the deposit ${txid}:${output.vout} is not yet confirmed in a block the scheme followed; report it once mined`,
        );
      }
      if (stored.clearedSats !== stored.valueSats) {
        throw new AppError(
          'LOT_QUARANTINED',
          `the deposit ${txid}:${output.vout} is not wholly cleared coins (${stored.quarantinedSats} sats quarantined, ${stored.undeterminedSats} undetermined)`,
        );
      }
      total += output.value;
      fromLot += await satsOfLot(tx, row.lotId, stored.blockHash, txid, output.vout);
    }
    if (total < row.amountSats) {
      throw new AppError(
        'ESCROW_NOT_FUNDED',
        `transaction ${txid} pays ${total} sats to the offer's escrow address ${row.escrowAddress}; the offer needs ${row.amountSats}`,
      );
    }
    if (fromLot < row.amountSats) {
      throw new AppError(
        'DEPOSIT_NOT_FROM_LOT',
        `transaction ${txid} pays ${fromLot} sats of lot ${row.lotId} into the escrow; the offer sells ${row.amountSats} sats of that lot, not other coins`,
        { details: { fromLotSats: fromLot.toString() } },
      );
    }
    for (const output of paid) {
      await tx
        .insert(marketEscrowCoins)
        .values({
          txid,
          vout: output.vout,
          offerId: row.id,
          valueSats: output.value,
          spentByDeal: null,
          createdAt: now,
        })
        .onConflictDoNothing();
    }
    const after = { ...row, status: 'open', depositTxid: txid, updatedAt: now };
    await tx.update(marketOffers).set(after).where(eq(marketOffers.id, row.id));
    const view = offerView(after);
    await ctx.audit.record(caller, {
      action: 'market_offer.funded',
      entityType: 'market_offer',
      entityId: row.id,
      before: { status: row.status },
      after: { status: view.status, depositTxid: txid, escrowSats: total.toString() },
    });
    return view;
  });
}

/**
 * The sats of an output that come from `lotId`'s coinbase output, by mining's provenance (the
 * tags the block's tracing wrote for it: the lot's attribution is their origin).
 */
async function satsOfLot(
  tx: Orm,
  lotId: string,
  blockHash: string,
  txid: string,
  vout: number,
): Promise<bigint> {
  const [lot] = await tx
    .select({ attributionId: clearingLots.attributionId })
    .from(clearingLots)
    .where(eq(clearingLots.id, lotId));
  if (!lot) return 0n;
  return (await blockProvenance(tx, blockHash))
    .filter((t) => t.txid === txid && t.vout === vout && t.originId === lot.attributionId)
    .reduce((sum, t) => sum + t.sats, 0n);
}

/** An offer visible to the caller: its miner, its market's officers, supervisor and auditors. */
export async function readOffer(ctx: MarketContext, orm: Orm, caller: Caller, id: string) {
  const [row] = await orm.select().from(marketOffers).where(eq(marketOffers.id, id));
  if (!row) throw notFound('offer', id);
  const sees =
    caller.role === 'supervisor' ||
    caller.role === 'auditor' ||
    (caller.role === 'miner' && caller.participantId === row.minerId) ||
    isMarketOfficer(caller, row.platformId);
  if (!sees) {
    if (caller.role === 'company') throw forbidden("companies do not see miners' offers");
    throw notFound('offer', id);
  }
  void ctx;
  return row;
}

/**
 * An importer bids for cleared coins for one of its active import contracts, no more than the
 * contract's open amount (in sats; a fiat contract at the rate a deal is priced at: today's
 * fixing of its currency, the live rate before it) less its other open bids and live deals.
 */
export async function createBid(
  ctx: MarketContext,
  caller: Caller,
  input: { platformId: string; contractId: string; amountSats: bigint | string },
): Promise<BidView> {
  if (caller.role !== 'company') throw forbidden('only an importing company bids for coins');
  const amount = positiveSats(input.amountSats, 'amountSats');
  const now = ctx.clock.now();
  return ctx.db.transaction(async (tx) => {
    await readSettings(tx, input.platformId);
    const contract = await ctx.deps.contracts.get(caller, input.contractId);
    if (contract.companyId !== caller.participantId) throw notFound('contract', input.contractId);
    if (contract.direction !== 'import' || contract.status !== 'active') {
      throw new AppError(
        'IMPORT_CONTRACT_REQUIRED',
        `contract ${contract.id} is ${contract.direction}, ${contract.status}; a bid needs an active import contract of the company`,
      );
    }
    await ctx.deps.registry.requireVerified(caller.participantId);
    // One bid at a time per contract: the open amount is read and reserved under this lock.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`market:${contract.id}`}))`);
    // A fiat contract's open amount in sats at the rate a deal would be priced at now (the
    // ledger's rule: today's fixing once published, the live source before it), so a bid is
    // not refused while its deal could be priced.
    const open =
      contract.unit === 'BTC'
        ? contract.openAmount
        : fiatToSats(
            { minor: contract.openAmount, currency: currency(contract.currency) },
            (await ctx.deps.rates.current(contract.currency)).rate,
            'down',
          );
    const committed = await committedOn(tx, contract.id);
    if (amount > open - committed) {
      throw new AppError(
        'AMOUNT_EXCEEDS_OPEN',
        `contract ${contract.id} has ${open - committed < 0n ? 0n : open - committed} sats open for bids (open ${open}, already bid or dealt ${committed}); the bid asks ${amount}`,
        { details: { openSats: open.toString(), committedSats: committed.toString() } },
      );
    }
    const company = await ctx.deps.registry.partyFacts(caller.participantId);
    const row = {
      id: newId('bid', now, ctx.random),
      platformId: input.platformId,
      companyId: caller.participantId,
      companyPlatformId: company.platformId ?? contract.platformId,
      contractId: contract.id,
      amountSats: amount,
      status: 'open',
      createdAt: now,
      updatedAt: now,
    };
    await tx.insert(marketBids).values(row);
    const view = bidView(row);
    await ctx.audit.record(caller, {
      action: 'market_bid.created',
      entityType: 'market_bid',
      entityId: row.id,
      after: view,
    });
    return view;
  });
}

/** Sats of a contract already asked for: its open bids and its live deals. */
async function committedOn(tx: Orm, contractId: string): Promise<bigint> {
  const [bids] = await tx
    .select({ sum: sql<string>`coalesce(sum(${marketBids.amountSats}), 0)` })
    .from(marketBids)
    .where(and(eq(marketBids.contractId, contractId), eq(marketBids.status, 'open')));
  const [deals] = await tx
    .select({ sum: sql<string>`coalesce(sum(${marketDeals.amountSats}), 0)` })
    .from(marketDeals)
    .where(
      and(eq(marketDeals.contractId, contractId), inArray(marketDeals.status, [...LIVE_DEALS])),
    );
  return BigInt(bids?.sum ?? 0) + BigInt(deals?.sum ?? 0);
}

/** The system reading a contract for a re-check (the caller's scope was checked at bidding). */
export const CONTRACT_READER = systemCaller('clearing.market');

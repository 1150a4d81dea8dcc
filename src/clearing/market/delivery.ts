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
import { AppError, sats, type Caller } from '../../kernel';
import type { FiatConfirmation } from './bank';
import {
  escrowOutput,
  forbidden,
  isMarketOfficer,
  notFound,
  readSettings,
  type MarketContext,
} from './context';
import { readDeal, screenCoinLeg, transition, type DealRow } from './deals';
import { nextDealStatus } from './lifecycle';
import type { EscrowOutput } from './ports';
import { marketDeals, marketEscrowCoins, marketOffers } from './schema';
import { dealView, type DealView } from './views';

/** P2WPKH sizes (BIP141 vbytes): overhead, one input, one output. */
const TX_OVERHEAD_VBYTES = 11n;
const INPUT_VBYTES = 68n;
const OUTPUT_VBYTES = 31n;
/** Bitcoin Core's dust threshold for a P2WPKH output at its default relay fee. */
const DUST_SATS = 546n;
const DEFAULT_FEE_SAT_PER_KVB = 2_000n;
const MIN_FEE_SAT_PER_KVB = 1_000n;
const MAX_FEE_SAT_PER_KVB = 100_000n;

type Paid = { bankReference: string; confirmedAt: Date };
type EscrowCoin = typeof marketEscrowCoins.$inferSelect;

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
    // Four eyes: an officer's word releases escrowed coins only if another officer matched.
    if (caller.role === 'platform' && row.matchedByPerson === caller.personId)
      throw new AppError(
        'SELF_APPROVAL',
        `the officer who matched deal ${id} cannot confirm its fiat leg, with any credential; another officer or the bank must`,
      );
    nextDealStatus(id, row.status, 'confirmed');
    await checkConfirmable(tx, row, confirmation, now);
    const reasons = await screenCoinLeg(ctx, tx, row.platformId, row.minerId, {
      companyId: row.companyId,
      companyPlatformId: row.importerPlatformId,
    });
    const paid = { bankReference: confirmation.bankReference, confirmedAt: now };
    if (reasons.length > 0) return hold(ctx, tx, caller, row, paid, reasons);
    return deliver(ctx, tx, caller, row, paid, estimate);
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
      'CONFLICT',
      `bank reference ${confirmation.bankReference} already confirmed deal ${reused.id}`,
    );
  }
}

/** Signs the delivery, credits the importer in the ledger and moves the deal on (audited). */
async function deliver(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  paid: Paid,
  estimate: bigint | null,
): Promise<DealRow> {
  const delivery = await buildDelivery(ctx, tx, row, estimate);
  const to = nextDealStatus(row.id, row.status, 'confirmed');
  const after: DealRow = { ...row, ...paid, ...delivery, status: to, updatedAt: paid.confirmedAt };
  await tx.update(marketDeals).set(after).where(eq(marketDeals.id, row.id));
  // The delivered coin is the importer's client funds (trade's payouts spend only credited coins).
  await ctx.deps.ledger.post(tx, caller, {
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

async function hold(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  paid: Paid,
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
 * wallet (output 0), the rest back to the offer's escrow address (output 1). The importer bears
 * the fee. The offer is locked first, so two deliveries from one escrow take turns.
 */
async function buildDelivery(ctx: MarketContext, tx: Orm, deal: DealRow, estimate: bigint | null) {
  const [offer] = await tx
    .select()
    .from(marketOffers)
    .where(eq(marketOffers.id, deal.offerId))
    .for('update');
  if (!offer) throw new AppError('INTERNAL', `deal ${deal.id} has no offer`);
  const coins = await tx
    .select()
    .from(marketEscrowCoins)
    .where(and(eq(marketEscrowCoins.offerId, offer.id), isNull(marketEscrowCoins.spentByDeal)))
    .orderBy(asc(marketEscrowCoins.createdAt), asc(marketEscrowCoins.txid))
    .for('update');
  const settings = await readSettings(tx, deal.platformId);
  const escrow = escrowOutput(ctx, settings.escrowDescriptor, offer.escrowIndex);
  const total = coins.reduce((sum, c) => sum + c.valueSats, 0n);
  const fee = feeFor(coins.length, estimate);
  let change = total - deal.amountSats;
  if (change < 0n || deal.amountSats - fee < DUST_SATS) {
    throw new AppError(
      'ESCROW_NOT_FUNDED',
      `the escrow of offer ${offer.id} holds ${total} sats; deal ${deal.id} needs ${deal.amountSats}`,
    );
  }
  // Change too small to be worth an output goes to the fee.
  const extraFee = change > 0n && change < DUST_SATS ? change : 0n;
  if (extraFee > 0n) change = 0n;
  const importer = await ctx.deps.registry.nextReceiveAddress(
    tx,
    deal.companyId,
    `cleared coins bought in market deal ${deal.id}`,
  );
  const delivered = deal.amountSats - fee;
  const outputs: PsbtOutputSpec[] = [{ address: importer.address, amount: sats(delivered) }];
  if (change > 0n) outputs.push({ address: escrow.address, amount: sats(change) });
  const signed = await signDelivery(ctx, tx, deal.platformId, escrow, coins, outputs);
  await recordEscrowSpend(
    ctx,
    tx,
    deal.id,
    offer.id,
    coins,
    change > 0n ? signed.txid : null,
    change,
  );
  return {
    deliveryTxid: signed.txid,
    deliveryVout: 0,
    deliveredSats: delivered,
    feeSats: fee + extraFee,
    deliveryTx: toHex(signed.raw),
  };
}

/** The network fee of a delivery from `inputs` escrow coins, at the chain's estimate (clamped). */
function feeFor(inputs: number, estimate: bigint | null): bigint {
  const rate = estimate ?? DEFAULT_FEE_SAT_PER_KVB;
  const feeRate =
    rate < MIN_FEE_SAT_PER_KVB
      ? MIN_FEE_SAT_PER_KVB
      : rate > MAX_FEE_SAT_PER_KVB
        ? MAX_FEE_SAT_PER_KVB
        : rate;
  const vsize = TX_OVERHEAD_VBYTES + INPUT_VBYTES * BigInt(inputs) + OUTPUT_VBYTES * 2n;
  return (vsize * feeRate + 999n) / 1000n;
}

async function signDelivery(
  ctx: MarketContext,
  tx: Orm,
  platformId: string,
  escrow: EscrowOutput,
  coins: readonly EscrowCoin[],
  outputs: readonly PsbtOutputSpec[],
) {
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
  const signer = await ctx.deps.signers.signerFor(tx, platformId);
  if (!signer) {
    throw new AppError(
      'CONFIG_INVALID',
      `platform ${platformId} has no local signer for its escrow wallet here`,
    );
  }
  const psbt = createPsbt({ network: ctx.network, inputs, outputs });
  return extractTransaction(finalizePsbt(await signer.signPsbt(psbt)));
}

/** The escrow coins spent by the deal, and its change (output 1) as the offer's next coin. */
async function recordEscrowSpend(
  ctx: MarketContext,
  tx: Orm,
  dealId: string,
  offerId: string,
  coins: readonly EscrowCoin[],
  changeTxid: string | null,
  change: bigint,
): Promise<void> {
  for (const c of coins) {
    await tx
      .update(marketEscrowCoins)
      .set({ spentByDeal: dealId })
      .where(and(eq(marketEscrowCoins.txid, c.txid), eq(marketEscrowCoins.vout, c.vout)));
  }
  if (changeTxid === null) return;
  await tx.insert(marketEscrowCoins).values({
    txid: changeTxid,
    vout: 1,
    offerId,
    valueSats: change,
    spentByDeal: null,
    createdAt: ctx.clock.now(),
  });
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
    // Left `delivering` (the confirmation is committed): market.tick broadcasts it again.
    return dealView(deal);
  }
  return transition(ctx, caller, deal.id, 'broadcast', (row) => ({ ...row, deliveryTx: null }));
}

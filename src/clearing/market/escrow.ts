import { and, asc, eq, isNull } from 'drizzle-orm';
import {
  addressFromScript,
  createPsbt,
  extractTransaction,
  finalizePsbt,
  parseTransaction,
  toHex,
  type PsbtInputSpec,
  type PsbtOutputSpec,
} from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, sats, type Caller } from '../../kernel';
import { clearingLots } from '../schema';
import { escrowOutput, readSettings, type MarketContext } from './context';
import type { EscrowOutput } from './ports';
import { marketEscrowCoins, marketOffers } from './schema';

/** P2WPKH sizes (BIP141 vbytes): overhead, one input, one output. */
const TX_OVERHEAD_VBYTES = 11n;
const INPUT_VBYTES = 68n;
const OUTPUT_VBYTES = 31n;
/** Bitcoin Core's dust threshold for a P2WPKH output at its default relay fee. */
export const DUST_SATS = 546n;
const DEFAULT_FEE_SAT_PER_KVB = 2_000n;
const MIN_FEE_SAT_PER_KVB = 1_000n;
const MAX_FEE_SAT_PER_KVB = 100_000n;

type EscrowCoin = typeof marketEscrowCoins.$inferSelect;

/** What an escrow spend pays: `amount` (or every unspent coin: `all`) less the fee to `to`. */
export interface EscrowSpendRequest {
  readonly offerId: string;
  readonly platformId: string;
  /** The deal (or, for a withdrawal, the offer) the spent coins are marked with. */
  readonly spentBy: string;
  readonly amountSats: bigint | 'all';
  readonly to: (tx: Orm) => Promise<string>;
}

export interface EscrowSpend {
  readonly txid: string;
  readonly raw: string;
  readonly address: string;
  /** Sats paid to `address` (output 0). */
  readonly paidSats: bigint;
  readonly feeSats: bigint;
}

/**
 * A transaction from an offer's escrow, signed by the market platform's key: every unspent escrow
 * coin of the offer in, the amount less the network fee to the destination (output 0), the rest
 * back to the offer's escrow address (output 1). The offer is locked first, so two spends from
 * one escrow take turns. The spent coins are marked, the change is the offer's next coin.
 */
export async function spendEscrow(
  ctx: MarketContext,
  tx: Orm,
  request: EscrowSpendRequest,
  estimate: bigint | null,
): Promise<EscrowSpend> {
  const [offer] = await tx
    .select()
    .from(marketOffers)
    .where(eq(marketOffers.id, request.offerId))
    .for('update');
  if (!offer) throw new AppError('INTERNAL', `no offer ${request.offerId}`);
  const coins = await tx
    .select()
    .from(marketEscrowCoins)
    .where(and(eq(marketEscrowCoins.offerId, offer.id), isNull(marketEscrowCoins.spentByDeal)))
    .orderBy(asc(marketEscrowCoins.createdAt), asc(marketEscrowCoins.txid))
    .for('update');
  const settings = await readSettings(tx, request.platformId);
  const escrow = escrowOutput(ctx, settings.escrowDescriptor, offer.escrowIndex);
  const total = coins.reduce((sum, c) => sum + c.valueSats, 0n);
  const amount = request.amountSats === 'all' ? total : request.amountSats;
  const fee = feeFor(coins.length, estimate);
  let change = total - amount;
  if (coins.length === 0 || change < 0n || amount - fee < DUST_SATS) {
    throw new AppError(
      'ESCROW_NOT_FUNDED',
      `the escrow of offer ${offer.id} holds ${total} sats; ${request.spentBy} needs ${amount}`,
    );
  }
  // Change too small to be worth an output goes to the fee.
  const extraFee = change > 0n && change < DUST_SATS ? change : 0n;
  if (extraFee > 0n) change = 0n;
  const address = await request.to(tx);
  const paid = amount - fee;
  const outputs: PsbtOutputSpec[] = [{ address, amount: sats(paid) }];
  if (change > 0n) outputs.push({ address: escrow.address, amount: sats(change) });
  const signed = await signEscrowSpend(ctx, request.platformId, escrow, coins, outputs);
  await recordEscrowSpend(ctx, tx, request.spentBy, offer.id, coins, signed.txid, change);
  return {
    txid: signed.txid,
    raw: toHex(signed.raw),
    address,
    paidSats: paid,
    feeSats: fee + extraFee,
  };
}

/** The network fee of a spend from `inputs` escrow coins, at the chain's estimate (clamped). */
function feeFor(inputs: number, estimate: bigint | null): bigint {
  const rate = estimate ?? DEFAULT_FEE_SAT_PER_KVB;
  const feeRate =
    rate < MIN_FEE_SAT_PER_KVB
      ? MIN_FEE_SAT_PER_KVB
      : rate > MAX_FEE_SAT_PER_KVB
        ? MAX_FEE_SAT_PER_KVB
        : rate;
  const vsize =
    TX_OVERHEAD_VBYTES + INPUT_VBYTES * BigInt(Math.max(inputs, 1)) + OUTPUT_VBYTES * 2n;
  return (vsize * feeRate + 999n) / 1000n;
}

async function signEscrowSpend(
  ctx: MarketContext,
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
  const signer = await ctx.deps.signers.signerFor(platformId);
  if (!signer) {
    throw new AppError(
      'CONFIG_INVALID',
      `platform ${platformId} has no local signer for its escrow wallet here`,
    );
  }
  const psbt = createPsbt({ network: ctx.network, inputs, outputs });
  return extractTransaction(finalizePsbt(await signer.signPsbt(psbt)));
}

/** The escrow coins spent, and the change (output 1) as the offer's next coin. */
async function recordEscrowSpend(
  ctx: MarketContext,
  tx: Orm,
  spentBy: string,
  offerId: string,
  coins: readonly EscrowCoin[],
  txid: string,
  change: bigint,
): Promise<void> {
  for (const c of coins) {
    await tx
      .update(marketEscrowCoins)
      .set({ spentByDeal: spentBy })
      .where(and(eq(marketEscrowCoins.txid, c.txid), eq(marketEscrowCoins.vout, c.vout)));
  }
  if (change === 0n) return;
  await tx.insert(marketEscrowCoins).values({
    txid,
    vout: 1,
    offerId,
    valueSats: change,
    spentByDeal: null,
    createdAt: ctx.clock.now(),
  });
}

/**
 * Undoes an escrow spend that will never confirm (the network refused it for good): its coins are
 * unspent again and its change, which will never exist, is dropped.
 */
export async function undoEscrowSpend(tx: Orm, spentBy: string, txid: string): Promise<void> {
  await tx.delete(marketEscrowCoins).where(eq(marketEscrowCoins.txid, txid));
  await tx
    .update(marketEscrowCoins)
    .set({ spentByDeal: null })
    .where(eq(marketEscrowCoins.spentByDeal, spentBy));
}

/**
 * The miner's own address to return escrowed coins to: the address its lot was mined to (its
 * registered payout address), read from the lot's coinbase transaction, and screened afresh
 * against the sanctions lists together with the miner itself. TRANSFER_BLOCKED (nothing is
 * written) when either does not pass, or when no address screening is wired (fail closed).
 */
export async function minerReturnAddress(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  offer: { lotId: string; minerId: string },
): Promise<string> {
  const chain = ctx.deps.chain;
  if (!chain) throw new AppError('CHAIN_UNAVAILABLE', 'the market runs without a chain here');
  const [lot] = await tx.select().from(clearingLots).where(eq(clearingLots.id, offer.lotId));
  if (!lot) throw new AppError('INTERNAL', `no lot ${offer.lotId}`);
  const output = parseTransaction(await chain.getRawTransaction(lot.txid)).outputs[lot.vout];
  if (!output) throw new AppError('INTERNAL', `lot ${lot.id}'s output is not in its transaction`);
  const address = addressFromScript(output.scriptPubKey, ctx.network);
  const screen = ctx.deps.addressScreening;
  const blocked = (why: string) =>
    new AppError(
      'TRANSFER_BLOCKED',
      `the escrowed coins cannot go back to the miner's address ${address}: ${why}`,
    );
  if (!screen) throw blocked('no address screening is configured here');
  // The refusal does not say which check stopped it: the miner may be the one asking (a
  // withdrawal), and a screened party learns nothing of its screening.
  if ((await screen.screenAddress(caller, address)).outcome !== 'clear')
    throw blocked('compliance holds it');
  try {
    await ctx.deps.registry.requireNotHeld(offer.minerId);
  } catch (error) {
    if (error instanceof AppError) throw blocked('compliance holds it');
    throw error;
  }
  return address;
}

import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { createPsbt, parseAddress, type PsbtInputSpec, type PsbtOutputSpec } from '../bitcoin';
import { AppError, newId, sats, systemCaller, type Caller } from '../kernel';
import type { Database, Orm } from '../db';
import { fundingTiers, selectFunding, type CoinSelection } from './coinselection';
import { hold, transitionPayout, type GateCheck } from './lifecycle';
import { acceptSignedPsbt } from './payout-broadcaster';
import type { PayoutContext } from './payout-context';
import type { CoinOrigin, CoinOrigins, OriginRule } from './ports';
import { getBatch, type BatchView, type PayoutRow } from './payout-views';
import { tradeBatches, tradePayouts, tradeWalletUtxos } from './schema';
import { clampFeeRate, loadSettings, saveSettings } from './settings';

/** BIP125: inputs with nSequence below 0xfffffffe make the batch replaceable, for fee bumps. */
const RBF_SEQUENCE = 0xfffffffd;
const P2WPKH_INPUT_VBYTES = 68;

type CoinRow = typeof tradeWalletUtxos.$inferSelect;

/**
 * The coins a payout may spend: those that are client funds in the ledger, i.e. outputs a
 * settlement credited (a settled invoice's payment) and the change of the platform's own batches.
 * A coin that reached the wallet without being credited is never sent on: a receipt held for
 * compliance review or refused by the gate, a payment still short of its confirmations, coins
 * paid to the wallet outside any invoice. They stay in the wallet, and reconciliation explains
 * them (src/trade/reconcile.ts).
 */
async function creditedOnly(ctx: PayoutContext, tx: Orm, coins: CoinRow[]): Promise<CoinRow[]> {
  if (coins.length === 0) return coins;
  const settled = await ctx.ports.ledger.settledAmong(coins);
  const txids = [...new Set(coins.map((c) => c.txid))];
  const change = await tx
    .select({ txid: tradeBatches.txid, confirmedTxid: tradeBatches.confirmedTxid })
    .from(tradeBatches)
    .where(or(inArray(tradeBatches.txid, txids), inArray(tradeBatches.confirmedTxid, txids)));
  const ours = new Set(change.flatMap((b) => [b.txid, b.confirmedTxid]));
  return coins.filter((c) => settled.has(`${c.txid}:${c.vout}`) || ours.has(c.txid));
}

/** Splits a fee over payouts in proportion to their amounts; the rounding remainder goes to the first. */
export function splitFee(fee: bigint, amounts: readonly bigint[]): bigint[] {
  const total = amounts.reduce((s, a) => s + a, 0n);
  if (amounts.length === 0 || total <= 0n) return amounts.map(() => 0n);
  const shares = amounts.map((a) => (fee * a) / total);
  const remainder = fee - shares.reduce((s, x) => s + x, 0n);
  shares[0] = (shares[0] ?? 0n) + remainder;
  return shares;
}

/**
 * One batch run for a platform: every approved payout not yet batched, decided again by the
 * gate (those that no longer pass are held), goes into ONE transaction. Skipped (null) when the
 * platform's batch window has not passed since the last run, unless forced, or when nothing is
 * waiting. Signs with the platform's local signer when it has one (after deciding every payout of
 * the batch once more; one that fails abandons the batch) and broadcasts; else the batch waits
 * for an external signer's PSBT.
 */
export async function runBatch(
  ctx: PayoutContext,
  caller: Caller,
  platformId: string,
  options: { force?: boolean } = {},
): Promise<BatchView | null> {
  const { db, clock, random, network, wallets, signers } = ctx.ports;
  if (!(
    caller.role === 'supervisor' ||
    (caller.role === 'platform' && caller.participantId === platformId)
  )) {
    throw new AppError('FORBIDDEN', 'batches are run by the platform or the system');
  }
  const chain = ctx.requireChain();
  const estimate = await chain.estimateFeeRateSatPerKvB(6).catch(() => null);
  const built = await db.transaction(async (tx) => {
    const settings = await loadSettings(tx, platformId);
    const now = clock.now();
    if (
      !options.force &&
      settings.lastBatchAt &&
      now.getTime() - settings.lastBatchAt.getTime() < settings.batchWindowSeconds * 1000
    ) {
      return null;
    }
    const waiting = await tx
      .select()
      .from(tradePayouts)
      .where(
        and(
          eq(tradePayouts.platformId, platformId),
          eq(tradePayouts.status, 'awaitingPayment'),
          isNull(tradePayouts.batchId),
        ),
      )
      .orderBy(asc(tradePayouts.approvedAt), asc(tradePayouts.id))
      .for('update');
    await saveSettings(tx, platformId, {}, now).then(() =>
      tx.execute(
        sql`update trade_settings set last_batch_at = ${now.toISOString()} where platform_id = ${platformId}`,
      ),
    );
    // The wallets the change goes back to, locked before the gate records its decisions (which
    // takes the audit head): the one lock order of every writer, wallet row then audit head.
    await wallets.lockWallets([...new Set(waiting.map((p) => p.companyId))].sort());
    // The gate again, at batching: a payout that no longer passes is held, not batched.
    const { failed, passed } = await ctx.checkBatch(caller, waiting, 'batching');
    for (const p of waiting) {
      const check = failed.get(p.id);
      if (check) await hold(ctx.transitions, tx, caller, p, check);
    }
    const payouts = waiting.filter((p) => passed.has(p.id));
    if (payouts.length === 0) return failed.size > 0 ? { id: null } : null;
    const feeRate = clampFeeRate(estimate, settings);
    const id = newId('batch', now, random);
    const inputs: PsbtInputSpec[] = [];
    let totalFee = 0n;
    let totalVsize = 0;
    const feeShares = new Map<string, bigint>();
    const byCompany = new Map<string, PayoutRow[]>();
    for (const p of payouts) byCompany.set(p.companyId, [...(byCompany.get(p.companyId) ?? []), p]);
    // Coin selection per company over its own coins; a company that cannot pay stays queued
    // (its payouts remain awaitingPayment) without holding back the others.
    const planned: {
      companyId: string;
      own: PayoutRow[];
      selection: CoinSelection;
      coins: CoinRow[];
    }[] = [];
    const skipped: { companyId: string; code: string; reason: string }[] = [];
    const origin = await originFacts(ctx.ports.origins, db, now);
    for (const [companyId, own] of byCompany) {
      const coins = await tx
        .select()
        .from(tradeWalletUtxos)
        .where(
          and(
            eq(tradeWalletUtxos.companyId, companyId),
            isNull(tradeWalletUtxos.spentByTxid),
            isNull(tradeWalletUtxos.reservedByBatch),
          ),
        )
        .orderBy(
          asc(tradeWalletUtxos.blockHeight),
          asc(tradeWalletUtxos.txid),
          asc(tradeWalletUtxos.vout),
        )
        .for('update')
        .then((all) => creditedOnly(ctx, tx, all));
      try {
        // Quarantined mined coins never fund a payout; with the cleared-origin rule in force only
        // coins at or above its cleared share do (fail closed), wholly cleared coins first.
        const tiers = fundingTiers(
          coins.map((c) => `${c.txid}:${c.vout}`),
          await origin.of(coins),
          origin.rule,
        );
        const selection = selectFunding(
          {
            utxos: coins.map((c) => ({
              id: `${c.txid}:${c.vout}`,
              value: c.valueSats,
              inputVbytes: P2WPKH_INPUT_VBYTES,
            })),
            target: own.reduce((sum, p) => sum + p.amountSats, 0n),
            paymentOutputBytes: own.map(
              (p) => 8 + 1 + parseAddress(p.address, network).scriptPubKey.length,
            ),
            feeRateSatPerKvB: feeRate,
            random,
          },
          tiers,
          origin.rule,
        );
        planned.push({ companyId, own, selection, coins });
      } catch (error) {
        if (!(
          error instanceof AppError &&
          (error.code === 'INSUFFICIENT_FUNDS' || error.code === 'ORIGIN_NOT_CLEARED')
        ))
          throw error;
        skipped.push({ companyId, code: error.code, reason: error.message });
        if (error.code === 'ORIGIN_NOT_CLEARED')
          await recordOriginRefusal(ctx, tx, caller, own, error, origin.rule);
      }
    }
    if (planned.length === 0) {
      // The holds are kept (committed); the run reports the shortfall.
      if (failed.size > 0) return { id: null };
      const first = skipped.find((s) => s.code === 'ORIGIN_NOT_CLEARED') ?? skipped[0];
      const error = new AppError(
        first?.code === 'ORIGIN_NOT_CLEARED' ? 'ORIGIN_NOT_CLEARED' : 'INSUFFICIENT_FUNDS',
        first ? first.reason : 'no coins to pay with',
        { details: { skipped } },
      );
      // A refusal by origin is on record (the payouts' audit events): commit it, then answer.
      if (error.code === 'ORIGIN_NOT_CLEARED') return { id: null, error };
      throw error;
    }
    const included = planned.flatMap((plan) => plan.own);
    const outputs: PsbtOutputSpec[] = included.map((p) => ({
      address: p.address,
      amount: sats(p.amountSats),
    }));
    for (const { companyId, own, selection, coins } of planned) {
      totalFee += selection.fee;
      totalVsize += selection.vsize;
      const shares = splitFee(
        selection.fee,
        own.map((p) => p.amountSats),
      );
      own.forEach((p, i) => feeShares.set(p.id, shares[i] ?? 0n));
      for (const chosen of selection.inputs) {
        const coin = coins.find((c) => `${c.txid}:${c.vout}` === chosen.id);
        if (!coin) throw new AppError('INTERNAL', `selected coin ${chosen.id} vanished`);
        const derived = await wallets.walletAddressDerivation(coin.address);
        inputs.push({
          txid: coin.txid,
          vout: coin.vout,
          value: sats(coin.valueSats),
          scriptPubKey: derived.scriptPubKey,
          derivations: derived.keys.map((k) => ({
            pubkey: k.pubkey,
            fingerprint: k.fingerprint,
            path: k.path,
          })),
          sequence: RBF_SEQUENCE,
        });
        await tx
          .update(tradeWalletUtxos)
          .set({ reservedByBatch: id })
          .where(and(eq(tradeWalletUtxos.txid, coin.txid), eq(tradeWalletUtxos.vout, coin.vout)));
      }
      if (selection.change !== undefined) {
        // Change goes back to the company's own wallet: the next address of its change branch.
        const change = await wallets.nextChangeAddress(companyId, `change of batch ${id}`);
        outputs.push({ address: change.address, amount: sats(selection.change) });
      }
    }
    const psbt = createPsbt({ network, inputs, outputs });
    await tx.insert(tradeBatches).values({
      id,
      platformId,
      status: 'awaitingSignature',
      psbt: Buffer.from(psbt).toString('base64'),
      feeSats: totalFee,
      feeRateSatPerKvB: feeRate,
      vsize: totalVsize,
      createdAt: now,
      updatedAt: now,
    });
    for (const [i, p] of included.entries()) {
      await transitionPayout(ctx.transitions, tx, caller, p, 'batched', {
        checked: passed.get(p.id) as GateCheck,
        patch: {
          batchId: id,
          vout: i,
          feeShareSats: feeShares.get(p.id) ?? 0n,
          originRefusal: null,
        },
        audit: { batchId: id, vout: i },
      });
    }
    await ctx.audit.record(caller, {
      action: 'batch.built',
      entityType: 'batch',
      entityId: id,
      after: {
        payouts: included.map((p) => p.id),
        held: [...failed.keys()],
        skipped,
        fee: totalFee.toString(),
        feeRateSatPerKvB: feeRate.toString(),
        inputs: inputs.length,
        outputs: outputs.length,
      },
    });
    return { id };
  });
  if (built && 'error' in built && built.error instanceof AppError) throw built.error;
  if (!built?.id) return null;
  const batchId = built.id;
  // The gate again, before signing: one payout that fails abandons the batch unsigned.
  const signerCaller = systemCaller('trade.signer');
  const toSign = await db.transaction(async (tx) => {
    const signer = await signers.signerFor(platformId);
    if (!signer) return null;
    const [batch] = await tx
      .select()
      .from(tradeBatches)
      .where(eq(tradeBatches.id, batchId))
      .for('update');
    if (!batch) return null;
    const payouts = await tx.select().from(tradePayouts).where(eq(tradePayouts.batchId, batchId));
    const { failed, passed } = await ctx.checkBatch(signerCaller, payouts, 'signing');
    if (failed.size > 0) {
      await ctx.abandonBatch(tx, signerCaller, batch, failed);
      return null;
    }
    return { signer, psbt: batch.psbt, passed };
  });
  if (toSign) {
    const signed = await toSign.signer.signPsbt(new Uint8Array(Buffer.from(toSign.psbt, 'base64')));
    await acceptSignedPsbt(ctx, signerCaller, batchId, signed, toSign.passed);
  }
  return getBatch(db.orm, systemCaller('trade'), batchId);
}

/**
 * The cleared-origin rule in force and a reader of coins' clearance, for one batch run. Fail
 * closed: when the rule cannot be read it is taken as in force at a threshold of 100 %, and when
 * clearances cannot be read every coin's is unknown (refused while the rule is in force).
 */
async function originFacts(
  origins: CoinOrigins | null,
  db: Database,
  now: Date,
): Promise<{
  rule: OriginRule | null;
  of: (coins: readonly CoinRow[]) => Promise<ReadonlyMap<string, CoinOrigin> | null>;
}> {
  if (!origins) return { rule: null, of: () => Promise.resolve(new Map()) };
  // Each read a savepoint of the batch's unit: a failed read must leave its transaction usable.
  const rule = await db
    .unit(() => origins.ruleAt(now))
    .catch((): OriginRule => ({
      version: 'clearing.cleared-origin (the rule could not be read)',
      thresholdBasisPoints: 10_000,
    }));
  return {
    rule,
    of: (coins) =>
      db
        .unit(() => origins.coinOrigins(coins.map((c) => ({ txid: c.txid, vout: c.vout }))))
        .catch(() => null),
  };
}

/**
 * Puts a refusal by origin on the payouts' record: the reason on the row and an audit event, once
 * per payout and rule version (batch runs repeat every window while the coins stay refused).
 */
async function recordOriginRefusal(
  ctx: PayoutContext,
  tx: Orm,
  caller: Caller,
  payouts: readonly PayoutRow[],
  error: AppError,
  rule: OriginRule | null,
): Promise<void> {
  const { clock } = ctx.ports;
  const refusal = {
    code: 'ORIGIN_NOT_CLEARED',
    rule: rule?.version ?? null,
    reason: error.message,
    details: error.details ?? null,
  };
  for (const p of payouts) {
    const previous = p.originRefusal as { rule?: string | null; reason?: string } | null;
    if (previous && previous.rule === refusal.rule && previous.reason === refusal.reason) continue;
    const at = clock.now();
    await tx
      .update(tradePayouts)
      .set({ originRefusal: { ...refusal, at: at.toISOString() }, updatedAt: at })
      .where(eq(tradePayouts.id, p.id));
    await ctx.audit.record(caller, {
      action: 'payout.originNotCleared',
      entityType: 'payout',
      entityId: p.id,
      after: { status: p.status, ...refusal },
    });
  }
}

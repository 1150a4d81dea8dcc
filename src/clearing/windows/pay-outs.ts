import { and, asc, eq, inArray } from 'drizzle-orm';
import {
  createPsbt,
  deriveAddress,
  estimateSize,
  extractTransaction,
  feeForVsize,
  finalizePsbt,
  parseAddress,
  RECEIVE,
  spendTypeOf,
  toHex,
  type Descriptor,
  type PsbtInputSpec,
  type Signer,
} from '../../bitcoin';
import type { Orm } from '../../db';
import { AppError, sats, type Caller, type NetworkName } from '../../kernel';
import { BTC } from '../netting';
import { WINDOWS_CALLER, type WindowContext } from './lifecycle';
import {
  SETTLEMENT_PAY_OUT_EVENTS,
  sendStored,
  type PayOutTransactionRow,
  type SendDeps,
  type SendRun,
} from './pay-out-broadcast';
import {
  currentSettlementAddresses,
  screensClear,
  type LicenceCheck,
} from './settlement-addresses';
import { receivedBtcPayIns } from './pay-out-batch';
import { alertPayOutHold } from './pay-out-alerts';
import { feeShares, postFeeEntry } from './pay-out-fees';
import { clearingPayOutTransactions, clearingPayOuts, clearingWindows } from './schema';

export { SETTLEMENT_PAY_OUT_EVENTS, type PayOutTransactionRow };
export { NETWORK_FEE, feeShares } from './pay-out-fees';

/**
 * The bitcoin pay-out of a settled window (issue 13): ONE transaction spending the window's
 * received pay-ins to every bitcoin pay-out and refund, at the platforms' registered settlement
 * addresses, signed by the clearing's signer (the private side of CLEARING_PAY_IN_DESCRIPTOR),
 * stored before it is first broadcast, then sent and followed into blocks (pay-out-broadcast.ts).
 *
 * The network fee is borne by the outputs pro rata to their amounts (the clearing holds no coin of
 * its own to pay it from): each output's share is floor(fee · amount / total), the rounding
 * remainder on the largest output; in the window's books it goes through the `network-fee`
 * account at signing (pay-out-fees.ts).
 */

/** Bitcoin Core's dust threshold for a P2WPKH output at its default relay fee. */
const DUST_SATS = 546n;
/** Fee rate bounds (sat/kvB) around the chain's estimate, and the default when it has none. */
const DEFAULT_FEE_SAT_PER_KVB = 2_000n;
const MIN_FEE_SAT_PER_KVB = 1_000n;
const MAX_FEE_SAT_PER_KVB = 100_000n;

export interface PayOutDeps extends SendDeps {
  readonly network: NetworkName;
  readonly descriptor: Descriptor | null;
  readonly signer: Signer | null;
  /** The registry's licence check; null: none wired, and nothing is paid (fail closed). */
  readonly licences: LicenceCheck | null;
}

export type PayOutRow = typeof clearingPayOuts.$inferSelect;

export interface PayOutRun extends SendRun {
  /** Windows whose pay-out transaction was signed and stored in this run. */
  signed: string[];
  /** Windows whose bitcoin pay-outs wait for a settlement address (SETTLEMENT_ADDRESS_MISSING). */
  held: string[];
}

/**
 * The job's pay-out step, safe to repeat after a crash at any point: builds and stores the
 * transaction of each settled window that has bitcoin pay-outs and none yet (one per window,
 * the stored row is the key), then sends every stored transaction the network has not accepted.
 */
export async function runPayOuts(deps: PayOutDeps): Promise<PayOutRun> {
  const run: PayOutRun = { signed: [], broadcast: [], resent: [], held: [] };
  const waiting = await deps.db.orm
    .selectDistinct({ windowId: clearingPayOuts.windowId })
    .from(clearingPayOuts)
    .where(
      and(eq(clearingPayOuts.asset, BTC), inArray(clearingPayOuts.status, ['instructed', 'held'])),
    )
    .orderBy(asc(clearingPayOuts.windowId));
  if (waiting.length > 0) {
    // Asked before any transaction opens: no network call inside one.
    const feeRate = clampFeeRate(
      deps.chain ? await deps.chain.estimateFeeRateSatPerKvB(6).catch(() => null) : null,
    );
    // One window that cannot be built (its books unbalanced, say) does not keep the others
    // from paying out: the rest are built, then the first failure fails the run for the job's log.
    let failure: Error | null = null;
    for (const { windowId } of waiting) {
      try {
        const outcome = await buildPayOut(deps, windowId, feeRate);
        if (outcome === 'signed') run.signed.push(windowId);
        if (outcome === 'held') run.held.push(windowId);
      } catch (error) {
        failure ??= error instanceof Error ? error : new Error(String(error));
      }
    }
    if (failure !== null) {
      await sendStored(deps, run);
      throw failure;
    }
  }
  await sendStored(deps, run);
  return run;
}

export function clampFeeRate(estimate: bigint | null): bigint {
  const rate = estimate ?? DEFAULT_FEE_SAT_PER_KVB;
  return rate < MIN_FEE_SAT_PER_KVB
    ? MIN_FEE_SAT_PER_KVB
    : rate > MAX_FEE_SAT_PER_KVB
      ? MAX_FEE_SAT_PER_KVB
      : rate;
}

/**
 * Builds, signs and stores a settled window's pay-out transaction, in one database transaction
 * under the window's lock: a second run finds the stored row and signs nothing. When a receiver
 * has no settlement address, nothing is built: its pay-out is `held` (SETTLEMENT_ADDRESS_MISSING,
 * audited once) and the others wait with it, so that the window still pays out in one transaction
 * once the address is registered.
 */
async function buildPayOut(
  deps: PayOutDeps,
  windowId: string,
  feeRate: bigint,
): Promise<'signed' | 'held' | null> {
  return deps.db.transaction(async (tx) => {
    const [window] = await tx
      .select()
      .from(clearingWindows)
      .where(eq(clearingWindows.id, windowId))
      .for('update');
    if (!window || window.status !== 'settled') return null;
    const [stored] = await tx
      .select({ windowId: clearingPayOutTransactions.windowId })
      .from(clearingPayOutTransactions)
      .where(eq(clearingPayOutTransactions.windowId, windowId));
    if (stored) return null;
    const payOuts = await tx
      .select()
      .from(clearingPayOuts)
      .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
      .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind));
    if (payOuts.length === 0) return null;
    const checked = await checkReceivers(deps, tx, payOuts);
    if ('code' in checked) {
      await holdPayOuts(tx, deps.ctx, checked.held, checked.code);
      return 'held';
    }
    const { addresses } = checked;
    if (!deps.signer || !deps.descriptor) return null;
    const signed = await signPayOut(deps, tx, windowId, payOuts, addresses, feeRate);
    if (signed === true) return 'signed';
    if (signed === false || signed === 'unchanged') return null;
    await holdPayOuts(tx, deps.ctx, signed.belowDust, 'PAY_OUT_BELOW_DUST');
    return 'held';
  });
}

export type HeldCode =
  'SETTLEMENT_ADDRESS_MISSING' | 'TRANSFER_BLOCKED' | 'LICENCE_NOT_ACTIVE' | 'PAY_OUT_BELOW_DUST';

/**
 * The receivers' checks at signing: each has a settlement address, screened again now (a list
 * that names it since it was registered stops the pay-out, and an address that cannot be screened
 * is not paid: fail closed), and holds an active licence. The first that fails names its code.
 */
export async function checkReceivers(
  deps: PayOutDeps,
  tx: Orm,
  payOuts: readonly PayOutRow[],
): Promise<{ addresses: Map<string, string> } | { held: PayOutRow[]; code: HeldCode }> {
  const addresses = await currentSettlementAddresses(
    tx,
    payOuts.map((p) => p.platformId),
  );
  const missing = payOuts.filter((p) => !addresses.has(p.platformId));
  if (missing.length > 0) return { held: missing, code: 'SETTLEMENT_ADDRESS_MISSING' };
  const unclear = await unclearAddresses(tx, deps.ctx, addresses);
  const blocked = payOuts.filter((p) => unclear.has(p.platformId));
  if (blocked.length > 0) return { held: blocked, code: 'TRANSFER_BLOCKED' };
  const unlicensed = await unlicensedPlatforms(deps, payOuts);
  if (unlicensed.length > 0) return { held: unlicensed, code: 'LICENCE_NOT_ACTIVE' };
  return { addresses };
}

/**
 * The pay-outs whose platform holds no active licence now (all of them when none is wired), read
 * in the caller's unit of work.
 */
async function unlicensedPlatforms(
  deps: PayOutDeps,
  payOuts: readonly PayOutRow[],
): Promise<PayOutRow[]> {
  const { licences } = deps;
  if (!licences) return [...payOuts];
  const now = deps.ctx.clock.now();
  const out: PayOutRow[] = [];
  for (const p of payOuts) {
    const active = await licences.requireActiveLicence(p.platformId, now).then(
      () => true,
      (error: unknown) => {
        if (error instanceof AppError) return false;
        throw error;
      },
    );
    if (!active) out.push(p);
  }
  return out;
}

/** The platforms whose current settlement address does not screen clear now. */
async function unclearAddresses(
  tx: Orm,
  ctx: WindowContext,
  addresses: ReadonlyMap<string, string>,
): Promise<Set<string>> {
  const unclear = new Set<string>();
  for (const [platformId, address] of addresses)
    if (!(await screensClear(ctx, WINDOWS_CALLER, address))) unclear.add(platformId);
  return unclear;
}

/**
 * Holds pay-outs with the reason they wait, audited once per reason: a receiver without an
 * address waits for the platform; an address that no longer screens clear, a lapsed licence, or
 * a pay-out below the dust limit, waits for the supervisor, who is alerted in compliance's queue
 * (pay-out-alerts.ts: once per window and code while open, the receiver's for its own checks).
 * The job looks at held pay-outs on every run, so a registered or replaced address lets the
 * window pay out.
 */
async function holdPayOuts(
  tx: Orm,
  ctx: WindowContext,
  held: readonly PayOutRow[],
  code: HeldCode,
) {
  const alerts = new Map<string, string | null>();
  for (const p of held) {
    if (p.status === 'held' && p.heldCode === code) continue;
    await tx
      .update(clearingPayOuts)
      .set({ status: 'held', heldCode: code })
      .where(eq(clearingPayOuts.id, p.id));
    const alertId =
      code === 'SETTLEMENT_ADDRESS_MISSING' ? null : await holdAlert(ctx, alerts, p, code);
    await ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.held,
      entityType: 'pay_out',
      entityId: p.id,
      before: { status: p.status, code: p.heldCode },
      after: {
        status: 'held',
        code,
        windowId: p.windowId,
        platformId: p.platformId,
        kind: p.kind,
        amount: p.amount.toString(),
        ...(code === 'SETTLEMENT_ADDRESS_MISSING' ? {} : { alert: 'supervisor', alertId }),
      },
    });
  }
}

/** What lets a held window pay out, told to the supervisor with the alert. */
const AFTER_HOLD: Record<Exclude<HeldCode, 'SETTLEMENT_ADDRESS_MISSING'>, string> = {
  TRANSFER_BLOCKED:
    'Review the platform: the job builds the pay-out again once its settlement address screens clear or is replaced by one that does.',
  LICENCE_NOT_ACTIVE: 'The job builds the pay-out again once its licence is active.',
  PAY_OUT_BELOW_DUST:
    'Nothing is signed while an output is dust; the window waits (a later window, or another fee rate).',
};

/** The hold's alert, raised once per platform (or window) in this run and once while open. */
async function holdAlert(
  ctx: WindowContext,
  raised: Map<string, string | null>,
  p: PayOutRow,
  code: Exclude<HeldCode, 'SETTLEMENT_ADDRESS_MISSING'>,
): Promise<string | null> {
  const key = code === 'PAY_OUT_BELOW_DUST' ? p.windowId : p.platformId;
  if (!raised.has(key)) {
    const alert = await alertPayOutHold(ctx, WINDOWS_CALLER, {
      windowId: p.windowId,
      code,
      platformId: p.platformId,
      detail: AFTER_HOLD[code],
    });
    raised.set(key, alert?.alertId ?? null);
  }
  return raised.get(key) ?? null;
}

/**
 * Signs the window's transaction and stores it with its pay-outs, fee entry and audit. With
 * `replacing` (the supervisor's rebuild of a rejected or held one), the window's row is replaced,
 * the old txid kept in `replacedTxids`, audited `rebuilt` by the caller with the old and new
 * txids; a transaction that comes out the same as the stored one writes nothing (`unchanged`).
 */
export async function signPayOut(
  deps: PayOutDeps,
  tx: Orm,
  windowId: string,
  payOuts: readonly PayOutRow[],
  addresses: ReadonlyMap<string, string>,
  feeRate: bigint,
  replacing: { row: PayOutTransactionRow; caller: Caller } | null = null,
): Promise<boolean | 'unchanged' | { belowDust: PayOutRow[] }> {
  const { descriptor, signer } = deps;
  if (!descriptor || !signer) return false;
  const payIns = await receivedBtcPayIns(tx, windowId);
  const inputs: PsbtInputSpec[] = payIns.map((p) => {
    if (p.txid === null || p.vout === null || p.derivationIndex === null)
      throw new AppError('INTERNAL', `received pay-in ${p.id} has no outpoint or derivation`);
    const derived = deriveAddress(descriptor, RECEIVE, p.derivationIndex);
    return {
      txid: p.txid,
      vout: p.vout,
      value: sats(p.amountDue),
      scriptPubKey: derived.scriptPubKey,
      ...(derived.witnessScript ? { witnessScript: derived.witnessScript } : {}),
      ...(derived.tapInternalKey ? { tapInternalKey: derived.tapInternalKey } : {}),
      derivations: derived.keys.map((k) => ({
        pubkey: k.pubkey,
        fingerprint: k.fingerprint,
        path: k.path,
      })),
    };
  });
  const inTotal = payIns.reduce((sum, p) => sum + p.amountDue, 0n);
  const outTotal = payOuts.reduce((sum, p) => sum + p.amount, 0n);
  // The books settled the window at zero: what came in is what goes out, to the sat.
  if (inputs.length === 0 || inTotal !== outTotal)
    throw new AppError(
      'LEDGER_UNBALANCED',
      `settlement window ${windowId} received ${inTotal} sats but pays out ${outTotal}`,
    );
  const scripts = payOuts.map((p) => {
    const address = addresses.get(p.platformId) ?? '';
    return { address, script: parseAddress(address, deps.network).scriptPubKey };
  });
  const size = estimateSize(
    inputs.map((i) => spendTypeOf(i.scriptPubKey, i.witnessScript)),
    scripts.map((s) => s.script),
  );
  const fee = feeForVsize(size.vsize, feeRate);
  const shares = feeShares(
    payOuts.map((p) => p.amount),
    fee,
  );
  const outputs = payOuts.map((p, i) => {
    const share = shares[i] ?? 0n;
    return {
      payOut: p,
      address: scripts[i]?.address ?? '',
      share,
      paid: p.amount - share,
      vout: i,
    };
  });
  // An output the network would refuse as dust: nothing is signed, the window waits for the
  // supervisor (the pay-outs of one window go in one transaction or not at all).
  const belowDust = outputs.filter((o) => o.paid < DUST_SATS).map((o) => o.payOut);
  if (belowDust.length > 0) return { belowDust };
  const psbt = createPsbt({
    network: deps.network,
    inputs,
    outputs: outputs.map((o) => ({ address: o.address, amount: sats(o.paid) })),
  });
  const signed = extractTransaction(finalizePsbt(await signer.signPsbt(psbt)));
  const now = deps.ctx.clock.now();
  const stored = {
    windowId,
    txid: signed.txid,
    raw: toHex(signed.raw),
    feeSats: signed.fee,
    feeRateSatPerKvB: feeRate,
    status: 'signed',
    signedAt: now,
  };
  if (replacing) {
    if (signed.txid === replacing.row.txid) return 'unchanged';
    const replaced = await tx
      .update(clearingPayOutTransactions)
      .set({
        ...stored,
        attempts: 0,
        lastError: null,
        nextAttemptAt: null,
        heldCode: null,
        blockHash: null,
        blockHeight: null,
        broadcastAt: null,
        confirmedAt: null,
        replacedTxids: [...replacing.row.replacedTxids, replacing.row.txid],
      })
      .where(
        and(
          eq(clearingPayOutTransactions.windowId, windowId),
          eq(clearingPayOutTransactions.txid, replacing.row.txid),
          eq(clearingPayOutTransactions.status, replacing.row.status),
        ),
      )
      .returning({ txid: clearingPayOutTransactions.txid });
    // Moved since it was read: nothing of the rebuild may be written (the caller rolls back).
    if (replaced.length === 0)
      throw new AppError(
        'PAY_OUT_NOT_REJECTED',
        `the pay-out transaction of settlement window ${windowId} changed while it was rebuilt; only a rejected or held one is rebuilt`,
      );
  } else {
    await tx.insert(clearingPayOutTransactions).values(stored);
  }
  for (const o of outputs) {
    await tx
      .update(clearingPayOuts)
      .set({
        status: 'signed',
        heldCode: null,
        address: o.address,
        txid: signed.txid,
        vout: o.vout,
        feeSats: o.share,
        paidSats: o.paid,
      })
      .where(eq(clearingPayOuts.id, o.payOut.id));
  }
  // A rebuild reverses the replaced transaction's fee entry: the books show the fee of this one.
  const feeReversed = await postFeeEntry(
    tx,
    windowId,
    signed.txid,
    outputs.map((o) => ({ platformId: o.payOut.platformId, share: o.share })),
    now,
  );
  await deps.ctx.audit.record(replacing?.caller ?? WINDOWS_CALLER, {
    action: replacing ? SETTLEMENT_PAY_OUT_EVENTS.rebuilt : SETTLEMENT_PAY_OUT_EVENTS.signed,
    entityType: 'settlement_window',
    entityId: windowId,
    ...(replacing
      ? {
          before: {
            status: replacing.row.status,
            txid: replacing.row.txid,
            reason: replacing.row.lastError,
            ...(replacing.row.heldCode ? { code: replacing.row.heldCode } : {}),
          },
        }
      : {}),
    after: {
      txid: signed.txid,
      ...(replacing ? { replacedTxid: replacing.row.txid, feeReversed } : {}),
      feeSats: signed.fee.toString(),
      feeRateSatPerKvB: feeRate.toString(),
      inputs: payIns.map((p) => ({ payInId: p.id, txid: p.txid, vout: p.vout })),
      outputs: outputs.map((o) => ({
        payOutId: o.payOut.id,
        platformId: o.payOut.platformId,
        kind: o.payOut.kind,
        address: o.address,
        vout: o.vout,
        amount: o.payOut.amount.toString(),
        feeSats: o.share.toString(),
        paidSats: o.paid.toString(),
      })),
    },
  });
  return true;
}

import { and, asc, desc, eq, inArray, sql } from 'drizzle-orm';
import {
  CHANGE,
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
import {
  clearingPayOutTransactions,
  clearingPayOuts,
  clearingWindows,
  type SignedOutput,
} from './schema';

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
  /** Windows with a bitcoin pay-out held in this run (the others of a window may be signed). */
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
        if (outcome === 'signed' || outcome === 'partial') run.signed.push(windowId);
        if (outcome === 'held' || outcome === 'partial') run.held.push(windowId);
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
 * Builds, signs and stores a settled window's next pay-out transaction, in one database
 * transaction under the window's lock: a second run finds the stored row and signs nothing again.
 * The window's first transaction (seq 0) spends its received pay-ins and pays every receiver that
 * passes its checks; a receiver that does not (TRANSFER_BLOCKED, LICENCE_NOT_ACTIVE,
 * PAY_OUT_BELOW_DUST) is held with its code and its whole amount stays with the clearing, an output
 * to the clearing's own change address. Once that transaction is confirmed, a later run pays the
 * held receivers whose checks now pass in a transaction of its own (seq 1, 2, …) spending that
 * change, with the same checks at signing. A receiver without a settlement address holds the whole
 * window (SETTLEMENT_ADDRESS_MISSING, audited once): it waits for the platform, not the supervisor,
 * so the window still pays out in one transaction once the address is registered.
 */
async function buildPayOut(
  deps: PayOutDeps,
  windowId: string,
  feeRate: bigint,
): Promise<'signed' | 'partial' | 'held' | null> {
  return deps.db.transaction(async (tx) => {
    const [window] = await tx
      .select()
      .from(clearingWindows)
      .where(eq(clearingWindows.id, windowId))
      .for('update');
    if (!window || window.status !== 'settled') return null;
    const [latest] = await tx
      .select()
      .from(clearingPayOutTransactions)
      .where(eq(clearingPayOutTransactions.windowId, windowId))
      .orderBy(desc(clearingPayOutTransactions.seq))
      .limit(1);
    // A later transaction spends the change of the one before once it is confirmed: no chain of
    // unconfirmed spends that a rebuild or a reorganization of the first would orphan.
    if (latest && (latest.status !== 'confirmed' || latest.changeVout === null)) return null;
    const payOuts = (
      await tx
        .select()
        .from(clearingPayOuts)
        .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
        .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind))
    ).filter((p) => !latest || p.status === 'held');
    if (payOuts.length === 0) return null;
    const checked = await checkReceivers(deps, tx, payOuts);
    const missing = payOuts.filter((p) => checked.held.get(p.id) === 'SETTLEMENT_ADDRESS_MISSING');
    if (missing.length > 0) {
      await holdPayOuts(tx, deps.ctx, missing, 'SETTLEMENT_ADDRESS_MISSING');
      return 'held';
    }
    for (const code of RECEIVER_CODES)
      await holdPayOuts(
        tx,
        deps.ctx,
        payOuts.filter((p) => checked.held.get(p.id) === code),
        code,
      );
    const paying = payOuts.filter((p) => !checked.held.has(p.id));
    const keeping = payOuts.filter((p) => checked.held.has(p.id));
    if (paying.length === 0) return 'held';
    if (!deps.signer || !deps.descriptor) return null;
    const source: PayOutSource = latest ? { change: latest } : { payIns: true };
    const signed = await signPayOut(
      deps,
      tx,
      windowId,
      source,
      paying,
      keeping,
      checked.addresses,
      feeRate,
    );
    if (signed === true) return keeping.length > 0 ? 'partial' : 'signed';
    if (signed === false || signed === 'unchanged') return null;
    await holdPayOuts(tx, deps.ctx, signed.belowDust, 'PAY_OUT_BELOW_DUST');
    return 'held';
  });
}

export type HeldCode =
  'SETTLEMENT_ADDRESS_MISSING' | 'TRANSFER_BLOCKED' | 'LICENCE_NOT_ACTIVE' | 'PAY_OUT_BELOW_DUST';

/** A receiver's own checks, in the order they are told: the first that fails is its code. */
const RECEIVER_CODES = ['TRANSFER_BLOCKED', 'LICENCE_NOT_ACTIVE'] as const;

export interface ReceiverChecks {
  /** Each platform's current settlement address. */
  addresses: Map<string, string>;
  /** The pay-outs that fail a check now, by id, with the first check's code. */
  held: Map<string, HeldCode>;
}

/**
 * The receivers' checks at signing: each has a settlement address, screened again now (a list
 * that names it since it was registered stops its pay-out, and an address that cannot be screened
 * is not paid: fail closed), and holds an active licence. Each pay-out that fails names the code of
 * the first check it fails.
 */
export async function checkReceivers(
  deps: PayOutDeps,
  tx: Orm,
  payOuts: readonly PayOutRow[],
): Promise<ReceiverChecks> {
  const addresses = await currentSettlementAddresses(
    tx,
    payOuts.map((p) => p.platformId),
  );
  const held = new Map<string, HeldCode>();
  for (const p of payOuts)
    if (!addresses.has(p.platformId)) held.set(p.id, 'SETTLEMENT_ADDRESS_MISSING');
  const unclear = await unclearAddresses(tx, deps.ctx, addresses);
  for (const p of payOuts)
    if (!held.has(p.id) && unclear.has(p.platformId)) held.set(p.id, 'TRANSFER_BLOCKED');
  for (const p of await unlicensedPlatforms(
    deps,
    payOuts.filter((p) => !held.has(p.id)),
  ))
    held.set(p.id, 'LICENCE_NOT_ACTIVE');
  return { addresses, held };
}

/** The first code (in the order of the checks) that holds one of `payOuts`, with those it holds. */
export function firstHold(
  checked: ReceiverChecks,
  payOuts: readonly PayOutRow[],
): { code: HeldCode; held: PayOutRow[] } | null {
  for (const code of ['SETTLEMENT_ADDRESS_MISSING', ...RECEIVER_CODES] as const) {
    const held = payOuts.filter((p) => checked.held.get(p.id) === code);
    if (held.length > 0) return { code, held };
  }
  return null;
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
    "Review the platform: the window's other receivers are paid, its share stays with the clearing, and the job pays it in a transaction of its own once its settlement address screens clear or is replaced by one that does.",
  LICENCE_NOT_ACTIVE:
    "The window's other receivers are paid, its share stays with the clearing, and the job pays it in a transaction of its own once its licence is active.",
  PAY_OUT_BELOW_DUST:
    "Its output would be dust: the window's other receivers are paid and its share stays with the clearing (when all the window keeps back is dust, nothing is signed and the window waits for another fee rate).",
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
 * Where a pay-out transaction's coins come from: the window's received pay-ins (its first), or
 * the change that the window's transaction before kept for its held receivers.
 */
export type PayOutSource = { payIns: true } | { change: PayOutTransactionRow };

/** An output to a receiver: its pay-out, address, share of the fee and what it is paid. */
interface PlannedOutput {
  payOut: PayOutRow;
  address: string;
  share: bigint;
  paid: bigint;
  vout: number;
}

/**
 * Signs the window's next transaction and stores it with its pay-outs, fee entry and audit:
 * `paying` get their outputs (each its amount less its pro-rata share of this transaction's fee);
 * `keeping` (held receivers) get nothing, their whole amounts in one output to the clearing's own
 * change address, spent by the window's next transaction once their holds clear. A receiver whose
 * output would be dust is held (PAY_OUT_BELOW_DUST) and kept with the change, unless all the
 * change would then be dust: then nothing is signed (`belowDust`). With `replacing` (the
 * supervisor's rebuild of a rejected or held one), the row is replaced, the old txid kept in
 * `replacedTxids` and its outputs in `replacedOutputs`, audited `rebuilt` by the caller with the
 * old and new txids; an output that would be dust refuses it (`belowDust`), and a transaction that
 * comes out the same as the stored one writes nothing (`unchanged`).
 */
export async function signPayOut(
  deps: PayOutDeps,
  tx: Orm,
  windowId: string,
  source: PayOutSource,
  paying: readonly PayOutRow[],
  keeping: readonly PayOutRow[],
  addresses: ReadonlyMap<string, string>,
  feeRate: bigint,
  replacing: { row: PayOutTransactionRow; caller: Caller } | null = null,
): Promise<boolean | 'unchanged' | { belowDust: PayOutRow[] }> {
  const { descriptor, signer } = deps;
  if (!descriptor || !signer) return false;
  const spent = await sourceInputs(tx, descriptor, windowId, source);
  const outTotal = [...paying, ...keeping].reduce((sum, p) => sum + p.amount, 0n);
  // The books settled the window at zero: what came in is what goes out, to the sat.
  if (spent.inputs.length === 0 || spent.total !== outTotal)
    throw new AppError(
      'LEDGER_UNBALANCED',
      `settlement window ${windowId} has ${spent.total} sats to spend but pays out ${outTotal}`,
    );
  let payNow = [...paying];
  const keep = [...keeping];
  const dust: PayOutRow[] = [];
  const changeIndex =
    keep.length > 0 || !replacing
      ? (replacing?.row.changeIndex ?? (await nextChangeIndex(tx)))
      : null;
  for (;;) {
    const plan = planOutputs(deps, descriptor, spent.inputs, payNow, keep, addresses, feeRate);
    const below = plan.outputs.filter((o) => o.paid < DUST_SATS).map((o) => o.payOut);
    if (below.length === 0) break;
    // A rebuild signs what was signed, or nothing.
    if (replacing) return { belowDust: below };
    payNow = payNow.filter((p) => !below.includes(p));
    keep.push(...below);
    dust.push(...below);
  }
  const keptSats = keep.reduce((sum, p) => sum + p.amount, 0n);
  // Nothing to pay, or a change output the network would refuse as dust: nothing is signed.
  if (payNow.length === 0 || (keptSats > 0n && keptSats < DUST_SATS)) return { belowDust: dust };
  if (keep.length > 0 && changeIndex === null)
    throw new AppError('INTERNAL', `no change derivation for settlement window ${windowId}`);
  const plan = planOutputs(deps, descriptor, spent.inputs, payNow, keep, addresses, feeRate);
  const change =
    keptSats > 0n && changeIndex !== null
      ? {
          vout: plan.outputs.length,
          address: changeAddress(descriptor, changeIndex),
          sats: keptSats,
          index: changeIndex,
        }
      : null;
  const psbt = createPsbt({
    network: deps.network,
    inputs: spent.inputs,
    outputs: [
      ...plan.outputs.map((o) => ({ address: o.address, amount: sats(o.paid) })),
      ...(change ? [{ address: change.address, amount: sats(change.sats) }] : []),
    ],
  });
  const signed = extractTransaction(finalizePsbt(await signer.signPsbt(psbt)));
  if (replacing && signed.txid === replacing.row.txid) return 'unchanged';
  if (!replacing) await holdPayOuts(tx, deps.ctx, dust, 'PAY_OUT_BELOW_DUST');
  const now = deps.ctx.clock.now();
  const signedOutputs: SignedOutput[] = [
    ...plan.outputs.map((o) => ({
      vout: o.vout,
      address: o.address,
      valueSats: o.paid.toString(),
      payOutId: o.payOut.id,
      platformId: o.payOut.platformId,
      feeSats: o.share.toString(),
    })),
    ...(change
      ? [
          {
            vout: change.vout,
            address: change.address,
            valueSats: change.sats.toString(),
            payOutId: null,
            platformId: null,
            feeSats: '0',
            changeIndex: change.index,
          },
        ]
      : []),
  ];
  const stored = {
    windowId,
    seq: replacing?.row.seq ?? ('change' in source ? source.change.seq + 1 : 0),
    txid: signed.txid,
    raw: toHex(signed.raw),
    feeSats: signed.fee,
    feeRateSatPerKvB: feeRate,
    status: 'signed',
    signedAt: now,
    changeVout: change?.vout ?? null,
    changeSats: change?.sats ?? null,
    changeIndex: change?.index ?? null,
    signedOutputs,
  };
  if (replacing) await replaceStored(tx, windowId, replacing.row, stored);
  else await tx.insert(clearingPayOutTransactions).values(stored);
  for (const o of plan.outputs) {
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
    plan.outputs.map((o) => ({ platformId: o.payOut.platformId, share: o.share })),
    now,
    stored.seq,
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
      seq: stored.seq,
      ...(replacing ? { replacedTxid: replacing.row.txid, feeReversed } : {}),
      feeSats: signed.fee.toString(),
      feeRateSatPerKvB: feeRate.toString(),
      inputs: spent.audit,
      outputs: plan.outputs.map((o) => ({
        payOutId: o.payOut.id,
        platformId: o.payOut.platformId,
        kind: o.payOut.kind,
        address: o.address,
        vout: o.vout,
        amount: o.payOut.amount.toString(),
        feeSats: o.share.toString(),
        paidSats: o.paid.toString(),
      })),
      kept: change
        ? {
            vout: change.vout,
            address: change.address,
            sats: change.sats.toString(),
            changeIndex: change.index,
            payOuts: keep.map((p) => ({ payOutId: p.id, platformId: p.platformId })),
          }
        : null,
    },
  });
  return true;
}

/** The inputs a pay-out transaction spends, their total and how the audit names them. */
async function sourceInputs(
  tx: Orm,
  descriptor: Descriptor,
  windowId: string,
  source: PayOutSource,
): Promise<{ inputs: PsbtInputSpec[]; total: bigint; audit: Record<string, unknown>[] }> {
  if ('change' in source) {
    const prev = source.change;
    if (prev.changeVout === null || prev.changeSats === null || prev.changeIndex === null)
      throw new AppError('INTERNAL', `pay-out transaction ${prev.txid} kept no change`);
    return {
      inputs: [
        inputSpec(
          descriptor,
          CHANGE,
          prev.changeIndex,
          prev.txid,
          prev.changeVout,
          prev.changeSats,
        ),
      ],
      total: prev.changeSats,
      audit: [{ changeOf: prev.txid, txid: prev.txid, vout: prev.changeVout }],
    };
  }
  const payIns = await receivedBtcPayIns(tx, windowId);
  const inputs = payIns.map((p) => {
    if (p.txid === null || p.vout === null || p.derivationIndex === null)
      throw new AppError('INTERNAL', `received pay-in ${p.id} has no outpoint or derivation`);
    return inputSpec(descriptor, RECEIVE, p.derivationIndex, p.txid, p.vout, p.amountDue);
  });
  return {
    inputs,
    total: payIns.reduce((sum, p) => sum + p.amountDue, 0n),
    audit: payIns.map((p) => ({ payInId: p.id, txid: p.txid, vout: p.vout })),
  };
}

function inputSpec(
  descriptor: Descriptor,
  /** RECEIVE (a pay-in) or CHANGE (what a pay-out transaction kept). */
  branch: 0 | 1,
  index: number,
  txid: string,
  vout: number,
  value: bigint,
): PsbtInputSpec {
  const derived = deriveAddress(descriptor, branch, index);
  return {
    txid,
    vout,
    value: sats(value),
    scriptPubKey: derived.scriptPubKey,
    ...(derived.witnessScript ? { witnessScript: derived.witnessScript } : {}),
    ...(derived.tapInternalKey ? { tapInternalKey: derived.tapInternalKey } : {}),
    derivations: derived.keys.map((k) => ({
      pubkey: k.pubkey,
      fingerprint: k.fingerprint,
      path: k.path,
    })),
  };
}

/** The clearing's own change address at `index` (CLEARING_PAY_IN_DESCRIPTOR's change branch). */
function changeAddress(descriptor: Descriptor, index: number): string {
  const derived = deriveAddress(descriptor, CHANGE, index);
  if (!derived.address)
    throw new AppError('CONFIG_INVALID', "the clearing's descriptor derives no change address");
  return derived.address;
}

/**
 * The next change derivation index, one more than any a pay-out transaction used (the unique index
 * on it refuses a second use: that run fails and the next one takes the next index).
 */
async function nextChangeIndex(tx: Orm): Promise<number> {
  const [row] = await tx
    .select({
      index: sql<number>`coalesce(max(${clearingPayOutTransactions.changeIndex}), -1)::int`,
    })
    .from(clearingPayOutTransactions);
  return Number(row?.index ?? -1) + 1;
}

/**
 * The receivers' outputs, in the order of `paying`, each less its pro-rata share of the fee of a
 * transaction with these inputs, these outputs and (when anything is kept) the change output.
 */
function planOutputs(
  deps: PayOutDeps,
  descriptor: Descriptor,
  inputs: readonly PsbtInputSpec[],
  paying: readonly PayOutRow[],
  keeping: readonly PayOutRow[],
  addresses: ReadonlyMap<string, string>,
  feeRate: bigint,
): { outputs: PlannedOutput[] } {
  const scripts = paying.map((p) => {
    const address = addresses.get(p.platformId) ?? '';
    return { address, script: parseAddress(address, deps.network).scriptPubKey };
  });
  const changeScripts =
    keeping.length > 0 ? [deriveAddress(descriptor, CHANGE, 0).scriptPubKey] : [];
  const size = estimateSize(
    inputs.map((i) => spendTypeOf(i.scriptPubKey, i.witnessScript)),
    [...scripts.map((s) => s.script), ...changeScripts],
  );
  const fee = feeForVsize(size.vsize, feeRate);
  const shares = feeShares(
    paying.map((p) => p.amount),
    fee,
  );
  return {
    outputs: paying.map((p, i) => {
      const share = shares[i] ?? 0n;
      return {
        payOut: p,
        address: scripts[i]?.address ?? '',
        share,
        paid: p.amount - share,
        vout: i,
      };
    }),
  };
}

/** Replaces the window's stored transaction by the rebuilt one, only while it is still as read. */
async function replaceStored(
  tx: Orm,
  windowId: string,
  row: PayOutTransactionRow,
  stored: Partial<PayOutTransactionRow>,
): Promise<void> {
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
      replacedTxids: [...row.replacedTxids, row.txid],
      replacedOutputs: row.signedOutputs
        ? { ...row.replacedOutputs, [row.txid]: row.signedOutputs }
        : row.replacedOutputs,
    })
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, windowId),
        eq(clearingPayOutTransactions.seq, row.seq),
        eq(clearingPayOutTransactions.txid, row.txid),
        eq(clearingPayOutTransactions.status, row.status),
      ),
    )
    .returning({ txid: clearingPayOutTransactions.txid });
  // Moved since it was read: nothing of the rebuild may be written (the caller rolls back).
  if (replaced.length === 0)
    throw new AppError(
      'PAY_OUT_NOT_REJECTED',
      `the pay-out transaction of settlement window ${windowId} changed while it was rebuilt; only a rejected or held one is rebuilt`,
    );
}

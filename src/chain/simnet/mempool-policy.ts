import { equalBytes } from '../../bitcoin';
import type { ChainState, Coin } from './chain-state';
import { REGTEST } from './consensus';
import { isCoinbase, type Tx, type TxOutput } from './model';
import { outpointKey, signalsRbf, type Mempool } from './mempool';
import { classifyOutput, witnessProgram } from './script';
import { verifyInputs } from './verify';

export interface AcceptResult {
  readonly txid: string;
  readonly wtxid: string;
  readonly allowed: boolean;
  /** Bitcoin Core's reject reason, e.g. `txn-mempool-conflict`. */
  readonly rejectReason?: string;
  /** Extra detail Bitcoin Core appends after the reason (", details"). */
  readonly rejectDetails?: string;
  /**
   * How Bitcoin Core's RPC reports the failure: `missing-inputs` (RPC -25), `already-in-chain`
   * (-27), `rejected` (-26).
   */
  readonly rejectKind?: 'missing-inputs' | 'already-in-chain' | 'rejected';
  readonly fee?: bigint;
  readonly vsize?: number;
  /** Transactions this one replaced (BIP125), when accepted. */
  readonly replaced?: readonly string[];
}

/** Policy constants, as Bitcoin Core's defaults (policy/policy.h). */
export const POLICY = {
  /** DEFAULT_MIN_RELAY_TX_FEE: 1 sat/vB. */
  minRelayFeeSatPerKvB: 1000n,
  /** DEFAULT_INCREMENTAL_RELAY_FEE, the extra a replacement pays for its own size (BIP125 rule 4). */
  incrementalRelayFeeSatPerKvB: 1000n,
  /** DUST_RELAY_TX_FEE. */
  dustRelayFeeSatPerKvB: 3000n,
  /** MAX_STANDARD_TX_WEIGHT. */
  maxStandardTxWeight: 400_000,
  /** MIN_STANDARD_TX_NONWITNESS_SIZE. */
  minStandardTxNonWitnessSize: 65,
  /** MAX_OP_RETURN_RELAY (before Bitcoin Core 30). */
  maxOpReturnRelay: 83,
  /** BIP125 rule 5. */
  maxReplacementEvictions: 100,
  /** Room left for the coinbase in a template (Core's DEFAULT_BLOCK_RESERVED_WEIGHT is 8000; 4000 for the coinbase). */
  coinbaseReservedWeight: 4000,
} as const;

/** What a transaction that passed the checks pays and evicts. */
export interface Admission {
  readonly fee: bigint;
  readonly evict: string[];
  readonly replaced: string[];
}

class Rejection extends Error {
  constructor(
    readonly reason: string,
    readonly details?: string,
    readonly kind: 'missing-inputs' | 'already-in-chain' | 'rejected' = 'rejected',
  ) {
    super(details ? `${reason}, ${details}` : reason);
  }
}

/**
 * GetDustThreshold (policy/policy.cpp): an output is dust when spending it would cost more than
 * it is worth at the dust relay fee (3000 sat/kvB): 546 sat for P2PKH, 540 for P2SH, 294 for
 * P2WPKH, 330 for P2WSH and P2TR. OP_RETURN outputs are never dust.
 */
export function dustThreshold(output: TxOutput): bigint {
  if (output.script[0] === 0x6a) return 0n;
  const serialized = 8 + compactSizeLength(output.script.length) + output.script.length;
  // Input spending it: 32+4+1+107+4 legacy; witness programs count the 107-byte witness at a quarter.
  const spend = witnessProgram(output.script)
    ? 32 + 4 + 1 + Math.floor(107 / 4) + 4
    : 32 + 4 + 1 + 107 + 4;
  return (POLICY.dustRelayFeeSatPerKvB * BigInt(serialized + spend)) / 1000n;
}

function compactSizeLength(n: number): number {
  return n < 0xfd ? 1 : n <= 0xffff ? 3 : 5;
}

/** Fee for `vsize` virtual bytes at a sat/kvB rate (CFeeRate::GetFee, rounded down). */
function feeFor(rateSatPerKvB: bigint, vsize: number): bigint {
  return (rateSatPerKvB * BigInt(vsize)) / 1000n;
}

/** The result of a check that threw a policy rejection; other errors are thrown on. */
export function rejected(tx: Tx, error: unknown): AcceptResult {
  if (!(error instanceof Rejection)) throw error;
  return {
    txid: tx.txid,
    wtxid: tx.wtxid,
    allowed: false,
    rejectReason: error.reason,
    ...(error.details ? { rejectDetails: error.details } : {}),
    rejectKind: error.kind,
  };
}

/**
 * Bitcoin Core's AcceptToMemoryPool checks, in its order (validation.cpp PreChecks,
 * ReplacementChecks, PolicyScriptChecks), with its reject reasons. Throws a rejection that
 * `rejected()` turns into a result.
 */
export function checkForMempool(
  tx: Tx,
  chain: ChainState,
  mempool: Mempool,
  options: { limits?: boolean } = {},
): Admission {
  const limits = options.limits ?? true;
  checkTransactionBasics(tx);
  checkStandard(tx);
  if (!chain.isFinal(tx, chain.height + 1)) throw new Rejection('non-final');
  const pooled = mempool.get(tx.txid);
  if (pooled) {
    throw new Rejection(
      pooled.tx.wtxid === tx.wtxid
        ? 'txn-already-in-mempool'
        : 'txn-same-nonwitness-data-in-mempool',
    );
  }
  const conflicts = conflictsOf(tx, mempool);
  const prevouts = prevoutsOf(tx, chain, mempool);
  const fee = feeOf(tx, prevouts, chain.height + 1);
  const minFee = feeFor(POLICY.minRelayFeeSatPerKvB, tx.vsize);
  if (limits && fee < minFee) throw new Rejection('min relay fee not met', `${fee} < ${minFee}`);
  const evict = conflicts.size > 0 ? checkReplacement(tx, fee, conflicts, mempool) : [];
  // Scripts last, as they are the expensive part.
  checkScripts(tx, prevouts, chain.verifiedScripts);
  return { fee, evict, replaced: [...conflicts] };
}

/** IsStandardTx. */
function checkStandard(tx: Tx): void {
  if (isCoinbase(tx)) throw new Rejection('coinbase');
  if (tx.version < 1 || tx.version > 3) throw new Rejection('version');
  if (tx.weight > POLICY.maxStandardTxWeight) throw new Rejection('tx-size');
  let opReturns = 0;
  for (const output of tx.outputs) {
    const type = classifyOutput(output.script);
    if (type === 'nonstandard') throw new Rejection('scriptpubkey');
    if (type === 'nulldata') {
      if (output.script.length > POLICY.maxOpReturnRelay) throw new Rejection('scriptpubkey');
      opReturns++;
    } else if (output.value < dustThreshold(output)) {
      throw new Rejection('dust');
    }
  }
  if (opReturns > 1) throw new Rejection('multi-op-return');
  if (tx.strippedSize < POLICY.minStandardTxNonWitnessSize) throw new Rejection('tx-size-small');
}

/** Conflicts with the mempool (BIP125 opt-in replacement, as Bitcoin Core before 28.0). */
function conflictsOf(tx: Tx, mempool: Mempool): Set<string> {
  const conflicts = new Set<string>();
  for (const input of tx.inputs) {
    const spender = mempool.spenders.get(outpointKey(input.prevTxid, input.vout));
    if (spender) {
      if (!signalsRbf(mempool.get(spender)!.tx)) throw new Rejection('txn-mempool-conflict');
      conflicts.add(spender);
    }
  }
  return conflicts;
}

/** Inputs: from the UTXO set or from outputs of mempool transactions. */
function prevoutsOf(tx: Tx, chain: ChainState, mempool: Mempool): Coin[] {
  const prevouts: Coin[] = [];
  for (const input of tx.inputs) {
    let coin = chain.coin(outpointKey(input.prevTxid, input.vout));
    if (!coin) {
      const output = mempool.get(input.prevTxid)?.tx.outputs[input.vout];
      if (output)
        coin = { value: output.value, script: output.script, height: 0x7fffffff, coinbase: false };
    }
    if (!coin) {
      // Outputs already in the UTXO set mean the transaction is confirmed (Core: txn-already-known).
      for (let vout = 0; vout < tx.outputs.length; vout++) {
        if (chain.hasCoin(outpointKey(tx.txid, vout))) {
          throw new Rejection('txn-already-known', undefined, 'already-in-chain');
        }
      }
      throw new Rejection('missing-inputs', undefined, 'missing-inputs');
    }
    prevouts.push(coin);
  }
  return prevouts;
}

/** Consensus::CheckTxInputs: maturity and amounts; returns the fee. */
function feeOf(tx: Tx, prevouts: readonly Coin[], spendHeight: number): bigint {
  let valueIn = 0n;
  for (const coin of prevouts) {
    if (coin.coinbase && spendHeight - coin.height < REGTEST.coinbaseMaturity) {
      throw new Rejection(
        'bad-txns-premature-spend-of-coinbase',
        `tried to spend coinbase at depth ${spendHeight - coin.height}`,
      );
    }
    valueIn += coin.value;
  }
  const valueOut = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
  if (valueIn < valueOut) {
    throw new Rejection(
      'bad-txns-in-belowout',
      `value in (${formatSats(valueIn)}) < value out (${formatSats(valueOut)})`,
    );
  }
  return valueIn - valueOut;
}

/** BIP125 replacement checks (policy/rbf.cpp); returns every transaction the replacement evicts. */
function checkReplacement(tx: Tx, fee: bigint, conflicts: Set<string>, mempool: Mempool): string[] {
  const all = new Set<string>();
  for (const txid of conflicts) for (const id of mempool.descendants(txid)) all.add(id);
  if (all.size > POLICY.maxReplacementEvictions) {
    throw new Rejection(
      'too many potential replacements',
      `rejecting replacement ${tx.txid}; too many potential replacements (${all.size} > ${POLICY.maxReplacementEvictions})`,
    );
  }
  checkReplacementInputs(tx, conflicts, all, mempool);
  for (const txid of conflicts) {
    const original = mempool.get(txid)!;
    // Rule 6: a higher fee rate than each directly conflicting transaction (fee/vsize compared exactly).
    if (fee * BigInt(original.tx.vsize) <= original.fee * BigInt(tx.vsize)) {
      throw new Rejection(
        'insufficient fee',
        `rejecting replacement ${tx.txid}; new feerate ${rateText(fee, tx.vsize)} <= old feerate ${rateText(original.fee, original.tx.vsize)}`,
      );
    }
  }
  let evictedFees = 0n;
  for (const txid of all) evictedFees += mempool.get(txid)!.fee;
  // Rule 3: at least the fees of everything it evicts.
  if (fee < evictedFees) {
    throw new Rejection(
      'insufficient fee',
      `rejecting replacement ${tx.txid}, less fees than conflicting txs; ${formatSats(fee)} < ${formatSats(evictedFees)}`,
    );
  }
  // Rule 4: and pays for its own relay at the incremental relay fee.
  const additional = fee - evictedFees;
  const needed = feeFor(POLICY.incrementalRelayFeeSatPerKvB, tx.vsize);
  if (additional < needed) {
    throw new Rejection(
      'insufficient fee',
      `rejecting replacement ${tx.txid}, not enough additional fees to relay; ${formatSats(additional)} < ${formatSats(needed)}`,
    );
  }
  return [...all];
}

/** A replacement spends nothing it evicts and no unconfirmed output its conflicts did not spend. */
function checkReplacementInputs(
  tx: Tx,
  conflicts: Set<string>,
  evicted: Set<string>,
  mempool: Mempool,
): void {
  const conflictInputs = new Set<string>();
  for (const txid of conflicts) {
    for (const input of mempool.get(txid)!.tx.inputs) conflictInputs.add(input.prevTxid);
  }
  for (const input of tx.inputs) {
    if (evicted.has(input.prevTxid)) {
      throw new Rejection(
        'bad-txns-spends-conflicting-tx',
        `${tx.txid} spends conflicting transaction ${input.prevTxid}`,
      );
    }
    if (mempool.get(input.prevTxid) && !conflictInputs.has(input.prevTxid)) {
      throw new Rejection(
        'replacement-adds-unconfirmed',
        `replacement ${tx.txid} adds unconfirmed input, idx ${tx.inputs.indexOf(input)}`,
      );
    }
  }
}

function checkScripts(tx: Tx, prevouts: readonly TxOutput[], verified: Set<string>): void {
  if (verified.has(tx.wtxid)) return;
  const failure = verifyInputs(tx, prevouts);
  if (failure) throw new Rejection(failure.reason, `input ${failure.inputIndex}`);
  verified.add(tx.wtxid);
}

function formatSats(value: bigint): string {
  const whole = value / 100_000_000n;
  const fraction = (value % 100_000_000n).toString().padStart(8, '0');
  return `${whole}.${fraction}`;
}

function rateText(fee: bigint, vsize: number): string {
  return `${formatSats((fee * 1000n) / BigInt(vsize))} BTC/kvB`;
}

/** CheckTransaction (consensus/tx_check.cpp): context-free checks. */
function checkTransactionBasics(tx: Tx): void {
  if (tx.inputs.length === 0) throw new Rejection('bad-txns-vin-empty');
  if (tx.outputs.length === 0) throw new Rejection('bad-txns-vout-empty');
  if (tx.strippedSize * 4 > REGTEST.maxBlockWeight) throw new Rejection('bad-txns-oversize');
  let total = 0n;
  const maxMoney = 21_000_000n * 100_000_000n;
  for (const output of tx.outputs) {
    if (output.value > maxMoney) throw new Rejection('bad-txns-vout-toolarge');
    total += output.value;
    if (total > maxMoney) throw new Rejection('bad-txns-txouttotal-toolarge');
  }
  const seen = new Set<string>();
  for (const input of tx.inputs) {
    const key = outpointKey(input.prevTxid, input.vout);
    if (seen.has(key)) throw new Rejection('bad-txns-inputs-duplicate');
    seen.add(key);
  }
  if (isCoinbase(tx)) {
    const length = tx.inputs[0]!.scriptSig.length;
    if (length < 2 || length > 100) throw new Rejection('bad-cb-length');
  } else if (
    tx.inputs.some(
      (input) => equalBytes(input.prevTxidBytes, new Uint8Array(32)) && input.vout === 0xffffffff,
    )
  ) {
    throw new Rejection('bad-txns-prevout-null');
  }
}

import { AppError, type Clock, type NetworkName } from '../../kernel';
import type { Database } from '../../db';
import { equalBytes, toReversedHex, fromReversedHex } from '../../bitcoin';
import {
  assembleBlock,
  blockSubsidy,
  blockWork,
  hashMeetsTarget,
  regtestGenesis,
  REGTEST,
} from './consensus';
import {
  findWitnessCommitment,
  headerHash,
  isCoinbase,
  merkleRoot,
  parseBlock,
  parseTx,
  SerializationError,
  witnessCommitment,
  witnessMerkleRoot,
  type Block,
  type Tx,
  type TxOutput,
} from './encoding';
import { Mempool, outpointKey, signalsRbf, type MempoolEntry } from './mempool';
import { addressToScript, classifyOutput, pushNumber, witnessProgram } from './script';
import { SimnetStore, type BlockStatus, type StoredBlock } from './store';
import { verifyInputs } from './verify';

/** An unspent output. */
export interface Coin {
  readonly value: bigint;
  readonly script: Uint8Array;
  /** Height of the block that created it. */
  readonly height: number;
  readonly coinbase: boolean;
}

export interface Utxo extends Coin {
  readonly txid: string;
  readonly vout: number;
}

export interface BlockEntry {
  readonly hash: string;
  readonly height: number;
  readonly prevHash: string | null;
  readonly block: Block;
  readonly chainWork: bigint;
  status: BlockStatus;
  /** Arrival order. */
  readonly sequence: number;
  /** Set while the block is connected: the coins its inputs spent, per transaction (for disconnecting). */
  undo?: Coin[][];
  /** Fees per transaction (0 for the coinbase), known once the block has been connected. */
  fees?: bigint[];
}

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

export interface SimnetOptions {
  readonly db: Database;
  readonly clock: Clock;
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

const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_FINAL = 0xffffffff;

class Rejection extends Error {
  constructor(
    readonly reason: string,
    readonly details?: string,
    readonly kind: 'missing-inputs' | 'already-in-chain' | 'rejected' = 'rejected',
  ) {
    super(details ? `${reason}, ${details}` : reason);
  }
}

class BlockInvalid extends Error {}

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

function parseOrReject(raw: Uint8Array): Tx {
  try {
    return parseTx(raw);
  } catch (cause) {
    throw new AppError(
      'VALIDATION_FAILED',
      `rawTx could not be decoded as a transaction: ${cause instanceof SerializationError ? cause.message : String(cause)}`,
      { issues: [{ field: 'rawTx', message: 'TX decode failed' }] },
    );
  }
}

/**
 * Simnet: an in-process regtest-like Bitcoin chain with real consensus serialization, proof of
 * work at regtest difficulty, a UTXO set, a policy-checking mempool and injectable reorgs,
 * persisted in the Tradeclear database.
 *
 * Persistence: every block (of every branch) is stored with its active flag and status, and the
 * mempool's transactions in arrival order. On open, the block index is rebuilt from the stored
 * blocks and the UTXO set by replaying the active chain from genesis — linear in the chain's
 * size, which is fine at simnet scales (thousands of blocks) — then the mempool transactions are
 * accepted again under the same rules.
 *
 * Operations are serialized (one at a time); each one's changes are written in one database
 * transaction before it returns.
 */
export class Simnet {
  readonly network: NetworkName = 'regtest';
  readonly #store: SimnetStore;
  readonly #clock: Clock;
  readonly #blocks = new Map<string, BlockEntry>();
  /** Children of each block hash, for finding descendants and branch tips. */
  readonly #children = new Map<string, Set<string>>();
  readonly #active: string[] = [];
  readonly #utxos = new Map<string, Coin>();
  readonly #utxosByScript = new Map<string, Set<string>>();
  /** Active chain transaction index: txid → block hash. */
  readonly #txIndex = new Map<string, string>();
  /** wtxids whose scripts verified (Bitcoin Core's script execution cache), so blocks need not re-verify them. */
  readonly #verifiedScripts = new Set<string>();
  readonly #mempool = new Mempool();
  /** Txids whose rows are in simnet_mempool. */
  readonly #storedMempool = new Set<string>();
  #sequence = 0;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #tipListeners = new Set<(tip: { height: number; hash: string }) => void>();
  // Changes since the last write.
  #newBlocks: StoredBlock[] = [];
  #updatedBlocks = new Set<string>();

  private constructor(db: Database, clock: Clock) {
    this.#store = new SimnetStore(db);
    this.#clock = clock;
  }

  /** Opens the simnet stored in `db`, creating it (with the regtest genesis) when empty. */
  static async open(options: SimnetOptions): Promise<Simnet> {
    const simnet = new Simnet(options.db, options.clock);
    await simnet.#load();
    return simnet;
  }

  // ---------------------------------------------------------------- reading

  tip(): { height: number; hash: string } {
    const height = this.#active.length - 1;
    return { height, hash: this.#active[height]! };
  }

  get height(): number {
    return this.#active.length - 1;
  }

  /** Hash of the active chain's block at `height`, or undefined. */
  blockHashAt(height: number): string | undefined {
    return Number.isInteger(height) && height >= 0 ? this.#active[height] : undefined;
  }

  block(hash: string): BlockEntry | undefined {
    return this.#blocks.get(hash.toLowerCase());
  }

  isActive(hash: string): boolean {
    const entry = this.#blocks.get(hash);
    return entry !== undefined && this.#active[entry.height] === hash;
  }

  /** Confirmations as Bitcoin Core counts them: tip = 1, off the active chain = -1. */
  confirmations(hash: string): number {
    const entry = this.#blocks.get(hash);
    if (!entry || !this.isActive(hash)) return -1;
    return this.height - entry.height + 1;
  }

  /** The active chain's next block after `hash`, if any. */
  nextActive(hash: string): string | undefined {
    const entry = this.#blocks.get(hash);
    if (!entry || !this.isActive(hash)) return undefined;
    return this.#active[entry.height + 1];
  }

  /** BIP113 median time past: the median of the block's and its 10 predecessors' times. */
  medianTimePast(hash: string): number {
    const times: number[] = [];
    let current: BlockEntry | undefined = this.#blocks.get(hash);
    for (let i = 0; i < 11 && current; i++) {
      times.push(current.block.header.time);
      current = current.prevHash ? this.#blocks.get(current.prevHash) : undefined;
    }
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)]!;
  }

  /** A transaction from the mempool or the active chain. */
  transaction(txid: string): { tx: Tx; blockHash?: string } | undefined {
    const id = txid.toLowerCase();
    const entry = this.#mempool.get(id);
    if (entry) return { tx: entry.tx };
    const blockHash = this.#txIndex.get(id);
    if (!blockHash) return undefined;
    const tx = this.#blocks.get(blockHash)!.block.txs.find((candidate) => candidate.txid === id);
    return tx ? { tx, blockHash } : undefined;
  }

  /**
   * The output `txid:vout` as its transaction wrote it, from the mempool or any stored block
   * (a txid commits to its outputs, so any branch's copy is that output), with the height of
   * the block holding it (null in the mempool). Spent or not: this is how blocks are delivered
   * with their inputs' previous outputs.
   */
  previousOutput(
    txid: string,
    vout: number,
  ): { value: bigint; script: Uint8Array; height: number | null; coinbase: boolean } | undefined {
    const id = txid.toLowerCase();
    const tx = this.#findTxAnywhere(id);
    const output = tx?.outputs[vout];
    if (!tx || !output) return undefined;
    const blockHash = this.#txIndex.get(id);
    const height = blockHash ? (this.#blocks.get(blockHash)?.height ?? null) : null;
    return { value: output.value, script: output.script, height, coinbase: isCoinbase(tx) };
  }

  mempoolEntries(): MempoolEntry[] {
    return this.#mempool.ordered();
  }

  mempoolEntry(txid: string): MempoolEntry | undefined {
    return this.#mempool.get(txid);
  }

  mempoolTxids(): string[] {
    return this.#mempool.ordered().map((entry) => entry.tx.txid);
  }

  getUtxo(txid: string, vout: number): Coin | undefined {
    return this.#utxos.get(outpointKey(txid.toLowerCase(), vout));
  }

  utxoCount(): number {
    return this.#utxos.size;
  }

  /** Every UTXO, sorted by outpoint (for comparisons and snapshots). */
  allUtxos(): Utxo[] {
    return [...this.#utxos.entries()]
      .map(([key, coin]) => toUtxo(key, coin))
      .sort((a, b) => (a.txid === b.txid ? a.vout - b.vout : a.txid < b.txid ? -1 : 1));
  }

  /** Confirmed unspent outputs paying an address or an output script. */
  listUnspent(addressOrScript: string | Uint8Array): Utxo[] {
    const script =
      typeof addressOrScript === 'string'
        ? addressToScript(addressOrScript, this.network)
        : addressOrScript;
    const keys = this.#utxosByScript.get(scriptKey(script)) ?? new Set<string>();
    return [...keys]
      .map((key) => toUtxo(key, this.#utxos.get(key)!))
      .sort(
        (a, b) =>
          a.height - b.height || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout),
      );
  }

  /** The output script an address of this network pays to; throws INVALID_ADDRESS. */
  scriptForAddress(address: string): Uint8Array {
    return addressToScript(address, this.network);
  }

  /** Subscribes to tip changes; returns the unsubscribe function. */
  onTip(listener: (tip: { height: number; hash: string }) => void): () => void {
    this.#tipListeners.add(listener);
    return () => this.#tipListeners.delete(listener);
  }

  // ---------------------------------------------------------------- mempool

  /** Checks a transaction against the mempool's rules without adding it (testmempoolaccept). */
  testMempoolAccept(raw: Uint8Array): AcceptResult {
    const tx = parseOrReject(raw);
    try {
      const checked = this.#checkForMempool(tx);
      return { txid: tx.txid, wtxid: tx.wtxid, allowed: true, fee: checked.fee, vsize: tx.vsize };
    } catch (error) {
      return rejected(tx, error);
    }
  }

  /** Submits a transaction (sendrawtransaction); the result says whether it was accepted and why not. */
  submitTransaction(raw: Uint8Array): Promise<AcceptResult> {
    const tx = parseOrReject(raw);
    return this.#exclusive(() => {
      const result = this.#acceptToMempool(tx);
      return result;
    });
  }

  #acceptToMempool(tx: Tx, options: { limits?: boolean; time?: number } = {}): AcceptResult {
    try {
      const checked = this.#checkForMempool(tx, options);
      for (const txid of checked.evict) this.#mempool.remove(txid);
      this.#mempool.add(tx, checked.fee, options.time ?? this.#now(), this.height);
      return {
        txid: tx.txid,
        wtxid: tx.wtxid,
        allowed: true,
        fee: checked.fee,
        vsize: tx.vsize,
        replaced: checked.replaced,
      };
    } catch (error) {
      return rejected(tx, error);
    }
  }

  /**
   * Bitcoin Core's AcceptToMemoryPool checks, in its order (validation.cpp PreChecks,
   * ReplacementChecks, PolicyScriptChecks), with its reject reasons.
   */
  #checkForMempool(
    tx: Tx,
    options: { limits?: boolean } = {},
  ): { fee: bigint; evict: string[]; replaced: string[] } {
    const limits = options.limits ?? true;
    checkTransactionBasics(tx);
    if (isCoinbase(tx)) throw new Rejection('coinbase');
    // IsStandardTx
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
    if (!this.#isFinal(tx, this.height + 1)) throw new Rejection('non-final');
    if (this.#mempool.get(tx.txid)) {
      throw new Rejection(
        this.#mempool.get(tx.txid)!.tx.wtxid === tx.wtxid
          ? 'txn-already-in-mempool'
          : 'txn-same-nonwitness-data-in-mempool',
      );
    }
    // Conflicts with the mempool (BIP125 opt-in replacement, as Bitcoin Core before 28.0).
    const conflicts = new Set<string>();
    for (const input of tx.inputs) {
      const spender = this.#mempool.spenders.get(outpointKey(input.prevTxid, input.vout));
      if (spender) {
        if (!signalsRbf(this.#mempool.get(spender)!.tx))
          throw new Rejection('txn-mempool-conflict');
        conflicts.add(spender);
      }
    }
    // Inputs: from the UTXO set or from outputs of mempool transactions.
    const prevouts: Coin[] = [];
    const spendHeight = this.height + 1;
    for (const input of tx.inputs) {
      const key = outpointKey(input.prevTxid, input.vout);
      let coin = this.#utxos.get(key);
      if (!coin) {
        const parent = this.#mempool.get(input.prevTxid);
        const output = parent?.tx.outputs[input.vout];
        if (output)
          coin = {
            value: output.value,
            script: output.script,
            height: 0x7fffffff,
            coinbase: false,
          };
      }
      if (!coin) {
        // Outputs already in the UTXO set mean the transaction is confirmed (Core: txn-already-known).
        for (let vout = 0; vout < tx.outputs.length; vout++) {
          if (this.#utxos.has(outpointKey(tx.txid, vout))) {
            throw new Rejection('txn-already-known', undefined, 'already-in-chain');
          }
        }
        throw new Rejection('missing-inputs', undefined, 'missing-inputs');
      }
      prevouts.push(coin);
    }
    // Consensus::CheckTxInputs
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
    const fee = valueIn - valueOut;
    const minFee = feeFor(POLICY.minRelayFeeSatPerKvB, tx.vsize);
    if (limits && fee < minFee) throw new Rejection('min relay fee not met', `${fee} < ${minFee}`);
    // BIP125 replacement checks (policy/rbf.cpp).
    let evict: string[] = [];
    if (conflicts.size > 0) {
      const all = new Set<string>();
      for (const txid of conflicts) for (const id of this.#mempool.descendants(txid)) all.add(id);
      if (all.size > POLICY.maxReplacementEvictions) {
        throw new Rejection(
          'too many potential replacements',
          `rejecting replacement ${tx.txid}; too many potential replacements (${all.size} > ${POLICY.maxReplacementEvictions})`,
        );
      }
      const conflictInputs = new Set<string>();
      for (const txid of conflicts) {
        for (const input of this.#mempool.get(txid)!.tx.inputs) conflictInputs.add(input.prevTxid);
      }
      for (const input of tx.inputs) {
        if (all.has(input.prevTxid)) {
          throw new Rejection(
            'bad-txns-spends-conflicting-tx',
            `${tx.txid} spends conflicting transaction ${input.prevTxid}`,
          );
        }
        if (this.#mempool.get(input.prevTxid) && !conflictInputs.has(input.prevTxid)) {
          throw new Rejection(
            'replacement-adds-unconfirmed',
            `replacement ${tx.txid} adds unconfirmed input, idx ${tx.inputs.indexOf(input)}`,
          );
        }
      }
      for (const txid of conflicts) {
        const original = this.#mempool.get(txid)!;
        // Rule 6: a higher fee rate than each directly conflicting transaction (fee/vsize compared exactly).
        if (fee * BigInt(original.tx.vsize) <= original.fee * BigInt(tx.vsize)) {
          throw new Rejection(
            'insufficient fee',
            `rejecting replacement ${tx.txid}; new feerate ${rateText(fee, tx.vsize)} <= old feerate ${rateText(original.fee, original.tx.vsize)}`,
          );
        }
      }
      let evictedFees = 0n;
      for (const txid of all) evictedFees += this.#mempool.get(txid)!.fee;
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
      evict = [...all];
    }
    // Scripts last, as they are the expensive part.
    this.#checkScripts(tx, prevouts);
    return { fee, evict, replaced: [...conflicts] };
  }

  #checkScripts(tx: Tx, prevouts: readonly TxOutput[]): void {
    if (this.#verifiedScripts.has(tx.wtxid)) return;
    const failure = verifyInputs(tx, prevouts);
    if (failure) throw new Rejection(failure.reason, `input ${failure.inputIndex}`);
    this.#verifiedScripts.add(tx.wtxid);
  }

  /** IsFinalTx with BIP113: lock times by height compare with the block's height, by time with the tip's MTP. */
  #isFinal(tx: Tx, height: number): boolean {
    if (tx.lockTime === 0) return true;
    const limit = tx.lockTime < LOCKTIME_THRESHOLD ? height : this.medianTimePast(this.tip().hash);
    if (tx.lockTime < limit) return true;
    return tx.inputs.every((input) => input.sequence === SEQUENCE_FINAL);
  }

  // ---------------------------------------------------------------- mining

  /** The next block's transactions, best ancestor fee rate first, with their fees. */
  blockTemplate(): MempoolEntry[] {
    return this.#mempool.selectForBlock(
      REGTEST.maxBlockWeight - POLICY.coinbaseReservedWeight,
      (tx) => this.#isFinal(tx, this.height + 1),
    );
  }

  /** Mines `count` blocks on the tip from the mempool, the coinbase paying `payTo`; returns their hashes. */
  mine(count: number, payTo: string | Uint8Array): Promise<string[]> {
    checkCount(count);
    const script = this.#payToScript(payTo);
    return this.#exclusive(() => {
      const hashes: string[] = [];
      for (let i = 0; i < count; i++) {
        const template = this.blockTemplate();
        const fees = template.reduce((sum, entry) => sum + entry.fee, 0n);
        const block = this.#assemble(
          this.tip().hash,
          script,
          fees,
          template.map((entry) => entry.tx),
        );
        this.#addBlock(block);
        this.#activateBestChain();
        hashes.push(block.hash);
      }
      return hashes;
    });
  }

  /**
   * Mines `count` blocks on `parentHash` (any known block, making a competing branch), the first
   * of them holding `txs` (default: none). The branch becomes active when it has more work than
   * the active chain (Bitcoin Core's ActivateBestChain); if its transactions turn out invalid
   * there, its blocks are marked invalid and the previous chain stays.
   */
  mineOn(
    parentHash: string,
    count: number,
    payTo: string | Uint8Array,
    options: { txs?: readonly Uint8Array[] } = {},
  ): Promise<string[]> {
    checkCount(count);
    const script = this.#payToScript(payTo);
    const txs = (options.txs ?? []).map((raw) => parseOrReject(raw));
    return this.#exclusive(() => {
      let parent = this.#requireBlock(parentHash).hash;
      const hashes: string[] = [];
      for (let i = 0; i < count; i++) {
        const included = i === 0 ? txs : [];
        const fees = included.reduce((sum, tx) => sum + this.#feeAnywhere(tx), 0n);
        const block = this.#assemble(parent, script, fees, included);
        this.#addBlock(block);
        hashes.push(block.hash);
        parent = block.hash;
      }
      this.#activateBestChain();
      return hashes;
    });
  }

  /**
   * Marks a block and its descendants invalid (Bitcoin Core's invalidateblock): if they are on
   * the active chain they are disconnected, their transactions go back to the mempool where still
   * valid, and the most-work valid chain becomes active.
   */
  invalidateBlock(hash: string): Promise<void> {
    return this.#exclusive(() => {
      const entry = this.#requireBlock(hash);
      if (entry.height === 0)
        throw new AppError('VALIDATION_FAILED', 'hash: the genesis block cannot be invalidated');
      this.#markInvalid(entry.hash);
      this.#activateBestChain();
    });
  }

  /** Removes the invalid mark from a block, its ancestors and descendants (reconsiderblock). */
  reconsiderBlock(hash: string): Promise<void> {
    return this.#exclusive(() => {
      const entry = this.#requireBlock(hash);
      const marks = new Set([...this.#descendants(entry.hash)]);
      for (
        let current: BlockEntry | undefined = entry;
        current;
        current = current.prevHash ? this.#blocks.get(current.prevHash) : undefined
      ) {
        marks.add(current.hash);
      }
      for (const id of marks) {
        const block = this.#blocks.get(id)!;
        if (block.status === 'invalid') this.#setStatus(block, 'unchecked');
      }
      this.#activateBestChain();
    });
  }

  /**
   * A fee-rate estimate in sat/kvB to confirm within `targetBlocks`: when the mempool holds more
   * than `targetBlocks` blocks' worth of transactions, the rate at that depth; otherwise the
   * median fee rate paid in the last `max(targetBlocks, 6)` blocks, at least the minimum relay
   * fee. Null when there is no data (no mempool and no fee-paying transaction in those blocks).
   */
  estimateFeeRateSatPerKvB(targetBlocks: number): bigint | null {
    const capacity = (REGTEST.maxBlockWeight - POLICY.coinbaseReservedWeight) * targetBlocks;
    const pending = this.#mempool.selectForBlock(Number.MAX_SAFE_INTEGER, () => true);
    let weight = 0;
    for (const entry of pending) {
      weight += entry.tx.weight;
      if (weight > capacity)
        return maxBig((entry.fee * 1000n) / BigInt(entry.tx.vsize), POLICY.minRelayFeeSatPerKvB);
    }
    const rates: bigint[] = [];
    const depth = Math.max(targetBlocks, 6);
    for (let height = this.height; height > 0 && height > this.height - depth; height--) {
      const entry = this.#blocks.get(this.#active[height]!)!;
      entry.block.txs.forEach((tx, i) => {
        const fee = entry.fees?.[i];
        if (i > 0 && fee !== undefined) rates.push((fee * 1000n) / BigInt(tx.vsize));
      });
    }
    for (const entry of pending) rates.push((entry.fee * 1000n) / BigInt(entry.tx.vsize));
    if (rates.length === 0) return null;
    rates.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return maxBig(rates[Math.floor(rates.length / 2)]!, POLICY.minRelayFeeSatPerKvB);
  }

  // ---------------------------------------------------------------- internals

  #now(): number {
    return Math.floor(this.#clock.now().getTime() / 1000);
  }

  #payToScript(payTo: string | Uint8Array): Uint8Array {
    return typeof payTo === 'string' ? addressToScript(payTo, this.network) : payTo;
  }

  #requireBlock(hash: string): BlockEntry {
    fromReversedHex(hash, 'blockhash');
    const entry = this.#blocks.get(hash.toLowerCase());
    if (!entry) throw new AppError('BLOCK_NOT_FOUND', `no simnet block with hash ${hash}`);
    return entry;
  }

  /** The fee of a transaction whose inputs are in any known block or the mempool. */
  #feeAnywhere(tx: Tx): bigint {
    let valueIn = 0n;
    for (const input of tx.inputs) {
      const source = this.#findTxAnywhere(input.prevTxid);
      const output = source?.outputs[input.vout];
      if (!output) {
        throw new AppError(
          'VALIDATION_FAILED',
          `txs: input ${input.prevTxid}:${input.vout} of ${tx.txid} is not in any simnet block or the mempool`,
        );
      }
      valueIn += output.value;
    }
    const valueOut = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
    if (valueIn < valueOut)
      throw new AppError(
        'VALIDATION_FAILED',
        `txs: ${tx.txid} spends more than its inputs (bad-txns-in-belowout)`,
      );
    return valueIn - valueOut;
  }

  #findTxAnywhere(txid: string): Tx | undefined {
    const pooled = this.#mempool.get(txid);
    if (pooled) return pooled.tx;
    const indexed = this.#txIndex.get(txid);
    if (indexed) return this.#blocks.get(indexed)!.block.txs.find((tx) => tx.txid === txid);
    for (const entry of this.#blocks.values()) {
      const tx = entry.block.txs.find((candidate) => candidate.txid === txid);
      if (tx) return tx;
    }
    return undefined;
  }

  #assemble(parentHash: string, payTo: Uint8Array, fees: bigint, txs: readonly Tx[]): Block {
    const parent = this.#blocks.get(parentHash)!;
    const height = parent.height + 1;
    // Strictly increasing times keep every block above its median time past (BIP113).
    const time = Math.max(this.#now(), parent.block.header.time + 1);
    return assembleBlock({
      prevHash: fromReversedHex(parent.hash),
      height,
      time,
      payTo,
      coinbaseValue: blockSubsidy(height) + fees,
      txs,
      // Distinguishes blocks of competing branches at one height paying one address.
      extraNonce: this.#sequence,
    });
  }

  /** Stores a block in the index (checks that need no UTXO set: PoW, merkle roots, coinbase shape). */
  #addBlock(block: Block, status: BlockStatus = 'unchecked', persist = true): BlockEntry {
    if (this.#blocks.has(block.hash)) return this.#blocks.get(block.hash)!;
    const prevHash = toReversedHex(block.header.prevHash);
    const isGenesis = block.hash === REGTEST.genesisHash;
    const parent = isGenesis ? undefined : this.#blocks.get(prevHash);
    if (!isGenesis && !parent)
      throw new AppError(
        'INVALID_BLOCK',
        `block ${block.hash}: previous block ${prevHash} is unknown`,
      );
    checkBlockContext(block);
    const entry: BlockEntry = {
      hash: block.hash,
      height: parent ? parent.height + 1 : 0,
      prevHash: parent ? prevHash : null,
      block,
      chainWork: (parent?.chainWork ?? 0n) + blockWork(block.header.bits),
      status: parent?.status === 'invalid' ? 'invalid' : status,
      sequence: this.#sequence++,
    };
    if (parent && block.header.time <= this.medianTimePast(parent.hash)) {
      throw new AppError(
        'INVALID_BLOCK',
        `block ${block.hash}: time-too-old (not above the median time past)`,
      );
    }
    this.#blocks.set(entry.hash, entry);
    if (entry.prevHash) {
      let siblings = this.#children.get(entry.prevHash);
      if (!siblings) this.#children.set(entry.prevHash, (siblings = new Set()));
      siblings.add(entry.hash);
    }
    if (persist) {
      this.#newBlocks.push({
        hash: entry.hash,
        height: entry.height,
        prevHash: entry.prevHash,
        raw: block.raw,
        active: false,
        status: entry.status,
      });
    }
    return entry;
  }

  #descendants(hash: string): string[] {
    const out: string[] = [];
    const stack = [hash];
    while (stack.length > 0) {
      const current = stack.pop()!;
      out.push(current);
      for (const child of this.#children.get(current) ?? []) stack.push(child);
    }
    return out;
  }

  #markInvalid(hash: string): void {
    for (const id of this.#descendants(hash)) this.#setStatus(this.#blocks.get(id)!, 'invalid');
  }

  #setStatus(entry: BlockEntry, status: BlockStatus): void {
    if (entry.status === status) return;
    entry.status = status;
    this.#updatedBlocks.add(entry.hash);
  }

  /** The most-work block not known invalid; ties go to the current tip, then the first seen. */
  #bestCandidate(): BlockEntry {
    let best = this.#blocks.get(this.tip().hash)!;
    if (best.status === 'invalid') best = this.#blocks.get(this.#active[0]!)!;
    for (const entry of this.#blocks.values()) {
      if (entry.status === 'invalid') continue;
      if (
        entry.chainWork > best.chainWork ||
        (entry.chainWork === best.chainWork &&
          entry.sequence < best.sequence &&
          !this.isActive(best.hash))
      ) {
        best = entry;
      }
    }
    return best;
  }

  /**
   * Bitcoin Core's ActivateBestChain: disconnect to the fork point, connect the best branch
   * block by block; a block that fails is marked invalid (with its descendants) and the search
   * starts again. Transactions of disconnected blocks, then the old mempool, are offered to the
   * mempool again (UpdateMempoolForReorg); those no longer valid are dropped.
   */
  #activateBestChain(): void {
    const oldTip = this.tip().hash;
    const resubmit: Tx[][] = [];
    let reorganized = false;
    for (;;) {
      if (this.#blocks.get(this.tip().hash)!.status === 'invalid') {
        resubmit.unshift(this.#disconnectTip());
        reorganized = true;
        continue;
      }
      const best = this.#bestCandidate();
      if (best.hash === this.tip().hash) break;
      // Path from the fork point to the candidate.
      const path: BlockEntry[] = [];
      let cursor: BlockEntry | undefined = best;
      while (cursor && !this.isActive(cursor.hash)) {
        path.unshift(cursor);
        cursor = cursor.prevHash ? this.#blocks.get(cursor.prevHash) : undefined;
      }
      const fork = cursor!;
      while (this.height > fork.height) {
        resubmit.unshift(this.#disconnectTip());
        reorganized = true;
      }
      for (const entry of path) {
        try {
          this.#connectTip(entry, true);
        } catch (error) {
          if (!(error instanceof BlockInvalid)) throw error;
          this.#markInvalid(entry.hash);
          break;
        }
      }
    }
    if (reorganized) {
      // Disconnected blocks' transactions first (oldest block first), then what was waiting.
      const waiting = this.#mempool.clear().map((entry) => ({ tx: entry.tx, time: entry.time }));
      const candidates = [...resubmit.flat().map((tx) => ({ tx, time: undefined })), ...waiting];
      for (const { tx, time } of candidates) {
        this.#acceptToMempool(tx, time === undefined ? { limits: false } : { limits: false, time });
      }
    }
    if (this.tip().hash !== oldTip) {
      const tip = this.tip();
      for (const listener of this.#tipListeners) {
        try {
          listener(tip);
        } catch {
          // A listener's failure must not break the chain.
        }
      }
    }
  }

  /**
   * ConnectBlock: spends and creates coins, checking inputs, maturity, amounts, lock times,
   * scripts (unless already verified in the mempool) and the coinbase amount.
   */
  #connectTip(entry: BlockEntry, verifyScripts: boolean): void {
    const block = entry.block;
    const height = entry.height;
    const undo: Coin[][] = [];
    const fees: bigint[] = [];
    const spent: [string, Coin][] = [];
    const created: string[] = [];
    try {
      let totalFees = 0n;
      block.txs.forEach((tx, index) => {
        if (index === 0) {
          undo.push([]);
          fees.push(0n);
          return;
        }
        if (!this.#isFinal(tx, height)) throw new BlockInvalid('bad-txns-nonfinal');
        const coins: Coin[] = [];
        for (const input of tx.inputs) {
          const key = outpointKey(input.prevTxid, input.vout);
          const coin = this.#utxos.get(key);
          if (!coin) throw new BlockInvalid(`bad-txns-inputs-missingorspent (${tx.txid})`);
          if (coin.coinbase && height - coin.height < REGTEST.coinbaseMaturity) {
            throw new BlockInvalid('bad-txns-premature-spend-of-coinbase');
          }
          this.#removeCoin(key);
          spent.push([key, coin]);
          coins.push(coin);
        }
        const valueIn = coins.reduce((sum, coin) => sum + coin.value, 0n);
        const valueOut = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
        if (valueIn < valueOut) throw new BlockInvalid('bad-txns-in-belowout');
        if (verifyScripts && !this.#verifiedScripts.has(tx.wtxid)) {
          const failure = verifyInputs(tx, coins);
          if (failure) throw new BlockInvalid(failure.reason);
          this.#verifiedScripts.add(tx.wtxid);
        }
        undo.push(coins);
        fees.push(valueIn - valueOut);
        totalFees += valueIn - valueOut;
        created.push(...this.#addOutputs(tx, height));
      });
      const coinbase = block.txs[0]!;
      const claimed = coinbase.outputs.reduce((sum, output) => sum + output.value, 0n);
      if (claimed > blockSubsidy(height) + totalFees) throw new BlockInvalid('bad-cb-amount');
      checkBip34(coinbase, height);
      created.push(...this.#addOutputs(coinbase, height));
    } catch (error) {
      for (const key of created) this.#removeCoin(key);
      for (const [key, coin] of spent) this.#addCoin(key, coin);
      throw error;
    }
    entry.undo = undo;
    entry.fees = fees;
    this.#active.push(entry.hash);
    for (const tx of block.txs) this.#txIndex.set(tx.txid, entry.hash);
    if (entry.status !== 'valid') this.#setStatus(entry, 'valid');
    this.#updatedBlocks.add(entry.hash);
    // Confirmed transactions leave the mempool, and so do those spending the same coins (and their descendants).
    for (const tx of block.txs.slice(1)) {
      this.#mempool.remove(tx.txid);
      for (const input of tx.inputs) {
        const spender = this.#mempool.spenders.get(outpointKey(input.prevTxid, input.vout));
        if (spender) this.#mempool.removeWithDescendants(spender);
      }
    }
  }

  #disconnectTip(): Tx[] {
    const entry = this.#blocks.get(this.tip().hash)!;
    if (entry.height === 0) throw new Error('cannot disconnect the genesis block');
    const undo = entry.undo!;
    const txs = entry.block.txs;
    for (let index = txs.length - 1; index >= 0; index--) {
      const tx = txs[index]!;
      for (let vout = 0; vout < tx.outputs.length; vout++)
        this.#removeCoin(outpointKey(tx.txid, vout));
      const coins = undo[index]!;
      tx.inputs.forEach((input, i) => {
        if (index > 0) this.#addCoin(outpointKey(input.prevTxid, input.vout), coins[i]!);
      });
      if (this.#txIndex.get(tx.txid) === entry.hash) this.#txIndex.delete(tx.txid);
    }
    delete entry.undo;
    this.#active.pop();
    this.#updatedBlocks.add(entry.hash);
    return txs.slice(1);
  }

  #addOutputs(tx: Tx, height: number): string[] {
    const coinbase = isCoinbase(tx);
    const keys: string[] = [];
    tx.outputs.forEach((output, vout) => {
      // Provably unspendable outputs (OP_RETURN) never enter the UTXO set.
      if (output.script[0] === 0x6a) return;
      const key = outpointKey(tx.txid, vout);
      this.#addCoin(key, { value: output.value, script: output.script, height, coinbase });
      keys.push(key);
    });
    return keys;
  }

  #addCoin(key: string, coin: Coin): void {
    this.#utxos.set(key, coin);
    const byScript = scriptKey(coin.script);
    let keys = this.#utxosByScript.get(byScript);
    if (!keys) this.#utxosByScript.set(byScript, (keys = new Set()));
    keys.add(key);
  }

  #removeCoin(key: string): void {
    const coin = this.#utxos.get(key);
    if (!coin) return;
    this.#utxos.delete(key);
    const byScript = scriptKey(coin.script);
    const keys = this.#utxosByScript.get(byScript);
    keys?.delete(key);
    if (keys?.size === 0) this.#utxosByScript.delete(byScript);
  }

  /** Runs one operation at a time, then writes what it changed. */
  #exclusive<T>(operation: () => T): Promise<T> {
    const run = this.#queue.then(async () => {
      try {
        return operation();
      } finally {
        await this.#flush();
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #flush(): Promise<void> {
    const newBlocks = this.#newBlocks;
    const newHashes = new Set(newBlocks.map((block) => block.hash));
    const updatedBlocks = [...this.#updatedBlocks]
      .filter((hash) => !newHashes.has(hash))
      .map((hash) => {
        const entry = this.#blocks.get(hash)!;
        return { hash, active: this.isActive(hash), status: entry.status };
      });
    const finalNew = newBlocks.map((block) => {
      const entry = this.#blocks.get(block.hash)!;
      return { ...block, active: this.isActive(block.hash), status: entry.status };
    });
    this.#newBlocks = [];
    this.#updatedBlocks = new Set();
    const touched = this.#mempool.drainChanges();
    // Only rows already stored need deleting; new ones are inserted in arrival order.
    const stale = touched.filter((txid) => this.#storedMempool.has(txid));
    const added = touched
      .map((txid) => this.#mempool.get(txid))
      .filter((entry): entry is MempoolEntry => entry !== undefined)
      .sort((a, b) => a.sequence - b.sequence)
      .map((entry) => ({ txid: entry.tx.txid, raw: entry.tx.raw, time: entry.time }));
    for (const txid of stale) this.#storedMempool.delete(txid);
    for (const entry of added) this.#storedMempool.add(entry.txid);
    await this.#store.write({
      newBlocks: finalNew,
      updatedBlocks,
      mempoolTouched: stale,
      mempoolAdded: added,
    });
  }

  async #load(): Promise<void> {
    const stored = await this.#store.loadBlocks();
    if (stored.length === 0) {
      const genesis = regtestGenesis();
      const entry = this.#addBlock(genesis, 'valid');
      // The genesis coinbase is not spendable (Bitcoin Core never adds it to the UTXO set).
      entry.undo = [[]];
      entry.fees = [0n];
      this.#active.push(entry.hash);
      this.#txIndex.set(genesis.txs[0]!.txid, entry.hash);
      this.#updatedBlocks.add(entry.hash);
      await this.#flush();
      return;
    }
    // Parents sort before children by height; within a height, arrival order is kept.
    const ordered = [...stored].sort((a, b) => a.height - b.height);
    for (const row of ordered) {
      const block = parseBlock(row.raw);
      if (block.hash !== row.hash)
        throw new Error(`simnet block ${row.hash} does not hash to its key`);
      this.#addBlock(block, row.status, false);
    }
    const active = ordered.filter((row) => row.active);
    for (const [height, row] of active.entries()) {
      if (row.height !== height)
        throw new Error(`simnet active chain has a gap at height ${height}`);
      const entry = this.#blocks.get(row.hash)!;
      if (height === 0) {
        entry.undo = [[]];
        entry.fees = [0n];
        this.#active.push(entry.hash);
        this.#txIndex.set(entry.block.txs[0]!.txid, entry.hash);
        continue;
      }
      // Replay: these blocks were verified when first connected.
      this.#connectTip(entry, false);
    }
    this.#updatedBlocks = new Set();
    // Mempool: accept again in arrival order, retrying those whose parents came later (after a reorg).
    const storedRows = await this.#store.loadMempool();
    for (const row of storedRows) this.#storedMempool.add(row.txid);
    let pending = storedRows.map((row) => ({ tx: parseTx(row.raw), time: row.time }));
    while (pending.length > 0) {
      const retry: typeof pending = [];
      for (const item of pending) {
        const result = this.#acceptToMempool(item.tx, { limits: false, time: item.time });
        if (!result.allowed && result.rejectKind === 'missing-inputs') retry.push(item);
      }
      if (retry.length === pending.length) break;
      pending = retry;
    }
    this.#mempool.drainChanges();
    // Anything that no longer validates is dropped from storage too.
    const kept = new Set(this.mempoolTxids());
    const stale = storedRows.filter((row) => !kept.has(row.txid)).map((row) => row.txid);
    for (const txid of stale) this.#storedMempool.delete(txid);
    await this.#store.write({
      newBlocks: [],
      updatedBlocks: [],
      mempoolTouched: stale,
      mempoolAdded: [],
    });
  }
}

function toUtxo(key: string, coin: Coin): Utxo {
  const separator = key.indexOf(':');
  return { txid: key.slice(0, separator), vout: Number(key.slice(separator + 1)), ...coin };
}

function scriptKey(script: Uint8Array): string {
  return Buffer.from(script).toString('hex');
}

function rejected(tx: Tx, error: unknown): AcceptResult {
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

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 0 || count > 10_000) {
    throw new AppError(
      'VALIDATION_FAILED',
      `count must be an integer from 0 to 10000, got ${count}`,
      {
        issues: [{ field: 'count', message: 'out of range' }],
      },
    );
  }
}

function maxBig(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
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

/** CheckBlock's context-free parts: proof of work, merkle root, one coinbase first, witness commitment, weight. */
function checkBlockContext(block: Block): void {
  const fail = (reason: string) => new AppError('INVALID_BLOCK', `block ${block.hash}: ${reason}`);
  if (block.header.bits !== REGTEST.bits) throw fail('bad-diffbits');
  if (!hashMeetsTarget(headerHash(block.header), block.header.bits)) throw fail('high-hash');
  if (block.txs.length === 0 || !isCoinbase(block.txs[0]!)) throw fail('bad-cb-missing');
  if (block.txs.slice(1).some(isCoinbase)) throw fail('bad-cb-multiple');
  const txids = new Set(block.txs.map((tx) => tx.txid));
  if (txids.size !== block.txs.length) throw fail('bad-txns-duplicate');
  if (!equalBytes(merkleRoot(block.txs.map((tx) => tx.txidBytes)), block.header.merkleRoot)) {
    throw fail('bad-txnmrklroot');
  }
  if (block.weight > REGTEST.maxBlockWeight) throw fail('bad-blk-weight');
  // BIP141: when any transaction has witness data, the coinbase must commit to it.
  const commitment = findWitnessCommitment(block.txs[0]!);
  if (commitment) {
    const reserved = block.txs[0]!.inputs[0]!.witness;
    if (reserved.length !== 1 || reserved[0]!.length !== 32) throw fail('bad-witness-nonce-size');
    if (!equalBytes(witnessCommitment(witnessMerkleRoot(block.txs), reserved[0]!), commitment)) {
      throw fail('bad-witness-merkle-match');
    }
  } else if (block.txs.some((tx) => tx.hasWitness)) {
    throw fail('unexpected-witness');
  }
}

/** BIP34: the coinbase scriptSig starts with the block height. */
function checkBip34(coinbase: Tx, height: number): void {
  const expected = pushNumber(height);
  const scriptSig = coinbase.inputs[0]!.scriptSig;
  if (
    scriptSig.length < expected.length ||
    !equalBytes(scriptSig.subarray(0, expected.length), expected)
  ) {
    throw new BlockInvalid('bad-cb-height');
  }
}

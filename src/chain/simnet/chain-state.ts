import { AppError } from '../../kernel';
import {
  blockHashBytes,
  equalBytes,
  merkleRoot,
  toReversedHex,
  witnessCommitment,
  witnessMerkleRoot,
} from '../../bitcoin';
import { blockSubsidy, blockWork, hashMeetsTarget, REGTEST } from './consensus';
import { findWitnessCommitment, isCoinbase, type Block, type Tx } from './model';
import { outpointKey } from './mempool';
import { pushNumber } from './script';
import type { BlockStatus, StoredBlock } from './store';
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

/** What ActivateBestChain did: the disconnected blocks' transactions, oldest block first. */
export interface Activation {
  readonly reorganized: boolean;
  readonly disconnected: readonly Tx[];
}

const LOCKTIME_THRESHOLD = 500_000_000;
const SEQUENCE_FINAL = 0xffffffff;

class BlockInvalid extends Error {}

/**
 * The simnet's chain state: the block index (every branch), the active chain, the UTXO set (by
 * outpoint and by script) and the active chain's transaction index. It connects and disconnects
 * blocks and finds the best chain; it knows nothing of the mempool, which hears of confirmed
 * transactions through `confirmed`. What changed since the last `takeChanges()` is kept for
 * persistence.
 */
export class ChainState {
  readonly #blocks = new Map<string, BlockEntry>();
  /** Children of each block hash, for finding descendants and branch tips. */
  readonly #children = new Map<string, Set<string>>();
  readonly #active: string[] = [];
  readonly #utxos = new Map<string, Coin>();
  readonly #utxosByScript = new Map<string, Set<string>>();
  /** Active chain transaction index: txid → block hash. */
  readonly #txIndex = new Map<string, string>();
  /** wtxids whose scripts verified (Bitcoin Core's script execution cache), so blocks need not re-verify them. */
  readonly verifiedScripts = new Set<string>();
  #sequence = 0;
  // Changes since the last takeChanges().
  #newBlocks: StoredBlock[] = [];
  #updatedBlocks = new Set<string>();

  constructor(private readonly confirmed: (txs: readonly Tx[]) => void) {}

  // ---------------------------------------------------------------- reading

  tip(): { height: number; hash: string } {
    const height = this.#active.length - 1;
    return { height, hash: this.#active[height]! };
  }

  get height(): number {
    return this.#active.length - 1;
  }

  /** Blocks seen so far, which also tells branches assembled on one parent apart. */
  get sequence(): number {
    return this.#sequence;
  }

  blockHashAt(height: number): string | undefined {
    return Number.isInteger(height) && height >= 0 ? this.#active[height] : undefined;
  }

  block(hash: string): BlockEntry | undefined {
    return this.#blocks.get(hash);
  }

  blocks(): IterableIterator<BlockEntry> {
    return this.#blocks.values();
  }

  isActive(hash: string): boolean {
    const entry = this.#blocks.get(hash);
    return entry !== undefined && this.#active[entry.height] === hash;
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

  /** The active chain's block holding `txid`. */
  blockOf(txid: string): string | undefined {
    return this.#txIndex.get(txid);
  }

  coin(key: string): Coin | undefined {
    return this.#utxos.get(key);
  }

  hasCoin(key: string): boolean {
    return this.#utxos.has(key);
  }

  get coinCount(): number {
    return this.#utxos.size;
  }

  /** Every UTXO, sorted by outpoint (for comparisons and snapshots). */
  allUtxos(): Utxo[] {
    return [...this.#utxos.entries()]
      .map(([key, coin]) => toUtxo(key, coin))
      .sort((a, b) => (a.txid === b.txid ? a.vout - b.vout : a.txid < b.txid ? -1 : 1));
  }

  /** Unspent outputs paying `script`, oldest first. */
  utxosPaying(script: Uint8Array): Utxo[] {
    const keys = this.#utxosByScript.get(scriptKey(script)) ?? new Set<string>();
    return [...keys]
      .map((key) => toUtxo(key, this.#utxos.get(key)!))
      .sort(
        (a, b) =>
          a.height - b.height || (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout),
      );
  }

  /** IsFinalTx with BIP113: lock times by height compare with the block's height, by time with the tip's MTP. */
  isFinal(tx: Tx, height: number): boolean {
    if (tx.lockTime === 0) return true;
    const limit = tx.lockTime < LOCKTIME_THRESHOLD ? height : this.medianTimePast(this.tip().hash);
    if (tx.lockTime < limit) return true;
    return tx.inputs.every((input) => input.sequence === SEQUENCE_FINAL);
  }

  // ---------------------------------------------------------------- the block index

  /** Stores a block in the index (checks that need no UTXO set: PoW, merkle roots, coinbase shape). */
  addBlock(block: Block, status: BlockStatus = 'unchecked', persist = true): BlockEntry {
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
    this.#index(entry);
    if (persist) {
      const { hash, height, prevHash } = entry;
      this.#newBlocks.push({
        hash,
        height,
        prevHash,
        raw: block.raw,
        active: false,
        status: entry.status,
      });
    }
    return entry;
  }

  #index(entry: BlockEntry): void {
    this.#blocks.set(entry.hash, entry);
    if (!entry.prevHash) return;
    let siblings = this.#children.get(entry.prevHash);
    if (!siblings) this.#children.set(entry.prevHash, (siblings = new Set()));
    siblings.add(entry.hash);
  }

  /** Connects the genesis block; its coinbase is not spendable (Bitcoin Core never adds it to the UTXO set). */
  connectGenesis(entry: BlockEntry): void {
    entry.undo = [[]];
    entry.fees = [0n];
    this.#active.push(entry.hash);
    this.#txIndex.set(entry.block.txs[0]!.txid, entry.hash);
  }

  descendants(hash: string): string[] {
    const out: string[] = [];
    const stack = [hash];
    while (stack.length > 0) {
      const current = stack.pop()!;
      out.push(current);
      for (const child of this.#children.get(current) ?? []) stack.push(child);
    }
    return out;
  }

  markInvalid(hash: string): void {
    for (const id of this.descendants(hash)) this.setStatus(this.#blocks.get(id)!, 'invalid');
  }

  setStatus(entry: BlockEntry, status: BlockStatus): void {
    if (entry.status === status) return;
    entry.status = status;
    this.#updatedBlocks.add(entry.hash);
  }

  /** Marks a block changed (written at the next flush). */
  touch(hash: string): void {
    this.#updatedBlocks.add(hash);
  }

  /** New blocks and changed block hashes since the last call. */
  takeChanges(): { newBlocks: StoredBlock[]; updated: Set<string> } {
    const changes = { newBlocks: this.#newBlocks, updated: this.#updatedBlocks };
    this.#newBlocks = [];
    this.#updatedBlocks = new Set();
    return changes;
  }

  // ---------------------------------------------------------------- the best chain

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
   * starts again. The caller offers the disconnected transactions to the mempool again.
   */
  activateBestChain(): Activation {
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
      const { fork, path } = this.#branchTo(best);
      while (this.height > fork.height) {
        resubmit.unshift(this.#disconnectTip());
        reorganized = true;
      }
      for (const entry of path) {
        try {
          this.connectTip(entry, true);
        } catch (error) {
          if (!(error instanceof BlockInvalid)) throw error;
          this.markInvalid(entry.hash);
          break;
        }
      }
    }
    return { reorganized, disconnected: resubmit.flat() };
  }

  /** The fork point with the active chain and the path from it to `tip`. */
  #branchTo(tip: BlockEntry): { fork: BlockEntry; path: BlockEntry[] } {
    const path: BlockEntry[] = [];
    let cursor: BlockEntry | undefined = tip;
    while (cursor && !this.isActive(cursor.hash)) {
      path.unshift(cursor);
      cursor = cursor.prevHash ? this.#blocks.get(cursor.prevHash) : undefined;
    }
    return { fork: cursor!, path };
  }

  /**
   * ConnectBlock: spends and creates coins, checking inputs, maturity, amounts, lock times,
   * scripts (unless already verified in the mempool) and the coinbase amount.
   */
  connectTip(entry: BlockEntry, verifyScripts: boolean): void {
    const block = entry.block;
    const height = entry.height;
    const undo: Coin[][] = [[]];
    const fees: bigint[] = [0n];
    const spent: [string, Coin][] = [];
    const created: string[] = [];
    try {
      for (const tx of block.txs.slice(1)) {
        const coins = this.#spendInputs(tx, height, spent);
        const fee = this.#checkSpend(tx, coins, verifyScripts);
        undo.push(coins);
        fees.push(fee);
        created.push(...this.#addOutputs(tx, height));
      }
      const coinbase = block.txs[0]!;
      const totalFees = fees.reduce((sum, fee) => sum + fee, 0n);
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
    if (entry.status !== 'valid') this.setStatus(entry, 'valid');
    this.#updatedBlocks.add(entry.hash);
    this.confirmed(block.txs.slice(1));
  }

  /** Spends a block transaction's inputs (recorded in `spent` for rolling back); returns their coins. */
  #spendInputs(tx: Tx, height: number, spent: [string, Coin][]): Coin[] {
    if (!this.isFinal(tx, height)) throw new BlockInvalid('bad-txns-nonfinal');
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
    return coins;
  }

  /** Amounts and scripts of a block transaction; returns its fee. */
  #checkSpend(tx: Tx, coins: readonly Coin[], verifyScripts: boolean): bigint {
    const valueIn = coins.reduce((sum, coin) => sum + coin.value, 0n);
    const valueOut = tx.outputs.reduce((sum, output) => sum + output.value, 0n);
    if (valueIn < valueOut) throw new BlockInvalid('bad-txns-in-belowout');
    if (verifyScripts && !this.verifiedScripts.has(tx.wtxid)) {
      const failure = verifyInputs(tx, coins);
      if (failure) throw new BlockInvalid(failure.reason);
      this.verifiedScripts.add(tx.wtxid);
    }
    return valueIn - valueOut;
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

  // ---------------------------------------------------------------- the UTXO set

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
}

function toUtxo(key: string, coin: Coin): Utxo {
  const separator = key.indexOf(':');
  return { txid: key.slice(0, separator), vout: Number(key.slice(separator + 1)), ...coin };
}

function scriptKey(script: Uint8Array): string {
  return Buffer.from(script).toString('hex');
}

/** CheckBlock's context-free parts: proof of work, merkle root, one coinbase first, witness commitment, weight. */
function checkBlockContext(block: Block): void {
  const fail = (reason: string) => new AppError('INVALID_BLOCK', `block ${block.hash}: ${reason}`);
  if (block.header.bits !== REGTEST.bits) throw fail('bad-diffbits');
  if (!hashMeetsTarget(blockHashBytes(block.header), block.header.bits)) throw fail('high-hash');
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
    if (
      !equalBytes(
        witnessCommitment(witnessMerkleRoot(block.txs.map((tx) => tx.wtxidBytes)), reserved[0]!),
        commitment,
      )
    ) {
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

import { AppError, isAppError, type Clock, type NetworkName } from '../../kernel';
import type { Database } from '../../db';
import { fromReversedHex } from '../../bitcoin';
import { ChainState, type BlockEntry, type Coin, type Utxo } from './chain-state';
import { isCoinbase, parseTx, type Tx } from './model';
import { Mempool, outpointKey, type MempoolEntry } from './mempool';
import { checkForMempool, rejected, type AcceptResult } from './mempool-policy';
import {
  assemble,
  blockTemplate,
  checkCount,
  estimateFeeRate,
  feeAnywhere,
  findTxAnywhere,
} from './miner';
import { SimnetPersistence } from './persistence';
import { addressToScript } from './script';

export type { BlockEntry, Coin, Utxo } from './chain-state';
export { POLICY, dustThreshold, type AcceptResult } from './mempool-policy';

export interface SimnetOptions {
  readonly db: Database;
  readonly clock: Clock;
}

function parseOrReject(raw: Uint8Array): Tx {
  try {
    return parseTx(raw);
  } catch (cause) {
    throw new AppError(
      'VALIDATION_FAILED',
      `rawTx could not be decoded as a transaction: ${isAppError(cause) ? cause.message : String(cause)}`,
      { issues: [{ field: 'rawTx', message: 'TX decode failed' }] },
    );
  }
}

/**
 * Simnet: an in-process regtest-like Bitcoin chain with real consensus serialization, proof of
 * work at regtest difficulty, a UTXO set, a policy-checking mempool and injectable reorgs,
 * persisted in the Tradeclear database.
 *
 * The seams: `ChainState` (block index, active chain, UTXO set; connecting blocks), the mempool
 * policy (`checkForMempool`, Bitcoin Core's acceptance rules), the miner (templates, assembling
 * blocks, fee estimates) and `SimnetPersistence` (writing changes, loading on open). This class
 * puts them together behind one queue.
 *
 * Operations are serialized (one at a time); each one's changes are written in one database
 * transaction before it returns.
 */
export class Simnet {
  readonly network: NetworkName = 'regtest';
  readonly #persistence: SimnetPersistence;
  readonly #clock: Clock;
  readonly #mempool = new Mempool();
  readonly #chain = new ChainState((txs) => this.#removeConfirmed(txs));
  #queue: Promise<unknown> = Promise.resolve();
  readonly #tipListeners = new Set<(tip: { height: number; hash: string }) => void>();

  private constructor(db: Database, clock: Clock) {
    this.#persistence = new SimnetPersistence(db);
    this.#clock = clock;
  }

  /** Opens the simnet stored in `db`, creating it (with the regtest genesis) when empty. */
  static async open(options: SimnetOptions): Promise<Simnet> {
    const simnet = new Simnet(options.db, options.clock);
    await simnet.#persistence.load(simnet.#chain, simnet.#mempool, (tx, time) =>
      simnet.#acceptToMempool(tx, { limits: false, time }),
    );
    return simnet;
  }

  // ---------------------------------------------------------------- reading

  tip(): { height: number; hash: string } {
    return this.#chain.tip();
  }

  get height(): number {
    return this.#chain.height;
  }

  /** Hash of the active chain's block at `height`, or undefined. */
  blockHashAt(height: number): string | undefined {
    return this.#chain.blockHashAt(height);
  }

  block(hash: string): BlockEntry | undefined {
    return this.#chain.block(hash.toLowerCase());
  }

  isActive(hash: string): boolean {
    return this.#chain.isActive(hash);
  }

  /** Confirmations as Bitcoin Core counts them: tip = 1, off the active chain = -1. */
  confirmations(hash: string): number {
    const entry = this.#chain.block(hash);
    if (!entry || !this.isActive(hash)) return -1;
    return this.height - entry.height + 1;
  }

  /** The active chain's next block after `hash`, if any. */
  nextActive(hash: string): string | undefined {
    const entry = this.#chain.block(hash);
    if (!entry || !this.isActive(hash)) return undefined;
    return this.#chain.blockHashAt(entry.height + 1);
  }

  /** BIP113 median time past: the median of the block's and its 10 predecessors' times. */
  medianTimePast(hash: string): number {
    return this.#chain.medianTimePast(hash);
  }

  /** A transaction from the mempool or the active chain. */
  transaction(txid: string): { tx: Tx; blockHash?: string } | undefined {
    const id = txid.toLowerCase();
    const entry = this.#mempool.get(id);
    if (entry) return { tx: entry.tx };
    const blockHash = this.#chain.blockOf(id);
    if (!blockHash) return undefined;
    const tx = this.#chain.block(blockHash)!.block.txs.find((candidate) => candidate.txid === id);
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
    const tx = findTxAnywhere(this.#chain, this.#mempool, id);
    const output = tx?.outputs[vout];
    if (!tx || !output) return undefined;
    const blockHash = this.#chain.blockOf(id);
    const height = blockHash ? (this.#chain.block(blockHash)?.height ?? null) : null;
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
    return this.#chain.coin(outpointKey(txid.toLowerCase(), vout));
  }

  utxoCount(): number {
    return this.#chain.coinCount;
  }

  /** Every UTXO, sorted by outpoint (for comparisons and snapshots). */
  allUtxos(): Utxo[] {
    return this.#chain.allUtxos();
  }

  /** Confirmed unspent outputs paying an address or an output script. */
  listUnspent(addressOrScript: string | Uint8Array): Utxo[] {
    return this.#chain.utxosPaying(this.#payToScript(addressOrScript));
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
      const checked = checkForMempool(tx, this.#chain, this.#mempool);
      return { txid: tx.txid, wtxid: tx.wtxid, allowed: true, fee: checked.fee, vsize: tx.vsize };
    } catch (error) {
      return rejected(tx, error);
    }
  }

  /** Submits a transaction (sendrawtransaction); the result says whether it was accepted and why not. */
  submitTransaction(raw: Uint8Array): Promise<AcceptResult> {
    const tx = parseOrReject(raw);
    return this.#exclusive(() => this.#acceptToMempool(tx));
  }

  #acceptToMempool(tx: Tx, options: { limits?: boolean; time?: number } = {}): AcceptResult {
    try {
      const checked = checkForMempool(tx, this.#chain, this.#mempool, options);
      for (const txid of checked.evict) this.#mempool.remove(txid);
      this.#mempool.add(tx, checked.fee, options.time ?? this.#now(), this.height);
      const { fee, replaced } = checked;
      return { txid: tx.txid, wtxid: tx.wtxid, allowed: true, fee, vsize: tx.vsize, replaced };
    } catch (error) {
      return rejected(tx, error);
    }
  }

  /** Confirmed transactions leave the mempool, and so do those spending the same coins (and their descendants). */
  #removeConfirmed(txs: readonly Tx[]): void {
    for (const tx of txs) {
      this.#mempool.remove(tx.txid);
      for (const input of tx.inputs) {
        const spender = this.#mempool.spenders.get(outpointKey(input.prevTxid, input.vout));
        if (spender) this.#mempool.removeWithDescendants(spender);
      }
    }
  }

  // ---------------------------------------------------------------- mining

  /** The next block's transactions, best ancestor fee rate first, with their fees. */
  blockTemplate(): MempoolEntry[] {
    return blockTemplate(this.#chain, this.#mempool);
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
        const txs = template.map((entry) => entry.tx);
        const block = assemble(this.#chain, this.tip().hash, {
          payTo: script,
          fees,
          txs,
          now: this.#now(),
        });
        this.#chain.addBlock(block);
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
        const fees = included.reduce(
          (sum, tx) => sum + feeAnywhere(this.#chain, this.#mempool, tx),
          0n,
        );
        const block = assemble(this.#chain, parent, {
          payTo: script,
          fees,
          txs: included,
          now: this.#now(),
        });
        this.#chain.addBlock(block);
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
      this.#chain.markInvalid(entry.hash);
      this.#activateBestChain();
    });
  }

  /** Removes the invalid mark from a block, its ancestors and descendants (reconsiderblock). */
  reconsiderBlock(hash: string): Promise<void> {
    return this.#exclusive(() => {
      const entry = this.#requireBlock(hash);
      const marks = new Set([...this.#chain.descendants(entry.hash)]);
      for (
        let current: BlockEntry | undefined = entry;
        current;
        current = current.prevHash ? this.#chain.block(current.prevHash) : undefined
      ) {
        marks.add(current.hash);
      }
      for (const id of marks) {
        const block = this.#chain.block(id)!;
        if (block.status === 'invalid') this.#chain.setStatus(block, 'unchecked');
      }
      this.#activateBestChain();
    });
  }

  /** A fee-rate estimate in sat/kvB to confirm within `targetBlocks` (see `estimateFeeRate`). */
  estimateFeeRateSatPerKvB(targetBlocks: number): bigint | null {
    return estimateFeeRate(this.#chain, this.#mempool, targetBlocks);
  }

  // ---------------------------------------------------------------- internals

  /**
   * ActivateBestChain, then UpdateMempoolForReorg: transactions of disconnected blocks, then the
   * old mempool, are offered to the mempool again; those no longer valid are dropped.
   */
  #activateBestChain(): void {
    const oldTip = this.tip().hash;
    const { reorganized, disconnected } = this.#chain.activateBestChain();
    if (reorganized) {
      // Disconnected blocks' transactions first (oldest block first), then what was waiting.
      const waiting = this.#mempool.clear().map((entry) => ({ tx: entry.tx, time: entry.time }));
      const candidates = [...disconnected.map((tx) => ({ tx, time: undefined })), ...waiting];
      for (const { tx, time } of candidates) {
        this.#acceptToMempool(tx, time === undefined ? { limits: false } : { limits: false, time });
      }
    }
    if (this.tip().hash !== oldTip) this.#notifyTip();
  }

  #notifyTip(): void {
    const tip = this.tip();
    for (const listener of this.#tipListeners) {
      try {
        listener(tip);
      } catch {
        // A listener's failure must not break the chain.
      }
    }
  }

  #now(): number {
    return Math.floor(this.#clock.now().getTime() / 1000);
  }

  #payToScript(payTo: string | Uint8Array): Uint8Array {
    return typeof payTo === 'string' ? addressToScript(payTo, this.network) : payTo;
  }

  #requireBlock(hash: string): BlockEntry {
    fromReversedHex(hash, 'blockhash');
    const entry = this.#chain.block(hash.toLowerCase());
    if (!entry) throw new AppError('BLOCK_NOT_FOUND', `no simnet block with hash ${hash}`);
    return entry;
  }

  /** Runs one operation at a time, then writes what it changed. */
  #exclusive<T>(operation: () => T): Promise<T> {
    const run = this.#queue.then(async () => {
      try {
        return operation();
      } finally {
        await this.#persistence.flush(this.#chain, this.#mempool);
      }
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }
}

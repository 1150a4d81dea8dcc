import type { Database } from '../../db';
import type { ChainState } from './chain-state';
import { regtestGenesis } from './consensus';
import { parseBlock, parseTx, type Tx } from './model';
import type { Mempool, MempoolEntry } from './mempool';
import type { AcceptResult } from './mempool-policy';
import { SimnetStore } from './store';

/** Offers a stored mempool transaction again, without the relay-fee limit. */
export type Reaccept = (tx: Tx, time: number) => AcceptResult;

/**
 * The simnet's persistence: every block (of every branch) is stored with its active flag and
 * status, and the mempool's transactions in arrival order. On open, the block index is rebuilt
 * from the stored blocks and the UTXO set by replaying the active chain from genesis — linear
 * in the chain's size, which is fine at simnet scales (thousands of blocks) — then the mempool
 * transactions are accepted again under the same rules.
 */
export class SimnetPersistence {
  readonly #store: SimnetStore;
  /** Txids whose rows are in simnet_mempool. */
  readonly #storedMempool = new Set<string>();

  constructor(db: Database) {
    this.#store = new SimnetStore(db);
  }

  /** Writes what changed in the chain and the mempool since the last flush, in one transaction. */
  async flush(chain: ChainState, mempool: Mempool): Promise<void> {
    const { newBlocks, updated } = chain.takeChanges();
    const newHashes = new Set(newBlocks.map((block) => block.hash));
    const updatedBlocks = [...updated]
      .filter((hash) => !newHashes.has(hash))
      .map((hash) => ({ hash, active: chain.isActive(hash), status: chain.block(hash)!.status }));
    const finalNew = newBlocks.map((block) => ({
      ...block,
      active: chain.isActive(block.hash),
      status: chain.block(block.hash)!.status,
    }));
    const touched = mempool.drainChanges();
    // Only rows already stored need deleting; new ones are inserted in arrival order.
    const stale = touched.filter((txid) => this.#storedMempool.has(txid));
    const added = touched
      .map((txid) => mempool.get(txid))
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

  /**
   * Opens the storage (simnet's migration set), then rebuilds the chain and the mempool from it,
   * or stores the regtest genesis when empty.
   */
  async load(chain: ChainState, mempool: Mempool, reaccept: Reaccept): Promise<void> {
    await this.#store.open();
    const stored = await this.#store.loadBlocks();
    if (stored.length === 0) {
      const entry = chain.addBlock(regtestGenesis(), 'valid');
      chain.connectGenesis(entry);
      chain.touch(entry.hash);
      await this.flush(chain, mempool);
      return;
    }
    // Parents sort before children by height; within a height, arrival order is kept.
    const ordered = [...stored].sort((a, b) => a.height - b.height);
    for (const row of ordered) {
      const block = parseBlock(row.raw);
      if (block.hash !== row.hash)
        throw new Error(`simnet block ${row.hash} does not hash to its key`);
      chain.addBlock(block, row.status, false);
    }
    const active = ordered.filter((row) => row.active);
    for (const [height, row] of active.entries()) {
      if (row.height !== height)
        throw new Error(`simnet active chain has a gap at height ${height}`);
      const entry = chain.block(row.hash)!;
      // Replay: these blocks were verified when first connected.
      if (height === 0) chain.connectGenesis(entry);
      else chain.connectTip(entry, false);
    }
    chain.takeChanges();
    await this.#loadMempool(mempool, reaccept);
  }

  /** Accepts the stored mempool again in arrival order, retrying those whose parents came later (after a reorg). */
  async #loadMempool(mempool: Mempool, reaccept: Reaccept): Promise<void> {
    const storedRows = await this.#store.loadMempool();
    for (const row of storedRows) this.#storedMempool.add(row.txid);
    let pending = storedRows.map((row) => ({ tx: parseTx(row.raw), time: row.time }));
    while (pending.length > 0) {
      const retry: typeof pending = [];
      for (const item of pending) {
        const result = reaccept(item.tx, item.time);
        if (!result.allowed && result.rejectKind === 'missing-inputs') retry.push(item);
      }
      if (retry.length === pending.length) break;
      pending = retry;
    }
    mempool.drainChanges();
    // Anything that no longer validates is dropped from storage too.
    const stale = storedRows.filter((row) => !mempool.get(row.txid)).map((row) => row.txid);
    for (const txid of stale) this.#storedMempool.delete(txid);
    await this.#store.write({
      newBlocks: [],
      updatedBlocks: [],
      mempoolTouched: stale,
      mempoolAdded: [],
    });
  }
}

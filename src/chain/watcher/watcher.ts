import type { Database } from '../../db';
import { AppError, isAppError, systemClock, type Clock } from '../../kernel';
import type { ChainSource, ChainTip } from '../source';
import { mempoolTransaction, type ChainBlock } from '../block';
import {
  appendBlock,
  cursorRowOf,
  isCursorRace,
  lockTop,
  pruneCursor,
  readCursorRows,
  readTop,
  recordConsumer,
  resetCursor,
  truncateCursor,
  type CursorRow,
} from './cursor';
import type {
  ChainConsumer,
  ChainWatcherOptions,
  SyncResult,
  WatcherEvents,
  WatcherLogger,
  WatcherProgress,
} from './types';

const silentLogger: WatcherLogger = { info: () => {}, warn: () => {}, error: () => {} };

type Listeners = { [K in keyof WatcherEvents]: Set<WatcherEvents[K]> };

/**
 * Follows the active chain of a ChainSource, block by block, and tells consumers about every
 * block connected to or disconnected from it. On a reorganization it disconnects the blocks
 * that left the chain, newest first, before connecting the new branch, oldest first.
 *
 * The cursor (the last `window` blocks connected, with heights) lives in the database, so a new
 * watcher over the same database resumes where the last one committed and finds the fork point
 * of a reorganization that happened while it was down.
 *
 * Consumers registered later start at the cursor as it is then: they see blocks connected after
 * their first registration, not history (rescanFrom() replays history to everyone).
 */
export class ChainWatcher {
  readonly name: string;
  readonly #source: ChainSource;
  readonly #db: Database;
  readonly #window: number;
  readonly #pollIntervalMs: number;
  readonly #maxBackoffMs: number;
  readonly #clock: Clock;
  readonly #logger: WatcherLogger;
  readonly #onProgress: ((progress: WatcherProgress) => void) | undefined;
  #startHeight: number | undefined;
  readonly #consumers: { consumer: ChainConsumer; startHeight: number }[] = [];
  readonly #listeners: Listeners = {
    blockConnected: new Set(),
    blockDisconnected: new Set(),
    mempoolTx: new Set(),
    error: new Set(),
  };
  #seenMempool = new Set<string>();
  #exclusive: Promise<unknown> = Promise.resolve();
  #loop: Promise<void> | undefined;
  #stopping: AbortController | undefined;

  constructor(options: ChainWatcherOptions) {
    this.#source = options.source;
    this.#db = options.database;
    this.name = options.name ?? 'default';
    this.#window = options.window ?? 144;
    if (!Number.isInteger(this.#window) || this.#window < 2) {
      throw new AppError(
        'CONFIG_INVALID',
        `window must be an integer of at least 2 blocks, got ${this.#window}`,
      );
    }
    if (
      options.startHeight !== undefined &&
      (!Number.isInteger(options.startHeight) || options.startHeight < 0)
    ) {
      throw new AppError(
        'CONFIG_INVALID',
        `startHeight must be a non-negative integer, got ${options.startHeight}`,
      );
    }
    this.#startHeight = options.startHeight;
    this.#pollIntervalMs = options.pollIntervalMs ?? 5_000;
    this.#maxBackoffMs = options.maxBackoffMs ?? 300_000;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#onProgress = options.onProgress;
  }

  on<K extends keyof WatcherEvents>(event: K, listener: WatcherEvents[K]): () => void {
    (this.#listeners[event] as Set<WatcherEvents[K]>).add(listener);
    return () => (this.#listeners[event] as Set<WatcherEvents[K]>).delete(listener);
  }

  #emit<K extends keyof WatcherEvents>(event: K, ...args: Parameters<WatcherEvents[K]>): void {
    for (const listener of this.#listeners[event]) {
      try {
        (listener as (...a: Parameters<WatcherEvents[K]>) => void)(...args);
      } catch (error) {
        this.#logger.error(`a ${event} listener threw`, {
          watcher: this.name,
          error: describe(error),
        });
      }
    }
  }

  /**
   * Registers a consumer. The first time a name is registered with this watcher it starts at the
   * current cursor (it receives blocks above it); later registrations under the same name (after
   * a restart) keep the recorded start.
   */
  async registerConsumer(consumer: ChainConsumer): Promise<void> {
    if (this.#consumers.some((c) => c.consumer.name === consumer.name)) {
      throw new AppError(
        'CONFLICT',
        `a consumer named "${consumer.name}" is already registered with watcher "${this.name}"`,
      );
    }
    const startHeight = await this.#exclusively(() =>
      this.#db.transaction((tx) => recordConsumer(tx, this.name, consumer.name, this.#clock.now())),
    );
    this.#consumers.push({ consumer, startHeight });
  }

  /** The newest block the watcher has connected (committed), or null. */
  async cursor(): Promise<ChainTip | null> {
    const top = await readTop(this.#db.orm, this.name);
    return top ? { height: top.height, hash: top.hash } : null;
  }

  /** Brings the cursor to the source's tip: disconnects stale blocks, connects new ones. */
  syncOnce(): Promise<SyncResult> {
    return this.#exclusively(() => this.#sync());
  }

  /**
   * Starts over from `height` after a reorganization deeper than the window (or to replay
   * history): forgets the cursor, then connects every block from `height` to the tip. Consumers
   * receive blockConnected again for blocks they may have seen (they are keyed by block hash and
   * must treat a repeat as a no-op) and no blockDisconnected for blocks that left the chain
   * below the window; reconcile those from the node if it matters.
   */
  rescanFrom(height: number): Promise<SyncResult> {
    if (!Number.isInteger(height) || height < 0) {
      return Promise.reject(
        new AppError('VALIDATION_FAILED', `height must be a non-negative integer, got ${height}`),
      );
    }
    return this.#exclusively(async () => {
      await this.#db.transaction((tx) => resetCursor(tx, this.name));
      for (const entry of this.#consumers) entry.startHeight = -1;
      this.#startHeight = height;
      this.#logger.warn('rescanning the chain', { watcher: this.name, fromHeight: height });
      return this.#sync();
    });
  }

  /** Emits mempoolTx for mempool transactions not seen before; returns their txids. */
  syncMempool(): Promise<string[]> {
    return this.#exclusively(async () => {
      const txids = await this.#source.getMempoolTxids();
      const fresh = txids.filter((txid) => !this.#seenMempool.has(txid));
      // Only the current mempool is remembered, so the set stays the size of the mempool.
      this.#seenMempool = new Set(txids);
      const announced: string[] = [];
      for (const txid of fresh) {
        let raw: Uint8Array;
        try {
          raw = await this.#source.getRawTransaction(txid);
        } catch (error) {
          if (isAppError(error) && error.code === 'TX_NOT_FOUND') continue; // left the mempool meanwhile
          throw error;
        }
        this.#emit('mempoolTx', mempoolTransaction(raw, this.#source.network));
        announced.push(txid);
      }
      return announced;
    });
  }

  /**
   * Polls the source every pollIntervalMs until stop(). While the source is unreachable it
   * retries with exponential backoff (doubling up to maxBackoffMs), logs each failure and keeps
   * its state. A reorganization deeper than the window stops the loop: it needs an operator.
   */
  start(): void {
    if (this.#loop) return;
    const stopping = new AbortController();
    this.#stopping = stopping;
    this.#loop = this.#run(stopping.signal);
  }

  async stop(): Promise<void> {
    this.#stopping?.abort();
    await this.#loop;
    this.#loop = undefined;
    this.#stopping = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      try {
        await this.syncOnce();
        await this.syncMempool();
        if (failures > 0)
          this.#logger.info('chain source reachable again', { watcher: this.name, failures });
        failures = 0;
      } catch (error) {
        this.#emit('error', error);
        if (isAppError(error) && error.code === 'CHAIN_REORG_TOO_DEEP') {
          this.#logger.error(error.message, { watcher: this.name });
          return;
        }
        failures++;
        this.#logger.warn('chain sync failed; retrying', {
          watcher: this.name,
          failures,
          retryInMs: this.#delay(failures),
          error: describe(error),
        });
      }
      await sleep(this.#delay(failures), signal);
    }
  }

  #delay(failures: number): number {
    if (failures === 0) return this.#pollIntervalMs;
    return Math.min(this.#pollIntervalMs * 2 ** Math.min(failures, 30), this.#maxBackoffMs);
  }

  #exclusively<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#exclusive.then(fn, fn);
    this.#exclusive = run.catch(() => undefined);
    return run;
  }

  async #sync(): Promise<SyncResult> {
    let connected = 0;
    let disconnected = 0;
    let tip = await this.#source.getTip();
    // The cursor's newest row, kept in memory while this sync extends it; re-read after a rewind.
    let known: { top: CursorRow | undefined } | undefined;
    for (;;) {
      known ??= { top: await readTop(this.#db.orm, this.name) };
      const { top } = known;
      if (!top) {
        const start = this.#startHeight ?? tip.height;
        if (start > tip.height) break;
        const block = await this.#fetchActive(start);
        if (!block) {
          tip = await this.#source.getTip();
          continue;
        }
        if (!(await this.#connectUnlessRaced(block, null, tip))) {
          known = undefined;
          continue;
        }
        known = { top: cursorRowOf(block) };
        connected++;
        continue;
      }
      if (top.hash === tip.hash) {
        // The tip may have moved while we caught up: only stop when it has not.
        const latest = await this.#source.getTip();
        if (latest.hash === tip.hash) break;
        tip = latest;
        continue;
      }
      if (top.height < tip.height) {
        const block = await this.#fetchActive(top.height + 1);
        if (!block) {
          tip = await this.#source.getTip();
          continue;
        }
        if (block.previousHash === top.hash) {
          if (!(await this.#connectUnlessRaced(block, top, tip))) {
            known = undefined; // another server's watcher connected it: read the cursor again
            continue;
          }
          known = { top: cursorRowOf(block) };
          connected++;
          continue;
        }
      }
      // The cursor's newest block is not the parent of the active chain's next block (or the
      // active chain is now shorter): the chain reorganized. Disconnect back to the fork point.
      const undone = await this.#rewind();
      known = undefined;
      disconnected += undone;
      const latest = await this.#source.getTip();
      // Nothing to undo and a tip that did not move: the source is behind our cursor (a node
      // restarting from an older state); wait for it rather than spin.
      if (undone === 0 && latest.hash === tip.hash) break;
      tip = latest;
    }
    return { connected, disconnected, cursor: await this.cursor() };
  }

  /** The active block at `height`, parsed; undefined when the chain no longer reaches it. */
  async #fetchActive(height: number): Promise<ChainBlock | undefined> {
    try {
      const hash = await this.#source.getBlockHash(height);
      const block = await this.#source.getChainBlock(hash);
      if (block.height !== height) {
        throw new AppError(
          'INVALID_BLOCK',
          `the source served block ${hash} at height ${block.height} when asked for height ${height}`,
        );
      }
      return block;
    } catch (error) {
      if (isAppError(error) && error.code === 'BLOCK_NOT_FOUND') return undefined;
      throw error;
    }
  }

  async #activeHash(height: number): Promise<string | null> {
    try {
      return await this.#source.getBlockHash(height);
    } catch (error) {
      if (isAppError(error) && error.code === 'BLOCK_NOT_FOUND') return null;
      throw error;
    }
  }

  /**
   * Finds the newest cursor block still on the active chain and disconnects every block above
   * it, newest first, each in its own transaction. Nothing is disconnected when no cursor block
   * is on the active chain: that reorganization is deeper than the window.
   */
  async #rewind(): Promise<number> {
    const rows = await readCursorRows(this.#db.orm, this.name);
    const stale: CursorRow[] = [];
    let forkFound = false;
    for (const row of rows) {
      if ((await this.#activeHash(row.height)) === row.hash) {
        forkFound = true;
        break;
      }
      stale.push(row);
    }
    const lowest = rows.at(-1);
    if (!forkFound && lowest) {
      throw new AppError(
        'CHAIN_REORG_TOO_DEEP',
        `watcher "${this.name}": none of the ${rows.length} blocks it keeps (heights ${lowest.height}–${rows[0]?.height ?? lowest.height}) is on the active chain any more, so the reorganization is deeper than its window of ${this.#window} blocks. Check that the node follows the right chain, then rescan from a height below ${lowest.height} (watcher.rescanFrom(height))`,
        { details: { watcher: this.name, lowestHeight: lowest.height, window: this.#window } },
      );
    }
    for (const row of stale) {
      const block = await this.#fetchStale(row);
      await this.#disconnect(block);
    }
    return stale.length;
  }

  async #fetchStale(row: CursorRow): Promise<ChainBlock> {
    try {
      // Complete like a connected block, though no consumer needs more than its hash to undo it.
      return await this.#source.getChainBlock(row.hash);
    } catch (error) {
      // Not served any more (pruned, or electrs's best chain only), or served without its
      // inputs' previous outputs (undo data gone): undoing needs only the hash.
      const code = isAppError(error) ? error.code : undefined;
      if (code !== 'BLOCK_NOT_FOUND' && code !== 'CHAIN_UNSUPPORTED') throw error;
      this.#logger.warn(
        'a disconnected block is no longer served whole by the source; consumers get its hash only',
        {
          watcher: this.name,
          hash: row.hash,
          height: row.height,
        },
      );
      return {
        hash: row.hash,
        height: row.height,
        previousHash: row.previousHash,
        time: row.time,
        transactions: [],
        complete: false,
      };
    }
  }

  /**
   * Connects the block; false when another watcher over the same database (another server's,
   * e.g. one syncing at its start while the job runs elsewhere) moved the cursor first. Its
   * transaction then rolled back whole, so nothing was delivered twice.
   */
  async #connectUnlessRaced(
    block: ChainBlock,
    expectedTop: CursorRow | null,
    tip: ChainTip,
  ): Promise<boolean> {
    try {
      await this.#connect(block, expectedTop, tip);
      return true;
    } catch (error) {
      // A unique violation is a race only if the cursor has in fact moved (see isCursorRace).
      if (!(await isCursorRace(error, () => this.#cursorMovedFrom(expectedTop)))) throw error;
      this.#logger.info('another watcher connected the block first; following its cursor', {
        watcher: this.name,
        height: block.height,
      });
      return false;
    }
  }

  /** Whether the committed cursor is no longer `expectedTop` (another watcher moved it). */
  async #cursorMovedFrom(expectedTop: CursorRow | null): Promise<boolean> {
    const now = await readTop(this.#db.orm, this.name);
    return (now?.hash ?? null) !== (expectedTop?.hash ?? null);
  }

  async #connect(block: ChainBlock, expectedTop: CursorRow | null, tip: ChainTip): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await lockTop(tx, this.name, expectedTop?.hash ?? null);
      await appendBlock(tx, this.name, block, this.#clock.now());
      for (const { consumer, startHeight } of this.#consumers) {
        if (block.height > startHeight) await consumer.blockConnected?.(block, tx);
      }
      await pruneCursor(tx, this.name, block.height - this.#window);
    });
    this.#emit('blockConnected', block);
    this.#onProgress?.({
      height: block.height,
      hash: block.hash,
      tipHeight: Math.max(tip.height, block.height),
    });
  }

  async #disconnect(block: ChainBlock): Promise<void> {
    await this.#db.transaction(async (tx) => {
      await lockTop(tx, this.name, block.hash);
      await truncateCursor(tx, this.name, block.height);
      for (const { consumer, startHeight } of [...this.#consumers].reverse()) {
        if (block.height > startHeight) await consumer.blockDisconnected?.(block, tx);
      }
    });
    this.#emit('blockDisconnected', block);
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

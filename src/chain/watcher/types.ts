import type { Database, Orm } from '../../db';
import type { Clock } from '../../kernel';
import type { ChainSource, ChainTip } from '../source';
import type { ChainBlock, MempoolTransaction } from '../block';

/**
 * A consumer of chain events. Its handlers run INSIDE the database transaction that moves the
 * watcher's cursor, with that transaction's `tx`: whatever the consumer writes through `tx`
 * commits together with the cursor or not at all. Hence exactly-once delivery across restarts:
 *
 * - a crash (or a thrown error) before the commit rolls back the consumer's writes and the
 *   cursor together; the next sync delivers the same block again;
 * - after the commit the cursor names the block, so no later sync delivers it again.
 *
 * A handler that throws aborts the block for every consumer; the watcher retries it on the next
 * sync. Handlers must not write outside `tx` (another connection, a message bus) if they rely on
 * this guarantee; those side effects should be driven from rows written through `tx`.
 */
export interface ChainConsumer {
  /** Stable name: the watcher remembers where each consumer started under this name. */
  readonly name: string;
  blockConnected?(block: ChainBlock, tx: Orm): Promise<void>;
  blockDisconnected?(block: ChainBlock, tx: Orm): Promise<void>;
}

export interface WatcherProgress {
  readonly height: number;
  readonly hash: string;
  readonly tipHeight: number;
}

export interface WatcherLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export interface ChainWatcherOptions {
  readonly source: ChainSource;
  readonly database: Database;
  /** Cursor name, so that several watchers (e.g. one per network) can share a database. */
  readonly name?: string;
  /**
   * The first height to connect when the cursor is empty (a fresh database). Default: the tip
   * at the first sync, i.e. the watcher does not replay history unless asked to.
   */
  readonly startHeight?: number;
  /**
   * How many connected blocks the cursor keeps (default 144, one day). A reorganization deeper
   * than this is refused with CHAIN_REORG_TOO_DEEP. Bitcoin Core keeps undo data for far more.
   */
  readonly window?: number;
  /** Poll interval of start() in ms (default 5000). */
  readonly pollIntervalMs?: number;
  /** Upper bound of the retry backoff while the source is unreachable, in ms (default 300000). */
  readonly maxBackoffMs?: number;
  readonly clock?: Clock;
  readonly logger?: WatcherLogger;
  /** Called after every connected block, for catch-up progress bars. */
  readonly onProgress?: (progress: WatcherProgress) => void;
}

export interface SyncResult {
  readonly connected: number;
  readonly disconnected: number;
  /** The cursor after the sync, or null when nothing has been connected yet. */
  readonly cursor: ChainTip | null;
}

export interface WatcherEvents {
  /** After commit, for in-process listeners that need no exactly-once guarantee. */
  blockConnected: (block: ChainBlock) => void;
  blockDisconnected: (block: ChainBlock) => void;
  /** A transaction seen in the source's mempool for the first time by this process. */
  mempoolTx: (tx: MempoolTransaction) => void;
  /** A failed sync in start()'s loop (the loop keeps going, except for CHAIN_REORG_TOO_DEEP). */
  error: (error: unknown) => void;
}

import { and, desc, eq, gte, lte } from 'drizzle-orm';
import { sqlState, UNIQUE_VIOLATION, type Orm } from '../../db';
import { AppError } from '../../kernel';
import type { ChainTip } from '../source';
import type { ChainBlock } from '../block';
import { chainWatcherBlocks, chainWatcherConsumers } from './schema';

/**
 * The watcher's cursor in the database (schema.ts): the blocks it has connected, the consumers
 * registered with it, and the row lock that keeps two watchers of one name from both moving it.
 * Every function takes the watcher's name and the transaction (or pool) to run in.
 */

export interface CursorRow {
  readonly height: number;
  readonly hash: string;
  readonly previousHash: string | null;
  readonly time: number;
}

export function cursorRowOf(block: ChainBlock): CursorRow {
  return {
    height: block.height,
    hash: block.hash,
    previousHash: block.previousHash,
    time: block.time,
  };
}

/** The cursor's newest row, or undefined when nothing has been connected. */
export async function readTop(orm: Orm, watcher: string): Promise<CursorRow | undefined> {
  const [row] = await orm
    .select()
    .from(chainWatcherBlocks)
    .where(eq(chainWatcherBlocks.watcher, watcher))
    .orderBy(desc(chainWatcherBlocks.height))
    .limit(1);
  return row;
}

/** Every row the cursor keeps, newest first. */
export function readCursorRows(orm: Orm, watcher: string): Promise<CursorRow[]> {
  return orm
    .select()
    .from(chainWatcherBlocks)
    .where(eq(chainWatcherBlocks.watcher, watcher))
    .orderBy(desc(chainWatcherBlocks.height));
}

/**
 * The newest block a watcher has connected (committed), read from the database alone: what every
 * consumer of the watcher `name` has processed. For readers without a watcher of their own (trade's
 * reconciliation tells coins in blocks above it from unexplained ones).
 */
export async function watcherCursor(orm: Orm, name = 'default'): Promise<ChainTip | null> {
  const [row] = await orm
    .select({ height: chainWatcherBlocks.height, hash: chainWatcherBlocks.hash })
    .from(chainWatcherBlocks)
    .where(eq(chainWatcherBlocks.watcher, name))
    .orderBy(desc(chainWatcherBlocks.height))
    .limit(1);
  return row ?? null;
}

/**
 * Records a consumer's start at the cursor's top the first time its name is registered; returns
 * its recorded start (-1: every block).
 */
export async function recordConsumer(
  tx: Orm,
  watcher: string,
  consumer: string,
  registeredAt: Date,
): Promise<number> {
  const top = await readTop(tx, watcher);
  await tx
    .insert(chainWatcherConsumers)
    .values({ watcher, consumer, startHeight: top?.height ?? -1, registeredAt })
    .onConflictDoNothing();
  const [row] = await tx
    .select({ startHeight: chainWatcherConsumers.startHeight })
    .from(chainWatcherConsumers)
    .where(
      and(eq(chainWatcherConsumers.watcher, watcher), eq(chainWatcherConsumers.consumer, consumer)),
    );
  return row?.startHeight ?? -1;
}

/** Forgets the cursor, and every consumer's start with it (a rescan). */
export async function resetCursor(tx: Orm, watcher: string): Promise<void> {
  await tx.delete(chainWatcherBlocks).where(eq(chainWatcherBlocks.watcher, watcher));
  await tx
    .update(chainWatcherConsumers)
    .set({ startHeight: -1 })
    .where(eq(chainWatcherConsumers.watcher, watcher));
}

/** Adds a connected block to the cursor. */
export async function appendBlock(
  tx: Orm,
  watcher: string,
  block: ChainBlock,
  connectedAt: Date,
): Promise<void> {
  await tx.insert(chainWatcherBlocks).values({
    watcher,
    height: block.height,
    hash: block.hash,
    previousHash: block.previousHash,
    time: block.time,
    connectedAt,
  });
}

/** Drops the rows at or below `height`: the cursor keeps only its window. */
export async function pruneCursor(tx: Orm, watcher: string, height: number): Promise<void> {
  await tx
    .delete(chainWatcherBlocks)
    .where(and(eq(chainWatcherBlocks.watcher, watcher), lte(chainWatcherBlocks.height, height)));
}

/** Drops the rows at or above `height`: a block disconnected and everything above it. */
export async function truncateCursor(tx: Orm, watcher: string, height: number): Promise<void> {
  await tx
    .delete(chainWatcherBlocks)
    .where(and(eq(chainWatcherBlocks.watcher, watcher), gte(chainWatcherBlocks.height, height)));
}

/**
 * Locks the cursor's newest row and checks it is the one this sync read: a second watcher
 * instance over the same database (a misconfiguration) then fails instead of double-delivering.
 */
export async function lockTop(
  tx: Orm,
  watcher: string,
  expectedHash: string | null,
): Promise<void> {
  const [row] = await tx
    .select({ hash: chainWatcherBlocks.hash })
    .from(chainWatcherBlocks)
    .where(eq(chainWatcherBlocks.watcher, watcher))
    .orderBy(desc(chainWatcherBlocks.height))
    .limit(1)
    .for('update');
  if ((row?.hash ?? null) !== expectedHash) {
    throw cursorMoved(
      new AppError(
        'CONFLICT',
        `watcher "${watcher}": its cursor moved underneath it (expected ${expectedHash ?? 'an empty cursor'}, found ${row?.hash ?? 'an empty cursor'}); another watcher with the same name connected or disconnected a block`,
      ),
    );
  }
}

/** Errors raised because another watcher moved the cursor (a race, retried by reading it again). */
const CURSOR_MOVED = new WeakSet<object>();

function cursorMoved(error: AppError): AppError {
  CURSOR_MOVED.add(error);
  return error;
}

/**
 * True when connecting failed because another watcher over the same database moved the cursor
 * first: it was found moved under the lock, or a row of the block was already there and the
 * committed cursor has moved since it was read.
 */
export async function isCursorRace(
  error: unknown,
  cursorMoved: () => Promise<boolean>,
): Promise<boolean> {
  if (CURSOR_MOVED.has(error as object)) return true;
  // A unique violation is that race only if the cursor has in fact moved (another watcher's row
  // for this height). One raised by a consumer's own rows, with the cursor where it was, is that
  // consumer's error: thrown, so it is logged and retried with backoff, not taken for a race and
  // retried at once, forever.
  return sqlState(error) === UNIQUE_VIOLATION && (await cursorMoved());
}

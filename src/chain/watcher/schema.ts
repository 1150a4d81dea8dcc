import { bigint, integer, pgTable, primaryKey, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * The chain watcher's cursor: the blocks it has connected, newest ~window of them, per watcher
 * name. After a restart the watcher compares these hashes with the source's active chain to
 * find the fork point. A row is written in the same transaction in which consumers see the
 * block, so "row present" means "every consumer has processed this block".
 */
export const chainWatcherBlocks = pgTable(
  'chain_watcher_blocks',
  {
    watcher: text('watcher').notNull(),
    height: integer('height').notNull(),
    hash: text('hash').notNull(),
    previousHash: text('previous_hash'),
    time: bigint('time', { mode: 'number' }).notNull(),
    connectedAt: timestamp('connected_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.watcher, table.height] })],
);

/**
 * Consumers registered with a watcher. A consumer seen for the first time starts at the
 * watcher's cursor at that moment: it receives blocks above `startHeight` only (no history).
 */
export const chainWatcherConsumers = pgTable(
  'chain_watcher_consumers',
  {
    watcher: text('watcher').notNull(),
    consumer: text('consumer').notNull(),
    /** Events for blocks at or below this height are not delivered to this consumer. */
    startHeight: integer('start_height').notNull(),
    registeredAt: timestamp('registered_at', { withTimezone: true, mode: 'date' }).notNull(),
  },
  (table) => [primaryKey({ columns: [table.watcher, table.consumer] })],
);

import { bigserial, boolean, customType, index, integer, pgTable, text } from 'drizzle-orm/pg-core';

/** Raw bytes as PostgreSQL bytea (both drivers hand back a Buffer/Uint8Array). */
const bytea = customType<{ data: Uint8Array; driverData: Uint8Array }>({
  dataType: () => 'bytea',
  toDriver: (value) => value,
  fromDriver: (value) => new Uint8Array(value),
});

/**
 * Simnet's blocks, every branch: raw consensus bytes plus what the chain needs to rebuild its
 * block index on open (the UTXO set is rebuilt by replaying the active blocks).
 */
export const simnetBlocks = pgTable(
  'simnet_blocks',
  {
    hash: text('hash').primaryKey(),
    height: integer('height').notNull(),
    prevHash: text('prev_hash'),
    raw: bytea('raw').notNull(),
    /** True for the blocks of the active chain. */
    active: boolean('active').notNull().default(false),
    /** 'valid' (connected at least once), 'unchecked' (stored, never connected) or 'invalid'. */
    status: text('status').notNull(),
    /** Arrival order: among equal-work tips the first seen wins, as in Bitcoin Core. */
    seq: bigserial('seq', { mode: 'number' }).notNull(),
  },
  (table) => [index('simnet_blocks_height_idx').on(table.height)],
);

/** Simnet's mempool, in arrival order (parents before children). */
export const simnetMempool = pgTable('simnet_mempool', {
  txid: text('txid').primaryKey(),
  raw: bytea('raw').notNull(),
  /** Entry time, seconds since the epoch. */
  time: integer('time').notNull(),
  seq: bigserial('seq', { mode: 'number' }).notNull(),
});

import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

// No foreign keys to other modules' tables (mining's attributions): a schema file imports no
// other module, and a lot is removed with its block by the cascade from clearing_blocks.
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const sats = (name: string) => bigint(name, { mode: 'bigint' });

/** Blocks the clearing consumer has processed (the idempotency key; everything cascades from it). */
export const clearingBlocks = pgTable('clearing_blocks', {
  hash: text('hash').primaryKey(),
  height: integer('height').notNull(),
});

/**
 * A cleared lot: one attributed coinbase output with its origin. `clearance` is what its coins
 * count as (cleared, quarantined, or released by the supervisor); `status` is the lot's state for
 * display: its clearance, or `spent` once the coinbase output is spent.
 */
export const clearingLots = pgTable(
  'clearing_lots',
  {
    id: text('id').primaryKey(),
    /** Mining's attribution of the coinbase output (one lot per attribution). */
    attributionId: text('attribution_id').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => clearingBlocks.hash, { onDelete: 'cascade' }),
    height: integer('height').notNull(),
    blockTime: at('block_time').notNull(),
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    valueSats: sats('value_sats').notNull(),
    minerId: text('miner_id').notNull(),
    siteId: text('site_id').notNull(),
    regionCode: text('region_code').notNull(),
    status: text('status').notNull(),
    clearance: text('clearance').notNull(),
    /** Why the lot was quarantined: MINED_IN_BAN (with the ban) or SITE_NOT_REGISTERED. */
    quarantineReason: text('quarantine_reason'),
    banId: text('ban_id'),
    releasedAt: at('released_at'),
    releasedBy: text('released_by'),
    releaseReason: text('release_reason'),
    spentByTxid: text('spent_by_txid'),
    spentInBlock: text('spent_in_block'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('clearing_lots_attribution_idx').on(t.attributionId),
    uniqueIndex('clearing_lots_output_idx').on(t.txid, t.vout),
    index('clearing_lots_block_idx').on(t.blockHash),
    index('clearing_lots_spent_idx').on(t.spentInBlock),
    index('clearing_lots_page_idx').on(t.createdAt, t.id),
    index('clearing_lots_miner_page_idx').on(t.minerId, t.createdAt, t.id),
    // A miner's lots of a status or a few (the offer form's sellable lots), of a site.
    index('clearing_lots_miner_status_page_idx').on(t.minerId, t.status, t.createdAt, t.id),
    index('clearing_lots_site_page_idx').on(t.siteId, t.createdAt, t.id),
    // The offer form's lot search: by block height, or by the start of the lot's id.
    index('clearing_lots_height_page_idx').on(t.height, t.createdAt, t.id),
    index('clearing_lots_id_prefix_idx').on(sql`lower(${t.id}) text_pattern_ops`),
    check(
      'clearing_lots_status_check',
      sql`${t.status} in ('cleared', 'quarantined', 'released', 'spent')`,
    ),
    check(
      'clearing_lots_clearance_check',
      sql`${t.clearance} in ('cleared', 'quarantined', 'released')`,
    ),
    check(
      'clearing_lots_reason_check',
      sql`(${t.clearance} = 'cleared') = (${t.quarantineReason} is null)`,
    ),
    check('clearing_lots_value_check', sql`${t.valueSats} >= 0`),
  ],
);

/**
 * Every output the scheme watches (traced mined coins and company wallet coins) with its stored
 * clearance: the sats of cleared (or released) lots, of quarantined lots, and of lots whose
 * clearance is unknown (mined before clearing ran). The cleared share is cleared ÷ value, read
 * by primary key.
 */
export const clearingOutputs = pgTable(
  'clearing_outputs',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => clearingBlocks.hash, { onDelete: 'cascade' }),
    height: integer('height').notNull(),
    valueSats: sats('value_sats').notNull(),
    clearedSats: sats('cleared_sats').notNull(),
    quarantinedSats: sats('quarantined_sats').notNull(),
    undeterminedSats: sats('undetermined_sats').notNull(),
    spentByTxid: text('spent_by_txid'),
    spentInBlock: text('spent_in_block'),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout] }),
    index('clearing_outputs_block_idx').on(t.blockHash),
    index('clearing_outputs_spent_idx').on(t.spentInBlock),
    check('clearing_outputs_value_check', sql`${t.valueSats} > 0`),
    check(
      'clearing_outputs_sats_check',
      sql`${t.clearedSats} >= 0 and ${t.quarantinedSats} >= 0 and ${t.undeterminedSats} >= 0 and ${t.clearedSats} + ${t.quarantinedSats} + ${t.undeterminedSats} <= ${t.valueSats}`,
    ),
  ],
);

/**
 * The quarantined lots' sats in each watched output (by the haircut rule): what a release moves
 * from quarantined to cleared, without walking the chain again.
 */
export const clearingHoldings = pgTable(
  'clearing_holdings',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    lotId: text('lot_id')
      .notNull()
      .references(() => clearingLots.id, { onDelete: 'cascade' }),
    sats: sats('sats').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => clearingBlocks.hash, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout, t.lotId] }),
    index('clearing_holdings_lot_idx').on(t.lotId),
    check('clearing_holdings_sats_check', sql`${t.sats} > 0`),
  ],
);

/**
 * The cleared-origin rule, versioned: each version takes effect at `effective_from` and stays in
 * force until a later one does. A null threshold turns the rule off. Rows are never changed.
 */
export const clearingRuleVersions = pgTable(
  'clearing_rule_versions',
  {
    version: integer('version').primaryKey(),
    thresholdBasisPoints: integer('threshold_basis_points'),
    effectiveFrom: at('effective_from').notNull(),
    reason: text('reason').notNull(),
    setBy: text('set_by').notNull(),
    setByPerson: text('set_by_person').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('clearing_rule_versions_effective_idx').on(t.effectiveFrom, t.version),
    check(
      'clearing_rule_versions_threshold_check',
      sql`${t.thresholdBasisPoints} is null or ${t.thresholdBasisPoints} between 0 and 10000`,
    ),
  ],
);

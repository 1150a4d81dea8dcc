import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  date,
  index,
  integer,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

// Foreign keys to registry tables (participants, regions) are added by the custom migration
// mining_foreign_keys: a schema file imports no other module (drizzle-kit loads it alone).
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/** A miner's site: where it mines, on which grid, how big, and with which pool (null: solo). */
export const miningSites = pgTable(
  'mining_sites',
  {
    id: text('id').primaryKey(),
    minerId: text('miner_id').notNull(),
    regionCode: text('region_code').notNull(),
    name: text('name').notNull(),
    gridConnection: text('grid_connection').notNull(),
    /** Power capacity in kW (MW × 1000, so "12.5" MW is 12500): integers, never floats. */
    powerCapacityKw: integer('power_capacity_kw').notNull(),
    /** Declared hashrate in TH/s. */
    declaredHashrateThs: bigint('declared_hashrate_ths', { mode: 'bigint' }).notNull(),
    commissioningDate: date('commissioning_date', { mode: 'string' }).notNull(),
    poolName: text('pool_name'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('mining_sites_power_check', sql`${t.powerCapacityKw} > 0`),
    check('mining_sites_hashrate_check', sql`${t.declaredHashrateThs} > 0`),
    index('mining_sites_miner_idx').on(t.minerId),
    index('mining_sites_miner_page_idx').on(t.minerId, t.createdAt, t.id),
    index('mining_sites_page_idx').on(t.createdAt, t.id),
    index('mining_sites_region_page_idx').on(t.regionCode, t.createdAt, t.id),
    // A site picker's search (`q`): a prefix of the name, any case.
    // The regions of a miner's sites (its ban calendar's rows), grouped in index order.
    index('mining_sites_miner_region_idx').on(t.minerId, t.regionCode),
    index('mining_sites_name_prefix_idx').on(sql`lower(${t.name}) text_pattern_ops`),
  ],
);

/**
 * Addresses at which a site's coinbase payouts arrive: the pool's payout address to the miner
 * (kind pool) or the miner's own coinbase address (kind solo). An address belongs to one miner.
 */
export const miningPayoutAddresses = pgTable(
  'mining_payout_addresses',
  {
    id: text('id').primaryKey(),
    minerId: text('miner_id').notNull(),
    siteId: text('site_id')
      .notNull()
      .references(() => miningSites.id),
    kind: text('kind').notNull(),
    poolName: text('pool_name'),
    address: text('address').notNull(),
    scriptHex: text('script_hex').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('mining_payout_addresses_address_idx').on(t.address),
    uniqueIndex('mining_payout_addresses_script_idx').on(t.scriptHex),
    check('mining_payout_addresses_kind_check', sql`${t.kind} in ('pool', 'solo')`),
    check(
      'mining_payout_addresses_pool_check',
      sql`(${t.kind} = 'pool') = (${t.poolName} is not null)`,
    ),
    index('mining_payout_addresses_site_page_idx').on(t.siteId, t.createdAt, t.id),
    index('mining_payout_addresses_miner_page_idx').on(t.minerId, t.createdAt, t.id),
    index('mining_payout_addresses_page_idx').on(t.createdAt, t.id),
  ],
);

/** Mining bans declared by the supervisor, normalized (see calendar.ts). */
export const miningBans = pgTable(
  'mining_bans',
  {
    id: text('id').primaryKey(),
    regionCode: text('region_code').notNull(),
    kind: text('kind').notNull(),
    fromDate: date('from_date', { mode: 'string' }).notNull(),
    toDate: date('to_date', { mode: 'string' }).notNull(),
    seasonStart: text('season_start'),
    seasonEnd: text('season_end'),
    dailyStart: text('daily_start'),
    dailyEnd: text('daily_end'),
    reason: text('reason').notNull(),
    createdAt: at('created_at').notNull(),
    liftedAt: at('lifted_at'),
    liftReason: text('lift_reason'),
  },
  (t) => [
    check('mining_bans_kind_check', sql`${t.kind} in ('full', 'seasonal', 'curtailment')`),
    check('mining_bans_order_check', sql`${t.fromDate} <= ${t.toDate}`),
    check('mining_bans_season_check', sql`(${t.seasonStart} is null) = (${t.seasonEnd} is null)`),
    check('mining_bans_daily_check', sql`(${t.dailyStart} is null) = (${t.dailyEnd} is null)`),
    index('mining_bans_region_idx').on(t.regionCode),
    index('mining_bans_region_page_idx').on(t.regionCode, t.createdAt, t.id),
    index('mining_bans_page_idx').on(t.createdAt, t.id),
    // The bans overlapping a calendar's days (`to_date >= from`, then `from_date <= to`).
    index('mining_bans_dates_idx').on(t.toDate, t.fromDate),
  ],
);

/** Blocks the attributor has processed (one row per connected block: the idempotency key). */
export const miningBlocks = pgTable(
  'mining_blocks',
  {
    hash: text('hash').primaryKey(),
    height: integer('height').notNull(),
    time: at('time').notNull(),
  },
  // The supervisor's home page counts today's blocks and reads the tip.
  (t) => [
    index('mining_blocks_time_idx').on(t.time),
    index('mining_blocks_height_idx').on(t.height),
  ],
);

/** A coinbase output paying a registered payout address: that miner's output. */
export const miningAttributions = pgTable(
  'mining_attributions',
  {
    id: text('id').primaryKey(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => miningBlocks.hash, { onDelete: 'cascade' }),
    height: integer('height').notNull(),
    blockTime: at('block_time').notNull(),
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    valueSats: bigint('value_sats', { mode: 'bigint' }).notNull(),
    address: text('address').notNull(),
    minerId: text('miner_id').notNull(),
    siteId: text('site_id').notNull(),
    regionCode: text('region_code').notNull(),
    payoutKind: text('payout_kind').notNull(),
    poolName: text('pool_name'),
  },
  (t) => [
    uniqueIndex('mining_attributions_output_idx').on(t.blockHash, t.txid, t.vout),
    // The attributions list, newest block first: all, a miner's, a region's (keyset on block_time, id).
    index('mining_attributions_miner_page_idx').on(t.minerId, t.blockTime, t.id),
    index('mining_attributions_region_page_idx').on(t.regionCode, t.blockTime, t.id),
    index('mining_attributions_page_idx').on(t.blockTime, t.id),
    check('mining_attributions_value_check', sql`${t.valueSats} >= 0`),
  ],
);

/**
 * Output attributed to a site in a region banned at the block's time. The compliance module
 * links these into alerts (alert_id); the code is always MINING_BAN_VIOLATION.
 */
export const miningViolations = pgTable(
  'mining_violations',
  {
    attributionId: text('attribution_id')
      .primaryKey()
      .references(() => miningAttributions.id, { onDelete: 'cascade' }),
    code: text('code').notNull().default('MINING_BAN_VIOLATION'),
    banId: text('ban_id')
      .notNull()
      .references(() => miningBans.id),
    minerId: text('miner_id').notNull(),
    siteId: text('site_id').notNull(),
    regionCode: text('region_code').notNull(),
    blockHash: text('block_hash').notNull(),
    height: integer('height').notNull(),
    blockTime: at('block_time').notNull(),
    valueSats: bigint('value_sats', { mode: 'bigint' }).notNull(),
    status: text('status').notNull(),
    alertId: text('alert_id'),
    note: text('note'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('mining_violations_code_check', sql`${t.code} = 'MINING_BAN_VIOLATION'`),
    check(
      'mining_violations_status_check',
      sql`${t.status} in ('open', 'linked', 'confirmed', 'dismissed')`,
    ),
    // The violations list, newest block first: all, a miner's, by status, a region's.
    index('mining_violations_miner_page_idx').on(t.minerId, t.blockTime, t.attributionId),
    index('mining_violations_status_page_idx').on(t.status, t.blockTime, t.attributionId),
    index('mining_violations_region_page_idx').on(t.regionCode, t.blockTime, t.attributionId),
    index('mining_violations_page_idx').on(t.blockTime, t.attributionId),
  ],
);

/** Outputs that carry provenance (coinbase outputs attributed, and outputs of spends of tagged coins). */
export const provenanceOutputs = pgTable(
  'provenance_outputs',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => miningBlocks.hash, { onDelete: 'cascade' }),
    height: integer('height').notNull(),
    valueSats: bigint('value_sats', { mode: 'bigint' }).notNull(),
    coinbase: integer('coinbase').notNull(),
    spentByTxid: text('spent_by_txid'),
    spentInBlock: text('spent_in_block'),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout] }),
    index('provenance_outputs_block_idx').on(t.blockHash),
  ],
);

/** An output's provenance: (origin, sats) pairs, the origin an attribution. */
export const provenanceTags = pgTable(
  'provenance_tags',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    originId: text('origin_id')
      .notNull()
      .references(() => miningAttributions.id, { onDelete: 'cascade' }),
    sats: bigint('sats', { mode: 'bigint' }).notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => miningBlocks.hash, { onDelete: 'cascade' }),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout, t.originId] }),
    check('provenance_tags_sats_check', sql`${t.sats} > 0`),
    index('provenance_tags_block_idx').on(t.blockHash),
  ],
);

/** The inputs of transactions that spent tagged coins: the edges of the path back to the coinbases. */
export const provenanceInputs = pgTable(
  'provenance_inputs',
  {
    spendingTxid: text('spending_txid').notNull(),
    inputIndex: integer('input_index').notNull(),
    blockHash: text('block_hash')
      .notNull()
      .references(() => miningBlocks.hash, { onDelete: 'cascade' }),
    prevTxid: text('prev_txid').notNull(),
    prevVout: integer('prev_vout').notNull(),
    valueSats: bigint('value_sats', { mode: 'bigint' }).notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.spendingTxid, t.inputIndex] }),
    index('provenance_inputs_block_idx').on(t.blockHash),
  ],
);

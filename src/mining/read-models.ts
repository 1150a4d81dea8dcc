import { pgView } from 'drizzle-orm/pg-core';
import {
  miningAttributions,
  miningBans,
  miningBlocks,
  miningSites,
  miningViolations,
} from './schema';

/**
 * Mining's published read models: PostgreSQL views over its tables with only the columns
 * oversight's reports and home pages read. Its tables stay private. drizzle-kit creates the
 * views from these declarations, so a renamed column fails the typecheck here.
 */

/** Blocks seen, by height and time. */
export const miningBlockFacts = pgView('mining_block_facts').as((qb) =>
  qb.select({ height: miningBlocks.height, time: miningBlocks.time }).from(miningBlocks),
);

/** Attributed coinbase outputs: whose, in which region, when, how much. */
export const miningOutputFacts = pgView('mining_output_facts').as((qb) =>
  qb
    .select({
      id: miningAttributions.id,
      minerId: miningAttributions.minerId,
      regionCode: miningAttributions.regionCode,
      blockTime: miningAttributions.blockTime,
      valueSats: miningAttributions.valueSats,
    })
    .from(miningAttributions),
);

/** Outputs mined inside a ban, with their resolution status. */
export const miningViolationFacts = pgView('mining_violation_facts').as((qb) =>
  qb
    .select({
      attributionId: miningViolations.attributionId,
      minerId: miningViolations.minerId,
      siteId: miningViolations.siteId,
      regionCode: miningViolations.regionCode,
      height: miningViolations.height,
      blockTime: miningViolations.blockTime,
      valueSats: miningViolations.valueSats,
      status: miningViolations.status,
    })
    .from(miningViolations),
);

/** Bans by region and date range (the region's local dates). */
export const miningBanFacts = pgView('mining_ban_facts').as((qb) =>
  qb
    .select({
      id: miningBans.id,
      regionCode: miningBans.regionCode,
      kind: miningBans.kind,
      fromDate: miningBans.fromDate,
      toDate: miningBans.toDate,
      reason: miningBans.reason,
      liftedAt: miningBans.liftedAt,
    })
    .from(miningBans),
);

/** Sites' names. */
export const miningSiteNames = pgView('mining_site_names').as((qb) =>
  qb.select({ id: miningSites.id, name: miningSites.name }).from(miningSites),
);

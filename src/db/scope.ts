import { eq, or, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { seesEverything, type Caller } from '../kernel';

/**
 * Tenancy: the condition a store adds to every query so that a caller sees only its rows.
 *
 * Pass the columns the table has: `participant` is the owning participant (a company, miner or
 * platform); `platform` is the platform the row belongs to (for a company's rows, its platform).
 * The supervisor and the auditor see everything; a platform sees rows of its own and of its
 * clients; a company or miner sees rows it owns. A table without a column that lets the caller
 * in yields `false`, so forgetting a column hides rows rather than leaking them.
 */
export function scopeTo(
  caller: Caller,
  columns: { participant?: PgColumn; platform?: PgColumn },
): SQL | undefined {
  if (seesEverything(caller)) return undefined;
  const conditions: SQL[] = [];
  if (caller.role === 'platform' && columns.platform) {
    conditions.push(eq(columns.platform, caller.participantId));
  }
  if (columns.participant) conditions.push(eq(columns.participant, caller.participantId));
  if (conditions.length === 0) return sql`false`;
  return conditions.length === 1 ? conditions[0] : or(...conditions);
}

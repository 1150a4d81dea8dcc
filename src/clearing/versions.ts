import { desc, lte, sql } from 'drizzle-orm';
import type { AnyPgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Orm } from '../db';
import { invalid } from '../kernel';

/**
 * A setting the supervisor versions with effective dates (the cleared-origin rule, the
 * settlement window schedule): an append-only table of versions, each with the time it takes
 * effect. The version in force at T is the one with the latest `effectiveFrom` ≤ T, the higher
 * version on a tie; none before the first version takes effect.
 */
export type VersionedSettingTable = PgTable & {
  readonly version: AnyPgColumn;
  readonly effectiveFrom: AnyPgColumn;
};

/** The row of the version of `table` in force at `at`, or null when none has taken effect. */
export async function versionInForce<T extends VersionedSettingTable>(
  orm: Orm,
  table: T,
  at: Date,
): Promise<T['$inferSelect'] | null> {
  const versions: PgTable = table; // the generic table, as drizzle's `from` takes it
  const [row] = await orm
    .select()
    .from(versions)
    .where(lte(table.effectiveFrom, at))
    .orderBy(desc(table.effectiveFrom), desc(table.version))
    .limit(1);
  return (row as T['$inferSelect'] | undefined) ?? null;
}

/**
 * When a new version takes effect: `effectiveFrom` (now when absent), never in the past, for
 * decisions already taken under the version in force `stand`.
 */
export function effectiveFromOf(effectiveFrom: Date | undefined, now: Date, stand: string): Date {
  const from = effectiveFrom ?? now;
  if (Number.isNaN(from.getTime())) throw invalid('effectiveFrom', 'must be a valid time');
  if (from.getTime() < now.getTime())
    throw invalid('effectiveFrom', `must not be in the past: ${stand} stand`);
  return from;
}

/**
 * The next version number of `table`, inside the writer's transaction: the table is locked
 * against other writers (readers go on) until it ends, so one writer at a time picks it.
 */
export async function nextVersion(tx: Orm, table: VersionedSettingTable): Promise<number> {
  await tx.execute(sql`lock table ${table} in share row exclusive mode`);
  const [last] = await tx
    .select({ version: table.version })
    .from(table)
    .orderBy(desc(table.version))
    .limit(1);
  return Number(last?.version ?? 0) + 1;
}

/**
 * Simnet's tables are a migration set of their own (drizzle-simnet/, recorded in
 * drizzle.__simnet_migrations), applied by simnet's store when it opens: the platform's
 * migrations make none (0004_simnet is a no-op now, 0052 leaves them where they are), and a
 * database migrated the old way, with the tables from the old 0004, keeps its chain when simnet's
 * set adopts them.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ManualClock } from '../../src/kernel';
import { MIGRATIONS_FOLDER, rowsOf, type Database } from '../../src/db';
import { SIMNET_MIGRATIONS, Simnet } from '../../src/chain';
import { openBefore } from '../support/migrations';
import { openTestDatabase, TEST_DRIVERS } from '../support/db';

const SIMNET_SET_MIGRATION = '0052_simnet_apart_trade_parties_dropped';
/** What 0004_simnet created until simnet's tables left the platform's migrations. */
const OLD_0004_SQL = [
  `CREATE TABLE "simnet_blocks" ("hash" text PRIMARY KEY NOT NULL, "height" integer NOT NULL,
    "prev_hash" text, "raw" "bytea" NOT NULL, "active" boolean DEFAULT false NOT NULL,
    "status" text NOT NULL, "seq" bigserial NOT NULL)`,
  `CREATE TABLE "simnet_mempool" ("txid" text PRIMARY KEY NOT NULL, "raw" "bytea" NOT NULL,
    "time" integer NOT NULL, "seq" bigserial NOT NULL)`,
  `CREATE INDEX "simnet_blocks_height_idx" ON "simnet_blocks" USING btree ("height")`,
];
/** The SHA-256 of the old 0004_simnet.sql, as such a database recorded it. */
const OLD_0004_HASH = '570346ba14f4d1c6c43de7b334dfefeb43322848094c02b3fe0fa329f8b3e8df';
/** 0004_simnet's journal time, what the migrator recorded for it. */
const WHEN_0004 = (
  JSON.parse(readFileSync(path.join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as {
    entries: { tag: string; when: number }[];
  }
).entries.find((entry) => entry.tag === '0004_simnet')!.when;
const MINER = new Uint8Array([0x00, 0x14, ...new Uint8Array(20).fill(7)]); // P2WPKH

async function tablesOf(db: Database): Promise<string[]> {
  const result = await db.orm.execute(
    sql`select table_name from information_schema.tables
        where table_schema = 'public' and table_name in ('simnet_blocks', 'simnet_mempool', 'trade_parties', 'trade_parties_retired')
        order by table_name`,
  );
  return rowsOf(result).map((row) => String(row.table_name));
}

/** How many of simnet's migrations the database recorded (null: the set never ran). */
async function simnetSetRecord(db: Database): Promise<number | null> {
  const table = sql`${sql.identifier('drizzle')}.${sql.identifier(SIMNET_MIGRATIONS.table)}`;
  const name = `drizzle.${SIMNET_MIGRATIONS.table}`;
  const exists = rowsOf(await db.orm.execute(sql`select to_regclass(${name}) as t`))[0]?.t;
  if (!exists) return null;
  const rows = rowsOf(await db.orm.execute(sql`select count(*)::int as n from ${table}`));
  return Number(rows[0]?.n);
}

const openSimnet = (db: Database) =>
  Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });

describe.each(TEST_DRIVERS)("simnet's own migration set on %s", (driver) => {
  describe('a database migrated from scratch', () => {
    let db: Database;
    beforeAll(async () => {
      db = await openTestDatabase(driver);
    });
    afterAll(async () => {
      await db.close();
    });

    it("has no simnet table (nor trade_parties) from the platform's migrations", async () => {
      expect(await tablesOf(db)).toEqual([]);
      expect(await simnetSetRecord(db)).toBeNull();
      expect(await db.ready()).toEqual({ reachable: true, migrationsApplied: true });
    });

    it('gets them from simnet opening its store, once', async () => {
      const simnet = await openSimnet(db);
      expect(await tablesOf(db)).toEqual(['simnet_blocks', 'simnet_mempool']);
      expect(await simnetSetRecord(db)).toBe(1);
      const index = rowsOf(
        await db.orm.execute(
          sql`select indexname from pg_indexes where tablename = 'simnet_blocks' and indexname = 'simnet_blocks_height_idx'`,
        ),
      );
      expect(index).toHaveLength(1);
      await simnet.mine(2, MINER);
      // Opening again applies nothing twice and resumes the stored chain.
      const again = await openSimnet(db);
      expect(again.height).toBe(2);
      expect(await simnetSetRecord(db)).toBe(1);
      // The platform's migrations neither see nor touch the set.
      await db.migrate();
      expect(await db.ready()).toEqual({ reachable: true, migrationsApplied: true });
      expect((await openSimnet(db)).tip()).toEqual(simnet.tip());
    });
  });

  describe('a database migrated the old way (simnet tables from 0004)', () => {
    let old: { db: Database; close: () => Promise<void> };
    let source: Database;
    let sourceTip: { height: number; hash: string };

    beforeAll(async () => {
      // The chain such a database holds: mined on a database of today, copied row by row.
      source = await openTestDatabase(driver);
      const simnet = await openSimnet(source);
      await simnet.mine(3, MINER);
      sourceTip = simnet.tip();
      const blocks = rowsOf(
        await source.orm.execute(
          sql`select hash, height, prev_hash, encode(raw, 'hex') as raw, active, status
              from simnet_blocks order by seq`,
        ),
      );

      old = await openBefore(driver, SIMNET_SET_MIGRATION);
      const { db } = old;
      for (const statement of OLD_0004_SQL) await db.orm.execute(sql.raw(statement));
      const recorded = await db.orm.execute(
        sql`update drizzle.__drizzle_migrations set hash = ${OLD_0004_HASH}
            where created_at = ${WHEN_0004} returning id`,
      );
      expect(rowsOf(recorded)).toHaveLength(1);
      for (const block of blocks) {
        await db.orm.execute(
          sql`insert into simnet_blocks (hash, height, prev_hash, raw, active, status)
              values (${block.hash}, ${block.height}, ${block.prev_hash}, decode(${block.raw}, 'hex'), ${block.active}, ${block.status})`,
        );
      }
      // A party the old local directory kept: retained (renamed), not dropped.
      await db.orm.execute(
        sql`insert into trade_parties (id, kind, platform_id, name, country, verified)
            values ('par_old', 'counterparty', null, 'Old Supplier Ltd', 'GB', true)`,
      );
      await db.migrate();
    });
    afterAll(async () => {
      await old?.close();
      await source?.close();
    });

    it("keeps its simnet tables through the platform's migrations, and retires trade_parties", async () => {
      expect(await tablesOf(old.db)).toEqual([
        'simnet_blocks',
        'simnet_mempool',
        'trade_parties_retired',
      ]);
      const kept = rowsOf(await old.db.orm.execute(sql`select name from trade_parties_retired`));
      expect(kept.map((row) => row.name)).toEqual(['Old Supplier Ltd']);
      expect(await simnetSetRecord(old.db)).toBeNull();
      // 0004's recorded hash is the old file's: ready all the same, as the migrator goes by time.
      expect(await old.db.ready()).toEqual({ reachable: true, migrationsApplied: true });
    });

    it("accepts simnet's set, which adopts the tables and the chain in them", async () => {
      const simnet = await openSimnet(old.db);
      expect(await simnetSetRecord(old.db)).toBe(1);
      expect(simnet.tip()).toEqual(sourceTip);
      // The adopted tables take new rows (their sequences are the old ones).
      await simnet.mine(1, MINER);
      expect((await openSimnet(old.db)).height).toBe(sourceTip.height + 1);
    });
  });
});

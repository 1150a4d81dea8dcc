import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf, sqlState, UNIQUE_VIOLATION, type Database } from '.';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

/** The contract both drivers keep (PGlite always; PostgreSQL when TEST_DATABASE_URL is set). */
describe.each(TEST_DRIVERS)('Database contract on %s', (driver) => {
  let db: Database;
  afterEach(async () => db?.close());

  async function scratch(): Promise<void> {
    db = await openTestDatabase(driver);
    await db.orm.execute(sql`create table scratch (id text primary key, amount bigint not null)`);
  }

  it('reports ready once migrated', async () => {
    db = await openTestDatabase(driver);
    expect(await db.ready()).toEqual({ reachable: true, migrationsApplied: true });
    await db.migrate(); // idempotent
    expect((await db.ready()).migrationsApplied).toBe(true);
  });

  it('round-trips bigints beyond 2^53 exactly', async () => {
    await scratch();
    const values = [0n, 1n, 2n ** 53n + 1n, 2_100_000_000_000_000n, 2n ** 63n - 1n, -(2n ** 63n)];
    for (const [i, value] of values.entries()) {
      await db.orm.execute(
        sql`insert into scratch values (${`v${i}`}, ${value.toString()}::bigint)`,
      );
    }
    const rows = rowsOf(await db.orm.execute(sql`select id, amount from scratch order by id`));
    expect(rows.map((r) => BigInt(String(r.amount)))).toEqual(values);
  });

  it('rolls a transaction back when it throws', async () => {
    await scratch();
    await expect(
      db.transaction(async (tx) => {
        await tx.execute(sql`insert into scratch values ('a', 1)`);
        throw new Error('midway');
      }),
    ).rejects.toThrow('midway');
    expect(rowsOf(await db.orm.execute(sql`select * from scratch`))).toEqual([]);
  });

  it('rolls back when a statement fails, and reports the SQLSTATE', async () => {
    await scratch();
    await db.orm.execute(sql`insert into scratch values ('a', 1)`);
    const failure = await db
      .transaction(async (tx) => {
        await tx.execute(sql`insert into scratch values ('b', 2)`);
        await tx.execute(sql`insert into scratch values ('a', 3)`);
      })
      .catch((error: unknown) => error);
    expect(sqlState(failure)).toBe(UNIQUE_VIOLATION);
    const rows = rowsOf(await db.orm.execute(sql`select id from scratch`));
    expect(rows.map((r) => r.id)).toEqual(['a']);
  });

  it('serializes concurrent read-modify-write updates under a row lock', async () => {
    await scratch();
    await db.orm.execute(sql`insert into scratch values ('counter', 0)`);
    await Promise.all(
      Array.from({ length: 25 }, () =>
        db.transaction(async (tx) => {
          const [row] = rowsOf(
            await tx.execute(sql`select amount from scratch where id = 'counter' for update`),
          );
          const next = BigInt(String(row?.amount)) + 1n;
          await tx.execute(
            sql`update scratch set amount = ${next.toString()}::bigint where id = 'counter'`,
          );
        }),
      ),
    );
    const [row] = rowsOf(
      await db.orm.execute(sql`select amount from scratch where id = 'counter'`),
    );
    expect(String(row?.amount)).toBe('25');
  });
});

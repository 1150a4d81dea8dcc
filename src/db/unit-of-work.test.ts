import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { noteLock, rowsOf, type Database, type Orm } from '.';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

describe.each(TEST_DRIVERS)('the unit of work (%s)', (driver) => {
  let db: Database;

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    await db.orm.execute(sql`create table scratch (id text primary key)`);
  });
  afterEach(async () => {
    await db.close();
  });

  const write = (orm: Orm, id: string) => orm.execute(sql`insert into scratch values (${id})`);
  const ids = async (orm: Orm = db.orm) =>
    rowsOf(await orm.execute(sql`select id from scratch order by id`)).map((r) => String(r.id));
  /** A service atomic on its own that joins its caller's unit when it has one. */
  const service = (id: string) => db.unit((tx) => write(tx, id));
  /** A service that reads through whatever unit it runs in. */
  const reader = () => ids(db.current());

  it("joins the caller's unit instead of waiting for a second transaction", async () => {
    // On the embedded database's one connection a second transaction would wait forever.
    await db.transaction(async (tx) => {
      await write(tx, 'outer');
      await service('inner');
      expect(await reader()).toEqual(['inner', 'outer']);
      expect(db.inTransaction()).toBe(true);
    });
    expect(await ids()).toEqual(['inner', 'outer']);
    expect(db.inTransaction()).toBe(false);
  });

  it('rolls the joined work back with the unit that failed', async () => {
    await expect(
      db.transaction(async (tx) => {
        await write(tx, 'outer');
        await service('inner');
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await ids()).toEqual([]);
  });

  it('rolls back only a joined call that fails, as a savepoint, when its caller goes on', async () => {
    await db.transaction(async (tx) => {
      await write(tx, 'outer');
      await expect(
        db.unit(async (inner) => {
          await write(inner, 'inner');
          await write(inner, 'outer'); // a duplicate key: the inner call fails
        }),
      ).rejects.toThrow();
      await write(tx, 'after');
    });
    expect(await ids()).toEqual(['after', 'outer']);
  });

  it('opens a transaction of its own outside any unit', async () => {
    await expect(
      service('alone').then(() => {
        throw new Error('after');
      }),
    ).rejects.toThrow('after');
    expect(await ids()).toEqual(['alone']);
    expect(db.inTransaction()).toBe(false);
  });

  it('does not follow work that outlives its transaction', async () => {
    let late!: Promise<string[]>;
    await db.transaction(async (tx) => {
      await write(tx, 'a');
      late = new Promise((resolve) => setTimeout(resolve, 20)).then(reader);
    });
    // The timer was set inside the unit, but it has ended: the read goes to the pool.
    expect(await late).toEqual(['a']);
    expect(db.current()).toBe(db.orm);
  });

  it.runIf(driver === 'postgres')('runs detached work in a transaction of its own', async () => {
    await expect(
      db.transaction(async (tx) => {
        await write(tx, 'outer');
        await db.detached(() => service('detached'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await ids()).toEqual(['detached']);
  });

  it('refuses a wallet row locked after the audit head, in one place for every writer', async () => {
    await expect(
      db.transaction(async (tx) => {
        noteLock(tx, 'audit-head');
        // A joined savepoint shares its unit's locks.
        await db.unit(() => Promise.resolve(noteLock(db.current(), 'wallet', 'company-a')));
      }),
    ).rejects.toThrow(/lock order: wallet taken after audit-head/);
    // The other order is the one every writer follows; a new transaction starts afresh.
    await db.transaction(async (tx) => {
      noteLock(tx, 'wallet', 'company-a');
      noteLock(tx, 'audit-head');
      noteLock(tx, 'wallet', 'company-a'); // held already: locking it again waits for no one
      await write(tx, 'ordered');
    });
    await expect(
      db.transaction(async (tx) => {
        noteLock(tx, 'wallet', 'company-a');
        noteLock(tx, 'audit-head');
        noteLock(tx, 'wallet', 'company-b');
        await write(tx, 'never');
      }),
    ).rejects.toThrow(/lock order/);
    expect(await ids()).toEqual(['ordered']);
    // Work that only inherited the context locks in a transaction of its own: not counted.
    await db.transaction(async (tx) => {
      noteLock(tx, 'audit-head');
      noteLock(db.orm, 'wallet');
      await write(tx, 'inherited');
    });
    expect(await ids()).toEqual(['inherited', 'ordered']);
  });

  it('refuses a contract row locked after a wallet row or the audit head', async () => {
    for (const first of ['wallet', 'audit-head'] as const) {
      await expect(
        db.transaction((tx) => {
          noteLock(tx, first, 'x');
          noteLock(tx, 'contract', 'ctr_1');
          return Promise.resolve();
        }),
      ).rejects.toThrow(`lock order: contract taken after ${first}`);
    }
    // Contracts first (several, in any order among themselves), then a wallet, then the head.
    await db.transaction(async (tx) => {
      noteLock(tx, 'contract', 'ctr_2');
      noteLock(tx, 'contract', 'ctr_1');
      noteLock(tx, 'wallet', 'company-a');
      noteLock(tx, 'audit-head');
      await write(tx, 'contract-first');
    });
    expect(await ids()).toContain('contract-first');
  });
});

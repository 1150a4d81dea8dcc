import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, sqlState, UNIQUE_VIOLATION, type Database, type Orm } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet, SimnetChainSource } from '../simnet';
import type { ChainBlock } from '../block';
import { p2wpkhOf, testKey } from '../../../test/support/simnet';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';
import { createConsumerTables, events, recordingConsumer } from '../../../test/support/watcher';
import { ChainWatcher } from './index';

/**
 * Two watchers over one database (two servers' jobs, or one syncing at its start while the job
 * runs elsewhere): each block is connected once, by whichever gets there first, and the other
 * follows the cursor. A unique violation counts as that race only when the cursor has in fact
 * moved: a consumer's own duplicate, with the cursor where it was, is that consumer's error and
 * is thrown, not retried at once and forever as a race.
 */

const miner = p2wpkhOf(testKey('race miner')).script;

describe.each(TEST_DRIVERS)('two watchers over one database (%s)', (driver) => {
  let db: Database;
  let simnet: Simnet;
  let source: SimnetChainSource;

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    await createConsumerTables(db);
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    source = new SimnetChainSource(simnet);
  });
  afterEach(async () => {
    await db.close();
  });

  it('connects each block once when both sync at the same time', async () => {
    const start = simnet.height;
    const watchers = [0, 1].map(
      () => new ChainWatcher({ source, database: db, startHeight: start }),
    );
    for (const watcher of watchers) await watcher.registerConsumer(recordingConsumer());
    const mined = await simnet.mine(6, miner);
    const results = await Promise.all(watchers.map((w) => w.syncOnce()));
    // Between them they connected the start block and the six mined, each once.
    expect(results.reduce((sum, r) => sum + r.connected, 0)).toBe(7);
    const connects = (await events(db)).filter((e) => e.startsWith('connect'));
    expect(connects).toHaveLength(7);
    expect(connects.slice(1).map((e) => e.split(' ')[2])).toEqual(mined);
    for (const watcher of watchers) expect((await watcher.cursor())?.hash).toBe(mined.at(-1));
  });

  it("throws a consumer's own unique violation instead of taking it for a race", async () => {
    await db.orm.execute(sql`create table test_once (k text primary key)`);
    const watcher = new ChainWatcher({ source, database: db, startHeight: simnet.height });
    await watcher.registerConsumer({
      name: 'writes-one-row-twice',
      async blockConnected(_block: ChainBlock, tx: Orm) {
        // A bug: the same key for every block. The second block's insert violates it.
        await tx.execute(sql`insert into test_once (k) values ('same')`);
      },
    });
    await watcher.syncOnce(); // the start block: the row is written
    const before = await watcher.cursor();
    await simnet.mine(1, miner);
    const outcome = await Promise.race([
      watcher.syncOnce().then(
        () => 'synced',
        (error: unknown) => `thrown ${sqlState(error)}`,
      ),
      new Promise((resolve) => setTimeout(() => resolve('still retrying after 20 s'), 20_000)),
    ]);
    expect(outcome).toBe(`thrown ${UNIQUE_VIOLATION}`);
    // Nothing of the failed block was kept; the cursor is where it was.
    expect(await watcher.cursor()).toEqual(before);
    const rows = rowsOf(await db.orm.execute(sql`select k from test_once`));
    expect(rows).toEqual([{ k: 'same' }]);
  }, 60_000);
});

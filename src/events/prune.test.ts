import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, type Database, type Orm } from '../db';
import { ManualClock } from '../kernel';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';
import { eventsAfter, latestEventSeq } from './follow';
import { EventRelay, publish, type OutboxEvent, type Subscriber } from './outbox';

const HOUR_MS = 3_600_000;

/** A subscriber recording what it handled in a table of its own, failing on `fail`'s events. */
function recorder(name: string, topics: string[], fail?: (event: OutboxEvent) => boolean) {
  const subscriber: Subscriber<undefined> = {
    name,
    topics,
    async handle(event: OutboxEvent, tx: Orm) {
      await tx.execute(sql`insert into handled (subscriber, key) values (${name}, ${event.key})`);
      if (fail?.(event)) throw new Error(`cannot handle ${event.key}`);
    },
  };
  return subscriber;
}

describe.each(TEST_DRIVERS)('outbox pruning (%s)', (driver) => {
  let db: Database;
  let clock: ManualClock;
  const retention = { heardMs: HOUR_MS, unheardMs: 60_000 };

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    clock = new ManualClock('2026-12-07T09:00:00Z');
    await db.orm.execute(sql`create table handled (subscriber text, key text)`);
  });
  afterEach(async () => {
    await db.close();
  });

  const announce = (key: string, topic = 'thing.done') =>
    db.transaction((tx) => publish(tx, clock, { topic, key, payload: { key } }));
  const remaining = async () =>
    rowsOf(await db.orm.execute(sql`select key from outbox_events order by seq`)).map((r) =>
      String(r.key),
    );
  const handled = async (name: string) =>
    rowsOf(
      await db.orm.execute(sql`select key from handled where subscriber = ${name} order by key`),
    ).map((r) => String(r.key));
  const seqOf = async (key: string) => {
    const [row] = rowsOf(
      await db.orm.execute(sql`select seq::text as seq from outbox_events where key = ${key}`),
    );
    return BigInt(String(row?.seq));
  };
  const markOf = async (name: string) => {
    const [row] = rowsOf(
      await db.orm.execute(
        sql`select below_seq::text as below from outbox_marks where subscriber = ${name}`,
      ),
    );
    return row ? BigInt(String(row.below)) : null;
  };
  /**
   * Runs the relay until `name`'s mark reaches `seq` (it moves once every transaction open on the
   * server when its candidate was taken has ended, which on a shared server takes its time).
   */
  const runUntilMark = async (relay: EventRelay, name: string, seq: bigint) => {
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const mark = await markOf(name);
      if (mark !== null && mark >= seq) return mark;
      await relay.run();
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return markOf(name);
  };

  it('deletes only what every subscriber of its topic handled, past the retention', async () => {
    let broken = true;
    const relay = new EventRelay({ db, clock, retention });
    relay.subscribe(recorder('a', ['thing.done'], (e) => broken && e.key === 'bad'));
    relay.subscribe(recorder('b', ['thing.done', 'other.done']));
    await announce('e0');
    await announce('o0', 'other.done');
    await announce('bad');
    await announce('e1');
    await announce('feed0', 'feed.only'); // no subscriber: the live feed's alone
    expect(await relay.run()).toEqual({ handled: 6, failed: 1 });
    const bad = await seqOf('bad');
    expect(await runUntilMark(relay, 'a', bad)).toBe(bad); // held at the failed event
    expect(await runUntilMark(relay, 'b', (await seqOf('feed0')) + 1n)).toBeGreaterThan(bad);

    // Within the retention nothing goes, handled or not.
    expect(await relay.prune()).toBe(0);
    clock.advance(2 * HOUR_MS);
    // a's failed event and everything of its topic above its mark stay; b's other topic goes.
    expect(await relay.prune()).toBe(3);
    expect(await remaining()).toEqual(['bad', 'e1']);

    // The failed event is retried and handled once; then its topic goes too.
    broken = false;
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(await handled('a')).toEqual(['bad', 'e0', 'e1']);
    expect(await runUntilMark(relay, 'a', (await seqOf('e1')) + 1n)).toBeGreaterThan(bad);
    expect(await relay.prune()).toBe(2);
    expect(await remaining()).toEqual([]);

    // The relay still hands what comes next, once to each subscriber.
    await announce('after');
    expect(await relay.run()).toEqual({ handled: 2, failed: 0 });
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
    expect(await handled('a')).toEqual(['after', 'bad', 'e0', 'e1']);
    expect(await handled('b')).toEqual(['after', 'bad', 'e0', 'e1', 'o0']);
  });

  it('keeps the events of a subscriber that has no mark yet, whatever their age', async () => {
    const relay = new EventRelay({ db, clock, retention });
    relay.subscribe(recorder('late', ['late.topic']));
    await announce('old', 'late.topic');
    clock.advance(30 * 24 * HOUR_MS);
    expect(await relay.prune()).toBe(0);
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(await handled('late')).toEqual(['old']);
  });

  it('prunes in bounded batches, and the live feed follows on after', async () => {
    const relay = new EventRelay({ db, clock, retention });
    for (let i = 0; i < 7; i += 1) await announce(`f${i}`, 'feed.only');
    const newest = await latestEventSeq(db.orm, 'feed.only');
    clock.advance(59_000);
    expect(await relay.prune()).toBe(0); // younger than the feed's retention
    clock.advance(2_000);
    expect(await relay.prune({ batch: 3, maxBatches: 2 })).toBe(6);
    expect(await remaining()).toEqual(['f6']);
    expect(await relay.prune({ batch: 3, maxBatches: 2 })).toBe(1);
    expect(await remaining()).toEqual([]);
    // A reader that had read up to the newest sees the next event, and a new one starts there.
    await announce('f7', 'feed.only');
    const next = await eventsAfter(db.orm, 'feed.only', newest, 10);
    expect(next.map((e) => e.key)).toEqual(['f7']);
    expect(await latestEventSeq(db.orm, 'feed.only')).toBe(next[0]!.seq);
  });
});

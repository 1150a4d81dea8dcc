import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, type Database, type Orm } from '../db';
import { ManualClock } from '../kernel';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';
import { EventRelay, publish, type OutboxEvent, type Subscriber } from './outbox';

/** A subscriber that writes what it handled into a table of its own, in the delivery's transaction. */
function recorder(name: string, topics: string[], fail?: (event: OutboxEvent) => boolean) {
  const subscriber: Subscriber<string> = {
    name,
    topics,
    prepare: () => Promise.resolve(`prepared:${name}`),
    async handle(event: OutboxEvent, tx: Orm, prepared: string) {
      await tx.execute(
        sql`insert into handled (subscriber, seq, prepared) values (${name}, ${event.seq}, ${prepared})`,
      );
      if (fail?.(event)) throw new Error(`cannot handle ${event.key}`);
    },
  };
  return subscriber;
}

async function handled(db: Database, name: string): Promise<string[]> {
  const rows = rowsOf(
    await db.orm.execute(
      sql`select e.key from handled h join outbox_events e on e.seq = h.seq
          where h.subscriber = ${name} order by e.seq`,
    ),
  );
  return rows.map((r) => String(r.key));
}

async function pendingDelivery(db: Database) {
  const rows = rowsOf(
    await db.orm.execute(
      sql`select attempts, last_error from outbox_deliveries where handled_at is null`,
    ),
  );
  return rows[0];
}

describe.each(TEST_DRIVERS)('the outbox relay (%s)', (driver) => {
  let db: Database;
  const clock = new ManualClock('2026-12-07T09:00:00Z');

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    await db.orm.execute(
      sql`create table handled (subscriber text, seq bigint, prepared text, primary key (subscriber, seq))`,
    );
  });
  afterEach(async () => {
    await db.close();
  });

  const announce = (key: string, topic = 'thing.done') =>
    db.transaction((tx) => publish(tx, clock, { topic, key, payload: { key } }));

  it('hands each event of its topics to each subscriber exactly once, oldest first', async () => {
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done']));
    relay.subscribe(recorder('b', ['thing.done', 'other.done']));
    await announce('one');
    await announce('two', 'other.done');
    await announce('three');
    expect(await relay.run()).toEqual({ handled: 5, failed: 0 });
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
    expect(await handled(db, 'a')).toEqual(['one', 'three']);
    expect(await handled(db, 'b')).toEqual(['one', 'two', 'three']);
  });

  it('publishes nothing when the announcing transaction rolls back', async () => {
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done']));
    await expect(
      db.transaction(async (tx) => {
        await publish(tx, clock, { topic: 'thing.done', key: 'never', payload: {} });
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
  });

  it('rolls back a failed handler with its delivery, keeps the error, and retries after a backoff', async () => {
    let broken = true;
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done'], (e) => broken && e.key === 'bad'));
    await announce('bad');
    await announce('good');
    expect(await relay.run()).toEqual({ handled: 1, failed: 1 });
    // The failed handler's write rolled back with it; the other event went through.
    expect(await handled(db, 'a')).toEqual(['good']);
    expect(await pendingDelivery(db)).toMatchObject({
      attempts: 1,
      last_error: 'cannot handle bad',
    });
    // Not before its backoff (1 s after the first failure)…
    broken = false;
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
    clock.advance(1_000);
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(await handled(db, 'a')).toEqual(['bad', 'good']);
  });

  it('delivers an event that committed after a later-numbered one was handled', async () => {
    // A cursor over seq would skip it: the first transaction takes its number, the second
    // commits and is handled, then the first commits.
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done']));
    if (driver === 'pglite') {
      // One connection: the interleaving cannot happen; the sequence gap is simulated instead.
      await db.orm.execute(sql`select nextval('outbox_events_seq_seq')`);
      await announce('later');
      expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
      await db.orm.execute(
        sql`insert into outbox_events (seq, topic, key, payload, created_at)
            values (1, 'thing.done', 'earlier', '{}', now())`,
      );
    } else {
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let numbered!: () => void;
      const tookNumber = new Promise<void>((resolve) => (numbered = resolve));
      const slow = db.transaction(async (tx) => {
        await publish(tx, clock, { topic: 'thing.done', key: 'earlier', payload: {} });
        numbered();
        await held;
      });
      await tookNumber;
      await announce('later');
      expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
      release();
      await slow;
    }
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect((await handled(db, 'a')).sort()).toEqual(['earlier', 'later']);
  });

  it('hands an event to one of two relays racing on one database, never to both', async () => {
    const first = new EventRelay({ db, clock });
    const second = new EventRelay({ db, clock });
    first.subscribe(recorder('a', ['thing.done']));
    second.subscribe(recorder('a', ['thing.done']));
    for (let i = 0; i < 20; i += 1) await announce(`e${i}`);
    const [x, y] = await Promise.all([first.run(), second.run()]);
    expect(x.handled + y.handled).toBe(20);
    expect(x.failed + y.failed).toBe(0);
    expect(await handled(db, 'a')).toHaveLength(20);
  });

  const markOf = async (name: string) => {
    const [row] = rowsOf(
      await db.orm.execute(
        sql`select below_seq::text as below from outbox_marks where subscriber = ${name}`,
      ),
    );
    return row ? BigInt(String(row.below)) : null;
  };
  /**
   * Runs the relay until `name`'s mark satisfies `done`, and answers the mark. The mark passes a
   * candidate only once every transaction open on the server when the candidate was taken has
   * ended (the snapshot's xmin), and on a shared server that counts other databases' transactions
   * too (other test files running meanwhile): it moves eventually, not on a given run.
   */
  const runUntilMark = async (
    relay: EventRelay,
    name: string,
    done: (mark: bigint) => boolean,
  ): Promise<bigint | null> => {
    for (let attempt = 0; attempt < 300; attempt += 1) {
      const mark = await markOf(name);
      if (mark !== null && done(mark)) return mark;
      await relay.run();
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return markOf(name);
  };
  const deliveryRows = async (name: string) =>
    rowsOf(
      await db.orm.execute(
        sql`select seq from outbox_deliveries where subscriber = ${name} order by seq`,
      ),
    ).map((r) => BigInt(String(r.seq)));

  it('moves its low-water mark past handled events and prunes their delivery rows', async () => {
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done']));
    for (let i = 0; i < 5; i += 1) await announce(`e${i}`);
    expect(await relay.run()).toEqual({ handled: 5, failed: 0 });
    // The first run only takes a candidate: the numbers it saw may still belong to running work.
    expect(await markOf('a')).toBe(0n);
    expect(await deliveryRows('a')).toHaveLength(5);
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
    const [last] = rowsOf(
      await db.orm.execute(sql`select max(seq)::text as seq from outbox_events`),
    );
    const end = BigInt(String(last?.seq)) + 1n;
    expect(await runUntilMark(relay, 'a', (mark) => mark >= end)).toBe(end);
    expect(await deliveryRows('a')).toEqual([]);
    // Later events are still delivered, once.
    await announce('after');
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(await relay.run()).toEqual({ handled: 0, failed: 0 });
    expect(await handled(db, 'a')).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'after']);
  });

  it('keeps its mark below an event that failed until it is handled', async () => {
    let broken = true;
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done'], (e) => broken && e.key === 'bad'));
    await announce('good');
    await announce('bad');
    await announce('good2');
    expect(await relay.run()).toEqual({ handled: 2, failed: 1 });
    const [bad] = rowsOf(
      await db.orm.execute(sql`select seq::text as seq from outbox_events where key = 'bad'`),
    );
    const badSeq = BigInt(String(bad?.seq));
    // It moves up to the failed event and stays there, however many runs pass.
    expect(await runUntilMark(relay, 'a', (mark) => mark >= badSeq)).toBe(badSeq);
    for (let i = 0; i < 3; i += 1) await relay.run();
    expect(await markOf('a')).toBe(badSeq);
    broken = false;
    clock.advance(1_000);
    expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
    expect(await runUntilMark(relay, 'a', (mark) => mark > badSeq)).toBeGreaterThan(badSeq);
    expect(await handled(db, 'a')).toEqual(['good', 'bad', 'good2']);
  });

  it.runIf(driver === 'postgres')(
    'does not pass an event whose transaction is still running when the mark moves',
    async () => {
      const relay = new EventRelay({ db, clock });
      relay.subscribe(recorder('a', ['thing.done']));
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let numbered!: () => void;
      const tookNumber = new Promise<void>((resolve) => (numbered = resolve));
      const slow = db.transaction(async (tx) => {
        await publish(tx, clock, { topic: 'thing.done', key: 'slow', payload: {} });
        numbered();
        await held;
      });
      await tookNumber;
      for (let i = 0; i < 3; i += 1) await announce(`fast${i}`);
      // Several runs while the slow transaction is open: the mark must stay at its number.
      for (let i = 0; i < 3; i += 1) await relay.run();
      expect(await handled(db, 'a')).toEqual(['fast0', 'fast1', 'fast2']);
      expect(await markOf('a')).toBe(0n);
      release();
      await slow;
      expect(await relay.run()).toEqual({ handled: 1, failed: 0 });
      expect((await handled(db, 'a')).sort()).toEqual(['fast0', 'fast1', 'fast2', 'slow']);
    },
  );

  it('refuses two subscribers under one name', () => {
    const relay = new EventRelay({ db, clock });
    relay.subscribe(recorder('a', ['thing.done']));
    expect(() => relay.subscribe(recorder('a', ['other.done']))).toThrow(/already registered/);
  });
});

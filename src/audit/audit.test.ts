import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { noteLock, rowsOf, type Database } from '../db';
import { ManualClock, systemCaller, type Caller } from '../kernel';
import { ENTITY_CHANGED, eventHash, listAuditEvents, recordAuditBatch, verifyAuditChain } from '.';
import { recordAudit } from './audit';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

describe.each(TEST_DRIVERS)('audit chain on %s', (driver) => {
  let db: Database;
  afterEach(async () => db?.close());

  async function seed(count: number): Promise<void> {
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    for (let i = 0; i < count; i++) {
      clock.advance(1000);
      await db.transaction((tx) =>
        recordAudit(tx, systemCaller(), clock, {
          action: 'thing.changed',
          entityType: 'thing',
          entityId: `thing-${i}`,
          before: { n: i, big: 10n ** 20n },
          after: { n: i + 1, nested: { b: 2, a: 1 } },
        }),
      );
    }
  }

  /** Changes a row by hand, as a DBA with a grudge would: past the append-only trigger. */
  async function tamper(statement: ReturnType<typeof sql>): Promise<void> {
    await db.transaction(async (tx) => {
      await tx.execute(sql`alter table audit_events disable trigger audit_events_no_update`);
      await tx.execute(statement);
      await tx.execute(sql`alter table audit_events enable trigger audit_events_no_update`);
    });
  }

  it('verifies an untouched chain', async () => {
    db = await openTestDatabase(driver);
    await seed(5);
    const result = await verifyAuditChain(db.orm);
    expect(result).toMatchObject({ ok: true, events: 5 });
  });

  it('hashes in the database exactly as the verifier does, for any script and value', async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    await db.transaction((tx) =>
      recordAudit(tx, systemCaller(), clock, {
        action: 'party.renamed',
        entityType: 'party',
        entityId: 'par_x',
        before: { name: 'ООО «Ромашка»', note: 'tab\there, quote " and backslash \\' },
        after: {
          name: 'Ρομάσκα Α.Ε. — 株式会社 — €',
          amount: 2n ** 70n,
          nested: [{ z: 1, a: null }],
        },
      }),
    );
    const [event] = (await listAuditEvents(db.orm, { entityId: 'par_x' }, { limit: 1 })).items;
    expect(event && eventHash(event.prevHash, event)).toBe(event?.hash);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 1 });
  });

  it('refuses UPDATE and DELETE on audit events', async () => {
    db = await openTestDatabase(driver);
    await seed(1);
    await expect(db.orm.execute(sql`update audit_events set actor = 'mallory'`)).rejects.toThrow();
    await expect(db.orm.execute(sql`delete from audit_events`)).rejects.toThrow();
    expect((await verifyAuditChain(db.orm)).ok).toBe(true);
  });

  it('names the altered event', async () => {
    db = await openTestDatabase(driver);
    await seed(5);
    const [third] = (await listAuditEvents(db.orm, { entityId: 'thing-2' }, { limit: 1 })).items;
    await tamper(sql`update audit_events set after = '{"n": 999}' where entity_id = 'thing-2'`);
    const result = await verifyAuditChain(db.orm);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.brokenEvent?.id).toBe(third?.id);
    expect(result.reason).toMatch(/altered/);
  });

  it('names the event after a removed one', async () => {
    db = await openTestDatabase(driver);
    await seed(5);
    const [fourth] = (await listAuditEvents(db.orm, { entityId: 'thing-3' }, { limit: 1 })).items;
    await tamper(sql`delete from audit_events where entity_id = 'thing-2'`);
    const result = await verifyAuditChain(db.orm);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.brokenEvent?.id).toBe(fourth?.id);
  });

  it('detects removal of the newest event through the head', async () => {
    db = await openTestDatabase(driver);
    await seed(3);
    await tamper(sql`delete from audit_events where entity_id = 'thing-2'`);
    const result = await verifyAuditChain(db.orm);
    expect(result).toMatchObject({ ok: false, brokenEvent: null });
  });

  it('verifies while events are appended (no false alarm), counting the head it started from', async () => {
    db = await openTestDatabase(driver);
    await seed(12);
    const appending = seed(20);
    // Small batches, so that the appends land between the verifier's reads.
    const results = await Promise.all([
      verifyAuditChain(db.orm, undefined, 3),
      verifyAuditChain(db.orm, undefined, 5),
    ]);
    await appending;
    for (const result of results) expect(result).toMatchObject({ ok: true });
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 32 });
  });

  it('detects events written behind the head', async () => {
    db = await openTestDatabase(driver);
    await seed(3);
    const [last] = rowsOf(
      await db.orm.execute(sql`select hash from audit_events order by seq desc limit 1`),
    );
    // A well-formed event linked to the last one, but the head does not record it.
    await db.orm.execute(sql`insert into audit_events (id, at, actor, actor_role, action,
      entity_type, entity_id, prev_hash, hash)
      values ('aud_rogue', now(), 'x', 'system', 'thing.changed', 'thing', 'rogue',
        ${String(last!.hash)}, repeat('a', 64))`);
    const result = await verifyAuditChain(db.orm);
    expect(result).toMatchObject({ ok: false, events: 3 });
    expect(result.ok ? '' : result.reason).toContain('behind its back');
  });

  it('keeps the chain linear under concurrent appends', async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        db.transaction((tx) =>
          recordAudit(tx, systemCaller(), clock, {
            action: 'x.y',
            entityType: 'x',
            entityId: `${i}`,
          }),
        ),
      ),
    );
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 20 });
  });

  it('appends a batch in order, each event linked to the one before, as single appends would', async () => {
    db = await openTestDatabase(driver);
    await seed(2);
    const clock = new ManualClock('2026-07-02T00:00:00Z');
    const officer: Caller = {
      role: 'supervisor',
      participantId: 'par_supervisor',
      platformId: null,
      actorId: 'usr_officer',
      personId: 'usr_officer',
      requestId: 'req_1',
    };
    const entries = Array.from({ length: 40 }, (_, i) => ({
      caller: i % 2 === 0 ? systemCaller() : officer,
      entry: {
        action: 'decision.made',
        entityType: 'decision',
        entityId: `dec_${i}`,
        ...(i % 3 === 0 ? {} : { before: { n: i } }),
        after: { n: i, name: 'Ρομάσκα — 株式会社 "q" \\', big: 2n ** 70n },
      },
    }));
    const ids = await db.transaction((tx) => recordAuditBatch(tx, clock, entries));
    await seed(1);
    expect(ids).toHaveLength(40);
    const events = (await listAuditEvents(db.orm, {}, { limit: 100 })).items.reverse();
    expect(events.map((e) => e.entityId)).toEqual([
      'thing-0',
      'thing-1',
      ...entries.map((e) => e.entry.entityId),
      'thing-0',
    ]);
    for (const [i, event] of events.entries()) {
      expect(eventHash(event.prevHash, event)).toBe(event.hash);
      if (i > 0) expect(event.prevHash).toBe(events[i - 1]?.hash);
    }
    expect(events[2]?.before).toBeNull();
    expect(events[3]).toMatchObject({
      actor: 'usr_officer',
      participantId: 'par_supervisor',
      requestId: 'req_1',
    });
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 43 });
  });

  it('keeps the chain linear when batches and single appends run concurrently', async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    const entry = (id: string) => ({ action: 'x.y', entityType: 'x', entityId: id });
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        db.transaction(async (tx) => {
          if (i % 2 === 0) await recordAudit(tx, systemCaller(), clock, entry(`single-${i}`));
          else
            await recordAuditBatch(
              tx,
              clock,
              [0, 1, 2].map((j) => ({ caller: systemCaller(), entry: entry(`batch-${i}-${j}`) })),
            );
        }),
      ),
    );
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 24 });
    // Their announcements are numbered under the head's lock: in the chain's (commit) order.
    expect((await announced()).map((e) => e.auditId)).toEqual(
      rowsOf(await db.orm.execute(sql`select id from audit_events order by seq`)).map((r) => r.id),
    );
  });

  /** The `entity.changed` payloads in the outbox, by number. */
  const announced = async () =>
    rowsOf(
      await db.orm.execute(
        sql`select key, payload from outbox_events where topic = ${ENTITY_CHANGED} order by seq`,
      ),
    ).map((r): Record<string, unknown> => ({ key: r.key, ...(r.payload as object) }));

  it('announces every event as entity.changed in its statement, with who may be told of it', async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    const company: Caller = {
      role: 'company',
      participantId: 'cmp_a',
      platformId: 'plt_n',
      actorId: 'key_1',
      personId: 'usr_1',
      requestId: 'req_1',
    };
    const platform: Caller = { ...company, role: 'platform', participantId: 'plt_n' };
    const single = await db.transaction((tx) =>
      recordAudit(tx, company, clock, {
        action: 'invoice.created',
        entityType: 'invoice',
        entityId: 'inv_1',
        after: { secret: 'never announced' },
      }),
    );
    const batch = await db.transaction((tx) =>
      recordAuditBatch(tx, clock, [
        {
          caller: platform,
          entry: { action: 'kyc.set', entityType: 'participant', entityId: 'cmp_a' },
        },
        { caller: systemCaller(), entry: { action: 'x.y', entityType: 'x', entityId: 'x_1' } },
      ]),
    );
    await expect(
      db.transaction(async (tx) => {
        await recordAudit(tx, company, clock, { action: 'x.y', entityType: 'x', entityId: 'gone' });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const base = { actorRole: 'company', participantId: 'cmp_a', platformId: 'plt_n' };
    expect(await announced()).toEqual([
      {
        key: 'inv_1',
        auditId: single,
        action: 'invoice.created',
        entityType: 'invoice',
        entityId: 'inv_1',
        ...base,
      },
      // A platform's own event is scoped by the platform itself.
      {
        key: 'cmp_a',
        auditId: batch[0],
        action: 'kyc.set',
        entityType: 'participant',
        entityId: 'cmp_a',
        ...base,
        actorRole: 'platform',
        participantId: 'plt_n',
        platformId: null,
      },
      // The system's is nobody's: supervisor and auditor only.
      {
        key: 'x_1',
        auditId: batch[1],
        action: 'x.y',
        entityType: 'x',
        entityId: 'x_1',
        actorRole: 'supervisor',
        participantId: null,
        platformId: null,
      },
    ]);
  });

  it('runs the caller’s writes given as common table expressions in the same statement', async () => {
    db = await openTestDatabase(driver);
    await db.orm.execute(sql`create table audit_test_rows (id text primary key)`);
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    const write = (id: string) => sql`test_rows as (insert into audit_test_rows values (${id}))`;
    await db.transaction((tx) =>
      recordAuditBatch(
        tx,
        clock,
        [{ caller: systemCaller(), entry: { action: 'x.y', entityType: 'x', entityId: 'a' } }],
        write('a'),
      ),
    );
    // Nothing to audit: the writes still run.
    await db.transaction((tx) => recordAuditBatch(tx, clock, [], write('b')));
    await expect(
      db.transaction(async (tx) => {
        await recordAuditBatch(
          tx,
          clock,
          [{ caller: systemCaller(), entry: { action: 'x.y', entityType: 'x', entityId: 'c' } }],
          write('c'),
        );
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    const rows = await db.orm.execute(sql`select id from audit_test_rows order by id`);
    expect(rowsOf(rows).map((r) => r.id)).toEqual(['a', 'b']);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 1 });
  });

  it('writes nothing of a batch when the surrounding transaction fails', async () => {
    db = await openTestDatabase(driver);
    await seed(1);
    await expect(
      db.transaction(async (tx) => {
        await recordAuditBatch(tx, new ManualClock('2026-01-01'), [
          { caller: systemCaller(), entry: { action: 'x.y', entityType: 'x', entityId: 'a' } },
          { caller: systemCaller(), entry: { action: 'x.y', entityType: 'x', entityId: 'b' } },
        ]);
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 1 });
  });

  it('writes nothing when the surrounding transaction fails', async () => {
    db = await openTestDatabase(driver);
    await seed(1);
    await expect(
      db.transaction(async (tx) => {
        await recordAudit(tx, systemCaller(), new ManualClock('2026-01-01'), {
          action: 'x.y',
          entityType: 'x',
          entityId: 'rolled-back',
        });
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 1 });
  });

  it('notes the audit head it locks, so a wallet row locked after it is refused', async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-12-07T09:00:00Z');
    await expect(
      db.transaction(async (tx) => {
        await recordAudit(tx, systemCaller('test'), clock, {
          action: 'test.locked',
          entityType: 'scratch',
          entityId: 'x',
        });
        noteLock(tx, 'wallet');
      }),
    ).rejects.toThrow(/lock order: wallet taken after audit-head/);
    expect(rowsOf(await db.orm.execute(sql`select 1 from audit_events`))).toHaveLength(0);
  });
});

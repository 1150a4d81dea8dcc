import { asc, desc, eq, gt, like, sql, and, type SQL } from 'drizzle-orm';
import { newId, type Caller, type Clock } from '../kernel';
import { keysetOn, noteLock, type Orm, type Page, type PageRequest } from '../db';
import { auditEvents, auditHead } from './schema';
import { publishWith } from '../events';
import { entityChanged } from './changed';
import { eventBody, eventHash, GENESIS_HASH, toJsonValue } from './hash';

export interface AuditEntry {
  /** What happened, as `<entity>.<verb>`: `licence.suspended`, `invoice.settled`. */
  action: string;
  entityType: string;
  entityId: string;
  before?: unknown;
  after?: unknown;
}

/**
 * Appends one event to the audit chain. Call it inside the same transaction as the change it
 * records, so the change and its audit event commit together or not at all. The head row is
 * locked for the rest of the transaction, which serializes appends and keeps the chain linear.
 * Not exported from the module: services record through `AuditLog` (log.ts), which runs this in
 * the caller's unit of work instead of taking a transaction handle, and refuses outside one.
 */
export async function recordAudit(
  tx: Orm,
  caller: Caller,
  clock: Clock,
  entry: AuditEntry,
): Promise<string> {
  noteLock(tx, 'audit-head');
  const at = clock.now();
  const event = {
    id: newId('auditEvent', at),
    at,
    actor: caller.actorId,
    actorRole: caller.role,
    participantId: caller.participantId === 'system' ? null : caller.participantId,
    action: entry.action,
    entityType: entry.entityType,
    entityId: entry.entityId,
    before: entry.before === undefined ? null : toJsonValue(entry.before),
    after: entry.after === undefined ? null : toJsonValue(entry.after),
    requestId: caller.requestId,
  };
  // One statement, one round trip: lock the head row, hash (PostgreSQL's built-in sha256 over
  // the same `prevHash + "\n" + canonical body` that `eventHash` computes), insert the event,
  // announce it (`entity.changed`, numbered under the head's lock) and advance the head. The head
  // row stays locked until the caller's transaction ends, which keeps the chain linear; callers
  // append last so that the lock is held briefly.
  const body = eventBody(event);
  await tx.execute(sql`
    with prev as (
      select last_hash from audit_head where singleton = 1 for update
    ), inserted as (
      insert into audit_events
        (id, at, actor, actor_role, participant_id, action, entity_type, entity_id,
         before, after, request_id, prev_hash, hash)
      select ${event.id}, ${at.toISOString()}::timestamptz, ${event.actor}, ${event.actorRole},
        ${event.participantId}, ${event.action}, ${event.entityType}, ${event.entityId},
        ${event.before === null ? null : JSON.stringify(event.before)}::jsonb,
        ${event.after === null ? null : JSON.stringify(event.after)}::jsonb,
        ${event.requestId}, prev.last_hash,
        encode(sha256(convert_to(prev.last_hash || E'\n' || ${body}, 'UTF8')), 'hex')
      from prev
      returning id, hash
    ), announced as (${publishWith(sql`inserted`, [entityChanged(caller, event)])})
    update audit_head
       set count = audit_head.count + 1, last_hash = inserted.hash, last_id = inserted.id
      from inserted
     where audit_head.singleton = 1`);
  return event.id;
}

/**
 * Appends several events to the audit chain in one statement, in the order given, each by its
 * own caller: for a writer that commits a batch of changes (group commit) in one transaction.
 * The chain is exactly what as many `recordAudit` calls would make: each event hashes the one
 * before it (PostgreSQL's sha256 over `prevHash + "\n" + canonical body`, as `eventHash`), the
 * head row is locked until the transaction ends and advanced to the last event.
 *
 * `alsoWith`: data-modifying common table expressions of the caller (`name as (insert …)`,
 * comma-separated) run by the same statement, so that a batch of changes and their audit events
 * are written in one round trip. They must not use the names `audit_input`, `audit_prev`,
 * `audit_chain`, `audit_inserted` or `audit_announced`.
 *
 * Each event is announced as `entity.changed` in the same statement, numbered in chain order.
 */
export async function recordAuditBatch(
  tx: Orm,
  clock: Clock,
  items: ReadonlyArray<{ caller: Caller; entry: AuditEntry }>,
  alsoWith?: SQL,
): Promise<string[]> {
  if (items.length > 0) noteLock(tx, 'audit-head');
  if (items.length === 0) {
    if (alsoWith) await tx.execute(sql`with ${alsoWith} select 1`);
    return [];
  }
  // Each event travels as its canonical body only (what its hash covers): the statement takes
  // the columns from it, so what is stored is exactly what is hashed.
  const events = items.map(({ caller, entry }) => {
    const at = clock.now();
    const id = newId('auditEvent', at);
    return {
      id,
      changed: entityChanged(caller, { id, at, ...entry }),
      body: eventBody({
        id,
        at,
        actor: caller.actorId,
        actorRole: caller.role,
        participantId: caller.participantId === 'system' ? null : caller.participantId,
        action: entry.action,
        entityType: entry.entityType,
        entityId: entry.entityId,
        before: entry.before === undefined ? null : entry.before,
        after: entry.after === undefined ? null : entry.after,
        requestId: caller.requestId,
      }),
    };
  });
  // `audit_chain` walks the events in order from the locked head, hashing each onto the previous;
  // the insert takes them sorted by that order, so their seq follows the chain.
  await tx.execute(sql`
    with recursive ${alsoWith ? sql`${alsoWith}, ` : sql``}audit_input as (
      select x.ord::int as ord, x.body, x.body::jsonb as b
        from jsonb_array_elements_text(${JSON.stringify(events.map((e) => e.body))}::jsonb)
             with ordinality as x(body, ord)
    ), audit_prev as (
      select last_hash from audit_head where singleton = 1 for update
    ), audit_chain(ord, hash) as (
      select 0, last_hash from audit_prev
      union all
      select i.ord, encode(sha256(convert_to(c.hash || E'\n' || i.body, 'UTF8')), 'hex')
        from audit_chain c join audit_input i on i.ord = c.ord + 1
    ), audit_inserted as (
      insert into audit_events
        (id, at, actor, actor_role, participant_id, action, entity_type, entity_id,
         before, after, request_id, prev_hash, hash)
      select i.b->>'id', (i.b->>'at')::timestamptz, i.b->>'actor', i.b->>'actorRole',
             i.b->>'participantId', i.b->>'action', i.b->>'entityType', i.b->>'entityId',
             nullif(i.b->'before', 'null'::jsonb), nullif(i.b->'after', 'null'::jsonb),
             i.b->>'requestId', p.hash, c.hash
        from audit_input i
        join audit_chain c on c.ord = i.ord
        join audit_chain p on p.ord = i.ord - 1
       order by i.ord
      returning id
    ), audit_announced as (${publishWith(
      sql`audit_inserted`,
      events.map((e) => e.changed),
    )})
    update audit_head
       set count = audit_head.count + (select count(*) from audit_inserted),
           last_hash = (select hash from audit_chain order by ord desc limit 1),
           last_id = (select b->>'id' from audit_input order by ord desc limit 1)
     where audit_head.singleton = 1`);
  return events.map((e) => e.id);
}

/**
 * Takes the audit chain's head row lock now, for the rest of the transaction. Every audited
 * writer holds it from its first audit event until it commits, so whatever the caller does after
 * this runs after every such writer that committed before, and before every one that comes after:
 * for work that must not interleave with other writers (the caller audits later anyway).
 */
export async function lockAuditHead(tx: Orm): Promise<void> {
  noteLock(tx, 'audit-head');
  await tx.execute(sql`select 1 from audit_head where singleton = 1 for update`);
}

/** The newest event's sequence number (0 for an empty log): where a new reader starts. */
export async function latestAuditSeq(orm: Orm): Promise<bigint> {
  const [newest] = await orm
    .select({ seq: auditEvents.seq })
    .from(auditEvents)
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return newest?.seq ?? 0n;
}

/** The request id of the newest event whose request id starts with `prefix`, if any. */
export async function lastRequestIdWith(orm: Orm, prefix: string): Promise<string | null> {
  const [row] = await orm
    .select({ requestId: auditEvents.requestId })
    .from(auditEvents)
    .where(like(auditEvents.requestId, `${prefix.replace(/[\\%_]/g, '\\$&')}%`))
    .orderBy(desc(auditEvents.seq))
    .limit(1);
  return row?.requestId ?? null;
}

export type AuditVerification =
  | { ok: true; events: number; headHash: string }
  | {
      ok: false;
      events: number;
      /** The first event whose stored hash or link does not verify (null when only the head is off). */
      brokenEvent: { seq: string; id: string } | null;
      reason: string;
    };

/**
 * Recomputes the whole chain, in batches, and names the first event that does not verify: an
 * altered row fails its own hash; a removed row breaks the next event's link; removing the
 * newest events is caught by the head row's count and last hash.
 *
 * The head is read first and the chain is verified up to it: events appended while the check
 * runs (the platform keeps working) belong to the next check, not to a false alarm. Appends are
 * serialized by the head's lock and commit with the head, so the head's first `count` events are
 * all there when the head is read.
 */
export async function verifyAuditChain(
  orm: Orm,
  onProgress?: (checked: number) => void,
  batchSize = 2_000,
): Promise<AuditVerification> {
  const readHead = async () =>
    (await orm.select().from(auditHead).where(eq(auditHead.singleton, 1)))[0];
  let head = await readHead();
  let prevHash = GENESIS_HASH;
  let lastSeq = 0n;
  let checked = 0;
  const broken = (reason: string): AuditVerification => ({
    ok: false,
    events: checked,
    brokenEvent: null,
    reason,
  });
  for (;;) {
    const expected = head ? Number(head.count) : 0;
    while (checked < expected) {
      const rows = await orm
        .select()
        .from(auditEvents)
        .where(gt(auditEvents.seq, lastSeq))
        .orderBy(asc(auditEvents.seq))
        .limit(Math.min(batchSize, expected - checked));
      for (const row of rows) {
        const at = { seq: row.seq.toString(), id: row.id };
        if (row.prevHash !== prevHash) {
          return {
            ok: false,
            events: checked,
            brokenEvent: at,
            reason: `event ${row.id} (seq ${row.seq}) links to ${row.prevHash.slice(0, 12)}… but the previous event hashes to ${prevHash.slice(0, 12)}…: an event before it was altered or removed`,
          };
        }
        if (eventHash(prevHash, row) !== row.hash) {
          return {
            ok: false,
            events: checked,
            brokenEvent: at,
            reason: `event ${row.id} (seq ${row.seq}) does not match its hash: the row was altered`,
          };
        }
        prevHash = row.hash;
        lastSeq = row.seq;
        checked++;
      }
      onProgress?.(checked);
      if (rows.length === 0) break;
    }
    if (!head || checked !== expected || head.lastHash !== prevHash) {
      return broken(
        `the chain has ${checked} events ending in ${prevHash.slice(0, 12)}… but its head records ${head?.count ?? 0} ending in ${head?.lastHash.slice(0, 12) ?? '?'}…: the newest events were removed or the head was altered`,
      );
    }
    // Events past the head: appended while we checked (the head has moved on with them, in the
    // same commit), or written behind the head's back (it has not).
    const beyond = await orm
      .select({ seq: auditEvents.seq })
      .from(auditEvents)
      .where(gt(auditEvents.seq, lastSeq))
      .limit(1);
    if (beyond.length === 0) return { ok: true, events: checked, headHash: prevHash };
    const next = await readHead();
    if (!next || Number(next.count) <= checked) {
      return broken(
        `events follow the head's last event (${checked} events ending in ${prevHash.slice(0, 12)}…) without the head recording them: they were written behind its back`,
      );
    }
    head = next;
  }
}

export interface AuditQuery {
  entityType?: string | undefined;
  entityId?: string | undefined;
  action?: string | undefined;
  actor?: string | undefined;
}

/**
 * A page of audit events, newest first (keyset on seq): filtered by entity, action and actor in
 * the query, each filter served by an index ending in seq.
 */
export async function listAuditEvents(
  orm: Orm,
  query: AuditQuery,
  request: PageRequest = {},
): Promise<Page<typeof auditEvents.$inferSelect>> {
  const conditions: SQL[] = [];
  if (query.entityType) conditions.push(eq(auditEvents.entityType, query.entityType));
  if (query.entityId) conditions.push(eq(auditEvents.entityId, query.entityId));
  if (query.action) conditions.push(eq(auditEvents.action, query.action));
  if (query.actor) conditions.push(eq(auditEvents.actor, query.actor));
  const { after, orderBy, read, page } = keysetOn<typeof auditEvents.$inferSelect>(
    [{ column: auditEvents.seq, kind: 'int', value: (row) => row.seq }],
    'desc',
    request,
  );
  const rows = await orm
    .select()
    .from(auditEvents)
    .where(and(...conditions, after))
    .orderBy(...orderBy)
    .limit(read);
  return page(rows, (shown) => [...shown]);
}

import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { Orm } from '../db';
import type { OutboxEvent } from './outbox';
import { outboxEvents } from './schema';

/**
 * A best-effort reader following one topic by number (the live feed), where the relay's
 * exactly-once deliveries are not needed: no delivery rows, only the last number read.
 *
 * A cursor over `seq` skips an event whose transaction took a lower number and committed after a
 * higher one was read (see outbox.ts). It is exact only for a topic whose numbers are taken in
 * commit order: the audit log's `entity.changed`, numbered while the audit chain's head row is
 * locked, which its transaction holds until it ends.
 */

/** The newest number of `topic` (0 when it has none): where a new reader starts. */
export async function latestEventSeq(orm: Orm, topic: string): Promise<bigint> {
  const [newest] = await orm
    .select({ seq: outboxEvents.seq })
    .from(outboxEvents)
    .where(eq(outboxEvents.topic, topic))
    .orderBy(desc(outboxEvents.seq))
    .limit(1);
  return newest?.seq ?? 0n;
}

/** Up to `limit` events of `topic` numbered after `seq`, oldest first. */
export async function eventsAfter(
  orm: Orm,
  topic: string,
  seq: bigint,
  limit: number,
): Promise<OutboxEvent[]> {
  const rows = await orm
    .select()
    .from(outboxEvents)
    .where(and(eq(outboxEvents.topic, topic), gt(outboxEvents.seq, seq)))
    .orderBy(asc(outboxEvents.seq))
    .limit(limit);
  return rows.map((row) => ({ ...row, payload: row.payload as Record<string, unknown> }));
}

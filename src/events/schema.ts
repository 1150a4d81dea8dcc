import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * What modules announce, written in the transaction of the change it announces (the outbox): an
 * event exists exactly when its change committed.
 */
export const outboxEvents = pgTable(
  'outbox_events',
  {
    seq: bigserial('seq', { mode: 'bigint' }).primaryKey(),
    topic: text('topic').notNull(),
    /** The entity the event is about (a decision id, a payout id…). */
    key: text('key').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [index('outbox_events_topic_seq_idx').on(t.topic, t.seq)],
);

/**
 * One row per (subscriber, event) once the subscriber handled it, written in the handler's
 * transaction: an event is handled exactly once per subscriber, whatever crashes in between.
 * A failed attempt leaves a row with `handledAt` null, the attempt count and the error.
 */
export const outboxDeliveries = pgTable(
  'outbox_deliveries',
  {
    subscriber: text('subscriber').notNull(),
    seq: bigint('seq', { mode: 'bigint' }).notNull(),
    handledAt: at('handled_at'),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at'),
    lastError: text('last_error'),
  },
  (t) => [
    primaryKey({ columns: [t.subscriber, t.seq] }),
    index('outbox_deliveries_pending_idx')
      .on(t.subscriber, t.nextAttemptAt)
      .where(sql`handled_at is null`),
  ],
);

/**
 * Per subscriber, the low-water mark: every event numbered below `belowSeq` of the subscriber's
 * topics is handled, so the relay reads only from there and the delivery rows below it are
 * pruned. It advances in two steps (see `EventRelay.#advance`): a run records a candidate (the
 * sequence's last number and the first transaction id not yet assigned); a later run, once every
 * transaction older than that id has ended, may move the mark up to the candidate, as no event
 * numbered at or below it can still commit.
 */
export const outboxMarks = pgTable('outbox_marks', {
  subscriber: text('subscriber').primaryKey(),
  belowSeq: bigint('below_seq', { mode: 'bigint' }).notNull(),
  candidateSeq: bigint('candidate_seq', { mode: 'bigint' }),
  /** `pg_snapshot_xmax` when the candidate was taken, as a number (xid8). */
  candidateXmax: bigint('candidate_xmax', { mode: 'bigint' }),
});

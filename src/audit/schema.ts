import {
  bigint,
  bigserial,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
} from 'drizzle-orm/pg-core';

/**
 * The audit log: append-only (a trigger refuses UPDATE and DELETE), each event carrying the
 * SHA-256 hash of the previous one, so that altering or removing any row breaks the chain.
 */
export const auditEvents = pgTable(
  'audit_events',
  {
    seq: bigserial('seq', { mode: 'bigint' }).primaryKey(),
    id: text('id').notNull().unique(),
    at: timestamp('at', { withTimezone: true, mode: 'date' }).notNull(),
    actor: text('actor').notNull(),
    actorRole: text('actor_role').notNull(),
    participantId: text('participant_id'),
    action: text('action').notNull(),
    entityType: text('entity_type').notNull(),
    entityId: text('entity_id').notNull(),
    before: jsonb('before'),
    after: jsonb('after'),
    requestId: text('request_id'),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  // The log's filters (GET /v1/audit), each read newest first by seq.
  (t) => [
    index('audit_events_entity_page_idx').on(t.entityId, t.seq),
    index('audit_events_type_page_idx').on(t.entityType, t.seq),
    index('audit_events_action_page_idx').on(t.action, t.seq),
    index('audit_events_actor_page_idx').on(t.actor, t.seq),
  ],
);

/** One row: the head of the chain, so that removing the newest events is detected too. */
export const auditHead = pgTable('audit_head', {
  singleton: integer('singleton').primaryKey().default(1),
  count: bigint('count', { mode: 'bigint' }).notNull(),
  lastHash: text('last_hash').notNull(),
  lastId: text('last_id').notNull(),
});

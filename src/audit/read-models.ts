import { pgView } from 'drizzle-orm/pg-core';
import { auditEvents, auditHead } from './schema';

/**
 * The audit log's published read models, for the auditor's home page: views over its tables
 * with only the columns read there (never an event's before and after). drizzle-kit creates the
 * views from these declarations.
 */

/** Who did what to which entity, when, in chain order. */
export const auditEventFacts = pgView('audit_event_facts').as((qb) =>
  qb
    .select({
      seq: auditEvents.seq,
      id: auditEvents.id,
      at: auditEvents.at,
      actor: auditEvents.actor,
      actorRole: auditEvents.actorRole,
      action: auditEvents.action,
      entityType: auditEvents.entityType,
      entityId: auditEvents.entityId,
    })
    .from(auditEvents),
);

/** The chain's head: how many events, the last one's hash and id. */
export const auditHeadFacts = pgView('audit_head_facts').as((qb) =>
  qb
    .select({ count: auditHead.count, lastHash: auditHead.lastHash, lastId: auditHead.lastId })
    .from(auditHead),
);

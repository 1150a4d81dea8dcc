import type { Caller } from '../kernel';

/**
 * The topic the audit log announces every audited change on, in the same statement as the audit
 * event (so in its transaction): what the live feed (`GET /v1/events`) reads to tell each browser
 * what to refetch. Its numbers are taken while the chain's head row is locked, so they follow the
 * commit order and a reader may follow it by number (events' `eventsAfter`).
 */
export const ENTITY_CHANGED = 'entity.changed';

/**
 * The payload of `entity.changed`: which entity changed and how (never the before and after), and
 * who may be told, as the live feed discloses it: the acting participant (null for the system)
 * and, for a company, its platform.
 */
export interface EntityChanged {
  auditId: string;
  action: string;
  entityType: string;
  entityId: string;
  actorRole: string;
  participantId: string | null;
  platformId: string | null;
}

/** The `entity.changed` event of one audit event. */
export function entityChanged(
  caller: Caller,
  event: { id: string; at: Date; action: string; entityType: string; entityId: string },
): { topic: string; key: string; payload: Record<string, unknown>; createdAt: Date } {
  const participantId = caller.participantId === 'system' ? null : caller.participantId;
  const payload: EntityChanged = {
    auditId: event.id,
    action: event.action,
    entityType: event.entityType,
    entityId: event.entityId,
    actorRole: caller.role,
    participantId,
    platformId: caller.platformId === participantId ? null : caller.platformId,
  };
  return {
    topic: ENTITY_CHANGED,
    key: event.entityId,
    payload: { ...payload },
    createdAt: event.at,
  };
}

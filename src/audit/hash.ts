import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

export const GENESIS_HASH = '0'.repeat(64);

/** The fields of an event that its hash covers. */
export interface HashedEvent {
  id: string;
  at: Date;
  actor: string;
  actorRole: string;
  participantId: string | null;
  action: string;
  entityType: string;
  entityId: string;
  before: unknown;
  after: unknown;
  requestId: string | null;
}

/**
 * JSON with object keys sorted at every level, so that the same value always hashes the same
 * way, whatever order PostgreSQL's jsonb hands the keys back in.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'bigint') return JSON.stringify(value.toString());
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The canonical form of an event that its hash covers. */
export function eventBody(event: HashedEvent): string {
  return canonicalJson({
    id: event.id,
    at: event.at.toISOString(),
    actor: event.actor,
    actorRole: event.actorRole,
    participantId: event.participantId,
    action: event.action,
    entityType: event.entityType,
    entityId: event.entityId,
    before: event.before ?? null,
    after: event.after ?? null,
    requestId: event.requestId,
  });
}

/** SHA-256 over the previous event's hash and this event's canonical form. */
export function eventHash(prevHash: string, event: HashedEvent): string {
  return bytesToHex(sha256(utf8ToBytes(`${prevHash}\n${eventBody(event)}`)));
}

/** Makes a value JSON-safe for jsonb: bigints become decimal strings, Dates ISO strings. */
export function toJsonValue(value: unknown): unknown {
  return JSON.parse(canonicalJson(value)) as unknown;
}

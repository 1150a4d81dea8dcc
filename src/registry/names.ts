import { inArray } from 'drizzle-orm';
import type { Database } from '../db';
import { participants } from './schema';

/**
 * The legal names of participants, by id, in one query: what a list shows beside the ids of
 * the rows it already returned (no query per row). The caller has already seen each row that
 * names these ids; an unknown id is simply absent from the map. Read in the caller's unit of
 * work when there is one.
 */
export async function participantNames(
  db: Database,
  ids: Iterable<string | null | undefined>,
): Promise<Map<string, string>> {
  const wanted = [...new Set([...ids].filter((id): id is string => typeof id === 'string'))];
  if (wanted.length === 0) return new Map();
  const rows = await db
    .current()
    .select({ id: participants.id, name: participants.legalName })
    .from(participants)
    .where(inArray(participants.id, wanted));
  return new Map(rows.map((r) => [r.id, r.name]));
}

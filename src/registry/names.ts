import { inArray } from 'drizzle-orm';
import type { Orm } from '../db';
import { participants } from './schema';

/**
 * The legal names of participants, by id, in one query: what a list shows beside the ids of
 * the rows it already returned (no query per row). The caller has already seen each row that
 * names these ids; an unknown id is simply absent from the map.
 */
export async function participantNames(
  orm: Orm,
  ids: Iterable<string | null | undefined>,
): Promise<Map<string, string>> {
  const wanted = [...new Set([...ids].filter((id): id is string => typeof id === 'string'))];
  if (wanted.length === 0) return new Map();
  const rows = await orm
    .select({ id: participants.id, name: participants.legalName })
    .from(participants)
    .where(inArray(participants.id, wanted));
  return new Map(rows.map((r) => [r.id, r.name]));
}

/**
 * The list entries behind screening matches, as an analyst reads them beside the score: the
 * programmes (sanctions regimes) the entry is listed under, its countries, its kind and every
 * alias. Read from the stored snapshot the match names, so it is the entry as it stood then.
 */
import { and, eq, or } from 'drizzle-orm';
import type { Orm } from '../../db';
import { listEntries } from '../schema';
import type { EntryKind, ListEntry } from './types';

export interface MatchedEntry {
  programs: string[];
  countries: string[];
  entryKind: EntryKind;
  aliases: string[];
}

/** `${listSnapshotId}|${listEntryId}` → the entry's details, for each match that names one. */
export async function matchedEntries(
  orm: Orm,
  matches: ReadonlyArray<{ listSnapshotId: string; listEntryId: string }>,
): Promise<Map<string, MatchedEntry>> {
  const pairs = matches.filter((m) => m.listSnapshotId !== '');
  const found = new Map<string, MatchedEntry>();
  if (!pairs.length) return found;
  const rows = await orm
    .select({
      snapshotId: listEntries.snapshotId,
      listEntryId: listEntries.listEntryId,
      entry: listEntries.entry,
    })
    .from(listEntries)
    .where(
      or(
        ...pairs.map((m) =>
          and(
            eq(listEntries.snapshotId, m.listSnapshotId),
            eq(listEntries.listEntryId, m.listEntryId),
          ),
        ),
      ),
    );
  for (const row of rows) {
    const entry = row.entry as ListEntry;
    found.set(`${row.snapshotId}|${row.listEntryId}`, {
      programs: entry.programs,
      countries: entry.countries,
      entryKind: entry.kind,
      aliases: entry.aliases.map((a) => a.name),
    });
  }
  return found;
}

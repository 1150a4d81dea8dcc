/**
 * The normalized form every sanctions list importer produces. A snapshot is immutable: it names
 * the list it came from and the SHA-256 of the exact bytes imported, so that a screening decision
 * can record which list version it was taken against (a decision records which list snapshot it
 * used).
 */

export type ListSource = 'ofac-sdn' | 'un' | 'eu-fsf' | 'address-list';

export type EntryKind = 'person' | 'organization' | 'vessel' | 'aircraft' | 'other';

/** How much a list trusts an alias. OFAC calls the low-trust ones "weak AKAs"; UN says "Low". */
export type AliasStrength = 'strong' | 'weak';

export interface ListAlias {
  name: string;
  /** The list's own qualifier, verbatim: OFAC 'aka' | 'fka' | 'nka' | 'weak aka'; UN 'Good' | 'Low' | 'a.k.a.' | 'f.k.a.' | 'original script'; EU 'strong' | 'weak'. */
  quality: string;
  strength: AliasStrength;
  /** ISO 15924 code of the name's script when it is not Latin (e.g. 'Cyrl', 'Arab', 'Grek'). */
  script?: string;
  /** The language the list gives for this spelling, when it gives one (EU nameLanguage). */
  language?: string;
}

/** A digital-currency address as the list gives it (asset is the list's ticker: XBT, ETH, …). */
export interface ListedAddress {
  asset: string;
  address: string;
}

export interface ListEntry {
  /** The list's own identifier: OFAC ent_num, UN REFERENCE_NUMBER, EU logicalId, or asset:address. */
  listEntryId: string;
  kind: EntryKind;
  primaryName: string;
  aliases: ListAlias[];
  countries: string[];
  programs: string[];
  dateOfBirth?: string;
  addresses: ListedAddress[];
}

export interface ListCounts {
  entries: number;
  individuals: number;
  entities: number;
  vessels: number;
  aircraft: number;
  other: number;
  aliases: number;
  addresses: number;
}

export interface ListSnapshot {
  source: ListSource;
  /** ISO date (YYYY-MM-DD) the list says it was published or generated, or null if it does not say. */
  publicationDate: string | null;
  /** SHA-256 hex of the imported bytes (for multi-file lists, see each importer). */
  contentHash: string;
  counts: ListCounts;
  entries: ListEntry[];
}

/** Called as work proceeds so that a CLI can draw a progress bar. */
export type ProgressCallback = (done: number, total: number) => void;

export interface ImportOptions {
  onProgress?: ProgressCallback;
}

export function countEntries(entries: readonly ListEntry[]): ListCounts {
  const counts: ListCounts = {
    entries: entries.length,
    individuals: 0,
    entities: 0,
    vessels: 0,
    aircraft: 0,
    other: 0,
    aliases: 0,
    addresses: 0,
  };
  for (const entry of entries) {
    if (entry.kind === 'person') counts.individuals++;
    else if (entry.kind === 'organization') counts.entities++;
    else if (entry.kind === 'vessel') counts.vessels++;
    else if (entry.kind === 'aircraft') counts.aircraft++;
    else counts.other++;
    counts.aliases += entry.aliases.length;
    counts.addresses += entry.addresses.length;
  }
  return counts;
}

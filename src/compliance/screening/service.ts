/**
 * Screening as a service: list snapshots stored in the database (every entry, with its content
 * hash), the in-memory name and address indexes built from the active snapshots (at first use,
 * and again after every import), ad-hoc screening, false-positive clearances, and re-screening of
 * every registered party and address when a new snapshot arrives.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { AppError, newId, type Caller, type Clock, type Random } from '../../kernel';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../../db';
import { canonicalJson, recordAudit } from '../../audit';
import { clearances, listEntries, listSnapshots, partyHits, type HitReview } from '../schema';
import { raiseAlert } from '../cases/alerts';
import type { PartyKind, PartySource } from '../policy/types';
import { importAddressList } from './address-list';
import { AddressIndex } from './address-index';
import { importEuFsfXml } from './eu-fsf';
import { ScreeningIndex, type NameMatch } from './name-index';
import { matchedEntries, type MatchedEntry } from './entries';
import { importOfacSdnCsv } from './ofac-csv';
import { REVIEW_THRESHOLD, outcomeOf, type ScreeningOutcome } from './thresholds';
import type { ListCounts, ListEntry, ListSnapshot, ListSource } from './types';
import { importUnConsolidatedXml } from './un-xml';

export const LIST_FORMATS = ['ofac-csv', 'un-xml', 'eu-fsf-xml', 'address-list'] as const;
export type ListFormat = (typeof LIST_FORMATS)[number];

export type ListImportInput =
  | { format: 'ofac-csv'; sdn: Uint8Array; add: Uint8Array; alt: Uint8Array }
  | { format: 'un-xml' | 'eu-fsf-xml'; bytes: Uint8Array }
  | { format: 'address-list'; bytes: Uint8Array; asset: string };

export type ImportPhase = 'parse' | 'store' | 'rescreen';
export type ImportProgress = (phase: ImportPhase, done: number, total: number) => void;

export interface SnapshotView {
  id: string;
  listKey: string;
  source: ListSource;
  publicationDate: string | null;
  contentHash: string;
  counts: ListCounts;
  importedAt: Date;
  importedBy: string;
  active: boolean;
}

export interface RescreenSummary {
  parties: number;
  addresses: number;
  newHits: number;
  delisted: number;
  /** The new hits, named: which party, on what (name, owner, address) and which list entry. */
  hits: RescreenHit[];
}

export interface RescreenHit {
  partyId: string;
  /** The party's first name as the registry lists it; null for an address owner it does not list. */
  partyName: string | null;
  subject: string;
  source: string;
  listEntryId: string;
  listedName: string;
  score: number;
}

export interface ScreeningMatch {
  score: number;
  outcome: ScreeningOutcome;
  source: ListSource;
  listEntryId: string;
  listSnapshotId: string;
  primaryName: string;
  matchedAlias: string | null;
  kind: string;
  /** SHA-256 of the entry's canonical JSON: a clearance holds while it is unchanged. */
  entryHash: string;
}

export interface ScreeningResult {
  query: string;
  outcome: ScreeningOutcome;
  matches: ScreeningMatch[];
  listSnapshotIds: string[];
}

export interface ClearanceView {
  id: string;
  partyId: string;
  source: string;
  listEntryId: string;
  entryHash: string;
  reason: string;
  clearedBy: string;
  clearedAt: Date;
}

/** The active snapshots loaded in memory. */
export interface LoadedLists {
  names: ScreeningIndex;
  addresses: AddressIndex;
  snapshotIds: string[];
  snapshotIdByHash: Map<string, string>;
  /** `${snapshotId}|${listEntryId}` → entry hash */
  entryHashes: Map<string, string>;
}

export interface ScreeningServiceDeps {
  db: Database;
  clock: Clock;
  random: Random;
  parties: PartySource;
  /** How often (ms) to check whether another process imported a list (default 30 s). */
  refreshIntervalMs?: number;
}

/** The pseudo-source of a hit under OFAC's 50 % rule (ownership by listed persons). */
export const OWNERSHIP_RULE_SOURCE = 'ofac-50-percent-rule';
/** 50 % in basis points: listed owners holding this much or more make the entity blocked. */
export const OWNERSHIP_RULE_BASIS_POINTS = 5_000;

export const HIT_REVIEW_STATES = [
  'open',
  'false_positive',
  'confirmed',
  'blocked',
  'released',
] as const;
export type HitReviewState = (typeof HIT_REVIEW_STATES)[number];
export const HIT_REVIEW_DECISIONS = ['false_positive', 'confirmed', 'blocked', 'released'] as const;
export type HitReviewDecision = (typeof HIT_REVIEW_DECISIONS)[number];
/** Reviews under which a listed hit still blocks KYC verification and transfers. */
const BLOCKING_REVIEWS: HitReviewState[] = ['open', 'confirmed', 'blocked'];

/** Why a hit stands: the party's name, a beneficial owner's, the 50 % rule, or an address. */
export type HitReason = 'name' | 'beneficial_owner' | 'ownership_50_percent' | 'address';

/** What the registry asks screening to check for one party (only the parts given are screened). */
export interface ScreeningSubject {
  partyId: string;
  /** The platform the party belongs to; null for platforms, miners and VASPs. */
  platformId: string | null;
  kind: PartyKind;
  names?: readonly string[] | undefined;
  /** Beneficial owners with their direct holdings in basis points. */
  owners?: readonly { name: string; shareBasisPoints: number }[] | undefined;
  addresses?: readonly string[] | undefined;
  /** `addresses` are all the party's: hits on any other address are delisted. */
  allAddresses?: boolean | undefined;
}

export interface PartyHitView {
  id: string;
  partyId: string;
  platformId: string | null;
  /** `name`, `owner:<name>`, `ownership` (50 % rule) or `address:<address>`. */
  subject: string;
  reason: HitReason;
  source: string;
  listEntryId: string;
  snapshotId: string;
  score: number;
  matchedName: string | null;
  status: 'listed' | 'delisted';
  delistedReason: string | null;
  review: HitReviewState;
  reviews: HitReview[];
  /** Whether the hit blocks KYC verification and transfers now. */
  blocking: boolean;
  listedAt: Date;
}

export interface ScreeningFlag {
  status: 'clear' | 'review' | 'blocked';
  /** Listed hits not resolved away (open, confirmed or blocked). */
  openHits: number;
}

interface FoundHit {
  subject: string;
  /** A list match, or the 50 % rule's aggregate (whose source is OWNERSHIP_RULE_SOURCE). */
  match: Omit<ScreeningMatch, 'source'> & { source: string };
  matchedName: string | null;
}

function reasonOf(subject: string): HitReason {
  if (subject === 'ownership') return 'ownership_50_percent';
  if (subject.startsWith('owner:')) return 'beneficial_owner';
  if (subject.startsWith('address:')) return 'address';
  return 'name';
}

function hitView(row: typeof partyHits.$inferSelect): PartyHitView {
  const review = row.review as HitReviewState;
  const status = row.status as 'listed' | 'delisted';
  return {
    id: row.id,
    partyId: row.partyId,
    platformId: row.platformId,
    subject: row.subject,
    reason: reasonOf(row.subject),
    source: row.source,
    listEntryId: row.listEntryId,
    snapshotId: row.snapshotId,
    score: row.score,
    matchedName: row.matchedName,
    status,
    delistedReason: row.delistedReason,
    review,
    reviews: row.reviews,
    blocking: status === 'listed' && BLOCKING_REVIEWS.includes(review),
    listedAt: row.listedAt,
  };
}

/** Which hits a caller may see: all for the supervisor and auditor, its parties' for a platform. */
function hitScope(caller: Caller): SQL | undefined {
  if (caller.role === 'supervisor' || caller.role === 'auditor') return undefined;
  if (caller.role === 'platform') return eq(partyHits.platformId, caller.participantId);
  throw new AppError(
    'FORBIDDEN',
    `screening hits are for platform officers, the supervisor and the auditor; the caller is a ${caller.role}`,
  );
}

const SCREENING_WRITERS = ['supervisor'] as const;

/** Makes the list's active snapshot inactive (one active version per list); returns its id. */
async function supersedeActiveSnapshot(tx: Orm, listKey: string): Promise<string | null> {
  const [previous] = await tx
    .select({ id: listSnapshots.id })
    .from(listSnapshots)
    .where(and(eq(listSnapshots.listKey, listKey), eq(listSnapshots.active, true)))
    .for('update');
  if (!previous) return null;
  await tx.update(listSnapshots).set({ active: false }).where(eq(listSnapshots.id, previous.id));
  return previous.id;
}

export function listKeyOf(snapshot: ListSnapshot): string {
  if (snapshot.source !== 'address-list') return snapshot.source;
  const asset = snapshot.entries[0]?.addresses[0]?.asset ?? 'UNKNOWN';
  return `address-list:${asset}`;
}

export function entryHash(entry: ListEntry): string {
  return createHash('sha256').update(canonicalJson(entry)).digest('hex');
}

export function parseListImport(input: ListImportInput, onProgress?: ImportProgress): ListSnapshot {
  const progress = onProgress
    ? { onProgress: (done: number, total: number) => onProgress('parse', done, total) }
    : {};
  switch (input.format) {
    case 'ofac-csv':
      return importOfacSdnCsv({ sdn: input.sdn, add: input.add, alt: input.alt }, progress);
    case 'un-xml':
      return importUnConsolidatedXml(input.bytes, progress);
    case 'eu-fsf-xml':
      return importEuFsfXml(input.bytes, progress);
    case 'address-list':
      return importAddressList(input.bytes, { asset: input.asset, ...progress });
  }
}

function toView(row: typeof listSnapshots.$inferSelect): SnapshotView {
  return {
    id: row.id,
    listKey: row.listKey,
    source: row.source as ListSource,
    publicationDate: row.publicationDate,
    contentHash: row.contentHash,
    counts: row.counts as ListCounts,
    importedAt: row.importedAt,
    importedBy: row.importedBy,
    active: row.active,
  };
}

function requireSupervisor(caller: Caller, what: string): void {
  if (!(SCREENING_WRITERS as readonly string[]).includes(caller.role)) {
    throw new AppError(
      'FORBIDDEN',
      `only the supervisor may ${what}; the caller is a ${caller.role}`,
    );
  }
}

export class ScreeningService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  #parties: PartySource;
  readonly #refreshIntervalMs: number;
  #loaded: Promise<LoadedLists> | undefined;
  #loadedKey = '';
  #checkedAt = 0;

  constructor(deps: ScreeningServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#parties = deps.parties;
    this.#refreshIntervalMs = deps.refreshIntervalMs ?? 30_000;
  }

  /** The composition root wires the registry's parties here once it exists. */
  setPartySource(parties: PartySource): void {
    this.#parties = parties;
  }

  /**
   * The active lists in memory; rebuilt when the set of active snapshots changed. Inside a
   * transaction pass its handle: PGlite has one connection, so a query outside it would wait.
   * `refresh`: check the active snapshots now (the caller saw that they changed).
   */
  async lists(orm?: Orm, options: { refresh?: boolean } = {}): Promise<LoadedLists> {
    const now = this.#clock.now().getTime();
    const fresh = now - this.#checkedAt < this.#refreshIntervalMs && !options.refresh;
    if (this.#loaded && fresh) return this.#loaded;
    this.#checkedAt = now;
    const active = await (orm ?? this.#db.orm)
      .select({ id: listSnapshots.id })
      .from(listSnapshots)
      .where(eq(listSnapshots.active, true))
      .orderBy(asc(listSnapshots.id));
    const key = active.map((r) => r.id).join(',');
    if (!this.#loaded || key !== this.#loadedKey) {
      this.#loadedKey = key;
      this.#loaded = this.#load(
        orm ?? this.#db.orm,
        active.map((r) => r.id),
      );
      this.#loaded.catch(() => {
        this.#loaded = undefined;
        this.#loadedKey = '';
      });
    }
    return this.#loaded;
  }

  async #load(orm: Orm, ids: string[]): Promise<LoadedLists> {
    const snapshots: ListSnapshot[] = [];
    const snapshotIdByHash = new Map<string, string>();
    const entryHashes = new Map<string, string>();
    if (ids.length > 0) {
      const heads = await orm
        .select()
        .from(listSnapshots)
        .where(inArray(listSnapshots.id, ids))
        .orderBy(asc(listSnapshots.id));
      for (const head of heads) {
        const rows = await orm
          .select()
          .from(listEntries)
          .where(eq(listEntries.snapshotId, head.id));
        const entries = rows.map((r) => {
          entryHashes.set(`${head.id}|${r.listEntryId}`, r.contentHash);
          return r.entry as ListEntry;
        });
        snapshots.push({
          source: head.source as ListSource,
          publicationDate: head.publicationDate,
          contentHash: head.contentHash,
          counts: head.counts as ListCounts,
          entries,
        });
        snapshotIdByHash.set(head.contentHash, head.id);
      }
    }
    return {
      names: ScreeningIndex.build(snapshots),
      addresses: AddressIndex.build(snapshots),
      snapshotIds: ids,
      snapshotIdByHash,
      entryHashes,
    };
  }

  /**
   * Imports one list file (set): parses it, stores it as the active snapshot of its list (the
   * previous one stays, inactive, for the decisions that used it), rebuilds the indexes and
   * re-screens every registered party and address. Identical bytes are not stored twice.
   */
  async importList(
    caller: Caller,
    input: ListImportInput,
    onProgress?: ImportProgress,
  ): Promise<{ snapshot: SnapshotView; created: boolean; rescreen: RescreenSummary | null }> {
    requireSupervisor(caller, 'import sanctions lists');
    const parsed = parseListImport(input, onProgress);
    const listKey = listKeyOf(parsed);
    const [existing] = await this.#db.orm
      .select()
      .from(listSnapshots)
      .where(
        and(eq(listSnapshots.listKey, listKey), eq(listSnapshots.contentHash, parsed.contentHash)),
      );
    if (existing?.active) return { snapshot: toView(existing), created: false, rescreen: null };
    const now = this.#clock.now();
    const id = newId('listSnapshot', now, this.#random);
    const view = await this.#db.transaction(async (tx) => {
      const previous = await supersedeActiveSnapshot(tx, listKey);
      if (existing) {
        // The same bytes as an older, superseded version (a listing withdrawn by republishing
        // the earlier file): that version becomes the active one again.
        await tx
          .update(listSnapshots)
          .set({ active: true })
          .where(eq(listSnapshots.id, existing.id));
        await recordAudit(tx, caller, this.#clock, {
          action: 'list.reactivated',
          entityType: 'listSnapshot',
          entityId: existing.id,
          before: previous ? { activeSnapshotId: previous } : undefined,
          after: { activeSnapshotId: existing.id },
        });
        return toView({ ...existing, active: true });
      }
      const row = {
        id,
        listKey,
        source: parsed.source,
        publicationDate: parsed.publicationDate,
        contentHash: parsed.contentHash,
        counts: parsed.counts,
        importedAt: now,
        importedBy: caller.actorId,
        active: true,
      };
      await tx.insert(listSnapshots).values(row);
      const batch = 500;
      for (let i = 0; i < parsed.entries.length; i += batch) {
        const slice = parsed.entries.slice(i, i + batch);
        await tx.insert(listEntries).values(
          slice.map((entry) => ({
            snapshotId: id,
            listEntryId: entry.listEntryId,
            contentHash: entryHash(entry),
            entry,
          })),
        );
        onProgress?.('store', Math.min(i + batch, parsed.entries.length), parsed.entries.length);
      }
      await recordAudit(tx, caller, this.#clock, {
        action: 'list.imported',
        entityType: 'listSnapshot',
        entityId: id,
        before: previous ? { activeSnapshotId: previous } : undefined,
        after: row,
      });
      return toView(row);
    });
    this.#checkedAt = 0; // rebuild at once
    const rescreen = await this.rescreen(caller, onProgress);
    return { snapshot: view, created: !existing, rescreen };
  }

  /**
   * A page of the list snapshots, newest import first (keyset on imported_at, id): the active
   * ones, or all with `all`; of one list slot with `listKey`.
   */
  async listSnapshots(
    caller: Caller,
    options: { all?: boolean; listKey?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<SnapshotView>> {
    void caller; // lists are public data: every authenticated role may see what is loaded
    const { after, orderBy, read, limit } = keyset(
      { createdAt: listSnapshots.importedAt, id: listSnapshots.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(listSnapshots)
      .where(
        and(
          options.all ? undefined : eq(listSnapshots.active, true),
          options.listKey ? eq(listSnapshots.listKey, options.listKey) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(toView),
      (row) => ({ createdAt: row.importedAt, id: row.id }),
    );
  }

  #nameMatch(lists: LoadedLists, match: NameMatch): ScreeningMatch {
    const snapshotId = lists.snapshotIdByHash.get(match.contentHash) ?? '';
    return {
      score: match.score,
      outcome: match.outcome,
      source: match.source,
      listEntryId: match.listEntryId,
      listSnapshotId: snapshotId,
      primaryName: match.primaryName,
      matchedAlias: match.matchedAlias,
      kind: match.kind,
      entryHash: lists.entryHashes.get(`${snapshotId}|${match.listEntryId}`) ?? '',
    };
  }

  /** Names screened against every active list: best matches first. */
  async screenName(
    caller: Caller,
    name: string,
    options: { type?: 'person' | 'organization'; limit?: number } = {},
  ): Promise<ScreeningResult> {
    void caller;
    const query = name.trim();
    if (query.length === 0 || query.length > 300) {
      throw new AppError(
        'VALIDATION_FAILED',
        `name must be 1–300 characters, got ${query.length}`,
        {
          issues: [{ field: 'name', message: 'must be 1–300 characters' }],
        },
      );
    }
    const lists = await this.lists();
    const matches = lists.names
      .screenName(query, {
        limit: options.limit ?? 10,
        ...(options.type ? { type: options.type } : {}),
      })
      .map((m) => this.#nameMatch(lists, m));
    return {
      query,
      outcome: outcomeOf(matches[0]?.score ?? 0),
      matches,
      listSnapshotIds: lists.snapshotIds,
    };
  }

  /** The stored list entries behind matches: programmes, countries, kind, aliases. */
  entryDetails(
    matches: ReadonlyArray<{ listSnapshotId: string; listEntryId: string }>,
  ): Promise<Map<string, MatchedEntry>> {
    return matchedEntries(this.#db.orm, matches);
  }

  /** An address screened exactly (by its chain's canonical form) against every active list. */
  async screenAddress(caller: Caller, address: string): Promise<ScreeningResult> {
    void caller;
    const query = address.trim();
    if (!/^[A-Za-z0-9]{14,120}$/.test(query)) {
      throw new AppError(
        'INVALID_ADDRESS',
        `address must be 14–120 letters and digits, got "${query.slice(0, 40)}"`,
      );
    }
    const lists = await this.lists();
    const matches = lists.addresses.screenAddress(query).map((m): ScreeningMatch => {
      const snapshotId = lists.snapshotIdByHash.get(m.contentHash) ?? '';
      return {
        score: 1,
        outcome: 'match',
        source: m.source,
        listEntryId: m.listEntryId,
        listSnapshotId: snapshotId,
        primaryName: m.primaryName,
        matchedAlias: null,
        kind: 'address',
        entryHash: lists.entryHashes.get(`${snapshotId}|${m.listEntryId}`) ?? '',
      };
    });
    return {
      query,
      outcome: matches.length > 0 ? 'match' : 'clear',
      matches,
      listSnapshotIds: lists.snapshotIds,
    };
  }

  /**
   * A reviewer clears one (party, list entry) pair as a false positive. The clearance names the
   * entry's current content hash, so it lapses by itself when the list changes the entry.
   * Address matches are exact and are never cleared.
   */
  async clear(
    caller: Caller,
    input: { partyId: string; source: string; listEntryId: string; reason: string },
  ): Promise<ClearanceView> {
    requireSupervisor(caller, 'clear screening matches');
    const reason = input.reason.trim();
    if (reason.length < 10) {
      throw new AppError(
        'VALIDATION_FAILED',
        'reason must say why the match is a false positive (at least 10 characters)',
        {
          issues: [{ field: 'reason', message: 'must be at least 10 characters' }],
        },
      );
    }
    if (input.source === 'address-list') {
      throw new AppError(
        'CONFLICT',
        'an address match is exact and cannot be cleared as a false positive',
      );
    }
    const [entry] = await this.#db.orm
      .select({ hash: listEntries.contentHash, entry: listEntries.entry })
      .from(listEntries)
      .innerJoin(listSnapshots, eq(listSnapshots.id, listEntries.snapshotId))
      .where(
        and(
          eq(listSnapshots.active, true),
          eq(listSnapshots.source, input.source),
          eq(listEntries.listEntryId, input.listEntryId),
        ),
      );
    if (!entry) {
      throw new AppError(
        'NOT_FOUND',
        `no entry "${input.listEntryId}" on the active ${input.source} list`,
      );
    }
    if (
      (entry.entry as ListEntry).addresses.length > 0 &&
      (entry.entry as ListEntry).primaryName === ''
    ) {
      throw new AppError(
        'CONFLICT',
        'an address match is exact and cannot be cleared as a false positive',
      );
    }
    const now = this.#clock.now();
    const row = {
      id: newId('clearance', now, this.#random),
      partyId: input.partyId,
      source: input.source,
      listEntryId: input.listEntryId,
      entryHash: entry.hash,
      reason,
      clearedBy: caller.actorId,
      clearedAt: now,
    };
    return this.#db.transaction(async (tx) => {
      const inserted = await tx.insert(clearances).values(row).onConflictDoNothing().returning();
      if (inserted.length === 0) {
        throw new AppError(
          'CONFLICT',
          `the pair (${input.partyId}, ${input.source} ${input.listEntryId}) is already cleared for this version of the entry`,
        );
      }
      await recordAudit(tx, caller, this.#clock, {
        action: 'screening.cleared',
        entityType: 'clearance',
        entityId: row.id,
        after: row,
      });
      return row;
    });
  }

  /** The clearances of a party valid for the given entries: a set of `${source}|${listEntryId}|${entryHash}`. */
  async clearedPairs(orm: Orm, partyIds: readonly string[]): Promise<Set<string>> {
    if (partyIds.length === 0) return new Set();
    const rows = await orm
      .select({
        partyId: clearances.partyId,
        source: clearances.source,
        listEntryId: clearances.listEntryId,
        entryHash: clearances.entryHash,
      })
      .from(clearances)
      .where(inArray(clearances.partyId, [...partyIds]));
    return new Set(rows.map((r) => `${r.partyId}|${r.source}|${r.listEntryId}|${r.entryHash}`));
  }

  /**
   * Re-screens every party and address the PartySource lists against the active lists (after a
   * list import): a new hit is stored on the party for review and raises a screening alert (into
   * the party's case); a standing hit whose entry left the list, or no longer matches, is marked
   * delisted with the reason.
   */
  async rescreen(caller: Caller, onProgress?: ImportProgress): Promise<RescreenSummary> {
    const summary: RescreenSummary = {
      parties: 0,
      addresses: 0,
      newHits: 0,
      delisted: 0,
      hits: [],
    };
    const addresses = new Map<string, string[]>();
    for await (const entry of this.#parties.listAddresses()) {
      summary.addresses++;
      const held = addresses.get(entry.participantId) ?? [];
      held.push(entry.address);
      addresses.set(entry.participantId, held);
    }
    // Read first so that progress counts against the real total: the parties, then the owners
    // of addresses the party list does not name (each screened on its own).
    const parties = [];
    for await (const party of this.#parties.listParties()) parties.push(party);
    const listed = new Set(parties.map((p) => p.id));
    const total = parties.length + [...addresses.keys()].filter((id) => !listed.has(id)).length;
    let done = 0;
    const count = (
      result: { delisted: number; hits: Omit<RescreenHit, 'partyId' | 'partyName'>[] },
      partyId: string,
      partyName: string | null,
    ) => {
      summary.newHits += result.hits.length;
      summary.delisted += result.delisted;
      for (const hit of result.hits) summary.hits.push({ partyId, partyName, ...hit });
      onProgress?.('rescreen', ++done, total);
    };
    for (const party of parties) {
      summary.parties++;
      const result = await this.#db.transaction((tx) =>
        this.#screenSubject(tx, caller, {
          partyId: party.id,
          platformId: party.platformId ?? null,
          kind: party.kind,
          names: party.names,
          ...(party.owners ? { owners: party.owners } : {}),
          addresses: addresses.get(party.id) ?? [],
          allAddresses: true,
        }),
      );
      addresses.delete(party.id);
      count(result, party.id, party.names[0] ?? null);
    }
    // Addresses of owners the party list does not name: screened on their own.
    for (const [partyId, held] of addresses) {
      const result = await this.#db.transaction((tx) =>
        this.#screenSubject(tx, caller, {
          partyId,
          platformId: null,
          kind: 'organization',
          addresses: held,
          allAddresses: true,
        }),
      );
      count(result, partyId, null);
    }
    return summary;
  }

  /**
   * Screens one party inside the caller's transaction (the registry's, when a party is registered
   * or its names, beneficial owners or addresses change), and stores what it finds as hits on the
   * party. Only the subjects given are screened and reconciled: names, owners (each owner's name,
   * and OFAC's 50 % rule over their holdings), addresses.
   */
  async screen(tx: Orm, caller: Caller, subject: ScreeningSubject): Promise<void> {
    await this.#screenSubject(tx, caller, subject);
  }

  async #screenSubject(
    tx: Orm,
    caller: Caller,
    subject: ScreeningSubject,
  ): Promise<{ delisted: number; hits: Omit<RescreenHit, 'partyId' | 'partyName'>[] }> {
    const lists = await this.lists(tx);
    const current = await tx
      .select()
      .from(partyHits)
      .where(eq(partyHits.partyId, subject.partyId))
      .for('update');
    const resolvedAway = new Set(
      current
        .filter((h) => h.review === 'false_positive' || h.review === 'released')
        .map((h) => `${h.subject}|${h.source}|${h.listEntryId}`),
    );
    const found: FoundHit[] = [];
    const bestNameMatches = (
      names: readonly string[],
      type: PartyKind,
    ): { m: ScreeningMatch; name: string }[] => {
      const best = new Map<string, { m: ScreeningMatch; name: string }>();
      for (const name of names) {
        if (name.trim() === '') continue;
        for (const match of lists.names.screenName(name.trim(), { limit: 5, type })) {
          const m = this.#nameMatch(lists, match);
          if (m.score < REVIEW_THRESHOLD) continue;
          const key = `${m.source}|${m.listEntryId}`;
          const prior = best.get(key);
          if (!prior || prior.m.score < m.score) best.set(key, { m, name });
        }
      }
      return [...best.values()];
    };

    if (subject.names) {
      for (const { m, name } of bestNameMatches(subject.names, subject.kind)) {
        found.push({ subject: 'name', match: m, matchedName: name });
      }
    }
    if (subject.owners) {
      // Beneficial owners are natural persons: screened against listed individuals.
      const listedShares: { name: string; share: number; matches: ScreeningMatch[] }[] = [];
      for (const owner of subject.owners) {
        const ownerSubject = `owner:${owner.name}`;
        const matches = bestNameMatches([owner.name], 'person');
        for (const { m } of matches) {
          found.push({ subject: ownerSubject, match: m, matchedName: owner.name });
        }
        // An owner an officer showed is not the listed person does not count towards the rule.
        const standing = matches.filter(
          ({ m }) => !resolvedAway.has(`${ownerSubject}|${m.source}|${m.listEntryId}`),
        );
        if (standing.length > 0) {
          listedShares.push({
            name: owner.name,
            share: owner.shareBasisPoints,
            matches: standing.map((s) => s.m),
          });
        }
      }
      // OFAC's 50 % rule (Revised Guidance on Entities Owned by Persons Whose Property and
      // Interests in Property Are Blocked, 13 August 2014): an entity owned 50 % or more, directly
      // or indirectly, individually or in the aggregate, by one or more blocked persons is itself
      // blocked. The registry stores direct holdings, which are added up here.
      const total = listedShares.reduce((sum, o) => sum + o.share, 0);
      if (total >= OWNERSHIP_RULE_BASIS_POINTS) {
        const matches = listedShares.flatMap((o) => o.matches);
        const ids = [...new Set(matches.map((m) => `${m.source}:${m.listEntryId}`))].sort();
        found.push({
          subject: 'ownership',
          match: {
            score: total / 10_000,
            outcome: 'match',
            source: OWNERSHIP_RULE_SOURCE,
            listEntryId: ids.join('+'),
            listSnapshotId: [...new Set(matches.map((m) => m.listSnapshotId))].sort().join(','),
            primaryName: listedShares.map((o) => o.name).join(', '),
            matchedAlias: null,
            kind: 'ownership',
            entryHash: createHash('sha256')
              .update(
                matches
                  .map((m) => m.entryHash)
                  .sort()
                  .join(','),
              )
              .digest('hex'),
          },
          matchedName: `${listedShares.map((o) => `${o.name} ${o.share / 100} %`).join(' + ')} = ${total / 100} %`,
        });
      }
    }
    for (const address of subject.addresses ?? []) {
      for (const m of lists.addresses.screenAddress(address)) {
        const snapshotId = lists.snapshotIdByHash.get(m.contentHash) ?? '';
        found.push({
          subject: `address:${address}`,
          matchedName: null,
          match: {
            score: 1,
            outcome: 'match',
            source: m.source,
            listEntryId: m.listEntryId,
            listSnapshotId: snapshotId,
            primaryName: m.primaryName,
            matchedAlias: null,
            kind: 'address',
            entryHash: lists.entryHashes.get(`${snapshotId}|${m.listEntryId}`) ?? '',
          },
        });
      }
    }

    // The subjects screened now: their standing hits not found again are delisted.
    const addressSet = new Set((subject.addresses ?? []).map((a) => `address:${a}`));
    const inScope = (s: string): boolean =>
      (subject.names !== undefined && s === 'name') ||
      (subject.owners !== undefined && (s === 'ownership' || s.startsWith('owner:'))) ||
      addressSet.has(s) ||
      (subject.allAddresses === true && s.startsWith('address:'));
    const activeEntries = new Set<string>();
    for (const key of lists.entryHashes.keys()) activeEntries.add(key.slice(key.indexOf('|') + 1));

    const known = new Map(current.map((h) => [`${h.subject}|${h.source}|${h.listEntryId}`, h]));
    const foundKeys = new Set(
      found.map((f) => `${f.subject}|${f.match.source}|${f.match.listEntryId}`),
    );
    const now = this.#clock.now();
    const hits: Omit<RescreenHit, 'partyId' | 'partyName'>[] = [];
    let delisted = 0;
    for (const f of found) {
      const m = f.match;
      const prior = known.get(`${f.subject}|${m.source}|${m.listEntryId}`);
      if (prior && prior.status === 'listed') {
        // The party may have moved to another platform's care only by re-registration; keep the
        // review as it stands.
        continue;
      }
      const values = {
        partyId: subject.partyId,
        subject: f.subject,
        source: m.source,
        listEntryId: m.listEntryId,
        entryHash: m.entryHash,
        snapshotId: m.listSnapshotId,
        score: m.score,
        matchedName: f.matchedName,
        status: 'listed',
        listedAt: now,
        delistedAt: null,
        delistedReason: null,
        platformId: subject.platformId,
        // Listed again after a delisting: reviewed afresh.
        review: 'open',
      };
      let hitId: string;
      if (prior) {
        hitId = prior.id;
        await tx.update(partyHits).set(values).where(eq(partyHits.id, prior.id));
      } else {
        hitId = newId('screening', now, this.#random);
        await tx.insert(partyHits).values({ id: hitId, ...values, reviews: [] });
      }
      const what =
        f.subject === 'name'
          ? 'party'
          : f.subject === 'ownership'
            ? 'ownership by listed persons (OFAC 50 % rule)'
            : f.subject;
      const message = `${what} matches ${m.source} entry ${m.listEntryId} (${m.primaryName || m.listEntryId}) with score ${m.score.toFixed(3)} on snapshot ${m.listSnapshotId}`;
      await raiseAlert(tx, caller, this.#clock, this.#random, {
        partyId: subject.partyId,
        platformId: null,
        kind: 'screening',
        rule: f.subject === 'ownership' ? 'screening.ownership50@1' : 'screening.listed@1',
        score: Math.min(m.score, 1),
        message,
      });
      await recordAudit(tx, caller, this.#clock, {
        action: 'screening.listed',
        entityType: 'party',
        entityId: subject.partyId,
        after: { hitId, subject: f.subject, ...m },
      });
      hits.push({
        subject: f.subject,
        source: m.source,
        listEntryId: m.listEntryId,
        listedName: m.primaryName,
        score: m.score,
      });
    }
    for (const hit of current) {
      if (hit.status !== 'listed' || !inScope(hit.subject)) continue;
      if (foundKeys.has(`${hit.subject}|${hit.source}|${hit.listEntryId}`)) continue;
      const reason =
        hit.subject.startsWith('owner:') &&
        !subject.owners?.some((o) => `owner:${o.name}` === hit.subject)
          ? `${hit.subject.slice('owner:'.length)} is no longer a beneficial owner`
          : hit.subject === 'ownership'
            ? 'the listed owners no longer hold 50 % or more in the aggregate'
            : hit.subject === 'name' &&
                activeEntries.has(hit.listEntryId) &&
                subject.names !== undefined
              ? `the party's names no longer match ${hit.source} entry ${hit.listEntryId} (score below ${REVIEW_THRESHOLD})`
              : activeEntries.has(hit.listEntryId)
                ? `entry ${hit.source} ${hit.listEntryId} changed in the active snapshot and no longer matches (score below ${REVIEW_THRESHOLD})`
                : `entry ${hit.source} ${hit.listEntryId} is no longer on the active list (snapshots ${lists.snapshotIds.join(', ')})`;
      await tx
        .update(partyHits)
        .set({ status: 'delisted', delistedAt: now, delistedReason: reason })
        .where(eq(partyHits.id, hit.id));
      await recordAudit(tx, caller, this.#clock, {
        action: 'screening.delisted',
        entityType: 'party',
        entityId: subject.partyId,
        before: {
          hitId: hit.id,
          subject: hit.subject,
          source: hit.source,
          listEntryId: hit.listEntryId,
          status: 'listed',
        },
        after: { status: 'delisted', reason },
      });
      delisted++;
    }
    return { delisted, hits };
  }

  /** The party's hits that block its KYC verification and its transfers (listed, not resolved away). */
  async blockingHits(orm: Orm, partyId: string): Promise<PartyHitView[]> {
    const rows = await orm
      .select()
      .from(partyHits)
      .where(
        and(
          eq(partyHits.partyId, partyId),
          eq(partyHits.status, 'listed'),
          inArray(partyHits.review, BLOCKING_REVIEWS),
        ),
      )
      .orderBy(asc(partyHits.listedAt), asc(partyHits.id));
    return rows.map(hitView);
  }

  /**
   * The screening flag of each party: `blocked` (a confirmed hit, or ownership by listed persons
   * of 50 % or more not yet resolved), `review` (an open hit) or `clear`.
   */
  async flags(
    partyIds: readonly string[],
    orm: Orm = this.#db.orm,
  ): Promise<Map<string, ScreeningFlag>> {
    const flags = new Map<string, ScreeningFlag>();
    for (const id of partyIds) flags.set(id, { status: 'clear', openHits: 0 });
    if (partyIds.length === 0) return flags;
    const rows = await orm
      .select({ partyId: partyHits.partyId, subject: partyHits.subject, review: partyHits.review })
      .from(partyHits)
      .where(
        and(
          inArray(partyHits.partyId, [...new Set(partyIds)]),
          eq(partyHits.status, 'listed'),
          inArray(partyHits.review, BLOCKING_REVIEWS),
        ),
      );
    for (const row of rows) {
      const flag = flags.get(row.partyId) ?? { status: 'clear', openHits: 0 };
      const blocked = row.review !== 'open' || row.subject === 'ownership' ? 'blocked' : 'review';
      flags.set(row.partyId, {
        status: flag.status === 'blocked' || blocked === 'blocked' ? 'blocked' : 'review',
        openHits: flag.openHits + 1,
      });
    }
    return flags;
  }

  /**
   * A page of the hits visible to the caller, newest first (keyset on listed_at, id): the
   * supervisor and auditor see all; a platform's officers the hits of the parties that belong to
   * their platform. Filters are conditions of the query, so no hit hides behind newer ones.
   */
  async listHits(
    caller: Caller,
    filter: {
      partyId?: string | undefined;
      review?: HitReviewState | undefined;
      status?: 'listed' | 'delisted' | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<PartyHitView>> {
    const scope = hitScope(caller);
    const { after, orderBy, read, limit } = keyset(
      { createdAt: partyHits.listedAt, id: partyHits.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(partyHits)
      .where(
        and(
          scope,
          filter.partyId ? eq(partyHits.partyId, filter.partyId) : undefined,
          filter.review ? eq(partyHits.review, filter.review) : undefined,
          filter.status ? eq(partyHits.status, filter.status) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(hitView),
      (row) => ({ createdAt: row.listedAt, id: row.id }),
    );
  }

  /**
   * Resolves a hit. First an officer of the party's platform (the supervisor for a party of no
   * platform: a platform, miner or VASP) calls it a false positive or confirms it; a confirmed hit
   * then goes to the supervisor, who keeps the party blocked or releases it. An exact address
   * match is never a false positive. Every step is audited.
   */
  async resolveHit(
    caller: Caller,
    hitId: string,
    input: { decision: HitReviewDecision; reason: string },
  ): Promise<PartyHitView> {
    const reason = input.reason.trim();
    if (reason.length < 10) {
      throw new AppError('VALIDATION_FAILED', 'reason must say why (at least 10 characters)', {
        issues: [{ field: 'reason', message: 'must be at least 10 characters' }],
      });
    }
    if (!(HIT_REVIEW_DECISIONS as readonly string[]).includes(input.decision)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `decision must be one of ${HIT_REVIEW_DECISIONS.join(', ')}`,
        {
          issues: [
            { field: 'decision', message: `must be one of ${HIT_REVIEW_DECISIONS.join(', ')}` },
          ],
        },
      );
    }
    return this.#db.transaction(async (tx) => {
      const [hit] = await tx
        .select()
        .from(partyHits)
        .where(and(eq(partyHits.id, hitId), hitScope(caller)))
        .for('update');
      if (!hit) throw new AppError('NOT_FOUND', `no screening hit ${hitId} visible to you`);
      const firstStep = input.decision === 'false_positive' || input.decision === 'confirmed';
      if (firstStep) {
        const officer = hit.platformId
          ? caller.role === 'platform' && caller.participantId === hit.platformId
          : caller.role === 'supervisor';
        if (!officer) {
          throw new AppError(
            hit.platformId && caller.role === 'supervisor'
              ? 'INVALID_STATE_TRANSITION'
              : 'FORBIDDEN',
            hit.platformId
              ? `an officer of platform ${hit.platformId} reviews this hit first`
              : 'the supervisor reviews the hits of parties that belong to no platform',
          );
        }
      } else if (caller.role !== 'supervisor') {
        throw new AppError(
          'FORBIDDEN',
          'only the supervisor keeps blocked or releases a confirmed hit',
        );
      }
      if (hit.status !== 'listed') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `hit ${hitId} is delisted: nothing to resolve`,
        );
      }
      const from = hit.review as HitReviewState;
      if (firstStep ? from !== 'open' : from !== 'confirmed') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          firstStep
            ? `hit ${hitId} is ${from}, not open; ${from === 'confirmed' ? 'the supervisor decides it now' : 'it was reviewed already'}`
            : `hit ${hitId} is ${from}; the supervisor decides a hit the platform confirmed`,
        );
      }
      if (input.decision === 'false_positive' && hit.subject.startsWith('address:')) {
        throw new AppError(
          'CONFLICT',
          'an address match is exact and cannot be called a false positive; confirm it',
        );
      }
      const step: HitReview = {
        at: this.#clock.now().toISOString(),
        actor: caller.actorId,
        role: caller.role,
        decision: input.decision,
        reason,
      };
      const reviews = [...hit.reviews, step];
      await tx
        .update(partyHits)
        .set({ review: input.decision, reviews })
        .where(eq(partyHits.id, hit.id));
      const after = hitView({ ...hit, review: input.decision, reviews });
      await recordAudit(tx, caller, this.#clock, {
        action: `screening_hit.${input.decision}`,
        entityType: 'screening_hit',
        entityId: hit.id,
        before: { review: from },
        after: { partyId: hit.partyId, subject: hit.subject, review: input.decision, reason },
      });
      return after;
    });
  }

  /** Standing hits of a party (listed and delisted, with the delisting reason). */
  async partyHits(caller: Caller, partyId: string) {
    requireSupervisorOrAuditor(caller);
    return this.#db.orm
      .select()
      .from(partyHits)
      .where(eq(partyHits.partyId, partyId))
      .orderBy(asc(partyHits.listedAt));
  }
}

function requireSupervisorOrAuditor(caller: Caller): void {
  if (caller.role !== 'supervisor' && caller.role !== 'auditor') {
    throw new AppError(
      'FORBIDDEN',
      `screening hits are for the supervisor and auditor; the caller is a ${caller.role}`,
    );
  }
}

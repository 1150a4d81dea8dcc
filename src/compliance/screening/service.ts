/**
 * Screening as a service: list snapshots stored in the database (every entry, with its content
 * hash), the in-memory name and address indexes built from the active snapshots (at first use,
 * and again after every import), ad-hoc screening, false-positive clearances, and re-screening of
 * every registered party and address when a new snapshot arrives. Screening one party and
 * reconciling its hits is `screen-party.ts`; reading and reviewing hits is `hits.ts`.
 *
 * Over 600 lines: list loading, importing, ad-hoc screening, clearances and re-screening share
 * the loaded-lists cache (`#loaded`, `#loadedKey`, `#checkedAt`) that this class owns; the next
 * seam is the clearances (`clear`, `clearedPairs`), left for a later change.
 */
import { createHash } from 'node:crypto';
import { and, asc, eq, inArray } from 'drizzle-orm';
import { AppError, newId, type Caller, type Clock, type Random } from '../../kernel';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../../db';
import { AuditLog, canonicalJson } from '../../audit';
import { publish } from '../../events';
import { clearances, listEntries, listSnapshots } from '../schema';
import type { PartySource } from '../policy/types';
import { importAddressList } from './address-list';
import { AddressIndex } from './address-index';
import { importEuFsfXml } from './eu-fsf';
import { ScreeningIndex } from './name-index';
import { matchedEntries, type MatchedEntry } from './entries';
import { importOfacSdnCsv } from './ofac-csv';
import { outcomeOf, type ScreeningOutcome } from './thresholds';
import type { ListCounts, ListEntry, ListSnapshot, ListSource } from './types';
import { importUnConsolidatedXml } from './un-xml';
import { PartyHits, type PartyHitView, type ScreeningFlag } from './hits';
import { noteCase, raiseAlert } from '../cases/alerts';
import { nameMatchOf, PartyScreening, type ScreeningSubject } from './screen-party';

export {
  HIT_REVIEW_DECISIONS,
  HIT_REVIEW_STATES,
  type HitReason,
  type HitReviewDecision,
  type HitReviewState,
  type PartyHitView,
  type ScreeningFlag,
} from './hits';
export {
  OWNERSHIP_RULE_BASIS_POINTS,
  OWNERSHIP_RULE_SOURCE,
  type ScreeningSubject,
} from './screen-party';

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

const SCREENING_WRITERS = ['supervisor'] as const;

/**
 * Announced when a list snapshot becomes its list's active version (a new file imported, or an
 * older version's bytes republished), in the transaction that activates it. Payload
 * `ListActivated`. The re-screen of parties that follows is still the import's own work (after
 * the commit); the event tells others which version now decides.
 */
export const LIST_ACTIVATED = 'compliance.list.activated';

export interface ListActivated {
  snapshotId: string;
  listKey: string;
  source: string;
  /** The snapshot it replaced as the list's active version, if any. */
  previousSnapshotId: string | null;
  /** Whether it was an older version made active again (`list.reactivated`). */
  reactivated: boolean;
}

async function announceActivated(
  tx: Orm,
  clock: Clock,
  snapshot: { id: string; listKey: string; source: string },
  previous: string | null,
  reactivated: boolean,
): Promise<void> {
  const payload: ListActivated = {
    snapshotId: snapshot.id,
    listKey: snapshot.listKey,
    source: snapshot.source,
    previousSnapshotId: previous,
    reactivated,
  };
  await publish(tx, clock, { topic: LIST_ACTIVATED, key: snapshot.id, payload: { ...payload } });
}

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
  readonly #audit: AuditLog;
  readonly #random: Random;
  #parties: PartySource;
  readonly #refreshIntervalMs: number;
  #loaded: Promise<LoadedLists> | undefined;
  #loadedKey = '';
  #checkedAt = 0;
  readonly #hits: PartyHits;
  readonly #screening: PartyScreening;

  constructor(deps: ScreeningServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
    this.#random = deps.random;
    this.#parties = deps.parties;
    this.#refreshIntervalMs = deps.refreshIntervalMs ?? 30_000;
    this.#hits = new PartyHits(deps.db, deps.clock);
    this.#screening = new PartyScreening(deps.clock, deps.random, this.#audit);
  }

  /** The composition root wires the registry's parties here once it exists. */
  setPartySource(parties: PartySource): void {
    this.#parties = parties;
  }

  /**
   * The active lists in memory; rebuilt when the set of active snapshots changed. Read in the
   * caller's unit of work when there is one (`db.current()`: on PGlite's one connection a query
   * outside it would wait for it), else on the pool. `refresh`: check the active snapshots now
   * (the caller saw that they changed).
   */
  async lists(options: { refresh?: boolean } = {}): Promise<LoadedLists> {
    const now = this.#clock.now().getTime();
    const fresh = now - this.#checkedAt < this.#refreshIntervalMs && !options.refresh;
    if (this.#loaded && fresh) return this.#loaded;
    this.#checkedAt = now;
    const orm = this.#db.current();
    const active = await orm
      .select({ id: listSnapshots.id })
      .from(listSnapshots)
      .where(eq(listSnapshots.active, true))
      .orderBy(asc(listSnapshots.id));
    const key = active.map((r) => r.id).join(',');
    if (!this.#loaded || key !== this.#loadedKey) {
      this.#loadedKey = key;
      this.#loaded = this.#load(
        orm,
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
        await this.#audit.record(caller, {
          action: 'list.reactivated',
          entityType: 'listSnapshot',
          entityId: existing.id,
          before: previous ? { activeSnapshotId: previous } : undefined,
          after: { activeSnapshotId: existing.id },
        });
        await announceActivated(tx, this.#clock, existing, previous, true);
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
      await this.#audit.record(caller, {
        action: 'list.imported',
        entityType: 'listSnapshot',
        entityId: id,
        before: previous ? { activeSnapshotId: previous } : undefined,
        after: row,
      });
      await announceActivated(tx, this.#clock, row, previous, false);
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
      .map((m) => nameMatchOf(lists, m));
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

  /**
   * A screening alert raised for another module, in its unit of work (a payment it holds because
   * the addresses paying it did not pass `screenAddress`): into the party's open case, as every
   * alert, for the supervisor's alerts list. Kind `screening`, so `critical`. Refused outside a
   * transaction: the alert must commit with the hold it explains.
   */
  async raiseAddressAlert(
    caller: Caller,
    input: { partyId: string; platformId: string | null; rule: string; message: string },
  ): Promise<{ alertId: string; caseId: string }> {
    const raised = await raiseAlert(
      this.#db.currentUnit('raiseAddressAlert'),
      caller,
      this.#clock,
      this.#random,
      { ...input, kind: 'screening', score: 1 },
      this.#audit,
    );
    return { alertId: raised.alertId, caseId: raised.caseId };
  }

  /**
   * Another module's decision on what a screening alert was raised for (a held payment
   * accepted, returned or frozen), noted on the alert's case in its unit of work (`noteCase`;
   * refused outside a transaction): not noted when the case is closed.
   */
  async noteAddressCase(
    caller: Caller,
    input: { caseId: string; note: string },
  ): Promise<{ noted: boolean }> {
    return await noteCase(
      this.#db.currentUnit('noteAddressCase'),
      caller,
      { clock: this.#clock, audit: this.#audit },
      input.caseId,
      input.note,
    );
  }

  /**
   * An address screened exactly (by its chain's canonical form) against every active list, the
   * lists read in the caller's unit of work when there is one.
   */
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
      await this.#audit.record(caller, {
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
      const result = await this.#db.transaction(async (tx) =>
        this.#screening.screen(tx, caller, await this.lists(), {
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
      const result = await this.#db.transaction(async (tx) =>
        this.#screening.screen(tx, caller, await this.lists(), {
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
   * Screens one party inside the caller's unit of work (the registry's, when a party is
   * registered or its names, beneficial owners or addresses change; refused outside one), and
   * stores what it finds as hits on the party. Only the subjects given are screened and
   * reconciled: names, owners (each owner's name, and OFAC's 50 % rule over their holdings),
   * addresses.
   */
  async screen(caller: Caller, subject: ScreeningSubject): Promise<void> {
    const tx = this.#db.currentUnit('screen');
    await this.#screening.screen(tx, caller, await this.lists(), subject);
  }

  /**
   * The party's hits that block its KYC verification and its transfers (listed, not resolved
   * away), read in the caller's unit of work (autocommit outside one).
   */
  blockingHits(partyId: string): Promise<PartyHitView[]> {
    return this.#hits.blockingHits(partyId);
  }

  /**
   * Each party's screening flag (see `PartyHits.flags`), read in the caller's unit of work
   * (autocommit outside one).
   */
  flags(partyIds: readonly string[]): Promise<Map<string, ScreeningFlag>> {
    return this.#hits.flags(partyIds);
  }

  /** A page of the hits visible to the caller, newest first (see `PartyHits.listHits`). */
  listHits(...args: Parameters<PartyHits['listHits']>): Promise<Page<PartyHitView>> {
    return this.#hits.listHits(...args);
  }

  /** Resolves a hit, in two steps (see `PartyHits.resolveHit`). */
  resolveHit(...args: Parameters<PartyHits['resolveHit']>): Promise<PartyHitView> {
    return this.#hits.resolveHit(...args);
  }

  /** Standing hits of a party (listed and delisted, with the delisting reason). */
  partyHits(caller: Caller, partyId: string) {
    return this.#hits.partyHits(caller, partyId);
  }
}

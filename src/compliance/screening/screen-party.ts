/**
 * Screening one party against the loaded lists and reconciling its stored hits: what is found
 * now is listed (with an alert and an audit event), standing hits of the subjects screened that
 * are not found again are delisted with the reason.
 */
import { createHash } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { newId, type Caller, type Clock, type Random } from '../../kernel';
import type { Orm } from '../../db';
import type { AuditLog } from '../../audit';
import { partyHits } from '../schema';
import { raiseAlert } from '../cases/alerts';
import type { PartyKind } from '../policy/types';
import type { NameMatch } from './name-index';
import { REVIEW_THRESHOLD } from './thresholds';
import type { LoadedLists, RescreenHit, ScreeningMatch } from './service';

/** The pseudo-source of a hit under OFAC's 50 % rule (ownership by listed persons). */
export const OWNERSHIP_RULE_SOURCE = 'ofac-50-percent-rule';
/** 50 % in basis points: listed owners holding this much or more make the entity blocked. */
export const OWNERSHIP_RULE_BASIS_POINTS = 5_000;

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

/** What screening one party changed. */
export interface PartyScreened {
  delisted: number;
  hits: Omit<RescreenHit, 'partyId' | 'partyName'>[];
}

interface FoundHit {
  subject: string;
  /** A list match, or the 50 % rule's aggregate (whose source is OWNERSHIP_RULE_SOURCE). */
  match: Omit<ScreeningMatch, 'source'> & { source: string };
  matchedName: string | null;
}

type StoredHit = typeof partyHits.$inferSelect;

/** A name index match with the snapshot and entry hash it came from. */
export function nameMatchOf(lists: LoadedLists, match: NameMatch): ScreeningMatch {
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

/** The best match per list entry among `names`, at or above the review threshold. */
function bestNameMatches(
  lists: LoadedLists,
  names: readonly string[],
  type: PartyKind,
): { m: ScreeningMatch; name: string }[] {
  const best = new Map<string, { m: ScreeningMatch; name: string }>();
  for (const name of names) {
    if (name.trim() === '') continue;
    for (const match of lists.names.screenName(name.trim(), { limit: 5, type })) {
      const m = nameMatchOf(lists, match);
      if (m.score < REVIEW_THRESHOLD) continue;
      const key = `${m.source}|${m.listEntryId}`;
      const prior = best.get(key);
      if (!prior || prior.m.score < m.score) best.set(key, { m, name });
    }
  }
  return [...best.values()];
}

/** Owners' hits, and the 50 % rule's when listed owners hold half or more. */
function ownerHits(
  lists: LoadedLists,
  owners: NonNullable<ScreeningSubject['owners']>,
  resolvedAway: ReadonlySet<string>,
): FoundHit[] {
  const found: FoundHit[] = [];
  // Beneficial owners are natural persons: screened against listed individuals.
  const listedShares: { name: string; share: number; matches: ScreeningMatch[] }[] = [];
  for (const owner of owners) {
    const ownerSubject = `owner:${owner.name}`;
    const matches = bestNameMatches(lists, [owner.name], 'person');
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
  const ownership = ownershipHit(listedShares);
  return ownership ? [...found, ownership] : found;
}

/**
 * OFAC's 50 % rule (Revised Guidance on Entities Owned by Persons Whose Property and Interests
 * in Property Are Blocked, 13 August 2014): an entity owned 50 % or more, directly or
 * indirectly, individually or in the aggregate, by one or more blocked persons is itself
 * blocked. The registry stores direct holdings, which are added up here.
 */
function ownershipHit(
  listedShares: readonly { name: string; share: number; matches: ScreeningMatch[] }[],
): FoundHit | null {
  const total = listedShares.reduce((sum, o) => sum + o.share, 0);
  if (total < OWNERSHIP_RULE_BASIS_POINTS) return null;
  const matches = listedShares.flatMap((o) => o.matches);
  const ids = [...new Set(matches.map((m) => `${m.source}:${m.listEntryId}`))].sort();
  return {
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
  };
}

function addressHits(lists: LoadedLists, addresses: readonly string[]): FoundHit[] {
  const found: FoundHit[] = [];
  for (const address of addresses) {
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
  return found;
}

const keyOf = (h: { subject: string; source: string; listEntryId: string }) =>
  `${h.subject}|${h.source}|${h.listEntryId}`;

/** Screens parties and keeps their hits. */
export class PartyScreening {
  constructor(
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly audit: AuditLog,
  ) {}

  /**
   * Screens one party inside the caller's transaction and stores what it finds as hits on the
   * party. Only the subjects given are screened and reconciled: names, owners (each owner's
   * name, and OFAC's 50 % rule over their holdings), addresses.
   */
  async screen(
    tx: Orm,
    caller: Caller,
    lists: LoadedLists,
    subject: ScreeningSubject,
  ): Promise<PartyScreened> {
    const current = await tx
      .select()
      .from(partyHits)
      .where(eq(partyHits.partyId, subject.partyId))
      .for('update');
    const resolvedAway = new Set(
      current.filter((h) => h.review === 'false_positive' || h.review === 'released').map(keyOf),
    );
    const found: FoundHit[] = [
      ...(subject.names
        ? bestNameMatches(lists, subject.names, subject.kind).map(({ m, name }) => ({
            subject: 'name',
            match: m,
            matchedName: name,
          }))
        : []),
      ...(subject.owners ? ownerHits(lists, subject.owners, resolvedAway) : []),
      ...addressHits(lists, subject.addresses ?? []),
    ];
    const now = this.clock.now();
    const known = new Map(current.map((h) => [keyOf(h), h]));
    const hits: PartyScreened['hits'] = [];
    for (const f of found) {
      const prior = known.get(`${f.subject}|${f.match.source}|${f.match.listEntryId}`);
      // The party may have moved to another platform's care only by re-registration; keep the
      // review as it stands.
      if (prior && prior.status === 'listed') continue;
      hits.push(await this.#list(tx, caller, subject, f, prior, now));
    }
    const foundKeys = new Set(
      found.map((f) => `${f.subject}|${f.match.source}|${f.match.listEntryId}`),
    );
    const stale = current.filter(
      (hit) =>
        hit.status === 'listed' && inScope(subject, hit.subject) && !foundKeys.has(keyOf(hit)),
    );
    for (const hit of stale) await this.#delist(tx, caller, subject, lists, hit, now);
    return { delisted: stale.length, hits };
  }

  /** Stores a hit found (new, or listed again after a delisting) and raises its alert. */
  async #list(
    tx: Orm,
    caller: Caller,
    subject: ScreeningSubject,
    f: FoundHit,
    prior: StoredHit | undefined,
    now: Date,
  ): Promise<PartyScreened['hits'][number]> {
    const m = f.match;
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
      hitId = newId('screening', now, this.random);
      await tx.insert(partyHits).values({ id: hitId, ...values, reviews: [] });
    }
    const what =
      f.subject === 'name'
        ? 'party'
        : f.subject === 'ownership'
          ? 'ownership by listed persons (OFAC 50 % rule)'
          : f.subject;
    const message = `${what} matches ${m.source} entry ${m.listEntryId} (${m.primaryName || m.listEntryId}) with score ${m.score.toFixed(3)} on snapshot ${m.listSnapshotId}`;
    await raiseAlert(
      tx,
      caller,
      this.clock,
      this.random,
      {
        partyId: subject.partyId,
        platformId: null,
        kind: 'screening',
        rule: f.subject === 'ownership' ? 'screening.ownership50@1' : 'screening.listed@1',
        score: Math.min(m.score, 1),
        message,
      },
      this.audit,
    );
    await this.audit.record(caller, {
      action: 'screening.listed',
      entityType: 'party',
      entityId: subject.partyId,
      after: { hitId, subject: f.subject, ...m },
    });
    const { source, listEntryId, primaryName: listedName, score } = m;
    return { subject: f.subject, source, listEntryId, listedName, score };
  }

  /** Delists a standing hit not found again, with the reason. */
  async #delist(
    tx: Orm,
    caller: Caller,
    subject: ScreeningSubject,
    lists: LoadedLists,
    hit: StoredHit,
    now: Date,
  ): Promise<void> {
    const reason = delistingReason(subject, lists, hit);
    await tx
      .update(partyHits)
      .set({ status: 'delisted', delistedAt: now, delistedReason: reason })
      .where(eq(partyHits.id, hit.id));
    await this.audit.record(caller, {
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
  }
}

/** Whether a stored hit's subject was screened now (its standing hits not found again are delisted). */
function inScope(subject: ScreeningSubject, s: string): boolean {
  return (
    (subject.names !== undefined && s === 'name') ||
    (subject.owners !== undefined && (s === 'ownership' || s.startsWith('owner:'))) ||
    (subject.addresses ?? []).some((a) => s === `address:${a}`) ||
    (subject.allAddresses === true && s.startsWith('address:'))
  );
}

function delistingReason(subject: ScreeningSubject, lists: LoadedLists, hit: StoredHit): string {
  const activeEntries = new Set<string>();
  for (const key of lists.entryHashes.keys()) activeEntries.add(key.slice(key.indexOf('|') + 1));
  if (
    hit.subject.startsWith('owner:') &&
    !subject.owners?.some((o) => `owner:${o.name}` === hit.subject)
  )
    return `${hit.subject.slice('owner:'.length)} is no longer a beneficial owner`;
  if (hit.subject === 'ownership')
    return 'the listed owners no longer hold 50 % or more in the aggregate';
  if (hit.subject === 'name' && activeEntries.has(hit.listEntryId) && subject.names !== undefined)
    return `the party's names no longer match ${hit.source} entry ${hit.listEntryId} (score below ${REVIEW_THRESHOLD})`;
  if (activeEntries.has(hit.listEntryId))
    return `entry ${hit.source} ${hit.listEntryId} changed in the active snapshot and no longer matches (score below ${REVIEW_THRESHOLD})`;
  return `entry ${hit.source} ${hit.listEntryId} is no longer on the active list (snapshots ${lists.snapshotIds.join(', ')})`;
}

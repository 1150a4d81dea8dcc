/**
 * The name screening index.
 *
 * Build: every name of every entry (primary name and aliases) is normalized into tokens; each
 * distinct token gets a vocabulary id, a document frequency (how many names contain it) and a
 * weight ln(1 + N/df) (rare tokens weigh more). Blocking keys point from strings to vocabulary
 * ids: the token itself and its one-deletion variants (SymSpell's trick: two tokens within
 * Damerau–Levenshtein distance 1 share a key) and, for comparing Arabic- and Hebrew-script words,
 * the consonant skeleton (exactly: a skeleton is already a coarse key).
 *
 * Query: the query's tokens reach vocabulary ids through the keys; the candidates are the names
 * holding any reached token; only those are scored, with the same scorer as the full scan.
 * A name that shares no token within one edit (or the same skeleton) with the query is never a
 * candidate; such a name can still score above zero in a full scan (two typos in every token,
 * or a token pair at Jaro–Winkler ≥ 0.8 but two edits apart), which is why `fullScan` exists and
 * the tests and the bench report how often the two agree.
 */
import { normalizeName, type NameToken } from './normalize';
import { consonantSkeleton, MAX_TOKENS, scoreWeighted, tokenSimilarity } from './similarity';
import { outcomeOf, type ScreeningOutcome } from './thresholds';
import type { EntryKind, ListEntry, ListSnapshot, ListSource } from './types';

export interface ScreenNameOptions {
  /** Restrict to persons, or to everything that is not a person (companies, vessels, …). */
  type?: 'person' | 'organization';
  /** Most results to return (default 10). */
  limit?: number;
  /** Drop results scoring below this (default: anything above 0 is returned). */
  minScore?: number;
}

export interface NameMatch {
  score: number;
  outcome: ScreeningOutcome;
  listEntryId: string;
  source: ListSource;
  contentHash: string;
  primaryName: string;
  /** The alias that matched, or null when the primary name matched best. */
  matchedAlias: string | null;
  /** The list's quality for that alias (e.g. 'aka', 'weak aka', 'Good', 'Low'). */
  aliasQuality: string | null;
  kind: EntryKind;
}

interface NameRecord {
  snapshot: number;
  entry: number;
  /** -1 for the primary name, else the index in entry.aliases. */
  alias: number;
  vocabIds: Int32Array;
  weights: Float64Array;
  person: boolean;
}

const MIN_DELETION_LENGTH = 4;
/** Weight of a one-letter token (an initial), at most. */
const INITIAL_WEIGHT = 1;
/** A query token is common when it reaches more than max(MIN, SHARE × names) names. */
const COMMON_REACH_MIN = 200;
const COMMON_REACH_SHARE = 0.01;

function deletionKeys(text: string, into: Set<string>): void {
  into.add(text);
  if (text.length < MIN_DELETION_LENGTH) return;
  for (let i = 0; i < text.length; i++) into.add(text.slice(0, i) + text.slice(i + 1));
}

function vocabKey(token: NameToken): string {
  return token.abjad ? `#${token.text}` : token.text;
}

function addTo(map: Map<string, number[]>, key: string, id: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [id]);
  else if (list[list.length - 1] !== id) list.push(id);
}

export class ScreeningIndex {
  private readonly snapshots: readonly ListSnapshot[];
  private readonly names: NameRecord[] = [];
  private readonly vocabTokens: NameToken[] = [];
  private readonly vocabIndex = new Map<string, number>();
  private vocabWeights = new Float64Array(0);
  private maxWeight = 1;
  private postings: Int32Array[] = [];
  private readonly textKeys = new Map<string, number[]>();
  /** Skeleton keys of every token: reached from a query word written in Arabic/Hebrew script. */
  private readonly skeletonKeys = new Map<string, number[]>();
  /** Skeleton keys of tokens written in Arabic/Hebrew script: reached from Latin query words. */
  private readonly abjadSkeletonKeys = new Map<string, number[]>();
  // Per-query scratch: candidate stamps and a similarity cache [query token × vocabulary id].
  private candidateStamp = new Int32Array(0);
  private simCache = new Float64Array(0);
  private simStamp = new Int32Array(0);
  private queryCounter = 0;
  /** A query token reaching more names than this is "common" (see screenName). */
  private commonReach = 0;

  private constructor(snapshots: readonly ListSnapshot[]) {
    this.snapshots = snapshots;
  }

  static build(snapshots: readonly ListSnapshot[]): ScreeningIndex {
    const index = new ScreeningIndex(snapshots);
    index.load();
    return index;
  }

  /** How many names (primary names and aliases) are indexed, and the vocabulary size. */
  get stats(): { names: number; tokens: number; keys: number } {
    return {
      names: this.names.length,
      tokens: this.vocabTokens.length,
      keys: this.textKeys.size + this.skeletonKeys.size + this.abjadSkeletonKeys.size,
    };
  }

  private load(): void {
    const documentFrequency: number[] = [];
    const postingLists: number[][] = [];
    this.snapshots.forEach((snapshot, s) => {
      snapshot.entries.forEach((entry, e) => {
        if (entry.primaryName === '') return;
        const person = entry.kind === 'person';
        const seen = new Set<string>();
        const names = [entry.primaryName, ...entry.aliases.map((a) => a.name)];
        names.forEach((name, n) => {
          const tokens = normalizeName(name, { person }).tokens.slice(0, MAX_TOKENS);
          if (tokens.length === 0) return;
          const signature = tokens.map(vocabKey).join(' ');
          if (seen.has(signature)) return; // same name after normalization: index once
          seen.add(signature);
          const record = this.names.length;
          const vocabIds = new Int32Array(tokens.length);
          const counted = new Set<number>();
          tokens.forEach((token, t) => {
            const key = vocabKey(token);
            let id = this.vocabIndex.get(key);
            if (id === undefined) {
              id = this.vocabTokens.length;
              this.vocabIndex.set(key, id);
              this.vocabTokens.push(token);
              documentFrequency.push(0);
              postingLists.push([]);
            }
            vocabIds[t] = id;
            if (!counted.has(id)) {
              counted.add(id);
              documentFrequency[id] = (documentFrequency[id] ?? 0) + 1;
              postingLists[id]?.push(record);
            }
          });
          this.names.push({
            snapshot: s,
            entry: e,
            alias: n - 1,
            vocabIds,
            weights: new Float64Array(0),
            person,
          });
        });
      });
    });

    const total = this.names.length;
    // An initial says little about who is meant, however rare the letter: its weight is capped.
    this.vocabWeights = Float64Array.from(documentFrequency, (df, id) =>
      Math.min(
        Math.log(1 + total / df),
        (this.vocabTokens[id]?.text.length ?? 0) === 1 ? INITIAL_WEIGHT : Infinity,
      ),
    );
    this.maxWeight = Math.log(1 + total);
    for (const record of this.names) {
      record.weights = Float64Array.from(record.vocabIds, (id) => this.vocabWeights[id] ?? 0);
    }
    this.postings = postingLists.map((list) => Int32Array.from(list));

    const keys = new Set<string>();
    this.vocabTokens.forEach((token, id) => {
      keys.clear();
      deletionKeys(token.text, keys);
      for (const key of keys) addTo(this.textKeys, key, id);
      // Skeletons are already a coarse key: indexed exactly, without deletion variants.
      const skeleton = consonantSkeleton(token.text);
      token.skeleton = skeleton;
      addTo(this.skeletonKeys, skeleton, id);
      if (token.abjad) addTo(this.abjadSkeletonKeys, skeleton, id);
    });

    this.commonReach = Math.max(COMMON_REACH_MIN, Math.ceil(total * COMMON_REACH_SHARE));
    this.candidateStamp = new Int32Array(total);
    this.simCache = new Float64Array(MAX_TOKENS * this.vocabTokens.length);
    this.simStamp = new Int32Array(MAX_TOKENS * this.vocabTokens.length);
  }

  /** Screen a name against the index: candidates by blocking keys, then exact scoring. */
  screenName(query: string, options: ScreenNameOptions = {}): NameMatch[] {
    const prepared = this.prepare(query, options);
    if (prepared === undefined) return [];
    // Each query token reaches vocabulary ids through its keys, and through them names.
    const reaches: Array<{ ids: number[]; size: number }> = [];
    const keys = new Set<string>();
    for (const token of prepared.tokens) {
      if (token.text.length < 2) continue; // an initial alone would reach half the list
      const ids = new Set<number>();
      keys.clear();
      deletionKeys(token.text, keys);
      for (const key of keys) for (const id of this.textKeys.get(key) ?? []) ids.add(id);
      // Arabic/Hebrew-script words are compared by consonant skeleton (similarity.ts).
      const skeletons = token.abjad ? this.skeletonKeys : this.abjadSkeletonKeys;
      for (const id of skeletons.get(consonantSkeleton(token.text)) ?? []) ids.add(id);
      let size = 0;
      for (const id of ids) size += this.postings[id]?.length ?? 0;
      reaches.push({ ids: [...ids], size });
    }
    // Selective tokens (a surname, a company's distinctive word) generate the candidates;
    // common ones ("al", "mohammed", "trading") only take part in scoring. A name sharing only
    // common tokens with the query cannot reach the review threshold unless the query itself is
    // made only of common tokens, and then a candidate must share at least two of them.
    const selective = reaches.filter((r) => r.size <= this.commonReach);
    const stamp = this.queryCounter;
    const candidates: number[] = [];
    if (selective.length > 0 || reaches.length < 2) {
      for (const reach of selective.length > 0 ? selective : reaches) {
        for (const id of reach.ids) {
          for (const record of this.postings[id] ?? []) {
            if (this.candidateStamp[record] !== stamp) {
              this.candidateStamp[record] = stamp;
              candidates.push(record);
            }
          }
        }
      }
    } else {
      const hitMask = new Map<number, number>();
      reaches.forEach((reach, t) => {
        const bit = 1 << t;
        for (const id of reach.ids) {
          for (const record of this.postings[id] ?? []) {
            const mask = hitMask.get(record) ?? 0;
            if ((mask & bit) !== 0) continue;
            hitMask.set(record, mask | bit);
            if (mask !== 0 && this.candidateStamp[record] !== stamp) {
              this.candidateStamp[record] = stamp; // reached by a second query token
              candidates.push(record);
            }
          }
        }
      });
    }
    return this.rank(prepared, candidates, options);
  }

  /** The naive reference: score every indexed name with the same scorer. For tests and the bench. */
  fullScan(query: string, options: ScreenNameOptions = {}): NameMatch[] {
    const prepared = this.prepare(query, options);
    if (prepared === undefined) return [];
    const all: number[] = [];
    for (let i = 0; i < this.names.length; i++) all.push(i);
    return this.rank(prepared, all, options);
  }

  private prepare(
    query: string,
    options: ScreenNameOptions,
  ): { tokens: NameToken[]; weights: Float64Array } | undefined {
    this.queryCounter++;
    if (this.queryCounter > 2_000_000_000) {
      this.queryCounter = 1;
      this.candidateStamp.fill(0);
      this.simStamp.fill(0);
    }
    const tokens = normalizeName(query, { person: options.type === 'person' }).tokens.slice(
      0,
      MAX_TOKENS,
    );
    if (tokens.length === 0) return undefined;
    for (const token of tokens) token.skeleton = consonantSkeleton(token.text);
    const weights = Float64Array.from(tokens, (token) => {
      const id = this.vocabIndex.get(vocabKey(token));
      if (token.text.length === 1)
        return Math.min(INITIAL_WEIGHT, this.vocabWeights[id ?? -1] ?? INITIAL_WEIGHT);
      return id === undefined ? this.maxWeight : (this.vocabWeights[id] ?? this.maxWeight);
    });
    return { tokens, weights };
  }

  private similarity(tokens: readonly NameToken[], i: number, vocabId: number): number {
    const slot = i * this.vocabTokens.length + vocabId;
    if (this.simStamp[slot] === this.queryCounter) return this.simCache[slot] ?? 0;
    const a = tokens[i];
    const b = this.vocabTokens[vocabId];
    const s = a === undefined || b === undefined ? 0 : tokenSimilarity(a, b);
    this.simStamp[slot] = this.queryCounter;
    this.simCache[slot] = s;
    return s;
  }

  private rank(
    prepared: { tokens: NameToken[]; weights: Float64Array },
    candidates: readonly number[],
    options: ScreenNameOptions,
  ): NameMatch[] {
    const { tokens, weights } = prepared;
    const minScore = options.minScore ?? 0;
    // Best name per entry (entries are keyed by snapshot and entry position).
    const best = new Map<number, { score: number; record: number }>();
    for (const r of candidates) {
      const record = this.names[r];
      if (record === undefined) continue;
      if (options.type === 'person' && !record.person) continue;
      if (options.type === 'organization' && record.person) continue;
      const ids = record.vocabIds;
      const score = scoreWeighted(weights, record.weights, (i, j) =>
        this.similarity(tokens, i, ids[j] ?? 0),
      );
      if (score <= 0 || score < minScore) continue;
      const key = record.snapshot * 1_000_000 + record.entry;
      const current = best.get(key);
      if (
        current === undefined ||
        score > current.score ||
        (score === current.score && r < current.record)
      ) {
        best.set(key, { score, record: r });
      }
    }
    const ranked = [...best.values()].sort((a, b) => b.score - a.score || a.record - b.record);
    return ranked
      .slice(0, options.limit ?? 10)
      .map(({ score, record: r }) => this.toMatch(score, r));
  }

  private toMatch(score: number, r: number): NameMatch {
    const record = this.names[r];
    const snapshot = record === undefined ? undefined : this.snapshots[record.snapshot];
    const entry: ListEntry | undefined =
      record === undefined ? undefined : snapshot?.entries[record.entry];
    if (record === undefined || snapshot === undefined || entry === undefined) {
      throw new Error('screening index is inconsistent'); // unreachable: records point into snapshots
    }
    const alias = record.alias >= 0 ? entry.aliases[record.alias] : undefined;
    return {
      score,
      outcome: outcomeOf(score),
      listEntryId: entry.listEntryId,
      source: snapshot.source,
      contentHash: snapshot.contentHash,
      primaryName: entry.primaryName,
      matchedAlias: alias?.name ?? null,
      aliasQuality: alias?.quality ?? null,
      kind: entry.kind,
    };
  }
}

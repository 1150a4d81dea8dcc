import { describe, expect, it } from 'vitest';
import { ScreeningIndex } from './name-index';
import {
  loadOfac,
  loadUn,
  sampleListedNames,
  seededRandom,
  unlistedNames,
  withTypos,
} from '../../../test/support/screening-lists';
import { REVIEW_THRESHOLD } from './thresholds';

describe('ScreeningIndex (blocking + exact scoring) against the full scan', () => {
  const ofac = loadOfac();
  const un = loadUn();
  const index = ScreeningIndex.build([ofac, un]);
  const random = seededRandom(7);
  const listed = [...sampleListedNames(ofac, 150), ...sampleListedNames(un, 25)];
  const queries = listed.flatMap(({ name }) => [
    name,
    withTypos(name, 1, random),
    withTypos(name, 2, random),
  ]);

  it(`returns the same top result as the full scan for ${queries.length} listed and typo queries`, () => {
    const disagreements: string[] = [];
    for (const query of queries) {
      const fast = index.screenName(query, { limit: 1 })[0];
      const full = index.fullScan(query, { limit: 1 })[0];
      if (fast?.listEntryId !== full?.listEntryId || fast?.score !== full?.score) {
        disagreements.push(
          `${query}: ${fast?.listEntryId}@${fast?.score} vs ${full?.listEntryId}@${full?.score}`,
        );
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('agrees with the full scan on the outcome of unlisted names (both below review)', () => {
    for (const { name } of unlistedNames()) {
      const fast = index.screenName(name, { limit: 1 })[0];
      const full = index.fullScan(name, { limit: 1 })[0];
      expect(full?.score ?? 0).toBeLessThan(REVIEW_THRESHOLD);
      expect(fast?.score ?? 0).toBeLessThanOrEqual(full?.score ?? 0);
    }
  });

  it('filters by type, honours the limit and names the snapshot', () => {
    const people = index.screenName('Banco Nacional de Cuba', { type: 'person', limit: 3 });
    expect(people.every((m) => m.kind === 'person')).toBe(true);
    const organizations = index.screenName('Banco Nacional de Cuba', {
      type: 'organization',
      limit: 3,
    });
    expect(organizations).toHaveLength(3);
    expect(organizations[0]).toMatchObject({
      listEntryId: '306',
      source: 'ofac-sdn',
      contentHash: ofac.contentHash,
      matchedAlias: null,
      outcome: 'match',
      score: 1,
    });
  });

  it('returns nothing for empty, punctuation-only or absurd queries, without throwing', () => {
    for (const query of ['', '   ', '.,;-', 'LLC', '\u0000\uFFFF', 'x'.repeat(5000)]) {
      expect(() => index.screenName(query)).not.toThrow();
    }
    expect(index.screenName('')).toEqual([]);
    expect(index.screenName('.,;-')).toEqual([]);
  });
});

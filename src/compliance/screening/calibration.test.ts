/**
 * Calibration of the outcome thresholds (thresholds.ts) on the real lists: listed names, typos
 * and other-script spellings must score `match` against the right entry; ordinary unlisted
 * names must stay below `review`.
 */
import { describe, expect, it } from 'vitest';
import { importEuFsfXml } from './eu-fsf';
import { ScreeningIndex } from './name-index';
import {
  loadOfac,
  loadUn,
  readVector,
  sampleListedNames,
  seededRandom,
  unlistedNames,
  withTypos,
} from '../../../test/support/screening-lists';
import { MATCH_THRESHOLD, REVIEW_THRESHOLD } from './thresholds';

describe('threshold calibration on OFAC SDN 2021 + UN 2026', () => {
  const ofac = loadOfac();
  const un = loadUn();
  const eu = importEuFsfXml(readVector('eu-fsf-excerpt-2018.xml'));
  const index = ScreeningIndex.build([ofac, un, eu]);

  const expectMatch = (query: string, listEntryId: string, alias?: string): void => {
    const results = index.screenName(query, { limit: 5 });
    const own = results.find((r) => r.listEntryId === listEntryId);
    expect(
      own,
      `${query} should find ${listEntryId}, got ${JSON.stringify(results[0])}`,
    ).toBeDefined();
    expect(own?.outcome, `${query}: score ${own?.score}`).toBe('match');
    // The right entry is the top result (or tied with it: the same person listed twice).
    expect(own?.score).toBe(results[0]?.score);
    if (alias !== undefined) expect(own?.matchedAlias).toBe(alias);
  };

  it.each([
    ['GRABCHAK, Evgeniy Petrovich', '23546'],
    ['Грабчак Евгений Петрович', '23546'], // Cyrillic for a Latin-listed person
    ['Лифшиц Артём Михайлович', '29702'], // LIFSHITS, Artem Mikhaylovich
    ['Андреев Антон Николаевич', '29703'], // ANDREYEV, Anton Nikolaeyvich
    ['Xiaobing Yan', '25308'],
    ['Grabchack Evgeniy', '23546'],
    ['Banko Nacional de Kuba', '306'],
    ['صدام حسين التكريتي', 'IQi.001'], // Arabic original script, UN alias
    ['Saddam Husein al-Tikriti', 'IQi.001'],
    ['Фронт на великите ислямски източни воини', '207'], // EU Bulgarian alias
    ['Μέγα Ισλαμικό Μέτωπο των Πολεμιστών της Ανατολής', '207'], // EU Greek alias, real mu
  ])('%s → %s', (query, id) => expectMatch(query, id));

  it('reports the alias that matched', () => {
    expectMatch('National Bank of Cuba', '306', 'NATIONAL BANK OF CUBA');
    expectMatch('Allied Democratic Forces', 'CDe.001', 'Allied Democratic Forces');
  });

  const random = seededRandom(20260227);
  const listed = [...sampleListedNames(ofac, 60), ...sampleListedNames(un, 7)];

  it(`scores ${listed.length} listed names with 0, 1 and 2 typos as a match with the right entry`, () => {
    const failures: string[] = [];
    for (const { listEntryId, name } of listed) {
      for (const typos of [0, 1, 2]) {
        const query = withTypos(name, typos, random);
        const results = index.screenName(query, { limit: 5 });
        const own = results.find((r) => r.listEntryId === listEntryId);
        if (own === undefined || own.score < MATCH_THRESHOLD || own.score !== results[0]?.score) {
          failures.push(`${query} (${listEntryId}): ${own?.score ?? 'not found'}`);
        }
      }
    }
    expect(failures).toEqual([]);
  });

  it.each(unlistedNames())('keeps the unlisted $type "$name" below review', ({ name, type }) => {
    for (const options of [{ type }, {}]) {
      const top = index.fullScan(name, { ...options, limit: 1 })[0];
      expect(top?.score ?? 0, `${name} vs ${top?.primaryName} / ${top?.matchedAlias}`).toBeLessThan(
        REVIEW_THRESHOLD,
      );
    }
  });
});

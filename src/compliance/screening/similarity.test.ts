import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeName } from './normalize';
import { jaro, jaroWinkler, nameSimilarity, typoDistance } from './similarity';

const tokens = (name: string) => normalizeName(name).tokens;
const similarity = (a: string, b: string): number => nameSimilarity(tokens(a), tokens(b));

describe('Jaro and Jaro-Winkler (Winkler 1990)', () => {
  // Published examples: MARTHA/MARHTA, DWAYNE/DUANE, DIXON/DICKSONX.
  it.each([
    ['martha', 'marhta', 0.9444, 0.9611],
    ['dwayne', 'duane', 0.8222, 0.84],
    ['dixon', 'dicksonx', 0.7667, 0.8133],
  ])('%s / %s', (a, b, j, jw) => {
    expect(jaro(a, b)).toBeCloseTo(j, 4);
    expect(jaroWinkler(a, b)).toBeCloseTo(jw, 4);
  });

  it('typo distance counts an adjacent swap as one edit', () => {
    expect(typoDistance('grabchak', 'garbchak', 2)).toBe(1);
    expect(typoDistance('roman', 'rowan', 1)).toBe(1);
    expect(typoDistance('kitten', 'sitting', 2)).toBe(3); // over the limit: limit + 1
  });
});

describe('name similarity', () => {
  it('scores identical names 1, in any word order', () => {
    expect(similarity('GRABCHAK, Evgeniy Petrovich', 'Evgeniy Petrovich Grabchak')).toBe(1);
  });

  it('a missing middle name costs less than a different surname', () => {
    const missingMiddle = similarity('Evgeniy Grabchak', 'GRABCHAK, Evgeniy Petrovich');
    const otherSurname = similarity('Evgeniy Petrovich Ivanov', 'GRABCHAK, Evgeniy Petrovich');
    expect(missingMiddle).toBeGreaterThan(otherSurname);
  });

  it('gives no credit for a shared legal form', () => {
    expect(similarity('Alpha LLC', 'Omega LLC')).toBe(0);
  });

  it('matches an Arabic-script name to its Latin spelling by consonant skeleton', () => {
    expect(similarity('صدام حسين', 'Saddam Hussein')).toBeGreaterThan(0.85);
  });

  const name = fc
    .array(fc.stringMatching(/^[a-z]{1,10}$/), { minLength: 1, maxLength: 5 })
    .map((words) => words.join(' '));

  it('property: scores lie in [0, 1]', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        const s = similarity(a, b);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThanOrEqual(1);
      }),
    );
  });

  /**
   * Words that stay name words wherever they stand. Legal forms are peeled off a name's ends and
   * runs of one-letter words are joined when they spell one ("a o" → "AO", but "o a" is two
   * words), so reordering a name with such words changes its tokens by design; the generator
   * leaves them out (counterexample kept below).
   */
  const nameWord = fc
    .stringMatching(/^[a-z]{2,10}$/)
    .filter(
      (w) =>
        normalizeName(`qqq ${w}`).legalForms.length === 0 &&
        normalizeName(`${w} qqq`).legalForms.length === 0 &&
        tokens(`qqq ${w}`).length === 2,
    );
  const reorderable = fc
    .array(nameWord, { minLength: 1, maxLength: 5 })
    .map((words) => words.join(' '));

  it('spells a legal form from one-letter words only in its order', () => {
    expect(tokens('a o').map((t) => t.text)).toEqual(['ao']);
    expect(tokens('o a').map((t) => t.text)).toEqual(['o', 'a']);
  });

  it('property: a name scores 1 against itself and against any reordering of its words', () => {
    fc.assert(
      fc.property(reorderable, (a) => {
        expect(similarity(a, a)).toBe(1);
        expect(similarity(a, a.split(' ').reverse().join(' '))).toBeCloseTo(1, 12);
      }),
    );
  });

  it('property: symmetric (with uniform weights the formula is, up to greedy tie-breaking)', () => {
    fc.assert(
      fc.property(name, name, (a, b) => {
        expect(Math.abs(similarity(a, b) - similarity(b, a))).toBeLessThan(0.05);
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatRate, parseRate, type Rate } from '../kernel';
import { fixQuotes, spreadBps, type SourceQuote } from './fixing-math';

/** A rate as an exact fraction, for comparisons. */
const value = (r: Rate) => ({ n: r.digits, d: 10n ** BigInt(r.scale) });
const lte = (a: Rate, b: Rate) => value(a).n * value(b).d <= value(b).n * value(a).d;

/** A price from 50,000.00 to 90,000.00 USD, in cents. */
const quote = fc
  .bigInt({ min: 5_000_000n, max: 9_000_000n })
  .map((cents) => parseRate(`${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`, 'USD'));

const quotes = fc
  .array(fc.option(quote, { freq: 6 }), { minLength: 1, maxLength: 9 })
  .map((rates) =>
    rates.map((rate, i): SourceQuote => ({ name: `source-${String(i).padStart(2, '0')}`, rate })),
  );

const rule = fc.record({
  maxDeviationBps: fc.integer({ min: 0, max: 3_000 }),
  minSources: fc.integer({ min: 1, max: 5 }),
});

describe('the fixing of a set of quotes', () => {
  it('lies between the lowest and highest quote it used', () => {
    fc.assert(
      fc.property(quotes, rule, (qs, r) => {
        const outcome = fixQuotes(qs, r);
        if (!outcome.ok) return;
        const used = outcome.sources.filter((s) => s.used).map((s) => parseRate(s.rate!, 'USD'));
        expect(used.length).toBe(outcome.used);
        expect(used.length).toBeGreaterThanOrEqual(r.minSources);
        const min = used.reduce((a, b) => (lte(a, b) ? a : b));
        const max = used.reduce((a, b) => (lte(a, b) ? b : a));
        expect(lte(min, outcome.rate) && lte(outcome.rate, max)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('rejects exactly the quotes beyond the deviation from the raw median, saying why', () => {
    fc.assert(
      fc.property(quotes, rule, (qs, r) => {
        const outcome = fixQuotes(qs, r);
        const present = qs.filter((q) => q.rate);
        for (const s of outcome.sources) {
          if (s.rate === null) {
            expect(s.used).toBe(false);
            expect(s.reason).toBe('no quote');
            continue;
          }
          expect(s.deviationBps).toBeDefined();
          if (s.used) expect(s.deviationBps!).toBeLessThanOrEqual(r.maxDeviationBps);
          else {
            expect(s.deviationBps!).toBeGreaterThan(r.maxDeviationBps);
            expect(s.reason).toMatch(/^outlier: \d+ bp from the median [\d.]+ \(max \d+\)$/);
          }
        }
        expect(outcome.sources.filter((s) => s.rate !== null)).toHaveLength(present.length);
      }),
      { numRuns: 500 },
    );
  });

  it('does not depend on the order of the sources', () => {
    fc.assert(
      fc.property(
        quotes.chain((qs) =>
          fc.tuple(
            fc.constant(qs),
            fc.shuffledSubarray(qs, { minLength: qs.length, maxLength: qs.length }),
          ),
        ),
        rule,
        ([qs, shuffled], r) => {
          const a = fixQuotes(qs, r);
          const b = fixQuotes(shuffled, r);
          expect(b).toEqual(a);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('refuses when fewer usable quotes than the minimum remain', () => {
    const q = (name: string, text: string | null): SourceQuote => ({
      name,
      rate: text === null ? null : parseRate(text, 'USD'),
    });
    const refused = fixQuotes(
      [
        q('a', '67000'),
        q('b', '70500'),
        q('c', null),
        { name: 'd', rate: null, error: 'HTTP 503' },
      ],
      { maxDeviationBps: 100, minSources: 2 },
    );
    expect(refused.ok).toBe(false);
    expect(refused.sources.map((s) => [s.name, s.used, s.reason?.split(':')[0]])).toEqual([
      ['a', false, 'outlier'],
      ['b', false, 'outlier'],
      ['c', false, 'no quote'],
      ['d', false, 'failed'],
    ]);
    const fixed = fixQuotes([q('a', '67000'), q('b', '67010'), q('c', '70500')], {
      maxDeviationBps: 200,
      minSources: 2,
    });
    expect(fixed.ok && formatRate(fixed.rate)).toBe('67005');
    expect(spreadBps(parseRate('70500', 'USD'), parseRate('67010', 'USD'))).toBe(521);
  });
});

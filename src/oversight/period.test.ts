import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AppError } from '../kernel';
import { monthsOf, parseMonth, parsePeriod } from './period';

describe('reporting periods (calendar months and quarters, UTC)', () => {
  it('parses months, quarters and years to half-open UTC ranges', () => {
    const cases: Array<[string, string, string, number]> = [
      ['2026-07', '2026-07-01T00:00:00.000Z', '2026-08-01T00:00:00.000Z', 1],
      ['2026-12', '2026-12-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 1],
      ['2026-Q1', '2026-01-01T00:00:00.000Z', '2026-04-01T00:00:00.000Z', 3],
      ['2026-Q3', '2026-07-01T00:00:00.000Z', '2026-10-01T00:00:00.000Z', 3],
      ['2026-q4', '2026-10-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 3],
      ['2026', '2026-01-01T00:00:00.000Z', '2027-01-01T00:00:00.000Z', 12],
    ];
    for (const [text, from, to, months] of cases) {
      const period = parsePeriod(text);
      expect(period.from.toISOString(), text).toBe(from);
      expect(period.to.toISOString(), text).toBe(to);
      expect(monthsOf(period)).toHaveLength(months);
    }
    expect(monthsOf(parsePeriod('2026-Q3'))).toEqual(['2026-07', '2026-08', '2026-09']);
  });

  it('refuses malformed periods with VALIDATION_FAILED naming the field', () => {
    for (const bad of [
      '2026-Q5',
      '2026-Q0',
      '2026-13',
      '2026-00',
      '26-07',
      'Q3-2026',
      '',
      '2026-7',
    ]) {
      let error: unknown;
      try {
        parsePeriod(bad, '--period');
      } catch (e) {
        error = e;
      }
      expect(error, bad).toBeInstanceOf(AppError);
      expect((error as AppError).code).toBe('VALIDATION_FAILED');
      expect((error as AppError).message).toContain('--period');
    }
    expect(() => parseMonth('2026-Q3')).toThrow(/month/);
  });

  it('quarters are the union of their months (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2009, max: 2999 }), fc.integer({ min: 1, max: 4 }), (y, q) => {
        const quarter = parsePeriod(`${y}-Q${q}`);
        const months = monthsOf(quarter).map((m) => parsePeriod(m));
        expect(months[0]?.from).toEqual(quarter.from);
        expect(months[2]?.to).toEqual(quarter.to);
        expect(months[1]?.from).toEqual(months[0]?.to);
        expect(months[2]?.from).toEqual(months[1]?.to);
      }),
    );
  });
});

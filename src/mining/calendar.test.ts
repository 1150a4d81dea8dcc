import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  banCovers,
  bansInForce,
  firstOverlap,
  localTime,
  normalizeBan,
  type BanRule,
} from './calendar';

const winter = normalizeBan({
  kind: 'seasonal',
  seasonStart: '11-15',
  seasonEnd: '03-15',
  startYear: 2025,
  endYear: 2026,
});

describe('seasonal bans wrap the year end', () => {
  it('normalizes 15 Nov → 15 Mar for seasons starting 2025 and 2026', () => {
    expect(winter).toEqual({
      kind: 'seasonal',
      fromDate: '2025-11-15',
      toDate: '2027-03-15',
      season: { start: '11-15', end: '03-15' },
      daily: null,
    });
  });

  // Asia/Karachi is UTC+5 all year: local midnight of 15 November is 14 November 19:00 UTC.
  it.each([
    ['2025-11-14T18:59:59Z', false], // 23:59:59 on 14 Nov local
    ['2025-11-14T19:00:00Z', true], // 00:00 on 15 Nov local
    ['2026-01-01T12:00:00Z', true],
    ['2026-03-15T18:59:00Z', true], // 23:59 on 15 Mar local (inclusive)
    ['2026-03-15T19:00:00Z', false], // 16 Mar local
    ['2026-07-01T00:00:00Z', false],
    ['2026-12-01T00:00:00Z', true],
    ['2027-03-15T12:00:00Z', true],
    ['2027-11-20T00:00:00Z', false], // the 2027 season is past endYear
    ['2025-03-01T00:00:00Z', false], // before the first season
  ])('at %s banned: %s', (at, expected) => {
    expect(bansInForce([winter], new Date(at), 'Asia/Karachi').length > 0).toBe(expected);
  });
});

describe('peak-hour curtailments', () => {
  const evening = normalizeBan({
    kind: 'curtailment',
    from: '2026-01-01',
    to: '2026-12-31',
    dailyStart: '18:00',
    dailyEnd: '22:00',
  });
  const night = normalizeBan({
    kind: 'curtailment',
    from: '2026-01-01',
    to: '2026-12-31',
    dailyStart: '22:00',
    dailyEnd: '02:00',
  });

  it.each([
    ['2026-06-10T12:59:00Z', false], // 17:59 local
    ['2026-06-10T13:00:00Z', true], // 18:00 local
    ['2026-06-10T16:59:00Z', true], // 21:59 local
    ['2026-06-10T17:00:00Z', false], // 22:00 local (end is exclusive)
  ])('evening window at %s: %s', (at, expected) => {
    expect(bansInForce([evening], new Date(at), 'Asia/Karachi').length > 0).toBe(expected);
  });

  it('a window that wraps midnight covers both ends of the day', () => {
    expect(localTime(new Date('2026-06-10T20:30:00Z'), 'Asia/Karachi')).toEqual({
      date: '2026-06-11',
      time: '01:30',
    });
    expect(bansInForce([night], new Date('2026-06-10T20:30:00Z'), 'Asia/Karachi')).toHaveLength(1);
    expect(bansInForce([night], new Date('2026-06-10T21:00:00Z'), 'Asia/Karachi')).toHaveLength(0);
  });

  it('does not overlap a curtailment in other hours, but overlaps a seasonal ban on shared days', () => {
    expect(firstOverlap(evening, night)).toBeNull();
    expect(firstOverlap(evening, winter)).toBe('2026-01-01');
  });
});

describe('bad ban periods are refused with BAN_PERIOD_INVALID', () => {
  it.each([
    [{ kind: 'full', from: '2026-05-01', to: '2026-04-30' }, /inverted/],
    [
      {
        kind: 'seasonal',
        seasonStart: '11-15',
        seasonEnd: '03-15',
        startYear: 2027,
        endYear: 2026,
      },
      /inverted/,
    ],
    [
      {
        kind: 'seasonal',
        seasonStart: '02-30',
        seasonEnd: '03-15',
        startYear: 2026,
        endYear: 2026,
      },
      /month and day/,
    ],
    [
      {
        kind: 'seasonal',
        seasonStart: '02-29',
        seasonEnd: '03-15',
        startYear: 2026,
        endYear: 2026,
      },
      /not 02-29/,
    ],
    [
      {
        kind: 'seasonal',
        seasonStart: '03-15',
        seasonEnd: '03-15',
        startYear: 2026,
        endYear: 2026,
      },
      /equals seasonStart/,
    ],
    [
      {
        kind: 'curtailment',
        from: '2026-01-01',
        to: '2026-12-31',
        dailyStart: '18:00',
        dailyEnd: '18:00',
      },
      /empty/,
    ],
    [
      {
        kind: 'curtailment',
        from: '2026-01-01',
        to: '2026-12-31',
        dailyStart: '24:00',
        dailyEnd: '02:00',
      },
      /local time/,
    ],
    [{ kind: 'full', from: '2026-02-30', to: '2026-03-01' }, /calendar date/],
  ] as const)('%j', (input, message) => {
    expect(() => normalizeBan(input)).toThrow(message);
  });
});

describe('overlap detection agrees with a brute-force check', () => {
  const date = fc
    .integer({ min: 0, max: 3 * 366 })
    .map((days) => new Date(Date.UTC(2026, 0, 1) + days * 86_400_000).toISOString().slice(0, 10));
  const monthDay = fc
    .integer({ min: 0, max: 364 })
    .map((days) => new Date(Date.UTC(2001, 0, 1) + days * 86_400_000).toISOString().slice(5, 10));
  const hour = fc.integer({ min: 0, max: 23 }).map((h) => `${String(h).padStart(2, '0')}:00`);
  const rule: fc.Arbitrary<BanRule> = fc
    .tuple(date, date, fc.option(fc.tuple(monthDay, monthDay)), fc.option(fc.tuple(hour, hour)))
    .filter(
      ([, , season, daily]) =>
        (!season || season[0] !== season[1]) && (!daily || daily[0] !== daily[1]),
    )
    .map(([a, b, season, daily]) => ({
      kind: 'curtailment',
      fromDate: a < b ? a : b,
      toDate: a < b ? b : a,
      season: season ? { start: season[0], end: season[1] } : null,
      daily: daily ? { start: daily[0], end: daily[1] } : null,
    }));

  it('two bans overlap exactly when some hour of some day is in both', () => {
    fc.assert(
      fc.property(rule, rule, (a, b) => {
        // Whole-hour windows: checking every hour of every day is exhaustive.
        let brute = false;
        for (
          let day = Date.UTC(2026, 0, 1);
          day <= Date.UTC(2029, 0, 2) && !brute;
          day += 86_400_000
        ) {
          const date = new Date(day).toISOString().slice(0, 10);
          for (let h = 0; h < 24 && !brute; h++) {
            const local = { date, time: `${String(h).padStart(2, '0')}:00` };
            if (banCovers(a, local) && banCovers(b, local)) brute = true;
          }
        }
        expect(firstOverlap(a, b) !== null).toBe(brute);
      }),
      { numRuns: 60 },
    );
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../db';
import { formatRate, ManualClock, SeededRandom } from '../kernel';
import { FixedRateSource, RateService } from '.';
import { openTestDatabase } from '../../test/support/db';

describe("the day's rate", () => {
  let db: Database;
  let rates: RateService;
  const clock = new ManualClock('2026-03-01T08:00:00Z');
  const desk = new FixedRateSource('manual', clock);

  beforeAll(async () => {
    db = await openTestDatabase();
    rates = new RateService({ db, clock, random: new SeededRandom(1), source: desk });
    desk.set('USD', '60000.00');
    await rates.current('USD'); // 1 March 08:00
    clock.set('2026-03-01T20:00:00Z');
    desk.set('USD', '61000.50');
    await rates.current('USD'); // 1 March 20:00: the day's last
    clock.set('2026-03-03T09:00:00Z');
    desk.set('USD', '59000.00');
    await rates.current('USD'); // 3 March
  });
  afterAll(async () => db.close());

  it('is the last rate stored on or before the end of that day (UTC)', async () => {
    expect(formatRate((await rates.onDay('USD', '2026-03-01'))!)).toBe('61000.50');
    // Nothing stored on 2 March: the last known rate carries over.
    expect(formatRate((await rates.onDay('USD', '2026-03-02'))!)).toBe('61000.50');
    expect(formatRate((await rates.onDay('USD', '2026-03-03'))!)).toBe('59000.00');
  });

  it('is null before any rate was stored, and for a currency never quoted', async () => {
    expect(await rates.onDay('USD', '2026-02-28')).toBeNull();
    expect(await rates.onDay('EUR', '2026-03-03')).toBeNull();
  });

  it('values a day at its fixing; without one, today at the live source and a past day not at all', async () => {
    const live = await rates.valuationOn('USD', '2026-03-03');
    expect([formatRate(live.rate), live.fixingId]).toEqual(['59000.00', null]);
    await expect(rates.valuationOn('USD', '2026-03-02')).rejects.toMatchObject({
      code: 'RATE_UNAVAILABLE',
      message: 'no BTC/USD fixing was published for 2026-03-02',
    });
  });

  it('refuses a malformed date', async () => {
    await expect(rates.onDay('USD', '2026-3-1')).rejects.toThrow(/date: must be YYYY-MM-DD/);
  });
});

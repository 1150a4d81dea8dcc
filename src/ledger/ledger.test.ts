import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../db';
import {
  AppError,
  ManualClock,
  parseRate,
  SeededRandom,
  systemCaller,
  type CurrencyCode,
} from '../kernel';
import { fiatValue, LedgerService } from './ledger';
import { FixedRateSource, MedianRateSource, RateService } from './rates';
import { medianRate, spreadBps } from './fixing-math';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

const caller = systemCaller('test');
const usd = parseRate('60000', 'USD');

describe.each(TEST_DRIVERS)('ledger on %s', (driver) => {
  let db: Database;
  let ledger: LedgerService;
  let rates: RateService;
  const clock = new ManualClock('2026-07-01T00:00:00Z');
  const fixed = new FixedRateSource('fixed', clock, { USD: '60000' });

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    ledger = new LedgerService({ db, clock, random: new SeededRandom(1) });
    rates = new RateService({ db, clock, random: new SeededRandom(2), source: fixed });
  });
  afterAll(async () => db.close());

  it('posts a balanced entry with the fiat value at the settlement rate beside each posting', async () => {
    const rate = await rates.current('USD');
    expect(rate.sources).toEqual([{ name: 'fixed', rate: '60000', used: true }]);
    const id = await db.transaction(() =>
      ledger.post(caller, {
        kind: 'invoice.settled',
        reference: 'inv_test',
        platformId: 'plat',
        rate,
        postings: [
          {
            account: { participantId: 'co', purpose: 'clientFunds', platformId: 'plat' },
            amountSats: 150_000n,
          },
          {
            account: { participantId: 'cp', purpose: 'counterpartySettled', platformId: 'plat' },
            amountSats: -150_000n,
          },
        ],
        settles: [{ txid: 'aa'.repeat(32), vout: 1 }],
      }),
    );
    const rows = await db.orm.execute(
      sql`select amount_sats, fiat_minor, fiat_currency from ledger_postings where transaction_id = ${id} order by id`,
    );
    // 0.0015 BTC × 60,000 USD = 90.00 USD = 9000 cents.
    expect(rowsOf(rows)).toEqual([
      { amount_sats: '150000', fiat_minor: '9000', fiat_currency: 'USD' },
      { amount_sats: '-150000', fiat_minor: '-9000', fiat_currency: 'USD' },
    ]);
    const balances = await ledger.balances(caller, { platformId: 'plat' });
    expect(balances.map((b) => [b.accountId, b.balanceSats])).toEqual([
      ['clientFunds:co', 150_000n],
      ['counterpartySettled:cp', -150_000n],
    ]);

    // The same output cannot be settled twice while the first settlement stands…
    await expect(
      db.transaction(() =>
        ledger.post(caller, {
          kind: 'invoice.settled',
          reference: 'inv_other',
          platformId: 'plat',
          rate: null,
          postings: [
            {
              account: { participantId: 'co', purpose: 'clientFunds', platformId: 'plat' },
              amountSats: 1n,
            },
            {
              account: { participantId: 'cp', purpose: 'counterpartySettled', platformId: 'plat' },
              amountSats: -1n,
            },
          ],
          settles: [{ txid: 'aa'.repeat(32), vout: 1 }],
        }),
      ),
    ).rejects.toMatchObject({ code: 'ALREADY_SETTLED' });

    // …but once it is reversed (a reorg), it can be settled again, and only once more.
    await db.transaction(() => ledger.reverse(caller, id, 'reorg'));
    await expect(
      db.transaction(() => ledger.reverse(caller, id, 'reorg again')),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    expect((await ledger.balances(caller, { participantId: 'co' }))[0]?.balanceSats).toBe(0n);
    await db.transaction(() =>
      ledger.post(caller, {
        kind: 'invoice.settled',
        reference: 'inv_test',
        platformId: 'plat',
        rate,
        postings: [
          {
            account: { participantId: 'co', purpose: 'clientFunds', platformId: 'plat' },
            amountSats: 150_000n,
          },
          {
            account: { participantId: 'cp', purpose: 'counterpartySettled', platformId: 'plat' },
            amountSats: -150_000n,
          },
        ],
        settles: [{ txid: 'aa'.repeat(32), vout: 1 }],
      }),
    );
    expect(await ledger.trialBalance()).toBe(0n);

    const statement = await ledger.statement(
      caller,
      'co',
      'clientFunds',
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-08-01T00:00:00Z'),
    );
    expect(statement.items.map((l) => l.balanceSats)).toEqual([150_000n, 0n, 150_000n]);
    // A page at a time, the running balance carried across pages.
    const first = await ledger.statement(
      caller,
      'co',
      'clientFunds',
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-08-01T00:00:00Z'),
      { limit: 2 },
    );
    expect(first.items.map((l) => l.balanceSats)).toEqual([150_000n, 0n]);
    const second = await ledger.statement(
      caller,
      'co',
      'clientFunds',
      new Date('2026-06-01T00:00:00Z'),
      new Date('2026-08-01T00:00:00Z'),
      { limit: 2, cursor: first.nextCursor },
    );
    expect(second.items.map((l) => l.balanceSats)).toEqual([150_000n]);
    expect(second).toMatchObject({ nextCursor: null, closingSats: 150_000n, debitsSats: 300_000n });
    expect(statement.closingSats).toBe(150_000n);
    expect(statement.debitsSats).toBe(300_000n);
    expect(statement.creditsSats).toBe(150_000n);
  });

  it('the database refuses an unbalanced entry at commit, and changes to postings', async () => {
    const committed = await db
      .transaction(async (tx) => {
        await tx.execute(
          sql`insert into ledger_accounts (id, participant_id, purpose, created_at) values ('clientFunds:x', 'x', 'clientFunds', now()) on conflict do nothing`,
        );
        await tx.execute(
          sql`insert into ledger_transactions (id, at, kind, reference) values ('ltx_raw', now(), 'raw', 'raw')`,
        );
        await tx.execute(
          sql`insert into ledger_postings (transaction_id, account_id, amount_sats) values ('ltx_raw', 'clientFunds:x', 5)`,
        );
      })
      .then(
        () => 'committed',
        // Drivers wrap the refusal differently (PGlite: the error; node-postgres: its cause).
        (error: unknown) => `${String(error)} ${error instanceof Error ? String(error.cause) : ''}`,
      );
    expect(committed).toMatch(/LEDGER_UNBALANCED/);
    const left = await db.orm.execute(
      sql`select count(*)::int as n from ledger_transactions where id = 'ltx_raw'`,
    );
    expect(JSON.stringify(left)).toContain('"n":0');
    const refused = await db.orm.execute(sql`update ledger_postings set amount_sats = 1`).then(
      () => 'updated',
      (error: unknown) => String(error instanceof Error ? error.cause : error),
    );
    expect(refused).toMatch(/append-only/);
    await expect(
      db.transaction(() =>
        ledger.post(caller, {
          kind: 'bad',
          reference: 'x',
          platformId: null,
          rate: null,
          postings: [
            {
              account: { participantId: 'a', purpose: 'clientFunds', platformId: null },
              amountSats: 2n,
            },
            {
              account: { participantId: 'b', purpose: 'clientFunds', platformId: null },
              amountSats: -1n,
            },
          ],
        }),
      ),
    ).rejects.toMatchObject({ code: 'LEDGER_UNBALANCED' });
  });

  it('a failed rate lookup stores nothing and says RATE_UNAVAILABLE', async () => {
    await expect(rates.current('EUR')).rejects.toMatchObject({ code: 'RATE_UNAVAILABLE' });
    expect((await rates.list('EUR')).items.length).toBe(0);
  });
});

describe('fiat values', () => {
  it('are antisymmetric, so balanced postings have balanced fiat values', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }), (amount) => {
        expect(fiatValue(-amount, usd)).toBe(-fiatValue(amount, usd));
      }),
    );
  });
});

describe('median of sources', () => {
  const clock = new ManualClock('2026-07-01T00:00:00Z');
  it('drops a source beyond the maximum spread and takes the median of the rest', async () => {
    const warnings: unknown[] = [];
    const source = new MedianRateSource(
      [
        new FixedRateSource('a', clock, { USD: '60000' }),
        new FixedRateSource('b', clock, { USD: '60100' }),
        new FixedRateSource('c', clock, { USD: '60050.5' }),
        new FixedRateSource('d', clock, { USD: '75000' }),
        new FixedRateSource('e', clock),
      ],
      { maxSpreadBps: 200, logger: { warn: (m, f) => warnings.push([m, f]) } },
    );
    const observation = await source.quote('USD' as CurrencyCode);
    // Median of all four answers: (60050.5 + 60100) / 2 = 60075.25; 75000 is 2485 bp away.
    // Median of the three kept: 60050.5.
    expect(observation?.rate).toEqual(parseRate('60050.5', 'USD'));
    expect(observation?.sources.find((s) => s.name === 'd')).toMatchObject({ used: false });
    expect(observation?.sources.find((s) => s.name === 'e')).toMatchObject({
      used: false,
      rate: null,
    });
    expect(warnings).toHaveLength(1);
  });

  it('computes exact medians and spreads', () => {
    expect(medianRate([parseRate('1', 'USD'), parseRate('2', 'USD')])).toEqual(
      parseRate('1.5', 'USD'),
    );
    expect(
      medianRate([parseRate('3', 'USD'), parseRate('1.25', 'USD'), parseRate('2', 'USD')]),
    ).toEqual(parseRate('2', 'USD'));
    expect(spreadBps(parseRate('101', 'USD'), parseRate('100', 'USD'))).toBe(100);
    expect(() => medianRate([])).toThrow(AppError);
  });
});

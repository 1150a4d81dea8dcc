import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db';
import { currency, formatMoney, money, satsToFiat, systemCaller } from '../../src/kernel';
import { TEST_DRIVERS } from '../support/db';
import { expectIndexRead, pageReads, planOf, walkList, withQuery } from '../support/paging';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

/**
 * The lists paged last (after paging.test.ts and paging-lists.test.ts): the audit log, webhook
 * deliveries, rates, list snapshots, VASPs, jurisdictions, regions, mining sites, payout addresses
 * and bans, a wallet's addresses, a statement's lines, ledger balances, oversight's settlements,
 * the cleared-origin rule's versions, mining statistics' rows, a case's alerts and linked transfers, a region's bans in force and a picker's
 * search of participants. Each holds 520
 * copies of a row (ids `<prefix>_COPY…`, in the list's order): every reader walks every page and
 * sees each row once, in the list's order, the last page saying so; another tenant (or a role the
 * list is not for) sees none of them; and on PostgreSQL each page is read in the same number of
 * queries whatever its size, the list's table read through one of its indexes (EXPLAIN of the
 * queries the request actually sent).
 */
const COPIES = 520;
const BASE = "timestamptz '2026-06-01T00:00:00Z'";
const id = (prefix: string) => `'${prefix}_COPY' || lpad(n::text, 20, '0')`;
const at = `${BASE} + n * interval '1 second'`;
const STATEMENT = 'from=2026-05-01T00:00:00Z&to=2026-06-02T00:00:00Z';
/** The case whose alerts are copied, and a time inside the fixture's ban (2027-01-01 to 02-01). */
const CASE_ID = 'cas_01KZZZZZZZZZZZZZZZZZZZZZZZ';
const IN_BAN = encodeURIComponent('2027-01-15T12:00:00Z');
/** The companies of the reconciliation's copies: `par_RCN` and n in 20 digits. */
const RCN = 'par_RCN';
/** The cursor of a reconciliation page ending at company n of the copies. */
const cursorAfter = (n: number) =>
  Buffer.from(JSON.stringify([`${RCN}${String(n).padStart(20, '0')}`])).toString('base64url');

interface ListCase {
  readonly name: string;
  readonly route: (t: TwoTenants) => string;
  readonly table: string;
  /** The read model the list's query names, when it reads the table through one (a view). */
  readonly readAs?: string;
  /** What the copies' key starts with. */
  readonly copy: string;
  /** The item's field naming it (default `id`). */
  readonly key?: string;
  /** The list's order, seen in the copies' keys (default: newest first, i.e. descending). */
  readonly order?: 'asc' | 'desc';
  readonly readers: (t: TwoTenants) => [Auth, number | null][];
  /** Who sees none of the copies: an empty list, or the status it is refused with. */
  readonly outsiders: (t: TwoTenants) => [Auth, number][];
}

const LISTS: ListCase[] = [
  {
    name: 'audit events',
    route: () => '/v1/audit',
    table: 'audit_events',
    copy: 'aud_COPY',
    readers: (t) => [
      [t.supervisor, 500],
      [t.auditor, null],
    ],
    outsiders: (t) => [
      [t.B.officer, 403],
      [t.B.company, 403],
    ],
  },
  {
    name: 'audit events of an action',
    route: () => '/v1/audit?action=copy.made',
    table: 'audit_events',
    copy: 'aud_COPY',
    readers: (t) => [[t.auditor, 137]],
    outsiders: () => [],
  },
  {
    name: 'webhook deliveries',
    route: () => '/v1/webhooks/deliveries',
    table: 'trade_webhook_outbox',
    copy: 'whk_COPY',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 403],
    ],
  },
  {
    name: 'rates',
    route: () => '/v1/rates?quote=UZS',
    table: 'exchange_rates',
    copy: 'rat_COPY',
    readers: (t) => [
      [t.B.company, 500],
      [t.supervisor, null],
    ],
    outsiders: () => [],
  },
  {
    name: 'list snapshots',
    route: () => '/v1/lists?all=true',
    table: 'compliance_list_snapshots',
    copy: 'snp_COPY',
    readers: (t) => [
      [t.B.company, 500],
      [t.supervisor, 137],
    ],
    outsiders: () => [],
  },
  {
    name: 'VASPs',
    route: () => '/v1/vasps',
    table: 'vasps',
    copy: 'vsp_COPY',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.company, null],
    ],
    outsiders: () => [],
  },
  {
    name: 'jurisdictions',
    route: () => '/v1/jurisdictions?refused=false',
    table: 'jurisdictions',
    copy: 'QC',
    key: 'country',
    order: 'asc',
    readers: (t) => [
      [t.B.officer, 500],
      [t.supervisor, null],
    ],
    outsiders: () => [],
  },
  {
    name: 'regions',
    route: () => '/v1/regions',
    table: 'regions',
    copy: 'copy-',
    key: 'code',
    order: 'asc',
    readers: (t) => [
      [t.B.company, 137],
      [t.supervisor, 500],
    ],
    outsiders: () => [],
  },
  {
    name: 'mining sites',
    route: () => '/v1/mining/sites',
    table: 'mining_sites',
    copy: 'sit_COPY',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, null],
    ],
    outsiders: (t) => [[t.miners.other.key, 200]],
  },
  {
    name: 'payout addresses',
    route: (t) => `/v1/mining/payout-addresses?siteId=${t.miners.own.siteId}`,
    table: 'mining_payout_addresses',
    copy: 'mpa_COPY',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.miners.other.key, 200]],
  },
  {
    name: 'bans',
    route: (t) => `/v1/mining/bans?regionCode=${t.regionCode}`,
    table: 'mining_bans',
    copy: 'ban_COPY',
    readers: (t) => [
      [t.miners.other.key, 500],
      [t.supervisor, null],
    ],
    outsiders: () => [],
  },
  {
    name: 'wallet addresses',
    route: (t) => `/v1/wallets/${t.B.walletId}/addresses?branch=change`,
    table: 'wallet_addresses',
    copy: 'wad_COPY',
    order: 'asc',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.company, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.A.officer, 404]],
  },
  {
    name: 'statement lines',
    route: (t) => `/v1/ledger/statements/${t.B.companyId}?${STATEMENT}`,
    table: 'ledger_postings',
    copy: 'ltx_COPY',
    key: 'transactionId',
    order: 'asc',
    readers: (t) => [
      [t.B.company, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.A.officer, 404]],
  },
  {
    name: 'ledger balances',
    route: () => '/v1/ledger/balances',
    table: 'ledger_accounts',
    copy: 'counterpartySettled:par_COPY',
    key: 'accountId',
    order: 'asc',
    readers: (t) => [
      [t.B.officer, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 200],
    ],
  },
  {
    name: 'ledger balances of a purpose',
    route: () => '/v1/ledger/balances?purpose=counterpartySettled',
    table: 'ledger_accounts',
    copy: 'counterpartySettled:par_COPY',
    key: 'accountId',
    order: 'asc',
    readers: (t) => [[t.B.officer, 137]],
    outsiders: () => [],
  },
  {
    name: 'settlements',
    route: () => '/v1/oversight/settlements',
    table: 'trade_settlements',
    readAs: 'trade_settlement_facts',
    copy: 'stl_COPY',
    readers: (t) => [
      [t.supervisor, 500],
      [t.auditor, null],
    ],
    outsiders: (t) => [[t.B.officer, 403]],
  },
  {
    name: "the cleared-origin rule's versions",
    route: () => '/v1/clearing/rule',
    table: 'clearing_rule_versions',
    // Versions 100001 to 100520: as many digits each, so their text sorts as their number.
    copy: '100',
    key: 'version',
    readers: (t) => [
      [t.supervisor, 500],
      [t.B.officer, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [[t.B.company, 403]],
  },
  {
    name: "a case's alerts",
    route: () => `/v1/cases/${CASE_ID}/alerts`,
    table: 'compliance_alerts',
    copy: 'alr_COPY',
    readers: (t) => [
      [t.supervisor, 500],
      [t.auditor, null],
    ],
    outsiders: (t) => [
      [t.B.officer, 403],
      [t.B.company, 403],
    ],
  },
  {
    name: "a case's linked transfers",
    route: () => `/v1/cases/${CASE_ID}/transfers`,
    table: 'compliance_case_transfers',
    copy: 'trf_COPY',
    key: 'transferId',
    order: 'asc',
    readers: (t) => [
      [t.auditor, 500],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [
      [t.B.officer, 403],
      [t.B.company, 403],
    ],
  },
  {
    name: 'mining statistics rows',
    route: () => '/v1/mining/statistics?currency=CHF',
    table: 'mining_attributions',
    copy: 'sit_COPY',
    key: 'siteId',
    order: 'asc',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, 137],
      [t.auditor, null],
    ],
    outsiders: (t) => [
      [t.miners.other.key, 200],
      [t.B.company, 403],
    ],
  },
  {
    name: "a region's bans in force",
    route: (t) => `/v1/mining/regions/${t.regionCode}/ban-status?at=${IN_BAN}`,
    table: 'mining_bans',
    copy: 'ban_COPY',
    readers: (t) => [
      [t.miners.other.key, 500],
      [t.supervisor, null],
      [t.B.company, 137],
    ],
    outsiders: () => [],
  },
  {
    // Companies with a clientFunds account, a tracked coin, or both (seedReconciliation).
    name: 'reconciliation lines',
    route: () => '/v1/ledger/reconciliation',
    table: 'ledger_accounts',
    copy: RCN,
    key: 'companyId',
    order: 'asc',
    readers: (t) => [
      [t.supervisor, 500],
      [t.auditor, null],
      [t.B.officer, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 403],
    ],
  },
  {
    name: "a picker's search of participants",
    route: () => '/v1/participants?q=copy%20PARTY',
    table: 'participants',
    copy: 'par_COPY',
    readers: (t) => [
      [t.B.officer, 500],
      [t.supervisor, null],
      [t.B.company, 137],
    ],
    outsiders: (t) => [[t.A.officer, 200]],
  },
];

describe.each(TEST_DRIVERS)('more paged lists past 500 rows on %s', (driver) => {
  let t: TwoTenants;
  let recorded: { query: string; params: unknown[] }[] = [];
  let recording = false;

  beforeAll(async () => {
    t = await openTwoTenants(driver, {
      onQuery: (query, params) => {
        if (recording) recorded.push({ query, params });
      },
    });
    await seedCopies(t);
  }, 300_000);
  afterAll(() => t?.close());

  const get = async (url: string, auth: Auth) => {
    const response = await t.app.inject({ method: 'GET', url, headers: auth });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };
  const walk = (route: string, auth: Auth, limit: number | null) =>
    walkList(t.app, route, auth, limit);

  for (const list of LISTS) {
    it(`pages through ${list.name} past 500 rows: each row once, in order, in scope`, async () => {
      const route = list.route(t);
      const keyOf = (item: Record<string, unknown>) => String(item[list.key ?? 'id']);
      for (const [auth, limit] of list.readers(t)) {
        const { items, pages } = await walk(route, auth, limit);
        const keys = items.map(keyOf);
        expect(new Set(keys).size).toBe(keys.length);
        const copies = keys.filter((k) => k.startsWith(list.copy));
        expect(copies).toHaveLength(COPIES);
        expect(pages).toBe(Math.ceil(items.length / (limit ?? 50)));
        const sorted = [...copies].sort();
        expect(copies).toEqual(list.order === 'asc' ? sorted : sorted.reverse());
      }
      for (const [auth, status] of list.outsiders(t)) {
        if (status !== 200) {
          expect((await get(route, auth)).status).toBe(status);
          continue;
        }
        const { items } = await walk(route, auth, 500);
        expect(items.map(keyOf).filter((k) => k.startsWith(list.copy))).toEqual([]);
      }
      // A cursor that is not one is refused.
      const [reader] = list.readers(t)[0]!;
      const bad = await get(withQuery(route, 'cursor=not-a-cursor'), reader);
      expect(bad.status, list.name).toBe(400);
      expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    });
  }

  it("carries a statement's running balance across pages, with the period's totals on each", async () => {
    const route = LISTS.find((l) => l.table === 'ledger_postings')!.route(t);
    const { items } = await walk(route, t.B.company, 7);
    const lines = items.filter((i) => String(i.transactionId).startsWith('ltx_COPY'));
    // Each copy credits 1,000 sats, so the balance climbs by 1,000 a line, page after page.
    const balances = lines.map((l) => BigInt(String(l.balanceSats)));
    expect(balances.slice(1).map((b, i) => b - balances[i]!)).toEqual(
      Array.from({ length: COPIES - 1 }, () => 1000n),
    );
    const first = await get(withQuery(route, 'limit=2'), t.B.company);
    expect(first.body).toMatchObject({ debitsSats: String(COPIES * 1000), creditsSats: '0' });
    expect(BigInt(String(first.body.closingSats))).toBe(balances.at(-1));
  });

  it('gives each account on a page its balance, summed from its postings', async () => {
    const { items } = await walk(
      '/v1/ledger/balances?purpose=counterpartySettled',
      t.B.officer,
      137,
    );
    const copies = items.filter((i) =>
      String(i.accountId).startsWith('counterpartySettled:par_COPY'),
    );
    expect(copies.map((c) => Number(String(c.accountId).slice(-20)))).toEqual(
      Array.from({ length: COPIES }, (_, i) => i + 1),
    );
    // Copy n was credited n sats by one posting: its balance is n, whichever page it is on.
    expect(
      copies.every((c) => c.balanceSats === String(Number(String(c.accountId).slice(-20)))),
    ).toBe(true);
    const other = await get('/v1/ledger/balances?purpose=nonsense', t.B.officer);
    expect(other.status).toBe(400);
  });

  it("answers a region's ban status from SQL, the bans in force paged", async () => {
    const route = (at: string) =>
      `/v1/mining/regions/${t.regionCode}/ban-status?at=${encodeURIComponent(at)}&limit=2`;
    const inside = (await get(route('2027-01-15T12:00:00Z'), t.B.company)).body;
    expect(inside).toMatchObject({ banned: true, localDate: '2027-01-15' });
    expect(inside.items).toHaveLength(2);
    // Past the ban's last local day nothing is in force, though 521 bans of the region exist.
    const after = (await get(route('2027-02-02T12:00:00Z'), t.B.company)).body;
    expect(after).toMatchObject({ banned: false, items: [], nextCursor: null });
    // A later page still says the region is banned.
    const second = (
      await get(`${route('2027-01-15T12:00:00Z')}&cursor=${String(inside.nextCursor)}`, t.B.company)
    ).body;
    expect(second).toMatchObject({ banned: true });
  });

  it('finds participants by a prefix of the name, whatever its case, and nothing else', async () => {
    const { items } = await walk('/v1/participants?q=copy%20party%2012', t.B.officer, 500);
    // "Copy Party 12", "Copy Party 120" to "Copy Party 129": not "Not A Copy Party 12".
    expect(items.map((i) => i.legalName).sort()).toEqual(
      ['12', ...Array.from({ length: 10 }, (_, i) => `12${i}`)]
        .map((n) => `Copy Party ${n}`)
        .sort(),
    );
    // The search's own wildcards match only themselves.
    expect((await walk('/v1/participants?q=copy%25', t.B.officer, 500)).items).toEqual([]);
    expect((await walk('/v1/participants?q=_opy', t.B.officer, 500)).items).toEqual([]);
  });

  it("looks names up by ids inside the caller's scope only, at most a page of ids", async () => {
    const copies = [1, 2, 3].map((n) => `par_COPY${String(n).padStart(20, '0')}`);
    const ids = [...copies, t.A.companyId, t.A.supplierId, t.B.bareCompanyId, t.B.companyId];
    const names = async (auth: Auth) => {
      const page = await get(`/v1/participants?limit=500&ids=${ids.join(',')}`, auth);
      expect(page.status, JSON.stringify(page.body)).toBe(200);
      expect(page.body.nextCursor).toBeNull();
      return (page.body.items as { id: string; legalName: string }[]).map((p) => p.id).sort();
    };
    // B's officer: its platform's participants only, never A's, though their ids were asked.
    expect(await names(t.B.officer)).toEqual([...copies, t.B.bareCompanyId, t.B.companyId].sort());
    // B's company: itself and its platform's counterparties, not the platform's other company.
    expect(await names(t.B.company)).toEqual([...copies, t.B.companyId].sort());
    // A's officer learns nothing of B's copies; the supervisor sees all it asked for.
    expect(await names(t.A.officer)).toEqual([t.A.companyId, t.A.supplierId].sort());
    expect(await names(t.supervisor)).toEqual([...ids].sort());
    // More than a page of ids, or something that is no participant id, is refused.
    const many = Array.from(
      { length: 501 },
      (_, n) => `par_COPY${String(n + 1).padStart(20, '0')}`,
    );
    expect((await get(`/v1/participants?ids=${many.join(',')}`, t.supervisor)).status).toBe(400);
    expect((await get("/v1/participants?ids=par_A,x'or'1", t.supervisor)).status).toBe(400);
  });

  it("totals the output in SQL, each output at its day's fixing, rounded half-even one by one", async () => {
    const route = '/v1/mining/statistics?currency=CHF&limit=2';
    const rate = { digits: 5000050n, scale: 2, quote: currency('CHF') };
    const june = Array.from({ length: COPIES }, (_, n) => BigInt(n + 1));
    const juneSats = june.reduce((a, b) => a + b);
    const juneFiat = june.reduce((sum, sats) => sum + satsToFiat(sats, rate, 'halfEven').minor, 0n);
    // Rounding each output apart is not rounding the month's sum, so the two are told apart.
    expect(juneFiat).not.toBe(satsToFiat(juneSats, rate, 'halfEven').minor);
    const totals = {
      byMonth: [
        { key: '2026-06', sats: String(juneSats), fiat: formatMoney(money(juneFiat, 'CHF')) },
        { key: '2026-07', sats: '7', fiat: null },
      ],
      byMiner: [{ key: t.miners.own.id, sats: String(juneSats + 7n), fiat: null }],
      missingRateDays: ['2026-07-15'],
    };
    const first = await get(route, t.miners.own.key);
    expect(first.body).toMatchObject({ currency: 'CHF', totals });
    // The first page carries the totals of every row the filters keep, not only its own; a
    // later page carries none (they are the first page's) and reads no output for them.
    const next = await get(`${route}&cursor=${String(first.body.nextCursor)}`, t.miners.own.key);
    expect(next.status).toBe(200);
    expect(next.body).toMatchObject({ currency: 'CHF', totals: null });
    expect(next.body.items).toHaveLength(2);
    // Output 2 is 2 sats: 0.0010000100 CHF, 0.00 at half-even.
    expect(first.body.items).toEqual([
      expect.objectContaining({ siteId: `sit_COPY${'1'.padStart(20, '0')}`, blocks: 1, sats: '1' }),
      expect.objectContaining({ siteId: `sit_COPY${'2'.padStart(20, '0')}`, fiat: '0.00' }),
    ]);
    // The filters are conditions of the queries: a region without output has no rows, no totals.
    const none = await get('/v1/mining/statistics?currency=CHF&regionCode=nowhere', t.supervisor);
    expect(none.body).toMatchObject({
      items: [],
      nextCursor: null,
      totals: { byMonth: [], missingRateDays: [] },
    });
  });

  it("gives a case's alert and transfer counts in its view, both lists on their own routes", async () => {
    const view = await get(`/v1/cases/${CASE_ID}`, t.auditor);
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ alertCount: COPIES, transferCount: COPIES });
    expect(view.body).not.toHaveProperty('alerts');
    expect(view.body).not.toHaveProperty('transferIds');
    const noCase = await get('/v1/cases/cas_01KZZZZZZZZZZZZZZZZZZZZZZY/transfers', t.auditor);
    expect(noCase.status).toBe(404);
    const missing = await get('/v1/cases/cas_01KZZZZZZZZZZZZZZZZZZZZZZY/alerts', t.auditor);
    expect(missing.status).toBe(404);
  });

  it("gives each company's reconciliation line once, its totals the page's, the CLI's report all", async () => {
    const expected = (n: number) => BigInt(n % 3 === 0 ? 9 * n : n % 3 === 1 ? -n : 10 * n);
    const nOf = (companyId: string) => Number(companyId.slice(-20));
    const { items } = await walk('/v1/ledger/reconciliation', t.B.officer, 137);
    const lines = items.filter((i) => String(i.companyId).startsWith(RCN));
    expect(lines.map((l) => nOf(String(l.companyId)))).toEqual(
      Array.from({ length: COPIES }, (_, i) => i + 1),
    );
    for (const l of lines)
      expect(BigInt(String(l.differenceSats)), String(l.companyId)).toBe(
        expected(nOf(String(l.companyId))),
      );
    // A page's totals are over its own lines; the trial balance is the whole ledger's.
    const page = await get(
      `/v1/ledger/reconciliation?limit=7&cursor=${cursorAfter(4)}`,
      t.supervisor,
    );
    expect(page.status).toBe(200);
    const shown = page.body.items as { companyId: string; differenceSats: string }[];
    expect(shown.map((l) => nOf(l.companyId))).toEqual([5, 6, 7, 8, 9, 10, 11]);
    const abs = (n: bigint) => (n < 0n ? -n : n);
    expect(page.body).toMatchObject({
      totalDifferenceSats: String(shown.reduce((s, l) => s + abs(BigInt(l.differenceSats)), 0n)),
      trialBalanceSats: '0',
      pageReconciled: false,
    });
    // The service's whole report walks every page: every company once, totals over all.
    const report = await t.services.trade.reconcile(systemCaller('test'));
    const all = report.lines.filter((l) => l.companyId.startsWith(RCN));
    expect(all.map((l) => l.differenceSats)).toEqual(
      Array.from({ length: COPIES }, (_, i) => expected(i + 1)),
    );
    expect(new Set(report.lines.map((l) => l.companyId)).size).toBe(report.lines.length);
    expect(report.totalDifferenceSats).toBe(
      report.lines.reduce((s, l) => s + abs(l.differenceSats), 0n),
    );
    expect(report.reconciled).toBe(false);
  });

  it.runIf(driver === 'postgres')(
    "reads a reconciliation page's companies and their coins through their indexes",
    async () => {
      const route = `/v1/ledger/reconciliation?limit=500&cursor=${cursorAfter(3)}`;
      for (const auth of [t.supervisor, t.B.officer]) {
        recorded = [];
        recording = true;
        try {
          expect((await get(route, auth)).status).toBe(200);
        } finally {
          recording = false;
        }
        const tables = ['ledger_accounts', 'trade_wallet_utxos', 'trade_invoices', 'trade_payouts'];
        for (const table of tables) {
          const reads = recorded.filter((q) =>
            new RegExp(`(from|join) "?${table}"?\\s`).test(q.query),
          );
          expect(reads.length, table).toBeGreaterThan(0);
          for (const read of reads)
            expectIndexRead(await planOf(t.db, read.query, read.params), table);
        }
      }
    },
    120_000,
  );

  it.runIf(driver === 'postgres')(
    'reads a page in as many queries whatever its size, each list through one of its indexes',
    async () => {
      for (const list of LISTS) {
        const [auth] = list.readers(t)[0]!;
        const route = list.route(t);
        const first = await get(withQuery(route, 'limit=50'), auth);
        const cursor = encodeURIComponent(String(first.body.nextCursor));
        const queriesOf = async (limit: number) => {
          recorded = [];
          recording = true;
          try {
            const page = await get(withQuery(route, `limit=${limit}&cursor=${cursor}`), auth);
            expect(page.status, JSON.stringify(page.body)).toBe(200);
          } finally {
            recording = false;
          }
          return pageReads(recorded);
        };
        const small = await queriesOf(2);
        const large = await queriesOf(500);
        expect(large.length, `${list.name}: ${large.map((q) => q.query).join('\n')}`).toBe(
          small.length,
        );
        const named = list.readAs ?? list.table;
        const reads = large.filter((q) => new RegExp(`from "?${named}"?\\s`).test(q.query));
        expect(reads.length, list.name).toBeGreaterThan(0);
        for (const read of reads)
          expectIndexRead(await planOf(t.db, read.query, read.params), list.table, list.name);
      }
    },
    300_000,
  );
});

/** 520 copies of a row of each list, in B's scope where the list has one. */
async function seedCopies(t: TwoTenants): Promise<void> {
  const run = (text: string) => t.db.orm.execute(sql.raw(text));
  const series = `from generate_series(1, ${COPIES}) n`;
  const B = t.B;
  const own = t.miners.own;
  await run(`insert into audit_events (id, at, actor, actor_role, participant_id, action, entity_type,
      entity_id, before, after, request_id, prev_hash, hash)
    select ${id('aud')}, ${at}, 'test', 'system', null, 'copy.made', 'copy', 'copy' || n, null,
      null, null, 'copy', 'copy' ${series}`);
  await run(`insert into trade_webhook_outbox (id, platform_id, event, entity_id, payload, created_at,
      attempts, next_attempt_at)
    select ${id('whk')}, '${B.platformId}', 'invoice.created', 'inv_COPY' || n, '{}'::jsonb, ${at},
      0, ${at} ${series}`);
  await run(`insert into exchange_rates (id, quote, digits, scale, at, method, sources)
    select ${id('rat')}, 'UZS', 6000000, 2, ${at}, 'copy', '[]'::jsonb ${series}`);
  await run(`insert into compliance_list_snapshots (id, list_key, source, publication_date,
      content_hash, counts, imported_at, imported_by, active)
    select ${id('snp')}, 'copy', 'ofac-sdn', null, 'copy' || n, '{}'::jsonb, ${at}, 'test', false
    ${series}`);
  await run(`insert into vasps (id, name, other_names, lei, jurisdiction, licence_authority,
      licence_number, licence_status, created_at, updated_at)
    select ${id('vsp')}, 'Copy VASP ' || n, '[]'::jsonb, 'COPY' || lpad(n::text, 14, '0') || '00',
      'JP', 'FSA', 'copy' || n, 'active', ${at}, ${at} ${series}`);
  await run(`insert into jurisdictions (country, risk_level, refused, reason, updated_at)
    select 'QC' || lpad(n::text, 4, '0'), 'low', false, null, ${at} ${series}`);
  await run(`insert into regions (code, name, time_zone, created_at)
    select 'copy-' || lpad(n::text, 4, '0'), 'Copy ' || n, 'UTC', ${at} ${series}`);
  await copy(t, 'mining_sites', `id = '${own.siteId}'`, { id: id('sit'), created_at: at });
  await run(`insert into mining_payout_addresses (id, miner_id, site_id, kind, pool_name, address,
      script_hex, created_at)
    select ${id('mpa')}, '${own.id}', '${own.siteId}', 'solo', null, 'copy' || n, 'copy' || n, ${at}
    ${series}`);
  await copy(t, 'mining_bans', `id = '${t.banId}'`, { id: id('ban'), created_at: at });
  await run(`insert into wallet_addresses (id, wallet_id, company_id, platform_id, branch,
      derivation_index, address, purpose, used_at)
    select ${id('wad')}, '${B.walletId}', '${B.companyId}', '${B.platformId}', 1, 1000 + n,
      'copy' || n, 'copy', ${at} ${series}`);
  await seedLedger(t);
  await seedSettlements(t);
  // The rule off in every copied version, so nothing else in the scheme changes.
  await run(`insert into clearing_rule_versions (version, threshold_basis_points, effective_from,
      reason, set_by, set_by_person, created_at)
    select 100000 + n, null, ${at}, 'copy', 'test', 'test', ${at} ${series}`);
  await run(`insert into compliance_cases (id, party_id, platform_id, state, outcome, assignee,
      notes, opened_at, closed_at)
    values ('${CASE_ID}', 'par_COPYSUSPECT', '${B.platformId}', 'open', null, null, '[]'::jsonb,
      ${BASE}, null)`);
  await run(`insert into compliance_alerts (id, party_id, platform_id, case_id, kind, rule, score,
      message, transfer_id, decision_id, created_at)
    select ${id('alr')}, 'par_COPYSUSPECT', '${B.platformId}', '${CASE_ID}', 'monitoring',
      'rule.velocity@1', 10, 'copy ' || n, null, null, ${at} ${series}`);
  await seedMining(t);
  // 520 transfers linked to the case (the view carries their count, the route pages them).
  await run(`insert into compliance_transfers (transfer_id, decision_id, platform_id, company_id,
      counterparty_id, counterparty_address, direction, amount_sats, fiat_minor, fiat_currency,
      occurred_at, outcome)
    select ${id('trf')}, 'dec_COPY' || n, '${B.platformId}', '${B.companyId}', 'par_COPYSUSPECT',
      'copy' || n, 'inbound', 1000, 60, 'EUR', ${at}, 'allow' ${series}`);
  await run(`insert into compliance_case_transfers (case_id, transfer_id)
    select '${CASE_ID}', ${id('trf')} ${series}`);
  // Counterparties of B named "Copy Party n", and as many named otherwise the search must skip.
  await copy(t, 'participants', `id = '${B.supplierId}'`, {
    id: id('par'),
    legal_name: `'Copy Party ' || n`,
    lei: 'null',
    created_at: at,
  });
  await copy(t, 'participants', `id = '${B.supplierId}'`, {
    id: id('par_OTHER'),
    legal_name: `'Not A Copy Party ' || n`,
    lei: 'null',
    created_at: at,
  });
  await seedReconciliation(t);
  for (const table of new Set([...LISTS.map((l) => l.table), 'trade_wallet_utxos']))
    await run(`analyze ${table}`);
}

/**
 * 520 outputs of the own miner on 2026-06-01, output n of n sats at a site of its own (520 rows
 * of the statistics), and one in July on a day without a CHF rate. The day's CHF fixing was
 * corrected: version 2 (50,000.50 CHF per BTC) is in force; a rate stored after the July day
 * must not value it.
 */
async function seedMining(t: TwoTenants): Promise<void> {
  const run = (text: string) => t.db.orm.execute(sql.raw(text));
  const miner = t.miners.own.id;
  await run(`insert into mining_blocks (hash, height, time)
    select 'copy' || n, 900000 + n, ${at} from generate_series(1, ${COPIES}) n
    union all select 'copylate', 999999, timestamptz '2026-07-15T12:00:00Z'`);
  await run(`insert into mining_attributions (id, block_hash, height, block_time, txid, vout,
      value_sats, address, miner_id, site_id, region_code, payout_kind, pool_name)
    select ${id('att')}, 'copy' || n, 900000 + n, ${at}, 'copy' || n, 0, n, 'copy', '${miner}',
      ${id('sit')}, '${t.regionCode}', 'solo', null from generate_series(1, ${COPIES}) n
    union all select 'att_COPYLATE', 'copylate', 999999, timestamptz '2026-07-15T12:00:00Z',
      'copylate', 0, 7, 'copy', '${miner}', 'sit_LATE', '${t.regionCode}', 'solo', null`);
  await run(`insert into rate_fixings (id, quote, date, version, digits, scale, method, sources,
      settings_version, min_sources, max_deviation_bps, published_by, supersedes, reason, created_at)
    values ('fix_COPY1', 'CHF', '2026-06-01', 1, 1, 0, 'copy', '[]'::jsonb, 1, 1, 200, 'test',
        null, null, ${BASE}),
      ('fix_COPY2', 'CHF', '2026-06-01', 2, 5000050, 2, 'copy', '[]'::jsonb, 1, 1, 200, 'test',
        'fix_COPY1', 'a copied correction', ${BASE})`);
  await run(`insert into exchange_rates (id, quote, digits, scale, at, method, sources)
    values ('rat_COPYCHF', 'CHF', 1, 0, timestamptz '2026-07-16T00:00:00Z', 'copy', '[]'::jsonb)`);
}

/** 520 copies of one row of `table` (`from`), with `set` columns computed from n. */
async function copy(t: TwoTenants, table: string, from: string, set: Record<string, string>) {
  const columns = rowsOf(
    await t.db.orm.execute(
      sql`select column_name from information_schema.columns where table_name = ${table} and is_generated = 'NEVER' order by ordinal_position`,
    ),
  )
    .map((c) => String(c.column_name))
    .filter((c) => !(c in set));
  const list = columns.map((c) => `"${c}"`).join(', ');
  await t.db.orm.execute(
    sql.raw(`insert into ${table} (${[...Object.keys(set), ...columns].map((c) => `"${c}"`).join(', ')})
      select ${[...Object.values(set), list].join(', ')}
      from (select * from ${table} where ${from} limit 1) one, generate_series(1, ${COPIES}) n`),
  );
}

/** 520 balanced entries crediting B's company 1,000 sats each, in June 2026. */
async function seedLedger(t: TwoTenants): Promise<void> {
  const company = t.B.companyId;
  await t.db.transaction(async (tx) => {
    const run = (text: string) => tx.execute(sql.raw(text));
    await run(`insert into ledger_accounts (id, participant_id, platform_id, purpose, created_at)
      values ('clientFunds:${company}', '${company}', '${t.B.platformId}', 'clientFunds', now()),
        ('networkFees:par_COPYFEES', 'par_COPYFEES', null, 'networkFees', now())
      on conflict do nothing`);
    await run(`insert into ledger_transactions (id, at, kind, reference, platform_id, memo)
      select ${id('ltx')}, ${at}, 'copy', 'inv_COPY' || n, '${t.B.platformId}', ''
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into ledger_postings (transaction_id, account_id, amount_sats)
      select ${id('ltx')}, account, amount
      from generate_series(1, ${COPIES}) n,
        (values ('clientFunds:${company}', 1000), ('networkFees:par_COPYFEES', -1000)) p(account, amount)
      order by n, amount desc`);
    // 520 counterparty accounts held at B, each with one posting of n sats (a page's balances).
    await run(`insert into ledger_accounts (id, participant_id, platform_id, purpose, created_at)
      select 'counterpartySettled:par_COPY' || lpad(n::text, 20, '0'),
        'par_COPY' || lpad(n::text, 20, '0'), '${t.B.platformId}', 'counterpartySettled', now()
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into ledger_transactions (id, at, kind, reference, platform_id, memo)
      select ${id('ltb')}, ${at}, 'copy', 'inv_COPY' || n, '${t.B.platformId}', ''
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into ledger_postings (transaction_id, account_id, amount_sats)
      select ${id('ltb')}, account, amount
      from generate_series(1, ${COPIES}) n,
        lateral (values ('counterpartySettled:par_COPY' || lpad(n::text, 20, '0'), n),
          ('networkFees:par_COPYFEES', -n)) p(account, amount)`);
  });
}

/**
 * 520 companies of B's platform for the reconciliation: company n holds n sats of client funds
 * in the ledger (n % 3 = 0 or 1; a balanced entry against a fee account) and a tracked coin of
 * 10·n sats (n % 3 = 0 or 2), so each is a line, with a difference of 9n, −n or 10n sats.
 */
async function seedReconciliation(t: TwoTenants): Promise<void> {
  const company = `'${RCN}' || lpad(n::text, 20, '0')`;
  const platform = `'${t.B.platformId}'`;
  await t.db.transaction(async (tx) => {
    const run = (text: string) => tx.execute(sql.raw(text));
    const ledgerSide = `from generate_series(1, ${COPIES}) n where n % 3 <> 2`;
    await run(`insert into ledger_accounts (id, participant_id, platform_id, purpose, created_at)
      select 'clientFunds:' || ${company}, ${company}, ${platform}, 'clientFunds', now()
      ${ledgerSide}`);
    await run(`insert into ledger_transactions (id, at, kind, reference, platform_id, memo)
      select ${id('ltr')}, ${at}, 'copy', 'rcn' || n, ${platform}, '' ${ledgerSide}`);
    await run(`insert into ledger_postings (transaction_id, account_id, amount_sats)
      select ${id('ltr')}, account, amount
      from generate_series(1, ${COPIES}) n,
        lateral (values ('clientFunds:' || ${company}, n), ('networkFees:par_COPYFEES', -n))
          p(account, amount)
      where n % 3 <> 2`);
    await run(`insert into trade_wallet_utxos (txid, vout, company_id, platform_id, address,
        value_sats, block_hash, block_height)
      select 'dd' || lpad(to_hex(n), 62, '0'), 0, ${company}, ${platform}, 'rcn' || n, 10 * n,
        repeat('0', 64), 1
      from generate_series(1, ${COPIES}) n where n % 3 <> 1`);
  });
}

/** 520 live settlements of one of B's contracts, one second apart. */
async function seedSettlements(t: TwoTenants): Promise<void> {
  const contract = await t.contract('active', 'export');
  const [rate] = rowsOf(await t.db.orm.execute(sql`select id from exchange_rates limit 1`));
  await t.db.orm.execute(
    sql.raw(`insert into trade_settlements (id, kind, reference, platform_id, company_id,
        contract_id, rate_id, amount_sats, fiat_minor, currency, txid, ledger_transaction_id,
        created_at)
      select ${id('stl')}, 'invoice', 'inv_COPY' || n, '${t.B.platformId}', '${t.B.companyId}',
        '${contract}', '${String(rate?.id)}', 1000 + n, 60 + n, 'EUR', lpad(to_hex(n), 64, '0'),
        ${id('ltx')}, ${at}
      from generate_series(1, ${COPIES}) n`),
  );
}

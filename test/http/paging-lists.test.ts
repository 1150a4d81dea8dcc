import { sha256 } from '@noble/hashes/sha2.js';
import * as bitcoinjs from 'bitcoinjs-lib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { expectIndexRead, pageReads, planOf, walkList, withQuery } from '../support/paging';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

/**
 * The lists paged after invoices, payouts, batches, contracts and decisions (paging.test.ts):
 * API keys, participants, licences, wallets, a counterparty's addresses, screening hits, cases,
 * alerts, the Travel Rule inbox, mining attributions and ban violations. Each holds 520 copies of a row in tenant B's
 * scope (one second apart, ids `<prefix>_COPY…`): every reader walks every page and sees each
 * row once, newest first, the last page saying so; the other tenant (or a role the list is not
 * for) sees none of them; and on PostgreSQL each page is read in the same number of queries
 * whatever its size, the list's table read through one of its indexes (EXPLAIN of the queries the
 * request actually sent).
 */
const COPIES = 520;
const BASE = "timestamptz '2026-06-01T00:00:00Z'";
const id = (prefix: string) => `'${prefix}_COPY' || lpad(n::text, 20, '0')`;
const at = `${BASE} + n * interval '1 second'`;
const ADDRESSES = Array.from(
  { length: COPIES },
  (_, n) =>
    bitcoinjs.payments.p2wpkh({
      hash: sha256(new TextEncoder().encode(`counterparty copy ${n}`)).subarray(0, 20),
      network: bitcoinjs.networks.regtest,
    }).address!,
);

interface ListCase {
  /** The route, filled in from the fixture. */
  readonly route: (t: TwoTenants) => string;
  readonly table: string;
  readonly prefix: string;
  /** The response field that orders the list (null: not shown; the copies' ids show the order). */
  readonly time: string | null;
  /** Who reads every copy, with a page size (null: the default). */
  readonly readers: (t: TwoTenants) => [Auth, number | null][];
  /** Who sees none of the copies: an empty list, or the status it is refused with. */
  readonly outsiders: (t: TwoTenants) => [Auth, number][];
}

const LISTS: ListCase[] = [
  {
    route: () => '/v1/keys',
    table: 'api_keys',
    prefix: 'key',
    time: 'createdAt',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 200],
    ],
  },
  {
    route: () => '/v1/participants?kind=counterparty',
    table: 'participants',
    prefix: 'par',
    time: 'createdAt',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      // A company sees its platform's counterparties (to name one on a contract).
      [t.B.company, 137],
      [t.auditor, 500],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.A.company, 200],
    ],
  },
  {
    route: () => '/v1/licences',
    table: 'licences',
    prefix: 'lic',
    time: null,
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.A.officer, 200]],
  },
  {
    route: () => '/v1/wallets',
    table: 'wallets',
    prefix: 'wal',
    time: 'createdAt',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 200],
    ],
  },
  {
    route: (t) => `/v1/participants/${t.B.supplierId}/addresses`,
    table: 'counterparty_addresses',
    prefix: 'cpa',
    time: null,
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    // Another platform's counterparty is not found, exactly like one that does not exist.
    outsiders: (t) => [[t.A.officer, 404]],
  },
  {
    route: () => '/v1/screenings/hits',
    table: 'compliance_party_hits',
    prefix: 'scr',
    time: 'listedAt',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    // The screened party never learns of a hit (no tipping-off); another platform sees none.
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 403],
    ],
  },
  {
    route: () => '/v1/cases',
    table: 'compliance_cases',
    prefix: 'cas',
    time: 'openedAt',
    readers: (t) => [
      [t.supervisor, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [
      [t.B.officer, 403],
      [t.B.company, 403],
    ],
  },
  {
    route: () => '/v1/alerts',
    table: 'compliance_alerts',
    prefix: 'alr',
    time: 'createdAt',
    readers: (t) => [
      [t.supervisor, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [
      [t.B.officer, 403],
      [t.B.company, 403],
    ],
  },
  {
    route: () => '/v1/travel-rule/inbox',
    table: 'compliance_travel_rule_messages',
    prefix: 'trm',
    time: 'createdAt',
    readers: (t) => [
      [t.B.officer, 500],
      [t.B.officer, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [
      [t.A.officer, 200],
      [t.B.company, 403],
    ],
  },
  {
    route: () => '/v1/mining/attributions',
    table: 'mining_attributions',
    prefix: 'att',
    time: 'blockTime',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.miners.own.key, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.miners.other.key, 200]],
  },
  {
    route: () => '/v1/mining/violations',
    table: 'mining_violations',
    prefix: 'att',
    time: 'blockTime',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.miners.own.key, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [[t.miners.other.key, 200]],
  },
];

/** The lists' rows the item's id is read from (a violation is named by its attribution). */
const idOf = (item: Record<string, unknown>) => String(item.id ?? item.attributionId);

describe.each(TEST_DRIVERS)('paged lists past 500 rows on %s', (driver) => {
  let t: TwoTenants;
  /** The queries sent while `recording` (PostgreSQL's text and parameters). */
  let recorded: { query: string; params: unknown[] }[] = [];
  let recording = false;

  beforeAll(async () => {
    t = await openTwoTenants(driver, {
      onQuery: (query, params) => {
        if (recording) recorded.push({ query, params });
      },
    });
    const run = (text: string) => t.db.orm.execute(sql.raw(text));
    /** 520 copies of one row of `table` (`from`), with `set` columns computed from n. */
    const copy = async (table: string, from: string, set: Record<string, string>) => {
      const columns = rowsOf(
        await t.db.orm.execute(
          sql`select column_name from information_schema.columns where table_name = ${table} and is_generated = 'NEVER' order by ordinal_position`,
        ),
      )
        .map((c) => String(c.column_name))
        .filter((c) => !(c in set));
      const list = columns.map((c) => `"${c}"`).join(', ');
      await run(`insert into ${table} (${[...Object.keys(set), ...columns].map((c) => `"${c}"`).join(', ')})
        select ${[...Object.values(set), list].join(', ')}
        from (select * from ${table} where ${from} limit 1) one, generate_series(1, ${COPIES}) n`);
    };
    const B = t.B;
    await copy('api_keys', `id = '${B.officer.id}'`, {
      id: id('key'),
      created_at: at,
      secret_hash: `'copy' || n`,
    });
    await copy('participants', `id = '${B.buyerId}'`, {
      id: id('par'),
      created_at: at,
      lei: 'null',
    });
    await copy('licences', `id = '${B.licenceId}'`, {
      id: id('lic'),
      created_at: at,
      valid_from: at,
    });
    // A wallet per company: 520 more companies of B, registered a month earlier.
    await copy('participants', `id = '${B.companyId}'`, {
      id: `'par_WALLETCO' || lpad(n::text, 20, '0')`,
      created_at: `timestamptz '2026-05-01T00:00:00Z' + n * interval '1 second'`,
      lei: 'null',
    });
    await copy('wallets', `id = '${B.walletId}'`, {
      id: id('wal'),
      company_id: `'par_WALLETCO' || lpad(n::text, 20, '0')`,
      created_at: at,
    });
    await copy('counterparty_addresses', `counterparty_id = '${B.supplierId}'`, {
      id: id('cpa'),
      created_at: at,
      verified_at: at,
      address: `(array['${ADDRESSES.join("','")}'])[n]`,
    });
    await run(`insert into compliance_party_hits (id, party_id, subject, source, list_entry_id, entry_hash,
        snapshot_id, score, status, listed_at, delisted_at, delisted_reason, platform_id, review, reviews)
      select ${id('scr')}, '${B.buyerId}', 'name', 'ofac-sdn', 'COPY' || n, 'hash', 'snp_COPY', 0.9,
        'delisted', ${at}, ${at}, 'copy', '${B.platformId}', 'false_positive', '[]'::jsonb
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into compliance_cases (id, party_id, platform_id, state, outcome, notes, opened_at, closed_at)
      select ${id('cas')}, '${B.companyId}', '${B.platformId}', 'closed', 'falsePositive', '[]'::jsonb, ${at}, ${at}
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into compliance_alerts (id, party_id, platform_id, case_id, kind, rule, score, message, created_at)
      select ${id('alr')}, '${B.companyId}', '${B.platformId}', ${id('cas')}, 'monitoring',
        'rule.velocity@1', 10, 'copy', ${at}
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into compliance_travel_rule_messages (id, transfer_id, decision_id, from_platform_id,
        to_platform_id, payload, created_at)
      select ${id('trm')}, 'trf_COPY' || n, 'dec_COPY' || n, '${t.A.platformId}', '${B.platformId}',
        '{}'::jsonb, ${at}
      from generate_series(1, ${COPIES}) n`);
    const own = t.miners.own;
    await run(
      `insert into mining_blocks (hash, height, time) values ('COPYBLOCK', 1000000, ${BASE})`,
    );
    await run(`insert into mining_attributions (id, block_hash, height, block_time, txid, vout, value_sats,
        address, miner_id, site_id, region_code, payout_kind)
      select ${id('att')}, 'COPYBLOCK', 1000000 + n, ${at}, lpad(to_hex(n), 64, '0'), 0, 1000,
        'copy', '${own.id}', '${own.siteId}', '${t.regionCode}', 'solo'
      from generate_series(1, ${COPIES}) n`);
    await run(`insert into mining_violations (attribution_id, ban_id, miner_id, site_id, region_code,
        block_hash, height, block_time, value_sats, status, created_at, updated_at)
      select ${id('att')}, '${t.banId}', '${own.id}', '${own.siteId}', '${t.regionCode}', 'COPYBLOCK',
        1000000 + n, ${at}, 1000, 'open', ${at}, ${at}
      from generate_series(1, ${COPIES}) n`);
    // An open case of A's company and its alert, older than every copy.
    await run(`insert into compliance_cases (id, party_id, platform_id, state, notes, opened_at)
      values ('cas_WAITING', '${t.A.companyId}', '${t.A.platformId}', 'open', '[]'::jsonb,
        timestamptz '2026-01-01T00:00:00Z')`);
    await run(`insert into compliance_alerts (id, party_id, platform_id, case_id, kind, rule, score, message, created_at)
      values ('alr_WAITING', '${t.A.companyId}', '${t.A.platformId}', 'cas_WAITING', 'monitoring',
        'rule.velocity@1', 70, 'waiting', timestamptz '2026-01-01T00:00:00Z')`);
    for (const { table } of LISTS) await run(`analyze ${table}`);
  }, 300_000);
  afterAll(() => t?.close());

  const get = async (url: string, auth: Auth) => {
    const response = await t.app.inject({ method: 'GET', url, headers: auth });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };
  /** Every item of a list, page after page of `limit`. */
  const walk = (route: string, auth: Auth, limit: number | null) =>
    walkList(t.app, route, auth, limit);

  for (const list of LISTS) {
    it(`pages through ${list.table} past 500 rows: each row once, newest first, in scope`, async () => {
      const route = list.route(t);
      const copy = `${list.prefix}_COPY`;
      for (const [auth, limit] of list.readers(t)) {
        const { items, pages } = await walk(route, auth, limit);
        const ids = items.map(idOf);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids.filter((i) => i.startsWith(copy))).toHaveLength(COPIES);
        expect(pages).toBe(Math.ceil(items.length / (limit ?? 50)));
        // Newest first: by the time shown, and the copies (one second apart) by their ids.
        if (list.time) {
          const times = items.map((i) => String(i[list.time ?? '']));
          expect(times).toEqual([...times].sort().reverse());
        }
        const copies = ids.filter((i) => i.startsWith(copy));
        expect(copies).toEqual([...copies].sort().reverse());
      }
      for (const [auth, status] of list.outsiders(t)) {
        if (status !== 200) {
          expect((await get(route, auth)).status).toBe(status);
          continue;
        }
        const { items } = await walk(route, auth, 500);
        expect(items.map(idOf).filter((i) => i.startsWith(copy))).toEqual([]);
      }
    });
  }

  it('filters in the query: a match behind more than 500 newer rows is on the first page', async () => {
    const t0 = t;
    const idsOf = (body: Record<string, unknown>) =>
      (body.items as { id: string }[]).map((i) => i.id);
    // A's open case and its alert, A's licence, A's companies: each behind 520 newer copies.
    expect(idsOf((await get('/v1/cases?state=open&limit=10', t0.supervisor)).body)).toContain(
      'cas_WAITING',
    );
    expect(
      idsOf((await get(`/v1/cases?partyId=${t0.A.companyId}&limit=1`, t0.supervisor)).body),
    ).toEqual(['cas_WAITING']);
    expect(idsOf((await get('/v1/alerts?state=open&limit=10', t0.auditor)).body)).toContain(
      'alr_WAITING',
    );
    expect(idsOf((await get('/v1/alerts?severity=high&limit=10', t0.auditor)).body)).toContain(
      'alr_WAITING',
    );
    const licence = await get(`/v1/licences?participantId=${t0.A.platformId}`, t0.supervisor);
    expect((licence.body.items as { id: string }[]).map((l) => l.id)).toEqual([t0.A.licenceId]);
    const suspended = await get('/v1/licences?status=suspended', t0.supervisor);
    expect(suspended.body.items).toEqual([]);
    const companies = await get(
      `/v1/participants?kind=company&platformId=${t0.A.platformId}`,
      t0.supervisor,
    );
    expect((companies.body.items as { id: string }[]).map((p) => p.id).sort()).toEqual(
      [t0.A.companyId, t0.A.bareCompanyId].sort(),
    );
    const listed = await get('/v1/screenings/hits?status=listed', t0.B.officer);
    expect(
      (listed.body.items as { id: string }[]).filter((h) => h.id.startsWith('scr_COPY')),
    ).toEqual([]);
  });

  it("keeps a cursor to a position: another tenant's cursor reads only the caller's rows", async () => {
    // B's officer pages its keys; A's officer replays B's cursor and still sees only A's keys.
    const first = await get('/v1/keys?limit=5', t.B.officer);
    const cursor = String(first.body.nextCursor);
    const replayed = await get(`/v1/keys?limit=500&cursor=${cursor}`, t.A.officer);
    expect(replayed.status).toBe(200);
    const keys = replayed.body.items as { id: string; participantId: string }[];
    expect(keys.filter((k) => k.id.startsWith('key_COPY'))).toEqual([]);
    for (const k of keys) expect([t.A.platformId, t.A.companyId]).toContain(k.participantId);
    // A cursor that is not one is refused.
    for (const list of LISTS) {
      const bad = await get(withQuery(list.route(t), 'cursor=not-a-cursor'), t.supervisor);
      expect(bad.status, list.table).toBe(400);
      expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
  });

  it.runIf(driver === 'postgres')(
    'reads a page in as many queries whatever its size, each list through one of its indexes',
    async () => {
      for (const list of LISTS) {
        for (const [auth] of list.readers(t)) {
          const route = list.route(t);
          const first = await get(withQuery(route, 'limit=50'), auth);
          const cursor = encodeURIComponent(String(first.body.nextCursor));
          const queriesOf = async (limit: number) => {
            recorded = [];
            recording = true;
            try {
              const url = withQuery(route, `limit=${limit}&cursor=${cursor}`);
              const page = await get(url, auth);
              expect(page.status, `${url}: ${JSON.stringify(page.body)}`).toBe(200);
              expect((page.body.items as unknown[]).length).toBeGreaterThan(Math.min(limit, 2) - 1);
            } finally {
              recording = false;
            }
            return pageReads(recorded);
          };
          const small = await queriesOf(2);
          const large = await queriesOf(500);
          // No query per row: a page of 2 and a page of 500 take the same queries.
          expect(large.length, `${list.table}: ${large.map((q) => q.query).join('\n')}`).toBe(
            small.length,
          );
          const reads = large.filter((q) => q.query.includes(`from "${list.table}"`));
          expect(reads.length, list.table).toBeGreaterThan(0);
          for (const read of reads)
            expectIndexRead(await planOf(t.db, read.query, read.params), list.table);
        }
      }
    },
    300_000,
  );
});

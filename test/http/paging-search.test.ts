import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { TEST_DRIVERS } from '../support/db';
import { expectIndexRead, pageReads, planOf, walkList, withQuery } from '../support/paging';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

/**
 * The pickers' searches (`q`) of the lists the web app's forms pick from, in the style of
 * paging-more.test.ts: B's active export contracts whose goods start with "Copy goods" and VASPs
 * named "Copy VASP n", 520 of each behind as many newer rows the search must skip. Every reader
 * walks every page of the search and sees each match once, newest first, and nothing else;
 * another tenant sees none of B's contracts; a search that is too long or empty is refused; and
 * on PostgreSQL a page is read in as many queries whatever its size, the table through one of
 * its indexes (EXPLAIN of the queries the request sent).
 */
const COPIES = 520;
const BASE = "timestamptz '2026-06-01T00:00:00Z'";
const id = (prefix: string) => `'${prefix}_COPY' || lpad(n::text, 20, '0')`;
const at = (base = BASE) => `${base} + n * interval '1 second'`;
/** Newer than every copy: the rows a search must skip to reach the copies. */
const LATER = "timestamptz '2026-07-01T00:00:00Z'";

interface Search {
  readonly name: string;
  /** The list's route, or the route of the tenants' ids. */
  readonly route: string | ((t: TwoTenants) => string);
  readonly table: string;
  readonly copy: string;
  /** The item's field the copies' ids are in (default `id`). */
  readonly key?: string;
  readonly readers: (t: TwoTenants) => [Auth, number | null][];
  readonly outsiders: (t: TwoTenants) => Auth[];
}

const SEARCHES: Search[] = [
  {
    name: "the invoice form's active export contracts",
    route: '/v1/contracts?status=active&direction=export&q=copy%20GOODS',
    table: 'trade_contracts',
    copy: 'ctr_COPY',
    readers: (t) => [
      [t.B.company, 500],
      [t.B.officer, null],
      [t.supervisor, 137],
    ],
    outsiders: (t) => [t.A.officer, t.A.company],
  },
  {
    name: 'the address form’s VASPs',
    route: '/v1/vasps?q=copy%20vasp',
    table: 'vasps',
    copy: 'vsp_COPY',
    readers: (t) => [
      [t.B.officer, 500],
      [t.supervisor, null],
      [t.A.company, 137],
    ],
    outsiders: () => [],
  },
  {
    name: "the market pickers' licensed platforms",
    route: '/v1/licences?kind=vasp&q=copy%20PLATFORM',
    table: 'licences',
    copy: 'lic_COPY',
    readers: (t) => [
      [t.supervisor, 500],
      [t.auditor, null],
    ],
    outsiders: (t) => [t.B.officer, t.B.company, t.miners.own.key],
  },
  {
    name: "the mining pages' sites",
    route: '/v1/mining/sites?q=copy%20SITE',
    table: 'mining_sites',
    copy: 'sit_COPY',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [t.miners.other.key, t.B.company],
  },
  {
    name: "the offer form's sellable lots of a site",
    route: (t) => `/v1/clearing/lots?status=cleared,released&siteId=${t.miners.own.siteId}`,
    table: 'clearing_lots',
    copy: 'lot_COPY',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [t.miners.other.key],
  },
  {
    name: "the offer form's sellable lots by the start of their id",
    route: '/v1/clearing/lots?status=cleared,released&q=LOT_copy',
    table: 'clearing_lots',
    copy: 'lot_COPY',
    readers: (t) => [
      [t.miners.own.key, 500],
      [t.supervisor, null],
      [t.auditor, 137],
    ],
    outsiders: (t) => [t.miners.other.key],
  },
  {
    name: "the market pickers' markets",
    route: '/v1/markets?q=copy%20PLATFORM',
    table: 'market_settings',
    copy: 'par_COPY',
    key: 'platformId',
    // Every role picks a market: a company and a miner, which see no platform's licence, too.
    readers: (t) => [
      [t.B.company, 500],
      [t.miners.own.key, null],
      [t.A.officer, 137],
    ],
    outsiders: () => [],
  },
  {
    name: "the calendar's bans of a month",
    route: '/v1/mining/bans?from=2031-03-01&to=2031-03-31',
    table: 'mining_bans',
    copy: 'ban_COPY',
    readers: (t) => [
      [t.supervisor, 500],
      [t.B.company, null],
      [t.miners.own.key, 137],
    ],
    outsiders: () => [],
  },
];

const routeOf = (search: Pick<Search, 'route'>, t: TwoTenants) =>
  typeof search.route === 'string' ? search.route : search.route(t);

describe.each(TEST_DRIVERS)("pickers' searches past 500 rows on %s", (driver) => {
  let t: TwoTenants;
  let recorded: { query: string; params: unknown[] }[] = [];
  let recording = false;

  beforeAll(async () => {
    t = await openTwoTenants(driver, {
      onQuery: (query, params) => {
        if (recording) recorded.push({ query, params });
      },
    });
    await seed(t);
  }, 300_000);
  afterAll(() => t?.close());

  const get = async (url: string, auth: Auth) => {
    const response = await t.app.inject({ method: 'GET', url, headers: auth });
    return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
  };
  const walk = (route: string, auth: Auth, limit: number | null) =>
    walkList(t.app, route, auth, limit);

  for (const search of SEARCHES) {
    it(`pages through ${search.name} past 500 matches: each once, newest first, nothing else`, async () => {
      for (const [auth, limit] of search.readers(t)) {
        const { items, pages } = await walk(routeOf(search, t), auth, limit);
        const ids = items.map((i) => String(i[search.key ?? 'id']));
        // Only the copies match: none of the newer rows named otherwise, nothing of A's.
        expect(ids.every((k) => k.startsWith(search.copy))).toBe(true);
        expect(ids).toEqual(
          Array.from(
            { length: COPIES },
            (_, i) => `${search.copy}${String(COPIES - i).padStart(20, '0')}`,
          ),
        );
        expect(pages).toBe(Math.ceil(COPIES / (limit ?? 50)));
      }
      for (const auth of search.outsiders(t))
        expect((await walk(routeOf(search, t), auth, 500)).items).toEqual([]);
    });
  }

  it('keeps a prefix of the goods or the name, whatever its case, its wildcards only themselves', async () => {
    const prefixed = ['12', ...Array.from({ length: 10 }, (_, i) => `12${i}`)];
    const contracts = await walk('/v1/contracts?q=COPY%20goods%2012', t.B.company, 500);
    expect(contracts.items.map((c) => c.goodsDescription).sort()).toEqual(
      prefixed.map((n) => `Copy goods ${n}`).sort(),
    );
    const vasps = await walk('/v1/vasps?q=Copy%20VASP%2012', t.B.officer, 500);
    expect(vasps.items.map((v) => v.name).sort()).toEqual(
      prefixed.map((n) => `Copy VASP ${n}`).sort(),
    );
    for (const route of ['/v1/contracts', '/v1/vasps']) {
      expect((await walk(`${route}?q=copy%25`, t.B.officer, 500)).items).toEqual([]);
      expect((await walk(`${route}?q=_opy`, t.B.officer, 500)).items).toEqual([]);
    }
    // The settled copies are found by their status, the active ones are not among them.
    const settled = await walk('/v1/contracts?status=settled&q=other', t.B.company, 500);
    expect(settled.items).toHaveLength(COPIES);
    expect(settled.items.every((c) => c.status === 'settled')).toBe(true);
    const imports = await walk('/v1/contracts?direction=import&q=copy', t.B.company, 500);
    expect(imports.items).toEqual([]);
  });

  it('refuses a search too long or empty, and a direction it does not know, clearly', async () => {
    for (const route of ['/v1/contracts', '/v1/vasps', '/v1/licences', '/v1/mining/sites']) {
      for (const q of ['x'.repeat(101), '']) {
        const refused = await get(withQuery(route, `q=${q}`), t.B.officer);
        expect(refused.status, route).toBe(400);
        expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
        expect(JSON.stringify(refused.body)).toMatch(/q/);
      }
      expect((await get(withQuery(route, `q=${'x'.repeat(100)}`), t.B.officer)).status).toBe(200);
    }
    const sideways = await get('/v1/contracts?direction=sideways', t.B.officer);
    expect(sideways.status).toBe(400);
    expect(sideways.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    // A service called directly checks the search too.
    await expect(
      t.services.registry.listVasps({ q: 'x'.repeat(101) }, { limit: 1 }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('looks up licences by participant and sites by id, within the caller’s scope', async () => {
    const numbered = (prefix: string) =>
      Array.from({ length: 500 }, (_, i) => `${prefix}${String(i + 1).padStart(20, '0')}`);
    const parIds = numbered('par_COPY');
    const licences = await walk(`/v1/licences?participantIds=${parIds.join(',')}`, t.auditor, 500);
    expect(licences.items.map((l) => l.participantId).sort()).toEqual([...parIds].sort());
    expect(licences.items.every((l) => String(l.participantName).startsWith('Copy platform'))).toBe(
      true,
    );
    // A platform finds its own licence among the ids, never another's.
    const own = await walk(
      `/v1/licences?participantIds=${t.B.platformId},${t.A.platformId},${parIds[0]}`,
      t.B.officer,
      500,
    );
    expect(own.items.map((l) => l.participantId)).toEqual([t.B.platformId]);
    // The kind keeps the vasp licences only; the copies hold no mining licence.
    expect((await walk('/v1/licences?kind=mining&q=copy', t.supervisor, 500)).items).toEqual([]);
    const siteIds = numbered('sit_COPY');
    const sites = await walk(`/v1/mining/sites?ids=${siteIds.join(',')}`, t.miners.own.key, 500);
    expect(sites.items.map((s) => s.id).sort()).toEqual([...siteIds].sort());
    expect(
      (await walk(`/v1/mining/sites?ids=${siteIds.join(',')}`, t.miners.other.key, 500)).items,
    ).toEqual([]);
    const theirs = await walk(
      `/v1/mining/sites?ids=${t.miners.other.siteId},${siteIds[0]}`,
      t.miners.other.key,
      500,
    );
    expect(theirs.items.map((s) => s.id)).toEqual([t.miners.other.siteId]);
    // A lookup of more than 500 ids, or of something not an id of the kind, is refused.
    for (const [route, list] of [
      ['/v1/licences?participantIds=', [...parIds, 'par_COPYEXTRA'].join(',')],
      ['/v1/licences?participantIds=', `${parIds[0]},lic_NOTAPARTICIPANT`],
      ['/v1/licences?participantIds=', ''],
      ['/v1/mining/sites?ids=', [...siteIds, 'sit_COPYEXTRA'].join(',')],
      ['/v1/mining/sites?ids=', `${siteIds[0]},sit_`],
      ['/v1/mining/sites?ids=', `${siteIds[0]},,`],
    ] as const) {
      const refused = await get(`${route}${list}`, t.supervisor);
      expect(refused.status, `${route}${list.slice(-40)}`).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(refused.body)).toMatch(/ids/i);
    }
    // A month's bans want both days, as dates, the first not after the last.
    for (const days of [
      'from=2031-03-01',
      'to=2031-03-31',
      'from=2031-04-01&to=2031-03-01',
      'from=March&to=2031-03-31',
    ]) {
      const refused = await get(`/v1/mining/bans?${days}`, t.supervisor);
      expect(refused.status, days).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(refused.body)).toMatch(/from|to/);
    }
    // A lot status it does not know, among several or alone, or none, is refused too.
    for (const status of ['cleared,sold', 'sold', '', 'cleared,']) {
      const refused = await get(`/v1/clearing/lots?status=${status}`, t.supervisor);
      expect(refused.status, status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(JSON.stringify(refused.body)).toMatch(/status/);
    }
    await expect(
      t.services.clearing.listLots(systemCaller('test.supervisor'), { status: [] }),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it('finds the lots of a block by its height, within the caller’s scope', async () => {
    const heightOf = async (query: string, auth: Auth) =>
      (await walk(`/v1/clearing/lots?${query}`, auth, 500)).items.map((l) => String(l.id));
    const copy = (prefix: string) => `${prefix}${String(17).padStart(20, '0')}`;
    // Block 17 holds a lot of each kind of copy: the own miner's sellable one among them.
    expect(await heightOf('status=cleared,released&q=17', t.miners.own.key)).toEqual([
      copy('lot_COPY'),
    ]);
    expect(await heightOf('q=17', t.miners.own.key)).toEqual([
      copy('lot_OTHER_COPY'),
      copy('lot_COPY'),
    ]);
    expect((await heightOf('q=17', t.supervisor)).sort()).toEqual(
      [copy('lot_COPY'), copy('lot_OTHER_COPY'), copy('lot_THEIRS_COPY')].sort(),
    );
    expect(await heightOf('q=17', t.miners.other.key)).toEqual([copy('lot_THEIRS_COPY')]);
    // A height no block has, even past the column's range, finds nothing; no error.
    for (const q of ['9999', '2147483648', '99999999999'])
      expect(await heightOf(`q=${q}`, t.supervisor), q).toEqual([]);
    // The start of an id is a prefix only: its own wildcards match themselves, any case.
    expect(await heightOf('q=lot_copy%25', t.supervisor)).toEqual([]);
    expect(await heightOf(`q=${copy('LOT_copy').toLowerCase()}`, t.miners.own.key)).toEqual([
      copy('lot_COPY'),
    ]);
    for (const q of ['', 'x'.repeat(101)]) {
      const refused = await get(`/v1/clearing/lots?q=${q}`, t.supervisor);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    // A company sees no lot, searched or not.
    expect((await get('/v1/clearing/lots?q=17', t.B.company)).status).toBe(403);
  });

  it("lists every market with its public facts to every role, and nothing of a tenant's", async () => {
    const first = (await walk('/v1/markets?q=copy%20platform%201', t.B.company, 500)).items[0];
    // Nothing but the platform's name, terms and licence status: no escrow, no offer, no bid.
    expect(Object.keys(first ?? {}).sort()).toEqual(
      [
        'createdAt',
        'currency',
        'deadlineSeconds',
        'licenceStatus',
        'name',
        'platformId',
        'spreadBasisPoints',
      ].sort(),
    );
    const market = (items: Record<string, unknown>[], n: number) =>
      items.find((m) => m.platformId === `par_COPY${String(n).padStart(20, '0')}`);
    const all = (await walk('/v1/markets', t.miners.other.key, 500)).items;
    // The copies' markets and the newer ones, nothing of A's or B's platforms (no market).
    expect(all).toHaveLength(2 * COPIES);
    expect(market(all, 7)).toMatchObject({
      name: 'Copy platform 7',
      currency: 'COP',
      spreadBasisPoints: 150,
      licenceStatus: 'active',
    });
    // A platform whose licence is suspended still runs its market: the listing says so.
    const licence = `lic_COPY${String(7).padStart(20, '0')}`;
    await t.db.orm.execute(sql`update licences set status = 'suspended' where id = ${licence}`);
    try {
      const again = (await walk('/v1/markets?q=Copy%20platform%207', t.auditor, 500)).items;
      expect(market(again, 7)).toMatchObject({ licenceStatus: 'suspended' });
    } finally {
      await t.db.orm.execute(sql`update licences set status = 'active' where id = ${licence}`);
    }
    const refused = await get(`/v1/markets?q=${'x'.repeat(101)}`, t.B.company);
    expect(refused.status).toBe(400);
    expect(refused.body).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect((await t.app.inject({ method: 'GET', url: '/v1/markets' })).statusCode).toBe(401);
  });

  it("gives a miner's calendar the regions of all its sites, page after page", async () => {
    const regions = async (auth: Auth, limit: number) =>
      (await walk('/v1/mining/site-regions', auth, limit)).items as {
        regionCode: string;
        sites: number;
      }[];
    const own = await regions(t.miners.own.key, 137);
    const copies = Array.from(
      { length: COPIES },
      (_, i) => `copy-${String(i + 1).padStart(4, '0')}`,
    );
    // By region code, each once: the 520 regions of its region sites, then its other sites' own.
    expect(own.map((r) => r.regionCode)).toEqual([...copies, t.regionCode]);
    expect(own.slice(0, COPIES).every((r) => r.sites === 1)).toBe(true);
    expect(own.at(-1)?.sites).toBe(2 * COPIES + 1);
    // The other miner: its own site's region, not the own miner's; a company and a platform none.
    expect(await regions(t.miners.other.key, 500)).toEqual([
      { regionCode: t.regionCode, sites: 1 },
    ]);
    expect(await regions(t.B.company, 500)).toEqual([]);
    expect(await regions(t.B.officer, 500)).toEqual([]);
    // The supervisor sees every site's regions; a miner asking for another's sees its own only.
    const everyone = await regions(t.supervisor, 500);
    expect(everyone.find((r) => r.regionCode === t.regionCode)?.sites).toBe(2 * COPIES + 2);
    const ask = async (minerId: string, auth: Auth) =>
      (await get(`/v1/mining/site-regions?minerId=${minerId}`, auth)).body.items;
    expect(await ask(t.miners.other.id, t.supervisor)).toEqual([
      { regionCode: t.regionCode, sites: 1 },
    ]);
    expect(await ask(t.miners.own.id, t.miners.other.key)).toEqual([]);
    const bad = await get('/v1/mining/site-regions?cursor=nonsense', t.supervisor);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ code: 'VALIDATION_FAILED' });
  });

  it.runIf(driver === 'postgres')(
    'reads a page of a search in as many queries whatever its size, through an index',
    async () => {
      // The searches, the lots of one block and a miner's regions (a page after the first).
      const reads: Pick<Search, 'name' | 'route' | 'table' | 'readers'>[] = [
        ...SEARCHES,
        {
          name: 'the lots of a block',
          route: '/v1/clearing/lots?status=cleared,released&q=17',
          table: 'clearing_lots',
          readers: (t) => [[t.miners.own.key, null]],
        },
        {
          name: "a miner's regions",
          route: '/v1/mining/site-regions',
          table: 'mining_sites',
          readers: (t) => [[t.miners.own.key, null]],
        },
        {
          name: "everyone's regions",
          route: '/v1/mining/site-regions',
          table: 'mining_sites',
          readers: (t) => [[t.supervisor, null]],
        },
      ];
      for (const search of reads) {
        const [auth] = search.readers(t)[0]!;
        const first = await get(withQuery(routeOf(search, t), 'limit=50'), auth);
        const next = first.body.nextCursor as string | null;
        const cursor = next ? `&cursor=${encodeURIComponent(String(next))}` : '';
        const queriesOf = async (limit: number) => {
          recorded = [];
          recording = true;
          try {
            const page = await get(withQuery(routeOf(search, t), `limit=${limit}${cursor}`), auth);
            expect(page.status, JSON.stringify(page.body)).toBe(200);
          } finally {
            recording = false;
          }
          return pageReads(recorded);
        };
        const small = await queriesOf(2);
        const large = await queriesOf(500);
        expect(large.length, search.name).toBe(small.length);
        const reads = large.filter((q) => new RegExp(`from "?${search.table}"?\\s`).test(q.query));
        expect(reads.length, search.name).toBeGreaterThan(0);
        for (const read of reads)
          expectIndexRead(await planOf(t.db, read.query, read.params), search.table, search.name);
      }
    },
    120_000,
  );
});

/**
 * B's 520 active export contracts "Copy goods n" and, newer, 520 settled ones "Other goods n";
 * 520 VASPs "Copy VASP n" and, newer, 520 "Not A Copy VASP n"; 520 platforms "Copy platform n"
 * each with a vasp licence and a market and, newer, 520 "Other platform n" with theirs; the own
 * miner's 520 sites "Copy site n" and, newer, 520 "Other site n" and 520 "Region site n", each
 * in a region of its own.
 */
async function seed(t: TwoTenants): Promise<void> {
  const run = (text: string) => t.db.orm.execute(sql.raw(text));
  const contract = await t.contract('active', 'export');
  const columns = rowsOf(
    await t.db.orm.execute(
      sql`select column_name from information_schema.columns where table_name = 'trade_contracts' and is_generated = 'NEVER' order by ordinal_position`,
    ),
  )
    .map((c) => String(c.column_name))
    .filter((c) => !['id', 'goods_description', 'status', 'created_at'].includes(c));
  const list = columns.map((c) => `"${c}"`).join(', ');
  const copies = (prefix: string, goods: string, status: string, base: string) =>
    run(`insert into trade_contracts (id, goods_description, status, created_at, ${list})
      select ${id(prefix)}, '${goods} ' || n, '${status}', ${at(base)}, ${list}
      from (select * from trade_contracts where id = '${contract}') one,
        generate_series(1, ${COPIES}) n`);
  await copies('ctr', 'Copy goods', 'active', BASE);
  await copies('ctr_OTHER', 'Other goods', 'settled', LATER);
  const vasps = (prefix: string, name: string, base: string) =>
    run(`insert into vasps (id, name, other_names, lei, jurisdiction, licence_authority,
        licence_number, licence_status, created_at, updated_at)
      select ${id(prefix)}, '${name} ' || n, '[]'::jsonb,
        '${prefix.length > 3 ? 'OTHR' : 'COPY'}' || lpad(n::text, 14, '0') || '00', 'JP', 'FSA',
        'copy' || n, 'active', ${at(base)}, ${at(base)}
      from generate_series(1, ${COPIES}) n`);
  await vasps('vsp', 'Copy VASP', BASE);
  await vasps('vsp_OTHER', 'Not A Copy VASP', LATER);
  // The copies' ids are <kind>_COPY<n>, the newer rows' <kind>_OTHER_COPY<n>.
  const kind = (prefix: string, other: string) => (other ? `${prefix}_${other}` : prefix);
  const platforms = async (other: string, name: string, base: string) => {
    await copyRows(t, 'participants', t.A.platformId, {
      id: id(kind('par', other)),
      legal_name: `'${name} ' || n`,
      lei: `'${other ? 'OTHR' : 'COPY'}' || lpad(n::text, 14, '0') || '00'`,
      created_at: at(base),
      updated_at: at(base),
    });
    await copyRows(t, 'licences', t.A.licenceId, {
      id: id(kind('lic', other)),
      participant_id: id(kind('par', other)),
      kind: "'vasp'",
      created_at: at(base),
      updated_at: at(base),
    });
  };
  await platforms('', 'Copy platform', BASE);
  await platforms('OTHER', 'Other platform', LATER);
  // Each copied platform runs a market, opened when it was registered.
  const markets = (other: string, base: string) =>
    run(`insert into market_settings (platform_id, currency, spread_basis_points,
        deadline_seconds, escrow_descriptor, next_escrow_index, version, updated_by, created_at,
        updated_at)
      select ${id(kind('par', other))}, 'COP', 150, 86400, 'copy-escrow-' || n, 0, 1, 'copy',
        ${at(base)}, ${at(base)}
      from generate_series(1, ${COPIES}) n`);
  await markets('', BASE);
  await markets('OTHER', LATER);
  const sites = (other: string, name: string, base: string) =>
    copyRows(t, 'mining_sites', t.miners.own.siteId, {
      id: id(kind('sit', other)),
      name: `'${name} ' || n`,
      created_at: at(base),
    });
  await sites('', 'Copy site', BASE);
  await sites('OTHER', 'Other site', LATER);
  // The own miner's sites in as many regions of their own (the calendar's rows): copy-0001 on.
  await run(`insert into regions (code, name, time_zone, created_at)
    select 'copy-' || lpad(n::text, 4, '0'), 'Copy region ' || n, 'UTC', ${at(LATER)}
    from generate_series(1, ${COPIES}) n`);
  await copyRows(t, 'mining_sites', t.miners.own.siteId, {
    id: id('sit_REGION'),
    name: "'Region site ' || n",
    region_code: "'copy-' || lpad(n::text, 4, '0')",
    created_at: at(LATER),
  });
  // Lots: the own miner's cleared and released copies; newer, its spent and quarantined ones at
  // the same site and the other miner's cleared ones at its site.
  await run(`insert into clearing_blocks (hash, height) values ('copy-block', 1)`);
  const lots = (
    other: string,
    miner: { id: string; siteId: string },
    statuses: string[],
    base: string,
  ) => {
    const status = `(array['${statuses.join("','")}'])[1 + n % 2]`;
    const clearance = `(case when ${status} = 'spent' then 'cleared' else ${status} end)`;
    return run(`insert into clearing_lots (id, attribution_id, block_hash, height, block_time,
        txid, vout, value_sats, miner_id, site_id, region_code, status, clearance,
        quarantine_reason, created_at, updated_at)
      select ${id(kind('lot', other))}, ${id(kind('att', other))}, 'copy-block', n, ${at(base)},
        md5('${other}' || n) || md5('${other}' || n), 0, 1000, '${miner.id}', '${miner.siteId}',
        '${t.regionCode}', ${status}, ${clearance},
        case when ${clearance} = 'cleared' then null else 'SITE_NOT_REGISTERED' end,
        ${at(base)}, ${at(base)}
      from generate_series(1, ${COPIES}) n`);
  };
  await lots('', t.miners.own, ['cleared', 'released'], BASE);
  await lots('OTHER', t.miners.own, ['spent', 'quarantined'], LATER);
  await lots('THEIRS', t.miners.other, ['cleared', 'released'], LATER);
  // Bans: copies overlapping March 2031 (the last ending on its first day, the first starting on
  // its last); newer, as many ending before it or starting after it.
  const bans = (other: string, from: string, to: string, base: string) =>
    copyRows(t, 'mining_bans', t.banId, {
      id: id(kind('ban', other)),
      from_date: from,
      to_date: to,
      created_at: at(base),
    });
  await bans(
    '',
    `case when n = ${COPIES} then date '2031-03-31' else date '2031-02-10' + (n % 20) end`,
    `case when n = 1 then date '2031-03-01' else date '2031-03-31' + (n % 20) end`,
    BASE,
  );
  await bans(
    'OTHER',
    `case when n % 2 = 0 then date '2031-01-01' else date '2031-04-01' end`,
    `case when n % 2 = 0 then date '2031-02-28' else date '2031-04-30' end`,
    LATER,
  );
  for (const table of [
    'mining_bans',
    'trade_contracts',
    'vasps',
    'participants',
    'licences',
    'mining_sites',
    'clearing_lots',
    'market_settings',
  ])
    await run(`analyze ${table}`);
}

/** COPIES copies of the row `from` of `table`, the columns of `set` given (SQL of n), the others as it has them. */
async function copyRows(
  t: TwoTenants,
  table: string,
  from: string,
  set: Record<string, string>,
): Promise<void> {
  const others = rowsOf(
    await t.db.orm.execute(
      sql`select column_name from information_schema.columns where table_name = ${table} and is_generated = 'NEVER' order by ordinal_position`,
    ),
  )
    .map((c) => String(c.column_name))
    .filter((c) => !(c in set));
  const list = others.map((c) => `"${c}"`).join(', ');
  await t.db.orm.execute(
    sql.raw(`insert into ${table} (${Object.keys(set).join(', ')}, ${list})
      select ${Object.values(set).join(', ')}, ${list}
      from (select * from ${table} where id = '${from}') one, generate_series(1, ${COPIES}) n`),
  );
}

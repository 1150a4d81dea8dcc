import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { expectIndexRead, planOf, walkList, withQuery } from '../support/paging';
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
  readonly route: string;
  readonly table: string;
  readonly copy: string;
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
];

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
        const { items, pages } = await walk(search.route, auth, limit);
        const ids = items.map((i) => String(i.id));
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
        expect((await walk(search.route, auth, 500)).items).toEqual([]);
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
    for (const route of ['/v1/contracts', '/v1/vasps']) {
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

  it.runIf(driver === 'postgres')(
    'reads a page of a search in as many queries whatever its size, through an index',
    async () => {
      for (const search of SEARCHES) {
        const [auth] = search.readers(t)[0]!;
        const first = await get(withQuery(search.route, 'limit=50'), auth);
        const cursor = encodeURIComponent(String(first.body.nextCursor));
        const queriesOf = async (limit: number) => {
          recorded = [];
          recording = true;
          try {
            const page = await get(
              withQuery(search.route, `limit=${limit}&cursor=${cursor}`),
              auth,
            );
            expect(page.status, JSON.stringify(page.body)).toBe(200);
          } finally {
            recording = false;
          }
          return recorded.filter((q) => /^\s*(select|with)/i.test(q.query));
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
 * 520 VASPs "Copy VASP n" and, newer, 520 "Not A Copy VASP n".
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
  await run('analyze trade_contracts');
  await run('analyze vasps');
}

import { sha256 } from '@noble/hashes/sha2.js';
import * as bitcoinjs from 'bitcoinjs-lib';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyset, rowsOf, scopeTo } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { planOf } from '../support/paging';
import { tradeInvoices, tradePayouts } from '../../src/trade/schema';
import type { Caller, Role } from '../../src/kernel';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

/**
 * Paged lists past 500 rows: every invoice and payout seen exactly once, newest first, whatever
 * the page size; the last page says so; a cursor that is not one is refused; and each page is
 * read through the (…, created_at, id) index (EXPLAIN on PostgreSQL).
 */
const COPIES = 520;
/** Distinct regtest P2WPKH addresses for the copied invoices (the pay URI needs a valid one). */
const ADDRESSES = Array.from(
  { length: COPIES },
  (_, n) =>
    bitcoinjs.payments.p2wpkh({
      hash: sha256(new TextEncoder().encode(`copy ${n}`)).subarray(0, 20),
      network: bitcoinjs.networks.regtest,
    }).address!,
);

/** The rows of tenant B in a table: its company's, or its platform's for batches. */
let ownerOf: (table: string) => string;

describe.each(TEST_DRIVERS)('paged invoice and payout lists on %s', (driver) => {
  let t: TwoTenants;

  beforeAll(async () => {
    t = await openTwoTenants(driver);
    ownerOf = (table) =>
      table === 'trade_batches'
        ? `platform_id = '${t.B.platformId}'`
        : `company_id = '${t.B.companyId}'`;
    // Copies of B's invoices and payouts, one second apart (fresh ids and addresses), so that the
    // lists hold more than the largest page.
    for (const [table, prefix, time] of [
      ['trade_invoices', 'inv', 'created_at'],
      ['trade_payouts', 'pay', 'created_at'],
      ['compliance_decisions', 'dec', 'decided_at'],
      ['trade_contracts', 'ctr', 'created_at'],
      ['trade_batches', 'bat', 'created_at'],
    ] as const) {
      const unique = table === 'trade_invoices' ? ', address' : '';
      // A batch's txids are unique: the copies have none (never signed).
      const left = table === 'trade_batches' ? ", 'txid', 'confirmed_txid', 'raw_tx'" : '';
      const columns = rowsOf(
        await t.db.orm.execute(
          sql`select column_name from information_schema.columns where table_name = ${table} and column_name not in ('id', ${time}${sql.raw(unique ? ", 'address'" : '')}${sql.raw(left)})`,
        ),
      ).map((c) => `"${String(c.column_name)}"`);
      const list = columns.join(', ');
      const source = `select * from ${table} where ${ownerOf(table)}${table === 'compliance_decisions' ? " and outcome = 'allow'" : ''} limit 1`;
      await t.db.orm.execute(
        sql.raw(`insert into ${table} (id, ${time}${unique}, ${list})
          select '${prefix}_COPY' || lpad(n::text, 20, '0'), timestamptz '2026-06-01T00:00:00Z' + n * interval '1 second'
            ${unique ? `, (array['${ADDRESSES.join("','")}'])[n]` : ''}, ${list}
          from (${source}) one, generate_series(1, ${COPIES}) n`),
      );
      if (table === 'compliance_decisions') {
        // One review still waiting for an officer, older than all the copies.
        await t.db.orm.execute(
          sql.raw(`insert into ${table} (id, ${time}, ${list})
            select 'dec_WAITING', timestamptz '2026-01-01T00:00:00Z', ${columns
              .map((c) => (c === '"outcome"' ? "'review'" : c))
              .join(', ')}
            from (${source}) one`),
        );
      }
    }
  }, 300_000);
  afterAll(() => t?.close());

  const page = async (route: string, auth: Auth, query: string) => {
    const response = await t.app.inject({ method: 'GET', url: `${route}?${query}`, headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<{
      items: { id: string; createdAt?: string; decidedAt?: string }[];
      nextCursor: string | null;
    }>();
  };

  /** Every item of a list, page after page of `limit`. */
  const walk = async (route: string, auth: Auth, limit: number | null) => {
    const ids: string[] = [];
    const times: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams();
      if (limit !== null) query.set('limit', String(limit));
      if (cursor) query.set('cursor', cursor);
      const got = await page(route, auth, query.toString());
      expect(got.items.length).toBeLessThanOrEqual(limit ?? 50);
      if (got.nextCursor) expect(got.items).toHaveLength(limit ?? 50);
      ids.push(...got.items.map((i) => i.id));
      times.push(...got.items.map((i) => i.createdAt ?? i.decidedAt ?? ''));
      cursor = got.nextCursor;
      pages++;
    } while (cursor);
    return { ids, times, pages };
  };

  for (const [route, table] of [
    ['/v1/invoices', 'trade_invoices'],
    ['/v1/payouts', 'trade_payouts'],
    ['/v1/decisions', 'compliance_decisions'],
    ['/v1/contracts', 'trade_contracts'],
    ['/v1/payout-batches', 'trade_batches'],
  ] as const) {
    it(`pages through ${route} past 500 rows: each row once, newest first`, async () => {
      const [{ count }] = rowsOf(
        await t.db.orm.execute(
          sql.raw(`select count(*)::int as count from ${table} where ${ownerOf(table)}`),
        ),
      ) as [{ count: number }];
      expect(count).toBeGreaterThan(500);
      // Batches are the platform's: its company sees none.
      const readers = [
        [t.B.officer, 500],
        [t.B.officer, null],
        ...(table === 'trade_batches' ? [] : [[t.B.company, 137] as const]),
      ] as const;
      for (const [auth, limit] of readers) {
        const { ids, times, pages } = await walk(route, auth, limit);
        expect(new Set(ids).size).toBe(ids.length);
        expect(ids).toHaveLength(count);
        expect(pages).toBe(Math.ceil(count / (limit ?? 50)));
        // Newest first: by the time shown, and the copies (made one second apart) by their ids.
        expect(times).toEqual([...times].sort().reverse());
        const copies = ids.filter((id) => id.includes('COPY'));
        expect(copies).toEqual([...copies].sort().reverse());
      }
      // Another tenant sees none of them.
      const other = await walk(route, t.A.company, 500);
      expect(other.ids.filter((id) => id.includes('COPY'))).toEqual([]);
    });
  }

  it('finds a review waiting behind more than 500 newer decisions', async () => {
    const waiting = await page('/v1/decisions', t.B.officer, 'pendingReview=true&limit=500');
    expect(waiting.items.map((d) => d.id)).toContain('dec_WAITING');
  });

  it('refuses a limit out of range and a cursor it did not give, changing nothing', async () => {
    for (const query of [
      'limit=0',
      'limit=501',
      'limit=abc',
      'cursor=not-a-cursor',
      'cursor=%00',
    ]) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/v1/invoices?${query}`,
        headers: t.B.officer,
      });
      expect(response.statusCode, query).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
      expect(response.json<{ message: string }>().message).toMatch(/limit|cursor/);
    }
    const forged = Buffer.from('2026-06-01T00:00:00.000Z|x; drop table').toString('base64url');
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/invoices?cursor=${forged}`,
      headers: t.B.officer,
    });
    expect(response.statusCode).toBe(400);
  });

  it.runIf(driver === 'postgres')(
    "reads a page through the caller's (…, created_at, id) index",
    async () => {
      await t.db.orm.execute(sql`analyze trade_invoices`);
      await t.db.orm.execute(sql`analyze trade_payouts`);
      const first = await page('/v1/invoices', t.B.company, 'limit=50');
      const as = (role: Role, participantId: string): Caller => ({
        role,
        participantId,
        platformId: role === 'supervisor' ? null : t.B.platformId,
        actorId: 'key_explain',
        personId: 'usr_explain',
        requestId: null,
      });
      const company = as('company', t.B.companyId);
      for (const [table, tableName, caller] of [
        [tradeInvoices, 'trade_invoices', company],
        [tradeInvoices, 'trade_invoices', as('platform', t.B.platformId)],
        [tradeInvoices, 'trade_invoices', as('supervisor', 'scheme')],
        [tradePayouts, 'trade_payouts', company],
      ] as const) {
        const { after, orderBy, read } = keyset(table, { limit: 50, cursor: first.nextCursor });
        const query = t.db.orm
          .select()
          .from(table)
          .where(
            sql`${scopeTo(caller, { participant: table.companyId, platform: table.platformId }) ?? sql`true`} and ${after}`,
          )
          .orderBy(...orderBy)
          .limit(read)
          .toSQL();
        // A few hundred rows fit in a handful of pages, where a scan is cheaper: with scans
        // priced out, the plan shows whether the index serves the filter and the order itself.
        const plan = await planOf(t.db, query.sql, query.params);
        // Which of the table's page indexes depends on how the rows spread over companies (here
        // all copies are one company's, so the global one serves as well); any serves the order.
        expect(plan, plan).toMatch(
          new RegExp(
            `Index (Only )?Scan( Backward)? using ${tableName}_(company_|platform_)?page_idx`,
          ),
        );
        expect(plan).not.toMatch(/Seq Scan on trade_(invoices|payouts)/);
        // The index gives the order: no sort of the rows read.
        expect(plan).not.toMatch(/\bSort\b/);
      }
    },
  );
});

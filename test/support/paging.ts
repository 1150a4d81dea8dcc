import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { expect } from 'vitest';
import { rowsOf, type Database } from '../../src/db';
import type { Auth } from './two-tenants';

/**
 * What the paging tests share: walking a list page after page, and reading the plan of a query a
 * page request sent (EXPLAIN with the parameters written in, sequential scans priced out).
 */

/** A route with more query parameters. */
export const withQuery = (route: string, query: string) =>
  `${route}${route.includes('?') ? '&' : '?'}${query}`;

export interface ListItem {
  [key: string]: unknown;
}

/**
 * Every item of a list, page after page of `limit` (null: the default page size): each page 200,
 * no page longer than asked, every page but the last full.
 */
export async function walkList(
  app: FastifyInstance,
  route: string,
  auth: Auth,
  limit: number | null,
): Promise<{ items: ListItem[]; pages: number }> {
  const items: ListItem[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const query = new URLSearchParams();
    if (limit !== null) query.set('limit', String(limit));
    if (cursor) query.set('cursor', cursor);
    const response = await app.inject({
      method: 'GET',
      url: withQuery(route, query.toString()),
      headers: auth,
    });
    expect(response.statusCode, response.body).toBe(200);
    const got = response.json<{ items: ListItem[]; nextCursor: string | null }>();
    expect(got.items.length).toBeLessThanOrEqual(limit ?? 50);
    if (got.nextCursor) expect(got.items).toHaveLength(limit ?? 50);
    items.push(...got.items);
    cursor = got.nextCursor;
    pages++;
  } while (cursor);
  return { items, pages };
}

/** A query with its parameters written in (for EXPLAIN, which takes no parameters here). */
export function inline(text: string, params: readonly unknown[]): string {
  return text.replace(/\$(\d+)/g, (_, n: string) => {
    const value = params[Number(n) - 1];
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    return `'${String(value instanceof Date ? value.toISOString() : value).replaceAll("'", "''")}'`;
  });
}

/**
 * The plan of a query, sequential scans priced out: a few hundred rows fit in a handful of
 * pages, where a scan is cheaper, so the plan shows whether an index serves the filter and order.
 */
export async function planOf(
  db: Database,
  query: string,
  params: readonly unknown[],
): Promise<string> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local enable_seqscan = off`);
    return rowsOf(await tx.execute(sql.raw(`explain ${inline(query, params)}`)))
      .map((r) => String(r['QUERY PLAN']))
      .join('\n');
  });
}

/** The plan reads `table` through one of its indexes, never by a sequential scan. */
export function expectIndexRead(plan: string, table: string, label = table): void {
  expect(plan, `${label}\n${plan}`).toMatch(
    new RegExp(
      `(Index (Only )?Scan( Backward)? using \\w+|Bitmap Index Scan) on ${table}\\b|Bitmap Index Scan on ${table}_`,
    ),
  );
  expect(plan, `${label}\n${plan}`).not.toMatch(new RegExp(`Seq Scan on ${table}\\b`));
  if (process.env.SHOW_PLANS) console.log(`PLAN ${label}\n${plan}`);
}

/**
 * The reads a page request sent, for comparing a small page with a large one: its `select` /
 * `with` statements, less those the server remembers across requests and so sends or not by the
 * cache's state, not by the page's size (the API key's, kept for a second once verified; a stored
 * rate's fixing, read once).
 */
export function pageReads<Q extends { query: string }>(recorded: readonly Q[]): Q[] {
  const remembered = [
    /from "api_keys" inner join "users"/i,
    /^\s*select "id", "fixing_id" from "exchange_rates"/i,
  ];
  return recorded.filter(
    (q) => /^\s*(select|with)/i.test(q.query) && !remembered.some((r) => r.test(q.query)),
  );
}

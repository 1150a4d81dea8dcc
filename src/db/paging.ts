import { desc, sql, type SQL } from 'drizzle-orm';
import type { PgColumn } from 'drizzle-orm/pg-core';
import { invalid } from '../kernel';

/**
 * Keyset pagination, newest first: a page is the rows after a cursor in (created_at, id)
 * descending order, read with one query through an index on those columns, whatever the page's
 * depth (an offset would read and drop every row before it). The cursor is opaque to clients: the
 * last row's creation time and id, base64url-encoded.
 */
export interface PageRequest {
  /** Rows per page: 1 to MAX_PAGE_SIZE (default DEFAULT_PAGE_SIZE). */
  readonly limit?: number;
  /** The `nextCursor` of the page before; absent for the first page. */
  readonly cursor?: string | null;
}

export interface Page<T> {
  readonly items: T[];
  /** Null on the last page: there is nothing after it. */
  readonly nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 500;

interface Position {
  readonly createdAt: Date;
  readonly id: string;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt.toISOString()}|${position.id}`).toString('base64url');
}

/** The position a cursor names; a cursor not made by `encodeCursor` is a VALIDATION_FAILED. */
export function decodeCursor(cursor: string): Position {
  const text = /^[A-Za-z0-9_-]{1,200}$/.test(cursor)
    ? Buffer.from(cursor, 'base64url').toString('utf8')
    : '';
  const match = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)\|([A-Za-z0-9_]{1,64})$/.exec(text);
  const createdAt = match ? new Date(match[1]!) : null;
  if (!match || !createdAt || Number.isNaN(createdAt.getTime())) {
    throw invalid('cursor', 'is not a cursor this list gave (pass nextCursor unchanged)');
  }
  return { createdAt, id: match[2]! };
}

/** The page size asked for, checked (the HTTP schema checks it too; services are called directly). */
export function pageSize(request: PageRequest): number {
  const limit = request.limit ?? DEFAULT_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
    throw invalid('limit', `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  }
  return limit;
}

/**
 * The keyset query's parts for a table's (created_at, id) columns: the condition "after the
 * cursor", the order, and how many rows to read (one more than the page, to know if one follows).
 */
export function keyset(
  columns: { createdAt: PgColumn; id: PgColumn },
  request: PageRequest,
): { after: SQL | undefined; orderBy: SQL[]; read: number; limit: number } {
  const limit = pageSize(request);
  let after: SQL | undefined;
  if (request.cursor) {
    const at = decodeCursor(request.cursor);
    // A row comparison, which PostgreSQL reads as one range of the (…, created_at, id) index.
    after = sql`(${columns.createdAt}, ${columns.id}) < (${at.createdAt.toISOString()}::timestamptz, ${at.id})`;
  }
  return { after, orderBy: [desc(columns.createdAt), desc(columns.id)], read: limit + 1, limit };
}

/**
 * The page of `rows` (read with `keyset`'s `read`): its first `limit` rows turned into items by
 * `view` (in a fixed number of queries for all of them), and the cursor of its last row. `at`
 * gives a row's position when its time column is not `createdAt` (e.g. `decidedAt`).
 */
export async function pageOf<R, T>(
  rows: readonly R[],
  limit: number,
  view: (rows: readonly R[]) => T[] | Promise<T[]>,
  at: (row: R) => Position = (row) => row as Position,
): Promise<Page<T>> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  return {
    items: await view(shown),
    nextCursor: rows.length > limit && last !== undefined ? encodeCursor(at(last)) : null,
  };
}

/** Every item of a paged list, page after page (for commands and jobs that need them all). */
export async function* everyItem<T>(
  list: (page: PageRequest) => Promise<Page<T>>,
): AsyncGenerator<T> {
  let cursor: string | null = null;
  do {
    const page: Page<T> = await list({ limit: MAX_PAGE_SIZE, cursor });
    yield* page.items;
    cursor = page.nextCursor;
  } while (cursor);
}

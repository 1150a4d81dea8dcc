import { asc, desc, sql, type SQL } from 'drizzle-orm';
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
/** The longest search (`q`) a list takes: a picker's search is a prefix, never a document. */
export const MAX_SEARCH_LENGTH = 100;

/**
 * The condition "the lower-cased `column` starts with `text`", whatever its case: `like` on
 * `lower(column)`, which an index on `lower(column) text_pattern_ops` reads as one range. The
 * search's own `%`, `_` and `\` are escaped, so it is only ever a prefix. Longer than
 * MAX_SEARCH_LENGTH, or empty, is a VALIDATION_FAILED (the HTTP schema checks it too).
 */
export function startsWith(column: PgColumn, text: string): SQL {
  if (text.length === 0 || text.length > MAX_SEARCH_LENGTH) {
    throw invalid('q', `must be 1 to ${MAX_SEARCH_LENGTH} characters`);
  }
  const pattern = `${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  return sql`lower(${column}) like ${pattern}`;
}

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

/** How a key column's value is written in a cursor and read back into SQL. */
export type KeyKind = 'time' | 'text' | 'int';

/** One column of a list's sort key: the column, its kind, and the row property holding it. */
export interface KeyColumn<R> {
  /** A table's column, or a column of a query's own (`sql\`created_at\``). */
  readonly column: PgColumn | SQL;
  readonly kind: KeyKind;
  readonly value: (row: R) => Date | string | number | bigint;
}

const KEY_VALUE: Record<KeyKind, RegExp> = {
  time: /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/,
  text: /^[\s\S]{0,120}$/,
  int: /^-?\d{1,19}$/,
};

function keyText(value: Date | string | number | bigint): string {
  return value instanceof Date ? value.toISOString() : String(value);
}

function keySql(value: string, kind: KeyKind): SQL {
  if (kind === 'time') return sql`${value}::timestamptz`;
  if (kind === 'int') return sql`${value}::bigint`;
  return sql`${value}`;
}

/** The key values a cursor names; one not made for this list's key is a VALIDATION_FAILED. */
function decodeKey(cursor: string, kinds: readonly KeyKind[]): string[] {
  let values: unknown = null;
  if (/^[A-Za-z0-9_-]{1,400}$/.test(cursor)) {
    try {
      values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    } catch {
      values = null;
    }
  }
  const fits =
    Array.isArray(values) &&
    values.length === kinds.length &&
    values.every((v, i) => typeof v === 'string' && KEY_VALUE[kinds[i]!].test(v));
  if (!fits) throw invalid('cursor', 'is not a cursor this list gave (pass nextCursor unchanged)');
  return values as string[];
}

/**
 * Keyset pagination on any unique sort key (e.g. the audit log's seq, newest first; a wallet's
 * addresses by branch and index; jurisdictions by country), for lists whose order is not
 * (created_at, id). The key's columns are compared as one row value, so an index on them (after
 * any equality filters) serves the page whatever its depth. `page` turns the rows read (`read`
 * of them) into the page and its cursor: the last row's key values; `position` holds the
 * cursor's key values (null on the first page), for a list that sums the rows before its page.
 */
export function keysetOn<R>(
  key: readonly KeyColumn<R>[],
  direction: 'asc' | 'desc',
  request: PageRequest,
): {
  after: SQL | undefined;
  orderBy: SQL[];
  read: number;
  limit: number;
  position: string[] | null;
  page: <S extends R, T>(
    rows: readonly S[],
    view: (rows: readonly S[]) => T[] | Promise<T[]>,
  ) => Promise<Page<T>>;
} {
  const limit = pageSize(request);
  let after: SQL | undefined;
  let position: string[] | null = null;
  if (request.cursor) {
    const values = decodeKey(
      request.cursor,
      key.map((k) => k.kind),
    );
    const columns = sql.join(
      key.map((k) => sql`${k.column}`),
      sql`, `,
    );
    const at = sql.join(
      values.map((v, i) => keySql(v, key[i]!.kind)),
      sql`, `,
    );
    after = direction === 'desc' ? sql`(${columns}) < (${at})` : sql`(${columns}) > (${at})`;
    position = values;
  }
  const orderBy = key.map((k) => (direction === 'desc' ? desc(k.column) : asc(k.column)));
  const page = async <S extends R, T>(
    rows: readonly S[],
    view: (rows: readonly S[]) => T[] | Promise<T[]>,
  ): Promise<Page<T>> => {
    const shown = rows.slice(0, limit);
    const last = shown.at(-1);
    const cursor =
      rows.length > limit && last !== undefined
        ? Buffer.from(JSON.stringify(key.map((k) => keyText(k.value(last))))).toString('base64url')
        : null;
    return { items: await view(shown), nextCursor: cursor };
  };
  return { after, orderBy, read: limit + 1, limit, position, page };
}

import { useEffect, useRef } from 'react';
import { useSearchParams } from 'react-router';
import { Alert } from '@mantine/core';
import type { usePagedList } from './paging';
import { FOCUS_PARAM } from './focusLinks';

export { FOCUS_PARAM, legacyFocusRedirect } from './focusLinks';

type PagedList<T> = ReturnType<typeof usePagedList<T>>;

/**
 * The row a link asked for with `?id=<key>`: the list's next pages are loaded until the row is
 * there or the list ends. `row` is the row once loaded; `missing` is true when every page was
 * read without it. With `prefix`, only an id of that entity counts (a page with two lists).
 */
export function useFocusedRow<T>(
  list: PagedList<T>,
  rowKey: (row: T) => string,
  prefix?: string,
): { key: string | null; row: T | undefined; missing: boolean } {
  const [params] = useSearchParams();
  const asked = params.get(FOCUS_PARAM);
  const key = asked && (prefix === undefined || asked.startsWith(prefix)) ? asked : null;
  const rows = list.rows;
  const row = key ? rows?.find((r) => rowKey(r) === key) : undefined;
  const wanted = Boolean(key) && rows !== undefined && row === undefined;
  // One request per loaded length: the effect runs again only once a page has arrived.
  const askedAt = useRef(-1);
  const { hasMore, loadingMore, loadMore } = list;
  useEffect(() => {
    if (!wanted || !hasMore || loadingMore || rows === undefined) return;
    if (askedAt.current === rows.length) return;
    askedAt.current = rows.length;
    loadMore();
  }, [wanted, hasMore, loadingMore, loadMore, rows]);
  return { key, row, missing: wanted && !hasMore && !loadingMore };
}

/** Says that the item a link asked for is not in the list (another filter hides it, or it is gone). */
export function FocusMissing({ show, what }: { show: boolean; what: string }) {
  if (!show) return null;
  return (
    <Alert color="yellow" mb="sm" data-testid="focus-missing">
      The {what} the link points at is not in this list.
    </Alert>
  );
}

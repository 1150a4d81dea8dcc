import { useMemo } from 'react';
import { Button, Group, Text } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';

/** One page of a paged API list (`{ items, nextCursor }`). */
export interface ApiPage<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * A paged API list read a page at a time, newest first: `rows` holds every page loaded so far;
 * `loadMore` fetches the next while there is one. Invalidating `queryKey` reloads from the start.
 */
export function usePagedList<T>(
  queryKey: readonly unknown[],
  fetchPage: (cursor: string | undefined) => Promise<ApiPage<T>>,
) {
  const query = useInfiniteQuery({
    queryKey,
    queryFn: ({ pageParam }) => fetchPage(pageParam),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const rows = useMemo(() => query.data?.pages.flatMap((p) => p.items), [query.data]);
  return {
    rows,
    isPending: query.isPending,
    error: query.error,
    refetch: () => void query.refetch(),
    hasMore: query.hasNextPage,
    loadingMore: query.isFetchingNextPage,
    loadMore: () => void query.fetchNextPage(),
    /** When the rows were read (ms since the epoch; 0 before): what their ages are measured from. */
    loadedAt: query.dataUpdatedAt,
  };
}

/**
 * Every item of a paged API list, page after page of the largest size: only for a list bounded
 * by nature (one party's rows, the scheme's regions; say why where it is used). A picker over a
 * list that grows with use searches it (`SearchPicker`), and tables read a page at a time
 * (`usePagedList`).
 */
export async function allPages<T>(
  fetchPage: (cursor: string | undefined) => Promise<ApiPage<T>>,
): Promise<T[]> {
  const all: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor);
    all.push(...page.items);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return all;
}

/** Below a paged table: how many rows are loaded, and a button for the next page. */
export function LoadMore({ list }: { list: ReturnType<typeof usePagedList<unknown>> }) {
  if (!list.rows || !list.hasMore) return null;
  return (
    <Group justify="space-between" mt="xs">
      <Text size="sm" c="dimmed">
        {list.rows.length} loaded, newest first; sorting and filtering apply to the loaded rows.
      </Text>
      <Button variant="default" size="xs" loading={list.loadingMore} onClick={list.loadMore}>
        Load more
      </Button>
    </Group>
  );
}

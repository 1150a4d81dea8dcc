import { useMemo, useRef, useState, type ReactNode } from 'react';
import {
  Button,
  Group,
  Pagination,
  ScrollArea,
  Select,
  Table,
  Text,
  TextInput,
  UnstyledButton,
} from '@mantine/core';
import { downloadText, toCsv } from '../csv';
import { Empty, ErrorState, Loading } from './States';

export interface Column<Row> {
  key: string;
  header: string;
  /** What the cell shows; defaults to the text value. */
  render?: (row: Row) => ReactNode;
  /** The plain value used for sorting, filtering and CSV. */
  value: (row: Row) => string;
  /** How to compare values when sorting (default: text, or numeric when both parse as integers). */
  sortable?: boolean;
  align?: 'left' | 'right';
}

type Direction = 'asc' | 'desc';

function compare(a: string, b: string): number {
  if (/^-?\d+$/.test(a) && /^-?\d+$/.test(b)) {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  }
  return a.localeCompare(b);
}

/**
 * A table over rows already loaded: sorting, filtering and paging happen here, in the browser
 * (say so where the endpoint cannot do them), and CSV export takes every filtered row.
 * `mode="server"` leaves order and paging to the caller (the rows are one server page).
 * `focusKey` marks the row a link pointed at (`?id=`): the table turns to its page, scrolls it
 * into view and highlights it (`aria-current`).
 */
export function DataTable<Row>({
  caption,
  columns,
  rows,
  rowKey,
  loading,
  error,
  onRetry,
  empty = 'Nothing here yet.',
  csvName,
  mode = 'client',
  toolbar,
  onRowClick,
  focusKey,
}: {
  caption: string;
  columns: Column<Row>[];
  rows: Row[] | undefined;
  rowKey: (row: Row) => string;
  loading?: boolean;
  error?: unknown;
  onRetry?: () => void;
  empty?: ReactNode;
  csvName: string;
  mode?: 'client' | 'server';
  toolbar?: ReactNode;
  onRowClick?: (row: Row) => void;
  focusKey?: string | null;
}) {
  const [filter, setFilter] = useState('');
  const [sort, setSort] = useState<{ key: string; direction: Direction } | null>(null);
  // The page the user turned to, and the focused row it was turned with: a newly focused row's
  // page is shown until the user turns the page again (derived, not copied by an effect).
  const [chosenPage, setChosenPage] = useState<{ page: number; focusKey: string | null }>({
    page: 1,
    focusKey: null,
  });
  const setPage = (page: number) => setChosenPage({ page, focusKey: focusKey ?? null });
  const [pageSize, setPageSize] = useState('25');

  const filtered = useMemo(() => {
    const all = rows ?? [];
    if (mode === 'server') return all;
    const needle = filter.trim().toLowerCase();
    let result = needle
      ? all.filter((row) => columns.some((c) => c.value(row).toLowerCase().includes(needle)))
      : all;
    const column = sort ? columns.find((c) => c.key === sort.key) : undefined;
    if (sort && column) {
      result = [...result].sort((a, b) => {
        const order = compare(column.value(a), column.value(b));
        return sort.direction === 'asc' ? order : -order;
      });
    }
    return result;
  }, [rows, filter, sort, columns, mode]);

  const size = Number(pageSize);
  const pages = Math.max(1, Math.ceil(filtered.length / size));
  // The focused row's place among the filtered rows: the table shows its page, once.
  const focusIndex = focusKey ? filtered.findIndex((row) => rowKey(row) === focusKey) : -1;
  const page =
    mode === 'client' && focusKey && focusIndex >= 0 && chosenPage.focusKey !== focusKey
      ? Math.floor(focusIndex / size) + 1
      : chosenPage.page;
  const current = Math.min(page, pages);
  const visible =
    mode === 'server' ? filtered : filtered.slice((current - 1) * size, current * size);

  const scrolled = useRef<string | null>(null);
  const focusRef = (element: HTMLTableRowElement | null) => {
    if (!element || !focusKey || scrolled.current === focusKey) return;
    scrolled.current = focusKey;
    element.scrollIntoView({ block: 'center' });
  };

  const exportCsv = () =>
    downloadText(
      `${csvName}.csv`,
      toCsv(
        columns.map((c) => c.header),
        filtered.map((row) => columns.map((c) => c.value(row))),
      ),
    );

  const toggleSort = (key: string) => {
    setPage(1);
    setSort((previous) =>
      previous?.key !== key
        ? { key, direction: 'asc' }
        : previous.direction === 'asc'
          ? { key, direction: 'desc' }
          : null,
    );
  };

  return (
    <div>
      <Group justify="space-between" mb="sm" gap="sm">
        <Group gap="sm">
          {mode === 'client' && (
            <TextInput
              aria-label={`Filter ${caption}`}
              placeholder="Filter rows…"
              value={filter}
              onChange={(event) => {
                setFilter(event.currentTarget.value);
                setPage(1);
              }}
            />
          )}
          {toolbar}
        </Group>
        <Button variant="default" onClick={exportCsv} disabled={!filtered.length}>
          Export CSV
        </Button>
      </Group>
      {error ? (
        <ErrorState error={error} {...(onRetry ? { onRetry } : {})} />
      ) : loading ? (
        <Loading />
      ) : !filtered.length ? (
        <Empty>{filter ? 'No rows match the filter.' : empty}</Empty>
      ) : (
        // Focusable, so that a keyboard scrolls a table wider than a phone's screen.
        <ScrollArea viewportProps={{ tabIndex: 0 }}>
          <Table striped highlightOnHover={Boolean(onRowClick)} verticalSpacing="xs">
            <Table.Caption>{caption}</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                {columns.map((c) => {
                  const sorted = sort?.key === c.key ? sort.direction : null;
                  const sortable = mode === 'client' && c.sortable !== false;
                  return (
                    <Table.Th
                      key={c.key}
                      style={{ textAlign: c.align ?? 'left' }}
                      aria-sort={
                        sorted === 'asc'
                          ? 'ascending'
                          : sorted === 'desc'
                            ? 'descending'
                            : undefined
                      }
                    >
                      {sortable ? (
                        <UnstyledButton onClick={() => toggleSort(c.key)} fw={700} fz="sm">
                          {c.header} {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                        </UnstyledButton>
                      ) : (
                        c.header
                      )}
                    </Table.Th>
                  );
                })}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {visible.map((row) => {
                const focused = Boolean(focusKey) && rowKey(row) === focusKey;
                return (
                  <Table.Tr
                    key={rowKey(row)}
                    {...(focused
                      ? { ref: focusRef, 'aria-current': 'true' as const, 'data-focused': 'true' }
                      : {})}
                    {...(onRowClick ? { onClick: () => onRowClick(row) } : {})}
                    style={{
                      ...(onRowClick ? { cursor: 'pointer' } : {}),
                      ...(focused
                        ? {
                            outline: '2px solid var(--mantine-color-blue-filled)',
                            outlineOffset: '-2px',
                          }
                        : {}),
                    }}
                  >
                    {columns.map((c) => (
                      <Table.Td key={c.key} style={{ textAlign: c.align ?? 'left' }}>
                        {c.render ? c.render(row) : c.value(row)}
                      </Table.Td>
                    ))}
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        </ScrollArea>
      )}
      {mode === 'client' && filtered.length > 0 && (
        <Group justify="space-between" mt="sm">
          <Text size="sm">
            {filtered.length} row{filtered.length === 1 ? '' : 's'}
            {rows && filtered.length !== rows.length ? ` of ${rows.length}` : ''}
          </Text>
          <Group gap="sm">
            <Select
              aria-label="Rows per page"
              data={['10', '25', '50', '100']}
              value={pageSize}
              onChange={(value) => {
                setPageSize(value ?? '25');
                setPage(1);
              }}
              w={90}
              allowDeselect={false}
            />
            <Pagination
              total={pages}
              value={current}
              onChange={setPage}
              getControlProps={(control) => ({
                'aria-label':
                  control === 'previous'
                    ? 'Previous page'
                    : control === 'next'
                      ? 'Next page'
                      : control,
              })}
            />
          </Group>
        </Group>
      )}
    </div>
  );
}

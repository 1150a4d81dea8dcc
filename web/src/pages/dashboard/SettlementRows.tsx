import { useEffect, useRef, useState } from 'react';
import { Button, Code, Group, Paper, Select, Table, Title } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { countryName } from '../../components/countries';
import { NameCell } from '../../components/NameCell';
import { Empty, ErrorState, Loading } from '../../components/States';
import { downloadText, toCsv } from '../../csv';
import { formatBtc, formatDateTime, formatFiat } from '../../format';
import type { Drill, SettlementQuery } from './shared';

/** The settlements behind a chart point: filtered, sorted and paged by the server. */
export function SettlementRows({ drill, onClear }: { drill: Drill; onClear: () => void }) {
  // The rows open below the charts: bring them into view, or a click on the map seems to do nothing.
  // A block body, not an arrow's expression: newer browsers return a promise from scrollIntoView,
  // and an effect that returns anything but a function crashes React when it cleans up.
  const panel = useRef<HTMLDivElement>(null);
  useEffect(() => {
    panel.current?.scrollIntoView({ block: 'nearest', behavior: 'smooth' });
  }, []);
  const [sort, setSort] = useState<NonNullable<SettlementQuery['sort']>>('settledAt');
  const [order, setOrder] = useState<'asc' | 'desc'>('desc');
  const query: SettlementQuery = { ...drill, limit: 20, sort, order };
  const list = usePagedList(['settlement', query], async (cursor) =>
    unwrap(
      await api.GET('/v1/oversight/settlements', {
        params: { query: { ...query, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const items = list.rows;
  const label = Object.entries(drill)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${String(v)}`)
    .join(', ');
  const exportCsv = () => {
    downloadText(
      'settlements.csv',
      toCsv(
        [
          'id',
          'settledAt',
          'direction',
          'company',
          'counterparty',
          'country',
          'hsCode',
          'amountSats',
          'fiatMinor',
          'currency',
          'txid',
        ],
        (items ?? []).map((s) => [
          s.id,
          s.settledAt,
          s.direction,
          s.companyName,
          s.counterpartyName,
          s.country,
          s.hsCode,
          s.amountSats,
          s.fiatMinor,
          s.currency,
          s.txid,
        ]),
      ),
    );
  };
  return (
    <Paper withBorder p="md" data-testid="drilldown" ref={panel}>
      <Group justify="space-between" mb="sm">
        <Title order={2} size="h4">
          Settlements behind the chart: {label || 'all'}
        </Title>
        <Group gap="sm">
          <Select
            aria-label="Sort settlements by"
            data={[
              { value: 'settledAt', label: 'Settled at' },
              { value: 'amountSats', label: 'Amount (BTC)' },
              { value: 'fiatMinor', label: 'Amount (fiat)' },
              { value: 'country', label: 'Country' },
            ]}
            value={sort}
            onChange={(v) => v && setSort(v)}
            allowDeselect={false}
            w={160}
          />
          <Button variant="default" onClick={() => setOrder(order === 'asc' ? 'desc' : 'asc')}>
            {order === 'asc' ? 'Ascending' : 'Descending'}
          </Button>
          <Button variant="default" onClick={exportCsv} disabled={!items?.length}>
            Export CSV (loaded rows)
          </Button>
          <Button variant="default" onClick={onClear}>
            Close
          </Button>
        </Group>
      </Group>
      {list.isPending || !items ? (
        list.error ? (
          <ErrorState error={list.error} onRetry={list.refetch} />
        ) : (
          <Loading />
        )
      ) : list.error ? (
        <ErrorState error={list.error} onRetry={list.refetch} />
      ) : !items.length ? (
        <Empty>No settlements behind this point.</Empty>
      ) : (
        <>
          <Table.ScrollContainer minWidth={0}>
            <Table striped>
              <Table.Caption>
                Settlements ({items.length}
                {list.hasMore ? '+' : ''})
              </Table.Caption>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Settled</Table.Th>
                  <Table.Th>Direction</Table.Th>
                  <Table.Th>Company</Table.Th>
                  <Table.Th>Counterparty</Table.Th>
                  <Table.Th>Country</Table.Th>
                  <Table.Th>HS code</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>BTC</Table.Th>
                  <Table.Th style={{ textAlign: 'right' }}>Fiat</Table.Th>
                  <Table.Th>Transaction</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((s) => (
                  <Table.Tr key={s.id}>
                    <Table.Td>{formatDateTime(s.settledAt)}</Table.Td>
                    <Table.Td>{s.direction}</Table.Td>
                    <Table.Td>
                      <NameCell name={s.companyName} id={s.companyId} />
                    </Table.Td>
                    <Table.Td>
                      <NameCell name={s.counterpartyName} id={s.counterpartyId} />
                    </Table.Td>
                    <Table.Td title={s.country}>{countryName(s.country)}</Table.Td>
                    <Table.Td>{s.hsCode}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>{formatBtc(s.amountSats)}</Table.Td>
                    <Table.Td style={{ textAlign: 'right' }}>
                      {formatFiat(s.fiatMinor, s.currency)}
                    </Table.Td>
                    <Table.Td>
                      <Code>{s.txid.slice(0, 16)}…</Code>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
          <LoadMore list={list} />
        </>
      )}
    </Paper>
  );
}

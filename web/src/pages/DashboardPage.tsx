import type { ReactNode } from 'react';
import { useEffect, useMemo, useRef, useState } from 'react';
import { useNavigate } from 'react-router';
import {
  Badge,
  Button,
  Code,
  Grid,
  Group,
  Paper,
  Select,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import { LoadMore, usePagedList } from '../api/paging';
import type { components, paths } from '../api/schema';
import { DataTable } from '../components/DataTable';
import { banShading } from '../components/banShading';
import { EChart } from '../components/EChart';
import { WorldMap } from '../components/WorldMap';
import { Page } from '../components/Page';
import { NameCell } from '../components/NameCell';
import { Empty, ErrorState, Loading } from '../components/States';
import { downloadText, toCsv } from '../csv';
import { formatBtc, formatDateTime, formatFiat } from '../format';

type Dashboard = components['schemas']['OversightDashboard'];
type SettlementQuery = NonNullable<
  paths['/v1/oversight/settlements']['get']['parameters']['query']
>;
type Drill = Pick<SettlementQuery, 'country' | 'hsChapter' | 'month' | 'direction'>;

/** BTC for plotting only (a chart axis is a float); every figure shown as text stays exact. */
const plotBtc = (sats: string) => Number(BigInt(sats)) / 1e8;

function sumBy<T>(
  rows: T[],
  key: (row: T) => string,
  sats: (row: T) => string,
): [string, bigint][] {
  const totals = new Map<string, bigint>();
  for (const row of rows) totals.set(key(row), (totals.get(key(row)) ?? 0n) + BigInt(sats(row)));
  return [...totals].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
}

/** The settlements behind a chart point: filtered, sorted and paged by the server. */
function SettlementRows({ drill, onClear }: { drill: Drill; onClear: () => void }) {
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
                    <Table.Td>{s.country}</Table.Td>
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

function Charts({ data, onDrill }: { data: Dashboard; onDrill: (drill: Drill) => void }) {
  const navigate = useNavigate();
  const months = useMemo(
    () => [...new Set(data.settledByMonth.map((r) => r.month))].sort(),
    [data],
  );
  const volumeSeries = (['export', 'import'] as const).map((direction) => ({
    name: direction,
    type: 'bar' as const,
    stack: 'volume',
    data: months.map((m) =>
      plotBtc(
        data.settledByMonth
          .filter((r) => r.month === m && r.direction === direction)
          .reduce((s, r) => s + BigInt(r.sats), 0n)
          .toString(),
      ),
    ),
  }));
  const countries = sumBy(
    data.byCountry,
    (r) => r.country,
    (r) => r.sats,
  );
  const chapters = sumBy(
    data.byHsChapter,
    (r) => r.hsChapter,
    (r) => r.sats,
  );
  const regions = [...new Set(data.mining.byRegionMonth.map((r) => r.region))].sort();
  const miningMonths = [...new Set(data.mining.byRegionMonth.map((r) => r.month))].sort();
  const severities = [
    ...new Set(
      [...data.open.alertsBySeverity, ...data.open.casesBySeverity].map((r) => r.severity),
    ),
  ];
  const statuses = [...new Set(data.participantsByLicenceStatus.map((r) => r.status))];
  const kinds = [...new Set(data.participantsByLicenceStatus.map((r) => r.kind))];

  const panel = (title: string, hint: string, chart: ReactNode, span = 6) => (
    <Grid.Col span={{ base: 12, lg: span }}>
      <Paper withBorder p="md" h="100%">
        <Title order={2} size="h4">
          {title}
        </Title>
        <Text size="sm" mb="xs">
          {hint}
        </Text>
        {chart}
      </Paper>
    </Grid.Col>
  );

  return (
    <Grid>
      {panel(
        'Settled volume by month (BTC)',
        'Click a bar for the settlements behind it.',
        months.length ? (
          <EChart
            label="Stacked bar chart of settled BTC per month, exports and imports"
            option={{
              tooltip: { trigger: 'axis' },
              legend: {},
              xAxis: { type: 'category', data: months },
              yAxis: { type: 'value' },
              series: volumeSeries,
            }}
            onClick={(e) =>
              onDrill({
                month: e.name,
                ...(e.seriesName === 'export' || e.seriesName === 'import'
                  ? { direction: e.seriesName }
                  : {}),
              })
            }
          />
        ) : (
          <Empty>No settlements in this period.</Empty>
        ),
        8,
      )}
      {panel(
        'By HS chapter',
        'Harmonized System chapter of the goods. Click a bar.',
        chapters.length ? (
          <EChart
            label="Bar chart of settled BTC by HS chapter"
            option={{
              tooltip: {},
              xAxis: { type: 'category', data: chapters.map(([c]) => c) },
              yAxis: { type: 'value' },
              series: [
                { name: 'BTC', type: 'bar', data: chapters.map(([, s]) => plotBtc(s.toString())) },
              ],
            }}
            onClick={(e) => onDrill({ hsChapter: e.name })}
          />
        ) : (
          <Empty>No HS chapters yet.</Empty>
        ),
        4,
      )}
      {panel(
        'By partner country',
        'Settled volume by the partner’s country. Click a country on the map or a row of the table for the settlements behind it.',
        countries.length ? (
          <Grid>
            <Grid.Col span={{ base: 12, md: 8 }}>
              <WorldMap
                label="World map of settled BTC by partner country, darker for more; the table beside it lists the same figures"
                unit="BTC"
                values={countries.map(([c, s]) => ({
                  country: c,
                  value: plotBtc(s.toString()),
                  text: formatBtc(s),
                }))}
                onCountryClick={(country) => onDrill({ country })}
              />
            </Grid.Col>
            <Grid.Col span={{ base: 12, md: 4 }}>
              <DataTable
                caption="Settled volume by partner country"
                columns={[
                  { key: 'country', header: 'Country', value: ([c]: [string, bigint]) => c },
                  {
                    key: 'sats',
                    header: 'BTC',
                    value: ([, s]: [string, bigint]) => s.toString(),
                    render: ([, s]) => formatBtc(s),
                    align: 'right',
                  },
                ]}
                rows={countries}
                rowKey={([c]) => c}
                csvName="volume-by-country"
                onRowClick={([c]) => onDrill({ country: c })}
              />
            </Grid.Col>
          </Grid>
        ) : (
          <Empty>No partner countries yet.</Empty>
        ),
        12,
      )}
      {panel(
        'Mining output by region (BTC)',
        'Shaded: ban periods. Click a point for the region’s sites and bans.',
        miningMonths.length ? (
          <EChart
            label="Line chart of mining output per region and month with ban periods shaded"
            option={{
              tooltip: { trigger: 'axis' },
              legend: {},
              xAxis: { type: 'category', data: miningMonths },
              yAxis: { type: 'value' },
              series: regions.map((region, index) => ({
                name: region,
                type: 'line',
                data: miningMonths.map((m) =>
                  plotBtc(
                    data.mining.byRegionMonth.find((r) => r.region === region && r.month === m)
                      ?.sats ?? '0',
                  ),
                ),
                ...(index === 0
                  ? {
                      markArea: {
                        itemStyle: { color: 'rgba(250, 82, 82, 0.15)' },
                        data: banShading(data.mining.bans, miningMonths),
                      },
                    }
                  : {}),
              })),
            }}
            onClick={(e) =>
              e.seriesName && void navigate(`/mining?region=${encodeURIComponent(e.seriesName)}`)
            }
          />
        ) : (
          <Empty>No attributed mining output in this period.</Empty>
        ),
      )}
      {panel(
        'Open alerts and cases by severity',
        'Click a bar for the cases.',
        severities.length ? (
          <EChart
            label="Bar chart of open alerts and cases by severity"
            option={{
              tooltip: { trigger: 'axis' },
              legend: {},
              xAxis: { type: 'category', data: severities },
              yAxis: { type: 'value', minInterval: 1 },
              series: [
                {
                  name: 'Alerts',
                  type: 'bar',
                  data: severities.map(
                    (s) => data.open.alertsBySeverity.find((r) => r.severity === s)?.count ?? 0,
                  ),
                },
                {
                  name: 'Cases',
                  type: 'bar',
                  data: severities.map(
                    (s) => data.open.casesBySeverity.find((r) => r.severity === s)?.count ?? 0,
                  ),
                },
              ],
            }}
            onClick={() => void navigate('/compliance/cases')}
          />
        ) : (
          <Empty>No open alerts or cases.</Empty>
        ),
      )}
      {panel(
        'Participants by licence status',
        'Click a bar for the licences.',
        statuses.length ? (
          <EChart
            label="Stacked bar chart of licensed participants by status and kind"
            option={{
              tooltip: { trigger: 'axis' },
              legend: {},
              xAxis: { type: 'category', data: statuses },
              yAxis: { type: 'value', minInterval: 1 },
              series: kinds.map((kind) => ({
                name: kind,
                type: 'bar',
                stack: 'status',
                data: statuses.map(
                  (s) =>
                    data.participantsByLicenceStatus.find((r) => r.kind === kind && r.status === s)
                      ?.count ?? 0,
                ),
              })),
            }}
            onClick={(e) =>
              void navigate(`/registry/licences?status=${encodeURIComponent(e.name)}`)
            }
          />
        ) : (
          <Empty>No licences yet.</Empty>
        ),
      )}
    </Grid>
  );
}

/** The supervisor's dashboard (GET /v1/oversight/dashboard), every chart drilling down to rows. */
export function OversightDashboard() {
  const [period, setPeriod] = useState('');
  const [applied, setApplied] = useState('');
  const [drill, setDrill] = useState<Drill | null>(null);
  const dashboard = useQuery({
    queryKey: ['settlement', 'dashboard', applied],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/oversight/dashboard', {
          params: { query: applied ? { period: applied } : {} },
        }),
      ),
  });
  return (
    <>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setApplied(period.trim());
        }}
      >
        <Group align="flex-end">
          <TextInput
            label="Period"
            description="A month (2026-07), a quarter (2026-Q3) or a year; empty for all"
            value={period}
            onChange={(e) => setPeriod(e.currentTarget.value)}
          />
          <Button type="submit">Show</Button>
          {dashboard.data && (
            <Badge variant="light" color="gray">
              Generated {formatDateTime(dashboard.data.generatedAt)}
            </Badge>
          )}
        </Group>
      </form>
      {dashboard.isPending ? (
        <Loading />
      ) : dashboard.error ? (
        <ErrorState error={dashboard.error} onRetry={() => void dashboard.refetch()} />
      ) : (
        <Charts data={dashboard.data} onDrill={setDrill} />
      )}
      {drill && (
        <SettlementRows key={JSON.stringify(drill)} drill={drill} onClear={() => setDrill(null)} />
      )}
    </>
  );
}

export function DashboardPage() {
  return (
    <Page
      title="Supervisor dashboard"
      description="Trade settled in bitcoin, mining, alerts and licences across the scheme."
    >
      <OversightDashboard />
    </Page>
  );
}

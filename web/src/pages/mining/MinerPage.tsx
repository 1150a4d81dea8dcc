import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import { BanCalendar, monthOf } from '../../components/BanCalendar';
import { DataTable } from '../../components/DataTable';
import { EChart } from '../../components/EChart';
import { Page } from '../../components/Page';
import { Empty, ErrorState } from '../../components/States';
import { formatBtc, formatDateTime } from '../../format';
import {
  LotChip,
  regionLabel,
  useMonthBans,
  useRegions,
  useSiteNamesOf,
  useSitePages,
  useSiteRegions,
} from './shared';
import { violationColumns } from './ViolationsPage';

/** BTC for plotting only (a chart axis is a float); every figure shown as text stays exact. */
const plotBtc = (sats: string) => Number(BigInt(sats)) / 1e8;

/** The miner's output by month: a bar chart, and the same figures as a table. */
function OutputByMonth() {
  // `?month=` (the miner's home: output of a month) highlights that month.
  const [params] = useSearchParams();
  const stats = useQuery({
    queryKey: ['miningStatistics'],
    queryFn: async () => unwrap(await api.GET('/v1/mining/statistics')),
  });
  if (stats.error) return <ErrorState error={stats.error} onRetry={() => void stats.refetch()} />;
  // The first page carries the totals of every month (the rows' pages are not needed here).
  const months = stats.data?.totals?.byMonth ?? [];
  return (
    <Stack gap="xs">
      {months.length > 0 ? (
        <EChart
          label="Bar chart of your attributed output per month in BTC; the table below lists the same figures"
          height={260}
          option={{
            tooltip: { trigger: 'axis' },
            xAxis: { type: 'category', data: months.map((m) => m.key) },
            yAxis: { type: 'value', name: 'BTC' },
            series: [{ name: 'BTC', type: 'bar', data: months.map((m) => plotBtc(m.sats)) }],
          }}
        />
      ) : (
        !stats.isPending && <Empty>No attributed output yet.</Empty>
      )}
      <DataTable
        caption="Your output by month"
        rows={stats.data?.totals?.byMonth}
        rowKey={(m) => m.key}
        focusKey={params.get('month')}
        loading={stats.isPending}
        csvName="my-output-by-month"
        columns={[
          { key: 'month', header: 'Month', value: (m) => m.key },
          {
            key: 'btc',
            header: 'Output',
            value: (m) => m.sats,
            render: (m) => formatBtc(m.sats),
            align: 'right',
          },
          {
            key: 'fiat',
            header: `At the day's rate (${stats.data?.currency ?? 'USD'})`,
            value: (m) => m.fiat ?? '',
            render: (m) => m.fiat ?? '—',
            align: 'right',
          },
        ]}
      />
    </Stack>
  );
}

/**
 * The miner's own view: output by month, its sites, the clearing lots of its coinbase outputs,
 * the output it mined under a ban, and the ban calendar of its sites' regions.
 */
export function MinerPage() {
  const sites = useSitePages(['mine']);
  const regions = useRegions();
  const lots = usePagedList(['lot', 'mine'], async (cursor) =>
    unwrap(await api.GET('/v1/clearing/lots', { params: { query: cursor ? { cursor } : {} } })),
  );
  const violations = usePagedList(['miningViolation', 'mine'], async (cursor) =>
    unwrap(await api.GET('/v1/mining/violations', { params: { query: cursor ? { cursor } : {} } })),
  );
  // `?id=lot_…` or `?id=att_…` (the miner's home) highlights that lot or violation.
  const lotFocus = useFocusedRow(lots, (l) => l.id, 'lot_');
  const violationFocus = useFocusedRow(violations, (v) => v.attributionId, 'att_');
  const latest = violations.rows?.[0]?.blockTime;
  const [chosenMonth, setMonth] = useState<string | null>(null);
  // The month of the latest violation (its ban in force), until the miner picks another.
  const month = chosenMonth ?? (latest ? latest.slice(0, 7) : monthOf(new Date()));
  // The bans of the month shown (of every region; the calendar draws its sites' regions').
  const bans = useMonthBans(month);
  // The calendar's rows: the regions of every one of its sites, read from the server.
  const siteRegions = useSiteRegions();
  const myRegions = (siteRegions.data ?? []).map((r) => r.regionCode);
  const regionName = (code: string) => regions.data?.find((r) => r.code === code)?.name;
  // The lots' sites, named by the ids shown.
  const siteName = useSiteNamesOf((lots.rows ?? []).map((l) => l.siteId));
  return (
    <Page
      title="My mining"
      description="Your output by month, your sites, the clearing lots of your coinbase outputs, output mined under a ban, and the bans of your regions."
    >
      <Stack gap="lg">
        <div>
          <Title order={2} size="h4" mb="xs">
            Output by month
          </Title>
          <OutputByMonth />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Sites
          </Title>
          <DataTable
            caption="Your mining sites"
            rows={sites.rows}
            rowKey={(s) => s.id}
            loading={sites.isPending}
            error={sites.error}
            onRetry={sites.refetch}
            empty="No sites registered."
            csvName="my-mining-sites"
            columns={[
              { key: 'name', header: 'Site', value: (s) => s.name },
              {
                key: 'region',
                header: 'Region',
                value: (s) => regionLabel(s.regionCode, regionName(s.regionCode)),
              },
              {
                key: 'power',
                header: 'Power (MW)',
                value: (s) => s.powerCapacityMw,
                align: 'right',
              },
              {
                key: 'hashrate',
                header: 'Hashrate (TH/s)',
                value: (s) => s.declaredHashrateThs,
                align: 'right',
              },
              { key: 'since', header: 'Commissioned', value: (s) => s.commissioningDate },
            ]}
          />
          <LoadMore list={sites} />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Clearing lots
          </Title>
          <FocusMissing show={lotFocus.missing} what="lot" />
          <DataTable
            caption="Clearing lots of your coinbase outputs"
            rows={lots.rows}
            rowKey={(l) => l.id}
            loading={lots.isPending}
            error={lots.error}
            onRetry={lots.refetch}
            empty="No lots yet."
            csvName="my-lots"
            focusKey={lotFocus.key}
            columns={[
              {
                key: 'mined',
                header: 'Mined',
                value: (l) => l.blockTime,
                render: (l) => formatDateTime(l.blockTime),
              },
              { key: 'block', header: 'Block', value: (l) => String(l.height), align: 'right' },
              { key: 'site', header: 'Site', value: (l) => siteName(l.siteId) },
              {
                key: 'value',
                header: 'Value',
                value: (l) => l.valueSats,
                render: (l) => formatBtc(l.valueSats),
                align: 'right',
              },
              {
                key: 'status',
                header: 'Status',
                value: (l) => l.status,
                render: (l) => <LotChip lot={l} />,
              },
            ]}
          />
          <LoadMore list={lots} />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Output mined under a ban
          </Title>
          <FocusMissing show={violationFocus.missing} what="violation" />
          <DataTable
            caption="Your ban violations"
            rows={violations.rows}
            rowKey={(v) => v.attributionId}
            loading={violations.isPending}
            error={violations.error}
            onRetry={violations.refetch}
            empty="No output mined under a ban."
            csvName="my-violations"
            focusKey={violationFocus.key}
            // A miner follows no coins (provenance is the supervisor's): no links to the chain.
            columns={violationColumns().filter((c) => c.key !== 'provenance' && c.key !== 'block')}
          />
          <LoadMore list={violations} />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Ban calendar of your regions
          </Title>
          {bans.error || siteRegions.error ? (
            <ErrorState
              error={bans.error ?? siteRegions.error}
              onRetry={() => void Promise.all([bans.refetch(), siteRegions.refetch()])}
            />
          ) : (
            <BanCalendar
              bans={(bans.data ?? []).filter((b) => myRegions.includes(b.regionCode))}
              regions={myRegions.map((code) => ({ code, name: regionName(code) ?? code }))}
              month={month}
              onMonthChange={setMonth}
            />
          )}
        </div>
      </Stack>
    </Page>
  );
}

import { useSearchParams } from 'react-router';
import { Badge, Code, Stack, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DataTable } from '../components/DataTable';
import { Page } from '../components/Page';
import { formatDateTime } from '../format';

type Site = components['schemas']['MiningSite'];

/** Sites, the ban calendar and violations; `?region=` (from the dashboard) narrows to a region. */
export function MiningPage() {
  const [params] = useSearchParams();
  const region = params.get('region');
  const sites = useQuery({
    queryKey: ['miningSite'],
    queryFn: async () => unwrap(await api.GET('/v1/mining/sites')).sites,
  });
  const bans = useQuery({
    queryKey: ['miningBan', region],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/mining/bans', {
          params: { query: region ? { regionCode: region } : {} },
        }),
      ).bans,
  });
  const banRows = bans.data;
  const siteRows = region ? sites.data?.filter((s: Site) => s.regionCode === region) : sites.data;
  return (
    <Page
      title="Mining"
      description={`Registered sites and the regional ban calendar${region ? ` for region ${region}` : ''}. Filtered and sorted in the browser.`}
    >
      <Stack gap="lg">
        <div>
          <Title order={2} size="h4" mb="xs">
            Ban calendar
          </Title>
          <DataTable
            caption="Regional mining bans"
            rows={banRows}
            rowKey={(b) => b.id}
            loading={bans.isPending}
            error={bans.error}
            onRetry={() => void bans.refetch()}
            empty="No bans declared."
            csvName="mining-bans"
            columns={[
              { key: 'region', header: 'Region', value: (b) => b.regionCode },
              { key: 'kind', header: 'Kind', value: (b) => b.kind },
              { key: 'from', header: 'From', value: (b) => b.fromDate },
              { key: 'to', header: 'To', value: (b) => b.toDate },
              {
                key: 'window',
                header: 'Season / hours',
                value: (b) =>
                  [
                    b.season ? `${b.season.start}–${b.season.end}` : '',
                    b.daily ? `${b.daily.start}–${b.daily.end}` : '',
                  ]
                    .filter(Boolean)
                    .join(', '),
              },
              { key: 'reason', header: 'Reason', value: (b) => b.reason },
              {
                key: 'state',
                header: 'State',
                value: (b) => (b.liftedAt ? 'lifted' : 'in force'),
                render: (b) =>
                  b.liftedAt ? (
                    <Badge color="gray">lifted {formatDateTime(b.liftedAt)}</Badge>
                  ) : (
                    <Badge color="red">in force</Badge>
                  ),
              },
            ]}
          />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Sites
          </Title>
          <DataTable
            caption="Mining sites"
            rows={siteRows}
            rowKey={(s) => s.id}
            loading={sites.isPending}
            error={sites.error}
            onRetry={() => void sites.refetch()}
            empty="No sites registered."
            csvName="mining-sites"
            columns={[
              { key: 'name', header: 'Site', value: (s) => s.name },
              {
                key: 'miner',
                header: 'Miner',
                value: (s) => s.minerId,
                render: (s) => <Code>{s.minerId}</Code>,
              },
              { key: 'region', header: 'Region', value: (s) => s.regionCode },
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
              { key: 'pool', header: 'Pool', value: (s) => s.poolName ?? '' },
              { key: 'since', header: 'Commissioned', value: (s) => s.commissioningDate },
            ]}
          />
        </div>
      </Stack>
    </Page>
  );
}

import { useState } from 'react';
import { Link, useSearchParams } from 'react-router';
import { Anchor, Badge, Button, Group, Stack, Title } from '@mantine/core';
import { LoadMore } from '../../api/paging';
import { BanCalendar, monthOf } from '../../components/BanCalendar';
import { DataTable } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { ErrorState } from '../../components/States';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { DeclareBanForm, LiftBanDialog, type Ban } from './BanForms';
import { useNames } from '../clearing/shared';
import { useMonthBans, useRegions, useSitePages } from './shared';

/** Sites, the ban calendar and violations; `?region=` (from the dashboard) narrows to a region. */
export function MiningPage() {
  const user = useUser();
  const supervisor = user.role === 'supervisor';
  const [params] = useSearchParams();
  const region = params.get('region');
  const [month, setMonth] = useState(() => params.get('month') ?? monthOf(new Date()));
  const [lifting, setLifting] = useState<Ban | null>(null);
  // A page of sites at a time, of the region asked for (the server's filter).
  const sites = useSitePages(['all'], region);
  // The miners of the sites shown, named by their ids (licences, then participants).
  const minerNames = useNames((sites.rows ?? []).map((s) => s.minerId));
  const minerName = (id: string) => minerNames[id] ?? id;
  // The bans of the month shown (the calendar's and the table's).
  const bans = useMonthBans(month, region);
  const regions = useRegions();
  const banRows = bans.data;
  // The calendar's rows: every region of the scheme (or the one asked for), and any region a
  // ban names that the list lacks.
  const calendarRegions = [
    ...(regions.data ?? []),
    ...[...new Set((banRows ?? []).map((b) => b.regionCode))]
      .filter((code) => !regions.data?.some((r) => r.code === code))
      .map((code) => ({ code, name: code })),
  ].filter((r) => !region || r.code === region);
  return (
    <Page
      title="Mining"
      description={`Registered sites and the regional ban calendar${region ? ` for region ${region}` : ''}.${supervisor ? ' The supervisor declares and lifts bans here.' : ' Bans are declared by the supervisor.'} Tables are filtered and sorted in the browser.`}
    >
      <Stack gap="lg">
        <Group gap="md">
          {user.role === 'miner' ? (
            <Anchor component={Link} to="/mining/mine">
              My output, lots and violations
            </Anchor>
          ) : (
            <Anchor component={Link} to="/mining/violations">
              Ban violations
            </Anchor>
          )}
        </Group>
        {supervisor &&
          (regions.error ? (
            <ErrorState error={regions.error} onRetry={() => void regions.refetch()} />
          ) : (
            <DeclareBanForm
              regions={regions.data ?? []}
              onDeclared={(ban) => setMonth(ban.fromDate.slice(0, 7))}
            />
          ))}
        <div>
          <Title order={2} size="h4" mb="xs">
            Ban calendar
          </Title>
          {bans.error ? (
            <ErrorState error={bans.error} onRetry={() => void bans.refetch()} />
          ) : (
            <BanCalendar
              bans={banRows ?? []}
              regions={calendarRegions}
              month={month}
              onMonthChange={setMonth}
            />
          )}
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Declared bans
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
                    <Badge color="gray" title={b.liftReason ?? undefined}>
                      lifted {formatDateTime(b.liftedAt)}
                    </Badge>
                  ) : (
                    <Badge color="red">in force</Badge>
                  ),
              },
              ...(supervisor
                ? [
                    {
                      key: 'actions',
                      header: 'Actions',
                      sortable: false,
                      value: () => '',
                      render: (b: Ban) =>
                        b.liftedAt ? null : (
                          <Button
                            size="xs"
                            variant="light"
                            color="red"
                            onClick={() => setLifting(b)}
                            aria-label={`Lift the ${b.kind} ban on ${b.regionCode} from ${b.fromDate}`}
                          >
                            Lift
                          </Button>
                        ),
                    },
                  ]
                : []),
            ]}
          />
        </div>
        <div>
          <Title order={2} size="h4" mb="xs">
            Sites
          </Title>
          <DataTable
            caption="Mining sites"
            rows={sites.rows}
            rowKey={(s) => s.id}
            loading={sites.isPending}
            error={sites.error}
            onRetry={sites.refetch}
            empty="No sites registered."
            csvName="mining-sites"
            columns={[
              { key: 'name', header: 'Site', value: (s) => s.name },
              {
                key: 'miner',
                header: 'Miner',
                value: (s) => minerName(s.minerId),
                render: (s) => <span title={s.minerId}>{minerName(s.minerId)}</span>,
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
          <LoadMore list={sites} />
        </div>
      </Stack>
      {supervisor && <LiftBanDialog ban={lifting} onClose={() => setLifting(null)} />}
    </Page>
  );
}

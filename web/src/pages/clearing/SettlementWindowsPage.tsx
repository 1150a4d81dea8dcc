import { Link } from 'react-router';
import { Anchor, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { SettlementAddressPanel } from './SettlementAddressPanel';

type Window = components['schemas']['SettlementWindow'];

const when = (iso: string | null, otherwise = '—') => (iso ? formatDateTime(iso) : otherwise);

const COLUMNS: Column<Window>[] = [
  {
    key: 'sequence',
    header: 'Window',
    value: (w) => String(w.sequence),
    render: (w) => (
      <Anchor component={Link} to={`/clearing/windows/${w.id}`} title={w.id}>
        Window {w.sequence}
      </Anchor>
    ),
    align: 'right',
  },
  {
    key: 'status',
    header: 'Status',
    value: (w) => w.status,
    render: (w) => <StatusChip status={w.status} />,
  },
  { key: 'opens', header: 'Opened', value: (w) => w.opensAt, render: (w) => when(w.opensAt) },
  {
    key: 'cutoff',
    header: 'Cut-off',
    value: (w) => w.closedAt ?? w.closesAt ?? '',
    render: (w) => (w.closedAt ? `closed ${when(w.closedAt)}` : when(w.closesAt, 'none set')),
  },
  {
    key: 'deadline',
    header: 'Pay-in deadline',
    value: (w) => w.payInDeadline ?? '',
    render: (w) => when(w.payInDeadline),
  },
  {
    key: 'settled',
    header: 'Settled',
    value: (w) => w.settledAt ?? '',
    render: (w) => when(w.settledAt, 'not yet'),
  },
];

/** The schedule in force, in one sentence. */
function Schedule() {
  const schedule = useQuery({
    queryKey: ['settlement', 'schedule'],
    queryFn: async () => unwrap(await api.GET('/v1/settlement-schedule')),
  });
  const inForce = schedule.data?.inForce;
  if (!schedule.data) return null;
  return (
    <Text size="sm" data-testid="schedule">
      {inForce
        ? `A window closes every ${inForce.periodMinutes} minutes; net payers pay in within ${inForce.payInMinutes} minutes of the cut-off (schedule version ${inForce.version}).`
        : 'No schedule is in force: windows close only when the supervisor closes them.'}
    </Text>
  );
}

/**
 * Settlement windows between platforms: obligations accumulate in the open window; at its
 * cut-off each platform's multilateral net position is computed, net payers pay in and the
 * clearing pays net receivers. A platform officer sees its own platform's rows in each window,
 * and its platform's settlement address (active, pending, proposed on four eyes).
 */
export function SettlementWindowsPage() {
  const user = useUser();
  const windows = usePagedList(['settlement', 'windows'], async (cursor) =>
    unwrap(await api.GET('/v1/settlement-windows', { params: { query: { cursor } } })),
  );
  return (
    <Page
      title="Settlement windows"
      description="Domestic obligations between platforms, netted per window: at the cut-off each platform's net position in bitcoin and in each currency; net payers pay in, then the clearing pays net receivers. Newest first, a page at a time."
    >
      <Schedule />
      {user.role === 'platform' && <SettlementAddressPanel />}
      <DataTable
        caption="Settlement windows"
        columns={COLUMNS}
        rows={windows.rows}
        rowKey={(w) => w.id}
        loading={windows.isPending}
        error={windows.error}
        onRetry={windows.refetch}
        empty="No settlement window yet: one opens with the first obligation between platforms."
        csvName="settlement-windows"
      />
      <LoadMore list={windows} />
    </Page>
  );
}

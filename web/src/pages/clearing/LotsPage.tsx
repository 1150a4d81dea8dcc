import { useState } from 'react';
import { Link } from 'react-router';
import { Anchor, Select } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { NameCell } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { formatBtc, formatDateTime } from '../../format';
import { useUser } from '../../session';
import { shortId, useNames } from './shared';

type Lot = components['schemas']['ClearingLot'];
type LotStatus = Lot['status'];

const STATUSES: LotStatus[] = ['cleared', 'quarantined', 'released', 'spent'];

function lotColumns(names: Record<string, string>, showMiner: boolean): Column<Lot>[] {
  return [
    {
      key: 'lot',
      header: 'Lot',
      value: (l) => l.id,
      render: (l) => (
        <Anchor component={Link} to={`/clearing/lots/${l.id}`} title={l.id}>
          {shortId('Lot', l.id)}
        </Anchor>
      ),
    },
    ...(showMiner
      ? [
          {
            key: 'miner',
            header: 'Miner',
            value: (l: Lot) => names[l.minerId] ?? l.minerId,
            render: (l: Lot) => <NameCell name={names[l.minerId]} id={l.minerId} />,
          },
        ]
      : []),
    { key: 'region', header: 'Region', value: (l) => l.regionCode },
    { key: 'height', header: 'Block', value: (l) => String(l.height), align: 'right' },
    {
      key: 'mined',
      header: 'Mined',
      value: (l) => l.blockTime,
      render: (l) => formatDateTime(l.blockTime),
    },
    {
      key: 'value',
      header: 'Amount',
      value: (l) => l.valueSats,
      render: (l) => formatBtc(l.valueSats),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Status',
      value: (l) => l.status,
      render: (l) => <StatusChip status={l.status} />,
    },
    {
      key: 'why',
      header: 'Quarantined for',
      value: (l) => l.quarantineReason ?? '',
      render: (l) => l.quarantineReason ?? '—',
    },
  ];
}

/**
 * Lots of mined coins: a miner sees its own, the supervisor and auditors every miner's. Each
 * coinbase output attributed to a registered miner is a lot, cleared or quarantined at mining.
 */
export function LotsPage() {
  const user = useUser();
  const [status, setStatus] = useState<LotStatus | null>(null);
  const lots = usePagedList(['clearing', 'lots', status], async (cursor) =>
    unwrap(
      await api.GET('/v1/clearing/lots', {
        params: { query: { cursor, ...(status ? { status } : {}) } },
      }),
    ),
  );
  const names = useNames((lots.rows ?? []).map((l) => l.minerId));
  return (
    <Page
      title={user.role === 'miner' ? 'My lots of mined coins' : 'Lots of mined coins'}
      description="Every coinbase output attributed to a registered miner, with its origin and clearance: cleared coins may be sold on a market; quarantined ones (mined inside a ban or at an unregistered site) only once the supervisor releases them. Newest first, a page at a time."
    >
      <DataTable
        caption="Lots"
        columns={lotColumns(names, user.role !== 'miner')}
        rows={lots.rows}
        rowKey={(l) => l.id}
        loading={lots.isPending}
        error={lots.error}
        onRetry={lots.refetch}
        empty={
          status ? `No ${status} lots.` : 'No lots yet: none of the mined blocks is attributed.'
        }
        csvName="lots"
        toolbar={
          <Select
            aria-label="Lot status"
            placeholder="Any status"
            clearable
            data={STATUSES}
            value={status}
            onChange={(v) => setStatus(STATUSES.find((s) => s === v) ?? null)}
            w={160}
          />
        }
      />
      <LoadMore list={lots} />
    </Page>
  );
}

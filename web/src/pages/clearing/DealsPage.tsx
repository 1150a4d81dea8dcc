import { useState } from 'react';
import { Select, Stack, Text } from '@mantine/core';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { NameCell } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { formatBtc, formatDateTime } from '../../format';
import { fiat, ratePerBtc, shortId, useNames } from './shared';

export type Deal = components['schemas']['MarketDeal'];
type DealStatus = Deal['status'];

const STATUSES: DealStatus[] = [
  'awaitingPayment',
  'delivering',
  'delivered',
  'settled',
  'held',
  'unwound',
  'refunded',
];

/** The parties of the deals shown, whose names their columns show. */
export const dealParties = (deals: readonly Deal[] | undefined) =>
  (deals ?? []).flatMap((d) => [d.minerId, d.companyId]);

/** A deal's columns: its parties, its two legs (coins and fiat at the deal rate), its state. */
export function dealColumns(names: Record<string, string>): Column<Deal>[] {
  return [
    {
      key: 'deal',
      header: 'Deal',
      value: (d) => d.id,
      render: (d) => <span title={d.id}>{shortId('Deal', d.id)}</span>,
    },
    {
      key: 'miner',
      header: 'Miner',
      value: (d) => names[d.minerId] ?? d.minerId,
      render: (d) => <NameCell name={names[d.minerId]} id={d.minerId} />,
    },
    {
      key: 'importer',
      header: 'Importer',
      value: (d) => names[d.companyId] ?? d.companyId,
      render: (d) => <NameCell name={names[d.companyId]} id={d.companyId} />,
    },
    {
      key: 'coins',
      header: 'Coins',
      value: (d) => d.amountSats,
      render: (d) => formatBtc(d.amountSats),
      align: 'right',
    },
    {
      key: 'fiat',
      header: 'Fiat leg',
      value: (d) => d.fiatMinor,
      render: (d) => (
        <Stack gap={0} align="flex-end">
          <Text size="sm">{fiat(d.fiatMinor, d.currency)}</Text>
          <Text
            size="xs"
            title={d.fixingId ? `fixing ${d.fixingId}` : "live rate, before the day's fixing"}
          >
            at {ratePerBtc(d.dealRate, d.currency)}
          </Text>
        </Stack>
      ),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Status',
      value: (d) => `${d.status} ${d.heldFrom ?? ''}`,
      render: (d) => (
        <Stack gap={2}>
          <StatusChip status={d.status} />
          {d.heldFrom && (
            <Text size="xs">
              {d.heldFrom === 'delivering'
                ? 'the network refused its delivery'
                : 'its checks failed at the confirmation'}
            </Text>
          )}
        </Stack>
      ),
    },
    {
      key: 'deadline',
      header: 'Fiat due by',
      value: (d) => d.deadline,
      render: (d) => formatDateTime(d.deadline),
    },
    {
      key: 'created',
      header: 'Matched',
      value: (d) => d.createdAt,
      render: (d) => formatDateTime(d.createdAt),
    },
  ];
}

/** Deals the caller is party to (miner, importer, platform); the supervisor and auditors all. */
export function DealsPage() {
  const [status, setStatus] = useState<DealStatus | null>(null);
  const deals = usePagedList(['market', 'deals', status], async (cursor) =>
    unwrap(
      await api.GET('/v1/market/deals', {
        params: { query: { cursor, ...(status ? { status } : {}) } },
      }),
    ),
  );
  const names = useNames(dealParties(deals.rows));
  return (
    <Page
      title="Deals of mined coins"
      description="A deal matches an importer's bid against a miner's funded offer at the day's reference-rate fixing plus the market's spread. The coins leave escrow only once the fiat leg is confirmed (delivery versus payment); a deal not paid by its deadline is unwound. Newest first, a page at a time."
    >
      <DataTable
        caption="Deals"
        columns={dealColumns(names)}
        rows={deals.rows}
        rowKey={(d) => d.id}
        loading={deals.isPending}
        error={deals.error}
        onRetry={deals.refetch}
        empty={status ? `No deals ${status}.` : 'No deals yet.'}
        csvName="deals"
        toolbar={
          <Select
            aria-label="Deal status"
            placeholder="Any status"
            clearable
            data={STATUSES}
            value={status}
            onChange={(v) => setStatus(STATUSES.find((s) => s === v) ?? null)}
            w={180}
          />
        }
      />
      <LoadMore list={deals} />
    </Page>
  );
}

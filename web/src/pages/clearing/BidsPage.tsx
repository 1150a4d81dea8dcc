import { useState } from 'react';
import { Button, Group, Paper, SimpleGrid, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { NameCell } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { formatBtc, formatDateTime } from '../../format';
import { useUser } from '../../session';
import { parseBtc } from '../../../../src/kernel/money';
import { ContractPicker } from '../trade/shared';
import { MarketTerms } from './OffersPage';
import { MarketPicker, shortId, useNames } from './shared';

type Bid = components['schemas']['MarketBid'];

/**
 * An importer bids for cleared coins to pay one of its active import contracts. The market's
 * platform matches the bid against a funded offer (a deal); the importer pays the fiat leg and
 * the coins are delivered to its wallet against that payment.
 */
function BidForm() {
  const user = useUser();
  const queryClient = useQueryClient();
  // A company sees no licences: its own platform's market is offered by name or as such.
  const own = user.platformId;
  const names = useNames([own]);
  const ownMarket = own ? [{ id: own, name: names[own] ?? 'Your platform' }] : [];
  const [platformId, setPlatformId] = useState<string | null>(user.platformId);
  const [contractId, setContractId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const bid = useMutation({
    mutationFn: async (amountSats: string) =>
      unwrap(
        await api.POST('/v1/market/bids', {
          body: { platformId: platformId ?? '', contractId: contractId ?? '', amountSats },
        }),
      ),
    onSuccess: () => {
      setAmount('');
      void queryClient.invalidateQueries({ queryKey: ['market', 'bids'] });
    },
  });
  const submit = () => {
    bid.reset();
    const found: Record<string, string> = {};
    if (!platformId) found.platformId = 'pick the market';
    if (!contractId) found.contractId = 'pick the import contract';
    let sats: bigint | null = null;
    try {
      sats = parseBtc(amount);
      if (sats <= 0n) found.amountSats = 'must be greater than zero';
    } catch (e) {
      found.amountSats = e instanceof Error ? e.message.replace(/^amount: /, '') : String(e);
    }
    setProblems(found);
    if (Object.keys(found).length === 0 && sats !== null) bid.mutate(sats.toString());
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Bid for cleared coins
      </Title>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
      >
        <SimpleGrid cols={{ base: 1, md: 4 }}>
          <MarketPicker
            label="Market"
            placeholder="Type the start of the platform's name"
            extras={ownMarket}
            value={platformId}
            onChange={setPlatformId}
            error={problems.platformId ?? fieldErrorOf(bid.error, 'platformId')}
          />
          <ContractPicker
            label="Import contract"
            placeholder="Type the start of the goods"
            direction="import"
            value={contractId}
            onChange={(picked) => setContractId(picked?.id ?? null)}
            error={problems.contractId ?? fieldErrorOf(bid.error, 'contractId')}
          />
          <TextInput
            label="Amount"
            description="In BTC, e.g. 0.1"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={problems.amountSats ?? fieldErrorOf(bid.error, 'amountSats')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={bid.isPending}>
              Place bid
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      <MarketTerms platformId={platformId} />
      <FormError error={bid.error} />
      {bid.data && (
        <Text mt="sm" data-testid="bid-placed">
          Bid for {formatBtc(bid.data.amountSats)} placed; the market matches it against a funded
          offer.
        </Text>
      )}
    </Paper>
  );
}

/** Importers' bids: a company's own, a market's and its importers', or all. */
export function BidsPage() {
  const user = useUser();
  const bids = usePagedList(['market', 'bids'], async (cursor) =>
    unwrap(await api.GET('/v1/market/bids', { params: { query: { cursor } } })),
  );
  const names = useNames((bids.rows ?? []).flatMap((b) => [b.platformId, b.companyId]));
  const columns: Column<Bid>[] = [
    {
      key: 'bid',
      header: 'Bid',
      value: (b) => b.id,
      render: (b) => <span title={b.id}>{shortId('Bid', b.id)}</span>,
    },
    {
      key: 'market',
      header: 'Market',
      value: (b) => names[b.platformId] ?? b.platformId,
      render: (b) => <NameCell name={names[b.platformId]} id={b.platformId} />,
    },
    {
      key: 'company',
      header: 'Importer',
      value: (b) => b.companyId,
      render: (b) => <NameCell name={names[b.companyId]} id={b.companyId} />,
    },
    {
      key: 'amount',
      header: 'Amount',
      value: (b) => b.amountSats,
      render: (b) => formatBtc(b.amountSats),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Status',
      value: (b) => b.status,
      render: (b) => <StatusChip status={b.status} />,
    },
    {
      key: 'created',
      header: 'Placed',
      value: (b) => b.createdAt,
      render: (b) => formatDateTime(b.createdAt),
    },
  ];
  return (
    <Page
      title="Bids for cleared coins"
      description="Importers with an active import contract bid for cleared coins on a platform's market, at the reference rate plus the market's spread. Newest first, a page at a time."
    >
      {user.role === 'company' && <BidForm />}
      <DataTable
        caption="Bids"
        columns={columns}
        rows={bids.rows}
        rowKey={(b) => b.id}
        loading={bids.isPending}
        error={bids.error}
        onRetry={bids.refetch}
        empty="No bids yet."
        csvName="bids"
      />
      <LoadMore list={bids} />
    </Page>
  );
}

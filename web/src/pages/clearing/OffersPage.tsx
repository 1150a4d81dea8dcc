import { useState } from 'react';
import {
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { NameCell } from '../../components/NameCell';
import { PICKER_PAGE, SearchPicker, type SearchPickerProps } from '../../components/SearchPicker';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { formatBtc, formatDateTime } from '../../format';
import { useUser } from '../../session';
import { parseBtc } from '../../../../src/kernel/money';
import { SitePicker } from '../mining/shared';
import { MarketPicker, shortId, useNames } from './shared';

type Offer = components['schemas']['MarketOffer'];

type Lot = components['schemas']['ClearingLot'];

/**
 * A picker of the miner's lots that may be sold, cleared or released by the supervisor (not
 * spent), of the site picked: one page of the server's matches (`status=cleared,released`,
 * `siteId=`, and `q=`: a block height, or the start of the lot's id), the newest before
 * anything is typed, so a miner with many lots finds any of them without the form reading them
 * all.
 */
function SellableLotPicker({
  siteId,
  onChange,
  ...props
}: {
  siteId: string | null;
  onChange: (id: string | null) => void;
} & Omit<
  SearchPickerProps<Lot>,
  'queryKey' | 'search' | 'idOf' | 'labelOf' | 'onChange' | 'nothingFound'
>) {
  return (
    <SearchPicker
      {...props}
      // A new site is a new list: the picker starts again from its newest lots.
      key={siteId ?? 'every site'}
      queryKey={['clearing', 'lots', 'sellable', siteId]}
      search={async (q) =>
        unwrap(
          await api.GET('/v1/clearing/lots', {
            params: {
              query: {
                status: 'cleared,released',
                ...(siteId ? { siteId } : {}),
                // A label picked and edited starts with "Block": search its height then.
                ...(q ? { q: /^block \d+/i.test(q) ? (/\d+/.exec(q)?.[0] ?? q) : q } : {}),
                limit: PICKER_PAGE,
              },
            },
          }),
        ).items
      }
      idOf={(l) => l.id}
      labelOf={(l) =>
        `Block ${l.height} · ${formatBtc(l.valueSats)} · ${l.clearance} · …${l.id.slice(-6)}`
      }
      onChange={(id) => onChange(id)}
      nothingFound="No sellable lot in that block or with an id starting so"
    />
  );
}

/** The market's terms, as every participant may read them (404: the platform runs no market). */
export function MarketTerms({ platformId }: { platformId: string | null }) {
  const terms = useQuery({
    queryKey: ['market', 'settings', platformId],
    enabled: platformId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/market/settings/{platformId}', {
          params: { path: { platformId: platformId ?? '' } },
        }),
      ),
  });
  if (!platformId) return null;
  if (terms.isPending) return <Text size="sm">Reading the market’s terms…</Text>;
  if (terms.error) return <Text size="sm">{terms.error.message}</Text>;
  const t = terms.data;
  return (
    <Text size="sm" data-testid="market-terms">
      Priced in {t.currency} at the reference rate plus {t.spreadBasisPoints} basis points; the fiat
      leg is due within {Math.round(t.deadlineSeconds / 60)} minutes of a match.
    </Text>
  );
}

/**
 * The miner's offer: the market picked among every platform that runs one (`/v1/markets`), the
 * lot among its sellable lots (of the site picked, searched by block height or id).
 */
function PostOfferForm() {
  const queryClient = useQueryClient();
  const [siteId, setSiteId] = useState<string | null>(null);
  const [platformId, setPlatformId] = useState<string | null>(null);
  const [lotId, setLotId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const post = useMutation({
    mutationFn: async (amountSats: string) =>
      unwrap(
        await api.POST('/v1/market/offers', {
          body: { platformId: platformId ?? '', lotId: lotId ?? '', amountSats },
        }),
      ),
    onSuccess: () => {
      setAmount('');
      void queryClient.invalidateQueries({ queryKey: ['market', 'offers'] });
    },
  });
  const submit = () => {
    post.reset();
    const found: Record<string, string> = {};
    if (!platformId) found.platformId = 'pick the market';
    if (!lotId) found.lotId = 'pick the lot';
    let sats: bigint | null = null;
    try {
      sats = parseBtc(amount);
      if (sats <= 0n) found.amountSats = 'must be greater than zero';
    } catch (e) {
      found.amountSats = e instanceof Error ? e.message.replace(/^amount: /, '') : String(e);
    }
    setProblems(found);
    if (Object.keys(found).length === 0 && sats !== null) post.mutate(sats.toString());
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Offer coins of a lot
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
            value={platformId}
            onChange={setPlatformId}
            error={problems.platformId ?? fieldErrorOf(post.error, 'platformId')}
          />
          <Stack gap={4}>
            <SitePicker
              label="Site"
              description="Narrows the lots to one site's"
              placeholder="Type the start of the site's name"
              value={siteId}
              onChange={(id) => {
                setSiteId(id);
                setLotId(null);
              }}
              clearable
            />
            <SellableLotPicker
              label="Lot"
              description="Type a block height or the start of the lot's id"
              placeholder="Pick a lot"
              siteId={siteId}
              value={lotId}
              onChange={setLotId}
              error={problems.lotId ?? fieldErrorOf(post.error, 'lotId')}
            />
          </Stack>
          <TextInput
            label="Amount"
            description="In BTC, e.g. 0.5"
            inputMode="decimal"
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={problems.amountSats ?? fieldErrorOf(post.error, 'amountSats')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={post.isPending}>
              Post offer
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      <MarketTerms platformId={platformId} />
      <FormError error={post.error} />
      {post.data && (
        <Text mt="sm" data-testid="offer-posted">
          Offer of {formatBtc(post.data.amountSats)} posted. Deposit the coins to its escrow address{' '}
          <Code>{post.data.escrowAddress}</Code>; it opens for matching once the deposit is
          confirmed.
        </Text>
      )}
    </Paper>
  );
}

function WithdrawButton({ offer }: { offer: Offer }) {
  const queryClient = useQueryClient();
  const withdraw = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/market/offers/{id}/withdraw', { params: { path: { id: offer.id } } }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['market', 'offers'] }),
  });
  return (
    <>
      <Button
        size="compact-sm"
        variant="light"
        loading={withdraw.isPending}
        onClick={() => withdraw.mutate()}
        aria-label={`Withdraw ${shortId('offer', offer.id)}`}
      >
        Withdraw
      </Button>
      {withdraw.error && (
        <Text size="xs" c="red.9" role="alert">
          {withdraw.error.message}
        </Text>
      )}
    </>
  );
}

/** Offers of mined coins: a miner's own (it posts and withdraws them), a market's, or all. */
export function OffersPage() {
  const user = useUser();
  const offers = usePagedList(['market', 'offers'], async (cursor) =>
    unwrap(await api.GET('/v1/market/offers', { params: { query: { cursor } } })),
  );
  const names = useNames((offers.rows ?? []).flatMap((o) => [o.platformId, o.minerId]));
  const columns: Column<Offer>[] = [
    {
      key: 'offer',
      header: 'Offer',
      value: (o) => o.id,
      render: (o) => <span title={o.id}>{shortId('Offer', o.id)}</span>,
    },
    {
      key: 'market',
      header: 'Market',
      value: (o) => names[o.platformId] ?? o.platformId,
      render: (o) => <NameCell name={names[o.platformId]} id={o.platformId} />,
    },
    ...(user.role === 'miner'
      ? []
      : [
          {
            key: 'miner',
            header: 'Miner',
            value: (o: Offer) => names[o.minerId] ?? o.minerId,
            render: (o: Offer) => <NameCell name={names[o.minerId]} id={o.minerId} />,
          },
        ]),
    {
      key: 'amount',
      header: 'Offered',
      value: (o) => o.amountSats,
      render: (o) => formatBtc(o.amountSats),
      align: 'right',
    },
    {
      key: 'available',
      header: 'Available',
      value: (o) => o.availableSats,
      render: (o) => formatBtc(o.availableSats),
      align: 'right',
    },
    {
      key: 'status',
      header: 'Status',
      value: (o) => o.status,
      render: (o) => <StatusChip status={o.status} />,
    },
    {
      key: 'escrow',
      header: 'Escrow address',
      value: (o) => o.escrowAddress,
      render: (o) => <Code style={{ wordBreak: 'break-all' }}>{o.escrowAddress}</Code>,
    },
    {
      key: 'created',
      header: 'Posted',
      value: (o) => o.createdAt,
      render: (o) => formatDateTime(o.createdAt),
    },
  ];
  if (user.role === 'miner')
    columns.push({
      key: 'action',
      header: 'Action',
      value: () => '',
      sortable: false,
      render: (o) =>
        o.status === 'open' || o.status === 'awaitingDeposit' ? <WithdrawButton offer={o} /> : null,
    });
  return (
    <Page
      title="Offers of mined coins"
      description="A miner offers coins of a cleared lot on a platform's market and deposits them into the offer's escrow; the platform matches importers' bids against funded offers. Withdrawing returns what the escrow holds to the miner. Newest first, a page at a time."
    >
      {user.role === 'miner' && <PostOfferForm />}
      <DataTable
        caption="Offers"
        columns={columns}
        rows={offers.rows}
        rowKey={(o) => o.id}
        loading={offers.isPending}
        error={offers.error}
        onRetry={offers.refetch}
        empty="No offers yet."
        csvName="offers"
      />
      <LoadMore list={offers} />
    </Page>
  );
}

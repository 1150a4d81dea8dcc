import { useState } from 'react';
import { Button, Group, Paper, Stack, Text, TextInput, Title } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client';
import { useParticipantsOf } from '../../api/names';
import { LoadMore, usePagedList } from '../../api/paging';
import type { paths } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { NameCell, TransferLink } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { ParticipantPicker } from '../../components/ParticipantPicker';
import { ErrorState, Loading } from '../../components/States';
import { formatBtc, formatDateTime, formatFiat } from '../../format';
import { useUser } from '../../session';

type Statement =
  paths['/v1/ledger/statements/{participantId}']['get']['responses'][200]['content']['application/json'];
type StatementLine = Statement['items'][number];
type Balance =
  paths['/v1/ledger/balances']['get']['responses'][200]['content']['application/json']['items'][number];

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function StatementsPage() {
  const user = useUser();
  // One row per ledger account: a page at a time, by account id.
  const balances = usePagedList(['ledger', 'balances'], async (cursor) =>
    unwrap(await api.GET('/v1/ledger/balances', { params: { query: { cursor } } })),
  );
  const [participantId, setParticipantId] = useState<string | null>(
    user.role === 'company' ? user.participantId : null,
  );
  // The last 30 days by default, the clock read once, when the page opens.
  const [from, setFrom] = useState(() => isoDay(new Date(Date.now() - 30 * 86_400_000)));
  const [to, setTo] = useState(() => isoDay(new Date(Date.now() + 86_400_000)));
  // The period's totals come with every page; the lines a page at a time, the running balance
  // carried across pages by the server.
  const statement = useInfiniteQuery({
    queryKey: ['ledger', 'statement', participantId, from, to],
    enabled: participantId !== null && from !== '' && to !== '',
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last: Statement) => last.nextCursor ?? undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/v1/ledger/statements/{participantId}', {
          params: {
            path: { participantId: participantId ?? '' },
            query: {
              from: new Date(`${from}T00:00:00Z`).toISOString(),
              to: new Date(`${to}T00:00:00Z`).toISOString(),
              ...(pageParam ? { cursor: pageParam } : {}),
            },
          },
        }),
      ),
  });
  // Names for the ids the page shows, looked up by id among the participants the caller sees,
  // and the platforms they name.
  const shown = useParticipantsOf(
    (balances.rows ?? []).flatMap((a) => [a.participantId, a.platformId]),
  );
  const nameOf = (id: string) =>
    shown?.find((p) => p.id === id)?.legalName ??
    shown?.find((p) => p.platformId === id)?.platformName ??
    null;
  const balanceColumns: Column<Balance>[] = [
    {
      key: 'participant',
      header: 'Participant',
      value: (a) => nameOf(a.participantId) ?? a.participantId,
      render: (a) => <NameCell name={nameOf(a.participantId)} id={a.participantId} />,
    },
    { key: 'purpose', header: 'Account', value: (a) => a.purpose },
    {
      key: 'platform',
      header: 'Platform',
      value: (a) => (a.platformId ? (nameOf(a.platformId) ?? a.platformId) : ''),
      render: (a) =>
        a.platformId ? <NameCell name={nameOf(a.platformId)} id={a.platformId} /> : '—',
    },
    {
      key: 'balance',
      header: 'Balance',
      align: 'right',
      value: (a) => a.balanceSats,
      render: (a) => formatBtc(a.balanceSats),
    },
  ];
  const lineColumns: Column<StatementLine>[] = [
    { key: 'at', header: 'Date', value: (l) => l.at, render: (l) => formatDateTime(l.at) },
    { key: 'kind', header: 'Kind', value: (l) => l.kind },
    {
      key: 'reference',
      header: 'Reference',
      value: (l) => l.reference,
      // A settlement's reference is the invoice or payout it settled: a link to it.
      render: (l) =>
        /^(inv|pay)_/.test(l.reference) ? <TransferLink id={l.reference} /> : l.reference,
    },
    {
      key: 'amount',
      header: 'Amount',
      align: 'right',
      value: (l) => l.amountSats,
      render: (l) => formatBtc(l.amountSats),
    },
    {
      key: 'fiat',
      header: 'Fiat at the time',
      align: 'right',
      value: (l) => l.fiatMinor ?? '',
      render: (l) =>
        l.fiatMinor && l.fiatCurrency ? formatFiat(l.fiatMinor, l.fiatCurrency) : '—',
    },
    {
      key: 'balance',
      header: 'Balance',
      align: 'right',
      value: (l) => l.balanceSats,
      render: (l) => formatBtc(l.balanceSats),
    },
  ];
  const s = statement.data?.pages[0];
  const lines = statement.data?.pages.flatMap((p) => p.items);
  return (
    <Page
      title="Settlements"
      description="Ledger balances and statements of client funds (sats; positive is a debit balance)."
    >
      <DataTable
        caption="Ledger balances"
        columns={balanceColumns}
        rows={balances.rows}
        rowKey={(a) => a.accountId}
        loading={balances.isPending}
        error={balances.error}
        onRetry={() => void balances.refetch()}
        empty="No ledger accounts yet: nothing has settled."
        csvName="ledger-balances"
      />
      <LoadMore list={balances} />
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Statement
        </Title>
        <Group align="flex-end" mb="sm">
          {user.role !== 'company' && (
            // Searches the companies the caller sees by the name's prefix (one page of matches),
            // never every page of them.
            <ParticipantPicker
              label="Company"
              kind="company"
              value={participantId}
              onChange={setParticipantId}
            />
          )}
          <TextInput
            label="From"
            type="date"
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            label="To"
            type="date"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
        </Group>
        {participantId === null ? (
          <Text>Choose a company.</Text>
        ) : statement.error instanceof ApiError && statement.error.status === 404 ? (
          // The ledger opens a company's client-funds account at its first settlement.
          <Text data-testid="statement-empty">
            Nothing has settled for {participantId} yet: it has no client-funds account.
          </Text>
        ) : statement.error ? (
          <ErrorState error={statement.error} onRetry={() => void statement.refetch()} />
        ) : !s ? (
          <Loading />
        ) : (
          <Stack gap="sm">
            <Group gap="xl" data-testid="statement-totals">
              <Text>Opening {formatBtc(s.openingSats)}</Text>
              <Text>Debits {formatBtc(s.debitsSats)}</Text>
              <Text>Credits {formatBtc(s.creditsSats)}</Text>
              <Text fw={700}>Closing {formatBtc(s.closingSats)}</Text>
            </Group>
            <DataTable
              caption={`Statement of ${s.participantId}`}
              columns={lineColumns}
              rows={lines}
              rowKey={(l) => `${l.transactionId}:${l.kind}:${l.at}`}
              empty="No movements in the period."
              csvName={`statement-${s.participantId}-${from}-${to}`}
            />
            {statement.hasNextPage && (
              <Group justify="space-between">
                <Text size="sm" c="dimmed">
                  {lines?.length ?? 0} lines loaded, oldest first.
                </Text>
                <Button
                  variant="default"
                  size="xs"
                  loading={statement.isFetchingNextPage}
                  onClick={() => void statement.fetchNextPage()}
                >
                  Load more
                </Button>
              </Group>
            )}
          </Stack>
        )}
      </Paper>
    </Page>
  );
}

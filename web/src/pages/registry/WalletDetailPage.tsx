/*
 * One wallet: its descriptor and its addresses, used and next. WalletDetailPage runs past 60
 * lines (one page's JSX over two queries), kept whole.
 */
import { useState } from 'react';
import { Link, useParams } from 'react-router';
import { Anchor, Badge, Button, Code, Group, Paper, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { useParticipantNames } from './shared';

interface AddressRow {
  branch: 'receive' | 'change';
  index: number;
  address: string;
  used: boolean;
  purpose: string;
  usedAt: string;
}

/** One wallet: its descriptor, the addresses handed out (used) and the next ones (unused). */
export function WalletDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const queryClient = useQueryClient();
  const [purpose, setPurpose] = useState('');
  const wallet = useQuery({
    queryKey: ['wallet', id],
    queryFn: async () => unwrap(await api.GET('/v1/wallets/{id}', { params: { path: { id } } })),
  });
  const nameOf = useParticipantNames([wallet.data?.companyId, wallet.data?.platformId]);
  // The addresses handed out, a page at a time (receive then change, by index), and the next
  // five receive addresses not yet handed out.
  const addresses = usePagedList(['wallet', id, 'addresses'], async (cursor) =>
    unwrap(
      await api.GET('/v1/wallets/{id}/addresses', {
        params: { path: { id }, query: { cursor } },
      }),
    ),
  );
  const unused = useQuery({
    queryKey: ['wallet', id, 'addresses', 'unused'],
    enabled: wallet.isSuccess,
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/wallets/{id}/addresses', {
          params: { path: { id }, query: { unused: 5, limit: 1 } },
        }),
      ).unused,
  });
  const derive = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/wallets/{id}/addresses', {
          params: { path: { id } },
          body: { purpose: purpose || null },
        }),
      ),
    onSuccess: () => {
      setPurpose('');
      void queryClient.invalidateQueries({ queryKey: ['wallet'] });
    },
  });
  if (wallet.isPending) return <Loading />;
  if (wallet.error) {
    // Another company's wallet, or none: the server answers 404 for both, and so do we.
    const missing = wallet.error instanceof ApiError && wallet.error.status < 500;
    return (
      <Page title={missing ? 'Wallet not available' : 'Wallet'}>
        {missing ? (
          <Text data-testid="not-available">
            This wallet does not exist or is not available to you.
          </Text>
        ) : (
          <ErrorState error={wallet.error} onRetry={() => void wallet.refetch()} />
        )}
        <Anchor component={Link} to="/registry/wallets">
          Back to the wallets
        </Anchor>
      </Page>
    );
  }
  const w = wallet.data;
  const rows: AddressRow[] = [
    ...(addresses.rows ?? []).map((a) => ({
      branch: a.branch,
      index: a.derivationIndex,
      address: a.address,
      used: true,
      purpose: a.purpose ?? '',
      usedAt: a.usedAt,
    })),
    ...(unused.data ?? []).map((a) => ({
      branch: 'receive' as const,
      index: a.derivationIndex,
      address: a.address,
      used: false,
      purpose: '',
      usedAt: '',
    })),
  ];
  const columns: Column<AddressRow>[] = [
    { key: 'branch', header: 'Branch', value: (r) => r.branch },
    { key: 'index', header: 'Index', align: 'right', value: (r) => String(r.index) },
    {
      key: 'address',
      header: 'Address',
      value: (r) => r.address,
      render: (r) => <Code style={{ wordBreak: 'break-all' }}>{r.address}</Code>,
    },
    {
      key: 'state',
      header: 'State',
      value: (r) => (r.used ? 'used' : 'unused'),
      render: (r) => (
        <Badge variant="light" color={r.used ? 'gray' : 'teal'}>
          {r.used ? 'used' : 'unused'}
        </Badge>
      ),
    },
    { key: 'purpose', header: 'Purpose', value: (r) => r.purpose },
    {
      key: 'at',
      header: 'Handed out',
      value: (r) => r.usedAt,
      render: (r) => (r.usedAt ? formatDateTime(r.usedAt) : '—'),
    },
  ];
  const mayDerive = user.role === 'platform' || user.role === 'supervisor';
  return (
    <Page
      title={`Wallet ${w.label}`}
      description={`Watch-only wallet of ${nameOf(w.companyId)} on ${w.network}: the one wallet its invoices take receive addresses from and its payouts send change to. Used addresses have been handed out (to an invoice, a payout's change, or by hand); unused ones are the next of the receive branch, to compare with the wallet software that holds the keys.`}
    >
      <Paper withBorder p="md">
        <Table>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th scope="row" w={200}>
                Wallet
              </Table.Th>
              <Table.Td>
                <Code>{w.id}</Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Company</Table.Th>
              <Table.Td>{nameOf(w.companyId)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Platform</Table.Th>
              <Table.Td>{nameOf(w.platformId)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Descriptor</Table.Th>
              <Table.Td>
                <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                  {w.descriptor}
                </Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Next receive index</Table.Th>
              <Table.Td>{w.nextIndex}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Next change index</Table.Th>
              <Table.Td>{w.nextChangeIndex}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Paper>
      {mayDerive && (
        <Paper withBorder p="md">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              derive.mutate();
            }}
            noValidate
          >
            <Group align="flex-end">
              <TextInput
                label="Purpose"
                placeholder="e.g. deposit from the company's bank"
                value={purpose}
                onChange={(e) => setPurpose(e.currentTarget.value)}
                error={fieldErrorOf(derive.error, 'purpose')}
              />
              <Button type="submit" loading={derive.isPending}>
                Hand out the next address
              </Button>
            </Group>
            <FormError error={derive.error} />
          </form>
        </Paper>
      )}
      <DataTable
        caption="Addresses"
        columns={columns}
        rows={addresses.rows ? rows : undefined}
        rowKey={(r) => `${r.branch}/${r.index}`}
        loading={addresses.isPending}
        error={addresses.error}
        onRetry={addresses.refetch}
        empty="No address yet."
        csvName={`wallet-${w.id}-addresses`}
      />
      <LoadMore list={addresses} />
    </Page>
  );
}

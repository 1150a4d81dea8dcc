import { Link, useParams } from 'react-router';
import { useState } from 'react';
import {
  Anchor,
  Button,
  Code,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { allPages, LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { NameCell } from '../../components/NameCell';
import { Page } from '../../components/Page';
import { StatusChip } from '../../components/StatusChip';
import { Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { Fact, NotAvailableDetail } from '../trade/shared';
import { FiatPayInForm } from './FiatPayInForm';
import { assetAmount, useNames } from './shared';

type Window = components['schemas']['SettlementWindow'];
type Position = components['schemas']['SettlementPosition'];
type PayIn = components['schemas']['SettlementPayIn'];
type PayOut = components['schemas']['SettlementPayOut'];
type Obligation = components['schemas']['SettlementObligation'];
type Netting = components['schemas']['LoopWindow']['assets'][number];

const party = (names: Record<string, string>) => ({
  key: 'platform',
  header: 'Platform',
  value: (r: { platformId: string }) => names[r.platformId] ?? r.platformId,
  render: (r: { platformId: string }) => <NameCell name={names[r.platformId]} id={r.platformId} />,
});

const NETTING_COLUMNS: Column<Netting>[] = [
  { key: 'asset', header: 'Asset', value: (a) => a.asset },
  {
    key: 'obligations',
    header: 'Obligations',
    value: (a) => String(a.obligations),
    align: 'right',
  },
  {
    key: 'deals',
    header: 'Of them deals',
    value: (a) => String(a.dealObligations),
    align: 'right',
  },
  ...(['gross', 'net', 'paidIn', 'paidOut', 'unpaid'] as const).map((key) => ({
    key,
    header: {
      gross: 'Gross',
      net: 'Net',
      paidIn: 'Paid in',
      paidOut: 'Paid out',
      unpaid: 'Unpaid',
    }[key],
    value: (a: Netting) => a[key],
    render: (a: Netting) => assetAmount(a[key], a.asset),
    align: 'right' as const,
  })),
  { key: 'takenOut', header: 'Taken out', value: (a) => String(a.takenOut), align: 'right' },
];

/**
 * The window's obligations and netting, per asset (supervisor and auditors): the loop report of
 * an instant inside the window holds it, with its gross obligations against the net positions.
 */
function NettingResult({ window }: { window: Window }) {
  const from = window.opensAt;
  const to = new Date(new Date(from).getTime() + 1).toISOString();
  const loop = useQuery({
    queryKey: ['settlement', 'netting', window.id, window.status],
    queryFn: async () =>
      unwrap(await api.GET('/v1/clearing/loop', { params: { query: { from, to } } })),
  });
  const assets = loop.data?.netted.windows.find((w) => w.id === window.id)?.assets;
  return (
    <DataTable
      caption="Obligations and netting"
      columns={NETTING_COLUMNS}
      rows={assets}
      rowKey={(a) => a.asset}
      loading={loop.isPending}
      error={loop.error}
      onRetry={() => void loop.refetch()}
      empty="No obligation in this window."
      csvName={`netting-${window.sequence}`}
    />
  );
}

/**
 * Every row of one of the window's lists: bounded by nature (a window has one row per platform
 * and asset), so read whole.
 */
function useWindowList<T>(
  id: string,
  list: string,
  read: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor: string | null }>,
) {
  return useQuery({ queryKey: ['settlement', 'window', id, list], queryFn: () => allPages(read) });
}

const pageOf = (id: string, cursor: string | undefined) => ({
  params: { path: { id }, query: { limit: 500, cursor } },
});

/**
 * The window's obligations, a page at a time (the supervisor and auditors see every one, a
 * platform those it owes or is owed).
 */
function Obligations({ window }: { window: Window }) {
  const list = usePagedList(['settlement', 'window', window.id, 'obligations'], async (cursor) =>
    unwrap(
      await api.GET('/v1/settlement-windows/{id}/obligations', {
        params: { path: { id: window.id }, query: { cursor } },
      }),
    ),
  );
  const names = useNames((list.rows ?? []).flatMap((o) => [o.fromPlatform, o.toPlatform]));
  const platform = (key: 'fromPlatform' | 'toPlatform', header: string) => ({
    key,
    header,
    value: (o: Obligation) => names[o[key]] ?? o[key],
    render: (o: Obligation) => <NameCell name={names[o[key]]} id={o[key]} />,
  });
  return (
    <>
      <DataTable
        caption="Obligations"
        columns={[
          platform('fromPlatform', 'Owed by'),
          platform('toPlatform', 'Owed to'),
          {
            key: 'amount',
            header: 'Amount',
            value: (o: Obligation) => o.amount,
            render: (o: Obligation) => assetAmount(o.amount, o.asset),
            align: 'right',
          },
          {
            key: 'source',
            header: 'From',
            value: (o: Obligation) => `${o.source} ${o.sourceId}`,
            render: (o: Obligation) => (
              <Text size="sm">
                {o.source} <Code>{o.sourceId}</Code>
              </Text>
            ),
          },
          { key: 'at', header: 'At', value: (o: Obligation) => formatDateTime(o.at) },
          {
            key: 'rolls',
            header: 'Rolled',
            value: (o: Obligation) => String(o.rolls),
            align: 'right',
          },
        ]}
        rows={list.rows}
        rowKey={(o) => o.id}
        loading={list.isPending}
        error={list.error}
        onRetry={list.refetch}
        empty="No obligation in this window."
        csvName={`obligations-${window.sequence}`}
      />
      <LoadMore list={list} />
    </>
  );
}

/**
 * The supervisor's decision on a held bitcoin pay-in: accept (it counts) or reject (returned to
 * the payer, or frozen when a listed address paid it), with a reason. The details of the
 * screening are in the compliance alert it raised, whose case the decision is noted on.
 */
function HeldPayInDecision({
  windowId,
  payIn,
  names,
}: {
  windowId: string;
  payIn: PayIn;
  names: Record<string, string>;
}) {
  const queryClient = useQueryClient();
  const [decision, setDecision] = useState<'accept' | 'reject'>('reject');
  const [reason, setReason] = useState('');
  const listMatch = payIn.hold?.reason === 'listMatch';
  const decide = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/settlement-windows/{id}/pay-ins/{payInId}/decision', {
          params: { path: { id: windowId, payInId: payIn.id } },
          body: { decision, reason: reason.trim() },
        }),
      ),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['settlement'] }),
  });
  return (
    <Paper withBorder p="md" data-testid={`held-${payIn.id}`}>
      <Title order={3} size="h5" mb="xs">
        Held pay-in of {names[payIn.platformId] ?? payIn.platformId}:{' '}
        {assetAmount(payIn.amountDue, payIn.asset)}
      </Title>
      <Text size="sm" mb="sm">
        {listMatch
          ? 'A paying address is on a sanctions list. Accept it to count it as received, or reject it to freeze its coins for the report (never returned).'
          : 'A paying address could not be screened. Accept it to count it as received, or reject it to have it returned to the payer.'}{' '}
        A reject before the deadline reopens the pay-in at a fresh address.
        {payIn.hold?.caseId ? ` The decision is noted on case ${payIn.hold.caseId}.` : ''}
      </Text>
      <form
        noValidate
        onSubmit={(e) => {
          e.preventDefault();
          decide.mutate();
        }}
      >
        <Stack gap="xs">
          <SegmentedControl
            aria-label="Decision"
            value={decision}
            onChange={(v) => setDecision(v === 'accept' ? 'accept' : 'reject')}
            data={[
              { value: 'reject', label: listMatch ? 'Reject (freeze it)' : 'Reject (return it)' },
              { value: 'accept', label: 'Accept (it counts)' },
            ]}
          />
          <Textarea
            label="Reason"
            description="At least 10 characters; audited."
            value={reason}
            onChange={(e) => setReason(e.currentTarget.value)}
            error={fieldErrorOf(decide.error, 'reason')}
          />
          <Group>
            <Button type="submit" loading={decide.isPending}>
              Record the decision
            </Button>
          </Group>
        </Stack>
      </form>
      <FormError error={decide.error} />
    </Paper>
  );
}

function CloseWindow({ id }: { id: string }) {
  const queryClient = useQueryClient();
  const close = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/settlement-windows/{id}/close', { params: { path: { id } } })),
    onSettled: () => void queryClient.invalidateQueries({ queryKey: ['settlement'] }),
  });
  return (
    <Stack gap="xs">
      <Button variant="light" loading={close.isPending} onClick={() => close.mutate()}>
        Close the window now
      </Button>
      <FormError error={close.error} />
    </Stack>
  );
}

/** One settlement window: its obligations and netting, net positions, pay-ins and pay-outs. */
export function SettlementWindowPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const window = useQuery({
    queryKey: ['settlement', 'window', id],
    queryFn: async () =>
      unwrap(await api.GET('/v1/settlement-windows/{id}', { params: { path: { id } } })),
  });
  const positions = useWindowList(id, 'positions', async (cursor) =>
    unwrap(await api.GET('/v1/settlement-windows/{id}/positions', pageOf(id, cursor))),
  );
  const payIns = useWindowList(id, 'pay-ins', async (cursor) =>
    unwrap(await api.GET('/v1/settlement-windows/{id}/pay-ins', pageOf(id, cursor))),
  );
  const payOuts = useWindowList(id, 'pay-outs', async (cursor) =>
    unwrap(await api.GET('/v1/settlement-windows/{id}/pay-outs', pageOf(id, cursor))),
  );
  const names = useNames(
    [...(positions.data ?? []), ...(payIns.data ?? []), ...(payOuts.data ?? [])].map(
      (r) => r.platformId,
    ),
  );
  if (window.isPending) return <Loading label="Loading the window…" />;
  if (window.error)
    return (
      <NotAvailableDetail
        what="Settlement window"
        error={window.error}
        onRetry={() => void window.refetch()}
        back={
          <Anchor component={Link} to="/clearing/windows">
            Back to the windows
          </Anchor>
        }
      />
    );
  const w = window.data;
  const supervises = user.role === 'supervisor' || user.role === 'auditor';
  return (
    <Page
      title={`Settlement window ${w.sequence}`}
      actions={user.role === 'supervisor' && w.status === 'open' ? <CloseWindow id={w.id} /> : null}
    >
      <Paper withBorder p="md">
        <Table aria-label="The window">
          <Table.Tbody>
            <Fact label="Status">
              <StatusChip status={w.status} />
            </Fact>
            <Fact label="Opened">{formatDateTime(w.opensAt)}</Fact>
            <Fact label="Cut-off">
              {w.closedAt
                ? `closed ${formatDateTime(w.closedAt)}`
                : w.closesAt
                  ? formatDateTime(w.closesAt)
                  : 'none set'}
            </Fact>
            <Fact label="Pay-in deadline">
              {w.payInDeadline ? formatDateTime(w.payInDeadline) : '—'}
            </Fact>
            <Fact label="Settled">{w.settledAt ? formatDateTime(w.settledAt) : 'not yet'}</Fact>
          </Table.Tbody>
        </Table>
      </Paper>
      {supervises && (
        <>
          <Title order={2} size="h4">
            Obligations and netting
          </Title>
          <NettingResult window={w} />
        </>
      )}
      <Title order={2} size="h4">
        Obligations
      </Title>
      <Obligations window={w} />
      <Title order={2} size="h4">
        Net positions
      </Title>
      <Text size="sm">Negative: the platform pays in; positive: the clearing pays it out.</Text>
      <DataTable
        caption="Net positions"
        columns={[
          party(names),
          { key: 'asset', header: 'Asset', value: (p: Position) => p.asset },
          {
            key: 'net',
            header: 'Net at cut-off',
            value: (p: Position) => p.netAtClose,
            render: (p: Position) => assetAmount(p.netAtClose, p.asset),
            align: 'right',
          },
          {
            key: 'settled',
            header: 'Net settled',
            value: (p: Position) => p.netSettled ?? '',
            render: (p: Position) => (p.netSettled ? assetAmount(p.netSettled, p.asset) : '—'),
            align: 'right',
          },
          {
            key: 'status',
            header: 'Status',
            value: (p: Position) => p.status,
            render: (p: Position) => <StatusChip status={p.status} />,
          },
        ]}
        rows={positions.data}
        rowKey={(p) => p.id}
        loading={positions.isPending}
        error={positions.error}
        empty={w.status === 'open' ? 'Computed at the cut-off.' : 'No net position.'}
        csvName={`positions-${w.sequence}`}
      />
      {user.role === 'supervisor' && w.status === 'closed' && payIns.data && (
        <FiatPayInForm windowId={w.id} payIns={payIns.data} names={names} />
      )}
      <Title order={2} size="h4">
        Pay-ins
      </Title>
      <DataTable
        caption="Pay-ins"
        columns={[
          party(names),
          {
            key: 'due',
            header: 'Due',
            value: (p: PayIn) => p.amountDue,
            render: (p: PayIn) => assetAmount(p.amountDue, p.asset),
            align: 'right',
          },
          {
            key: 'status',
            header: 'Status',
            value: (p: PayIn) => p.status,
            render: (p: PayIn) => <StatusChip status={p.status} />,
          },
          {
            key: 'to',
            header: 'Paid to / by',
            value: (p: PayIn) => p.txid ?? p.bankReference ?? p.address ?? '',
            render: (p: PayIn) => (
              <Code style={{ wordBreak: 'break-all' }}>
                {p.txid ? `${p.txid}:${p.vout}` : (p.bankReference ?? p.address ?? 'bank transfer')}
              </Code>
            ),
          },
          {
            key: 'pending',
            header: 'Recorded',
            value: (p: PayIn) => p.pendingConfirmation?.recordedAt ?? '',
            render: (p: PayIn) =>
              p.pendingConfirmation ? (
                <Text size="xs">
                  {formatDateTime(p.pendingConfirmation.recordedAt)}
                  {p.pendingConfirmation.recordedBy
                    ? ` by ${p.pendingConfirmation.recordedBy}`
                    : ''}
                  , awaiting a second person
                </Text>
              ) : (
                '—'
              ),
          },
          {
            key: 'refusals',
            header: 'Refused',
            value: (p: PayIn) => p.refusals.map((r) => `${r.reason} ${r.amount}`).join('; '),
            render: (p: PayIn) =>
              p.refusals.length === 0
                ? '—'
                : p.refusals.map((r) => (
                    <Text key={r.id} size="xs">
                      {r.reason}: {assetAmount(r.amount, p.asset)}
                    </Text>
                  )),
          },
        ]}
        rows={payIns.data}
        rowKey={(p) => p.id}
        loading={payIns.isPending}
        error={payIns.error}
        empty={w.status === 'open' ? 'Due at the cut-off.' : 'No pay-in was due.'}
        csvName={`pay-ins-${w.sequence}`}
      />
      {user.role === 'supervisor' &&
        payIns.data
          ?.filter((p) => p.status === 'held')
          .map((p) => <HeldPayInDecision key={p.id} windowId={w.id} payIn={p} names={names} />)}
      <Title order={2} size="h4">
        Pay-outs
      </Title>
      <DataTable
        caption="Pay-outs"
        columns={[
          party(names),
          { key: 'kind', header: 'Kind', value: (p: PayOut) => p.kind },
          {
            key: 'amount',
            header: 'Amount',
            value: (p: PayOut) => p.amount,
            render: (p: PayOut) => assetAmount(p.amount, p.asset),
            align: 'right',
          },
          { key: 'status', header: 'Status', value: (p: PayOut) => p.status },
        ]}
        rows={payOuts.data}
        rowKey={(p) => p.id}
        loading={payOuts.isPending}
        error={payOuts.error}
        empty="Instructed when the window settles."
        csvName={`pay-outs-${w.sequence}`}
      />
      <Anchor component={Link} to="/clearing/windows">
        Back to the windows
      </Anchor>
    </Page>
  );
}

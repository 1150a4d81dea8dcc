import { useState } from 'react';
import { Link, useParams } from 'react-router';
import {
  Anchor,
  Autocomplete,
  Badge,
  Button,
  Code,
  Group,
  Paper,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { LoadMore, usePagedList } from '../../api/paging';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import { api, unwrap } from '../../api/client';
import { useParticipantNamesOf, useParticipantsOf } from '../../api/names';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { NameCell } from '../../components/NameCell';
import { ErrorState, Loading } from '../../components/States';
import { PersonTypeBadge } from '../../components/TravelRule';
import { formatBtc, formatDateTime, formatFiat } from '../../format';
import { useUser } from '../../session';
import {
  ContractPicker,
  Copyable,
  Fact,
  NotAvailableDetail,
  platformOf,
  StatusBadge,
  ComplianceVerdict,
  VerdictBadge,
  type Contract,
} from './shared';
import { AmountField, useContractAmount } from './AmountField';
import {
  TravelRuleAttachmentFields,
  TravelRuleSection,
  useTravelRuleAttachment,
} from './TravelRuleAttachment';

type Payout = components['schemas']['Payout'];
type Batch = components['schemas']['PayoutBatch'];

function CreatePayoutForm() {
  const user = useUser();
  const queryClient = useQueryClient();
  const [contract, setContract] = useState<Contract | undefined>();
  const contractId = contract?.id ?? null;
  const [address, setAddress] = useState('');
  const [memo, setMemo] = useState('');
  const [problems, setProblems] = useState<Record<string, string>>({});
  const amount = useContractAmount(contract);
  const travelRule = useTravelRuleAttachment({
    user,
    direction: 'outbound',
    contract,
    address,
    fiatValue: amount.fiatValue,
  });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/payouts', {
          body: {
            contractId: contractId ?? '',
            amount: amount.apiAmount() ?? '',
            address: address.trim(),
            ...(memo ? { memo } : {}),
            ...travelRule.body(),
          },
        }),
      ),
    onSuccess: () => {
      amount.reset();
      setMemo('');
      void queryClient.invalidateQueries({ queryKey: ['payout'] });
      void queryClient.invalidateQueries({ queryKey: ['contract'] });
    },
  });
  const registered = (travelRule.counterpartyAddresses.data ?? []).map((a) => a.address);
  /** Checks what can be checked here; the old alerts go, the new problems show at their fields. */
  const submit = () => {
    create.reset();
    const found: Record<string, string> = {};
    if (!contract) found.contractId = 'pick the import contract';
    const amountProblem = amount.problem();
    if (amountProblem) found.amount = amountProblem;
    if (!address.trim()) found.address = "pick or paste the supplier's address";
    setProblems(found);
    const travelRuleOk = travelRule.validate();
    if (Object.keys(found).length === 0 && travelRuleOk) create.mutate();
  };
  const errorAt = (field: string) => problems[field] ?? fieldErrorOf(create.error, field);
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Request a payout
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          submit();
        }}
        noValidate
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <ContractPicker
              label="Import contract"
              description="The supplier, the goods and what is open"
              placeholder="Type the start of the goods"
              direction="import"
              value={contractId}
              onChange={(picked) => {
                setContract(picked ?? undefined);
                setAddress('');
                travelRule.attachFor(picked ?? undefined);
              }}
              error={errorAt('contractId')}
            />
            <AmountField amount={amount} contract={contract} error={errorAt('amount')} />
            <Autocomplete
              label="Supplier address"
              description={
                registered.length
                  ? 'Pick a registered address of the supplier, or paste one'
                  : 'A registered address of the supplier'
              }
              data={registered}
              value={address}
              onChange={setAddress}
              error={errorAt('address')}
            />
            <TextInput
              label="Memo"
              value={memo}
              onChange={(e) => setMemo(e.currentTarget.value)}
              error={errorAt('memo')}
            />
          </SimpleGrid>
          <TravelRuleAttachmentFields
            attachment={travelRule}
            label="Attach Travel Rule data (the company is the originator, the supplier the beneficiary)"
            beneficiaryVaspDescription="Required when the supplier's address is hosted by a VASP"
          />
          <Group>
            <Button type="submit" loading={create.isPending}>
              Request payout
            </Button>
          </Group>
        </Stack>
      </form>
      <FormError error={create.error} />
      {create.data && (
        <Text mt="sm" data-testid="payout-created">
          Payout requested:{' '}
          <Anchor component={Link} to={`/trade/payouts/${create.data.id}`}>
            {create.data.id}
          </Anchor>{' '}
          for {create.data.amountBtc} BTC, {create.data.status}.
        </Text>
      )}
    </Paper>
  );
}

function BatchesTable() {
  const user = useUser();
  const queryClient = useQueryClient();
  const batches = usePagedList(['payoutBatch', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/payout-batches', { params: { query: { cursor } } })),
  );
  // `?id=bat_…` (the platform's home: a batch in flight) highlights that batch.
  const focus = useFocusedRow(batches, (b) => b.id, 'bat_');
  const run = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST('/v1/payout-batches', { body: { platformId: platformOf(user) } })),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['payoutBatch'] });
      void queryClient.invalidateQueries({ queryKey: ['payout'] });
    },
  });
  const columns: Column<Batch>[] = [
    { key: 'id', header: 'Batch', value: (b) => b.id, render: (b) => <Code>{b.id}</Code> },
    {
      key: 'status',
      header: 'Status',
      value: (b) => b.status,
      render: (b) => <StatusBadge status={b.status} />,
    },
    { key: 'payouts', header: 'Payouts', align: 'right', value: (b) => String(b.payoutIds.length) },
    {
      key: 'fee',
      header: 'Fee',
      align: 'right',
      value: (b) => b.feeSats,
      render: (b) => formatBtc(b.feeSats),
    },
    {
      key: 'txid',
      header: 'Transaction',
      value: (b) => b.txid ?? '',
      render: (b) =>
        b.txid ? <Copyable value={b.txid} label={`transaction id of ${b.id}`} /> : 'not broadcast',
    },
    {
      key: 'height',
      header: 'Confirmed at',
      value: (b) => (b.confirmedHeight === null ? '' : String(b.confirmedHeight)),
      render: (b) => b.confirmedHeight ?? '—',
    },
    { key: 'error', header: 'Last broadcast error', value: (b) => b.lastBroadcastError ?? '' },
  ];
  return (
    <Stack gap="sm">
      <Group justify="space-between">
        <Title order={2} size="h4">
          Batches
        </Title>
        {(user.role === 'platform' || user.role === 'supervisor') && user.platformId !== null && (
          <Button variant="default" loading={run.isPending} onClick={() => run.mutate()}>
            Run a batch now
          </Button>
        )}
      </Group>
      {run.error && <ErrorState error={run.error} />}
      {run.data && !run.data.batch && <Text size="sm">No approved payouts to batch.</Text>}
      <FocusMissing show={focus.missing} what="batch" />
      <DataTable
        caption="Payout batches"
        columns={columns}
        rows={batches.rows}
        rowKey={(b) => b.id}
        loading={batches.isPending}
        error={batches.error}
        onRetry={batches.refetch}
        empty="No batches yet."
        csvName="payout-batches"
        focusKey={focus.key}
      />
      <LoadMore list={batches} />
    </Stack>
  );
}

export function PayoutsPage() {
  const user = useUser();
  const queryClient = useQueryClient();
  const payouts = usePagedList(['payout', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/payouts', { params: { query: { cursor } } })),
  );
  const approve = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST('/v1/payouts/{id}/approve', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['payout'] }),
  });
  // A held payout whose condition cleared: the server runs every check again (and refuses a hold
  // that only a compliance review or case clears).
  const release = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST('/v1/payouts/{id}/release', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['payout'] }),
  });
  const nameOf = useParticipantNamesOf(
    (payouts.rows ?? []).flatMap((p) => [p.companyId, p.counterpartyId]),
  );
  const columns: Column<Payout>[] = [
    {
      key: 'id',
      header: 'Payout',
      value: (p) => p.id,
      render: (p) => (
        <Anchor component={Link} to={`/trade/payouts/${p.id}`} title={p.id}>
          {p.memo || `Payout …${p.id.slice(-6)}`}
        </Anchor>
      ),
    },
    {
      key: 'company',
      header: 'Company',
      value: (p) => p.companyName ?? nameOf(p.companyId),
      render: (p) => <NameCell name={p.companyName ?? nameOf(p.companyId)} id={p.companyId} />,
    },
    {
      key: 'counterparty',
      header: 'Supplier',
      value: (p) => p.counterpartyName ?? nameOf(p.counterpartyId),
      render: (p) => (
        <NameCell name={p.counterpartyName ?? nameOf(p.counterpartyId)} id={p.counterpartyId} />
      ),
    },
    {
      key: 'amount',
      header: 'Amount',
      align: 'right',
      value: (p) => p.amountSats,
      render: (p) => formatBtc(p.amountSats),
    },
    {
      key: 'status',
      header: 'Status',
      value: (p) => p.status,
      render: (p) => (
        <Group gap={4}>
          <StatusBadge status={p.status} />
          {p.originRefusal && (
            <Badge color="orange" variant="light" title={p.originRefusal.reason}>
              origin not cleared
            </Badge>
          )}
        </Group>
      ),
    },
    {
      key: 'compliance',
      header: 'Compliance',
      value: (p) => p.gate.status,
      render: (p) => <VerdictBadge verdict={p.gate} />,
    },
    {
      key: 'approvals',
      header: 'Approvals',
      value: (p) => `${p.approvals.length}/${p.requiredApprovals}`,
    },
    { key: 'maker', header: 'Requested by', value: (p) => p.createdBy },
    {
      key: 'batch',
      header: 'Batch',
      value: (p) => p.batchId ?? '',
      render: (p) => (p.batchId ? <Code>{p.batchId}</Code> : '—'),
    },
    {
      key: 'actions',
      header: 'Actions',
      sortable: false,
      value: () => '',
      render: (p) =>
        user.role === 'platform' && p.status === 'awaitingApproval' ? (
          <Button
            size="xs"
            variant="light"
            aria-label={`Approve payout ${p.id}`}
            loading={approve.isPending && approve.variables === p.id}
            onClick={() => approve.mutate(p.id)}
          >
            Approve
          </Button>
        ) : user.role === 'platform' && p.status === 'held' ? (
          <Button
            size="xs"
            variant="light"
            color="orange"
            aria-label={`Release payout ${p.id}`}
            title="Its hold cleared: run every check again and send it on"
            loading={release.isPending && release.variables === p.id}
            onClick={() => release.mutate(p.id)}
          >
            Release
          </Button>
        ) : null,
    },
  ];
  return (
    <Page
      title="Payouts"
      description="Payments to suppliers. Each needs its platform's quorum of officers, and the officer who requested it cannot approve it (maker-checker). Newest first, a page at a time; the loaded rows are filtered and sorted in the browser."
    >
      {(user.role === 'company' || user.role === 'platform') && <CreatePayoutForm />}
      {approve.error && <ErrorState error={approve.error} />}
      {release.error && <ErrorState error={release.error} />}
      <DataTable
        caption="Payouts"
        columns={columns}
        rows={payouts.rows}
        rowKey={(p) => p.id}
        loading={payouts.isPending}
        error={payouts.error}
        onRetry={payouts.refetch}
        empty="No payouts yet."
        csvName="payouts"
      />
      <LoadMore list={payouts} />
      <BatchesTable />
    </Page>
  );
}

/** One payout: amount, address, approvals, the gate's decision and the Travel Rule data sent. */
export function PayoutDetailPage() {
  const { id = '' } = useParams();
  const payout = useQuery({
    queryKey: ['payout', id],
    queryFn: async () => unwrap(await api.GET('/v1/payouts/{id}', { params: { path: { id } } })),
  });
  const participants = useParticipantsOf([payout.data?.companyId, payout.data?.counterpartyId]);
  const nameOf = (pid: string) => participants?.find((p) => p.id === pid)?.legalName ?? pid;
  if (payout.isPending) return <Loading />;
  if (payout.error)
    return (
      <NotAvailableDetail
        what="Payout"
        error={payout.error}
        onRetry={() => void payout.refetch()}
        back={
          <Anchor component={Link} to="/trade/payouts">
            Back to the payouts
          </Anchor>
        }
      />
    );
  const p = payout.data;
  const supplier = participants?.find((x) => x.id === p.counterpartyId);
  return (
    <Page title={`Payout ${p.id}`} description={p.memo || undefined}>
      <Paper withBorder p="md">
        <Table>
          <Table.Tbody>
            <Fact label="Status">
              <StatusBadge status={p.status} />
            </Fact>
            <Fact label="Amount">
              <Text fw={700}>{formatBtc(p.amountSats)}</Text>
              <Text size="sm">{formatFiat(p.fiatMinor, p.currency)}</Text>
            </Fact>
            <Fact label="Company">{nameOf(p.companyId)}</Fact>
            <Fact label="Supplier">
              <Group gap="xs">
                {nameOf(p.counterpartyId)}
                {supplier?.personType === 'natural' && <PersonTypeBadge personType="natural" />}
              </Group>
            </Fact>
            <Fact label="Address">
              <Copyable value={p.address} label="address" />
            </Fact>
            <Fact label="Contract">
              <Code>{p.contractId}</Code>
            </Fact>
            <Fact label="Approvals">
              {p.approvals.length}/{p.requiredApprovals}
              {p.approvals.map((a) => ` · ${a.actorId} (${formatDateTime(a.at)})`).join('')}
            </Fact>
            <Fact label="Requested by">
              {p.createdBy}, {formatDateTime(p.createdAt)}
            </Fact>
            <Fact label="Transaction">
              {p.txid ? <Copyable value={p.txid} label="transaction id" /> : 'not broadcast'}
            </Fact>
            <Fact label="Compliance">
              <ComplianceVerdict verdict={p.gate} />
            </Fact>
            {p.originRefusal && (
              <Fact label="Cleared origin">
                <Stack gap={4} data-testid="origin-refusal">
                  <Group gap="xs">
                    <Badge color="orange" variant="light">
                      {p.originRefusal.code}
                    </Badge>
                    <Text size="sm" c="dimmed">
                      {formatDateTime(p.originRefusal.at)}
                      {p.originRefusal.rule ? ` · ${p.originRefusal.rule}` : ''}
                    </Text>
                  </Group>
                  <Text size="sm">{p.originRefusal.reason}</Text>
                  {p.originRefusal.detail && (
                    <Text size="sm" c="dimmed">
                      {p.originRefusal.detail}
                    </Text>
                  )}
                </Stack>
              </Fact>
            )}
          </Table.Tbody>
        </Table>
      </Paper>
      <TravelRuleSection payload={p.travelRule} />
    </Page>
  );
}

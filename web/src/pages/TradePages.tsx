import { useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router';
import {
  Anchor,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Image,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../api/client';
import type { components, paths } from '../api/schema';
import { DataTable, type Column } from '../components/DataTable';
import { fieldErrorOf, FormError } from '../components/FormError';
import { Page } from '../components/Page';
import { ErrorState, Loading } from '../components/States';
import { formatBtc, formatDateTime, formatFiat } from '../format';
import { useUser, type User } from '../session';

type Contract = components['schemas']['Contract'];
type Invoice = components['schemas']['Invoice'];
type Payout = components['schemas']['Payout'];
type Batch = components['schemas']['PayoutBatch'];
type ContractBody = NonNullable<
  paths['/v1/contracts']['post']['requestBody']
>['content']['application/json'];
type Incoterm = ContractBody['incoterm'];
type Statement =
  paths['/v1/ledger/statements/{participantId}']['get']['responses'][200]['content']['application/json'];
type StatementLine = Statement['lines'][number];
type Balance =
  paths['/v1/ledger/balances']['get']['responses'][200]['content']['application/json']['accounts'][number];

const INCOTERMS: Incoterm[] = [
  'EXW',
  'FCA',
  'CPT',
  'CIP',
  'DAP',
  'DPU',
  'DDP',
  'FAS',
  'FOB',
  'CFR',
  'CIF',
];

const STATUS_COLOR: Record<string, string> = {
  draft: 'gray',
  submitted: 'yellow',
  approved: 'blue',
  active: 'teal',
  settled: 'green',
  cancelled: 'gray',
  disputed: 'red',
  new: 'blue',
  processing: 'yellow',
  expired: 'gray',
  invalid: 'red',
  awaitingApproval: 'yellow',
  awaitingPayment: 'blue',
  inProgress: 'indigo',
  completed: 'green',
  failed: 'red',
};

function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant="light" color={STATUS_COLOR[status] ?? 'gray'}>
      {status}
    </Badge>
  );
}

/** A contract's amount in its unit: sats for fixed-BTC contracts, minor units of the currency otherwise. */
function contractAmount(c: Contract, minor: string): string {
  return c.unit === 'BTC' ? formatBtc(minor) : formatFiat(minor, c.currency);
}

const canWrite = (user: User) => user.role !== 'auditor' && user.role !== 'miner';

/** Who the platform officer acts for: its own id is the platform's. */
const platformOf = (user: User) => user.platformId ?? user.participantId;

function useParticipants(kind: 'company' | 'counterparty', enabled = true) {
  return useQuery({
    queryKey: ['participant', { kind }],
    enabled,
    queryFn: async () =>
      unwrap(await api.GET('/v1/participants', { params: { query: { kind } } })).participants,
  });
}

function useContracts() {
  return useQuery({
    queryKey: ['contract'],
    queryFn: async () => unwrap(await api.GET('/v1/contracts')).contracts,
  });
}

// ---------------------------------------------------------------- contracts

function CreateContractForm({ onCreated }: { onCreated: () => void }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const officer = user.role === 'platform';
  const counterparties = useParticipants('counterparty');
  const companies = useParticipants('company', officer);
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [counterpartyId, setCounterpartyId] = useState<string | null>(null);
  const [direction, setDirection] = useState<'export' | 'import'>('export');
  const [goodsDescription, setGoods] = useState('');
  const [hsCode, setHsCode] = useState('');
  const [incoterm, setIncoterm] = useState<Incoterm>('FOB');
  const [currency, setCurrency] = useState('USD');
  const [pricingMode, setPricingMode] = useState<'fiat' | 'fixedBtc'>('fiat');
  const [amount, setAmount] = useState('');
  const [btcAmountSats, setBtcSats] = useState('');
  const [dueDate, setDueDate] = useState('');
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/contracts', {
          body: {
            ...(officer && companyId ? { companyId } : {}),
            counterpartyId: counterpartyId ?? '',
            direction,
            goodsDescription,
            hsCode,
            incoterm,
            currency,
            amount,
            pricingMode,
            ...(pricingMode === 'fixedBtc' ? { btcAmountSats } : {}),
            // One instalment for the whole amount; the API takes a schedule of several.
            schedule: [{ dueDate, amount: pricingMode === 'fixedBtc' ? btcAmountSats : amount }],
          },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['contract'] });
      onCreated();
    },
  });
  const error = create.error;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const options = (rows: components['schemas']['Participant'][] | undefined) =>
    (rows ?? []).map((p) => ({ value: p.id, label: `${p.legalName} (${p.country})` }));
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a contract
      </Title>
      {!officer && counterparties.isSuccess && counterparties.data.length === 0 && (
        <Text data-testid="no-counterparties" mb="sm">
          Counterparties are registered by your platform, and none is visible to your company: ask
          your platform officer to register this contract for you. You then invoice or pay on it
          here.
        </Text>
      )}
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            {officer && (
              <Select
                label="Company"
                searchable
                data={options(companies.data)}
                value={companyId}
                onChange={setCompanyId}
                error={fieldErrorOf(error, 'companyId')}
              />
            )}
            <Select
              label="Counterparty"
              searchable
              data={options(counterparties.data)}
              value={counterpartyId}
              onChange={setCounterpartyId}
              error={fieldErrorOf(error, 'counterpartyId')}
            />
            <Select
              label="Direction"
              data={[
                { value: 'export', label: 'Export (we invoice the buyer)' },
                { value: 'import', label: 'Import (we pay the supplier)' },
              ]}
              value={direction}
              onChange={(v) => v && setDirection(v as 'export' | 'import')}
              allowDeselect={false}
            />
            <TextInput
              label="Goods"
              value={goodsDescription}
              onChange={(e) => setGoods(e.currentTarget.value)}
              error={fieldErrorOf(error, 'goodsDescription')}
            />
            <TextInput
              label="HS code"
              description="6 digits (Harmonized System)"
              value={hsCode}
              onChange={(e) => setHsCode(e.currentTarget.value)}
              error={fieldErrorOf(error, 'hsCode')}
            />
            <Select
              label="Incoterm"
              data={INCOTERMS}
              value={incoterm}
              onChange={(v) => v && setIncoterm(v as Incoterm)}
              allowDeselect={false}
            />
            <TextInput
              label="Currency"
              value={currency}
              onChange={(e) => setCurrency(e.currentTarget.value.toUpperCase())}
              error={fieldErrorOf(error, 'currency')}
            />
            <TextInput
              label="Amount"
              description="In the currency, e.g. 30000.00"
              value={amount}
              onChange={(e) => setAmount(e.currentTarget.value)}
              error={fieldErrorOf(error, 'amount')}
            />
            <TextInput
              label="Due date"
              type="date"
              value={dueDate}
              onChange={(e) => setDueDate(e.currentTarget.value)}
              error={fieldErrorOf(error, 'schedule.0.dueDate') ?? fieldErrorOf(error, 'schedule')}
            />
          </SimpleGrid>
          <Group align="flex-end">
            <SegmentedControl
              aria-label="Pricing"
              data={[
                { value: 'fiat', label: 'Priced in currency' },
                { value: 'fixedBtc', label: 'Fixed BTC amount' },
              ]}
              value={pricingMode}
              onChange={(v) => setPricingMode(v as 'fiat' | 'fixedBtc')}
            />
            {pricingMode === 'fixedBtc' && (
              <TextInput
                label="BTC amount (sats)"
                value={btcAmountSats}
                onChange={(e) => setBtcSats(e.currentTarget.value)}
                error={fieldErrorOf(error, 'btcAmountSats')}
              />
            )}
            <Button type="submit" loading={create.isPending}>
              Register contract
            </Button>
          </Group>
          <FormError error={error} />
        </Stack>
      </form>
    </Paper>
  );
}

type ContractAction = 'submit' | 'approve' | 'activate' | 'cancel';

/** The next steps the caller's role may take on a contract (the server checks again). */
function actionsFor(user: User, c: Contract): ContractAction[] {
  if (!canWrite(user)) return [];
  const officer = user.role === 'platform' || user.role === 'supervisor';
  switch (c.status) {
    case 'draft':
      return user.role === 'supervisor' ? [] : ['submit', 'cancel'];
    case 'submitted':
      return officer ? ['approve', 'cancel'] : [];
    case 'approved':
      return [
        ...(user.role === 'supervisor' && c.supervisorApproval === 'pending'
          ? (['approve'] as const)
          : []),
        ...(user.role === 'platform' && c.supervisorApproval !== 'pending'
          ? (['activate'] as const)
          : []),
      ];
    default:
      return [];
  }
}

const ACTION_LABEL: Record<ContractAction, string> = {
  submit: 'Submit',
  approve: 'Approve',
  activate: 'Activate',
  cancel: 'Cancel',
};

export function ContractsPage() {
  const user = useUser();
  const queryClient = useQueryClient();
  const contracts = useContracts();
  const [creating, setCreating] = useState(false);
  const transition = useMutation({
    mutationFn: async ({ id, action }: { id: string; action: ContractAction }) =>
      unwrap(await api.POST(`/v1/contracts/{id}/${action}`, { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['contract'] }),
  });
  const columns: Column<Contract>[] = [
    { key: 'id', header: 'Contract', value: (c) => c.id, render: (c) => <Code>{c.id}</Code> },
    { key: 'direction', header: 'Direction', value: (c) => c.direction },
    { key: 'goods', header: 'Goods', value: (c) => c.goodsDescription },
    { key: 'company', header: 'Company', value: (c) => c.companyId },
    { key: 'counterparty', header: 'Counterparty', value: (c) => c.counterpartyId },
    {
      key: 'total',
      header: 'Total',
      align: 'right',
      value: (c) => c.totalAmount,
      render: (c) => contractAmount(c, c.totalAmount),
    },
    {
      key: 'open',
      header: 'Open',
      align: 'right',
      value: (c) => c.openAmount,
      render: (c) => contractAmount(c, c.openAmount),
    },
    {
      key: 'status',
      header: 'Status',
      value: (c) => c.status,
      render: (c) => (
        <Group gap={4}>
          <StatusBadge status={c.status} />
          {c.supervisorApproval === 'pending' && (
            <Badge variant="light" color="yellow">
              supervisor approval pending
            </Badge>
          )}
        </Group>
      ),
    },
    {
      key: 'actions',
      header: 'Actions',
      sortable: false,
      value: () => '',
      render: (c) => (
        <Group gap={4} wrap="nowrap">
          {actionsFor(user, c).map((action) => (
            <Button
              key={action}
              size="xs"
              variant={action === 'cancel' ? 'default' : 'light'}
              aria-label={`${ACTION_LABEL[action]} contract ${c.id}`}
              loading={
                transition.isPending &&
                transition.variables.id === c.id &&
                transition.variables.action === action
              }
              onClick={() => transition.mutate({ id: c.id, action })}
            >
              {ACTION_LABEL[action]}
            </Button>
          ))}
        </Group>
      ),
    },
  ];
  const mayCreate = user.role === 'company' || user.role === 'platform';
  return (
    <Page
      title="Contracts"
      description="Foreign-trade contracts: draft → submitted → approved → active. Companies see their own; platform officers their clients'. Filtered and sorted in the browser."
      actions={
        mayCreate && (
          <Button onClick={() => setCreating((v) => !v)} variant={creating ? 'default' : 'filled'}>
            {creating ? 'Close the form' : 'New contract'}
          </Button>
        )
      }
    >
      {creating && <CreateContractForm onCreated={() => setCreating(false)} />}
      {transition.error && <ErrorState error={transition.error} />}
      <DataTable
        caption="Contracts"
        columns={columns}
        rows={contracts.data}
        rowKey={(c) => c.id}
        loading={contracts.isPending}
        error={contracts.error}
        onRetry={() => void contracts.refetch()}
        empty="No contracts yet."
        csvName="contracts"
      />
    </Page>
  );
}

// ---------------------------------------------------------------- invoices

function CreateInvoiceForm() {
  const queryClient = useQueryClient();
  const contracts = useContracts();
  const exportable = (contracts.data ?? []).filter(
    (c) => c.direction === 'export' && c.status === 'active',
  );
  const [contractId, setContractId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [description, setDescription] = useState('');
  const contract = exportable.find((c) => c.id === contractId);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/invoices', {
          body: {
            contractId: contractId ?? '',
            amount,
            ...(description ? { description } : {}),
          },
        }),
      ),
    onSuccess: () => {
      setAmount('');
      setDescription('');
      void queryClient.invalidateQueries({ queryKey: ['invoice'] });
      void queryClient.invalidateQueries({ queryKey: ['contract'] });
    },
  });
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Issue an invoice
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <SimpleGrid cols={{ base: 1, md: 4 }}>
          <Select
            label="Export contract"
            description="Active export contracts"
            data={exportable.map((c) => ({
              value: c.id,
              label: `${c.goodsDescription} · open ${contractAmount(c, c.openAmount)}`,
            }))}
            value={contractId}
            onChange={setContractId}
            error={fieldErrorOf(create.error, 'contractId')}
          />
          <TextInput
            label="Amount"
            description={
              contract?.unit === 'BTC' ? 'In sats' : `In ${contract?.currency ?? 'the currency'}`
            }
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={fieldErrorOf(create.error, 'amount')}
          />
          <TextInput
            label="Description"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={fieldErrorOf(create.error, 'description')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={create.isPending}>
              Issue invoice
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      <FormError error={create.error} />
      {create.data && (
        <Text mt="sm" data-testid="invoice-created">
          Invoice issued:{' '}
          <Anchor component={Link} to={`/trade/invoices/${create.data.id}`}>
            {create.data.id}
          </Anchor>{' '}
          for {create.data.amountBtc} BTC.
        </Text>
      )}
    </Paper>
  );
}

export function InvoicesPage() {
  const user = useUser();
  const invoices = useQuery({
    queryKey: ['invoice'],
    queryFn: async () => unwrap(await api.GET('/v1/invoices')).invoices,
  });
  const columns: Column<Invoice>[] = [
    {
      key: 'id',
      header: 'Invoice',
      value: (i) => i.id,
      render: (i) => (
        <Anchor component={Link} to={`/trade/invoices/${i.id}`}>
          {i.id}
        </Anchor>
      ),
    },
    { key: 'company', header: 'Company', value: (i) => i.companyId },
    { key: 'counterparty', header: 'Buyer', value: (i) => i.counterpartyId },
    {
      key: 'amount',
      header: 'Amount',
      align: 'right',
      value: (i) => i.amountSats,
      render: (i) => formatBtc(i.amountSats),
    },
    {
      key: 'fiat',
      header: 'Fiat',
      align: 'right',
      value: (i) => i.fiatMinor,
      render: (i) => formatFiat(i.fiatMinor, i.currency),
    },
    {
      key: 'status',
      header: 'Status',
      value: (i) => [i.status, ...i.additionalStatus].join(' '),
      render: (i) => (
        <Group gap={4}>
          <StatusBadge status={i.status} />
          {i.additionalStatus.map((s) => (
            <Badge key={s} variant="outline" color="orange">
              {s}
            </Badge>
          ))}
        </Group>
      ),
    },
    {
      key: 'created',
      header: 'Created',
      value: (i) => i.createdAt,
      render: (i) => formatDateTime(i.createdAt),
    },
  ];
  return (
    <Page
      title="Invoices"
      description="Invoices to foreign buyers, each with its own address, BIP21 payment URI and public pay page. Filtered and sorted in the browser."
    >
      {(user.role === 'company' || user.role === 'platform') && <CreateInvoiceForm />}
      <DataTable
        caption="Invoices"
        columns={columns}
        rows={invoices.data}
        rowKey={(i) => i.id}
        loading={invoices.isPending}
        error={invoices.error}
        onRetry={() => void invoices.refetch()}
        empty="No invoices yet."
        csvName="invoices"
      />
    </Page>
  );
}

function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" w={200}>
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

function Copyable({ value, label }: { value: string; label: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Code style={{ wordBreak: 'break-all' }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button size="compact-xs" variant="light" onClick={copy} aria-label={`Copy ${label}`}>
            {copied ? 'Copied' : 'Copy'}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

/** One invoice: what the buyer pays, the QR of its BIP21 URI, payments seen, the pay page. */
export function InvoiceDetailPage() {
  const { id = '' } = useParams();
  const invoice = useQuery({
    queryKey: ['invoice', id],
    queryFn: async () => unwrap(await api.GET('/v1/invoices/{id}', { params: { path: { id } } })),
  });
  if (invoice.isPending) return <Loading />;
  if (invoice.error) {
    // Another company's invoice, or none: the server answers 404 for both, and so do we.
    const missing = invoice.error instanceof ApiError && invoice.error.status < 500;
    return (
      <Page title={missing ? 'Invoice not available' : 'Invoice'}>
        {missing ? (
          <Text data-testid="not-available">
            This invoice does not exist or is not available to you.
          </Text>
        ) : (
          <ErrorState error={invoice.error} onRetry={() => void invoice.refetch()} />
        )}
        <Anchor component={Link} to="/trade/invoices">
          Back to the invoices
        </Anchor>
      </Page>
    );
  }
  const i = invoice.data;
  return (
    <Page
      title={`Invoice ${i.id}`}
      description={i.description || undefined}
      actions={
        <Button component="a" href={`/pay/${i.id}`} target="_blank" rel="noopener">
          Open the pay page
        </Button>
      }
    >
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        <Paper withBorder p="md">
          <Table>
            <Table.Tbody>
              <Fact label="Status">
                <Group gap={4}>
                  <StatusBadge status={i.status} />
                  {i.additionalStatus.map((s) => (
                    <Badge key={s} variant="outline" color="orange">
                      {s}
                    </Badge>
                  ))}
                </Group>
              </Fact>
              <Fact label="Amount">
                <Text fw={700}>{formatBtc(i.amountSats)}</Text>
                <Text size="sm">{formatFiat(i.fiatMinor, i.currency)}</Text>
              </Fact>
              <Fact label="Address">
                <Copyable value={i.address} label="address" />
              </Fact>
              <Fact label="Payment URI (BIP21)">
                <Copyable value={i.paymentUri} label="payment URI" />
              </Fact>
              <Fact label="Seen / confirmed">
                {formatBtc(i.seenSats)} / {formatBtc(i.confirmedSats)}
              </Fact>
              <Fact label="Contract">
                <Code>{i.contractId}</Code>
              </Fact>
              <Fact label="Expires">{formatDateTime(i.expiresAt)}</Fact>
              <Fact label="Pay page">
                <Anchor href={`/pay/${i.id}`} target="_blank" rel="noopener">
                  {`${window.location.origin}/pay/${i.id}`}
                </Anchor>
              </Fact>
            </Table.Tbody>
          </Table>
        </Paper>
        <Paper withBorder p="md">
          <Stack align="center" gap="xs">
            <Image
              src={`/pay/${i.id}/qr.svg`}
              alt={i.paymentUri}
              w={256}
              h={256}
              data-testid="invoice-qr"
            />
            <Text size="sm">Scan with a bitcoin wallet</Text>
          </Stack>
        </Paper>
      </SimpleGrid>
      <Title order={2} size="h4">
        Payments
      </Title>
      <DataTable
        caption="Payments to this invoice"
        columns={[
          {
            key: 'txid',
            header: 'Transaction',
            value: (p) => `${p.txid}:${p.vout}`,
            render: (p) => <Code>{`${p.txid}:${p.vout}`}</Code>,
          },
          {
            key: 'value',
            header: 'Value',
            align: 'right',
            value: (p) => p.valueSats,
            render: (p) => formatBtc(p.valueSats),
          },
          {
            key: 'height',
            header: 'Block',
            value: (p) => (p.blockHeight === null ? '' : String(p.blockHeight)),
            render: (p) => p.blockHeight ?? 'unconfirmed',
          },
          { key: 'rbf', header: 'RBF', value: (p) => (p.signalsRbf ? 'yes' : 'no') },
          { key: 'late', header: 'Late', value: (p) => (p.late ? 'yes' : 'no') },
        ]}
        rows={i.payments}
        rowKey={(p) => `${p.txid}:${p.vout}`}
        empty="No payment seen yet."
        csvName={`payments-${i.id}`}
      />
    </Page>
  );
}

// ---------------------------------------------------------------- payouts

function CreatePayoutForm() {
  const queryClient = useQueryClient();
  const contracts = useContracts();
  const importable = (contracts.data ?? []).filter(
    (c) => c.direction === 'import' && c.status === 'active',
  );
  const [contractId, setContractId] = useState<string | null>(null);
  const [amount, setAmount] = useState('');
  const [address, setAddress] = useState('');
  const [memo, setMemo] = useState('');
  const contract = importable.find((c) => c.id === contractId);
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/payouts', {
          body: { contractId: contractId ?? '', amount, address, ...(memo ? { memo } : {}) },
        }),
      ),
    onSuccess: () => {
      setAmount('');
      setMemo('');
      void queryClient.invalidateQueries({ queryKey: ['payout'] });
      void queryClient.invalidateQueries({ queryKey: ['contract'] });
    },
  });
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Request a payout
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
        noValidate
      >
        <SimpleGrid cols={{ base: 1, md: 5 }}>
          <Select
            label="Import contract"
            data={importable.map((c) => ({
              value: c.id,
              label: `${c.goodsDescription} · open ${contractAmount(c, c.openAmount)}`,
            }))}
            value={contractId}
            onChange={setContractId}
            error={fieldErrorOf(create.error, 'contractId')}
          />
          <TextInput
            label="Amount"
            description={contract?.unit === 'BTC' || !contract ? 'In sats' : contract.currency}
            value={amount}
            onChange={(e) => setAmount(e.currentTarget.value)}
            error={fieldErrorOf(create.error, 'amount')}
          />
          <TextInput
            label="Supplier address"
            value={address}
            onChange={(e) => setAddress(e.currentTarget.value)}
            error={fieldErrorOf(create.error, 'address')}
          />
          <TextInput
            label="Memo"
            value={memo}
            onChange={(e) => setMemo(e.currentTarget.value)}
            error={fieldErrorOf(create.error, 'memo')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={create.isPending}>
              Request payout
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      <FormError error={create.error} />
    </Paper>
  );
}

function BatchesTable() {
  const user = useUser();
  const queryClient = useQueryClient();
  const batches = useQuery({
    queryKey: ['payoutBatch'],
    queryFn: async () => unwrap(await api.GET('/v1/payout-batches')).batches,
  });
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
      <DataTable
        caption="Payout batches"
        columns={columns}
        rows={batches.data}
        rowKey={(b) => b.id}
        loading={batches.isPending}
        error={batches.error}
        onRetry={() => void batches.refetch()}
        empty="No batches yet."
        csvName="payout-batches"
      />
    </Stack>
  );
}

export function PayoutsPage() {
  const user = useUser();
  const queryClient = useQueryClient();
  const payouts = useQuery({
    queryKey: ['payout'],
    queryFn: async () => unwrap(await api.GET('/v1/payouts')).payouts,
  });
  const approve = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.POST('/v1/payouts/{id}/approve', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['payout'] }),
  });
  const columns: Column<Payout>[] = [
    { key: 'id', header: 'Payout', value: (p) => p.id, render: (p) => <Code>{p.id}</Code> },
    { key: 'company', header: 'Company', value: (p) => p.companyId },
    { key: 'counterparty', header: 'Supplier', value: (p) => p.counterpartyId },
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
      render: (p) => <StatusBadge status={p.status} />,
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
        ) : null,
    },
  ];
  return (
    <Page
      title="Payouts"
      description="Payments to suppliers. Each needs its platform's quorum of officers, and the officer who requested it cannot approve it (maker-checker). Filtered and sorted in the browser."
    >
      {(user.role === 'company' || user.role === 'platform') && <CreatePayoutForm />}
      {approve.error && <ErrorState error={approve.error} />}
      <DataTable
        caption="Payouts"
        columns={columns}
        rows={payouts.data}
        rowKey={(p) => p.id}
        loading={payouts.isPending}
        error={payouts.error}
        onRetry={() => void payouts.refetch()}
        empty="No payouts yet."
        csvName="payouts"
      />
      <BatchesTable />
    </Page>
  );
}

// ---------------------------------------------------------------- settlements

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

export function StatementsPage() {
  const user = useUser();
  const balances = useQuery({
    queryKey: ['ledger', 'balances'],
    queryFn: async () => unwrap(await api.GET('/v1/ledger/balances')).accounts,
  });
  const companies = useParticipants('company', user.role !== 'company');
  const [participantId, setParticipantId] = useState<string | null>(
    user.role === 'company' ? user.participantId : null,
  );
  const [from, setFrom] = useState(isoDay(new Date(Date.now() - 30 * 86_400_000)));
  const [to, setTo] = useState(isoDay(new Date(Date.now() + 86_400_000)));
  const statement = useQuery({
    queryKey: ['ledger', 'statement', participantId, from, to],
    enabled: participantId !== null && from !== '' && to !== '',
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/ledger/statements/{participantId}', {
          params: {
            path: { participantId: participantId ?? '' },
            query: {
              from: new Date(`${from}T00:00:00Z`).toISOString(),
              to: new Date(`${to}T00:00:00Z`).toISOString(),
            },
          },
        }),
      ),
  });
  const balanceColumns: Column<Balance>[] = [
    { key: 'participant', header: 'Participant', value: (a) => a.participantId },
    { key: 'purpose', header: 'Account', value: (a) => a.purpose },
    { key: 'platform', header: 'Platform', value: (a) => a.platformId ?? '' },
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
    { key: 'reference', header: 'Reference', value: (l) => l.reference },
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
  const s = statement.data;
  return (
    <Page
      title="Settlements"
      description="Ledger balances and statements of client funds (sats; positive is a debit balance)."
    >
      <DataTable
        caption="Ledger balances"
        columns={balanceColumns}
        rows={balances.data}
        rowKey={(a) => a.accountId}
        loading={balances.isPending}
        error={balances.error}
        onRetry={() => void balances.refetch()}
        empty="No ledger accounts yet: nothing has settled."
        csvName="ledger-balances"
      />
      <Paper withBorder p="md">
        <Title order={2} size="h4" mb="sm">
          Statement
        </Title>
        <Group align="flex-end" mb="sm">
          {user.role !== 'company' && (
            <Select
              label="Company"
              searchable
              data={(companies.data ?? []).map((p) => ({ value: p.id, label: p.legalName }))}
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
              rows={s.lines}
              rowKey={(l) => `${l.transactionId}:${l.kind}:${l.at}`}
              empty="No movements in the period."
              csvName={`statement-${s.participantId}-${from}-${to}`}
            />
          </Stack>
        )}
      </Paper>
    </Page>
  );
}

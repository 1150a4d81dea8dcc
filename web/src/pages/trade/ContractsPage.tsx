import { useState, type FormEvent } from 'react';
import {
  Badge,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { useParticipantNamesOf } from '../../api/names';
import { LoadMore, usePagedList } from '../../api/paging';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import type { paths } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { NameCell } from '../../components/NameCell';
import { ParticipantPicker } from '../../components/ParticipantPicker';
import { ErrorState } from '../../components/States';
import { useUser, type User } from '../../session';
import { canWrite, contractAmount, StatusBadge, type Contract } from './shared';

type ContractBody = NonNullable<
  paths['/v1/contracts']['post']['requestBody']
>['content']['application/json'];
type Incoterm = ContractBody['incoterm'];

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

// ---------------------------------------------------------------- contracts

function CreateContractForm({ onCreated }: { onCreated: () => void }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const officer = user.role === 'platform';
  // Whether any counterparty is visible at all: one row is enough to know.
  const counterparties = useQuery({
    queryKey: ['participant', 'any', 'counterparty'],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/participants', {
          params: { query: { kind: 'counterparty', limit: 1 } },
        }),
      ).items,
  });
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
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a contract
      </Title>
      {!officer && counterparties.isSuccess && counterparties.data.length === 0 && (
        <Text data-testid="no-counterparties" mb="sm">
          Your platform has registered no foreign counterparty yet. Foreign buyers and suppliers are
          registered (and their KYC kept) by your platform: ask your platform officer to register
          the counterparty, then choose it here.
        </Text>
      )}
      <form onSubmit={submit} noValidate>
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            {officer && (
              <ParticipantPicker
                label="Company"
                kind="company"
                value={companyId}
                onChange={setCompanyId}
                error={fieldErrorOf(error, 'companyId')}
              />
            )}
            <ParticipantPicker
              label="Counterparty"
              description={
                officer ? undefined : 'The foreign buyers and suppliers your platform registered'
              }
              kind="counterparty"
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
              onChange={(v) => v && setDirection(v)}
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
              onChange={(v) => v && setIncoterm(v)}
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
              onChange={(v) => setPricingMode(v)}
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
  const contracts = usePagedList(['contract', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/contracts', { params: { query: { cursor } } })),
  );
  const [creating, setCreating] = useState(false);
  // `?id=` (the company's home: a contract's open balance) highlights that contract.
  const focus = useFocusedRow(contracts, (c) => c.id);
  // Names for the ids the page shows, looked up by id among the caller's visible participants (a
  // company sees its platform's counterparties); an id stays as it is where the name is not visible.
  const nameOf = useParticipantNamesOf(
    (contracts.rows ?? []).flatMap((c) => [c.companyId, c.counterpartyId]),
  );
  const transition = useMutation({
    mutationFn: async ({ id, action }: { id: string; action: ContractAction }) =>
      unwrap(await api.POST(`/v1/contracts/{id}/${action}`, { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['contract'] }),
  });
  const columns: Column<Contract>[] = [
    { key: 'direction', header: 'Direction', value: (c) => c.direction },
    {
      key: 'goods',
      header: 'Goods',
      value: (c) => c.goodsDescription,
      render: (c) => <NameCell name={c.goodsDescription} id={c.id} />,
    },
    {
      key: 'company',
      header: 'Company',
      value: (c) => nameOf(c.companyId),
      render: (c) => <NameCell name={nameOf(c.companyId)} id={c.companyId} />,
    },
    {
      key: 'counterparty',
      header: 'Counterparty',
      value: (c) => nameOf(c.counterpartyId),
      render: (c) => <NameCell name={nameOf(c.counterpartyId)} id={c.counterpartyId} />,
    },
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
      description="Foreign-trade contracts: draft → submitted → approved → active. Companies see their own; platform officers their clients'. Newest first, a page at a time; the loaded rows are filtered and sorted in the browser."
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
      <FocusMissing show={focus.missing} what="contract" />
      <DataTable
        caption="Contracts"
        columns={columns}
        rows={contracts.rows}
        rowKey={(c) => c.id}
        loading={contracts.isPending}
        error={contracts.error}
        onRetry={contracts.refetch}
        empty="No contracts yet."
        csvName="contracts"
        focusKey={focus.key}
      />
      <LoadMore list={contracts} />
    </Page>
  );
}

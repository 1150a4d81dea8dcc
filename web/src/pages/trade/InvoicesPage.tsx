import { useState } from 'react';
import { Link, useParams } from 'react-router';
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Image,
  NumberInput,
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
import { api, unwrap } from '../../api/client';
import { useParticipantsOf } from '../../api/names';
import type { components } from '../../api/schema';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { NameCell } from '../../components/NameCell';
import { Loading } from '../../components/States';
import { PersonTypeBadge } from '../../components/TravelRule';
import { formatBtc, formatDateTime, formatFiat } from '../../format';
import { useUser } from '../../session';
import {
  ContractPicker,
  Copyable,
  Fact,
  NotAvailableDetail,
  StatusBadge,
  ComplianceVerdict,
  VerdictBadge,
  worstVerdict,
  type Contract,
} from './shared';
import { AmountField, useContractAmount } from './AmountField';
import {
  TravelRuleAttachmentFields,
  TravelRuleSection,
  useTravelRuleAttachment,
} from './TravelRuleAttachment';

type Invoice = components['schemas']['Invoice'];

function CreateInvoiceForm() {
  const user = useUser();
  const queryClient = useQueryClient();
  const [contract, setContract] = useState<Contract | undefined>();
  const contractId = contract?.id ?? null;
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [description, setDescription] = useState('');
  const [validityMinutes, setValidityMinutes] = useState<number | string>(15);
  const amount = useContractAmount(contract);
  const travelRule = useTravelRuleAttachment({
    user,
    direction: 'inbound',
    contract,
    fiatValue: amount.fiatValue,
  });
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/invoices', {
          body: {
            contractId: contractId ?? '',
            amount: amount.apiAmount() ?? '',
            ...(description ? { description } : {}),
            validitySeconds: Math.round(Number(validityMinutes) * 60),
            ...travelRule.body(),
          },
        }),
      ),
    onSuccess: () => {
      amount.reset();
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
          // The old alerts go; what can be checked here shows at its field.
          create.reset();
          const found: Record<string, string> = {};
          if (!contract) found.contractId = 'pick the export contract';
          const amountProblem = amount.problem();
          if (amountProblem) found.amount = amountProblem;
          setProblems(found);
          const travelRuleOk = travelRule.validate();
          if (Object.keys(found).length === 0 && travelRuleOk) create.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 5 }}>
            <ContractPicker
              label="Export contract"
              description="The buyer, the goods and what is open"
              placeholder="Type the start of the goods"
              direction="export"
              value={contractId}
              onChange={(picked) => {
                setContract(picked ?? undefined);
                travelRule.attachFor(picked ?? undefined);
              }}
              error={problems.contractId ?? fieldErrorOf(create.error, 'contractId')}
            />
            <AmountField
              amount={amount}
              contract={contract}
              error={problems.amount ?? fieldErrorOf(create.error, 'amount')}
            />
            <TextInput
              label="Description"
              value={description}
              onChange={(e) => setDescription(e.currentTarget.value)}
              error={fieldErrorOf(create.error, 'description')}
            />
            <NumberInput
              label="Payable for"
              description="Minutes (1 to 10,080)"
              min={1}
              max={7 * 24 * 60}
              allowDecimal={false}
              value={validityMinutes}
              onChange={setValidityMinutes}
              error={fieldErrorOf(create.error, 'validitySeconds')}
            />
            <Group align="flex-end">
              <Button type="submit" loading={create.isPending}>
                Issue invoice
              </Button>
            </Group>
          </SimpleGrid>
          <TravelRuleAttachmentFields
            attachment={travelRule}
            label="Attach Travel Rule data (the foreign buyer is the originator, the company the beneficiary)"
            beneficiaryVaspDescription="The platform that receives the payment"
          />
        </Stack>
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
  const invoices = usePagedList(['invoice', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/invoices', { params: { query: { cursor } } })),
  );
  const columns: Column<Invoice>[] = [
    {
      key: 'id',
      header: 'Invoice',
      value: (i) => i.id,
      render: (i) => (
        <Anchor component={Link} to={`/trade/invoices/${i.id}`} title={i.id}>
          {i.description || `Invoice …${i.id.slice(-6)}`}
        </Anchor>
      ),
    },
    {
      key: 'company',
      header: 'Company',
      value: (i) => i.companyName ?? i.companyId,
      render: (i) => <NameCell name={i.companyName} id={i.companyId} />,
    },
    {
      key: 'counterparty',
      header: 'Buyer',
      value: (i) => i.counterpartyName ?? i.counterpartyId,
      render: (i) => <NameCell name={i.counterpartyName} id={i.counterpartyId} />,
    },
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
      key: 'compliance',
      header: 'Compliance',
      value: (i) => worstVerdict(i.gateDecisions)?.status ?? 'allowed',
      render: (i) => (
        <VerdictBadge verdict={worstVerdict(i.gateDecisions) ?? { status: 'allowed' }} />
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
      description="Invoices to foreign buyers, each with its own address, BIP21 payment URI and public pay page. Newest first, a page at a time; the loaded rows are filtered and sorted in the browser."
    >
      {(user.role === 'company' || user.role === 'platform') && <CreateInvoiceForm />}
      <DataTable
        caption="Invoices"
        columns={columns}
        rows={invoices.rows}
        rowKey={(i) => i.id}
        loading={invoices.isPending}
        error={invoices.error}
        onRetry={invoices.refetch}
        empty="No invoices yet."
        csvName="invoices"
      />
      <LoadMore list={invoices} />
    </Page>
  );
}

/** One invoice: what the buyer pays, the QR of its BIP21 URI, payments seen, the pay page. */
export function InvoiceDetailPage() {
  const { id = '' } = useParams();
  const invoice = useQuery({
    queryKey: ['invoice', id],
    queryFn: async () => unwrap(await api.GET('/v1/invoices/{id}', { params: { path: { id } } })),
  });
  const participants = useParticipantsOf([invoice.data?.counterpartyId]);
  if (invoice.isPending) return <Loading />;
  if (invoice.error)
    // Another company's invoice, or none: the server answers 404 for both, and so do we.
    return (
      <NotAvailableDetail
        what="Invoice"
        error={invoice.error}
        onRetry={() => void invoice.refetch()}
        back={
          <Anchor component={Link} to="/trade/invoices">
            Back to the invoices
          </Anchor>
        }
      />
    );
  const i = invoice.data;
  const buyer = participants?.find((p) => p.id === i.counterpartyId);
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
              <Fact label="Compliance">
                <Stack gap="xs">
                  {i.gateDecisions.length === 0
                    ? 'not yet screened'
                    : i.gateDecisions.map((d) => (
                        <ComplianceVerdict key={`${d.subject}-${d.at}`} verdict={d} />
                      ))}
                </Stack>
              </Fact>
              <Fact label="Amount">
                <Text fw={700}>{formatBtc(i.amountSats)}</Text>
                <Text size="sm">{formatFiat(i.fiatMinor, i.currency)}</Text>
              </Fact>
              <Fact label="Buyer">
                <Group gap="xs">
                  {buyer?.legalName ?? i.counterpartyId}
                  {buyer?.personType === 'natural' && <PersonTypeBadge personType="natural" />}
                </Group>
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
                <Anchor
                  href={`/pay/${i.id}`}
                  target="_blank"
                  rel="noopener"
                  style={{ wordBreak: 'break-all' }}
                >
                  {`${window.location.origin}/pay/${i.id}`}
                </Anchor>
              </Fact>
            </Table.Tbody>
          </Table>
        </Paper>
        <Paper withBorder p="md">
          {canBePaid(i) ? (
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
          ) : (
            <Text size="sm" c="dimmed" data-testid="invoice-no-qr">
              No payment code: this invoice cannot be paid now (refused, expired or paid).
            </Text>
          )}
        </Paper>
      </SimpleGrid>
      <TravelRuleSection payload={i.travelRule} />
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

/**
 * Whether the buyer should pay now, as the pay page decides (its QR code answers only then):
 * not refused by compliance, waiting for its payment or the rest of a partial one. Expiry is the
 * server's to judge (its clock), and an expired invoice's status says so.
 */
function canBePaid(i: {
  status: string;
  additionalStatus: readonly string[];
  gateOutcome: string;
}): boolean {
  if (i.gateOutcome === 'block') return false;
  return (
    i.status === 'new' || (i.status === 'processing' && i.additionalStatus.includes('paidPartial'))
  );
}

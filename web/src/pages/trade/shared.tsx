import type { ReactNode } from 'react';
import { Badge, Button, Code, CopyButton, Group, List, Stack, Table, Text } from '@mantine/core';
import { api, ApiError, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { Page } from '../../components/Page';
import { PICKER_PAGE, SearchPicker, type SearchPickerProps } from '../../components/SearchPicker';
import { ErrorState } from '../../components/States';
import { formatBtc, formatFiat } from '../../format';
import type { User } from '../../session';

/** What the trade pages share: status badges, amounts, the active-contract picker. */

export type Contract = components['schemas']['Contract'];
export type Participant = components['schemas']['Participant'];

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
  awaitingReview: 'orange',
  held: 'orange',
  abandoned: 'gray',
};

export function StatusBadge({ status }: { status: string }) {
  return (
    <Badge variant="light" color={STATUS_COLOR[status] ?? 'gray'}>
      {status}
    </Badge>
  );
}

/** The gate verdict of an invoice or payout, as the server disclosed it to the caller. */
export interface Verdict {
  status: 'allowed' | 'held for compliance review' | 'refused';
  reference: string;
  reasons: string[];
  disclosure: 'detail' | 'outcome';
}

const VERDICT_COLOR: Record<Verdict['status'], string> = {
  allowed: 'green',
  'held for compliance review': 'orange',
  refused: 'red',
};

export function VerdictBadge({ verdict }: { verdict: Pick<Verdict, 'status'> }) {
  return (
    <Badge variant="light" color={VERDICT_COLOR[verdict.status]}>
      {verdict.status}
    </Badge>
  );
}

/**
 * The compliance verdict: its status, the reference to quote and, for the platform's officers,
 * the supervisor and the auditor, its reasons. A company is told the status and the reference
 * only (no tipping-off, FATF R.21); the server leaves the reasons out for it.
 */
export function ComplianceVerdict({ verdict }: { verdict: Verdict }) {
  return (
    <Stack gap={4}>
      <Group gap="xs">
        <VerdictBadge verdict={verdict} />
        {verdict.status !== 'allowed' && (
          <Text size="sm">
            reference <Code>{verdict.reference}</Code>
          </Text>
        )}
      </Group>
      {verdict.disclosure === 'detail' && verdict.reasons.length > 0 && (
        <List size="sm" aria-label="Reasons">
          {verdict.reasons.map((reason) => (
            <List.Item key={reason}>{reason}</List.Item>
          ))}
        </List>
      )}
    </Stack>
  );
}

/** The worst of an invoice's gate verdicts (the one that decides what the invoice may do). */
export function worstVerdict<T extends Verdict>(verdicts: readonly T[]): T | null {
  const rank = { allowed: 0, 'held for compliance review': 1, refused: 2 } as const;
  let worst: T | null = null;
  for (const v of verdicts) if (!worst || rank[v.status] > rank[worst.status]) worst = v;
  return worst;
}

/** A contract's amount in its unit: sats for fixed-BTC contracts, minor units of the currency otherwise. */
export function contractAmount(c: Contract, minor: string): string {
  return c.unit === 'BTC' ? formatBtc(minor) : formatFiat(minor, c.currency);
}

/**
 * A contract as a picker shows it: the counterparty by name, the goods, what is open, and the
 * end of its id (two contracts with one counterparty and the same goods stay apart).
 */
export function contractLabel(c: Contract, participants: readonly Participant[] | undefined) {
  const name = participants?.find((p) => p.id === c.counterpartyId)?.legalName ?? c.counterpartyId;
  return `${name} · ${c.goodsDescription} · open ${contractAmount(c, c.openAmount)} of ${contractAmount(c, c.totalAmount)} · …${c.id.slice(-6)}`;
}

export const canWrite = (user: User) => user.role !== 'auditor' && user.role !== 'miner';

/** Who the platform officer acts for: its own id is the platform's. */
export const platformOf = (user: User) => user.platformId ?? user.participantId;

type Picked = { contract: Contract; label: string };

/**
 * The caller's active contracts of one direction, searched on the server (`?q=`, a prefix of the
 * goods description) a page at a time: what the invoice, payout and bid forms pick from, so the
 * picker does not grow with the contracts. Each page's counterparties are named by id.
 */
export function ContractPicker({
  direction,
  onChange,
  ...props
}: {
  direction: Contract['direction'];
  onChange: (contract: Contract | null) => void;
} & Omit<
  SearchPickerProps<Picked>,
  'queryKey' | 'search' | 'idOf' | 'labelOf' | 'onChange' | 'nothingFound'
>) {
  return (
    <SearchPicker
      {...props}
      queryKey={['contract', 'active', direction]}
      search={async (q) => {
        const contracts = unwrap(
          await api.GET('/v1/contracts', {
            params: {
              query: { status: 'active', direction, ...(q ? { q } : {}), limit: PICKER_PAGE },
            },
          }),
        ).items;
        const ids = [...new Set(contracts.map((c) => c.counterpartyId))];
        const named = ids.length
          ? unwrap(
              await api.GET('/v1/participants', {
                params: { query: { ids: ids.join(','), limit: ids.length } },
              }),
            ).items
          : [];
        return contracts.map((c) => ({ contract: c, label: contractLabel(c, named) }));
      }}
      idOf={(p) => p.contract.id}
      labelOf={(p) => p.label}
      onChange={(_, picked) => onChange(picked?.contract ?? null)}
      nothingFound={`No active ${direction} contract's goods start with that`}
    />
  );
}

export function Fact({ label, children }: { label: string; children: ReactNode }) {
  return (
    <Table.Tr>
      <Table.Th scope="row" w={200}>
        {label}
      </Table.Th>
      <Table.Td>{children}</Table.Td>
    </Table.Tr>
  );
}

export function Copyable({ value, label }: { value: string; label: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Code style={{ wordBreak: 'break-all', minWidth: 0 }}>{value}</Code>
      <CopyButton value={value}>
        {({ copied, copy }) => (
          <Button
            size="compact-xs"
            variant="light"
            onClick={copy}
            aria-label={`Copy ${label}`}
            style={{ flexShrink: 0 }}
          >
            {copied ? 'Copied' : 'Copy'}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

/** A detail page for a row that does not exist or is not the caller's: the server says 404 for both. */
export function NotAvailableDetail({
  what,
  error,
  onRetry,
  back,
}: {
  what: string;
  error: unknown;
  onRetry: () => void;
  back: ReactNode;
}) {
  const missing = error instanceof ApiError && error.status < 500;
  return (
    <Page title={missing ? `${what} not available` : what}>
      {missing ? (
        <Text data-testid="not-available">
          This {what.toLowerCase()} does not exist or is not available to you.
        </Text>
      ) : (
        <ErrorState error={error} onRetry={onRetry} />
      )}
      {back}
    </Page>
  );
}

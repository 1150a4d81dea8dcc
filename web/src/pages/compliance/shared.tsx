import { Anchor, Badge } from '@mantine/core';
import { Link } from 'react-router';
import { useParticipantNamesOf } from '../../api/names';
import type { components } from '../../api/schema';
import { formatFiat } from '../../format';

/** What the compliance pages share: types, colours, ages, amounts and links to transfers. */

export type Alert = components['schemas']['Alert'];
export type CaseListItem = components['schemas']['CaseListItem'];
export type Decision = components['schemas']['Decision'];
export type Severity = Alert['severity'];
export type FiatAmount = components['schemas']['FiatAmount'];

export const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low'];
/** Worst first: critical 0 … low 3 (a case without alerts sorts last). */
export const severityRank = (s: Severity | null | undefined) =>
  s ? SEVERITIES.indexOf(s) : SEVERITIES.length;

const SEVERITY_COLOR: Record<Severity, string> = {
  critical: 'red',
  high: 'orange',
  medium: 'yellow',
  low: 'gray',
};

export function SeverityBadge({ severity }: { severity: Severity | null | undefined }) {
  if (!severity) return <>—</>;
  return (
    // Never truncated to "MEDI…" by a narrow column.
    <Badge variant="light" color={SEVERITY_COLOR[severity]} miw="max-content">
      {severity}
    </Badge>
  );
}

export const OUTCOME_COLOR: Record<string, string> = {
  allow: 'teal',
  clear: 'teal',
  review: 'yellow',
  block: 'red',
  match: 'red',
  confirmed: 'red',
  reported: 'red',
  falsePositive: 'teal',
};

export const OUTCOME_LABEL: Record<string, string> = {
  allow: 'allowed',
  review: 'held for review',
  block: 'blocked',
  confirmed: 'confirmed',
  reported: 'reported (goAML)',
  falsePositive: 'false positive',
};

export function OutcomeBadge({ outcome }: { outcome: string }) {
  return (
    <Badge variant="light" color={OUTCOME_COLOR[outcome] ?? 'gray'} miw="max-content">
      {OUTCOME_LABEL[outcome] ?? outcome}
    </Badge>
  );
}

/** How long ago, in the largest whole unit: "3 d", "5 h", "12 min". */
export function ageOf(iso: string, now = Date.now()): string {
  const minutes = Math.max(0, Math.floor((now - new Date(iso).getTime()) / 60_000));
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours} h`;
  return `${Math.floor(hours / 24)} d`;
}

export const formatAmount = (a: FiatAmount | null | undefined) =>
  a ? formatFiat(a.minor, a.currency) : '—';

/** Several amounts as their total per currency, with the count when there are several. */
export function formatTotal(amounts: ReadonlyArray<FiatAmount | null>): string {
  const present = amounts.flatMap((a) => (a ? [a] : []));
  if (!present.length) return '—';
  const totals = new Map<string, bigint>();
  for (const a of present) totals.set(a.currency, (totals.get(a.currency) ?? 0n) + BigInt(a.minor));
  const total = [...totals].map(([currency, minor]) => formatFiat(minor, currency)).join(' + ');
  return present.length > 1 ? `${total} (${present.length} transfers)` : total;
}

/** Amounts in one currency summed for sorting; several currencies are shown side by side. */
export const formatAmounts = (amounts: FiatAmount[]) =>
  amounts.length ? amounts.map(formatAmount).join(' + ') : '—';

/** Links on striped table rows: the theme's indigo 6 is 4.47:1 on the stripe; 8 passes AA. */
export const LINK_COLOR = 'indigo.8';

/** A transfer's detail page: an invoice (inbound) or a payout (outbound), by its id's prefix. */
export function transferPath(id: string): string | null {
  if (id.startsWith('inv_')) return `/trade/invoices/${id}`;
  if (id.startsWith('pay_')) return `/trade/payouts/${id}`;
  return null;
}

export function TransferLink({ id }: { id: string }) {
  const path = transferPath(id);
  const label = id.startsWith('inv_') ? 'Invoice' : id.startsWith('pay_') ? 'Payout' : 'Transfer';
  return path ? (
    <Anchor component={Link} to={path} size="sm" title={id} c={LINK_COLOR}>
      {label} {id.slice(-8)}
    </Anchor>
  ) : (
    <span title={id}>
      {label} {id.slice(-8)}
    </span>
  );
}

/** The names of the participants `ids` names (the rows shown): names instead of `par_` ids. */
export function useNames(ids: readonly (string | null | undefined)[]) {
  return useParticipantNamesOf(ids);
}

/** Identical alert lines (same party, rule and message) as one group with a count. */
export interface AlertGroup<A> {
  key: string;
  first: A;
  alerts: A[];
}

export function groupAlerts<A extends { rule: string; message: string; partyId?: string }>(
  alerts: readonly A[],
): AlertGroup<A>[] {
  const groups = new Map<string, AlertGroup<A>>();
  for (const a of alerts) {
    const key = `${a.partyId ?? ''}|${a.rule}|${a.message}`;
    const group = groups.get(key);
    if (group) group.alerts.push(a);
    else groups.set(key, { key, first: a, alerts: [a] });
  }
  return [...groups.values()];
}

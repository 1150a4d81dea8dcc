import { useMemo, useState } from 'react';
import { Anchor, Badge, Group, NumberInput, Select, Text } from '@mantine/core';
import { Link, useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';
import {
  ageOf,
  formatAmount,
  groupAlerts,
  LINK_COLOR,
  SEVERITIES,
  SeverityBadge,
  severityRank,
  TransferLink,
  useNames,
  type Alert,
  type AlertGroup,
  type Severity,
} from './shared';

const AGES: Record<string, number> = { '24h': 24 * 3_600_000, '7d': 7 * 24 * 3_600_000 };

/** The group's value: its transfers' amounts summed when they share a currency. */
function groupAmount(group: AlertGroup<Alert>) {
  const amounts = group.alerts.flatMap((a) => (a.amount ? [a.amount] : []));
  const first = amounts[0];
  if (!first || amounts.some((a) => a.currency !== first.currency)) return first ?? null;
  return {
    currency: first.currency,
    minor: amounts.reduce((sum, a) => sum + BigInt(a.minor), 0n).toString(),
  };
}

const newest = (group: AlertGroup<Alert>) =>
  group.alerts.reduce((at, a) => (a.createdAt > at ? a.createdAt : at), group.first.createdAt);

export function AlertsPage() {
  const navigate = useNavigate();
  const [severity, setSeverity] = useState<string | null>(null);
  const [state, setState] = useState<string | null>('open');
  const [age, setAge] = useState<string | null>(null);
  const [minimum, setMinimum] = useState<number | string>('');
  const query = {
    ...(severity ? { severity: severity as Severity } : {}),
    ...(state ? { state: state as Alert['caseState'] } : {}),
  };
  const alerts = usePagedList(['alert', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/alerts', { params: { query: { ...query, cursor } } })),
  );
  const nameOf = useNames((alerts.rows ?? []).map((a) => a.partyId));
  // Ages are measured from when the alerts were read (the live feed reloads them as they change),
  // not from a clock read during render.
  const now = alerts.loadedAt;
  const groups = useMemo(() => {
    const limit = age ? AGES[age.replace('older-', '')] : undefined;
    const floor = typeof minimum === 'number' ? BigInt(Math.round(minimum * 100)) : null;
    return groupAlerts(alerts.rows ?? [])
      .filter((g) => {
        const elapsed = now - new Date(newest(g)).getTime();
        if (limit !== undefined && (age?.startsWith('older-') ? elapsed < limit : elapsed > limit))
          return false;
        const amount = groupAmount(g);
        return floor === null || (amount !== null && BigInt(amount.minor) >= floor);
      })
      .sort(
        (a, b) =>
          severityRank(a.first.severity) - severityRank(b.first.severity) ||
          newest(b).localeCompare(newest(a)),
      );
  }, [alerts.rows, age, minimum, now]);
  const columns: Column<AlertGroup<Alert>>[] = [
    {
      key: 'severity',
      header: 'Severity',
      value: (g) => String(severityRank(g.first.severity)),
      render: (g) => <SeverityBadge severity={g.first.severity} />,
    },
    {
      key: 'party',
      header: 'Party',
      value: (g) => nameOf(g.first.partyId),
      render: (g) => <span title={g.first.partyId}>{nameOf(g.first.partyId)}</span>,
    },
    {
      key: 'alert',
      header: 'Alert',
      value: (g) => `${g.first.rule} ${g.first.message}`,
      render: (g) => (
        // Wide enough to read on a phone; the table scrolls sideways instead.
        <div style={{ minWidth: 220 }}>
          <Text size="sm">{g.first.message}</Text>
          <Text size="xs" c="dimmed">
            {g.first.rule}
          </Text>
        </div>
      ),
    },
    {
      key: 'count',
      header: 'Count',
      align: 'right',
      value: (g) => String(g.alerts.length),
      render: (g) =>
        g.alerts.length > 1 ? (
          <Badge variant="light" color="gray" aria-label={`${g.alerts.length} identical alerts`}>
            ×{g.alerts.length}
          </Badge>
        ) : (
          '1'
        ),
    },
    {
      key: 'amount',
      header: 'Amount',
      align: 'right',
      value: (g) => groupAmount(g)?.minor ?? '0',
      render: (g) => formatAmount(groupAmount(g)),
    },
    {
      key: 'age',
      header: 'Age',
      value: (g) => newest(g),
      render: (g) => <span title={formatDateTime(newest(g))}>{ageOf(newest(g))}</span>,
    },
    {
      key: 'transfers',
      header: 'Transfers',
      sortable: false,
      value: (g) => g.alerts.flatMap((a) => (a.transferId ? [a.transferId] : [])).join(' '),
      render: (g) => {
        const ids = [...new Set(g.alerts.flatMap((a) => (a.transferId ? [a.transferId] : [])))];
        return ids.length ? (
          <Group gap={6} onClick={(e) => e.stopPropagation()}>
            {ids.slice(0, 3).map((id) => (
              <TransferLink key={id} id={id} />
            ))}
            {ids.length > 3 && <Text size="xs">+{ids.length - 3} more</Text>}
          </Group>
        ) : (
          '—'
        );
      },
    },
    {
      key: 'case',
      header: 'Case',
      value: (g) => `${g.first.caseId} ${g.first.caseState}`,
      render: (g) => (
        <Anchor
          component={Link}
          to={`/compliance/cases/${g.first.caseId}`}
          size="sm"
          c={LINK_COLOR}
          onClick={(e) => e.stopPropagation()}
        >
          Case ({g.first.caseState})
        </Anchor>
      ),
    },
  ];
  return (
    <Page
      title="Alerts"
      description="Monitoring and screening alerts, worst first. Identical lines are grouped with a count; click a line to work its case. Severity and case state are filtered by the server, age and amount over the loaded rows."
    >
      <DataTable
        caption="Alerts"
        columns={columns}
        rows={groups}
        rowKey={(g) => g.key}
        loading={alerts.isPending}
        error={alerts.error}
        onRetry={alerts.refetch}
        empty="No alerts."
        csvName="alerts"
        onRowClick={(g) => void navigate(`/compliance/cases/${g.first.caseId}`)}
        toolbar={
          <Group gap="sm">
            <Select
              aria-label="Severity"
              placeholder="Any severity"
              clearable
              data={SEVERITIES.map((s) => ({ value: s, label: s }))}
              value={severity}
              onChange={setSeverity}
              w={150}
            />
            <Select
              aria-label="Case state"
              placeholder="Any case state"
              clearable
              data={[
                { value: 'open', label: 'Case open' },
                { value: 'investigating', label: 'Investigating' },
                { value: 'closed', label: 'Case closed' },
              ]}
              value={state}
              onChange={setState}
              w={160}
            />
            <Select
              aria-label="Age"
              placeholder="Any age"
              clearable
              data={[
                { value: '24h', label: 'Last 24 hours' },
                { value: '7d', label: 'Last 7 days' },
                { value: 'older-7d', label: 'Older than 7 days' },
              ]}
              value={age}
              onChange={setAge}
              w={170}
            />
            <NumberInput
              aria-label="Minimum amount"
              placeholder="Minimum amount"
              min={0}
              decimalScale={2}
              thousandSeparator=","
              value={minimum}
              onChange={setMinimum}
              w={170}
            />
          </Group>
        }
      />
      <LoadMore list={alerts} />
    </Page>
  );
}

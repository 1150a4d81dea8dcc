import { useState } from 'react';
import { Badge, Select } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useNavigate } from 'react-router';
import { api, unwrap } from '../../api/client';
import { allPages, LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { formatDateTime } from '../../format';
import {
  ageOf,
  formatAmounts,
  OutcomeBadge,
  SeverityBadge,
  severityRank,
  useNames,
  type CaseListItem,
} from './shared';

/**
 * The supervisor's staff a case can be assigned to, and their names by id: every page, as the
 * list is bounded by nature (the people of one authority, not anything that grows with use).
 */
export function useAssignees() {
  const staff = useQuery({
    queryKey: ['case', 'assignees'],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(await api.GET('/v1/cases/assignees', { params: { query: { limit: 500, cursor } } })),
      ),
    staleTime: 60_000,
  });
  const nameOf = (id: string | null | undefined) =>
    id ? (staff.data?.find((p) => p.id === id)?.displayName ?? id) : 'nobody';
  return { people: staff.data ?? [], nameOf };
}

type CaseState = CaseListItem['state'];

export function CasesPage() {
  const navigate = useNavigate();
  const { nameOf: assigneeName } = useAssignees();
  const [state, setState] = useState<string | null>(null);
  const query = state ? { state: state as CaseState } : {};
  const cases = usePagedList(['case', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/cases', { params: { query: { ...query, cursor } } })),
  );
  const nameOf = useNames((cases.rows ?? []).map((c) => c.partyId));
  const columns: Column<CaseListItem>[] = [
    {
      key: 'party',
      header: 'Party',
      value: (c) => nameOf(c.partyId),
      render: (c) => <span title={c.partyId}>{nameOf(c.partyId)}</span>,
    },
    {
      key: 'severity',
      header: 'Severity',
      value: (c) => String(severityRank(c.severity)),
      render: (c) => <SeverityBadge severity={c.severity} />,
    },
    { key: 'alerts', header: 'Alerts', align: 'right', value: (c) => String(c.alertCount) },
    {
      key: 'amount',
      header: 'Amount',
      align: 'right',
      value: (c) => c.exposure[0]?.minor ?? '0',
      render: (c) => formatAmounts(c.exposure),
    },
    {
      key: 'age',
      header: 'Age',
      value: (c) => c.openedAt,
      render: (c) => <span title={formatDateTime(c.openedAt)}>{ageOf(c.openedAt)}</span>,
    },
    {
      key: 'state',
      header: 'State',
      value: (c) => c.state,
      render: (c) => (
        <Badge variant="light" color={c.state === 'closed' ? 'gray' : 'blue'}>
          {c.state}
        </Badge>
      ),
    },
    {
      key: 'outcome',
      header: 'Outcome',
      value: (c) => c.outcome ?? '',
      render: (c) => (c.outcome ? <OutcomeBadge outcome={c.outcome} /> : '—'),
    },
    { key: 'assignee', header: 'Assignee', value: (c) => assigneeName(c.assignee) },
  ];
  return (
    <Page
      title="Cases"
      description="Monitoring cases, newest first, a page at a time, with the worst alert's severity, the value of the transfers in evidence and their age. State is filtered by the server; sorting applies to the loaded rows. Click a case to work it."
    >
      <DataTable
        caption="Cases"
        columns={columns}
        rows={cases.rows}
        rowKey={(c) => c.id}
        loading={cases.isPending}
        error={cases.error}
        onRetry={cases.refetch}
        empty="No cases."
        csvName="cases"
        onRowClick={(c) => void navigate(`/compliance/cases/${c.id}`)}
        toolbar={
          <Select
            aria-label="State"
            placeholder="All states"
            clearable
            data={['open', 'investigating', 'closed']}
            value={state}
            onChange={setState}
            w={160}
          />
        }
      />
      <LoadMore list={cases} />
    </Page>
  );
}

import { useMemo, useState } from 'react';
import {
  Anchor,
  Badge,
  Button,
  Group,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams } from 'react-router';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import type { components } from '../../api/schema';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { ErrorState, Loading } from '../../components/States';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { useAssignees } from './CasesPage';
import { CaseTimeline } from './CaseTimeline';
import { GoamlPreview } from './GoamlPanel';
import {
  ageOf,
  formatTotal,
  formatAmounts,
  groupAlerts,
  OutcomeBadge,
  SeverityBadge,
  TransferLink,
  useNames,
} from './shared';

type CaseDetail = components['schemas']['CaseDetail'];
type CaseAlert = components['schemas']['Alert'];
type Outcome = NonNullable<CaseDetail['outcome']>;
type Change = {
  state?: CaseDetail['state'];
  outcome?: Outcome;
  assignee?: string | null;
  note?: string;
  linkTransferIds?: string[];
};

/** The case's alerts a page at a time, newest first (`alerts` holds the loaded ones, oldest first). */
function useCaseAlerts(id: string) {
  const list = usePagedList(['case', id, 'alerts'], async (cursor) =>
    unwrap(await api.GET('/v1/cases/{id}/alerts', { params: { path: { id }, query: { cursor } } })),
  );
  const alerts = useMemo(() => [...(list.rows ?? [])].reverse(), [list.rows]);
  return { list, alerts };
}

/** The alerts and transfers the case holds: identical alert lines once, with a count. */
function Evidence({
  c,
  alerts,
  list,
}: {
  c: CaseDetail;
  alerts: CaseAlert[];
  list: ReturnType<typeof useCaseAlerts>['list'];
}) {
  const groups = groupAlerts(alerts);
  const alerted = new Set(alerts.flatMap((a) => (a.transferId ? [a.transferId] : [])));
  // The linked transfers a page at a time, like the alerts (the view carries their count).
  const links = usePagedList(['case', c.id, 'transfers'], async (cursor) =>
    unwrap(
      await api.GET('/v1/cases/{id}/transfers', {
        params: { path: { id: c.id }, query: { cursor } },
      }),
    ),
  );
  const linkedOnly = (links.rows ?? []).map((l) => l.transferId).filter((id) => !alerted.has(id));
  return (
    <Stack gap="xs">
      <Title order={2} size="h4">
        Evidence
      </Title>
      <Table.ScrollContainer minWidth={600}>
        <Table>
          <Table.Caption>
            Alerts of the case ({alerts.length < c.alertCount ? `${alerts.length} of ` : ''}
            {c.alertCount})
          </Table.Caption>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Severity</Table.Th>
              <Table.Th>Alert</Table.Th>
              <Table.Th>Count</Table.Th>
              <Table.Th>Transfers</Table.Th>
              <Table.Th style={{ textAlign: 'right' }}>Amount</Table.Th>
              <Table.Th>Last raised</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {groups.map((g) => (
              <Table.Tr key={g.key}>
                <Table.Td>
                  <SeverityBadge severity={g.first.severity} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{g.first.message}</Text>
                  <Text size="xs" c="dimmed">
                    {g.first.rule}
                  </Text>
                </Table.Td>
                <Table.Td>{g.alerts.length > 1 ? `×${g.alerts.length}` : '1'}</Table.Td>
                <Table.Td>
                  <Group gap={6}>
                    {[
                      ...new Set(g.alerts.flatMap((a) => (a.transferId ? [a.transferId] : []))),
                    ].map((id) => (
                      <TransferLink key={id} id={id} />
                    ))}
                  </Group>
                </Table.Td>
                <Table.Td style={{ textAlign: 'right' }}>
                  {formatTotal(g.alerts.map((a) => a.amount))}
                </Table.Td>
                <Table.Td>
                  {formatDateTime(g.alerts.at(-1)?.createdAt ?? g.first.createdAt)}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
      <LoadMore list={list} />
      {list.error && <ErrorState error={list.error} />}
      {linkedOnly.length > 0 && (
        <Group gap={6}>
          <Text size="sm">Linked transfers ({c.transferCount}):</Text>
          {linkedOnly.map((id) => (
            <TransferLink key={id} id={id} />
          ))}
        </Group>
      )}
      <LoadMore list={links} />
      {links.error && <ErrorState error={links.error} />}
    </Stack>
  );
}

/** The supervisor's work on an open case: assign, note, close, or file the goAML report. */
function CaseWork({
  c,
  alerts,
  preview,
}: {
  c: CaseDetail;
  alerts: CaseAlert[];
  preview: { problems: string[] } | undefined;
}) {
  const queryClient = useQueryClient();
  const { people } = useAssignees();
  const [assignee, setAssignee] = useState<string | null>(c.assignee);
  const [note, setNote] = useState('');
  const [outcome, setOutcome] = useState<Outcome>('falsePositive');
  const update = useMutation({
    mutationFn: async (changes: Change[]) => {
      for (const body of changes)
        unwrap(await api.PATCH('/v1/cases/{id}', { params: { path: { id: c.id } }, body }));
    },
    onSuccess: () => {
      setNote('');
      void queryClient.invalidateQueries({ queryKey: ['case'] });
      void queryClient.invalidateQueries({ queryKey: ['audit'] });
    },
  });
  // A case is closed from investigating: an open case is taken up first.
  const close = (last: Change): Change[] =>
    c.state === 'open' ? [{ state: 'investigating' }, last] : [last];
  // The loaded alerts' transfers; the report names every alert's transfer whether linked or not.
  const evidence = [...new Set(alerts.flatMap((a) => (a.transferId ? [a.transferId] : [])))];
  const canFile = preview !== undefined && preview.problems.length === 0;
  return (
    <Paper withBorder p="sm">
      <Stack gap="sm">
        <Title order={2} size="h4">
          Work the case
        </Title>
        <Group align="flex-end">
          <Select
            label="Assignee"
            placeholder="Pick an officer"
            data={people.map((p) => ({ value: p.id, label: p.displayName }))}
            value={assignee}
            onChange={setAssignee}
            searchable
            clearable
            w={260}
            error={fieldErrorOf(update.error, 'assignee')}
          />
          <Button
            variant="default"
            disabled={assignee === c.assignee}
            onClick={() =>
              update.mutate([
                {
                  assignee,
                  ...(c.state === 'open' ? { state: 'investigating' as const } : {}),
                },
              ])
            }
          >
            Assign
          </Button>
        </Group>
        <Textarea
          label="Note or reason"
          description="Kept on the case and, when filing, written to the report as the action taken"
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
          error={fieldErrorOf(update.error, 'note')}
        />
        <Group>
          <Button variant="default" disabled={!note} onClick={() => update.mutate([{ note }])}>
            Add note
          </Button>
        </Group>
        <Group align="flex-end">
          <SegmentedControl
            aria-label="Outcome"
            data={[
              { value: 'falsePositive', label: 'False positive' },
              { value: 'confirmed', label: 'Confirmed' },
            ]}
            value={outcome}
            onChange={(v) => setOutcome(v)}
          />
          <Button
            variant="outline"
            onClick={() =>
              update.mutate(close({ state: 'closed', outcome, ...(note ? { note } : {}) }))
            }
          >
            Close without a report
          </Button>
          <Button
            color="red"
            disabled={!canFile}
            loading={update.isPending}
            title={canFile ? undefined : 'The preview names what is missing'}
            onClick={() =>
              update.mutate(
                close({
                  state: 'closed',
                  outcome: 'reported',
                  linkTransferIds: evidence,
                  ...(note ? { note } : {}),
                }),
              )
            }
          >
            File the goAML report
          </Button>
        </Group>
        <FormError error={update.error} />
      </Stack>
    </Paper>
  );
}

export function CaseDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const { nameOf: assigneeName } = useAssignees();
  const { list, alerts } = useCaseAlerts(id);
  const detail = useQuery({
    queryKey: ['case', id],
    queryFn: async () => unwrap(await api.GET('/v1/cases/{id}', { params: { path: { id } } })),
  });
  const nameOf = useNames([detail.data?.partyId]);
  const preview = useQuery({
    queryKey: ['case', id, 'goaml'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/cases/{id}/goaml/preview', { params: { path: { id } } })),
  });
  if (detail.isPending) return <Loading />;
  if (detail.error) return <ErrorState error={detail.error} />;
  const c = detail.data;
  return (
    <Page
      title={`Case: ${nameOf(c.partyId)}`}
      description={
        <Anchor component={Link} to="/compliance/cases" size="sm">
          All cases
        </Anchor>
      }
    >
      <SimpleGrid cols={{ base: 2, md: 6 }} spacing="sm">
        <Fact label="Severity" value={<SeverityBadge severity={c.severity} />} />
        <Fact label="Amount" value={formatAmounts(c.exposure)} />
        <Fact label="Age" value={ageOf(c.openedAt)} />
        <Fact
          label="State"
          value={
            <Group gap={4}>
              <Badge variant="light" color={c.state === 'closed' ? 'gray' : 'blue'}>
                {c.state}
              </Badge>
              {c.outcome && <OutcomeBadge outcome={c.outcome} />}
            </Group>
          }
        />
        <Fact label="Assignee" value={assigneeName(c.assignee)} />
        <Fact label="Alerts" value={String(c.alertCount)} />
      </SimpleGrid>
      <Evidence c={c} alerts={alerts} list={list} />
      {user.role === 'supervisor' && c.state !== 'closed' && (
        <CaseWork c={c} alerts={alerts} preview={preview.data} />
      )}
      {c.state === 'closed' && c.outcome === 'reported' && (
        <Anchor href={`/v1/cases/${c.id}/goaml`} download={`goaml-${c.id}.xml`}>
          Download the filed goAML report (XML)
        </Anchor>
      )}
      <Paper withBorder p="sm">
        <Title order={2} size="h4" mb="xs">
          goAML report {c.state === 'closed' ? '' : 'preview'}
        </Title>
        <GoamlPreview caseId={c.id} filed={c.state === 'closed' && c.outcome === 'reported'} />
      </Paper>
      <CaseTimeline c={{ ...c, alerts }} nameOf={assigneeName} />
    </Page>
  );
}

function Fact({ label, value }: { label: string; value: React.ReactNode }) {
  return (
    <Paper withBorder p="xs">
      <Text size="xs" c="dimmed">
        {label}
      </Text>
      <Text size="sm" component="div" fw={600}>
        {value}
      </Text>
    </Paper>
  );
}

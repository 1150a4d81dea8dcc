import { useState } from 'react';
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  SegmentedControl,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { LoadMore, usePagedList } from '../api/paging';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { DataTable, type Column } from '../components/DataTable';
import { fieldErrorOf, FormError } from '../components/FormError';
import { Page } from '../components/Page';
import { NameCell, TransferLink } from '../components/NameCell';
import { Empty, ErrorState, Loading } from '../components/States';
import { formatDateTime } from '../format';
import { useUser } from '../session';

type Case = components['schemas']['Case'];
type Decision = components['schemas']['Decision'];
type CaseState = Case['state'];
type Outcome = NonNullable<Case['outcome']>;

const OUTCOME_COLOR: Record<string, string> = {
  allow: 'teal',
  review: 'yellow',
  block: 'red',
  confirmed: 'red',
  reported: 'red',
  falsePositive: 'teal',
};

function CaseDetail({ id, onClosed }: { id: string; onClosed: () => void }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const detail = useQuery({
    queryKey: ['case', id],
    queryFn: async () => unwrap(await api.GET('/v1/cases/{id}', { params: { path: { id } } })),
  });
  const [assignee, setAssignee] = useState('');
  const [note, setNote] = useState('');
  const [outcome, setOutcome] = useState<Outcome>('falsePositive');
  const update = useMutation({
    mutationFn: async (body: {
      state?: CaseState;
      outcome?: Outcome;
      assignee?: string | null;
      note?: string;
    }) => unwrap(await api.PATCH('/v1/cases/{id}', { params: { path: { id } }, body })),
    onSuccess: (updated) => {
      setNote('');
      void queryClient.invalidateQueries({ queryKey: ['case'] });
      if (updated.state === 'closed') onClosed();
    },
  });
  if (detail.isPending) return <Loading />;
  if (detail.error) return <ErrorState error={detail.error} />;
  const c = detail.data;
  const canDecide = user.role === 'supervisor' && c.state !== 'closed';
  return (
    <Stack gap="sm">
      <Text size="sm">
        Party <Code>{c.partyId}</Code> · <Badge>{c.state}</Badge>{' '}
        {c.outcome && <Badge color={OUTCOME_COLOR[c.outcome] ?? 'gray'}>{c.outcome}</Badge>} ·
        assignee {c.assignee ?? 'nobody'} · opened {formatDateTime(c.openedAt)}
      </Text>
      <Title order={3} size="h5">
        Alerts ({c.alerts.length})
      </Title>
      {c.alerts.length ? (
        <Table>
          <Table.Tbody>
            {c.alerts.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>{a.rule}</Table.Td>
                <Table.Td>{a.kind}</Table.Td>
                <Table.Td>{a.score}</Table.Td>
                <Table.Td>{a.message}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Text size="sm">No alerts linked.</Text>
      )}
      <Title order={3} size="h5">
        Notes
      </Title>
      {c.notes.length ? (
        c.notes.map((n, i) => (
          <Text size="sm" key={i}>
            {formatDateTime(n.at)} <Code>{n.by}</Code>: {n.text}
          </Text>
        ))
      ) : (
        <Text size="sm">No notes.</Text>
      )}
      {c.state === 'closed' && c.outcome === 'reported' && (
        <Anchor href={`/v1/cases/${c.id}/goaml`} download={`goaml-${c.id}.xml`}>
          Download the goAML report (XML)
        </Anchor>
      )}
      {canDecide && (
        <Paper withBorder p="sm">
          <Stack gap="sm">
            <Group align="flex-end">
              <TextInput
                label="Assignee"
                value={assignee}
                onChange={(e) => setAssignee(e.currentTarget.value)}
                error={fieldErrorOf(update.error, 'assignee')}
              />
              <Button
                variant="default"
                onClick={() =>
                  update.mutate({
                    assignee: assignee || null,
                    ...(c.state === 'open' ? { state: 'investigating' as const } : {}),
                  })
                }
              >
                Assign
              </Button>
            </Group>
            <Textarea
              label="Note or reason"
              value={note}
              onChange={(e) => setNote(e.currentTarget.value)}
              error={fieldErrorOf(update.error, 'note')}
            />
            <Group>
              <Button variant="default" disabled={!note} onClick={() => update.mutate({ note })}>
                Add note
              </Button>
              <SegmentedControl
                aria-label="Outcome"
                data={[
                  { value: 'falsePositive', label: 'False positive' },
                  { value: 'confirmed', label: 'Confirmed' },
                  { value: 'reported', label: 'Reported (goAML)' },
                ]}
                value={outcome}
                onChange={(v) => setOutcome(v as Outcome)}
              />
              <Button
                color="red"
                loading={update.isPending}
                onClick={() =>
                  update.mutate({ state: 'closed', outcome, ...(note ? { note } : {}) })
                }
              >
                Close case
              </Button>
            </Group>
            <FormError error={update.error} />
          </Stack>
        </Paper>
      )}
    </Stack>
  );
}

export function CasesPage() {
  const [state, setState] = useState<string | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const query = state ? { state: state as CaseState } : {};
  const cases = usePagedList(['case', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/cases', { params: { query: { ...query, cursor } } })),
  );
  const columns: Column<Case>[] = [
    { key: 'id', header: 'Case', value: (c) => c.id, render: (c) => <Code>{c.id}</Code> },
    {
      key: 'party',
      header: 'Party',
      value: (c) => c.partyName ?? c.partyId,
      render: (c) => <NameCell name={c.partyName} id={c.partyId} />,
    },
    {
      key: 'state',
      header: 'State',
      value: (c) => c.state,
      render: (c) => <Badge>{c.state}</Badge>,
    },
    {
      key: 'outcome',
      header: 'Outcome',
      value: (c) => c.outcome ?? '',
      render: (c) =>
        c.outcome ? <Badge color={OUTCOME_COLOR[c.outcome] ?? 'gray'}>{c.outcome}</Badge> : '—',
    },
    { key: 'assignee', header: 'Assignee', value: (c) => c.assignee ?? '' },
    {
      key: 'opened',
      header: 'Opened',
      value: (c) => c.openedAt,
      render: (c) => formatDateTime(c.openedAt),
    },
  ];
  return (
    <Page
      title="Cases"
      description="Monitoring cases, newest first, a page at a time. State is filtered by the server; the rest in the browser. Click a case to assign, note, decide or export goAML."
    >
      <DataTable
        caption="Cases"
        columns={columns}
        rows={cases.rows}
        rowKey={(c) => c.id}
        loading={cases.isPending}
        error={cases.error}
        onRetry={() => void cases.refetch()}
        empty="No cases."
        csvName="cases"
        onRowClick={(c) => setSelected(c.id)}
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
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title="Case"
        size="xl"
        closeButtonProps={{ 'aria-label': 'Close the case' }}
      >
        {selected && <CaseDetail id={selected} onClosed={() => setSelected(null)} />}
      </Modal>
    </Page>
  );
}

function ReviewForm({ decision, onDone }: { decision: Decision; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [outcome, setOutcome] = useState<'allow' | 'block'>('block');
  const [note, setNote] = useState('');
  const review = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/decisions/{id}/review', {
          params: { path: { id: decision.id } },
          body: { outcome, note },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['decision'] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        review.mutate();
      }}
      noValidate
    >
      <Stack gap="sm">
        <SegmentedControl
          aria-label="Review outcome"
          data={[
            { value: 'allow', label: 'Allow' },
            { value: 'block', label: 'Block' },
          ]}
          value={outcome}
          onChange={(v) => setOutcome(v as 'allow' | 'block')}
        />
        <Textarea
          label="Reason"
          description="At least 10 characters; recorded with the decision"
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
          error={fieldErrorOf(review.error, 'note')}
        />
        <FormError error={review.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={review.isPending}>
            Record review
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

export function DecisionsPage() {
  const user = useUser();
  const [outcome, setOutcome] = useState<string | null>(null);
  const [selected, setSelected] = useState<Decision | null>(null);
  const query = outcome ? { outcome: outcome as Decision['outcome'] } : {};
  const decisions = usePagedList(['decision', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/decisions', { params: { query: { ...query, cursor } } })),
  );
  const rows = decisions.rows;
  const columns: Column<Decision>[] = [
    {
      key: 'decided',
      header: 'Decided',
      value: (d) => d.decidedAt,
      render: (d) => formatDateTime(d.decidedAt),
    },
    {
      key: 'transfer',
      header: 'Transfer',
      value: (d) => d.transferId,
      render: (d) => <TransferLink id={d.transferId} />,
    },
    { key: 'direction', header: 'Direction', value: (d) => d.direction },
    {
      key: 'outcome',
      header: 'Outcome',
      value: (d) => d.outcome,
      render: (d) => <Badge color={OUTCOME_COLOR[d.outcome] ?? 'gray'}>{d.outcome}</Badge>,
    },
    { key: 'final', header: 'Final', value: (d) => d.finalOutcome ?? '' },
    {
      key: 'reasons',
      header: 'Reasons',
      value: (d) => d.reasons.map((r) => `${r.rule}: ${r.message}`).join('; '),
    },
  ];
  return (
    <Page
      title="Policy decisions"
      description="Every transfer's gate decision with its reasons, rule versions and list snapshots. Newest first, a page at a time; outcome filtered by the server."
    >
      <DataTable
        caption="Decisions"
        columns={columns}
        rows={rows}
        rowKey={(d) => d.id}
        loading={decisions.isPending}
        error={decisions.error}
        onRetry={decisions.refetch}
        empty="No decisions."
        csvName="decisions"
        onRowClick={setSelected}
        toolbar={
          <Select
            aria-label="Outcome"
            placeholder="All outcomes"
            clearable
            data={['allow', 'review', 'block']}
            value={outcome}
            onChange={setOutcome}
            w={160}
          />
        }
      />
      <LoadMore list={decisions} />
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title="Decision"
        size="lg"
      >
        {selected && (
          <Stack gap="sm">
            {selected.reasons.map((r, i) => (
              <Text size="sm" key={i}>
                <Badge color={OUTCOME_COLOR[r.outcome] ?? 'gray'}>{r.outcome}</Badge> {r.rule} (
                {r.code}): {r.message}
              </Text>
            ))}
            <Text size="sm">
              Rules: {selected.ruleVersions.join(', ') || '—'}; lists:{' '}
              {selected.listSnapshotIds.join(', ') || '—'}; score {selected.monitoringScore}
            </Text>
            {selected.reviewedBy && (
              <Text size="sm">
                Reviewed by <Code>{selected.reviewedBy}</Code>: {selected.reviewNote}
              </Text>
            )}
            {user.role === 'supervisor' &&
              selected.outcome === 'review' &&
              !selected.finalOutcome && (
                <ReviewForm decision={selected} onDone={() => setSelected(null)} />
              )}
          </Stack>
        )}
      </Modal>
    </Page>
  );
}

export function ScreeningPage() {
  const [mode, setMode] = useState<'name' | 'address'>('name');
  const [value, setValue] = useState('');
  const screen = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/screenings', {
          body: mode === 'name' ? { name: value } : { address: value },
        }),
      ),
  });
  const result = screen.data;
  return (
    <Page
      title="Screening"
      description="Search a name or a crypto address against the active sanctions lists."
    >
      <Paper withBorder p="md">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            screen.mutate();
          }}
          noValidate
        >
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <SegmentedControl
              aria-label="Search by"
              data={[
                { value: 'name', label: 'Name' },
                { value: 'address', label: 'Address' },
              ]}
              value={mode}
              onChange={(v) => setMode(v as 'name' | 'address')}
            />
            <TextInput
              aria-label={mode === 'name' ? 'Name' : 'Address'}
              placeholder={
                mode === 'name' ? 'Full name of a person or organization' : 'Bitcoin address'
              }
              value={value}
              onChange={(e) => setValue(e.currentTarget.value)}
              error={fieldErrorOf(screen.error, mode)}
            />
            <Group>
              <Button type="submit" loading={screen.isPending}>
                Screen
              </Button>
            </Group>
          </SimpleGrid>
        </form>
        <FormError error={screen.error} />
      </Paper>
      {result && (
        <Paper withBorder p="md">
          <Title order={2} size="h4">
            Outcome:{' '}
            <Badge
              color={
                result.outcome === 'clear' ? 'teal' : result.outcome === 'review' ? 'yellow' : 'red'
              }
            >
              {result.outcome}
            </Badge>
          </Title>
          {result.matches.length ? (
            <pre style={{ whiteSpace: 'pre-wrap', fontSize: 12 }}>
              {JSON.stringify(result.matches, null, 2)}
            </pre>
          ) : (
            <Empty>No matches.</Empty>
          )}
          <Text size="sm">List snapshots: {result.listSnapshotIds.join(', ') || '—'}</Text>
        </Paper>
      )}
    </Page>
  );
}

export function ListsPage() {
  const [all, setAll] = useState(false);
  const lists = useQuery({
    queryKey: ['listSnapshot', all],
    queryFn: async () =>
      unwrap(await api.GET('/v1/lists', { params: { query: all ? { all: 'true' as const } : {} } }))
        .snapshots,
  });
  const rows = lists.data;
  return (
    <Page
      title="Sanctions list snapshots"
      description="Imported list snapshots; decisions name the snapshots they used."
    >
      <DataTable
        caption="List snapshots"
        rows={rows}
        rowKey={(s) => s.id}
        loading={lists.isPending}
        error={lists.error}
        onRetry={() => void lists.refetch()}
        empty="No lists imported."
        csvName="list-snapshots"
        toolbar={
          <Button variant="default" onClick={() => setAll(!all)}>
            {all ? 'Only active' : 'Show all'}
          </Button>
        }
        columns={[
          { key: 'list', header: 'List', value: (s) => s.listKey },
          { key: 'source', header: 'Source', value: (s) => s.source },
          { key: 'published', header: 'Published', value: (s) => s.publicationDate ?? '' },
          {
            key: 'imported',
            header: 'Imported',
            value: (s) => s.importedAt,
            render: (s) => formatDateTime(s.importedAt),
          },
          { key: 'counts', header: 'Counts', value: (s) => JSON.stringify(s.counts) },
          { key: 'active', header: 'Active', value: (s) => (s.active ? 'yes' : 'no') },
          {
            key: 'hash',
            header: 'Content hash',
            value: (s) => s.contentHash,
            render: (s) => <Code>{s.contentHash.slice(0, 12)}…</Code>,
          },
        ]}
      />
    </Page>
  );
}

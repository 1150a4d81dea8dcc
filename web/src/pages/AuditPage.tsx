import { useState } from 'react';
import { useSearchParams } from 'react-router';
import {
  Alert,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
} from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { paths } from '../api/schema';
import { DataTable, type Column } from '../components/DataTable';
import { Page } from '../components/Page';
import { ErrorState } from '../components/States';
import { formatDateTime } from '../format';

type AuditQuery = NonNullable<paths['/v1/audit']['get']['parameters']['query']>;
type AuditEvent = Awaited<ReturnType<typeof fetchAudit>>['items'][number];

async function fetchAudit(query: AuditQuery) {
  return unwrap(await api.GET('/v1/audit', { params: { query } }));
}

const FILTERS = ['entityType', 'entityId', 'action', 'actor'] as const;
type Filter = (typeof FILTERS)[number];
const FILTER_LABELS: Record<Filter, string> = {
  entityType: 'Entity type',
  entityId: 'Entity id',
  action: 'Action',
  actor: 'Actor',
};

const columns: Column<AuditEvent>[] = [
  { key: 'seq', header: 'Seq', value: (e) => e.seq, align: 'right' },
  { key: 'at', header: 'When', value: (e) => e.at, render: (e) => formatDateTime(e.at) },
  {
    key: 'actor',
    header: 'Actor',
    value: (e) => `${e.actor} (${e.actorRole})`,
    render: (e) => (
      <Stack gap={0}>
        <Code>{e.actor}</Code>
        <Text size="xs">{e.actorRole}</Text>
      </Stack>
    ),
  },
  {
    key: 'action',
    header: 'Action',
    value: (e) => e.action,
    render: (e) => <Badge variant="light">{e.action}</Badge>,
  },
  {
    key: 'entity',
    header: 'Entity',
    value: (e) => `${e.entityType} ${e.entityId}`,
    render: (e) => (
      <Text size="sm">
        {e.entityType} <Code>{e.entityId}</Code>
      </Text>
    ),
  },
  {
    key: 'hash',
    header: 'Hash',
    value: (e) => e.hash,
    render: (e) => <Code title={e.hash}>{e.hash.slice(0, 12)}…</Code>,
  },
];

/**
 * The audit log. Filtering and paging are the server's (newest first, the page's `nextCursor`);
 * the filters live in the URL so a dashboard chart can link to the rows behind it.
 */
export function AuditPage() {
  const [params, setParams] = useSearchParams();
  const [limit, setLimit] = useState('50');
  const [cursors, setCursors] = useState<string[]>([]);
  const [selected, setSelected] = useState<AuditEvent | null>(null);
  const [draft, setDraft] = useState<Record<Filter, string>>(
    () =>
      Object.fromEntries(FILTERS.map((f) => [f, params.get(f) ?? ''])) as Record<Filter, string>,
  );

  const filters: AuditQuery = {};
  for (const f of FILTERS) {
    const value = params.get(f);
    if (value) filters[f] = value;
  }
  const cursor = cursors[cursors.length - 1];
  const query: AuditQuery = {
    ...filters,
    limit: Number(limit),
    ...(cursor ? { cursor } : {}),
  };
  const events = useQuery({ queryKey: ['audit', query], queryFn: () => fetchAudit(query) });
  const verify = useMutation({
    mutationFn: async () => unwrap(await api.GET('/v1/audit/verify')),
  });

  const apply = () => {
    const next = new URLSearchParams();
    for (const f of FILTERS) if (draft[f].trim()) next.set(f, draft[f].trim());
    setCursors([]);
    setParams(next);
  };
  const rows = events.data?.items;
  const next = events.data?.nextCursor;

  return (
    <Page
      title="Audit log"
      description="Every state change in the scheme, hash-chained. Filtered and paged on the server, newest first."
      actions={
        <Button onClick={() => verify.mutate()} loading={verify.isPending}>
          Verify chain
        </Button>
      }
    >
      {verify.data &&
        (verify.data.ok ? (
          <Alert color="teal" title="Chain verified" role="status" data-testid="verify-result">
            All {verify.data.events} events link up; head hash <Code>{verify.data.headHash}</Code>.
          </Alert>
        ) : (
          <Alert color="red" title="Chain broken" role="alert" data-testid="verify-result">
            {verify.data.reason}
            {verify.data.brokenEvent && (
              <>
                {' '}
                First broken event: seq {verify.data.brokenEvent.seq} (
                <Code>{verify.data.brokenEvent.id}</Code>).
              </>
            )}
          </Alert>
        ))}
      {verify.error && <ErrorState error={verify.error} />}
      <Paper withBorder p="md">
        <form
          onSubmit={(event) => {
            event.preventDefault();
            apply();
          }}
        >
          <SimpleGrid cols={{ base: 1, sm: 2, lg: 5 }}>
            {FILTERS.map((f) => (
              <TextInput
                key={f}
                label={FILTER_LABELS[f]}
                value={draft[f]}
                onChange={(e) => {
                  const value = e.currentTarget.value;
                  setDraft((d) => ({ ...d, [f]: value }));
                }}
              />
            ))}
            <Group align="flex-end">
              <Button type="submit">Apply</Button>
              <Button
                variant="default"
                onClick={() => {
                  setDraft({ entityType: '', entityId: '', action: '', actor: '' });
                  setCursors([]);
                  setParams(new URLSearchParams());
                }}
              >
                Clear
              </Button>
            </Group>
          </SimpleGrid>
        </form>
      </Paper>
      <DataTable
        caption="Audit events"
        mode="server"
        columns={columns}
        rows={rows}
        rowKey={(e) => e.id}
        loading={events.isPending}
        error={events.error}
        onRetry={() => void events.refetch()}
        empty="No audit events match."
        csvName="audit-events"
        onRowClick={setSelected}
        toolbar={
          <Select
            aria-label="Events per page"
            data={['25', '50', '100', '500']}
            value={limit}
            onChange={(v) => {
              setLimit(v ?? '50');
              setCursors([]);
            }}
            w={90}
            allowDeselect={false}
          />
        }
      />
      <Group justify="flex-end">
        <Button
          variant="default"
          disabled={!cursors.length}
          onClick={() => setCursors((c) => c.slice(0, -1))}
        >
          Newer
        </Button>
        <Button
          variant="default"
          disabled={!next}
          onClick={() => next && setCursors((c) => [...c, next])}
        >
          Older
        </Button>
      </Group>
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title="Audit event"
        size="lg"
      >
        {selected && (
          <Stack gap="xs">
            <Text size="sm">
              <b>{selected.action}</b> on {selected.entityType} <Code>{selected.entityId}</Code> by{' '}
              <Code>{selected.actor}</Code> ({selected.actorRole}) at {formatDateTime(selected.at)}
            </Text>
            <Text size="sm">
              Request: <Code>{selected.requestId ?? '—'}</Code>
            </Text>
            <Text size="sm" fw={600}>
              Before
            </Text>
            <Code block>{JSON.stringify(selected.before, null, 2)}</Code>
            <Text size="sm" fw={600}>
              After
            </Text>
            <Code block>{JSON.stringify(selected.after, null, 2)}</Code>
            <Text size="sm">
              Previous hash <Code>{selected.prevHash}</Code>
              <br />
              Hash <Code>{selected.hash}</Code>
            </Text>
          </Stack>
        )}
      </Modal>
    </Page>
  );
}

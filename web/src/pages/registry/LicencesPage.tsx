/*
 * The licences page: the list (filtered by status), granting a licence and changing its status.
 * Its components run past 60 lines (forms and a page of JSX), kept whole.
 */
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { FocusMissing, useFocusedRow } from '../../api/focus';
import {
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { DataTable, type Column } from '../../components/DataTable';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { NameCell } from '../../components/NameCell';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { type Licence } from './shared';

const STATUS_COLOR: Record<string, string> = {
  // The darker shade: white text on the filled badge keeps a 4.5:1 contrast.
  active: 'teal.9',
  verified: 'teal.9',
  suspended: 'yellow',
  pending: 'yellow',
  revoked: 'red',
  rejected: 'red',
  expired: 'gray',
};

function GrantLicenceForm() {
  const queryClient = useQueryClient();
  const [form, setForm] = useState({
    participantId: '',
    kind: 'vasp',
    scope: '',
    validFrom: '',
    validTo: '',
  });
  const grant = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/licences', {
          body: {
            participantId: form.participantId,
            kind: form.kind,
            scope: form.scope,
            validFrom: form.validFrom,
            validTo: form.validTo || null,
          },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['licence'] }),
  });
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [key]: value }));
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Grant a licence
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          grant.mutate();
        }}
        noValidate
      >
        <SimpleGrid cols={{ base: 1, md: 3, lg: 6 }}>
          <TextInput
            label="Participant id"
            value={form.participantId}
            onChange={set('participantId')}
            error={fieldErrorOf(grant.error, 'participantId')}
          />
          <TextInput
            label="Kind"
            value={form.kind}
            onChange={set('kind')}
            error={fieldErrorOf(grant.error, 'kind')}
          />
          <TextInput
            label="Scope"
            value={form.scope}
            onChange={set('scope')}
            error={fieldErrorOf(grant.error, 'scope')}
          />
          <TextInput
            label="Valid from"
            placeholder="2026-01-01"
            value={form.validFrom}
            onChange={set('validFrom')}
            error={fieldErrorOf(grant.error, 'validFrom')}
          />
          <TextInput
            label="Valid to"
            placeholder="optional"
            value={form.validTo}
            onChange={set('validTo')}
            error={fieldErrorOf(grant.error, 'validTo')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={grant.isPending}>
              Grant
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      <FormError error={grant.error} />
    </Paper>
  );
}

function ChangeStatus({ licence, onDone }: { licence: Licence; onDone: () => void }) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<Licence['status']>(
    licence.status === 'active' ? 'suspended' : 'active',
  );
  const [reason, setReason] = useState('');
  const change = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/licences/{id}/status', {
          params: { path: { id: licence.id } },
          body: { status, reason: reason || null },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['licence'] });
      onDone();
    },
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        change.mutate();
      }}
      noValidate
    >
      <Stack>
        <Text size="sm">
          Licence <Code>{licence.id}</Code> of <Code>{licence.participantId}</Code>, now{' '}
          <b>{licence.status}</b>.
        </Text>
        <Select
          label="New status"
          data={['active', 'suspended', 'revoked', 'expired']}
          value={status}
          onChange={(v) => v && setStatus(v)}
          allowDeselect={false}
          error={fieldErrorOf(change.error, 'status')}
        />
        <Textarea
          label="Reason"
          description="Recorded in the licence history and the audit log"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          error={fieldErrorOf(change.error, 'reason')}
        />
        <FormError error={change.error} />
        <Group justify="flex-end">
          <Button type="submit" loading={change.isPending}>
            Change status
          </Button>
        </Group>
        <Title order={3} size="h5">
          History
        </Title>
        <Table>
          <Table.Tbody>
            {licence.history.map((h, i) => (
              <Table.Tr key={i}>
                <Table.Td>{formatDateTime(h.at)}</Table.Td>
                <Table.Td>
                  {h.fromStatus ?? '—'} → {h.toStatus}
                </Table.Td>
                <Table.Td>{h.reason ?? ''}</Table.Td>
                <Table.Td>
                  <Code>{h.actor}</Code>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Stack>
    </form>
  );
}

export function LicencesPage() {
  const user = useUser();
  const [params] = useSearchParams();
  const status = params.get('status');
  const [selected, setSelected] = useState<Licence | null>(null);
  // The status (from the dashboard's link) is filtered by the server, so no page hides a match.
  const query = status ? { status: status as Licence['status'] } : {};
  const licences = usePagedList(['licence', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/licences', { params: { query: { ...query, cursor } } })),
  );
  // `?id=` (the supervisor's home: a licence about to expire) highlights that licence.
  const focus = useFocusedRow(licences, (l) => l.id);
  const columns: Column<Licence>[] = [
    {
      key: 'participant',
      header: 'Participant',
      value: (l) => l.participantName ?? l.participantId,
      render: (l) => <NameCell name={l.participantName} id={l.participantId} />,
    },
    { key: 'kind', header: 'Kind', value: (l) => l.kind },
    { key: 'scope', header: 'Scope', value: (l) => l.scope },
    { key: 'from', header: 'Valid from', value: (l) => l.validFrom },
    { key: 'to', header: 'Valid to', value: (l) => l.validTo ?? '' },
    {
      key: 'status',
      header: 'Status',
      value: (l) => l.status,
      render: (l) => <Badge color={STATUS_COLOR[l.status] ?? 'gray'}>{l.status}</Badge>,
    },
    { key: 'reason', header: 'Reason', value: (l) => l.statusReason ?? '' },
  ];
  return (
    <Page
      title="Licences"
      description={`Licences of platforms and miners${status ? `, status ${status}` : ''}, newest first, a page at a time. Status is filtered by the server; the rest in the browser. ${user.role === 'supervisor' ? 'Click a licence to suspend, reinstate or revoke it with a reason.' : ''}`}
    >
      {user.role === 'supervisor' && <GrantLicenceForm />}
      <FocusMissing show={focus.missing} what="licence" />
      <DataTable
        caption="Licences"
        columns={columns}
        rows={licences.rows}
        rowKey={(l) => l.id}
        loading={licences.isPending}
        error={licences.error}
        onRetry={() => void licences.refetch()}
        empty="No licences."
        csvName="licences"
        focusKey={focus.key}
        {...(user.role === 'supervisor' ? { onRowClick: setSelected } : {})}
      />
      <LoadMore list={licences} />
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title="Licence status"
        size="lg"
        closeButtonProps={{ 'aria-label': 'Close the licence' }}
      >
        {selected && <ChangeStatus licence={selected} onDone={() => setSelected(null)} />}
      </Modal>
    </Page>
  );
}

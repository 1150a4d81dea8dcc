import { useState, type FormEvent } from 'react';
import {
  Alert,
  Badge,
  Button,
  Code,
  CopyButton,
  Group,
  Paper,
  Select,
  SimpleGrid,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../api/client';
import { LoadMore, usePagedList } from '../api/paging';
import type { components } from '../api/schema';
import { DataTable, type Column } from '../components/DataTable';
import { Page } from '../components/Page';
import { ErrorState } from '../components/States';
import { formatDateTime } from '../format';
import { ROLE_LABELS, useUser, type Role } from '../session';

type ApiKey = components['schemas']['ApiKey'];

function CreateKeyForm() {
  const user = useUser();
  const queryClient = useQueryClient();
  // The supervisor issues keys to any registered participant's person; everyone else only to
  // themselves (the key acts as the person who made it, so it is never a second approver).
  const forSelf = user.role !== 'supervisor';
  const roles: Role[] = forSelf
    ? [user.role]
    : ['supervisor', 'platform', 'company', 'miner', 'auditor'];
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>(roles[0] ?? 'company');
  const [participantId, setParticipantId] = useState(forSelf ? user.participantId : '');
  const [platformId, setPlatformId] = useState(forSelf ? (user.platformId ?? '') : '');
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/keys', {
          body: { name, role, participantId, ...(platformId ? { platformId } : {}) },
        }),
      ),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['apiKey'] }),
  });
  const error = create.error instanceof ApiError ? create.error : null;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Create an API key
      </Title>
      <form onSubmit={submit} noValidate>
        <SimpleGrid cols={{ base: 1, md: 5 }}>
          <TextInput
            label="Name"
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={error?.fieldError('name')}
          />
          <Select
            label="Role"
            data={roles.map((r) => ({ value: r, label: ROLE_LABELS[r] }))}
            value={role}
            onChange={(v) => v && setRole(v)}
            allowDeselect={false}
            error={error?.fieldError('role')}
          />
          <TextInput
            label="Participant id"
            readOnly={forSelf}
            description={forSelf ? 'A key for yourself: it acts as you' : undefined}
            value={participantId}
            onChange={(e) => setParticipantId(e.currentTarget.value)}
            error={error?.fieldError('participantId')}
          />
          <TextInput
            label="Platform id"
            readOnly={forSelf}
            description="For a company's key"
            value={platformId}
            onChange={(e) => setPlatformId(e.currentTarget.value)}
            error={error?.fieldError('platformId')}
          />
          <Group align="flex-end">
            <Button type="submit" loading={create.isPending}>
              Create key
            </Button>
          </Group>
        </SimpleGrid>
      </form>
      {create.error && !error?.body.issues && <ErrorState error={create.error} />}
      {create.data && (
        <Alert color="teal" mt="md" title="Key created — copy the token now, it is not shown again">
          <Group gap="sm">
            <Code data-testid="new-token">{create.data.token}</Code>
            <CopyButton value={create.data.token}>
              {({ copied, copy }) => (
                <Button size="xs" variant="light" onClick={copy}>
                  {copied ? 'Copied' : 'Copy'}
                </Button>
              )}
            </CopyButton>
          </Group>
        </Alert>
      )}
    </Paper>
  );
}

export function KeysPage() {
  const user = useUser();
  const queryClient = useQueryClient();
  const keys = usePagedList(['apiKey', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/keys', { params: { query: { cursor } } })),
  );
  const revoke = useMutation({
    mutationFn: async (id: string) =>
      unwrap(await api.DELETE('/v1/keys/{id}', { params: { path: { id } } })),
    onSuccess: () => void queryClient.invalidateQueries({ queryKey: ['apiKey'] }),
  });
  const canWrite = user.role !== 'auditor';
  const columns: Column<ApiKey>[] = [
    { key: 'name', header: 'Name', value: (k) => k.name },
    { key: 'role', header: 'Role', value: (k) => k.role },
    {
      key: 'participant',
      header: 'Participant',
      value: (k) => k.participantId,
      render: (k) => <Code>{k.participantId}</Code>,
    },
    {
      key: 'created',
      header: 'Created',
      value: (k) => k.createdAt,
      render: (k) => formatDateTime(k.createdAt),
    },
    {
      key: 'status',
      header: 'Status',
      value: (k) => (k.revokedAt ? 'revoked' : 'active'),
      render: (k) =>
        k.revokedAt ? (
          <Badge color="gray">Revoked {formatDateTime(k.revokedAt)}</Badge>
        ) : (
          <Badge color="teal">Active</Badge>
        ),
    },
    {
      key: 'actions',
      header: 'Actions',
      sortable: false,
      value: () => '',
      render: (k) =>
        canWrite && !k.revokedAt ? (
          <Button
            size="xs"
            color="red"
            variant="light"
            onClick={() => revoke.mutate(k.id)}
            loading={revoke.isPending && revoke.variables === k.id}
          >
            Revoke
          </Button>
        ) : null,
    },
  ];
  return (
    <Page
      title="API keys"
      description="Keys for machines (platform back-offices, integrations). Newest first, a page at a time; filtered and sorted in the browser."
    >
      {user.role !== 'auditor' && <CreateKeyForm />}
      {revoke.error && <ErrorState error={revoke.error} />}
      <DataTable
        caption="API keys you may see"
        columns={columns}
        rows={keys.rows}
        rowKey={(k) => k.id}
        loading={keys.isPending}
        error={keys.error}
        onRetry={() => void keys.refetch()}
        empty="No API keys."
        csvName="api-keys"
      />
      <LoadMore list={keys} />
    </Page>
  );
}

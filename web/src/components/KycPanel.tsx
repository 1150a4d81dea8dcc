import { useState } from 'react';
import {
  ActionIcon,
  Badge,
  Button,
  Fieldset,
  Group,
  Paper,
  Select,
  SimpleGrid,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, ApiError, unwrap } from '../api/client';
import { allPages } from '../api/paging';
import type { components, paths } from '../api/schema';
import { formatDateTime } from '../format';
import type { User } from '../session';
import { CountryPicker } from './CountryPicker';
import { fieldErrorOf, FormError } from './FormError';
import { ErrorState, Loading } from './States';

type Participant = components['schemas']['Participant'];
type Kyc = components['schemas']['Kyc'];
type KycBody = NonNullable<
  paths['/v1/participants/{id}/kyc']['put']['requestBody']
>['content']['application/json'];
type Owner = KycBody['beneficialOwners'][number];
type KycDocument = KycBody['documents'][number];

const KYC_COLOR: Record<string, string> = {
  verified: 'teal',
  pending: 'yellow',
  rejected: 'red',
  expired: 'gray',
};

/** Who may change a KYC/KYB record: the platform that keeps it, or the supervisor. */
export const mayEditKyc = (user: User) => user.role === 'platform' || user.role === 'supervisor';

const inAYear = () => {
  const d = new Date();
  d.setUTCFullYear(d.getUTCFullYear() + 1);
  return d.toISOString().slice(0, 10);
};

function KycForm({
  participant,
  current,
  onSaved,
}: {
  participant: Participant;
  current: Kyc | null;
  onSaved: () => void;
}) {
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<KycBody['status']>(current?.status ?? 'verified');
  const [riskRating, setRisk] = useState<KycBody['riskRating']>(current?.riskRating ?? 'low');
  const [reviewDue, setReviewDue] = useState(current?.reviewDue ?? inAYear());
  const [owners, setOwners] = useState<Owner[]>(
    current?.beneficialOwners.map((o) => ({
      name: o.name,
      country: o.country,
      share: o.share,
      ...(o.dateOfBirth ? { dateOfBirth: o.dateOfBirth } : {}),
    })) ?? [],
  );
  const [documents, setDocuments] = useState<KycDocument[]>(current?.documents ?? []);
  const [reason, setReason] = useState('');
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.PUT('/v1/participants/{id}/kyc', {
          params: { path: { id: participant.id } },
          body: {
            status,
            riskRating,
            reviewDue,
            beneficialOwners: owners.map((o) => ({
              name: o.name,
              country: o.country.toUpperCase(),
              share: o.share,
              ...(o.dateOfBirth ? { dateOfBirth: o.dateOfBirth } : {}),
            })),
            documents,
            reason: reason || null,
          },
        }),
      ),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: ['kyc', participant.id] });
      void queryClient.invalidateQueries({ queryKey: ['kycHistory', participant.id] });
      onSaved();
    },
  });
  const error = save.error;
  const setOwner = (i: number, patch: Partial<Owner>) =>
    setOwners((list) => list.map((o, j) => (j === i ? { ...o, ...patch } : o)));
  const setDocument = (i: number, patch: Partial<KycDocument>) =>
    setDocuments((list) => list.map((d, j) => (j === i ? { ...d, ...patch } : d)));
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
      noValidate
      aria-label={`KYC/KYB of ${participant.legalName}`}
    >
      <Stack gap="sm">
        <SimpleGrid cols={{ base: 1, sm: 3 }}>
          <Select
            label="KYC status"
            data={['pending', 'verified', 'rejected', 'expired']}
            value={status}
            onChange={(v) => v && setStatus(v)}
            allowDeselect={false}
            error={fieldErrorOf(error, 'status')}
          />
          <Select
            label="Risk rating"
            data={['low', 'medium', 'high']}
            value={riskRating}
            onChange={(v) => v && setRisk(v)}
            allowDeselect={false}
            error={fieldErrorOf(error, 'riskRating')}
          />
          <TextInput
            label="Review due"
            type="date"
            value={reviewDue}
            onChange={(e) => setReviewDue(e.currentTarget.value)}
            error={fieldErrorOf(error, 'reviewDue')}
          />
        </SimpleGrid>
        <Fieldset legend="Beneficial owners (natural persons holding 25 % or more)">
          <Stack gap="xs">
            {owners.length === 0 && <Text size="sm">None recorded.</Text>}
            {owners.map((o, i) => (
              <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
                <TextInput
                  label={`Owner ${i + 1}: name`}
                  value={o.name}
                  onChange={(e) => setOwner(i, { name: e.currentTarget.value })}
                  error={fieldErrorOf(error, `beneficialOwners.${i}.name`)}
                />
                <CountryPicker
                  label={`Owner ${i + 1}: country`}
                  w={220}
                  value={o.country}
                  onChange={(country) => setOwner(i, { country })}
                  error={fieldErrorOf(error, `beneficialOwners.${i}.country`)}
                />
                <TextInput
                  label={`Owner ${i + 1}: share %`}
                  w={120}
                  value={o.share}
                  onChange={(e) => setOwner(i, { share: e.currentTarget.value })}
                  error={fieldErrorOf(error, `beneficialOwners.${i}.share`)}
                />
                <TextInput
                  label={`Owner ${i + 1}: date of birth`}
                  type="date"
                  value={o.dateOfBirth ?? ''}
                  onChange={(e) => {
                    const value = e.currentTarget.value;
                    setOwners((list) =>
                      list.map((x, j) =>
                        j !== i
                          ? x
                          : value
                            ? { ...x, dateOfBirth: value }
                            : { name: x.name, country: x.country, share: x.share },
                      ),
                    );
                  }}
                  error={fieldErrorOf(error, `beneficialOwners.${i}.dateOfBirth`)}
                />
                <ActionIcon
                  mt={26}
                  variant="subtle"
                  color="red"
                  aria-label={`Remove owner ${i + 1}`}
                  onClick={() => setOwners((list) => list.filter((_, j) => j !== i))}
                >
                  ×
                </ActionIcon>
              </Group>
            ))}
            <Text c="red" size="sm">
              {fieldErrorOf(error, 'beneficialOwners')}
            </Text>
            <Group>
              <Button
                variant="default"
                size="xs"
                onClick={() => setOwners((list) => [...list, { name: '', country: '', share: '' }])}
              >
                Add a beneficial owner
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <Fieldset legend="Documents (references)">
          <Stack gap="xs">
            {documents.length === 0 && <Text size="sm">None referenced.</Text>}
            {documents.map((d, i) => (
              <Group key={i} align="flex-start" wrap="nowrap" gap="xs">
                <TextInput
                  label={`Document ${i + 1}: type`}
                  value={d.type}
                  onChange={(e) => setDocument(i, { type: e.currentTarget.value })}
                  error={fieldErrorOf(error, `documents.${i}.type`)}
                />
                <TextInput
                  label={`Document ${i + 1}: number`}
                  value={d.number}
                  onChange={(e) => setDocument(i, { number: e.currentTarget.value })}
                  error={fieldErrorOf(error, `documents.${i}.number`)}
                />
                <TextInput
                  label={`Document ${i + 1}: issuer`}
                  value={d.issuer}
                  onChange={(e) => setDocument(i, { issuer: e.currentTarget.value })}
                  error={fieldErrorOf(error, `documents.${i}.issuer`)}
                />
                <ActionIcon
                  mt={26}
                  variant="subtle"
                  color="red"
                  aria-label={`Remove document ${i + 1}`}
                  onClick={() => setDocuments((list) => list.filter((_, j) => j !== i))}
                >
                  ×
                </ActionIcon>
              </Group>
            ))}
            <Text c="red" size="sm">
              {fieldErrorOf(error, 'documents')}
            </Text>
            <Group>
              <Button
                variant="default"
                size="xs"
                onClick={() =>
                  setDocuments((list) => [...list, { type: '', number: '', issuer: '' }])
                }
              >
                Add a document
              </Button>
            </Group>
          </Stack>
        </Fieldset>
        <Textarea
          label="Reason"
          description="Why the status changes; recorded in the audit log"
          value={reason}
          onChange={(e) => setReason(e.currentTarget.value)}
          error={fieldErrorOf(error, 'reason')}
        />
        <FormError error={error} />
        <Group justify="flex-end">
          <Button type="submit" loading={save.isPending}>
            Save KYC/KYB
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

/** The status changes of a KYC/KYB record, from the audit log (which the supervisor and auditor read). */
function KycHistory({ participantId }: { participantId: string }) {
  const history = useQuery({
    queryKey: ['kycHistory', participantId],
    // Every event of the participant, page after page: none dropped behind a page's end. Bounded
    // by nature (one participant's record changes), and not a picker.
    queryFn: async () =>
      (
        await allPages(async (cursor) =>
          unwrap(
            await api.GET('/v1/audit', {
              params: {
                query: { entityType: 'participant', entityId: participantId, limit: 500, cursor },
              },
            }),
          ),
        )
      ).filter((e) => e.action.startsWith('kyc.')),
  });
  const statusOf = (value: unknown) =>
    value && typeof value === 'object' && 'status' in value ? String(value.status) : '—';
  const reasonOf = (value: unknown) =>
    value &&
    typeof value === 'object' &&
    'statusReason' in value &&
    typeof value.statusReason === 'string'
      ? value.statusReason
      : '';
  return (
    <Stack gap="xs">
      <Title order={4} size="h6">
        Status history (audit log)
      </Title>
      {history.isPending ? (
        <Loading />
      ) : history.error ? (
        <ErrorState error={history.error} />
      ) : history.data.length === 0 ? (
        <Text size="sm">No change recorded.</Text>
      ) : (
        <Table data-testid="kyc-history">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th>By</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.data.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{formatDateTime(e.at)}</Table.Td>
                <Table.Td>
                  {e.before ? `${statusOf(e.before)} → ` : ''}
                  {statusOf(e.after)}
                </Table.Td>
                <Table.Td>{reasonOf(e.after)}</Table.Td>
                <Table.Td>{e.actor}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

/** A company's or counterparty's KYC/KYB record, and its editor for the platform and supervisor. */
export function KycPanel({ participant, user }: { participant: Participant; user: User }) {
  const [editing, setEditing] = useState(false);
  const kyc = useQuery({
    queryKey: ['kyc', participant.id],
    queryFn: async () => {
      try {
        return unwrap(
          await api.GET('/v1/participants/{id}/kyc', { params: { path: { id: participant.id } } }),
        );
      } catch (error) {
        // No record yet answers 404 too.
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
  const k = kyc.data;
  return (
    <Paper withBorder p="sm">
      <Group justify="space-between" mb="xs">
        <Title order={3} size="h5">
          KYC / KYB
        </Title>
        {mayEditKyc(user) && !kyc.isPending && !kyc.error && (
          <Button size="xs" variant="light" onClick={() => setEditing((v) => !v)}>
            {editing ? 'Close the editor' : k ? 'Edit KYC/KYB' : 'Record KYC/KYB'}
          </Button>
        )}
      </Group>
      {kyc.isPending ? (
        <Loading />
      ) : kyc.error ? (
        <ErrorState error={kyc.error} onRetry={() => void kyc.refetch()} />
      ) : editing ? (
        <KycForm participant={participant} current={k ?? null} onSaved={() => setEditing(false)} />
      ) : k ? (
        <Stack gap="xs" data-testid="kyc-record">
          <Group gap="xs">
            <Badge variant="light" color={KYC_COLOR[k.status] ?? 'gray'}>
              {k.status}
            </Badge>
            <Text size="sm">
              risk {k.riskRating} · review due {k.reviewDue} · updated {formatDateTime(k.updatedAt)}
            </Text>
          </Group>
          {k.statusReason && <Text size="sm">Reason: {k.statusReason}</Text>}
          <Table>
            <Table.Caption>Beneficial owners</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Country</Table.Th>
                <Table.Th>Share</Table.Th>
                <Table.Th>Date of birth</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {k.beneficialOwners.map((o, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{o.name}</Table.Td>
                  <Table.Td>{o.country}</Table.Td>
                  <Table.Td>{o.share} %</Table.Td>
                  <Table.Td>{o.dateOfBirth ?? ''}</Table.Td>
                </Table.Tr>
              ))}
              {k.beneficialOwners.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={4}>None recorded.</Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
          <Table>
            <Table.Caption>Documents</Table.Caption>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Type</Table.Th>
                <Table.Th>Number</Table.Th>
                <Table.Th>Issuer</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {k.documents.map((d, i) => (
                <Table.Tr key={i}>
                  <Table.Td>{d.type}</Table.Td>
                  <Table.Td>{d.number}</Table.Td>
                  <Table.Td>{d.issuer}</Table.Td>
                </Table.Tr>
              ))}
              {k.documents.length === 0 && (
                <Table.Tr>
                  <Table.Td colSpan={3}>None referenced.</Table.Td>
                </Table.Tr>
              )}
            </Table.Tbody>
          </Table>
        </Stack>
      ) : (
        <Text size="sm">No KYC/KYB record yet: the party cannot trade until it is verified.</Text>
      )}
      {(user.role === 'supervisor' || user.role === 'auditor') && (
        <KycHistory participantId={participant.id} />
      )}
    </Paper>
  );
}

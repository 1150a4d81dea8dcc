import { useState } from 'react';
import { Link, useNavigate, useParams, useSearchParams } from 'react-router';
import {
  Anchor,
  Badge,
  Button,
  Code,
  Group,
  Modal,
  Paper,
  Radio,
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
import { api, ApiError, unwrap } from '../api/client';
import { allPages, LoadMore, usePagedList } from '../api/paging';
import type { components } from '../api/schema';
import { DataTable, type Column } from '../components/DataTable';
import { fieldErrorOf, FormError } from '../components/FormError';
import { Page } from '../components/Page';
import { ErrorState, Loading } from '../components/States';
import { KycPanel } from '../components/KycPanel';
import { CounterpartyAddressesPanel } from '../components/CounterpartyAddressesPanel';
import { PERSON_TYPE_LABELS, PersonTypeBadge } from '../components/TravelRule';
import { formatDateTime } from '../format';
import { useUser } from '../session';

type Participant = components['schemas']['Participant'];
type ParticipantKind = Participant['kind'];
type PersonType = Participant['personType'];
type Licence = components['schemas']['Licence'];
type Wallet = components['schemas']['Wallet'];
type ScreeningFlag = components['schemas']['ScreeningFlag'];
type ScreeningHit = components['schemas']['ScreeningHit'];
type HitDecision = ScreeningHit['reviews'][number]['decision'];

const SCREENING_COLOR: Record<string, string> = { clear: 'teal', review: 'yellow', blocked: 'red' };

/** A party's screening flag: open hits to review, or blocked (a confirmed hit, or the 50 % rule). */
function ScreeningBadge({ flag }: { flag: ScreeningFlag }) {
  if (!flag) return null;
  return (
    <Badge
      variant="light"
      color={SCREENING_COLOR[flag.status] ?? 'gray'}
      data-testid="screening-flag"
      title={
        flag.status === 'clear'
          ? 'No standing sanctions screening hit'
          : `${flag.openHits} screening hit(s) to resolve; KYC verification is refused until then`
      }
    >
      {flag.status === 'clear'
        ? 'screening clear'
        : flag.status === 'review'
          ? `screening hit · ${flag.openHits} to review`
          : 'screening: blocked'}
    </Badge>
  );
}

const REASON_LABEL: Record<ScreeningHit['reason'], string> = {
  name: 'name',
  beneficial_owner: 'beneficial owner',
  ownership_50_percent: 'owned 50 % or more by listed persons (OFAC 50 % rule)',
  address: 'address',
};

/**
 * The party's screening hits, each with its review; the platform's officer resolves an open hit
 * (false positive or confirmed), the supervisor a confirmed one (keep blocked or release).
 */
function ScreeningHitsPanel({ participant }: { participant: Participant }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const [resolving, setResolving] = useState<{ hit: ScreeningHit; decision: HitDecision } | null>(
    null,
  );
  const [reason, setReason] = useState('');
  // The hits still on their lists, every page of them (a party has few).
  const hits = useQuery({
    queryKey: ['screeningHits', participant.id],
    queryFn: () =>
      allPages(async (cursor) =>
        unwrap(
          await api.GET('/v1/screenings/hits', {
            params: { query: { partyId: participant.id, status: 'listed', limit: 500, cursor } },
          }),
        ),
      ),
  });
  const resolve = useMutation({
    mutationFn: async () => {
      if (!resolving) throw new Error('no hit chosen');
      return unwrap(
        await api.POST('/v1/screenings/hits/{id}/resolution', {
          params: { path: { id: resolving.hit.id } },
          body: { decision: resolving.decision, reason },
        }),
      );
    },
    onSuccess: () => {
      setResolving(null);
      setReason('');
      void queryClient.invalidateQueries({ queryKey: ['screeningHits', participant.id] });
      void queryClient.invalidateQueries({ queryKey: ['participant'] });
    },
  });
  if (hits.isPending) return <Loading />;
  if (hits.error) return <ErrorState error={hits.error} onRetry={() => void hits.refetch()} />;
  const standing = hits.data.filter((h) => h.status === 'listed');
  if (standing.length === 0) return null;
  const decisionsFor = (hit: ScreeningHit): HitDecision[] => {
    if (hit.review === 'open') {
      const officer = hit.platformId
        ? user.role === 'platform' && user.participantId === hit.platformId
        : user.role === 'supervisor';
      if (!officer) return [];
      // An exact address match is never a false positive.
      return hit.reason === 'address' ? ['confirmed'] : ['false_positive', 'confirmed'];
    }
    if (hit.review === 'confirmed' && user.role === 'supervisor') return ['blocked', 'released'];
    return [];
  };
  const label: Record<HitDecision, string> = {
    false_positive: 'False positive',
    confirmed: 'Confirm',
    blocked: 'Keep blocked',
    released: 'Release',
  };
  return (
    <Paper withBorder p="sm" data-testid="screening-hits">
      <Stack gap="xs">
        <Title order={4}>Screening hits</Title>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Why</Table.Th>
              <Table.Th>List entry</Table.Th>
              <Table.Th>Matched</Table.Th>
              <Table.Th>Review</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {standing.map((hit) => (
              <Table.Tr key={hit.id}>
                <Table.Td>{REASON_LABEL[hit.reason]}</Table.Td>
                <Table.Td>
                  {hit.source} <Code>{hit.listEntryId}</Code> (score {hit.score.toFixed(2)})
                </Table.Td>
                <Table.Td>{hit.matchedName ?? hit.subject}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={hit.blocking ? 'red' : 'teal'}>
                    {hit.review.replace('_', ' ')}
                  </Badge>
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {decisionsFor(hit).map((decision) => (
                      <Button
                        key={decision}
                        size="xs"
                        variant="light"
                        onClick={() => {
                          setResolving({ hit, decision });
                          resolve.reset();
                        }}
                      >
                        {label[decision]}
                      </Button>
                    ))}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {resolving && (
          <form
            onSubmit={(e) => {
              e.preventDefault();
              resolve.mutate();
            }}
            aria-label="Resolve the screening hit"
            noValidate
          >
            <Stack gap="xs">
              <Textarea
                label={`${label[resolving.decision]}: why`}
                description="At least 10 characters; recorded in the audit log"
                value={reason}
                onChange={(e) => setReason(e.currentTarget.value)}
                error={fieldErrorOf(resolve.error, 'reason')}
              />
              <FormError error={resolve.error} />
              <Group gap="xs">
                <Button type="submit" loading={resolve.isPending}>
                  {label[resolving.decision]}
                </Button>
                <Button variant="default" onClick={() => setResolving(null)}>
                  Cancel
                </Button>
              </Group>
            </Stack>
          </form>
        )}
      </Stack>
    </Paper>
  );
}

const STATUS_COLOR: Record<string, string> = {
  active: 'teal',
  verified: 'teal',
  suspended: 'yellow',
  pending: 'yellow',
  revoked: 'red',
  rejected: 'red',
  expired: 'gray',
};

function ParticipantDetail({ participant }: { participant: Participant }) {
  const user = useUser();
  const kycApplies = participant.kind === 'company' || participant.kind === 'counterparty';
  // A company sees its platform's counterparties by name only: their KYC/KYB record and addresses
  // are kept by the platform (the server answers 404 to the company for them).
  const keptByPlatform = user.role === 'company' && participant.id !== user.participantId;
  const wallets = useQuery({
    queryKey: ['wallet', { companyId: participant.id }],
    enabled: participant.kind === 'company',
    // A company has one wallet: the first page holds it.
    queryFn: async () =>
      unwrap(await api.GET('/v1/wallets', { params: { query: { companyId: participant.id } } }))
        .items,
  });
  const seesScreening = participant.screening !== null;
  return (
    <Stack gap="sm">
      {seesScreening && (
        <Group gap="xs">
          <ScreeningBadge flag={participant.screening} />
        </Group>
      )}
      {seesScreening && participant.screening?.status !== 'clear' && (
        <ScreeningHitsPanel participant={participant} />
      )}
      {participant.personType === 'natural' && (
        <Group gap="xs">
          <PersonTypeBadge personType="natural" />
          <Text size="sm">
            A sole trader: screened against listed individuals; Travel Rule data names a natural
            person.
          </Text>
        </Group>
      )}
      <Text size="sm">
        <Code>{participant.id}</Code> · {participant.kind} · {participant.country}
        {participant.lei ? (
          <>
            {' '}
            · LEI <Code>{participant.lei}</Code>
          </>
        ) : null}
        {participant.registrationNumber ? ` · registration ${participant.registrationNumber}` : ''}
      </Text>
      {participant.addresses.map((a, i) => (
        <Text size="sm" key={i}>
          {[...a.lines, [a.postalCode, a.city].filter(Boolean).join(' '), a.country].join(', ')}
        </Text>
      ))}
      {keptByPlatform ? (
        <Text size="sm" data-testid="kept-by-platform">
          A foreign counterparty registered by your platform. Its KYC/KYB record and addresses are
          kept by the platform; you can name it on your contracts.
        </Text>
      ) : (
        <>
          {kycApplies && <KycPanel participant={participant} user={user} />}
          {participant.kind === 'counterparty' && (
            <CounterpartyAddressesPanel counterparty={participant} user={user} />
          )}
          {participant.kind === 'company' && wallets.data && (
            <Text size="sm">
              Wallet:{' '}
              {wallets.data.length === 0
                ? 'none registered yet.'
                : wallets.data.map((w) => (
                    <Anchor key={w.id} component={Link} to={`/registry/wallets/${w.id}`}>
                      {w.label} ({w.id})
                    </Anchor>
                  ))}
            </Text>
          )}
        </>
      )}
    </Stack>
  );
}

/** Who registers what: the supervisor platforms and miners, a platform its companies and counterparties. */
const KINDS_BY_ROLE: Partial<Record<string, ParticipantKind[]>> = {
  supervisor: ['platform', 'miner', 'company', 'counterparty'],
  platform: ['company', 'counterparty'],
};

const PERSON_TYPE_HELP =
  'A sole trader is a natural person: screening compares the name with listed individuals, not companies.';

/**
 * Registers a participant. A counterparty is a legal person (a company) or a natural person (a
 * foreign sole trader), whose name is asked for in parts (first names, last name) and registered
 * as one name, first names first.
 */
function RegisterParticipantForm({ onRegistered }: { onRegistered: (p: Participant) => void }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const kinds = KINDS_BY_ROLE[user.role] ?? [];
  const [kind, setKind] = useState<ParticipantKind>(
    kinds.includes('counterparty') ? 'counterparty' : (kinds[0] ?? 'counterparty'),
  );
  const [personType, setPersonType] = useState<PersonType>('legal');
  const [form, setForm] = useState({
    legalName: '',
    firstNames: '',
    lastName: '',
    otherNames: '',
    country: '',
    registrationNumber: '',
    lei: '',
    addressLine: '',
    postalCode: '',
    city: '',
    addressCountry: '',
  });
  const [platformId, setPlatformId] = useState<string | null>(null);
  const [lastNameMissing, setLastNameMissing] = useState(false);
  const needsPlatform =
    user.role === 'supervisor' && (kind === 'company' || kind === 'counterparty');
  const platforms = useQuery({
    queryKey: ['participant', { kind: 'platform' }],
    enabled: needsPlatform,
    queryFn: () => everyParticipant({ kind: 'platform' }),
  });
  const natural = kind === 'counterparty' && personType === 'natural';
  const register = useMutation({
    mutationFn: async () => {
      const country = form.country.trim().toUpperCase();
      const hasAddress = [form.addressLine, form.city, form.postalCode].some((v) => v.trim());
      return unwrap(
        await api.POST('/v1/participants', {
          body: {
            kind,
            ...(kind === 'counterparty' ? { personType } : {}),
            legalName: natural
              ? [form.firstNames.trim(), form.lastName.trim()].filter(Boolean).join(' ')
              : form.legalName.trim(),
            otherNames: form.otherNames
              .split(';')
              .map((name) => name.trim())
              .filter(Boolean),
            country,
            registrationNumber: form.registrationNumber.trim() || null,
            lei: form.lei.trim().toUpperCase() || null,
            ...(hasAddress
              ? {
                  addresses: [
                    {
                      lines: form.addressLine.trim() ? [form.addressLine.trim()] : [],
                      city: form.city.trim(),
                      ...(form.postalCode.trim() ? { postalCode: form.postalCode.trim() } : {}),
                      country: form.addressCountry.trim().toUpperCase() || country,
                    },
                  ],
                }
              : {}),
            ...(needsPlatform ? { platformId: platformId ?? '' } : {}),
          },
        }),
      );
    },
    onSuccess: (participant) => {
      void queryClient.invalidateQueries({ queryKey: ['participant'] });
      onRegistered(participant);
    },
  });
  const error = register.error;
  const set = (key: keyof typeof form) => (e: { currentTarget: { value: string } }) => {
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [key]: value }));
  };
  const nameError = fieldErrorOf(error, 'legalName');
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a participant
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          // The last name is IVMS101's primary identifier: a natural person cannot do without it.
          const missing = natural && form.lastName.trim() === '';
          setLastNameMissing(missing);
          if (!missing) register.mutate();
        }}
        noValidate
        aria-label="Register a participant"
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Select
              label="Participant kind"
              data={kinds}
              value={kind}
              onChange={(v) => v && setKind(v as ParticipantKind)}
              allowDeselect={false}
              error={fieldErrorOf(error, 'kind')}
            />
            {needsPlatform && (
              <Select
                label="Platform"
                description="The licensed platform that carries its payments"
                searchable
                data={(platforms.data ?? []).map((p) => ({ value: p.id, label: p.legalName }))}
                value={platformId}
                onChange={setPlatformId}
                error={fieldErrorOf(error, 'platformId')}
              />
            )}
          </SimpleGrid>
          {kind === 'counterparty' && (
            <Radio.Group
              label="Person type"
              description={PERSON_TYPE_HELP}
              value={personType}
              onChange={(v) => setPersonType(v as PersonType)}
              error={fieldErrorOf(error, 'personType')}
            >
              <Group mt={4}>
                <Radio value="legal" label={PERSON_TYPE_LABELS.legal} />
                <Radio value="natural" label={PERSON_TYPE_LABELS.natural} />
              </Group>
            </Radio.Group>
          )}
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            {natural ? (
              <>
                <TextInput
                  label="First names"
                  value={form.firstNames}
                  onChange={set('firstNames')}
                />
                <TextInput
                  label="Last name"
                  description="Family name, as on the identity document"
                  value={form.lastName}
                  onChange={set('lastName')}
                  error={lastNameMissing ? 'the last name is required' : nameError}
                />
              </>
            ) : (
              <TextInput
                label="Legal name"
                value={form.legalName}
                onChange={set('legalName')}
                error={nameError}
              />
            )}
            <TextInput
              label="Other names"
              description={
                natural
                  ? 'Other spellings or the name in another script, separated by “;”'
                  : 'Trading names or transliterations, separated by “;”'
              }
              value={form.otherNames}
              onChange={set('otherNames')}
              error={fieldErrorOf(error, 'otherNames.0')}
            />
            <TextInput
              label={natural ? 'Country of residence' : 'Country'}
              description="ISO 3166-1, e.g. DE"
              maxLength={2}
              value={form.country}
              onChange={set('country')}
              error={fieldErrorOf(error, 'country')}
            />
            <TextInput
              label={natural ? 'Trade register number' : 'Registration number'}
              description="Optional"
              value={form.registrationNumber}
              onChange={set('registrationNumber')}
              error={fieldErrorOf(error, 'registrationNumber')}
            />
            <TextInput
              label="LEI"
              description="Optional, ISO 17442"
              value={form.lei}
              onChange={set('lei')}
              error={fieldErrorOf(error, 'lei')}
            />
          </SimpleGrid>
          <SimpleGrid cols={{ base: 1, md: 4 }}>
            <TextInput
              label="Address line"
              description="Optional"
              value={form.addressLine}
              onChange={set('addressLine')}
              error={fieldErrorOf(error, 'addresses.0.lines.0')}
            />
            <TextInput
              label="Postcode"
              value={form.postalCode}
              onChange={set('postalCode')}
              error={fieldErrorOf(error, 'addresses.0.postalCode')}
            />
            <TextInput
              label="City"
              value={form.city}
              onChange={set('city')}
              error={fieldErrorOf(error, 'addresses.0.city')}
            />
            <TextInput
              label="Address country"
              description="If not the country above"
              maxLength={2}
              value={form.addressCountry}
              onChange={set('addressCountry')}
              error={fieldErrorOf(error, 'addresses.0.country')}
            />
          </SimpleGrid>
          <FormError error={error} />
          <Group justify="flex-end">
            <Button type="submit" loading={register.isPending}>
              Register participant
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

/** Every participant the caller may see (of a kind), every page: for pickers and names. */
function everyParticipant(query: { kind?: Participant['kind'] }) {
  return allPages(async (cursor) =>
    unwrap(
      await api.GET('/v1/participants', { params: { query: { ...query, limit: 500, cursor } } }),
    ),
  );
}

export function ParticipantsPage() {
  const [kind, setKind] = useState<string | null>(null);
  const [selected, setSelected] = useState<Participant | null>(null);
  const user = useUser();
  const mayRegister = (KINDS_BY_ROLE[user.role] ?? []).length > 0;
  const [registering, setRegistering] = useState(false);
  const [registered, setRegistered] = useState<Participant | null>(null);
  const query = kind ? { kind: kind as Participant['kind'] } : {};
  const participants = usePagedList(['participant', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/participants', { params: { query: { ...query, cursor } } })),
  );
  const columns: Column<Participant>[] = [
    { key: 'name', header: 'Legal name', value: (p) => p.legalName },
    { key: 'kind', header: 'Kind', value: (p) => p.kind },
    {
      key: 'person',
      header: 'Person',
      value: (p) => (p.personType === 'natural' ? 'natural person' : 'legal person'),
      render: (p) => <PersonTypeBadge personType={p.personType} />,
    },
    { key: 'country', header: 'Country', value: (p) => p.country },
    { key: 'lei', header: 'LEI', value: (p) => p.lei ?? '' },
    { key: 'platform', header: 'Platform', value: (p) => p.platformId ?? '' },
    ...(user.role === 'company' || user.role === 'miner'
      ? []
      : [
          {
            key: 'screening',
            header: 'Screening',
            value: (p: Participant) => p.screening?.status ?? '',
            render: (p: Participant) => <ScreeningBadge flag={p.screening} />,
          },
        ]),
    {
      key: 'created',
      header: 'Registered',
      value: (p) => p.createdAt,
      render: (p) => formatDateTime(p.createdAt),
    },
  ];
  return (
    <Page
      title="Participants"
      description="Platforms, companies, miners and foreign counterparties you may see, newest first, a page at a time. Kind is filtered by the server; text filter and sort in the browser."
      actions={
        mayRegister && (
          <Button
            onClick={() => setRegistering((v) => !v)}
            variant={registering ? 'default' : 'filled'}
          >
            {registering ? 'Close the form' : 'Register a participant'}
          </Button>
        )
      }
    >
      {registering && (
        <RegisterParticipantForm
          onRegistered={(p) => {
            setRegistering(false);
            setRegistered(p);
          }}
        />
      )}
      {registered && (
        <Group gap="xs" data-testid="participant-registered">
          <Text>
            Registered {registered.legalName} (<Code>{registered.id}</Code>), a {registered.kind}
          </Text>
          <PersonTypeBadge personType={registered.personType} />
        </Group>
      )}
      <DataTable
        caption="Participants"
        columns={columns}
        rows={participants.rows}
        rowKey={(p) => p.id}
        loading={participants.isPending}
        error={participants.error}
        onRetry={() => void participants.refetch()}
        empty="No participants."
        csvName="participants"
        onRowClick={setSelected}
        toolbar={
          <Select
            aria-label="Kind"
            placeholder="All kinds"
            clearable
            data={['platform', 'company', 'miner', 'counterparty']}
            value={kind}
            onChange={setKind}
            w={160}
          />
        }
      />
      <LoadMore list={participants} />
      <Modal
        opened={selected !== null}
        onClose={() => setSelected(null)}
        title={selected?.legalName ?? ''}
        size="xl"
        closeButtonProps={{ 'aria-label': 'Close the participant' }}
      >
        {selected && <ParticipantDetail participant={selected} />}
      </Modal>
    </Page>
  );
}

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
          onChange={(v) => v && setStatus(v as Licence['status'])}
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
  const columns: Column<Licence>[] = [
    {
      key: 'participant',
      header: 'Participant',
      value: (l) => l.participantId,
      render: (l) => <Code>{l.participantId}</Code>,
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

// ---------------------------------------------------------------- wallets

const SCRIPT_TYPES = [
  { value: 'wpkh', label: 'Native segwit, BIP84 (wpkh)' },
  { value: 'tr', label: 'Taproot, BIP86 (tr)' },
];

/**
 * The descriptor to register: the text as given when it is a descriptor, or, for a bare account
 * xpub/tpub, that key's receive and change branches (BIP389 `<0;1>`) in the chosen script type.
 */
function descriptorOf(input: string, scriptType: string): string {
  const text = input.trim();
  return /^[xt]pub[1-9A-HJ-NP-Za-km-z]+$/.test(text) ? `${scriptType}(${text}/<0;1>/*)` : text;
}

function RegisterWalletForm() {
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const companies = useQuery({
    queryKey: ['participant', { kind: 'company' }],
    queryFn: () => everyParticipant({ kind: 'company' }),
  });
  const [companyId, setCompanyId] = useState<string | null>(null);
  const [descriptor, setDescriptor] = useState('');
  const [scriptType, setScriptType] = useState('wpkh');
  const [label, setLabel] = useState('');
  const register = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/wallets', {
          body: {
            companyId: companyId ?? '',
            descriptor: descriptorOf(descriptor, scriptType),
            ...(label ? { label } : {}),
          },
        }),
      ),
    onSuccess: (wallet) => {
      void queryClient.invalidateQueries({ queryKey: ['wallet'] });
      void navigate(`/registry/wallets/${wallet.id}`);
    },
  });
  const error = register.error;
  const bareKey = descriptorOf(descriptor, scriptType) !== descriptor.trim();
  return (
    <Paper withBorder p="md">
      <Title order={2} size="h4" mb="sm">
        Register a watch-only wallet
      </Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          register.mutate();
        }}
        noValidate
      >
        <Stack gap="sm">
          <SimpleGrid cols={{ base: 1, md: 3 }}>
            <Select
              label="Company"
              searchable
              data={(companies.data ?? []).map((p) => ({
                value: p.id,
                label: `${p.legalName} (${p.country})`,
              }))}
              value={companyId}
              onChange={setCompanyId}
              error={fieldErrorOf(error, 'companyId')}
            />
            <Select
              label="Script type"
              description="Used when you give a bare xpub/tpub"
              data={SCRIPT_TYPES}
              value={scriptType}
              onChange={(v) => v && setScriptType(v)}
              allowDeselect={false}
            />
            <TextInput
              label="Label"
              placeholder="default"
              value={label}
              onChange={(e) => setLabel(e.currentTarget.value)}
              error={fieldErrorOf(error, 'label')}
            />
          </SimpleGrid>
          <Textarea
            label="Descriptor or xpub"
            description={
              bareKey
                ? `Registered as ${descriptorOf(descriptor, scriptType)}`
                : 'An output descriptor with a receive branch (…/0/* or …/<0;1>/*), e.g. wpkh([fingerprint/84h/1h/0h]tpub…/<0;1>/*), or an account xpub/tpub. Public keys only: the platform signs elsewhere.'
            }
            autosize
            minRows={2}
            value={descriptor}
            onChange={(e) => setDescriptor(e.currentTarget.value)}
            error={fieldErrorOf(error, 'descriptor')}
            styles={{ input: { fontFamily: 'monospace' } }}
          />
          <FormError error={error} />
          <Group justify="flex-end">
            <Button type="submit" loading={register.isPending}>
              Register wallet
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function useParticipantNames() {
  const participants = useQuery({
    queryKey: ['participant', {}],
    queryFn: () => everyParticipant({}),
  });
  return (id: string) => participants.data?.find((p) => p.id === id)?.legalName ?? id;
}

export function WalletsPage() {
  const user = useUser();
  const nameOf = useParticipantNames();
  const wallets = usePagedList(['wallet', 'list'], async (cursor) =>
    unwrap(await api.GET('/v1/wallets', { params: { query: { cursor } } })),
  );
  const columns: Column<Wallet>[] = [
    {
      key: 'id',
      header: 'Wallet',
      value: (w) => w.id,
      render: (w) => (
        <Anchor component={Link} to={`/registry/wallets/${w.id}`}>
          {w.id}
        </Anchor>
      ),
    },
    { key: 'company', header: 'Company', value: (w) => nameOf(w.companyId) },
    { key: 'label', header: 'Label', value: (w) => w.label },
    { key: 'network', header: 'Network', value: (w) => w.network },
    {
      key: 'handed',
      header: 'Receive addresses handed out',
      align: 'right',
      value: (w) => String(w.nextIndex),
    },
    {
      key: 'change',
      header: 'Change addresses',
      align: 'right',
      value: (w) => String(w.nextChangeIndex),
    },
    {
      key: 'created',
      header: 'Registered',
      value: (w) => w.createdAt,
      render: (w) => formatDateTime(w.createdAt),
    },
  ];
  const registers = user.role === 'platform' || user.role === 'supervisor';
  return (
    <Page
      title="Wallets"
      description={
        registers
          ? "Companies' watch-only wallets (descriptors of public keys): register one for a client company, and follow the addresses it hands out. Newest first, a page at a time; filtered and sorted in the browser."
          : 'Your watch-only wallet, registered by your platform, and the addresses it hands out. Read-only.'
      }
    >
      {registers && <RegisterWalletForm />}
      <DataTable
        caption="Wallets"
        columns={columns}
        rows={wallets.rows}
        rowKey={(w) => w.id}
        loading={wallets.isPending}
        error={wallets.error}
        onRetry={() => void wallets.refetch()}
        empty={
          registers
            ? 'No wallet registered yet.'
            : 'Your platform has registered no wallet for you yet.'
        }
        csvName="wallets"
      />
      <LoadMore list={wallets} />
    </Page>
  );
}

interface AddressRow {
  branch: 'receive' | 'change';
  index: number;
  address: string;
  used: boolean;
  purpose: string;
  usedAt: string;
}

/** One wallet: its descriptor, the addresses handed out (used) and the next ones (unused). */
export function WalletDetailPage() {
  const { id = '' } = useParams();
  const user = useUser();
  const queryClient = useQueryClient();
  const nameOf = useParticipantNames();
  const [purpose, setPurpose] = useState('');
  const wallet = useQuery({
    queryKey: ['wallet', id],
    queryFn: async () => unwrap(await api.GET('/v1/wallets/{id}', { params: { path: { id } } })),
  });
  const addresses = useQuery({
    queryKey: ['wallet', id, 'addresses'],
    enabled: wallet.isSuccess,
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/wallets/{id}/addresses', {
          params: { path: { id }, query: { unused: 5 } },
        }),
      ),
  });
  const derive = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/v1/wallets/{id}/addresses', {
          params: { path: { id } },
          body: { purpose: purpose || null },
        }),
      ),
    onSuccess: () => {
      setPurpose('');
      void queryClient.invalidateQueries({ queryKey: ['wallet'] });
    },
  });
  if (wallet.isPending) return <Loading />;
  if (wallet.error) {
    // Another company's wallet, or none: the server answers 404 for both, and so do we.
    const missing = wallet.error instanceof ApiError && wallet.error.status < 500;
    return (
      <Page title={missing ? 'Wallet not available' : 'Wallet'}>
        {missing ? (
          <Text data-testid="not-available">
            This wallet does not exist or is not available to you.
          </Text>
        ) : (
          <ErrorState error={wallet.error} onRetry={() => void wallet.refetch()} />
        )}
        <Anchor component={Link} to="/registry/wallets">
          Back to the wallets
        </Anchor>
      </Page>
    );
  }
  const w = wallet.data;
  const rows: AddressRow[] = [
    ...(addresses.data?.addresses ?? []).map((a) => ({
      branch: a.branch,
      index: a.derivationIndex,
      address: a.address,
      used: true,
      purpose: a.purpose ?? '',
      usedAt: a.usedAt,
    })),
    ...(addresses.data?.unused ?? []).map((a) => ({
      branch: 'receive' as const,
      index: a.derivationIndex,
      address: a.address,
      used: false,
      purpose: '',
      usedAt: '',
    })),
  ];
  const columns: Column<AddressRow>[] = [
    { key: 'branch', header: 'Branch', value: (r) => r.branch },
    { key: 'index', header: 'Index', align: 'right', value: (r) => String(r.index) },
    {
      key: 'address',
      header: 'Address',
      value: (r) => r.address,
      render: (r) => <Code style={{ wordBreak: 'break-all' }}>{r.address}</Code>,
    },
    {
      key: 'state',
      header: 'State',
      value: (r) => (r.used ? 'used' : 'unused'),
      render: (r) => (
        <Badge variant="light" color={r.used ? 'gray' : 'teal'}>
          {r.used ? 'used' : 'unused'}
        </Badge>
      ),
    },
    { key: 'purpose', header: 'Purpose', value: (r) => r.purpose },
    {
      key: 'at',
      header: 'Handed out',
      value: (r) => r.usedAt,
      render: (r) => (r.usedAt ? formatDateTime(r.usedAt) : '—'),
    },
  ];
  const mayDerive = user.role === 'platform' || user.role === 'supervisor';
  return (
    <Page
      title={`Wallet ${w.label}`}
      description={`Watch-only wallet of ${nameOf(w.companyId)} on ${w.network}: the one wallet its invoices take receive addresses from and its payouts send change to. Used addresses have been handed out (to an invoice, a payout's change, or by hand); unused ones are the next of the receive branch, to compare with the wallet software that holds the keys.`}
    >
      <Paper withBorder p="md">
        <Table>
          <Table.Tbody>
            <Table.Tr>
              <Table.Th scope="row" w={200}>
                Wallet
              </Table.Th>
              <Table.Td>
                <Code>{w.id}</Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Company</Table.Th>
              <Table.Td>{nameOf(w.companyId)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Platform</Table.Th>
              <Table.Td>{nameOf(w.platformId)}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Descriptor</Table.Th>
              <Table.Td>
                <Code block style={{ whiteSpace: 'pre-wrap', wordBreak: 'break-all' }}>
                  {w.descriptor}
                </Code>
              </Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Next receive index</Table.Th>
              <Table.Td>{w.nextIndex}</Table.Td>
            </Table.Tr>
            <Table.Tr>
              <Table.Th scope="row">Next change index</Table.Th>
              <Table.Td>{w.nextChangeIndex}</Table.Td>
            </Table.Tr>
          </Table.Tbody>
        </Table>
      </Paper>
      {mayDerive && (
        <Paper withBorder p="md">
          <form
            onSubmit={(e) => {
              e.preventDefault();
              derive.mutate();
            }}
            noValidate
          >
            <Group align="flex-end">
              <TextInput
                label="Purpose"
                placeholder="e.g. deposit from the company's bank"
                value={purpose}
                onChange={(e) => setPurpose(e.currentTarget.value)}
                error={fieldErrorOf(derive.error, 'purpose')}
              />
              <Button type="submit" loading={derive.isPending}>
                Hand out the next address
              </Button>
            </Group>
            <FormError error={derive.error} />
          </form>
        </Paper>
      )}
      <DataTable
        caption="Addresses"
        columns={columns}
        rows={addresses.data ? rows : undefined}
        rowKey={(r) => `${r.branch}/${r.index}`}
        loading={addresses.isPending}
        error={addresses.error}
        onRetry={() => void addresses.refetch()}
        empty="No address yet."
        csvName={`wallet-${w.id}-addresses`}
      />
    </Page>
  );
}

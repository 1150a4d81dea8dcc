/*
 * The participants page: the list (paged), the registration form and the detail dialog.
 * ParticipantsPage runs past 60 lines (one page's JSX), kept whole.
 */
import { useState } from 'react';
import { useSearchParams } from 'react-router';
import { Button, Code, Group, Modal, Select, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { LoadMore, usePagedList } from '../../api/paging';
import { FOCUS_PARAM, FocusMissing, useFocusedRow } from '../../api/focus';
import { DataTable, type Column } from '../../components/DataTable';
import { Page } from '../../components/Page';
import { PersonTypeBadge } from '../../components/TravelRule';
import { formatDateTime } from '../../format';
import { useUser } from '../../session';
import { KINDS_BY_ROLE, type Participant } from './shared';
import { ScreeningBadge } from './ScreeningHitsPanel';
import { RegisterParticipantForm } from './RegisterParticipantForm';
import { ParticipantDetail } from './ParticipantDetail';
import { NameCell } from '../../components/NameCell';

export function ParticipantsPage() {
  const [kind, setKind] = useState<string | null>(null);
  const [chosen, setChosen] = useState<Participant | null>(null);
  // `?id=par_…` (a home page's KYC review or screening hit, a form's error linking to what fixes
  // it) opens that participant, read on its own: it may be on no loaded page.
  const [params, setParams] = useSearchParams();
  const linked = useLinkedParticipant(params.get(FOCUS_PARAM));
  const selected = chosen ?? linked ?? null;
  const setSelected = (p: Participant | null) => {
    setChosen(p);
    if (!p && params.has(FOCUS_PARAM)) setParams({}, { replace: true });
  };
  const user = useUser();
  const mayRegister = (KINDS_BY_ROLE[user.role] ?? []).length > 0;
  const [registering, setRegistering] = useState(false);
  const [registered, setRegistered] = useState<Participant | null>(null);
  const query = kind ? { kind: kind as Participant['kind'] } : {};
  const participants = usePagedList(['participant', 'list', query], async (cursor) =>
    unwrap(await api.GET('/v1/participants', { params: { query: { ...query, cursor } } })),
  );
  // The linked row is highlighted in the list too, once its page is loaded.
  const focus = useFocusedRow(participants, (p) => p.id);
  // A platform is named from the rows loaded (a client company's platform is among them for the
  // platform's officers and the supervisor); else its id stays.
  const nameOf = (id: string) => participants.rows?.find((p) => p.id === id)?.legalName ?? null;
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
    {
      key: 'platform',
      header: 'Platform',
      value: (p) => (p.platformId ? (p.platformName ?? nameOf(p.platformId) ?? p.platformId) : ''),
      render: (p) =>
        p.platformId ? (
          <NameCell name={p.platformName ?? nameOf(p.platformId)} id={p.platformId} />
        ) : (
          '—'
        ),
    },
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
      <FocusMissing show={focus.missing} what="participant" />
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
        focusKey={focus.key}
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

/** The participant a link names, read on its own (it may be on no loaded page). */
function useLinkedParticipant(id: string | null): Participant | undefined {
  const one = useQuery({
    queryKey: ['participant', 'one', id],
    enabled: id !== null,
    queryFn: async () =>
      unwrap(await api.GET('/v1/participants/{id}', { params: { path: { id: id ?? '' } } })),
  });
  return id === null ? undefined : one.data;
}

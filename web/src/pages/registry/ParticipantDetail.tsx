/*
 * One participant's detail dialog. ParticipantDetail runs past 60 lines (one component's JSX),
 * kept whole.
 */
import { Link } from 'react-router';
import { Anchor, Code, Group, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { KycPanel } from '../../components/KycPanel';
import { CounterpartyAddressesPanel } from '../../components/CounterpartyAddressesPanel';
import { PersonTypeBadge } from '../../components/TravelRule';
import { useUser } from '../../session';
import { type Participant } from './shared';
import { ScreeningBadge, ScreeningHitsPanel } from './ScreeningHitsPanel';

/** One participant as its detail dialog shows it: screening, KYC/KYB, addresses or wallet. */

export function ParticipantDetail({ participant }: { participant: Participant }) {
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

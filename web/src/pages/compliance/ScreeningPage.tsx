import { useState } from 'react';
import {
  Badge,
  Button,
  Card,
  Group,
  Paper,
  Progress,
  SegmentedControl,
  SimpleGrid,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import type { components } from '../../api/schema';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { Page } from '../../components/Page';
import { Empty } from '../../components/States';
import { formatDateTime } from '../../format';
import { OUTCOME_COLOR } from './shared';

type Match = components['schemas']['ScreeningMatch'];
type Snapshot = components['schemas']['ListSnapshot'];

const LIST_NAME: Record<string, string> = {
  'ofac-sdn': 'OFAC SDN',
  un: 'UN Security Council consolidated list',
  'eu-fsf': 'EU financial sanctions (FSF)',
  'address-list': 'Sanctioned addresses',
};

const OUTCOME_TEXT: Record<string, string> = {
  match: 'Match: a listed entry matches; do not proceed',
  review: 'Possible match: review before proceeding',
  clear: 'Clear: nothing on the active lists comes close',
};

/** The list snapshot a match was taken against: which list, published and imported when. */
function SnapshotLine({ snapshot, id }: { snapshot: Snapshot | undefined; id: string }) {
  return (
    <Text size="xs" title={id}>
      Snapshot {id.slice(-8)}
      {snapshot?.publicationDate ? ` · published ${snapshot.publicationDate}` : ''}
      {snapshot ? ` · imported ${formatDateTime(snapshot.importedAt)}` : ''}
    </Text>
  );
}

function MatchCard({
  match,
  rank,
  snapshot,
}: {
  match: Match;
  rank: number;
  snapshot: Snapshot | undefined;
}) {
  const percent = Math.round(match.score * 100);
  const programmes = match.entry?.programs ?? [];
  return (
    <Card withBorder padding="sm" component="li" aria-label={`Match ${rank}: ${match.primaryName}`}>
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <div>
            <Text fw={700}>
              {rank}. {match.primaryName}
            </Text>
            <Text size="sm">
              {LIST_NAME[match.source] ?? match.source} · entry {match.listEntryId}
              {match.entry ? ` · ${match.entry.entryKind}` : ''}
            </Text>
          </div>
          <Badge variant="light" color={OUTCOME_COLOR[match.outcome] ?? 'gray'}>
            {match.outcome}
          </Badge>
        </Group>
        <Group gap="xs" wrap="nowrap">
          <Text size="sm" w={110}>
            Score {percent} %
          </Text>
          <Progress
            value={percent}
            color={OUTCOME_COLOR[match.outcome] ?? 'gray'}
            flex={1}
            aria-label={`Score ${percent} %`}
          />
        </Group>
        <Text size="sm">
          Matched on:{' '}
          {match.matchedAlias ? `the alias “${match.matchedAlias}”` : 'the primary name'}
        </Text>
        <Text size="sm">
          Programme: {programmes.length ? programmes.join(', ') : 'not given by the list'}
          {match.entry?.countries.length ? ` · countries ${match.entry.countries.join(', ')}` : ''}
        </Text>
        <SnapshotLine snapshot={snapshot} id={match.listSnapshotId} />
      </Stack>
    </Card>
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
  const snapshots = useQuery({
    queryKey: ['listSnapshot', 'active'],
    queryFn: async () =>
      unwrap(await api.GET('/v1/lists', { params: { query: { limit: 500 } } })).items,
  });
  const snapshotOf = (id: string) => snapshots.data?.find((s) => s.id === id);
  const result = screen.data;
  return (
    <Page
      title="Screening"
      description="Search a name or a crypto address against the active sanctions lists. Matches are ranked by score, with the list entry, the alias that matched and the list snapshot used."
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
              onChange={(v) => setMode(v)}
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
        <Paper withBorder p="md" aria-live="polite">
          <Stack gap="sm">
            <Title order={2} size="h4">
              {OUTCOME_TEXT[result.outcome] ?? result.outcome}
            </Title>
            <Text size="sm">
              “{result.query}” against {result.listSnapshotIds.length} active list
              {result.listSnapshotIds.length === 1 ? '' : 's'}:{' '}
              {result.listSnapshotIds
                .map((id) => {
                  const s = snapshotOf(id);
                  return s
                    ? `${LIST_NAME[s.source] ?? s.source}${s.publicationDate ? ` of ${s.publicationDate}` : ''}`
                    : id;
                })
                .join('; ') || 'none loaded'}
              .
            </Text>
            {result.matches.length ? (
              <Stack gap="xs" component="ol" style={{ listStyle: 'none', padding: 0, margin: 0 }}>
                {result.matches.map((m, i) => (
                  <MatchCard
                    key={`${m.listSnapshotId}|${m.listEntryId}`}
                    match={m}
                    rank={i + 1}
                    snapshot={snapshotOf(m.listSnapshotId)}
                  />
                ))}
              </Stack>
            ) : (
              <Empty>No list entry comes close.</Empty>
            )}
          </Stack>
        </Paper>
      )}
    </Page>
  );
}

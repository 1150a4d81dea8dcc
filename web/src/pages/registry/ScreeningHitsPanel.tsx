/*
 * A party's screening flag and standing hits, with the officers' resolution. ScreeningHitsPanel
 * runs past 60 lines: it is one table and one form over one query and one mutation, kept whole.
 */
import { useState } from 'react';
import { Badge, Button, Code, Group, Paper, Stack, Table, Textarea, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { allPages } from '../../api/paging';
import type { components } from '../../api/schema';
import { fieldErrorOf, FormError } from '../../components/FormError';
import { ErrorState, Loading } from '../../components/States';
import { useUser } from '../../session';
import { type Participant } from './shared';

type ScreeningFlag = components['schemas']['ScreeningFlag'];
type ScreeningHit = components['schemas']['ScreeningHit'];
type HitDecision = ScreeningHit['reviews'][number]['decision'];

const SCREENING_COLOR: Record<string, string> = { clear: 'teal', review: 'yellow', blocked: 'red' };

/** A party's screening flag: open hits to review, or blocked (a confirmed hit, or the 50 % rule). */
export function ScreeningBadge({ flag }: { flag: ScreeningFlag }) {
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
export function ScreeningHitsPanel({ participant }: { participant: Participant }) {
  const user = useUser();
  const queryClient = useQueryClient();
  const [resolving, setResolving] = useState<{ hit: ScreeningHit; decision: HitDecision } | null>(
    null,
  );
  const [reason, setReason] = useState('');
  // The hits still on their lists, every page of them: bounded by nature (one party's hits).
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

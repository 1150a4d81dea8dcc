import { useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../../api/client';
import { allPages } from '../../api/paging';
import type { components } from '../../api/schema';

/** What the registry pages share: the API types, who registers which kind, participant lookups. */

export type Participant = components['schemas']['Participant'];
export type ParticipantKind = Participant['kind'];
export type PersonType = Participant['personType'];
export type Licence = components['schemas']['Licence'];
export type Wallet = components['schemas']['Wallet'];

/** Who registers what: the supervisor platforms and miners, a platform its companies and counterparties. */
export const KINDS_BY_ROLE: Partial<Record<string, ParticipantKind[]>> = {
  supervisor: ['platform', 'miner', 'company', 'counterparty'],
  platform: ['company', 'counterparty'],
};

/** Every participant the caller may see (of a kind), every page: for pickers and names. */
export function everyParticipant(query: { kind?: Participant['kind'] }) {
  return allPages(async (cursor) =>
    unwrap(
      await api.GET('/v1/participants', { params: { query: { ...query, limit: 500, cursor } } }),
    ),
  );
}

export function useParticipantNames() {
  const participants = useQuery({
    queryKey: ['participant', {}],
    queryFn: () => everyParticipant({}),
  });
  return (id: string) => participants.data?.find((p) => p.id === id)?.legalName ?? id;
}

import { useParticipantNamesOf } from '../../api/names';
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

/** The names of the participants `ids` names (the rows shown), looked up by id. */
export function useParticipantNames(ids: readonly (string | null | undefined)[]) {
  return useParticipantNamesOf(ids);
}

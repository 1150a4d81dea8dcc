import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from './client';
import type { components } from './schema';

/**
 * Ids per name lookup: a page may hold 500, but 500 ids make a URL longer than a server's
 * request line usually allows, so the lookup asks a hundred at a time.
 */
const IDS_PER_LOOKUP = 100;

type ParticipantFound = components['schemas']['Participant'];

/**
 * The participants `ids` names (those the caller may see), read by id (`/v1/participants?ids=`),
 * never by reading every page of participants: the lookup grows with the rows shown, not with
 * the registry. Undefined until they are read; an id the caller may not see is left out.
 */
export function useParticipantsOf(
  ids: readonly (string | null | undefined)[],
): ParticipantFound[] | undefined {
  const wanted = [
    ...new Set(ids.filter((id): id is string => !!id && id.startsWith('par_'))),
  ].sort();
  const found = useQuery({
    queryKey: ['participant', 'ids', wanted],
    enabled: wanted.length > 0,
    queryFn: async () => {
      const found: ParticipantFound[] = [];
      for (let start = 0; start < wanted.length; start += IDS_PER_LOOKUP) {
        const chunk = wanted.slice(start, start + IDS_PER_LOOKUP);
        const page = unwrap(
          await api.GET('/v1/participants', {
            params: { query: { ids: chunk.join(','), limit: chunk.length } },
          }),
        );
        found.push(...page.items);
      }
      return found;
    },
    staleTime: 60_000,
    // Loading the next page of rows keeps the participants already known on screen meanwhile.
    placeholderData: keepPreviousData,
  });
  return found.data;
}

/**
 * The legal names of the participants `ids` names (useParticipantsOf): an id the caller may not
 * see stays an id.
 */
export function useParticipantNamesOf(ids: readonly (string | null | undefined)[]) {
  const found = useParticipantsOf(ids);
  const names = new Map((found ?? []).map((p) => [p.id, p.legalName]));
  return (id: string) => names.get(id) ?? id;
}

import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';
import { PICKER_PAGE, SearchPicker, type SearchPickerProps } from './SearchPicker';

type Participant = components['schemas']['Participant'];

const labelOf = (p: Participant) => `${p.legalName} (${p.country})`;

/**
 * A participant picker that searches the registry (`?q=`, a prefix of the legal name) and reads
 * one page of matches, so it does not grow with the registry: the newest 50 before anything is
 * typed, then the names starting with what was typed. The picked participant stays an option
 * while the search changes.
 */
export function ParticipantPicker({
  kind,
  platformId,
  onChange,
  ...props
}: {
  kind?: Participant['kind'];
  platformId?: string;
  onChange: (id: string | null) => void;
} & Omit<
  SearchPickerProps<Participant>,
  'queryKey' | 'search' | 'idOf' | 'labelOf' | 'onChange' | 'nothingFound'
>) {
  return (
    <SearchPicker
      {...props}
      queryKey={['participant', 'search', { kind, platformId }]}
      search={async (q) =>
        unwrap(
          await api.GET('/v1/participants', {
            params: {
              query: {
                ...(kind ? { kind } : {}),
                ...(platformId ? { platformId } : {}),
                ...(q ? { q } : {}),
                limit: PICKER_PAGE,
              },
            },
          }),
        ).items
      }
      idOf={(p) => p.id}
      labelOf={labelOf}
      onChange={(id) => onChange(id)}
      nothingFound="No participant starts with that"
    />
  );
}

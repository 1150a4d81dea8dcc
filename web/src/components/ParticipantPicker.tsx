import { useMemo, useState } from 'react';
import { Select, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { api, unwrap } from '../api/client';
import type { components } from '../api/schema';

type Participant = components['schemas']['Participant'];

/**
 * A participant picker that searches the registry (`?q=`, a prefix of the legal name) and reads
 * one page of matches, so it does not grow with the registry: the newest 50 before anything is
 * typed, then the names starting with what was typed. The picked participant stays an option
 * while the search changes.
 */
export function ParticipantPicker({
  kind,
  platformId,
  value,
  onChange,
  ...props
}: {
  kind?: Participant['kind'];
  platformId?: string;
  value: string | null;
  onChange: (id: string | null) => void;
} & Omit<SelectProps, 'data' | 'value' | 'onChange' | 'searchable' | 'filter'>) {
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<Participant | null>(null);
  const labelOf = (p: Participant) => `${p.legalName} (${p.country})`;
  // Picking an option writes its label into the search box: that is no new search.
  const term = picked && search === labelOf(picked) ? '' : search.trim();
  const [q] = useDebouncedValue(term, 200);
  const matches = useQuery({
    queryKey: ['participant', 'search', { kind, platformId, q }],
    queryFn: async () =>
      unwrap(
        await api.GET('/v1/participants', {
          params: {
            query: {
              ...(kind ? { kind } : {}),
              ...(platformId ? { platformId } : {}),
              ...(q ? { q } : {}),
              limit: 50,
            },
          },
        }),
      ).items,
    placeholderData: keepPreviousData,
  });
  const data = useMemo(() => {
    const rows = matches.data ?? [];
    const all = picked && !rows.some((p) => p.id === picked.id) ? [picked, ...rows] : rows;
    return all.map((p) => ({ value: p.id, label: labelOf(p) }));
  }, [matches.data, picked]);
  return (
    <Select
      {...props}
      searchable
      // The server filtered by the name's prefix; the label also carries the country.
      filter={({ options }) => options}
      searchValue={search}
      onSearchChange={setSearch}
      data={data}
      value={value}
      onChange={(id) => {
        setPicked(
          id
            ? ((matches.data ?? []).find((p) => p.id === id) ?? (picked?.id === id ? picked : null))
            : null,
        );
        onChange(id);
      }}
      nothingFoundMessage={matches.isFetching ? 'Searching…' : 'No participant starts with that'}
    />
  );
}

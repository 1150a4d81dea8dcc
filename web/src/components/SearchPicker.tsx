import { useMemo, useState } from 'react';
import { Select, type SelectProps } from '@mantine/core';
import { useDebouncedValue } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';

/** How many matches a picker reads: one page, whatever the size of the list. */
export const PICKER_PAGE = 50;

export type SearchPickerProps<T> = {
  /** What identifies the list and its fixed filters (the search is added to it). */
  queryKey: readonly unknown[];
  /** One page of the list's matches for `q` (the list's `?q=`; '' before anything is typed). */
  search: (q: string) => Promise<T[]>;
  idOf: (item: T) => string;
  labelOf: (item: T) => string;
  value: string | null;
  /** The id picked and its row (null when cleared). */
  onChange: (id: string | null, item: T | null) => void;
  /** What the menu says when nothing matches. */
  nothingFound: string;
  /**
   * A few rows the page knows of that the search may not find (a market of the caller's own
   * offers, its own platform): offered while their label starts with what was typed.
   */
  extras?: readonly T[];
} & Omit<SelectProps, 'data' | 'value' | 'onChange' | 'searchable' | 'filter'>;

/**
 * A picker that searches its list on the server (`?q=`) and reads one page of matches, so it
 * does not grow with the list: the newest before anything is typed, then those starting with
 * what was typed. The picked row stays an option while the search changes.
 */
export function SearchPicker<T>({
  queryKey,
  search: searchList,
  idOf,
  labelOf,
  value,
  onChange,
  nothingFound,
  extras = [],
  ...props
}: SearchPickerProps<T>) {
  const [search, setSearch] = useState('');
  const [picked, setPicked] = useState<T | null>(null);
  // Picking an option writes its label into the search box: that is no new search.
  const term = picked && search === labelOf(picked) ? '' : search.trim();
  const [q] = useDebouncedValue(term, 200);
  const matches = useQuery({
    queryKey: [...queryKey, 'search', q],
    queryFn: () => searchList(q),
    placeholderData: keepPreviousData,
  });
  const known = useMemo(() => {
    const typed = q.toLowerCase();
    return extras.filter((r) => labelOf(r).toLowerCase().startsWith(typed));
  }, [extras, q, labelOf]);
  const data = useMemo(() => {
    const all: T[] = [];
    const seen = new Set<string>();
    for (const r of [...(picked ? [picked] : []), ...known, ...(matches.data ?? [])]) {
      if (seen.has(idOf(r))) continue;
      seen.add(idOf(r));
      all.push(r);
    }
    return all.map((r) => ({ value: idOf(r), label: labelOf(r) }));
  }, [matches.data, known, picked, idOf, labelOf]);
  return (
    <Select
      {...props}
      searchable
      // The server filtered by the search; the label may carry more than what it matched.
      filter={({ options }) => options}
      searchValue={search}
      onSearchChange={setSearch}
      data={data}
      value={value}
      onChange={(id) => {
        const row = id
          ? ((matches.data ?? []).find((r) => idOf(r) === id) ??
            known.find((r) => idOf(r) === id) ??
            (picked && idOf(picked) === id ? picked : null))
          : null;
        setPicked(row);
        onChange(id, row);
      }}
      nothingFoundMessage={matches.isFetching ? 'Searching…' : nothingFound}
    />
  );
}

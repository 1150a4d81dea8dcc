import {
  Select,
  type ComboboxItem,
  type ComboboxParsedItem,
  type SelectProps,
} from '@mantine/core';
import { COUNTRY_OPTIONS, searchCountries } from './countries';

const DATA: ComboboxItem[] = COUNTRY_OPTIONS.map((o) => ({ ...o }));

const isItem = (o: ComboboxParsedItem): o is ComboboxItem => 'value' in o;

/**
 * A country field: a searchable list of the countries by name (the project's one ISO 3166-1
 * list), sending the two-letter code. The search finds a country by its code ("DE"), its name or
 * a word of it ("germ", "korea"), or a common name ("UK"); Enter takes the best match.
 */
export function CountryPicker({
  value,
  onChange,
  ...props
}: Omit<SelectProps, 'data' | 'value' | 'onChange' | 'filter'> & {
  /** The ISO 3166-1 alpha-2 code, '' for none. */
  value: string;
  onChange: (code: string) => void;
}) {
  return (
    <Select
      placeholder="Search by name or code"
      nothingFoundMessage="No country by that name or code"
      searchable
      clearable
      selectFirstOptionOnChange
      {...props}
      data={DATA}
      value={value || null}
      onChange={(code) => onChange(code ?? '')}
      filter={({ options, search }) => searchCountries(options.filter(isItem), search)}
    />
  );
}

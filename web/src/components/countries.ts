// The one country list of the project (ISO 3166-1 alpha-2 with its English short names), the
// registry's own file: the pickers offer exactly the codes the server accepts.
import { ISO_3166_1_ALPHA_2, isCountryCode } from '../../../src/kernel/countries';

export interface CountryOption {
  /** What is sent: the ISO 3166-1 alpha-2 code. */
  value: string;
  /** What is shown: the name, with the code. */
  label: string;
}

/** Every officially assigned country, by name. */
export const COUNTRY_OPTIONS: readonly CountryOption[] = Object.entries(ISO_3166_1_ALPHA_2)
  .map(([code, name]) => ({ value: code, label: `${name} (${code})` }))
  .sort((a, b) => a.label.localeCompare(b.label, 'en'));

/** A country's name for people ("Germany"), or what was given when it is not a code. */
export function countryName(code: string): string {
  return isCountryCode(code) ? ISO_3166_1_ALPHA_2[code] : code;
}

/**
 * Names people use that the standard's short names do not start with: searching for one finds
 * the country too ("UK" finds the United Kingdom, "South Korea" the Republic of Korea).
 */
const ALIASES: Readonly<Record<string, readonly string[]>> = {
  GB: ['UK', 'Britain', 'Great Britain', 'England', 'Scotland', 'Wales'],
  US: ['USA', 'United States', 'America'],
  KR: ['South Korea'],
  KP: ['North Korea'],
  VN: ['Vietnam'],
  TR: ['Turkey'],
  CZ: ['Czech Republic'],
  RU: ['Russia'],
  LA: ['Laos'],
  SY: ['Syria'],
  TW: ['Taiwan'],
  TZ: ['Tanzania'],
  MD: ['Moldova'],
  PS: ['Palestine'],
  CD: ['DR Congo', 'Democratic Republic of the Congo'],
  NL: ['Holland'],
  CI: ['Ivory Coast'],
};

/** Lower case without accents: "Aland" finds Åland, "cote" Côte d'Ivoire. */
const fold = (text: string) => text.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase().trim();

/**
 * How well a country answers a search (lower is better), or null for no match: its code or a
 * common name exactly, then its name (or a common name) starting with the search, a word of it starting so, the search
 * anywhere in the name.
 */
export function countryRank(code: string, search: string): number | null {
  const query = fold(search);
  if (!query) return 3;
  const aliases = (ALIASES[code] ?? []).map(fold);
  if (fold(code) === query || aliases.includes(query)) return 0;
  const names = [fold(countryName(code)), ...aliases];
  if (names.some((n) => n.startsWith(query))) return 1;
  if (names.some((n) => n.split(/[\s,()'-]+/).some((word) => word.startsWith(query)))) return 2;
  if (names.some((n) => n.includes(query))) return 3;
  return null;
}

/** The countries a search finds, best first (by name among equals). */
export function searchCountries<T extends { value: string }>(
  options: readonly T[],
  search: string,
): T[] {
  return options
    .map((option) => ({ option, rank: countryRank(option.value, search) }))
    .filter((r): r is { option: T; rank: number } => r.rank !== null)
    .sort((a, b) => a.rank - b.rank)
    .map((r) => r.option);
}

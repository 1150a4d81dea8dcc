import { describe, expect, it } from 'vitest';
import { ISO_3166_1_ALPHA_2 } from '../../src/kernel';
import { COUNTRY_OPTIONS, countryName, searchCountries } from '../../web/src/components/countries';

const codes = (search: string) => searchCountries(COUNTRY_OPTIONS, search).map((o) => o.value);

describe('the country pickers of the web app', () => {
  it('offer exactly the registry’s ISO 3166-1 list, by name, sending the code', () => {
    expect(COUNTRY_OPTIONS.map((o) => o.value).sort()).toEqual(
      Object.keys(ISO_3166_1_ALPHA_2).sort(),
    );
    expect(COUNTRY_OPTIONS).toContainEqual({ value: 'DE', label: 'Germany (DE)' });
    expect(COUNTRY_OPTIONS[0]?.label).toBe('Afghanistan (AF)');
    // Codes that are reserved but not assigned are not offered (the registry refuses them).
    for (const reserved of ['UK', 'EU', 'XK', 'XX'])
      expect(COUNTRY_OPTIONS.some((o) => o.value === reserved)).toBe(false);
  });

  it('find a country by its code first, then by its name, a word of it, or a common name', () => {
    expect(codes('DE')[0]).toBe('DE');
    expect(codes('de')[0]).toBe('DE');
    expect(codes('germ')).toEqual(['DE']);
    expect(codes('korea')).toEqual(['KP', 'KR']);
    expect(codes('UK')[0]).toBe('GB');
    expect(codes('south korea')).toEqual(['KR']);
    // Accents need not be typed.
    expect(codes('aland')[0]).toBe('AX');
    expect(codes('cote')[0]).toBe('CI');
    expect(codes('zzzz')).toEqual([]);
    expect(codes('')).toHaveLength(COUNTRY_OPTIONS.length);
  });

  it('name a code for people, and leave what is no code as it is', () => {
    expect(countryName('JP')).toBe('Japan');
    expect(countryName('XX')).toBe('XX');
  });
});

import { describe, expect, it } from 'vitest';
import { ISO_3166_1_ALPHA_2, isCountryCode, parseCountry } from './countries';

describe('ISO 3166-1 alpha-2', () => {
  it('holds the 249 officially assigned codes', () => {
    expect(Object.keys(ISO_3166_1_ALPHA_2)).toHaveLength(249);
    for (const code of ['DE', 'US', 'PK', 'KP', 'IR', 'SS', 'CW', 'SX', 'BQ', 'AX', 'MK', 'SZ']) {
      expect(parseCountry(code)).toBe(code);
    }
  });

  it.each(['UK', 'EU', 'XK', 'AN', 'YU', 'ZZ', 'de', 'DEU', ''])(
    'refuses %j with INVALID_COUNTRY',
    (code) => {
      expect(() => parseCountry(code)).toThrow(/ISO 3166-1 alpha-2/);
    },
  );

  it('answers isCountryCode without throwing, for the Travel Rule gate', () => {
    expect(isCountryCode('DE')).toBe(true);
    expect(isCountryCode('XX')).toBe(false);
    expect(isCountryCode('de')).toBe(false);
  });

  it('suggests the upper-case code for lower-case input', () => {
    expect(() => parseCountry('de')).toThrow(/did you mean "DE"/);
  });
});

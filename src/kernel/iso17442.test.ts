import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isValidLei, leiCheckDigits, parseLei } from './lei';

/**
 * Real LEIs as published in GLEIF's LEI search (ISO 17442): their check digits are ISO 7064
 * MOD 97-10. 5493001KJTIIGC8Y1R12 is also the example LEI in GLEIF's documentation.
 */
const REAL_LEIS = [
  ['5493001KJTIIGC8Y1R12', 'Bloomberg Finance L.P.'],
  ['7LTWFZYICNSX8D621K86', 'Deutsche Bank AG'],
  ['HWUPKR0MPOU8FGXBT394', 'Apple Inc.'],
  ['INR2EJN1ERAN0W5ZP974', 'Microsoft Corporation'],
  ['8I5DZWZKVSZI1NUHU748', 'JPMorgan Chase & Co.'],
  ['784F5XWPLTWKTBV3E584', 'The Goldman Sachs Group, Inc.'],
  ['R0MUWSFPU8MPRO8K5P83', 'BNP Paribas'],
] as const;

describe('ISO 17442 LEI check digits (ISO 7064 MOD 97-10)', () => {
  it.each(REAL_LEIS)('accepts %s (%s)', (lei) => {
    expect(isValidLei(lei)).toBe(true);
    expect(parseLei(lei)).toBe(lei);
    expect(leiCheckDigits(lei.slice(0, 18))).toBe(lei.slice(18));
  });

  it.each([
    ['5493001KJTIIGC8Y1R13', /fails its ISO 7064 MOD 97-10 check digits \(expected 12/],
    ['7LTWFZYICNSX8D621K68', /check digits/], // last two digits swapped
    ['7LTWFZYICNSX8D62IK86', /check digits/], // 1 typed as I
    ['5493001KJTIIGC8Y1R1', /must be 20 characters/],
    ['5493001kjtiigc8y1r12', /upper-case/],
    ['5493001KJTIIGC8Y1RAB', /2 check digits/],
  ])('refuses %s with INVALID_LEI', (lei, message) => {
    expect(() => parseLei(lei)).toThrow(message);
    try {
      parseLei(lei);
    } catch (error) {
      expect((error as { code?: string }).code).toBe('INVALID_LEI');
    }
  });

  it('computes check digits only for an 18-character base of upper-case letters and digits', () => {
    expect(() => leiCheckDigits('5493001KJTIIGC8Y1')).toThrow(RangeError);
    expect(() => leiCheckDigits('5493001kjtiigc8y1r')).toThrow(RangeError);
  });

  // MOD 97-10 detects every substitution of a digit by a digit or a letter by a letter (the
  // change is (v' − v)·10^k or (v' − v)·100^k with 0 < |v' − v| < 97, never a multiple of 97).
  // A digit swapped for a letter changes the expanded number's length and is not guaranteed.
  it('detects every same-class single-character substitution of a real LEI', () => {
    const digits = '0123456789';
    const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
    fc.assert(
      fc.property(
        fc.constantFrom(...REAL_LEIS.map(([lei]) => lei)),
        fc.integer({ min: 0, max: 19 }),
        fc.integer({ min: 1, max: 25 }),
        (lei, position, shift) => {
          const original = lei[position] ?? '0';
          const pool = digits.includes(original) ? digits : letters;
          const replaced = pool[(pool.indexOf(original) + shift) % pool.length] ?? original;
          fc.pre(replaced !== original);
          expect(isValidLei(lei.slice(0, position) + replaced + lei.slice(position + 1))).toBe(
            false,
          );
        },
      ),
    );
  });
});

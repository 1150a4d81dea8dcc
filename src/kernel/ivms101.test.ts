import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { validateIvms101 } from './ivms101';
import { isValidLei, leiCheckDigits } from './lei';

interface Vectors {
  valid: Array<{ name: string; payload: unknown }>;
  invalid: Array<{ name: string; constraint: string; field: string; payload: unknown }>;
}
const read = <T>(file: string): T =>
  JSON.parse(
    readFileSync(new URL(`../../test/vectors/ivms101/${file}`, import.meta.url), 'utf8'),
  ) as T;
const vectors = read<Vectors>('payloads.json');
const leis = read<{ valid: string[]; invalid: string[] }>('lei.json');
const today = new Date('2026-07-01T00:00:00Z');

describe('IVMS101 payloads', () => {
  it.each(vectors.valid.map((v) => [v.name, v.payload] as const))(
    'accepts: %s',
    (_name, payload) => {
      const result = validateIvms101(payload, today);
      expect(result.issues).toEqual([]);
      expect(result.ok).toBe(true);
    },
  );

  it.each(vectors.invalid.map((v) => [v.name, v] as const))('refuses: %s', (_name, vector) => {
    const result = validateIvms101(vector.payload, today);
    expect(result.ok).toBe(false);
    expect(result.issues.map((i) => [i.constraint, i.field])).toEqual([
      [vector.constraint, vector.field],
    ]);
  });

  it('finds the issues of a natural person as the Travel Rule form builds one', () => {
    const today = new Date('2026-07-01T00:00:00Z');
    const sole = (naturalPerson: Record<string, unknown>) => ({
      originator: {
        originatorPersons: [
          {
            legalPerson: {
              name: {
                nameIdentifier: [
                  { legalPersonName: 'Andes Coffee SA', legalPersonNameIdentifierType: 'LEGL' },
                ],
              },
              customerNumber: 'prt_company',
              countryOfRegistration: 'CO',
            },
          },
        ],
      },
      beneficiary: { beneficiaryPersons: [{ naturalPerson }] },
      originatingVASP: {
        originatingVASP: {
          legalPerson: {
            name: {
              nameIdentifier: [
                { legalPersonName: 'Andes Exchange', legalPersonNameIdentifierType: 'LEGL' },
              ],
            },
          },
        },
      },
    });
    const name = (primaryIdentifier: string, secondaryIdentifier = 'Camille') => [
      { nameIdentifier: [{ primaryIdentifier, secondaryIdentifier, nameIdentifierType: 'LEGL' }] },
    ];
    const cases: Array<[string, Record<string, unknown>, string[]]> = [
      ['complete', { name: name('Moreau'), countryOfResidence: 'FR' }, []],
      ['a last name of 101 characters', { name: name('M'.repeat(101)) }, ['schema']],
      [
        'an identifier of 36 characters',
        {
          name: name('Moreau'),
          nationalIdentification: {
            nationalIdentifier: '1'.repeat(36),
            nationalIdentifierType: 'CCPT',
          },
        },
        ['schema'],
      ],
      [
        '30 February',
        {
          name: name('Moreau'),
          dateAndPlaceOfBirth: { dateOfBirth: '1984-02-30', placeOfBirth: 'Lyon' },
        },
        ['schema'],
      ],
      ['residence UK', { name: name('Moreau'), countryOfResidence: 'UK' }, ['C3']],
      [
        'issued by ZZ, a register code RA12 and a bad LEI',
        {
          name: name('Moreau'),
          nationalIdentification: {
            nationalIdentifier: 'HWUPKR0MPOU8FGXBT395',
            nationalIdentifierType: 'LEIX',
            countryOfIssue: 'ZZ',
            registrationAuthority: 'RA12',
          },
        },
        ['C3', 'C10', 'C11'],
      ],
      [
        'born today',
        {
          name: name('Moreau'),
          dateAndPlaceOfBirth: { dateOfBirth: '2026-07-01', placeOfBirth: 'Lyon' },
        },
        ['C2'],
      ],
    ];
    for (const [label, naturalPerson, constraints] of cases) {
      const issues = validateIvms101(sole(naturalPerson), today).issues;
      expect(
        issues.map((i) => i.constraint),
        label,
      ).toEqual(constraints);
    }
  });
});

describe('ISO 17442 LEI check digits', () => {
  it.each(leis.valid)('%s is valid', (lei) => {
    expect(isValidLei(lei)).toBe(true);
    expect(leiCheckDigits(lei.slice(0, 18))).toBe(lei.slice(18));
  });
  it.each(leis.invalid)('%s is not', (lei) => expect(isValidLei(lei)).toBe(false));

  // ISO 7064 MOD 97-10 detects every single substitution of a digit by a digit and of a letter
  // by a letter; a digit ↔ letter swap changes the number of digits and is not always caught.
  it('any 18-character base with its computed check digits is valid, and a like-for-like substitution breaks it', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom(...alphabet), { minLength: 18, maxLength: 18 }),
        fc.nat(17),
        fc.constantFrom(...alphabet),
        (chars, position, replacement) => {
          const base = chars.join('');
          const lei = base + leiCheckDigits(base);
          expect(isValidLei(lei)).toBe(true);
          const original = base[position] ?? '';
          const sameKind = /\d/.test(original) === /\d/.test(replacement);
          if (replacement !== original && sameKind) {
            const altered =
              base.slice(0, position) + replacement + base.slice(position + 1) + lei.slice(18);
            expect(isValidLei(altered)).toBe(false);
          }
        },
      ),
    );
  });
});

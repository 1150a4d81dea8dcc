import { AppError } from './errors';

/**
 * Legal Entity Identifiers, ISO 17442: 20 characters, upper-case letters and digits: a 4-character
 * LOU prefix, 14 characters of entity part, then 2 check digits computed with ISO 7064 MOD 97-10
 * (as for IBANs): with letters replaced by 10..35, the whole number is ≡ 1 (mod 97).
 *
 * Used by the registry (a VASP's or participant's LEI), the Travel Rule gate (IVMS101 C11 for
 * LEIX identifiers) and the web forms, which import this file; it imports nothing but ./errors.
 */
const LEI_SHAPE = /^[0-9A-Z]{18}[0-9]{2}$/;

/** ISO 7064 MOD 97-10 remainder of an alphanumeric string (A=10 … Z=35), computed piecewise. */
function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const code = char.charCodeAt(0);
    const value = code >= 48 && code <= 57 ? code - 48 : code - 55;
    remainder = value >= 10 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder;
}

/** The two check digits ISO 17442 appends to an 18-character LEI base. */
export function leiCheckDigits(base: string): string {
  if (!/^[0-9A-Z]{18}$/.test(base)) {
    throw new RangeError(`base must be 18 letters or digits, got "${base}"`);
  }
  return String(98 - mod97(`${base}00`)).padStart(2, '0');
}

export function isValidLei(value: string): boolean {
  return LEI_SHAPE.test(value) && mod97(value) === 1;
}

export function parseLei(value: string, field = 'lei'): string {
  const fail = (message: string) =>
    new AppError('INVALID_LEI', `${field} ${message}`, { issues: [{ field, message }] });
  if (value.length !== 20)
    throw fail(`must be 20 characters (ISO 17442), got ${value.length} ("${value}")`);
  if (!LEI_SHAPE.test(value)) {
    throw fail(
      `must be 18 upper-case letters or digits followed by 2 check digits (ISO 17442), got "${value}"`,
    );
  }
  if (mod97(value) !== 1) {
    throw fail(
      `"${value}" fails its ISO 7064 MOD 97-10 check digits (expected ${leiCheckDigits(value.slice(0, 18))} for that base); check for a typing error`,
    );
  }
  return value;
}

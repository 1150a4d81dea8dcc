/**
 * Legal Entity Identifier (ISO 17442): 18 alphanumeric characters (4 of the LOU prefix, 2
 * reserved, 12 entity-specific) followed by two check digits computed with ISO 7064 MOD 97-10,
 * the same scheme as IBAN: letters become 10–35, and the whole number modulo 97 must be 1.
 */
const LEI_SHAPE = /^[0-9A-Z]{18}[0-9]{2}$/;

function mod97(text: string): number {
  let remainder = 0;
  for (const char of text) {
    const value = Number.parseInt(char, 36);
    // Two-digit values (letters) shift the remainder by 100, one-digit values by 10.
    remainder = value > 9 ? (remainder * 100 + value) % 97 : (remainder * 10 + value) % 97;
  }
  return remainder;
}

export function isValidLei(value: string): boolean {
  return LEI_SHAPE.test(value) && mod97(value) === 1;
}

/** The two check digits ISO 17442 assigns to an 18-character LEI base. */
export function leiCheckDigits(base: string): string {
  if (!/^[0-9A-Z]{18}$/.test(base)) {
    throw new RangeError(`base must be 18 letters or digits, got "${base}"`);
  }
  return String(98 - mod97(`${base}00`)).padStart(2, '0');
}

import { descriptorError as fail } from './types';

/** The BIP380 descriptor checksum: 8 characters of a BCH code over the descriptor's characters. */

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(symbols: readonly number[]): bigint {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0; i < 5; i++) {
      if ((top >> BigInt(i)) & 1n) chk ^= GENERATOR[i] ?? 0n;
    }
  }
  return chk;
}

function expand(text: string): number[] {
  const symbols: number[] = [];
  const groups: number[] = [];
  for (const char of text) {
    const v = INPUT_CHARSET.indexOf(char);
    if (v < 0)
      throw fail(`descriptor contains the character "${char}", which descriptors do not allow`);
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push((groups[0] ?? 0) * 9 + (groups[1] ?? 0) * 3 + (groups[2] ?? 0));
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(groups[0] ?? 0);
  else if (groups.length === 2) symbols.push((groups[0] ?? 0) * 3 + (groups[1] ?? 0));
  return symbols;
}

/** The 8-character BIP380 checksum of a descriptor (without its `#…` part). */
export function descriptorChecksum(descriptor: string): string {
  const value = polymod([...expand(descriptor), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((value >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

/** Appends `#checksum`. */
export function addDescriptorChecksum(descriptor: string): string {
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}

/**
 * Splits `SCRIPT#CHECKSUM`, verifying the checksum when present (BIP380: optional, but when
 * given it must be 8 characters and correct). Returns the descriptor without it.
 */
export function verifyDescriptorChecksum(text: string): string {
  const hash = text.indexOf('#');
  if (hash < 0) {
    expand(text);
    return text;
  }
  const body = text.slice(0, hash);
  const checksum = text.slice(hash + 1);
  if (checksum.length !== 8) {
    throw fail(`descriptor checksum must be 8 characters, got ${checksum.length} ("${checksum}")`);
  }
  if (![...checksum].every((c) => CHECKSUM_CHARSET.includes(c))) {
    throw fail(`descriptor checksum "${checksum}" has characters outside the checksum alphabet`);
  }
  const symbols = [...expand(body), ...[...checksum].map((c) => CHECKSUM_CHARSET.indexOf(c))];
  if (polymod(symbols) !== 1n) {
    throw fail(
      `descriptor checksum "${checksum}" does not match; expected "${descriptorChecksum(body)}"`,
    );
  }
  return body;
}

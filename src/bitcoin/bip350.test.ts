import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isAppError, type NetworkName } from '../kernel';
import { addressFromScript, parseAddress } from './address';
import { toHex } from './bytes';

interface Vectors {
  valid: { address: string; scriptPubKey: string }[];
  invalid: { address: string; reason: string }[];
}
const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/bip350/segwit-addresses.json', import.meta.url), 'utf8'),
) as Vectors;

function networkOf(address: string): NetworkName {
  return address.toLowerCase().startsWith('bc1') ? 'mainnet' : 'testnet';
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_ADDRESS') return error.message;
    throw error;
  }
  throw new Error('expected INVALID_ADDRESS');
}

describe('BIP350 segwit address vectors', () => {
  // Tradeclear pays only to the output types in use (v0 P2WPKH/P2WSH, v1 32-byte P2TR). BIP350
  // asks wallets to accept future witness versions as recipients; in a supervised scheme a
  // payment to an undefined version would be spendable by anyone once defined, so we refuse it
  // with a message that says so. The vectors for those versions are checked for that refusal.
  const inUse = (spk: string) =>
    (spk.startsWith('0014') && spk.length === 44) ||
    (spk.startsWith('0020') && spk.length === 68) ||
    (spk.startsWith('5120') && spk.length === 68);

  for (const vector of vectors.valid) {
    const network = networkOf(vector.address);
    if (inUse(vector.scriptPubKey)) {
      it(`parses ${vector.address}`, () => {
        const parsed = parseAddress(vector.address, network);
        expect(toHex(parsed.scriptPubKey)).toBe(vector.scriptPubKey);
        expect(parsed.canonical).toBe(vector.address.toLowerCase());
        expect(addressFromScript(parsed.scriptPubKey, network)).toBe(parsed.canonical);
      });
    } else {
      it(`refuses the not-yet-defined output ${vector.address}`, () => {
        expect(errorOf(() => parseAddress(vector.address, network))).toMatch(
          /witness version \d+, which is not in use|taproot needs 32 bytes/,
        );
      });
    }
  }

  const expectedReason: Record<string, RegExp> = {
    'Invalid human-readable part': /not in the base58 alphabet/,
    'Invalid checksum (Bech32 instead of Bech32m)': /encoded with bech32; v1\+ must use bech32m/,
    'Invalid checksum (Bech32m instead of Bech32)': /encoded with bech32m; v0 must use bech32/,
    'Invalid character in checksum': /not bech32: "o"/,
    'Invalid witness version': /witness version 17; the maximum is 16/,
    'Invalid program length (1 byte)': /1-byte v1 witness program/,
    'Invalid program length (41 bytes)': /41-byte v1 witness program/,
    'Invalid program length for witness version 0 (per BIP141)': /16-byte v0 witness program/,
    'Mixed case': /mixes upper and lower case/,
    'zero padding of more than 4 bits': /invalid padding/,
    'Non-zero padding in 8-to-5 conversion': /invalid padding/,
    'Empty data section': /too short/,
  };
  for (const vector of vectors.invalid) {
    it(`refuses ${vector.address} (${vector.reason})`, () => {
      const pattern = expectedReason[vector.reason];
      expect(pattern).toBeDefined();
      expect(errorOf(() => parseAddress(vector.address, networkOf(vector.address)))).toMatch(
        pattern ?? /never/,
      );
    });
  }
});

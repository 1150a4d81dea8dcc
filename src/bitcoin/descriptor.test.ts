import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isAppError } from '../kernel';
import {
  addDescriptorChecksum,
  deriveAddress,
  deriveOutput,
  descriptorToString,
  parseDescriptor,
  scanWithGapLimit,
  verifyDescriptorChecksum,
} from './descriptor';
import { toHex } from './bytes';

const load = <T>(path: string): T =>
  JSON.parse(readFileSync(new URL(`../../test/vectors/${path}`, import.meta.url), 'utf8')) as T;

interface ScriptVectors {
  valid: { descriptor: string; scripts: string[] }[];
  invalid: { description: string; descriptor: string }[];
}

function descriptorError(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (isAppError(error) && error.code === 'INVALID_DESCRIPTOR') return error.message;
    throw error;
  }
  throw new Error('expected INVALID_DESCRIPTOR');
}

/** The script a descriptor expression produces: for wsh()/sh() the BIPs list the output script. */
function scriptsOf(text: string, count: number): string[] {
  const descriptor = parseDescriptor(text, 'mainnet');
  return Array.from({ length: count }, (_, i) => toHex(deriveOutput(descriptor, i).scriptPubKey));
}

describe('BIP380 checksums and key expressions', () => {
  const v = load<{
    checksum: {
      valid: { description: string; descriptor: string }[];
      invalid: { description: string; descriptor: string }[];
    };
    keyExpressions: {
      valid: { description: string; key: string }[];
      invalid: { description: string; key: string }[];
    };
  }>('bip380/vectors.json');

  for (const { description, descriptor } of v.checksum.valid) {
    it(`checksum valid: ${description}`, () => {
      expect(verifyDescriptorChecksum(descriptor)).toBe('raw(deadbeef)');
    });
  }
  for (const { description, descriptor } of v.checksum.invalid) {
    it(`checksum invalid: ${description}`, () => {
      expect(descriptorError(() => verifyDescriptorChecksum(descriptor))).toMatch(
        /checksum|character/,
      );
    });
  }
  it('computes the checksum BIP380 gives', () => {
    expect(addDescriptorChecksum('raw(deadbeef)')).toBe('raw(deadbeef)#89f8spxm');
  });

  // Watch-only: hardened steps after an xpub need the private key, so those valid BIP380
  // expressions are refused here with a message that says why.
  for (const { description, key } of v.keyExpressions.valid) {
    it(`key valid: ${description}`, () => {
      const text = `pkh(${key})`;
      if (/\/\d+h/.test(key.replace(/^\[[^\]]*\]/, ''))) {
        expect(descriptorError(() => parseDescriptor(text, 'mainnet'))).toMatch(
          /needs the private key/,
        );
        return;
      }
      const descriptor = parseDescriptor(text, 'mainnet');
      expect(deriveOutput(descriptor, 0).scriptPubKey.length).toBeGreaterThan(0);
      // Normal form round-trips (hardened indicator printed as h).
      const printed = descriptorToString(descriptor);
      expect(printed.split('#')[0]).toBe(text.replaceAll("'", 'h'));
      expect(descriptorToString(parseDescriptor(printed, 'mainnet'))).toBe(printed);
    });
  }
  for (const { description, key } of v.keyExpressions.invalid) {
    it(`key invalid: ${description}`, () => {
      expect(descriptorError(() => parseDescriptor(`pkh(${key})`, 'mainnet'))).not.toBe('');
    });
  }
});

for (const bip of ['bip382', 'bip383', 'bip386']) {
  describe(`${bip.toUpperCase()} descriptors`, () => {
    const v = load<ScriptVectors>(`${bip}/vectors.json`);
    for (const { descriptor, scripts } of v.valid) {
      it(`derives ${descriptor.slice(0, 60)}…`, () => {
        expect(scriptsOf(descriptor, scripts.length)).toEqual(scripts);
      });
    }
    for (const { description, descriptor } of v.invalid) {
      it(`refuses: ${description}`, () => {
        expect(descriptorError(() => parseDescriptor(descriptor, 'mainnet'))).not.toBe('');
      });
    }
  });
}

describe('wallet descriptors', () => {
  const xpub =
    'xpub6ERApfZwUNrhLCkDtcHTcxd75RbzS1ed54G1LkBUHQVHQKqhMkhgbmJbZRkrgZw4koxb5JaHWkY4ALHY2grBGRjaDMzQLcgJvLJuZZvRcEL';
  const xpub2 =
    'xpub68NZiKmJWnxxS6aaHmn81bvJeTESw724CRDs6HbuccFQN9Ku14VQrADWgqbhhTHBaohPX4CjNLf9fq9MYo6oDaPPLPxSb7gwQN3ih19Zm4Y';

  it('derives the change branch of a /0/* descriptor like the same descriptor written /1/*', () => {
    const receive = parseDescriptor(
      `wsh(sortedmulti(2,[deadbeef/48h/0h/0h/2h]${xpub}/0/*,${xpub2}/0/*))`,
      'mainnet',
    );
    const change = parseDescriptor(
      `wsh(sortedmulti(2,[deadbeef/48h/0h/0h/2h]${xpub}/1/*,${xpub2}/1/*))`,
      'mainnet',
    );
    const multipath = parseDescriptor(
      `wsh(sortedmulti(2,[deadbeef/48h/0h/0h/2h]${xpub}/<0;1>/*,${xpub2}/<0;1>/*))`,
      'mainnet',
    );
    for (const index of [0, 1, 7]) {
      const viaBranch = deriveAddress(receive, 1, index);
      expect(viaBranch.address).toBe(deriveOutput(change, index).address);
      expect(deriveAddress(multipath, 1, index).address).toBe(viaBranch.address);
      expect(deriveAddress(multipath, 0, index).address).toBe(deriveOutput(receive, index).address);
      expect(viaBranch.type).toBe('p2wsh');
      expect(viaBranch.witnessScript?.length).toBe(71);
      expect(viaBranch.keys[0]?.fingerprint).toBe(0xdeadbeef);
      expect(viaBranch.keys[0]?.path.slice(-2)).toEqual([1, index]);
    }
  });

  it('refuses an xpub for another network, naming it', () => {
    expect(descriptorError(() => parseDescriptor(`wpkh(${xpub}/0/*)`, 'testnet'))).toBe(
      `extended key ${xpub.slice(0, 16)}… is for mainnet, not testnet`,
    );
    expect(
      descriptorError(() =>
        parseDescriptor(
          'wpkh(tpubD6NzVbkrYhZ4WaWSyoBvQwbpLkojyoTZPRsgXELWz3Popb3qkjcJyJUGLnL4qHHoQvao8ESaAstxYSnhyswJ76uZPStJRJCTKvosUCJZL5B/0/*)',
          'mainnet',
        ),
      ),
    ).toMatch(/is for testnet, signet or regtest, not mainnet/);
  });

  it('refuses private keys and a wrong checksum', () => {
    expect(
      descriptorError(() =>
        parseDescriptor('wpkh(L4rK1yDtCWekvXuE6oXD9jCYfFNV2cWRpVuPLBcCU2z8TrisoyY1)', 'mainnet'),
      ),
    ).toMatch(/watch-only/);
    const good = descriptorToString(parseDescriptor(`tr(${xpub}/0/*)`, 'mainnet'));
    const bad = `${good.slice(0, -1)}${good.endsWith('q') ? 'p' : 'q'}`;
    expect(descriptorError(() => parseDescriptor(bad, 'mainnet'))).toMatch(/does not match/);
  });
});

describe('scanWithGapLimit', () => {
  it('stops after `gap` consecutive unused indexes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(fc.integer({ min: 0, max: 200 })),
        fc.integer({ min: 1, max: 25 }),
        async (used, gap) => {
          const set = new Set(used);
          const result = await scanWithGapLimit((i) => set.has(i), gap);
          // The scan reaches every used index not preceded by a run of `gap` unused ones.
          let expectedLast: number | null = null;
          let run = 0;
          for (let i = 0; run < gap; i++) {
            if (set.has(i)) {
              expectedLast = i;
              run = 0;
            } else run++;
          }
          expect(result.lastUsed).toBe(expectedLast);
          expect(result.nextUnused).toBe(expectedLast === null ? 0 : expectedLast + 1);
          expect(result.scanned).toBe((expectedLast ?? -1) + 1 + gap);
        },
      ),
    );
  });
});

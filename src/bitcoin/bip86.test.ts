import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { deriveAddress, parseDescriptor } from './descriptor';
import { toHex } from './bytes';

const v = JSON.parse(
  readFileSync(new URL('../../test/vectors/bip86/vectors.json', import.meta.url), 'utf8'),
) as {
  mnemonic: string;
  rootpriv: string;
  rootpub: string;
  account: { path: string; xprv: string; xpub: string };
  addresses: {
    path: string;
    change: 0 | 1;
    index: number;
    internal_key: string;
    output_key: string;
    scriptPubKey: string;
    address: string;
  }[];
};

describe('BIP86 test vectors', () => {
  const master = HDKey.fromMasterSeed(mnemonicToSeedSync(v.mnemonic));

  it('derives the root and account keys from the mnemonic', () => {
    expect(master.privateExtendedKey).toBe(v.rootpriv);
    expect(master.publicExtendedKey).toBe(v.rootpub);
    expect(master.derive(v.account.path).publicExtendedKey).toBe(v.account.xpub);
  });

  const fingerprint = master.fingerprint.toString(16).padStart(8, '0');
  for (const text of [
    `tr([${fingerprint}/86h/0h/0h]${v.account.xpub}/0/*)`,
    `tr([${fingerprint}/86h/0h/0h]${v.account.xpub}/<0;1>/*)`,
  ]) {
    const descriptor = parseDescriptor(text, 'mainnet');
    for (const vector of v.addresses) {
      it(`${text.includes('<') ? 'multipath ' : ''}${vector.path} → ${vector.address}`, () => {
        const derived = deriveAddress(descriptor, vector.change, vector.index);
        expect(derived.address).toBe(vector.address);
        expect(toHex(derived.scriptPubKey)).toBe(vector.scriptPubKey);
        expect(toHex(derived.tapInternalKey ?? new Uint8Array())).toBe(vector.internal_key);
        expect(toHex(derived.scriptPubKey.subarray(2))).toBe(vector.output_key);
      });
    }
  }
});

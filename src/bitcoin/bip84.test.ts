import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { convertSlip132, deriveAddress, parseDescriptor } from './descriptor';
import { toHex } from './bytes';

const v = JSON.parse(
  readFileSync(new URL('../../test/vectors/bip84/vectors.json', import.meta.url), 'utf8'),
) as {
  mnemonic: string;
  rootnode: string;
  account: { path: string; xpriv: string; xpub: string };
  addresses: { path: string; change: 0 | 1; index: number; pubkey: string; address: string }[];
};

// SLIP-132 versions for the zprv/zpub serialization BIP84's vectors use.
const ZPRV = { private: 0x04b2430c, public: 0x04b24746 };

describe('BIP84 test vectors', () => {
  const master = HDKey.fromMasterSeed(mnemonicToSeedSync(v.mnemonic), ZPRV);
  const account = master.derive(v.account.path);

  it('derives the root and account keys from the mnemonic', () => {
    expect(master.privateExtendedKey).toBe(v.rootnode);
    expect(account.privateExtendedKey).toBe(v.account.xpriv);
    expect(account.publicExtendedKey).toBe(v.account.xpub);
  });

  // The watch-only path: the account zpub as a platform receives it, converted to an xpub and
  // written as a BIP84 descriptor with its key origin.
  const fingerprint = master.fingerprint.toString(16).padStart(8, '0');
  const descriptor = parseDescriptor(
    `wpkh([${fingerprint}/84h/0h/0h]${convertSlip132(v.account.xpub)}/0/*)`,
    'mainnet',
  );

  for (const vector of v.addresses) {
    it(`${vector.path} → ${vector.address}`, () => {
      const derived = deriveAddress(descriptor, vector.change, vector.index);
      expect(derived.address).toBe(vector.address);
      expect(toHex(derived.keys[0]?.pubkey ?? new Uint8Array())).toBe(vector.pubkey);
      expect(derived.keys[0]?.fingerprint).toBe(master.fingerprint);
      expect(derived.keys[0]?.path).toEqual([
        0x80000054,
        0x80000000,
        0x80000000,
        vector.change,
        vector.index,
      ]);
    });
  }
});

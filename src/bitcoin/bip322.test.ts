import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { base64, hex } from '@scure/base';
import { NETWORK, WIF, p2tr, p2wpkh } from '@scure/btc-signer';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { SeededRandom, isAppError } from '../kernel';
import {
  bip322MessageHash,
  bip322TransactionIds,
  signBip322Simple,
  verifyBip322Simple,
} from './bip322';

interface SignatureCase {
  description: string;
  address: string;
  message: string;
  signature: string;
}

interface Vectors {
  privateKeyWif: string;
  messageHashes: { message: string; messageHash: string }[];
  transactionHashes: {
    message: string;
    address: string;
    toSpendTxid: string;
    toSignTxid: string;
  }[];
  validSimpleSignatures: SignatureCase[];
  invalidSimpleSignatures: SignatureCase[];
  malformedSignatures: SignatureCase[];
}

const vectors = JSON.parse(
  readFileSync(new URL('../../test/vectors/bip322/vectors.json', import.meta.url), 'utf8'),
) as Vectors;

const privateKey = WIF(NETWORK).decode(vectors.privateKeyWif);
const P2WPKH_ADDRESS = 'bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l';
const P2TR_ADDRESS = 'bc1ppv609nr0vr25u07u95waq5lucwfm6tde4nydujnu8npg4q75mr5sxq8lt3';

function expectAppError(run: () => unknown, code: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(isAppError(caught)).toBe(true);
  if (isAppError(caught)) {
    expect(caught.code).toBe(code);
    expect(caught.message).toMatch(/signatureBase64|address/);
  }
}

describe('BIP322 message hashing (BIP340 tag "BIP0322-signed-message")', () => {
  for (const vector of vectors.messageHashes) {
    it(`hashes ${JSON.stringify(vector.message)}`, () => {
      expect(hex.encode(bip322MessageHash(vector.message))).toBe(vector.messageHash);
    });
  }
});

describe('BIP322 to_spend / to_sign transaction ids', () => {
  for (const vector of vectors.transactionHashes) {
    it(`builds the virtual transactions for ${JSON.stringify(vector.message)}`, () => {
      expect(bip322TransactionIds(vector.address, vector.message, 'mainnet')).toEqual({
        toSpend: vector.toSpendTxid,
        toSign: vector.toSignTxid,
      });
    });
  }
});

describe('BIP322 simple signatures: official valid vectors', () => {
  it('the vector key controls both test addresses (BIP84 P2WPKH, BIP86 P2TR)', () => {
    expect(p2wpkh(secp256k1.getPublicKey(privateKey, true), NETWORK).address).toBe(P2WPKH_ADDRESS);
    expect(p2tr(schnorr.getPublicKey(privateKey), undefined, NETWORK).address).toBe(P2TR_ADDRESS);
  });

  for (const vector of vectors.validSimpleSignatures) {
    it(`verifies: ${vector.description}`, () => {
      const result = verifyBip322Simple({
        address: vector.address,
        message: vector.message,
        signatureBase64: vector.signature,
        network: 'mainnet',
      });
      expect(result).toEqual({
        valid: true,
        state: 'valid',
        addressType: vector.address.startsWith('bc1p') ? 'p2tr' : 'p2wpkh',
      });
    });
  }
});

describe('BIP322 simple signatures: official invalid vectors', () => {
  for (const vector of vectors.invalidSimpleSignatures) {
    it(`refuses: ${vector.description}`, () => {
      const result = verifyBip322Simple({
        address: vector.address,
        message: vector.message,
        signatureBase64: vector.signature,
        network: 'mainnet',
      });
      expect(result.valid).toBe(false);
      if (!result.valid) expect(result.reason.length).toBeGreaterThan(10);
    });
  }

  for (const vector of vectors.malformedSignatures) {
    it(`throws OWNERSHIP_PROOF_INVALID: ${vector.description}`, () => {
      expectAppError(
        () =>
          verifyBip322Simple({
            address: vector.address,
            message: vector.message,
            signatureBase64: vector.signature,
            network: 'mainnet',
          }),
        'OWNERSHIP_PROOF_INVALID',
      );
    });
  }
});

describe('BIP322 verification refuses tampering with a reason', () => {
  const helloP2wpkh = vectors.validSimpleSignatures.find(
    (v) => v.message === 'Hello World' && v.address === P2WPKH_ADDRESS,
  )!;
  const helloP2tr = vectors.validSimpleSignatures.find((v) => v.address === P2TR_ADDRESS)!;

  for (const vector of [helloP2wpkh, helloP2tr]) {
    it(`tampered message: ${vector.description}`, () => {
      const result = verifyBip322Simple({
        address: vector.address,
        message: 'Hello World!',
        signatureBase64: vector.signature,
        network: 'mainnet',
      });
      expect(result).toMatchObject({ valid: false, state: 'invalid' });
      if (!result.valid) expect(result.reason).toMatch(/does not verify/);
    });

    it(`every single-bit flip in the signature bytes is refused: ${vector.description}`, () => {
      const raw = base64.decode(vector.signature);
      fc.assert(
        fc.property(fc.integer({ min: 0, max: raw.length * 8 - 1 }), (bit) => {
          const tampered = raw.slice();
          tampered[bit >> 3]! ^= 1 << (bit & 7);
          let valid: boolean;
          try {
            valid = verifyBip322Simple({
              address: vector.address,
              message: vector.message,
              signatureBase64: base64.encode(tampered),
              network: 'mainnet',
            }).valid;
          } catch (error) {
            // A flip in the length prefixes makes the witness unparseable: refused whole.
            expect(isAppError(error) && error.code === 'OWNERSHIP_PROOF_INVALID').toBe(true);
            valid = false;
          }
          expect(valid).toBe(false);
        }),
        { numRuns: 200 },
      );
    });
  }

  it('wrong address of the same type', () => {
    const other = p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(7), true), NETWORK).address;
    const result = verifyBip322Simple({
      address: other,
      message: 'Hello World',
      signatureBase64: helloP2wpkh.signature,
      network: 'mainnet',
    });
    expect(result).toMatchObject({ valid: false, state: 'invalid' });
    if (!result.valid) expect(result.reason).toMatch(/does not hash to the address/);

    const otherTaproot = p2tr(
      schnorr.getPublicKey(new Uint8Array(32).fill(7)),
      undefined,
      NETWORK,
    ).address;
    expect(
      verifyBip322Simple({
        address: otherTaproot,
        message: 'Hello World',
        signatureBase64: helloP2tr.signature,
        network: 'mainnet',
      }).valid,
    ).toBe(false);
  });

  it('an address for another network is an INVALID_ADDRESS error, not a silent false', () => {
    expectAppError(
      () =>
        verifyBip322Simple({
          address: P2WPKH_ADDRESS,
          message: 'Hello World',
          signatureBase64: helloP2wpkh.signature,
          network: 'testnet',
        }),
      'INVALID_ADDRESS',
    );
  });

  it('a P2TR address with a bad bech32m checksum is refused as INVALID_ADDRESS', () => {
    // The address as it was once circulated with a corrupted tail: its checksum does not verify.
    expectAppError(
      () =>
        verifyBip322Simple({
          address: 'bc1ppv609nr0vr25u07u95waq5lucwfxf2y0ndyu6qzqdsk6ys4ydsgqg8auhd',
          message: 'Hello World',
          signatureBase64: helloP2tr.signature,
          network: 'mainnet',
        }),
      'INVALID_ADDRESS',
    );
  });

  it('a P2PKH address is inconclusive, not valid', () => {
    const result = verifyBip322Simple({
      address: '1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2',
      message: 'Hello World',
      signatureBase64: helloP2wpkh.signature,
      network: 'mainnet',
    });
    expect(result).toMatchObject({ valid: false, state: 'inconclusive' });
  });
});

describe('signBip322Simple', () => {
  it('reproduces the official low-R P2WPKH signatures byte for byte (RFC6979 + low-R grinding)', () => {
    for (const vector of vectors.validSimpleSignatures.filter(
      (v) =>
        v.address === P2WPKH_ADDRESS &&
        !v.signature.startsWith('smp') &&
        v.signature.startsWith('Akcw'),
    )) {
      expect(
        signBip322Simple({
          address: P2WPKH_ADDRESS,
          message: vector.message,
          privateKey,
          network: 'mainnet',
        }),
      ).toBe(vector.signature);
    }
  });

  it('round-trips for random keys, messages and both address types on every network', () => {
    const random = new SeededRandom(322);
    fc.assert(
      fc.property(
        fc
          .uint8Array({ minLength: 32, maxLength: 32 })
          .filter((k) => secp256k1.utils.isValidSecretKey(k)),
        fc.string(),
        fc.constantFrom('mainnet', 'testnet', 'signet', 'regtest' as const),
        fc.boolean(),
        (secret, message, network, taproot) => {
          const net =
            network === 'mainnet'
              ? NETWORK
              : network === 'regtest'
                ? { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef }
                : { bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
          const address = taproot
            ? p2tr(schnorr.getPublicKey(secret), undefined, net).address
            : p2wpkh(secp256k1.getPublicKey(secret, true), net).address;
          const signatureBase64 = signBip322Simple({
            address,
            message,
            privateKey: secret,
            network,
            random,
          });
          expect(verifyBip322Simple({ address, message, signatureBase64, network }).valid).toBe(
            true,
          );
          expect(
            verifyBip322Simple({ address, message: `${message}.`, signatureBase64, network }).valid,
          ).toBe(false);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('refuses a key that does not control the address', () => {
    expect(() =>
      signBip322Simple({
        address: P2WPKH_ADDRESS,
        message: 'x',
        privateKey: new Uint8Array(32).fill(9),
        network: 'mainnet',
      }),
    ).toThrow(/does not control/);
  });
});

import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as bitcoinjs from 'bitcoinjs-lib';
import * as ecc from '@bitcoinerlab/secp256k1';
import { ECPairFactory } from 'ecpair';
import { sha256 } from '@noble/hashes/sha2.js';
import { isAppError, sats } from '../kernel';
import {
  createPsbt,
  extractTransaction,
  finalizePsbt,
  LocalKeySigner,
  summarizePsbt,
  type PsbtInputSpec,
} from './psbt';
import { deriveAddress, parseDescriptor, type DerivedOutput } from './descriptor';
import { estimateSize, feeForVsize, spendTypeOf } from './fee';
import { parseAddress } from './address';
import { parseTransaction } from './codec';
import { toHex } from './bytes';

bitcoinjs.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);
const regtest = bitcoinjs.networks.regtest;

// Deterministic test keys: three signers, seeds from a fixed label (not real funds).
const seed = (label: string) => sha256(new TextEncoder().encode(`tradeclear psbt test ${label}`));
const alice = LocalKeySigner.fromSeed(seed('alice'), 'regtest');
const bob = LocalKeySigner.fromSeed(seed('bob'), 'regtest');
const carol = LocalKeySigner.fromSeed(seed('carol'), 'regtest');
const fp = (signer: LocalKeySigner) => signer.fingerprint.toString(16).padStart(8, '0');

const wpkh = parseDescriptor(
  `wpkh([${fp(alice)}/84h/1h/0h]${alice.accountXpub("m/84'/1'/0'")}/0/*)`,
  'regtest',
);
const tr = parseDescriptor(
  `tr([${fp(alice)}/86h/1h/0h]${alice.accountXpub("m/86'/1'/0'")}/0/*)`,
  'regtest',
);
const multisig = parseDescriptor(
  `wsh(sortedmulti(2,${[alice, bob, carol].map((s) => `[${fp(s)}/48h/1h/0h/2h]${s.accountXpub("m/48'/1'/0'/2'")}/0/*`).join(',')}))`,
  'regtest',
);

type Kind = 'wpkh' | 'tr' | 'wsh';
const descriptors = { wpkh, tr, wsh: multisig };

function coin(kind: Kind, index: number, value: bigint): PsbtInputSpec {
  const derived: DerivedOutput = deriveAddress(descriptors[kind], 0, index);
  return {
    txid: toHex(sha256(new TextEncoder().encode(`funding ${kind} ${index}`))),
    vout: index % 3,
    value: sats(value),
    scriptPubKey: derived.scriptPubKey,
    ...(derived.witnessScript ? { witnessScript: derived.witnessScript } : {}),
    ...(derived.tapInternalKey ? { tapInternalKey: derived.tapInternalKey } : {}),
    derivations: derived.keys,
  };
}

const OUTPUT_SCRIPTS = [
  parseAddress('bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', 'regtest').scriptPubKey, // p2wpkh
  deriveAddress(multisig, 1, 3).scriptPubKey, // p2wsh
  deriveAddress(tr, 1, 2).scriptPubKey, // p2tr
  Uint8Array.from([0x76, 0xa9, 0x14, ...new Uint8Array(20).fill(7), 0x88, 0xac]), // p2pkh
  Uint8Array.from([0xa9, 0x14, ...new Uint8Array(20).fill(9), 0x87]), // p2sh
  Uint8Array.from([0x6a, 0x04, 0xde, 0xad, 0xbe, 0xef]), // op_return
];

async function signAll(psbt: Uint8Array, kinds: readonly Kind[]): Promise<Uint8Array> {
  let signed = await alice.signPsbt(psbt);
  if (kinds.includes('wsh')) signed = await carol.signPsbt(signed); // 2 of 3: alice and carol
  return signed;
}

function bitcoinjsValidator(
  pubkey: Uint8Array,
  msghash: Uint8Array,
  signature: Uint8Array,
): boolean {
  return pubkey.length === 32
    ? ecc.verifySchnorr(msghash, pubkey, signature)
    : ecc.verify(msghash, pubkey, signature);
}

describe('PSBT: build and sign here, verify with bitcoinjs-lib', () => {
  it('signs P2WPKH, P2TR key-path and P2WSH 2-of-3 inputs that bitcoinjs-lib verifies', async () => {
    const kinds: Kind[] = ['wpkh', 'tr', 'wsh'];
    const inputs = kinds.map((kind, i) => coin(kind, i, 100_000n + BigInt(i)));
    const outputs = OUTPUT_SCRIPTS.map((script, i) => ({
      script,
      amount: sats(i === 5 ? 0n : 40_000n),
    }));
    const unsigned = createPsbt({ network: 'regtest', inputs, outputs });
    const signed = await signAll(unsigned, kinds);

    const theirs = bitcoinjs.Psbt.fromBuffer(signed, { network: regtest });
    expect(theirs.validateSignaturesOfAllInputs(bitcoinjsValidator)).toBe(true);
    theirs.finalizeAllInputs();
    const reference = theirs.extractTransaction();

    const extracted = extractTransaction(finalizePsbt(signed));
    expect(toHex(extracted.raw)).toBe(reference.toHex());
    expect(extracted.txid).toBe(reference.getId());
    expect(extracted.vsize).toBe(reference.virtualSize());
    expect(extracted.fee).toBe(300_003n - 200_000n);
    // Our own codec reads it back the same way.
    expect(parseTransaction(extracted.raw).txid).toBe(reference.getId());
  });

  it('estimates vsize before signing as an upper bound within 1 WU per ECDSA signature (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom<Kind>('wpkh', 'tr', 'wsh'), { minLength: 1, maxLength: 4 }),
        fc.array(fc.integer({ min: 0, max: OUTPUT_SCRIPTS.length - 1 }), {
          minLength: 1,
          maxLength: 4,
        }),
        async (kinds, outputPicks) => {
          const inputs = kinds.map((kind, i) => coin(kind, i, 50_000n));
          const scripts = outputPicks.map((i) => OUTPUT_SCRIPTS[i] ?? new Uint8Array());
          const estimate = estimateSize(
            inputs.map((input) => spendTypeOf(input.scriptPubKey, input.witnessScript)),
            scripts,
          );
          const outputs = scripts.map((script) => ({ script, amount: sats(1_000n) }));
          const extracted = extractTransaction(
            finalizePsbt(await signAll(createPsbt({ network: 'regtest', inputs, outputs }), kinds)),
          );
          const ecdsaSignatures = kinds.reduce(
            (n, kind) => n + (kind === 'wpkh' ? 1 : kind === 'wsh' ? 2 : 0),
            0,
          );
          expect(estimate.weight).toBeGreaterThanOrEqual(extracted.weight);
          // Each ECDSA signature is 71 or 72 bytes; shorter r/s (leading zeros) are 1 in 256.
          expect(estimate.weight - extracted.weight).toBeLessThanOrEqual(ecdsaSignatures * 2);
          expect(estimate.vsize).toBeGreaterThanOrEqual(extracted.vsize);
          if (ecdsaSignatures === 0) expect(estimate.weight).toBe(extracted.weight); // Schnorr: exact
          expect(feeForVsize(estimate.vsize, 1_000n)).toBe(BigInt(estimate.vsize));
        },
      ),
      { numRuns: 25 },
    );
  });

  it('produces the same transaction from a BIP370 (version 2) PSBT', async () => {
    const kinds: Kind[] = ['wpkh', 'tr'];
    const inputs = kinds.map((kind, i) => coin(kind, i + 5, 80_000n));
    const outputs = [{ script: OUTPUT_SCRIPTS[2] ?? new Uint8Array(), amount: sats(150_000n) }];
    const v0 = extractTransaction(
      finalizePsbt(await signAll(createPsbt({ network: 'regtest', inputs, outputs }), kinds)),
    );
    const v2psbt = createPsbt({ network: 'regtest', inputs, outputs, psbtVersion: 2 });
    // BIP370: PSBT_GLOBAL_VERSION (0xfb) = 2 and no global unsigned transaction.
    expect(toHex(v2psbt)).toMatch(/01fb0402000000/);
    const v2 = extractTransaction(finalizePsbt(await signAll(v2psbt, kinds)));
    expect(v2.txid).toBe(v0.txid);
    expect(v2.fee).toBe(10_000n);
  });

  it('refuses what it cannot build and says why', () => {
    const input = coin('wpkh', 0, 1_000n);
    const message = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return isAppError(error) ? `${error.code}: ${error.message}` : String(error);
      }
      return 'no error';
    };
    expect(
      message(() =>
        createPsbt({
          network: 'regtest',
          inputs: [input],
          outputs: [{ script: OUTPUT_SCRIPTS[0] ?? new Uint8Array(), amount: sats(2_000n) }],
        }),
      ),
    ).toBe("INVALID_PSBT: outputs total 2000 sats, more than the inputs' 1000 sats");
    expect(
      message(() =>
        createPsbt({
          network: 'mainnet',
          inputs: [input],
          outputs: [
            { address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', amount: sats(500n) },
          ],
        }),
      ),
    ).toMatch(/^INVALID_PSBT: outputs\[0\]\.address: .*is for regtest/);
    expect(
      message(() =>
        extractTransaction(
          createPsbt({
            network: 'regtest',
            inputs: [input],
            outputs: [{ script: OUTPUT_SCRIPTS[0] ?? new Uint8Array(), amount: sats(500n) }],
          }),
        ),
      ),
    ).toMatch(/not finalized/);
  });
});

describe('PSBT: built and signed by bitcoinjs-lib, finalized and extracted here', () => {
  it('finalizes P2WPKH and P2TR inputs signed by bitcoinjs-lib', () => {
    const wpkhKey = ECPair.fromPrivateKey(seed('bitcoinjs wpkh'), { network: regtest });
    const trKey = ECPair.fromPrivateKey(seed('bitcoinjs tr'), { network: regtest });
    const internal = trKey.publicKey.subarray(1, 33);
    const wpkhPayment = bitcoinjs.payments.p2wpkh({ pubkey: wpkhKey.publicKey, network: regtest });
    const trPayment = bitcoinjs.payments.p2tr({ internalPubkey: internal, network: regtest });
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: seed('prev 1'),
      index: 0,
      witnessUtxo: { script: wpkhPayment.output ?? new Uint8Array(), value: 70_000n },
    });
    psbt.addInput({
      hash: seed('prev 2'),
      index: 1,
      witnessUtxo: { script: trPayment.output ?? new Uint8Array(), value: 30_000n },
      tapInternalKey: internal,
    });
    psbt.addOutput({ address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080', value: 99_000n });
    psbt.signInput(0, wpkhKey);
    psbt.signInput(1, trKey.tweak(bitcoinjs.crypto.taggedHash('TapTweak', internal)));
    const signedByThem = psbt.toBuffer();

    const ours = extractTransaction(finalizePsbt(signedByThem));
    psbt.finalizeAllInputs();
    const reference = psbt.extractTransaction();
    expect(toHex(ours.raw)).toBe(reference.toHex());
    expect(ours.txid).toBe(reference.getId());
    expect(ours.fee).toBe(1_000n);
    expect(summarizePsbt(signedByThem).inputs.map((i) => [i.type, i.signed])).toEqual([
      ['p2wpkh', true],
      ['p2tr', true],
    ]);
  });
});

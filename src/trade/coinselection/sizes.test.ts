import { describe, expect, it } from 'vitest';
import { NETWORK, RawTx, p2wpkh } from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import {
  P2WPKH_INPUT_VBYTES,
  P2WPKH_OUTPUT_VBYTES,
  feeForVbytes,
  transactionVsize,
  transactionWeight,
} from './sizes';

/**
 * BIP141 sizes checked against real serialized transactions: a P2WPKH spend signed with a
 * maximum-size (72-byte with hash type) signature, which is what the 68 vB input figure assumes.
 */
function serializedWeight(inputs: number, outputs: number): number {
  const key = secp256k1.getPublicKey(new Uint8Array(32).fill(1), true);
  const script = p2wpkh(key, NETWORK).script;
  const tx = {
    version: 2,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      txid: new Uint8Array(32).fill(i % 256),
      index: i,
      finalScriptSig: new Uint8Array(0),
      sequence: 0xfffffffd,
    })),
    outputs: Array.from({ length: outputs }, () => ({ amount: 1_000n, script })),
    lockTime: 0,
  };
  // 72-byte signature with hash type (the maximum-size DER case) and a compressed key.
  const witness = [new Uint8Array(72).fill(0x30), key];
  const full = RawTx.encode({ ...tx, segwitFlag: true, witnesses: tx.inputs.map(() => witness) });
  const base = RawTx.encode({ ...tx, segwitFlag: false, witnesses: undefined });
  // BIP141: weight = base size × 3 + total size.
  return base.length * 3 + full.length;
}

describe('BIP141 sizes of P2WPKH transactions', () => {
  it('input 68 vB, output 31 vB, overhead 10.5 vB', () => {
    expect(P2WPKH_INPUT_VBYTES * 4).toBe(serializedWeight(2, 1) - serializedWeight(1, 1));
    expect(P2WPKH_OUTPUT_VBYTES * 4).toBe(serializedWeight(1, 2) - serializedWeight(1, 1));
    expect(serializedWeight(1, 1) - 272 - 124).toBe(42);
  });

  for (const [inputs, outputs] of [
    [1, 1],
    [1, 2],
    [3, 2],
    [2, 100],
    [1, 253],
    [253, 2],
    [5, 1001],
  ] as const) {
    it(`weight and vsize of ${inputs} in / ${outputs} out match the serialization`, () => {
      const shape = {
        inputVbytes: new Array<number>(inputs).fill(P2WPKH_INPUT_VBYTES),
        outputBytes: new Array<number>(outputs).fill(P2WPKH_OUTPUT_VBYTES),
      };
      expect(transactionWeight(shape)).toBe(serializedWeight(inputs, outputs));
      expect(transactionVsize(shape)).toBe(Math.ceil(serializedWeight(inputs, outputs) / 4));
    });
  }

  it('fees round up like CFeeRate::GetFee', () => {
    expect(feeForVbytes(141, 1000n)).toBe(141n);
    expect(feeForVbytes(141, 1001n)).toBe(142n);
    expect(feeForVbytes(68, 10_000n)).toBe(680n);
    expect(feeForVbytes(0, 5000n)).toBe(0n);
  });
});

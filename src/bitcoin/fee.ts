import { AppError, sats } from '../kernel';
import { scriptType } from './script';

/**
 * Transaction size and fee before signing (BIP141 weight; vsize = ceil(weight / 4)).
 *
 * Signature sizes: a Schnorr key-path signature (BIP340/341) is exactly 64 bytes with
 * SIGHASH_DEFAULT. An ECDSA signature is DER-encoded and varies: s is always low (BIP146
 * LOW_S standardness), so at most 32 bytes, but r is 33 bytes when its top bit is set unless the
 * signer grinds for low R. We estimate with the upper bound, 72 bytes (71 of DER + 1 sighash
 * byte), so the fee rate paid is never below the target; the real transaction is smaller by up
 * to 1 weight unit per ECDSA signature (a little more in the rare case r or s has leading zero
 * bytes). Signers known to grind low R may pass `lowR: true` (71 bytes).
 */
export type SpendType =
  | { readonly kind: 'p2wpkh' }
  | { readonly kind: 'p2tr' }
  | { readonly kind: 'p2wsh-multisig'; readonly required: number; readonly total: number };

export const ECDSA_SIGNATURE_MAX_BYTES = 72;
export const ECDSA_SIGNATURE_LOW_R_MAX_BYTES = 71;
export const SCHNORR_SIGNATURE_BYTES = 64;

export function compactSizeLength(value: number): number {
  return value < 0xfd ? 1 : value <= 0xffff ? 3 : value <= 0xffffffff ? 5 : 9;
}

/** Bytes of witness data for spending one input of this type. */
export function witnessBytes(spend: SpendType, options: { lowR?: boolean } = {}): number {
  const ecdsa = options.lowR ? ECDSA_SIGNATURE_LOW_R_MAX_BYTES : ECDSA_SIGNATURE_MAX_BYTES;
  switch (spend.kind) {
    case 'p2wpkh':
      // [signature, 33-byte compressed pubkey]
      return 1 + (1 + ecdsa) + (1 + 33);
    case 'p2tr':
      // [64-byte Schnorr signature]
      return 1 + (1 + SCHNORR_SIGNATURE_BYTES);
    case 'p2wsh-multisig': {
      const { required, total } = spend;
      if (
        !Number.isInteger(required) ||
        !Number.isInteger(total) ||
        required < 1 ||
        required > total ||
        total > 16
      ) {
        throw new AppError(
          'VALIDATION_FAILED',
          `multisig must be m-of-n with 1 ≤ m ≤ n ≤ 16, got ${required}-of-${total}`,
        );
      }
      // OP_m <33-byte key>×n OP_n OP_CHECKMULTISIG
      const witnessScript = 3 + 34 * total;
      // [empty (CHECKMULTISIG's extra pop), m signatures, witnessScript]
      return (
        compactSizeLength(required + 2) +
        1 +
        required * (1 + ecdsa) +
        compactSizeLength(witnessScript) +
        witnessScript
      );
    }
  }
}

/** Non-witness bytes of one segwit input: outpoint 36, empty scriptSig 1, sequence 4. */
export const SEGWIT_INPUT_BASE_BYTES = 41;

export function outputBytes(scriptLength: number): number {
  return 8 + compactSizeLength(scriptLength) + scriptLength;
}

export interface SizeEstimate {
  readonly weight: number;
  readonly vsize: number;
}

/** Weight and vsize of a transaction spending `inputs` to outputs with these scripts. */
export function estimateSize(
  inputs: readonly SpendType[],
  outputScripts: readonly Uint8Array[],
  options: { lowR?: boolean } = {},
): SizeEstimate {
  let base = 4 + compactSizeLength(inputs.length) + compactSizeLength(outputScripts.length) + 4;
  base += inputs.length * SEGWIT_INPUT_BASE_BYTES;
  for (const script of outputScripts) base += outputBytes(script.length);
  let witness = inputs.length > 0 ? 2 : 0; // BIP144 marker and flag
  for (const input of inputs) witness += witnessBytes(input, options);
  const weight = base * 4 + witness;
  return { weight, vsize: Math.ceil(weight / 4) };
}

/** Fee in sats for `vsize` at an integer rate in sat/kvB, rounded up. */
export function feeForVsize(vsize: number, feeRateSatPerKvB: bigint): bigint {
  if (feeRateSatPerKvB < 0n)
    throw new AppError(
      'VALIDATION_FAILED',
      `feeRateSatPerKvB must not be negative, got ${feeRateSatPerKvB}`,
    );
  const numerator = BigInt(vsize) * feeRateSatPerKvB;
  return sats((numerator + 999n) / 1000n, 'fee');
}

/** The spend type of a coin from its scriptPubKey (and witnessScript for P2WSH). */
export function spendTypeOf(scriptPubKey: Uint8Array, witnessScript?: Uint8Array): SpendType {
  const type = scriptType(scriptPubKey);
  if (type === 'p2wpkh') return { kind: 'p2wpkh' };
  if (type === 'p2tr') return { kind: 'p2tr' };
  if (type === 'p2wsh' && witnessScript && scriptType(witnessScript) === 'multisig') {
    const required = (witnessScript[0] ?? 0) - 0x50;
    const total = (witnessScript[witnessScript.length - 2] ?? 0) - 0x50;
    for (let at = 1; at < witnessScript.length - 2; at += 34) {
      if (witnessScript[at] !== 33) {
        throw new AppError(
          'VALIDATION_FAILED',
          'P2WSH multisig keys must be 33-byte compressed keys (BIP143)',
        );
      }
    }
    return { kind: 'p2wsh-multisig', required, total };
  }
  throw new AppError(
    'VALIDATION_FAILED',
    `cannot estimate spending a ${type} output${type === 'p2wsh' ? ' without a multisig witnessScript' : ''}`,
  );
}

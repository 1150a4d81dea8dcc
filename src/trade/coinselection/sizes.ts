/**
 * Transaction sizes for a P2WPKH wallet, in virtual bytes (BIP141: vsize = ceil(weight / 4),
 * where non-witness bytes weigh 4 and witness bytes weigh 1).
 *
 * P2WPKH input, 68 vB — Bitcoin Core's figure (CalculateMaximumSignedInputSize for a wpkh()
 * descriptor), which assumes the maximum-size 72-byte signature:
 *   non-witness: outpoint 36 + scriptSig length 1 (empty) + nSequence 4 = 41 bytes = 164 WU
 *   witness:     item count 1 + length 1 + DER signature with hash type 72 + length 1 +
 *                compressed public key 33 = 108 WU
 *   total 272 WU = 68 vB. With low-R grinding (71-byte signature) it is 271 WU; the ceiling is
 *   still 68 vB per input, so 68 is exact to the vbyte for every input count, and an upper bound
 *   by at most 0.25 vB per input on the weight.
 * P2WPKH output, 31 vB: amount 8 + script length 1 + script 22 (OP_0 PUSH20 <hash160>).
 * Segwit overhead, 10.5 vB: nVersion 4 + nLockTime 4 + input count 1 + output count 1 = 10 bytes
 *   (40 WU) + the marker and flag bytes (2 WU, witness-discounted) = 42 WU. Input or output
 *   counts of 253 or more take a 3-byte CompactSize.
 */

export const P2WPKH_INPUT_VBYTES = 68;
export const P2WPKH_INPUT_WEIGHT = 272;
export const P2WPKH_OUTPUT_VBYTES = 31;
/** nVersion + nLockTime. */
const FIXED_NON_WITNESS_BYTES = 8;
/** BIP144 marker and flag, counted as witness data. */
const SEGWIT_MARKER_FLAG_WEIGHT = 2;

/** Bytes of a Bitcoin CompactSize integer. */
export function compactSizeBytes(value: number): number {
  if (value < 0xfd) return 1;
  if (value <= 0xffff) return 3;
  if (value <= 0xffff_ffff) return 5;
  return 9;
}

export interface TransactionShape {
  /** The vbytes each input contributes (68 for P2WPKH), witness discount included. */
  readonly inputVbytes: readonly number[];
  /** Serialized size of each output (31 for P2WPKH). */
  readonly outputBytes: readonly number[];
}

/** Weight of a segwit transaction with these inputs and outputs (BIP141). */
export function transactionWeight(shape: TransactionShape): number {
  const inputs = shape.inputVbytes.reduce((sum, vbytes) => sum + vbytes * 4, 0);
  const outputs = shape.outputBytes.reduce((sum, bytes) => sum + bytes * 4, 0);
  const counts =
    compactSizeBytes(shape.inputVbytes.length) + compactSizeBytes(shape.outputBytes.length);
  return (FIXED_NON_WITNESS_BYTES + counts) * 4 + SEGWIT_MARKER_FLAG_WEIGHT + inputs + outputs;
}

/** Virtual size: ceil(weight / 4) (BIP141). */
export function transactionVsize(shape: TransactionShape): number {
  return Math.ceil(transactionWeight(shape) / 4);
}

/**
 * The fee for `vbytes` at `feeRateSatPerKvB`, rounded up as Bitcoin Core's CFeeRate::GetFee does
 * (so a transaction never pays below the rate).
 */
export function feeForVbytes(vbytes: number, feeRateSatPerKvB: bigint): bigint {
  const numerator = BigInt(vbytes) * feeRateSatPerKvB;
  return (numerator + 999n) / 1000n;
}

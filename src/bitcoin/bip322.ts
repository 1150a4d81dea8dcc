import {
  OutScript,
  Address,
  NETWORK,
  TEST_NETWORK,
  RawTx,
  RawWitness,
  Script,
  SigHash,
  Transaction,
} from '@scure/btc-signer';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hash160, taprootTweakPrivKey } from '@scure/btc-signer/utils.js';
import { base64 } from '@scure/base';
import { AppError, cryptoRandom } from '../kernel';
import type { NetworkName, Random } from '../kernel';
import { toHex } from './bytes';

/**
 * BIP322 "simple" signatures (generic signed message format), for P2WPKH and P2TR key-path
 * addresses: the proof of address ownership a self-hosted wallet gives before the scheme pays it.
 *
 * BIP322 builds two virtual transactions: `to_spend`, whose only output is locked by the address's
 * scriptPubKey and whose input commits to the message hash, and `to_sign`, which spends it. A
 * simple signature is the witness stack of `to_sign`'s only input, consensus encoded and base64'd.
 * Verifying it means checking that witness against `to_spend`'s output exactly as a node would:
 * ECDSA over the BIP143 sighash for P2WPKH, Schnorr (BIP340) over the BIP341 sighash for P2TR.
 *
 * Spec: https://github.com/bitcoin/bips/blob/master/bip-0322.mediawiki
 */

/** BIP322: the BIP340 tag of the message hash. */
const MESSAGE_TAG = 'BIP0322-signed-message';
/** BIP322 (current text): a simple signature may carry this prefix; older ones carry none. */
const SIMPLE_PREFIX = 'smp';
const FULL_PREFIXES = ['ful', 'pof'] as const;

const SIGHASH_ALL = SigHash.ALL; // 0x01
const SIGHASH_DEFAULT = SigHash.DEFAULT; // 0x00, BIP341

const REGTEST_NETWORK = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef } as const;

export type Bip322AddressType = 'p2wpkh' | 'p2tr';

/**
 * The outcome of a verification, in BIP322's three states: `valid`, `invalid` (some check
 * failed) and `inconclusive` (the proof uses a script or format this verifier does not check).
 */
export type Bip322Verification =
  | { readonly valid: true; readonly state: 'valid'; readonly addressType: Bip322AddressType }
  | { readonly valid: false; readonly state: 'invalid' | 'inconclusive'; readonly reason: string };

export interface VerifyBip322SimpleInput {
  readonly address: string;
  /** The message as text; BIP322 hashes its UTF-8 bytes as is, with no length prefix. */
  readonly message: string | Uint8Array;
  /** The simple signature: base64 of the witness stack, optionally prefixed "smp". */
  readonly signatureBase64: string;
  readonly network: NetworkName;
}

export interface SignBip322SimpleInput {
  readonly address: string;
  readonly message: string | Uint8Array;
  /** 32-byte secret key of the address (for P2TR: the internal key, BIP86-tweaked here). */
  readonly privateKey: Uint8Array;
  readonly network: NetworkName;
  /** BIP340 auxiliary randomness source for P2TR; defaults to the OS CSPRNG. */
  readonly random?: Random;
}

function btcNetwork(network: NetworkName) {
  switch (network) {
    case 'mainnet':
      return NETWORK;
    case 'testnet':
    case 'signet':
      return TEST_NETWORK;
    case 'regtest':
      return REGTEST_NETWORK;
  }
}

function utf8(message: string | Uint8Array): Uint8Array {
  return typeof message === 'string' ? new TextEncoder().encode(message) : message;
}

/** BIP340 tagged hash: sha256(sha256(tag) || sha256(tag) || data). */
function taggedHash(tag: string, data: Uint8Array): Uint8Array {
  const tagHash = sha256(new TextEncoder().encode(tag));
  const buffer = new Uint8Array(64 + data.length);
  buffer.set(tagHash, 0);
  buffer.set(tagHash, 32);
  buffer.set(data, 64);
  return sha256(buffer);
}

/** BIP322 message_hash = sha256_tag("BIP0322-signed-message", m). */
export function bip322MessageHash(message: string | Uint8Array): Uint8Array {
  return taggedHash(MESSAGE_TAG, utf8(message));
}

function doubleSha256(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

/** A txid as shown to people and in the BIP: the double-SHA256 of the serialization, reversed. */
function displayTxid(serialized: Uint8Array): Uint8Array {
  return doubleSha256(serialized).reverse();
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

interface DecodedAddress {
  readonly type: Bip322AddressType | 'other';
  readonly typeName: string;
  readonly scriptPubKey: Uint8Array;
  /** P2WPKH: 20-byte key hash; P2TR: 32-byte x-only output key. */
  readonly program: Uint8Array;
}

function decodeAddress(address: string, network: NetworkName): DecodedAddress {
  let decoded: ReturnType<ReturnType<typeof Address>['decode']>;
  try {
    decoded = Address(btcNetwork(network)).decode(address);
  } catch (error) {
    throw new AppError(
      'INVALID_ADDRESS',
      `address must be a valid ${network} Bitcoin address, got "${address}" (${error instanceof Error ? error.message : 'unreadable'})`,
      { cause: error },
    );
  }
  const scriptPubKey = OutScript.encode(decoded);
  if (decoded.type === 'wpkh')
    return { type: 'p2wpkh', typeName: 'p2wpkh', scriptPubKey, program: decoded.hash };
  if (decoded.type === 'tr')
    return { type: 'p2tr', typeName: 'p2tr', scriptPubKey, program: decoded.pubkey };
  return { type: 'other', typeName: decoded.type, scriptPubKey, program: new Uint8Array() };
}

/**
 * BIP322 `to_spend`: version 0, one input spending 000…000:0xFFFFFFFF with scriptSig
 * `OP_0 PUSH32[message_hash]` and nSequence 0, one output of 0 sats to the address's
 * scriptPubKey, nLockTime 0. Returned in consensus serialization (it has no witness).
 */
export function bip322ToSpend(messageHash: Uint8Array, scriptPubKey: Uint8Array): Uint8Array {
  return RawTx.encode({
    version: 0,
    segwitFlag: false,
    inputs: [
      {
        txid: new Uint8Array(32),
        index: 0xffffffff,
        finalScriptSig: Script.encode(['OP_0', messageHash]),
        sequence: 0,
      },
    ],
    outputs: [{ amount: 0n, script: scriptPubKey }],
    witnesses: undefined,
    lockTime: 0,
  });
}

/**
 * BIP322 `to_sign` for the simple format: version 0, one input spending to_spend:0 with
 * nSequence 0, one output of 0 sats to `OP_RETURN`, nLockTime 0. The input carries to_spend's
 * output as its witness UTXO so that the segwit sighashes (BIP143, BIP341) can be computed.
 */
function toSignTransaction(toSpend: Uint8Array, scriptPubKey: Uint8Array): Transaction {
  const toSign = new Transaction({ version: 0, lockTime: 0, allowUnknownOutputs: true });
  toSign.addInput({
    txid: displayTxid(toSpend),
    index: 0,
    sequence: 0,
    witnessUtxo: { script: scriptPubKey, amount: 0n },
  });
  toSign.addOutput({ script: Script.encode(['RETURN']), amount: 0n });
  return toSign;
}

/** The txids of both virtual transactions (display byte order, hex): BIP322's test vectors. */
export function bip322TransactionIds(
  address: string,
  message: string | Uint8Array,
  network: NetworkName,
): { toSpend: string; toSign: string } {
  const { scriptPubKey } = decodeAddress(address, network);
  const toSpend = bip322ToSpend(bip322MessageHash(message), scriptPubKey);
  return {
    toSpend: toHex(displayTxid(toSpend)),
    toSign: toSignTransaction(toSpend, scriptPubKey).id,
  };
}

/** BIP143: the scriptCode of a P2WPKH spend is the P2PKH script of the same key hash. */
function p2wpkhScriptCode(keyHash: Uint8Array): Uint8Array {
  return OutScript.encode({ type: 'pkh', hash: keyHash });
}

/**
 * Decodes the signature text into a witness stack. Malformed input (not base64, empty, or not
 * a consensus-encoded witness stack) is refused with an error: it is not a proof at all.
 */
function decodeSimpleSignature(
  signatureBase64: string,
): { witness: Uint8Array[] } | { fullFormat: string } {
  let text = signatureBase64.trim();
  const fullPrefix = FULL_PREFIXES.find((prefix) => text.startsWith(prefix));
  if (fullPrefix !== undefined) return { fullFormat: fullPrefix };
  if (text.startsWith(SIMPLE_PREFIX)) text = text.slice(SIMPLE_PREFIX.length);
  if (text.length === 0) {
    throw new AppError(
      'OWNERSHIP_PROOF_INVALID',
      'signatureBase64 is empty: expected a BIP322 simple signature (base64 witness stack)',
    );
  }
  let raw: Uint8Array;
  try {
    raw = base64.decode(text);
  } catch (error) {
    throw new AppError(
      'OWNERSHIP_PROOF_INVALID',
      `signatureBase64 is not valid base64 (BIP322 simple signatures are base64 of the witness stack), got "${truncate(signatureBase64)}"`,
      { cause: error },
    );
  }
  try {
    return { witness: RawWitness.decode(raw) };
  } catch (error) {
    throw new AppError(
      'OWNERSHIP_PROOF_INVALID',
      'signatureBase64 does not decode to a consensus-encoded witness stack (BIP322 simple format)',
      { cause: error },
    );
  }
}

function truncate(text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function invalidResult(reason: string): Bip322Verification {
  return { valid: false, state: 'invalid', reason };
}

/**
 * Verifies a BIP322 simple signature for a P2WPKH or P2TR (key path) address.
 *
 * Returns `{ valid: true }` only when the witness satisfies the address's script for the
 * `to_sign` transaction of this message; otherwise a reason. Other address types and the full
 * formats come back `inconclusive` (BIP322 allows a verifier without a full script interpreter
 * to say so). Throws AppError('OWNERSHIP_PROOF_INVALID') for a signature that is not even
 * well-formed, and AppError('INVALID_ADDRESS') for an address that does not parse.
 */
export function verifyBip322Simple(input: VerifyBip322SimpleInput): Bip322Verification {
  const decodedAddress = decodeAddress(input.address, input.network);
  const decodedSignature = decodeSimpleSignature(input.signatureBase64);
  if ('fullFormat' in decodedSignature) {
    return {
      valid: false,
      state: 'inconclusive',
      reason: `the "${decodedSignature.fullFormat}" (full) BIP322 format is not verified here; only the simple format is`,
    };
  }
  if (decodedAddress.type === 'other') {
    return {
      valid: false,
      state: 'inconclusive',
      reason: `address type ${decodedAddress.typeName} is not verified here; only P2WPKH and P2TR key-path proofs are`,
    };
  }
  const { witness } = decodedSignature;
  const toSpend = bip322ToSpend(bip322MessageHash(input.message), decodedAddress.scriptPubKey);
  const toSign = toSignTransaction(toSpend, decodedAddress.scriptPubKey);
  const verdict =
    decodedAddress.type === 'p2wpkh'
      ? verifyP2wpkh(toSign, decodedAddress.program, witness)
      : verifyP2trKeyPath(toSign, decodedAddress.scriptPubKey, decodedAddress.program, witness);
  return verdict ?? { valid: true, state: 'valid', addressType: decodedAddress.type };
}

/** BIP141/BIP143 P2WPKH spend: witness [signature || hashtype, compressed pubkey]. */
function verifyP2wpkh(
  toSign: Transaction,
  keyHash: Uint8Array,
  witness: Uint8Array[],
): Bip322Verification | undefined {
  if (witness.length !== 2) {
    return invalidResult(
      `a P2WPKH witness has exactly 2 items (signature, public key), got ${witness.length}`,
    );
  }
  const [signatureWithHashType, publicKey] = witness as [Uint8Array, Uint8Array];
  // Segwit v0 policy (WITNESS_PUBKEYTYPE) and BIP322's STRICTENC: compressed keys only.
  if (publicKey.length !== 33 || (publicKey[0] !== 0x02 && publicKey[0] !== 0x03)) {
    return invalidResult('the public key in the witness is not a 33-byte compressed key');
  }
  if (!sameBytes(hash160(publicKey), keyHash)) {
    return invalidResult(
      'the public key in the witness does not hash to the address (wrong address or key)',
    );
  }
  if (signatureWithHashType.length < 9)
    return invalidResult('the ECDSA signature is too short to be DER');
  const hashType = signatureWithHashType[signatureWithHashType.length - 1];
  if (hashType !== SIGHASH_ALL) {
    return invalidResult(
      `BIP322 requires SIGHASH_ALL (0x01), got hash type 0x${(hashType ?? 0).toString(16)}`,
    );
  }
  const der = signatureWithHashType.subarray(0, -1);
  let compact: Uint8Array;
  try {
    // noble parses strict DER only (BIP66); the low-S rule is enforced in verify below.
    compact = secp256k1.Signature.fromBytes(der, 'der').toBytes('compact');
  } catch {
    return invalidResult('the ECDSA signature is not strictly DER-encoded (BIP66)');
  }
  const sighash = toSign.preimageWitnessV0(0, p2wpkhScriptCode(keyHash), SIGHASH_ALL, 0n);
  let ok: boolean;
  try {
    ok = secp256k1.verify(compact, sighash, publicKey, { prehash: false, lowS: true });
  } catch {
    ok = false;
  }
  return ok
    ? undefined
    : invalidResult(
        'the ECDSA signature does not verify for this message and address (BIP143 sighash)',
      );
}

/** BIP341 key-path spend: witness [64-byte Schnorr signature (SIGHASH_DEFAULT) or 65 with a hash type]. */
function verifyP2trKeyPath(
  toSign: Transaction,
  scriptPubKey: Uint8Array,
  outputKey: Uint8Array,
  witness: Uint8Array[],
): Bip322Verification | undefined {
  if (witness.length !== 1) {
    return invalidResult(
      `a P2TR key-path witness has exactly 1 item (the signature), got ${witness.length}; script-path and annex spends are not accepted here`,
    );
  }
  const signature = witness[0] as Uint8Array;
  let hashType: number;
  if (signature.length === 64) hashType = SIGHASH_DEFAULT;
  else if (signature.length === 65) {
    hashType = signature[64] ?? -1;
    // BIP341: a 65-byte signature with hash type 0x00 is invalid; BIP322 requires SIGHASH_ALL.
    if (hashType !== SIGHASH_ALL) {
      return invalidResult(
        `BIP322 requires SIGHASH_ALL or SIGHASH_DEFAULT, got hash type 0x${hashType.toString(16)}`,
      );
    }
  } else {
    return invalidResult(
      `a BIP340 signature is 64 bytes (65 with a hash type), got ${signature.length}`,
    );
  }
  const sighash = toSign.preimageWitnessV1(0, [scriptPubKey], hashType, [0n]);
  let ok: boolean;
  try {
    ok = schnorr.verify(signature.subarray(0, 64), sighash, outputKey);
  } catch {
    ok = false;
  }
  return ok
    ? undefined
    : invalidResult(
        'the Schnorr signature does not verify for this message and address (BIP341 sighash)',
      );
}

/**
 * Produces a BIP322 simple signature (base64, without the "smp" prefix so that older verifiers
 * read it too) for a P2WPKH or P2TR key-path address. For tests and demos: production keys stay
 * with the Signer port.
 */
export function signBip322Simple(input: SignBip322SimpleInput): string {
  const decodedAddress = decodeAddress(input.address, input.network);
  if (input.privateKey.length !== 32) {
    throw new AppError(
      'VALIDATION_FAILED',
      `privateKey must be 32 bytes, got ${input.privateKey.length}`,
    );
  }
  const toSpend = bip322ToSpend(bip322MessageHash(input.message), decodedAddress.scriptPubKey);
  const toSign = toSignTransaction(toSpend, decodedAddress.scriptPubKey);
  if (decodedAddress.type === 'p2wpkh') {
    const publicKey = secp256k1.getPublicKey(input.privateKey, true);
    if (!sameBytes(hash160(publicKey), decodedAddress.program)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `privateKey does not control address ${input.address}`,
      );
    }
    const sighash = toSign.preimageWitnessV0(
      0,
      p2wpkhScriptCode(decodedAddress.program),
      SIGHASH_ALL,
      0n,
    );
    const der = signLowR(sighash, input.privateKey);
    const signature = new Uint8Array(der.length + 1);
    signature.set(der);
    signature[der.length] = SIGHASH_ALL;
    return base64.encode(RawWitness.encode([signature, publicKey]));
  }
  if (decodedAddress.type === 'p2tr') {
    // BIP86: key-path-only output key = internal key tweaked with an empty script tree.
    const tweaked = taprootTweakPrivKey(input.privateKey);
    if (!sameBytes(schnorr.getPublicKey(tweaked), decodedAddress.program)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `privateKey does not control address ${input.address} (BIP86 key path)`,
      );
    }
    const sighash = toSign.preimageWitnessV1(0, [decodedAddress.scriptPubKey], SIGHASH_DEFAULT, [
      0n,
    ]);
    const auxRand = (input.random ?? cryptoRandom).bytes(32);
    return base64.encode(RawWitness.encode([schnorr.sign(sighash, tweaked, auxRand)]));
  }
  throw new AppError(
    'VALIDATION_FAILED',
    `address type ${decodedAddress.typeName} cannot be signed here; only P2WPKH and P2TR key path`,
  );
}

/**
 * RFC6979 ECDSA with Bitcoin Core's low-R grinding (retry with an extra-entropy counter until r
 * fits in 32 bytes), so the DER signature is 70 bytes, as Core produces.
 */
function signLowR(hash: Uint8Array, privateKey: Uint8Array): Uint8Array {
  let signature = secp256k1.Signature.fromBytes(
    secp256k1.sign(hash, privateKey, { prehash: false }),
  );
  const extraEntropy = new Uint8Array(32);
  for (let counter = 1; signature.r >= 1n << 255n; counter++) {
    new DataView(extraEntropy.buffer).setUint32(0, counter, true);
    signature = secp256k1.Signature.fromBytes(
      secp256k1.sign(hash, privateKey, { prehash: false, extraEntropy }),
    );
  }
  return signature.toBytes('der');
}

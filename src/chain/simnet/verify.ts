import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { equalBytes, concatBytes, sha256d, Writer } from '../../bitcoin';
import type { Tx, TxOutput } from './model';
import { classifyOutput, parseMultisig, witnessProgram } from './script';

/**
 * Input script verification for the spend types simnet supports, with Bitcoin Core's error
 * strings (script/script_error.cpp):
 *
 * - P2WPKH (BIP141, sighash BIP143, ECDSA with strict DER — BIP66 — and low S as policy);
 * - P2TR key path (BIP341 sighash, BIP340 Schnorr);
 * - P2WSH whose witness script is `OP_m <keys> OP_n OP_CHECKMULTISIG` (BIP143 sighash,
 *   CHECKMULTISIG's in-order matching, NULLDUMMY — BIP147).
 *
 * Every other input type (P2PKH, P2SH, bare scripts, taproot script path, other P2WSH scripts,
 * unknown witness versions) is refused with `simnet-unsupported-input (<type>)` rather than
 * accepted unverified.
 */

export interface ScriptFailure {
  readonly inputIndex: number;
  readonly reason: string;
}

const SIGHASH_ALL = 0x01;
const SIGHASH_NONE = 0x02;
const SIGHASH_SINGLE = 0x03;
const SIGHASH_ANYONECANPAY = 0x80;
const SECP256K1_HALF_ORDER = secp256k1.Point.CURVE().n >> 1n;

function mandatory(message: string): string {
  return `mandatory-script-verify-flag-failed (${message})`;
}

function policy(message: string): string {
  return `non-mandatory-script-verify-flag (${message})`;
}

const EVAL_FALSE =
  'Script evaluated without error but finished with a false/empty top stack element';

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

/** Per-transaction sighash midstates, computed once and shared by every input (as Core's PrecomputedTransactionData). */
class SighashCache {
  readonly #tx: Tx;
  readonly #prevouts: readonly TxOutput[];
  #v0?: { prevouts: Uint8Array; sequences: Uint8Array; outputs: Uint8Array };
  #v1?: {
    prevouts: Uint8Array;
    amounts: Uint8Array;
    scripts: Uint8Array;
    sequences: Uint8Array;
    outputs: Uint8Array;
  };

  constructor(tx: Tx, prevouts: readonly TxOutput[]) {
    this.#tx = tx;
    this.#prevouts = prevouts;
  }

  #serializedParts() {
    const prevouts = new Writer();
    const sequences = new Writer();
    const outputs = new Writer();
    for (const input of this.#tx.inputs) {
      prevouts.bytes(input.prevTxidBytes).u32(input.vout);
      sequences.u32(input.sequence);
    }
    for (const output of this.#tx.outputs) outputs.u64(output.value).varBytes(output.script);
    return {
      prevouts: prevouts.finish(),
      sequences: sequences.finish(),
      outputs: outputs.finish(),
    };
  }

  /** BIP143 signature hash for segwit v0. */
  v0(index: number, scriptCode: Uint8Array, value: bigint, hashType: number): Uint8Array {
    if (!this.#v0) {
      const parts = this.#serializedParts();
      this.#v0 = {
        prevouts: sha256d(parts.prevouts),
        sequences: sha256d(parts.sequences),
        outputs: sha256d(parts.outputs),
      };
    }
    const tx = this.#tx;
    const input = tx.inputs[index]!;
    const base = hashType & 0x1f;
    const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
    const zero = new Uint8Array(32);
    const hashPrevouts = anyoneCanPay ? zero : this.#v0.prevouts;
    const hashSequence =
      anyoneCanPay || base === SIGHASH_SINGLE || base === SIGHASH_NONE ? zero : this.#v0.sequences;
    let hashOutputs: Uint8Array = zero;
    if (base !== SIGHASH_SINGLE && base !== SIGHASH_NONE) hashOutputs = this.#v0.outputs;
    else if (base === SIGHASH_SINGLE && index < tx.outputs.length) {
      const output = tx.outputs[index]!;
      hashOutputs = sha256d(new Writer().u64(output.value).varBytes(output.script).finish());
    }
    const preimage = new Writer()
      .i32(tx.version)
      .bytes(hashPrevouts)
      .bytes(hashSequence)
      .bytes(input.prevTxidBytes)
      .u32(input.vout)
      .varBytes(scriptCode)
      .u64(value)
      .u32(input.sequence)
      .bytes(hashOutputs)
      .u32(tx.lockTime)
      .u32(hashType)
      .finish();
    return sha256d(preimage);
  }

  /** BIP341 signature hash for a key-path spend (ext_flag 0, no annex); null for SINGLE without its output. */
  v1(index: number, hashType: number): Uint8Array | null {
    const tx = this.#tx;
    if (!this.#v1) {
      const parts = this.#serializedParts();
      const amounts = new Writer();
      const scripts = new Writer();
      for (const prevout of this.#prevouts) {
        amounts.u64(prevout.value);
        scripts.varBytes(prevout.script);
      }
      this.#v1 = {
        prevouts: sha256(parts.prevouts),
        amounts: sha256(amounts.finish()),
        scripts: sha256(scripts.finish()),
        sequences: sha256(parts.sequences),
        outputs: sha256(parts.outputs),
      };
    }
    const outputType = hashType === 0 ? SIGHASH_ALL : hashType & 0x03;
    const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
    if (outputType === SIGHASH_SINGLE && index >= tx.outputs.length) return null;
    const message = new Writer().u8(0).u8(hashType).i32(tx.version).u32(tx.lockTime);
    if (!anyoneCanPay) {
      message
        .bytes(this.#v1.prevouts)
        .bytes(this.#v1.amounts)
        .bytes(this.#v1.scripts)
        .bytes(this.#v1.sequences);
    }
    if (outputType === SIGHASH_ALL) message.bytes(this.#v1.outputs);
    message.u8(0); // spend_type: key path, no annex
    if (anyoneCanPay) {
      const input = tx.inputs[index]!;
      const prevout = this.#prevouts[index]!;
      message
        .bytes(input.prevTxidBytes)
        .u32(input.vout)
        .u64(prevout.value)
        .varBytes(prevout.script)
        .u32(input.sequence);
    } else {
      message.u32(index);
    }
    if (outputType === SIGHASH_SINGLE) {
      const output = tx.outputs[index]!;
      message.bytes(sha256(new Writer().u64(output.value).varBytes(output.script).finish()));
    }
    return taggedHash('TapSighash', message.finish());
  }
}

const TAG_CACHE = new Map<string, Uint8Array>();

/** BIP340 tagged hash: SHA256(SHA256(tag) ‖ SHA256(tag) ‖ message). */
export function taggedHash(tag: string, message: Uint8Array): Uint8Array {
  let tagHash = TAG_CACHE.get(tag);
  if (!tagHash) {
    tagHash = sha256(new TextEncoder().encode(tag));
    TAG_CACHE.set(tag, tagHash);
  }
  return sha256(concatBytes(tagHash, tagHash, message));
}

/** BIP66 strict DER (IsValidSignatureEncoding), over the signature with its sighash byte. */
export function isStrictDer(sig: Uint8Array): boolean {
  if (sig.length < 9 || sig.length > 73) return false;
  if (sig[0] !== 0x30) return false;
  if (sig[1] !== sig.length - 3) return false;
  const lenR = sig[3]!;
  if (5 + lenR >= sig.length) return false;
  const lenS = sig[5 + lenR]!;
  if (lenR + lenS + 7 !== sig.length) return false;
  if (sig[2] !== 0x02) return false;
  if (lenR === 0) return false;
  if (sig[4]! & 0x80) return false;
  if (lenR > 1 && sig[4] === 0x00 && !(sig[5]! & 0x80)) return false;
  if (sig[lenR + 4] !== 0x02) return false;
  if (lenS === 0) return false;
  if (sig[lenR + 6]! & 0x80) return false;
  if (lenS > 1 && sig[lenR + 6] === 0x00 && !(sig[lenR + 7]! & 0x80)) return false;
  return true;
}

function bytesToBigint(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return value;
}

function derParts(sig: Uint8Array): { r: bigint; s: bigint } {
  const lenR = sig[3]!;
  const lenS = sig[5 + lenR]!;
  return {
    r: bytesToBigint(sig.subarray(4, 4 + lenR)),
    s: bytesToBigint(sig.subarray(6 + lenR, 6 + lenR + lenS)),
  };
}

function isDefinedHashType(hashType: number): boolean {
  const base = hashType & ~SIGHASH_ANYONECANPAY;
  return base >= SIGHASH_ALL && base <= SIGHASH_SINGLE;
}

type SigCheck = { ok: true } | { ok: false; error: string };

/**
 * One ECDSA signature check as OP_CHECKSIG does it in a segwit v0 script. A malformed signature
 * or key is an error (BIP66 strict DER is consensus; STRICTENC, LOW_S and WITNESS_PUBKEYTYPE are
 * policy); a well-formed signature that does not verify returns false.
 */
function checkEcdsa(
  sigWithType: Uint8Array,
  pubkey: Uint8Array,
  sighash: (hashType: number) => Uint8Array,
): SigCheck | false {
  if (sigWithType.length === 0) return false;
  if (!isStrictDer(sigWithType))
    return { ok: false, error: mandatory('Non-canonical DER signature') };
  const hashType = sigWithType[sigWithType.length - 1]!;
  if (!isDefinedHashType(hashType)) {
    return { ok: false, error: policy('Signature hash type missing or not understood') };
  }
  if (pubkey.length !== 33 || (pubkey[0] !== 0x02 && pubkey[0] !== 0x03)) {
    return { ok: false, error: policy('Using non-compressed keys in segwit') };
  }
  const { r, s } = derParts(sigWithType.subarray(0, -1));
  if (s > SECP256K1_HALF_ORDER) {
    return { ok: false, error: policy('Non-canonical signature: S value is unnecessarily high') };
  }
  const n = secp256k1.Point.CURVE().n;
  if (r <= 0n || r >= n || s <= 0n || s >= n) return false;
  const compact = new Uint8Array(64);
  compact.set(toBytes32(r), 0);
  compact.set(toBytes32(s), 32);
  try {
    return secp256k1.verify(compact, sighash(hashType), pubkey, { prehash: false, lowS: false })
      ? { ok: true }
      : false;
  } catch {
    return false;
  }
}

function toBytes32(value: bigint): Uint8Array {
  const out = new Uint8Array(32);
  for (let i = 31; i >= 0; i--) {
    out[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

/**
 * Verifies every input of `tx` against the outputs it spends (`prevouts[i]` for input i).
 * Returns the first failure, or null when every input verifies.
 */
export function verifyInputs(tx: Tx, prevouts: readonly TxOutput[]): ScriptFailure | null {
  const cache = new SighashCache(tx, prevouts);
  for (let index = 0; index < tx.inputs.length; index++) {
    const reason = verifyInput(tx, index, prevouts[index]!, cache);
    if (reason) return { inputIndex: index, reason };
  }
  return null;
}

function verifyInput(tx: Tx, index: number, prevout: TxOutput, cache: SighashCache): string | null {
  const input = tx.inputs[index]!;
  const type = classifyOutput(prevout.script);
  const program = witnessProgram(prevout.script);
  const supported =
    type === 'witness_v0_keyhash' ||
    type === 'witness_v0_scripthash' ||
    type === 'witness_v1_taproot';
  if (!supported || !program) return `simnet-unsupported-input (${type})`;
  // BIP141: native witness programs need an empty scriptSig.
  if (input.scriptSig.length !== 0) return mandatory('Witness requires empty scriptSig');
  const witness = input.witness;
  if (witness.length === 0) return mandatory('Witness program was passed an empty witness');

  if (type === 'witness_v0_keyhash') {
    if (witness.length !== 2) return mandatory('Witness program hash mismatch');
    const [sig, pubkey] = witness as [Uint8Array, Uint8Array];
    if (!equalBytes(hash160(pubkey), program.program)) {
      return mandatory('Script failed an OP_EQUALVERIFY operation');
    }
    // BIP143: the scriptCode of P2WPKH is the P2PKH script of the key hash.
    const scriptCode = concatBytes(
      Uint8Array.of(0x76, 0xa9, 0x14),
      program.program,
      Uint8Array.of(0x88, 0xac),
    );
    const result = checkEcdsa(sig, pubkey, (hashType) =>
      cache.v0(index, scriptCode, prevout.value, hashType),
    );
    if (result === false) return mandatory(EVAL_FALSE);
    return result.ok ? null : result.error;
  }

  if (type === 'witness_v1_taproot') {
    let stack = witness;
    // BIP341: a last element starting 0x50 is the annex; Core relays no annex (policy).
    if (stack.length >= 2 && stack[stack.length - 1]![0] === 0x50) {
      return policy('Witness version reserved for soft-fork upgrades');
    }
    if (stack.length !== 1) return 'simnet-unsupported-input (taproot script path)';
    stack = witness;
    const sig = stack[0]!;
    let hashType = 0;
    if (sig.length === 65) {
      hashType = sig[64]!;
      if (hashType === 0) return mandatory('Invalid Schnorr signature hash type');
    } else if (sig.length !== 64) {
      return mandatory('Invalid Schnorr signature size');
    }
    const base = hashType & ~SIGHASH_ANYONECANPAY;
    if (hashType !== 0 && (base < SIGHASH_ALL || base > SIGHASH_SINGLE)) {
      return mandatory('Invalid Schnorr signature hash type');
    }
    const message = cache.v1(index, hashType);
    if (!message) return mandatory('Invalid Schnorr signature hash type');
    let valid: boolean;
    try {
      valid = schnorr.verify(sig.subarray(0, 64), message, program.program);
    } catch {
      valid = false;
    }
    return valid ? null : mandatory('Invalid Schnorr signature');
  }

  // P2WSH: the last witness item is the script, committed to by SHA256 (BIP141).
  const witnessScript = witness[witness.length - 1]!;
  if (!equalBytes(sha256(witnessScript), program.program))
    return mandatory('Witness program hash mismatch');
  const multisig = parseMultisig(witnessScript);
  if (!multisig) return 'simnet-unsupported-input (witness_v0_scripthash other than multisig)';
  const stack = witness.slice(0, -1);
  const { m, pubkeys } = multisig;
  // CHECKMULTISIG pops m signatures and one extra (dummy) element; BIP141 needs a clean stack.
  if (stack.length < m + 1) return mandatory('Operation not valid with the current stack size');
  if (stack.length > m + 1) return mandatory('Stack size must be exactly one after execution');
  const dummy = stack[0]!;
  if (dummy.length !== 0) return mandatory('Dummy CHECKMULTISIG argument must be zero');
  const sigs = stack.slice(1);
  let sigIndex = 0;
  let keyIndex = 0;
  let success = true;
  // CHECKMULTISIG: each signature must match a key, in order; keys are consumed as tried.
  while (sigIndex < sigs.length) {
    if (sigs.length - sigIndex > pubkeys.length - keyIndex) {
      success = false;
      break;
    }
    const result = checkEcdsa(sigs[sigIndex]!, pubkeys[keyIndex]!, (hashType) =>
      cache.v0(index, witnessScript, prevout.value, hashType),
    );
    if (result !== false && !result.ok) return result.error;
    if (result !== false) sigIndex++;
    keyIndex++;
  }
  return success ? null : mandatory(EVAL_FALSE);
}

import { concatBytes, equalBytes, fromReversedHex } from './bytes';
import {
  BLOCK_HEADER_SIZE,
  computeMerkleRootBytes,
  computeWitnessMerkleRootBytes,
  sha256d,
  type BlockHeader,
} from './codec';

/**
 * Consensus serialization, the writing half of codec.ts (which parses): transactions (BIP144's
 * extended format when any input has a witness), 80-byte block headers, blocks, and BIP141's
 * witness commitment. Hashing and merkle trees are codec.ts's.
 */

/** Appends consensus-encoded fields to a growing buffer. */
export class Writer {
  #buffer = new Uint8Array(256);
  #view = new DataView(this.#buffer.buffer);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
    this.#view = new DataView(next.buffer);
  }

  bytes(data: Uint8Array): this {
    this.#reserve(data.length);
    this.#buffer.set(data, this.#length);
    this.#length += data.length;
    return this;
  }

  u8(value: number): this {
    this.#reserve(1);
    this.#buffer[this.#length++] = value & 0xff;
    return this;
  }

  u32(value: number): this {
    this.#reserve(4);
    this.#view.setUint32(this.#length, value >>> 0, true);
    this.#length += 4;
    return this;
  }

  i32(value: number): this {
    this.#reserve(4);
    this.#view.setInt32(this.#length, value | 0, true);
    this.#length += 4;
    return this;
  }

  u64(value: bigint): this {
    this.#reserve(8);
    this.#view.setBigUint64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  /** Bitcoin's CompactSize variable-length integer, always in its canonical (shortest) form. */
  compactSize(value: number): this {
    if (value < 0xfd) return this.u8(value);
    if (value <= 0xffff) {
      this.u8(0xfd);
      this.#reserve(2);
      this.#view.setUint16(this.#length, value, true);
      this.#length += 2;
      return this;
    }
    if (value <= 0xffffffff) return this.u8(0xfe).u32(value);
    return this.u8(0xff).u64(BigInt(value));
  }

  varBytes(data: Uint8Array): this {
    return this.compactSize(data.length).bytes(data);
  }

  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }
}

export interface TxInputFields {
  /** The spent transaction's id in internal byte order. */
  readonly prevTxidBytes: Uint8Array;
  readonly vout: number;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
  readonly witness: readonly Uint8Array[];
}

export interface TxOutputFields {
  readonly value: bigint;
  readonly script: Uint8Array;
}

export interface TxFields {
  readonly version: number;
  readonly inputs: readonly TxInputFields[];
  readonly outputs: readonly TxOutputFields[];
  readonly lockTime: number;
}

/** Serializes a transaction (BIP144 extended format when any input has a witness). */
export function serializeTx(tx: TxFields, withWitness = true): Uint8Array {
  const hasWitness = withWitness && tx.inputs.some((input) => input.witness.length > 0);
  const writer = new Writer().i32(tx.version);
  if (hasWitness) writer.u8(0).u8(1);
  writer.compactSize(tx.inputs.length);
  for (const input of tx.inputs) {
    writer.bytes(input.prevTxidBytes).u32(input.vout).varBytes(input.scriptSig).u32(input.sequence);
  }
  writer.compactSize(tx.outputs.length);
  for (const output of tx.outputs) writer.u64(output.value).varBytes(output.script);
  if (hasWitness) {
    for (const input of tx.inputs) {
      writer.compactSize(input.witness.length);
      for (const item of input.witness) writer.varBytes(item);
    }
  }
  writer.u32(tx.lockTime);
  return writer.finish();
}

/** A block header with its hashes as bytes in internal order (codec.ts's BlockHeader has hex). */
export interface RawBlockHeader {
  readonly version: number;
  readonly prevHash: Uint8Array;
  readonly merkleRoot: Uint8Array;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
}

/** The 80 header bytes. */
export function serializeRawBlockHeader(header: RawBlockHeader): Uint8Array {
  const out = new Uint8Array(BLOCK_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setInt32(0, header.version, true);
  out.set(header.prevHash, 4);
  out.set(header.merkleRoot, 36);
  view.setUint32(68, header.time, true);
  view.setUint32(72, header.bits, true);
  view.setUint32(76, header.nonce, true);
  return out;
}

/** The block hash (internal order) of a header or of its 80 bytes. */
export function blockHashBytes(header: RawBlockHeader | Uint8Array): Uint8Array {
  return sha256d(
    header instanceof Uint8Array
      ? header.subarray(0, BLOCK_HEADER_SIZE)
      : serializeRawBlockHeader(header),
  );
}

/** A header's fields before it has a hash (the codec's parsed `BlockHeader` less `hash`). */
export type BlockHeaderFields = Omit<BlockHeader, 'hash'>;

/** Serializes the 80-byte header (hashes given in display hex). */
export function serializeBlockHeader(fields: BlockHeaderFields): Uint8Array {
  return serializeRawBlockHeader({
    version: fields.version,
    prevHash: fromReversedHex(fields.previousHash, 'previousHash'),
    merkleRoot: fromReversedHex(fields.merkleRoot, 'merkleRoot'),
    time: fields.time,
    bits: fields.bits,
    nonce: fields.nonce,
  });
}

/** A block: its header, then its transactions' bytes as they are (witness data included). */
export function serializeBlock(
  header: RawBlockHeader,
  txs: readonly { readonly raw: Uint8Array }[],
): Uint8Array {
  const writer = new Writer().bytes(serializeRawBlockHeader(header)).compactSize(txs.length);
  for (const tx of txs) writer.bytes(tx.raw);
  return writer.finish();
}

/**
 * The merkle root of Bitcoin's block tree over 32-byte hashes in internal order: pairs hashed
 * with double SHA-256, an odd last element paired with itself (CVE-2012-2459 is caught by
 * refusing duplicate txids). 32 zero bytes for no hashes.
 */
export function merkleRoot(hashes: readonly Uint8Array[]): Uint8Array {
  return computeMerkleRootBytes(concatBytes(...hashes));
}

/** BIP141: the witness root over wtxids in block order, the coinbase's taken as 32 zero bytes. */
export function witnessMerkleRoot(wtxids: readonly Uint8Array[]): Uint8Array {
  return computeWitnessMerkleRootBytes(concatBytes(...wtxids));
}

/** BIP141: the commitment header in the coinbase's OP_RETURN output. */
export const WITNESS_COMMITMENT_HEADER = Uint8Array.of(0xaa, 0x21, 0xa9, 0xed);

/** BIP141: commitment = SHA256d(witness root ‖ witness reserved value). */
export function witnessCommitment(root: Uint8Array, reservedValue: Uint8Array): Uint8Array {
  return sha256d(concatBytes(root, reservedValue));
}

/**
 * BIP141: the commitment is in the last coinbase output whose script starts with
 * OP_RETURN 0x24 aa21a9ed; given the coinbase's output scripts, returns the 32 committed bytes
 * (a copy) or null.
 */
export function findWitnessCommitment(outputScripts: readonly Uint8Array[]): Uint8Array | null {
  for (let i = outputScripts.length - 1; i >= 0; i--) {
    const script = outputScripts[i]!;
    if (
      script.length >= 38 &&
      script[0] === 0x6a &&
      script[1] === 0x24 &&
      equalBytes(script.subarray(2, 6), WITNESS_COMMITMENT_HEADER)
    ) {
      return script.slice(6, 38);
    }
  }
  return null;
}

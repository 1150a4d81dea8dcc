import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes, equalBytes, toReversedHex } from '../../bitcoin';

/**
 * Bitcoin consensus serialization of transactions and blocks, written out here (rather than
 * borrowed) so that simnet controls every byte: txids and wtxids are computed over exactly the
 * bytes received, as Bitcoin Core does (BIP141 for the witness serialization, BIP144 for the
 * marker and flag bytes).
 */

export function sha256d(...parts: Uint8Array[]): Uint8Array {
  return sha256(sha256(parts.length === 1 ? parts[0]! : concatBytes(...parts)));
}

/** Appends consensus-encoded fields to a growing buffer. */
export class Writer {
  #buffer = new Uint8Array(256);
  #length = 0;

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    let size = this.#buffer.length * 2;
    while (size < this.#length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = next;
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
    new DataView(this.#buffer.buffer).setUint32(this.#length, value >>> 0, true);
    this.#length += 4;
    return this;
  }

  i32(value: number): this {
    this.#reserve(4);
    new DataView(this.#buffer.buffer).setInt32(this.#length, value | 0, true);
    this.#length += 4;
    return this;
  }

  u64(value: bigint): this {
    this.#reserve(8);
    new DataView(this.#buffer.buffer).setBigUint64(this.#length, value, true);
    this.#length += 8;
    return this;
  }

  /** Bitcoin's CompactSize variable-length integer. */
  compactSize(value: number): this {
    if (value < 0xfd) return this.u8(value);
    if (value <= 0xffff) {
      this.u8(0xfd);
      this.#reserve(2);
      new DataView(this.#buffer.buffer).setUint16(this.#length, value, true);
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

export class Reader {
  readonly #data: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(data: Uint8Array) {
    this.#data = data;
    this.#view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  }

  get remaining(): number {
    return this.#data.length - this.offset;
  }

  #need(count: number): void {
    if (this.offset + count > this.#data.length) {
      throw new SerializationError(`unexpected end of data at byte ${this.offset}`);
    }
  }

  bytes(count: number): Uint8Array {
    this.#need(count);
    const out = this.#data.subarray(this.offset, this.offset + count);
    this.offset += count;
    return out;
  }

  u8(): number {
    this.#need(1);
    return this.#data[this.offset++]!;
  }

  peek(): number {
    this.#need(1);
    return this.#data[this.offset]!;
  }

  u32(): number {
    this.#need(4);
    const value = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  i32(): number {
    this.#need(4);
    const value = this.#view.getInt32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(): bigint {
    this.#need(8);
    const value = this.#view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** CompactSize, refusing non-canonical encodings as Bitcoin Core's ReadCompactSize does. */
  compactSize(): number {
    const first = this.u8();
    let value: number;
    if (first < 0xfd) return first;
    if (first === 0xfd) {
      this.#need(2);
      value = this.#view.getUint16(this.offset, true);
      this.offset += 2;
      if (value < 0xfd) throw new SerializationError('non-canonical ReadCompactSize()');
    } else if (first === 0xfe) {
      value = this.u32();
      if (value < 0x10000) throw new SerializationError('non-canonical ReadCompactSize()');
    } else {
      const big = this.u64();
      if (big < 0x100000000n) throw new SerializationError('non-canonical ReadCompactSize()');
      value = Number(big);
    }
    // MAX_SIZE in Bitcoin Core's serialize.h.
    if (value > 0x02000000) throw new SerializationError('ReadCompactSize(): size too large');
    return value;
  }

  varBytes(): Uint8Array {
    return this.bytes(this.compactSize());
  }
}

export class SerializationError extends Error {
  override readonly name = 'SerializationError';
}

export interface TxInput {
  /** The spent transaction's id in internal byte order. */
  readonly prevTxidBytes: Uint8Array;
  /** The spent transaction's id, display hex. */
  readonly prevTxid: string;
  readonly vout: number;
  readonly scriptSig: Uint8Array;
  readonly sequence: number;
  readonly witness: readonly Uint8Array[];
}

export interface TxOutput {
  readonly value: bigint;
  readonly script: Uint8Array;
}

export interface Tx {
  readonly version: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  readonly lockTime: number;
  /** Display hex of the txid (hash of the serialization without witness). */
  readonly txid: string;
  /** Display hex of the wtxid (BIP141: hash with witness; equals txid without witness). */
  readonly wtxid: string;
  readonly txidBytes: Uint8Array;
  readonly wtxidBytes: Uint8Array;
  readonly hasWitness: boolean;
  /** The bytes as received (with witness when present). */
  readonly raw: Uint8Array;
  readonly size: number;
  readonly strippedSize: number;
  /** BIP141 weight: stripped size × 3 + total size. */
  readonly weight: number;
  /** BIP141 virtual size: weight / 4 rounded up. */
  readonly vsize: number;
}

export const NULL_TXID = new Uint8Array(32);

export function isCoinbase(tx: Tx): boolean {
  const input = tx.inputs[0];
  return (
    tx.inputs.length === 1 &&
    input !== undefined &&
    input.vout === 0xffffffff &&
    equalBytes(input.prevTxidBytes, NULL_TXID)
  );
}

function readTx(reader: Reader, data: Uint8Array): Tx {
  const start = reader.offset;
  const version = reader.i32();
  let hasWitness = false;
  let inputCount = reader.compactSize();
  // BIP144: an empty input vector followed by flag 0x01 marks the extended serialization.
  if (inputCount === 0) {
    const flag = reader.u8();
    if (flag !== 1) throw new SerializationError('unknown transaction optional data');
    hasWitness = true;
    inputCount = reader.compactSize();
  }
  const rawInputs: Omit<TxInput, 'witness'>[] = [];
  const noWitnessParts: [number, number][] = [];
  const inputsStart = reader.offset;
  for (let i = 0; i < inputCount; i++) {
    const prevTxidBytes = reader.bytes(32);
    const vout = reader.u32();
    const scriptSig = reader.varBytes();
    const sequence = reader.u32();
    rawInputs.push({
      prevTxidBytes,
      prevTxid: toReversedHex(prevTxidBytes),
      vout,
      scriptSig,
      sequence,
    });
  }
  const outputCount = reader.compactSize();
  const outputs: TxOutput[] = [];
  for (let i = 0; i < outputCount; i++) {
    const value = reader.u64();
    outputs.push({ value, script: reader.varBytes() });
  }
  const outputsEnd = reader.offset;
  noWitnessParts.push([inputsStart, outputsEnd]);
  const witnesses: Uint8Array[][] = rawInputs.map(() => []);
  if (hasWitness) {
    let anyWitness = false;
    for (let i = 0; i < inputCount; i++) {
      const items = reader.compactSize();
      const stack: Uint8Array[] = [];
      for (let j = 0; j < items; j++) stack.push(reader.varBytes());
      if (items > 0) anyWitness = true;
      witnesses[i] = stack;
    }
    // Bitcoin Core refuses the extended format when every witness is empty ("Superfluous witness record").
    if (!anyWitness) throw new SerializationError('superfluous witness record');
  }
  const lockTime = reader.u32();
  const end = reader.offset;
  const raw = data.subarray(start, end);
  const stripped = hasWitness
    ? concatBytes(
        data.subarray(start, start + 4),
        data.subarray(inputsStart - countPrefixLength(inputCount), outputsEnd),
        data.subarray(end - 4, end),
      )
    : raw;
  const txidBytes = sha256d(stripped);
  const wtxidBytes = hasWitness ? sha256d(raw) : txidBytes;
  const size = raw.length;
  const strippedSize = stripped.length;
  const weight = strippedSize * 3 + size;
  return {
    version,
    inputs: rawInputs.map((input, i) => ({ ...input, witness: witnesses[i] ?? [] })),
    outputs,
    lockTime,
    txid: toReversedHex(txidBytes),
    wtxid: toReversedHex(wtxidBytes),
    txidBytes,
    wtxidBytes,
    hasWitness,
    raw: raw.slice(),
    size,
    strippedSize,
    weight,
    vsize: Math.ceil(weight / 4),
  };
}

function countPrefixLength(count: number): number {
  return count < 0xfd ? 1 : count <= 0xffff ? 3 : count <= 0xffffffff ? 5 : 9;
}

/** Parses one transaction; the bytes must hold exactly one. */
export function parseTx(data: Uint8Array): Tx {
  const reader = new Reader(data);
  const tx = readTx(reader, data);
  if (reader.remaining !== 0) throw new SerializationError('extra bytes after the transaction');
  return tx;
}

export interface TxFields {
  version: number;
  inputs: readonly Omit<TxInput, 'prevTxid'>[];
  outputs: readonly TxOutput[];
  lockTime: number;
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

export interface BlockHeader {
  readonly version: number;
  /** Internal byte order. */
  readonly prevHash: Uint8Array;
  /** Internal byte order. */
  readonly merkleRoot: Uint8Array;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
}

export interface Block {
  readonly header: BlockHeader;
  readonly hash: string;
  readonly txs: readonly Tx[];
  readonly raw: Uint8Array;
  readonly size: number;
  readonly strippedSize: number;
  readonly weight: number;
}

export function serializeHeader(header: BlockHeader): Uint8Array {
  return new Writer()
    .i32(header.version)
    .bytes(header.prevHash)
    .bytes(header.merkleRoot)
    .u32(header.time)
    .u32(header.bits)
    .u32(header.nonce)
    .finish();
}

export function parseHeader(data: Uint8Array): BlockHeader {
  const reader = new Reader(data);
  return {
    version: reader.i32(),
    prevHash: reader.bytes(32).slice(),
    merkleRoot: reader.bytes(32).slice(),
    time: reader.u32(),
    bits: reader.u32(),
    nonce: reader.u32(),
  };
}

export function headerHash(header: BlockHeader | Uint8Array): Uint8Array {
  return sha256d(header instanceof Uint8Array ? header : serializeHeader(header));
}

export function parseBlock(data: Uint8Array): Block {
  const reader = new Reader(data);
  const header = parseHeader(reader.bytes(80));
  const count = reader.compactSize();
  const txs: Tx[] = [];
  for (let i = 0; i < count; i++) txs.push(readTx(reader, data));
  if (reader.remaining !== 0) throw new SerializationError('extra bytes after the block');
  const strippedSize =
    80 + countPrefixLength(count) + txs.reduce((sum, tx) => sum + tx.strippedSize, 0);
  return {
    header,
    hash: toReversedHex(headerHash(data.subarray(0, 80))),
    txs,
    raw: data,
    size: data.length,
    strippedSize,
    weight: strippedSize * 3 + data.length,
  };
}

export function serializeBlock(header: BlockHeader, txs: readonly Tx[]): Uint8Array {
  const writer = new Writer().bytes(serializeHeader(header)).compactSize(txs.length);
  for (const tx of txs) writer.bytes(tx.raw);
  return writer.finish();
}

/**
 * The merkle root of Bitcoin's block tree: pairs hashed with double SHA-256, an odd last
 * element paired with itself (consensus since 2009; CVE-2012-2459 is caught by refusing
 * duplicate txids).
 */
export function merkleRoot(hashes: readonly Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return new Uint8Array(32);
  let level = hashes.slice();
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i]!;
      const right = level[i + 1] ?? left;
      next.push(sha256d(concatBytes(left, right)));
    }
    level = next;
  }
  return level[0]!;
}

/** BIP141: the commitment header in the coinbase's OP_RETURN output. */
export const WITNESS_COMMITMENT_HEADER = Uint8Array.of(0xaa, 0x21, 0xa9, 0xed);

/** BIP141: the witness root, over wtxids with the coinbase's replaced by 32 zero bytes. */
export function witnessMerkleRoot(txs: readonly Tx[]): Uint8Array {
  return merkleRoot(txs.map((tx, i) => (i === 0 ? new Uint8Array(32) : tx.wtxidBytes)));
}

/** BIP141: commitment = SHA256d(witness root ‖ witness reserved value). */
export function witnessCommitment(root: Uint8Array, reservedValue: Uint8Array): Uint8Array {
  return sha256d(concatBytes(root, reservedValue));
}

/**
 * BIP141: the commitment is in the last coinbase output whose script starts with
 * OP_RETURN 0x24 aa21a9ed; returns the 32 committed bytes or null.
 */
export function findWitnessCommitment(coinbase: Tx): Uint8Array | null {
  for (let i = coinbase.outputs.length - 1; i >= 0; i--) {
    const script = coinbase.outputs[i]!.script;
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

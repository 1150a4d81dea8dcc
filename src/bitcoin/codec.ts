import { createHash, hash as nodeHash } from 'node:crypto';
import { AppError } from '../kernel';
import { classifyScript, SCRIPT_TYPES, type ScriptType } from './script';
import { toReversedHex } from './bytes';

/**
 * Block and transaction codec (consensus serialization, BIP144 for witness data).
 *
 * Built for throughput: a block is parsed in one pass into a columnar table of offsets into the
 * caller's buffer (typed arrays, no per-input or per-output objects); scripts are subarray views,
 * values are read on demand. Txids are computed by hashing subarrays of the input buffer: for a
 * segwit transaction the non-witness serialization is hashed in three pieces (version, the
 * inputs and outputs, locktime) with an incremental SHA-256, so nothing is copied.
 *
 * Hashing uses node:crypto (OpenSSL, SHA-NI where the CPU has it), about 3× faster than a pure
 * JavaScript SHA-256 on this workload; hashing dominates block parsing, so this is the choice
 * that makes the codec fast. Everything else in src/bitcoin uses @noble/hashes.
 */

const SHA256 = 'sha256';

function sha256d(data: Uint8Array): Buffer {
  return nodeHash(SHA256, nodeHash(SHA256, data, 'buffer'), 'buffer');
}

function truncated(offset: number, field: string): AppError {
  return new AppError('INVALID_BLOCK', `truncated at byte ${offset} while reading ${field}`);
}

/** A growable Uint32Array reused across parses (parsing is synchronous, so never shared). */
class U32Scratch {
  data = new Uint32Array(4096);
  length = 0;
  reset(): void {
    this.length = 0;
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint32Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  finish(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

class U8Scratch {
  data = new Uint8Array(4096);
  length = 0;
  reset(): void {
    this.length = 0;
  }
  push(value: number): void {
    if (this.length === this.data.length) {
      const grown = new Uint8Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    this.data[this.length++] = value;
  }
  finish(): Uint8Array {
    return this.data.slice(0, this.length);
  }
}

const scratchInputs = new U32Scratch();
const scratchOutputs = new U32Scratch();
const scratchScriptStart = new U32Scratch();
const scratchScriptEnd = new U32Scratch();
const scratchScriptType = new U8Scratch();

/** Per-transaction columns; index i is the i-th transaction. */
interface TxColumns {
  readonly bytes: Uint8Array;
  readonly count: number;
  /** Offset of each transaction; start[count] is the end of the last one. */
  readonly start: Uint32Array;
  /** Offset where witness data begins, or 0 for a transaction without witness. */
  readonly witnessStart: Uint32Array;
  /** Offset of the first witness item of the first input (coinbase witness reserved value). */
  readonly firstWitnessItem: Uint32Array;
  readonly txids: Uint8Array;
  readonly wtxids: Uint8Array;
  /** inputStart[i]..inputStart[i+1] index the inputs of transaction i. */
  readonly inputStart: Uint32Array;
  /** Offset of each input's outpoint (32-byte txid then 4-byte vout). */
  readonly inputOutpoint: Uint32Array;
  readonly outputStart: Uint32Array;
  /** Offset of each output's 8-byte value. */
  readonly outputValue: Uint32Array;
  readonly scriptStart: Uint32Array;
  readonly scriptEnd: Uint32Array;
  readonly scriptType: Uint8Array;
}

interface Totals {
  inputs: number;
  outputs: number;
  outputValue: bigint;
  size: number;
  strippedSize: number;
  weight: number;
  outputsByType: Record<ScriptType, number>;
}

function readU32(bytes: Uint8Array, offset: number): number {
  return (
    ((bytes[offset] ?? 0) |
      ((bytes[offset + 1] ?? 0) << 8) |
      ((bytes[offset + 2] ?? 0) << 16) |
      ((bytes[offset + 3] ?? 0) << 24)) >>>
    0
  );
}

function readU64(bytes: Uint8Array, offset: number): bigint {
  return BigInt(readU32(bytes, offset)) + (BigInt(readU32(bytes, offset + 4)) << 32n);
}

/**
 * Parses `count` transactions starting at `offset`; returns the columns and the end offset.
 * Throws INVALID_BLOCK naming the byte and field where the input ran out or was malformed.
 */
function parseTransactions(
  bytes: Uint8Array,
  offset: number,
  count: number,
  totals: Totals,
): { columns: TxColumns; end: number } {
  const length = bytes.length;
  // Every transaction takes at least 10 bytes, so more than this cannot parse: allocate no more.
  const capacity = Math.min(count, Math.floor((length - offset) / 10) + 1);
  const start = new Uint32Array(capacity + 1);
  const witnessStart = new Uint32Array(capacity);
  const firstWitnessItem = new Uint32Array(capacity);
  const txids = new Uint8Array(32 * capacity);
  const wtxids = new Uint8Array(32 * capacity);
  const inputStart = new Uint32Array(capacity + 1);
  const outputStart = new Uint32Array(capacity + 1);
  scratchInputs.reset();
  scratchOutputs.reset();
  scratchScriptStart.reset();
  scratchScriptEnd.reset();
  scratchScriptType.reset();
  const byType = new Uint32Array(SCRIPT_TYPES.length);
  let valueSum = 0; // exact while below 2^53; a block's outputs are far below that
  let valueSumBig = 0n;
  let pos = offset;
  let field = '';

  // CompactSize (varint) reader; sets `pos`. Non-canonical encodings are accepted here; they
  // cannot change a txid we compute since we hash the bytes as given.
  const varint = (): number => {
    if (pos >= length) throw truncated(pos, field);
    const first = bytes[pos] ?? 0;
    if (first < 0xfd) {
      pos += 1;
      return first;
    }
    if (first === 0xfd) {
      if (pos + 3 > length) throw truncated(pos, field);
      const value = (bytes[pos + 1] ?? 0) | ((bytes[pos + 2] ?? 0) << 8);
      pos += 3;
      return value;
    }
    if (first === 0xfe) {
      if (pos + 5 > length) throw truncated(pos, field);
      const value = readU32(bytes, pos + 1);
      pos += 5;
      return value;
    }
    if (pos + 9 > length) throw truncated(pos, field);
    const high = readU32(bytes, pos + 5);
    if (high !== 0) {
      throw new AppError('INVALID_BLOCK', `${field} at byte ${pos} is larger than 2^32`);
    }
    const value = readU32(bytes, pos + 1);
    pos += 9;
    return value;
  };

  for (let t = 0; t < count; t++) {
    const txStart = pos;
    start[t] = txStart;
    inputStart[t] = scratchInputs.length;
    outputStart[t] = scratchOutputs.length;
    if (pos + 4 > length) throw truncated(pos, `transaction ${t} version`);
    pos += 4;
    let segwit = false;
    if (bytes[pos] === 0 && pos + 1 < length && bytes[pos + 1] !== 0) {
      // BIP144 marker 0x00 and flag; only flag 0x01 is defined.
      if (bytes[pos + 1] !== 1) {
        throw new AppError(
          'INVALID_BLOCK',
          `transaction ${t} has unknown segwit flag 0x${(bytes[pos + 1] ?? 0).toString(16)} at byte ${pos + 1}`,
        );
      }
      segwit = true;
      pos += 2;
    }
    const bodyStart = pos;
    field = `transaction ${t} input count`;
    const inputCount = varint();
    for (let i = 0; i < inputCount; i++) {
      if (pos + 36 > length) throw truncated(pos, `transaction ${t} input ${i} outpoint`);
      scratchInputs.push(pos);
      pos += 36;
      field = `transaction ${t} input ${i} script length`;
      const scriptLength = varint();
      if (pos + scriptLength + 4 > length) {
        throw truncated(
          pos + scriptLength > length ? pos : pos + scriptLength,
          `transaction ${t} input ${i} ${pos + scriptLength > length ? 'script' : 'sequence'}`,
        );
      }
      pos += scriptLength + 4;
    }
    field = `transaction ${t} output count`;
    const outputCount = varint();
    for (let o = 0; o < outputCount; o++) {
      if (pos + 8 > length) throw truncated(pos, `transaction ${t} output ${o} value`);
      scratchOutputs.push(pos);
      const low = readU32(bytes, pos);
      const high = readU32(bytes, pos + 4);
      if (high < 0x200000) valueSum += high * 4294967296 + low;
      else valueSumBig += (BigInt(high) << 32n) + BigInt(low);
      pos += 8;
      field = `transaction ${t} output ${o} script length`;
      const scriptLength = varint();
      if (pos + scriptLength > length) throw truncated(pos, `transaction ${t} output ${o} script`);
      scratchScriptStart.push(pos);
      scratchScriptEnd.push(pos + scriptLength);
      const type = classifyScript(bytes, pos, pos + scriptLength);
      scratchScriptType.push(type);
      byType[type] = (byType[type] ?? 0) + 1;
      pos += scriptLength;
    }
    const bodyEnd = pos;
    if (segwit) {
      witnessStart[t] = pos;
      for (let i = 0; i < inputCount; i++) {
        field = `transaction ${t} input ${i} witness item count`;
        const items = varint();
        for (let w = 0; w < items; w++) {
          field = `transaction ${t} input ${i} witness item ${w} length`;
          const itemLength = varint();
          if (i === 0 && w === 0) firstWitnessItem[t] = pos;
          if (pos + itemLength > length) {
            throw truncated(pos, `transaction ${t} input ${i} witness item ${w}`);
          }
          pos += itemLength;
        }
      }
    }
    if (pos + 4 > length) throw truncated(pos, `transaction ${t} locktime`);
    pos += 4;
    const txEnd = pos;
    const size = txEnd - txStart;
    let stripped = size;
    if (segwit) {
      stripped = size - 2 - (txEnd - 4 - bodyEnd);
      const hasher = createHash(SHA256);
      hasher.update(bytes.subarray(txStart, txStart + 4));
      hasher.update(bytes.subarray(bodyStart, bodyEnd));
      hasher.update(bytes.subarray(txEnd - 4, txEnd));
      txids.set(nodeHash(SHA256, hasher.digest(), 'buffer'), t * 32);
      wtxids.set(sha256d(bytes.subarray(txStart, txEnd)), t * 32);
    } else {
      const id = sha256d(bytes.subarray(txStart, txEnd));
      txids.set(id, t * 32);
      wtxids.set(id, t * 32);
    }
    totals.size += size;
    totals.strippedSize += stripped;
    totals.weight += stripped * 3 + size;
  }
  start[count] = pos;
  inputStart[count] = scratchInputs.length;
  outputStart[count] = scratchOutputs.length;
  totals.inputs += scratchInputs.length;
  totals.outputs += scratchOutputs.length;
  totals.outputValue += BigInt(valueSum) + valueSumBig;
  for (let i = 0; i < SCRIPT_TYPES.length; i++) {
    const name = SCRIPT_TYPES[i];
    if (name !== undefined) totals.outputsByType[name] += byType[i] ?? 0;
  }
  return {
    columns: {
      bytes,
      count,
      start,
      witnessStart,
      firstWitnessItem,
      txids,
      wtxids,
      inputStart,
      inputOutpoint: scratchInputs.finish(),
      outputStart,
      outputValue: scratchOutputs.finish(),
      scriptStart: scratchScriptStart.finish(),
      scriptEnd: scratchScriptEnd.finish(),
      scriptType: scratchScriptType.finish(),
    },
    end: pos,
  };
}

function emptyTotals(): Totals {
  const outputsByType = Object.fromEntries(SCRIPT_TYPES.map((t) => [t, 0])) as Record<
    ScriptType,
    number
  >;
  return {
    inputs: 0,
    outputs: 0,
    outputValue: 0n,
    size: 0,
    strippedSize: 0,
    weight: 0,
    outputsByType,
  };
}

export interface TxInput {
  /** The spent output's txid, display (reversed) hex; all zeros for a coinbase. */
  readonly prevTxid: string;
  readonly prevVout: number;
  readonly coinbase: boolean;
  readonly sequence: number;
}

export interface TxOutput {
  readonly value: bigint;
  /** A view into the parsed buffer: copy it if you keep it beyond the buffer's life. */
  readonly scriptPubKey: Uint8Array;
  readonly type: ScriptType;
}

/** A transaction of a parsed block: a view over the block's columns, read on demand. */
export class ParsedTransaction {
  readonly #columns: TxColumns;
  readonly index: number;

  constructor(columns: TxColumns, index: number) {
    this.#columns = columns;
    this.index = index;
  }

  /** The raw transaction bytes (a view). */
  get bytes(): Uint8Array {
    const c = this.#columns;
    return c.bytes.subarray(c.start[this.index] ?? 0, c.start[this.index + 1] ?? 0);
  }
  /** Txid in internal byte order (as in outpoints and the merkle tree). */
  get txidBytes(): Uint8Array {
    return this.#columns.txids.subarray(this.index * 32, this.index * 32 + 32);
  }
  get wtxidBytes(): Uint8Array {
    return this.#columns.wtxids.subarray(this.index * 32, this.index * 32 + 32);
  }
  get txid(): string {
    return toReversedHex(this.txidBytes);
  }
  get wtxid(): string {
    return toReversedHex(this.wtxidBytes);
  }
  get hasWitness(): boolean {
    return (this.#columns.witnessStart[this.index] ?? 0) !== 0;
  }
  get size(): number {
    return (this.#columns.start[this.index + 1] ?? 0) - (this.#columns.start[this.index] ?? 0);
  }
  /** Size without witness data (marker, flag and witnesses removed). */
  get strippedSize(): number {
    const c = this.#columns;
    const witness = c.witnessStart[this.index] ?? 0;
    if (witness === 0) return this.size;
    const end = c.start[this.index + 1] ?? 0;
    return this.size - 2 - (end - 4 - witness);
  }
  /** BIP141 weight: stripped size × 3 + total size. */
  get weight(): number {
    return this.strippedSize * 3 + this.size;
  }
  get vsize(): number {
    return Math.ceil(this.weight / 4);
  }
  get version(): number {
    return readU32(this.#columns.bytes, this.#columns.start[this.index] ?? 0) | 0;
  }
  get locktime(): number {
    return readU32(this.#columns.bytes, (this.#columns.start[this.index + 1] ?? 0) - 4);
  }
  get isCoinbase(): boolean {
    const c = this.#columns;
    const first = c.inputStart[this.index] ?? 0;
    return (c.inputStart[this.index + 1] ?? 0) - first === 1 && isNullOutpoint(c, first);
  }
  get inputCount(): number {
    return (
      (this.#columns.inputStart[this.index + 1] ?? 0) - (this.#columns.inputStart[this.index] ?? 0)
    );
  }
  get outputCount(): number {
    return (
      (this.#columns.outputStart[this.index + 1] ?? 0) -
      (this.#columns.outputStart[this.index] ?? 0)
    );
  }
  get inputs(): TxInput[] {
    const c = this.#columns;
    const coinbase = this.isCoinbase;
    const result: TxInput[] = [];
    for (let i = c.inputStart[this.index] ?? 0; i < (c.inputStart[this.index + 1] ?? 0); i++) {
      const at = c.inputOutpoint[i] ?? 0;
      const scriptLength = readVarintAt(c.bytes, at + 36);
      result.push({
        prevTxid: toReversedHex(c.bytes.subarray(at, at + 32)),
        prevVout: readU32(c.bytes, at + 32),
        coinbase,
        sequence: readU32(c.bytes, scriptLength.end + scriptLength.value),
      });
    }
    return result;
  }
  get outputs(): TxOutput[] {
    const c = this.#columns;
    const result: TxOutput[] = [];
    for (let o = c.outputStart[this.index] ?? 0; o < (c.outputStart[this.index + 1] ?? 0); o++) {
      result.push(outputAt(c, o));
    }
    return result;
  }
  output(vout: number): TxOutput {
    const first = this.#columns.outputStart[this.index] ?? 0;
    if (!Number.isInteger(vout) || vout < 0 || vout >= this.outputCount) {
      throw new AppError(
        'VALIDATION_FAILED',
        `vout must be 0..${this.outputCount - 1}, got ${vout}`,
      );
    }
    return outputAt(this.#columns, first + vout);
  }
}

function outputAt(c: TxColumns, o: number): TxOutput {
  return {
    value: readU64(c.bytes, c.outputValue[o] ?? 0),
    scriptPubKey: c.bytes.subarray(c.scriptStart[o] ?? 0, c.scriptEnd[o] ?? 0),
    type: SCRIPT_TYPES[c.scriptType[o] ?? 8] ?? 'nonstandard',
  };
}

function isNullOutpoint(c: TxColumns, input: number): boolean {
  const at = c.inputOutpoint[input] ?? 0;
  for (let i = 0; i < 32; i++) if (c.bytes[at + i] !== 0) return false;
  return readU32(c.bytes, at + 32) === 0xffffffff;
}

function readVarintAt(bytes: Uint8Array, at: number): { value: number; end: number } {
  const first = bytes[at] ?? 0;
  if (first < 0xfd) return { value: first, end: at + 1 };
  if (first === 0xfd)
    return { value: (bytes[at + 1] ?? 0) | ((bytes[at + 2] ?? 0) << 8), end: at + 3 };
  if (first === 0xfe) return { value: readU32(bytes, at + 1), end: at + 5 };
  return { value: readU32(bytes, at + 1), end: at + 9 };
}

export interface BlockHeader {
  readonly version: number;
  /** Display (reversed) hex, as explorers and RPC show it. */
  readonly previousHash: string;
  readonly merkleRoot: string;
  /** Seconds since the epoch. */
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
  readonly hash: string;
}

export type WitnessCommitmentStatus = 'valid' | 'invalid' | 'absent';

export interface BlockTotals {
  readonly transactions: number;
  readonly inputs: number;
  readonly outputs: number;
  /** Sum of all output values in sats, coinbase included. */
  readonly outputValue: bigint;
  readonly size: number;
  readonly strippedSize: number;
  readonly weight: number;
  readonly outputsByType: Readonly<Record<ScriptType, number>>;
}

export class ParsedBlock {
  readonly header: BlockHeader;
  readonly totals: BlockTotals;
  readonly #columns: TxColumns;
  readonly #headerBytes: Uint8Array;
  #transactions: ParsedTransaction[] | undefined;

  constructor(
    header: BlockHeader,
    headerBytes: Uint8Array,
    columns: TxColumns,
    totals: BlockTotals,
  ) {
    this.header = header;
    this.#headerBytes = headerBytes;
    this.#columns = columns;
    this.totals = totals;
  }

  get hash(): string {
    return this.header.hash;
  }
  /** The 80 header bytes (a view). */
  get headerBytes(): Uint8Array {
    return this.#headerBytes;
  }
  get txCount(): number {
    return this.#columns.count;
  }
  get transactions(): readonly ParsedTransaction[] {
    this.#transactions ??= Array.from(
      { length: this.#columns.count },
      (_, i) => new ParsedTransaction(this.#columns, i),
    );
    return this.#transactions;
  }
  transaction(index: number): ParsedTransaction {
    if (!Number.isInteger(index) || index < 0 || index >= this.#columns.count) {
      throw new AppError(
        'VALIDATION_FAILED',
        `transaction index must be 0..${this.#columns.count - 1}, got ${index}`,
      );
    }
    return new ParsedTransaction(this.#columns, index);
  }
  /** Txids in display hex, in block order. */
  txids(): string[] {
    const out: string[] = [];
    for (let i = 0; i < this.#columns.count; i++) {
      out.push(toReversedHex(this.#columns.txids.subarray(i * 32, i * 32 + 32)));
    }
    return out;
  }
  /** All txids, 32 bytes each in internal order, concatenated (a view). */
  get txidBytes(): Uint8Array {
    return this.#columns.txids;
  }
  get wtxidBytes(): Uint8Array {
    return this.#columns.wtxids;
  }
  get hasWitnessData(): boolean {
    for (let i = 0; i < this.#columns.count; i++)
      if (this.#columns.witnessStart[i] !== 0) return true;
    return false;
  }

  /** True when the header's merkle root equals the root of the txids. */
  verifyMerkleRoot(): boolean {
    const root = computeMerkleRootBytes(this.#columns.txids);
    return equal32(root, this.#headerBytes.subarray(36, 68));
  }

  /** The witness commitment in the coinbase (BIP141), in hex, or null when there is none. */
  witnessCommitment(): string | null {
    const at = this.#commitmentOffset();
    if (at < 0) return null;
    return Buffer.from(this.#columns.bytes.subarray(at, at + 32)).toString('hex');
  }

  /**
   * BIP141: the coinbase's last output whose script starts 6a24aa21a9ed commits to
   * SHA256d(witness merkle root ‖ witness reserved value), the root built from wtxids with the
   * coinbase's taken as zero, the reserved value the coinbase's single 32-byte witness item.
   * 'absent' when the block has no commitment and no witness data (pre-segwit or no segwit txs).
   */
  verifyWitnessCommitment(): WitnessCommitmentStatus {
    const at = this.#commitmentOffset();
    const c = this.#columns;
    if (at < 0) return this.hasWitnessData ? 'invalid' : 'absent';
    const coinbaseWitness = c.firstWitnessItem[0] ?? 0;
    if ((c.witnessStart[0] ?? 0) === 0 || coinbaseWitness === 0) return 'invalid';
    // The coinbase witness must be exactly one 32-byte item.
    const witnessStart = c.witnessStart[0] ?? 0;
    if (c.bytes[witnessStart] !== 1 || c.bytes[witnessStart + 1] !== 32) return 'invalid';
    const leaves = c.wtxids.slice();
    leaves.fill(0, 0, 32);
    const root = computeMerkleRootBytes(leaves);
    const commitment = sha256d(
      Buffer.concat([root, c.bytes.subarray(coinbaseWitness, coinbaseWitness + 32)]),
    );
    return equal32(commitment, c.bytes.subarray(at, at + 32)) ? 'valid' : 'invalid';
  }

  #commitmentOffset(): number {
    const c = this.#columns;
    if (c.count === 0) return -1;
    let found = -1;
    for (let o = c.outputStart[0] ?? 0; o < (c.outputStart[1] ?? 0); o++) {
      const s = c.scriptStart[o] ?? 0;
      if (
        (c.scriptEnd[o] ?? 0) - s >= 38 &&
        c.bytes[s] === 0x6a &&
        c.bytes[s + 1] === 0x24 &&
        c.bytes[s + 2] === 0xaa &&
        c.bytes[s + 3] === 0x21 &&
        c.bytes[s + 4] === 0xa9 &&
        c.bytes[s + 5] === 0xed
      ) {
        found = s + 6;
      }
    }
    return found;
  }
}

function equal32(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < 32; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const BLOCK_HEADER_SIZE = 80;

export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  if (bytes.length < BLOCK_HEADER_SIZE) {
    throw truncated(bytes.length, 'block header (80 bytes)');
  }
  return headerFrom(bytes.subarray(0, BLOCK_HEADER_SIZE));
}

function headerFrom(header: Uint8Array): BlockHeader {
  return {
    version: readU32(header, 0) | 0,
    previousHash: toReversedHex(header.subarray(4, 36)),
    merkleRoot: toReversedHex(header.subarray(36, 68)),
    time: readU32(header, 68),
    bits: readU32(header, 72),
    nonce: readU32(header, 76),
    hash: toReversedHex(sha256d(header)),
  };
}

/** Parses a block in consensus serialization. The result keeps views into `bytes`. */
export function parseBlock(bytes: Uint8Array): ParsedBlock {
  const headerBytes = bytes.subarray(0, BLOCK_HEADER_SIZE);
  const header = parseBlockHeader(bytes);
  let pos = BLOCK_HEADER_SIZE;
  const count = readVarintChecked(bytes, pos, 'transaction count');
  pos = count.end;
  if (count.value === 0) throw new AppError('INVALID_BLOCK', 'block has no transactions');
  // A declared count can be up to 2^32; never allocate for more transactions than the bytes
  // can hold (each is at least 10 bytes), so a lying count ends in a precise truncation error.
  const totals = emptyTotals();
  const { columns, end } = parseTransactions(bytes, pos, count.value, totals);
  if (end !== bytes.length) {
    throw new AppError(
      'INVALID_BLOCK',
      `${bytes.length - end} unexpected bytes after the last transaction, at byte ${end}`,
    );
  }
  // Block size and weight include the header and the transaction count.
  const overhead = pos;
  return new ParsedBlock(header, headerBytes, columns, {
    transactions: count.value,
    inputs: totals.inputs,
    outputs: totals.outputs,
    outputValue: totals.outputValue,
    size: totals.size + overhead,
    strippedSize: totals.strippedSize + overhead,
    weight: totals.weight + overhead * 4,
    outputsByType: totals.outputsByType,
  });
}

/** Parses one transaction; the whole buffer must be that transaction. */
export function parseTransaction(bytes: Uint8Array): ParsedTransaction {
  const { columns, end } = parseTransactions(bytes, 0, 1, emptyTotals());
  if (end !== bytes.length) {
    throw new AppError(
      'INVALID_BLOCK',
      `${bytes.length - end} unexpected bytes after the transaction, at byte ${end}`,
    );
  }
  return new ParsedTransaction(columns, 0);
}

function readVarintChecked(
  bytes: Uint8Array,
  at: number,
  field: string,
): { value: number; end: number } {
  if (at >= bytes.length) throw truncated(at, field);
  const first = bytes[at] ?? 0;
  const width = first < 0xfd ? 1 : first === 0xfd ? 3 : first === 0xfe ? 5 : 9;
  if (at + width > bytes.length) throw truncated(at, field);
  return readVarintAt(bytes, at);
}

export interface BlockHeaderFields {
  readonly version: number;
  readonly previousHash: string;
  readonly merkleRoot: string;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
}

/** Serializes the 80-byte header (hashes given in display hex). */
export function serializeBlockHeader(fields: BlockHeaderFields): Uint8Array {
  const out = new Uint8Array(BLOCK_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setInt32(0, fields.version, true);
  out.set(reversedHash(fields.previousHash, 'previousHash'), 4);
  out.set(reversedHash(fields.merkleRoot, 'merkleRoot'), 36);
  view.setUint32(68, fields.time, true);
  view.setUint32(72, fields.bits, true);
  view.setUint32(76, fields.nonce, true);
  return out;
}

function reversedHash(text: string, field: string): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new AppError('VALIDATION_FAILED', `${field} must be 64 hex characters, got "${text}"`);
  }
  return Uint8Array.from(Buffer.from(text, 'hex')).reverse();
}

/** Block hash of an 80-byte header, display hex. */
export function blockHash(header: Uint8Array): string {
  return toReversedHex(sha256d(header.subarray(0, BLOCK_HEADER_SIZE)));
}

/** Merkle root of txids given in display hex; returns display hex. */
export function computeMerkleRoot(txids: readonly string[]): string {
  if (txids.length === 0) throw new AppError('VALIDATION_FAILED', 'txids must not be empty');
  const leaves = new Uint8Array(32 * txids.length);
  txids.forEach((txid, i) => leaves.set(reversedHash(txid, `txids[${i}]`), i * 32));
  return toReversedHex(computeMerkleRootBytes(leaves));
}

/**
 * Bitcoin's merkle tree over 32-byte leaves in internal order (an odd level duplicates its last
 * hash). Pairs are adjacent in one buffer, so each parent is one hash of a 64-byte subarray.
 */
export function computeMerkleRootBytes(leaves: Uint8Array): Uint8Array {
  let count = leaves.length / 32;
  const level = new Uint8Array(32 * (count + 1));
  level.set(leaves);
  while (count > 1) {
    if (count % 2 === 1) {
      level.copyWithin(count * 32, (count - 1) * 32, count * 32);
      count++;
    }
    const parents = count / 2;
    for (let i = 0; i < parents; i++) {
      level.set(sha256d(level.subarray(i * 64, i * 64 + 64)), i * 32);
    }
    count = parents;
  }
  return level.slice(0, 32);
}

/**
 * Over 600 lines on purpose: this is one hot-path codec, measured by bench/block-parse.bench.ts
 * (CPU time and heap per parse, against bitcoinjs-lib and @scure/btc-signer). The one-pass
 * parser, ParsedTransaction and ParsedBlock share the columnar layout (the TX_* and FIELD_*
 * offsets) and the module-level scratch buffers, and parseTransactions is one long loop that
 * reads a block in a single pass with its running state in locals; split across files, the layout
 * and the scratch buffers would become exports shared between them. Change it only with the
 * benchmark run before and after.
 */
import { hash as nodeHash } from 'node:crypto';
import { AppError } from '../kernel';
import { classifyScript, SCRIPT_TYPES, type ScriptType } from './script';
import { toReversedHex } from './bytes';

/**
 * Block and transaction codec (consensus serialization, BIP144 for witness data).
 *
 * Built for throughput and a small heap: a block is parsed in one pass into a columnar table of
 * offsets into the caller's buffer (one Uint32Array for every column, one Uint8Array for all
 * txids and wtxids): no per-input or per-output objects and no strings; scripts are subarray
 * views and values are read on demand; hex is made only when a caller asks for it.
 *
 * Hashing dominates parsing. A double SHA-256 here is two halves. The first hashes the message
 * (a view of the input buffer) with node:crypto's one-shot hash (OpenSSL, SHA-NI where the CPU
 * has it), asking for a 'binary' (latin1) string: on Node 20 that takes about a third of the time of
 * a 'buffer' result, and allocates a 32-character string instead of a Buffer. The second hashes those 32
 * bytes with the single SHA-256 compression below, read straight from the string and written
 * straight into our tables: as fast as a second native call, without its allocations. A segwit
 * transaction's txid covers its non-witness serialization (BIP144: version, inputs and outputs,
 * locktime), copied into one reused buffer to be hashed in one call. Everything else in
 * src/bitcoin uses @noble/hashes.
 */

const SHA256 = 'sha256';

// prettier-ignore
const SHA256_K = Int32Array.from([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// prettier-ignore
const SHA256_IV = Int32Array.from([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);
/** The message schedule W of the compression. */
const schedule = new Int32Array(64);

/**
 * out[at, at+32) = SHA-256 of the 32-byte digest given as a 'binary' string (one character per
 * byte): the second half of a double SHA-256. A 32-byte message is one 64-byte block: the
 * message, the 0x80 marker, zeros, and its length in bits (256) (FIPS 180-4 §5.1.1, §6.2).
 */
function sha256OfDigest(digest: string, out: Uint8Array, at: number): void {
  const w = schedule;
  for (let i = 0; i < 8; i++) {
    w[i] =
      (digest.charCodeAt(4 * i) << 24) |
      (digest.charCodeAt(4 * i + 1) << 16) |
      (digest.charCodeAt(4 * i + 2) << 8) |
      digest.charCodeAt(4 * i + 3);
  }
  w[8] = 0x80000000 | 0;
  w.fill(0, 9, 15);
  w[15] = 256;
  for (let i = 16; i < 64; i++) {
    const w15 = w[i - 15]!;
    const w2 = w[i - 2]!;
    const sigma0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const sigma1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    w[i] = (sigma1 + w[i - 7]! + sigma0 + w[i - 16]!) | 0;
  }
  const k = SHA256_K;
  const iv = SHA256_IV;
  let a = iv[0]!;
  let b = iv[1]!;
  let c = iv[2]!;
  let d = iv[3]!;
  let e = iv[4]!;
  let f = iv[5]!;
  let g = iv[6]!;
  let h = iv[7]!;
  for (let i = 0; i < 64; i++) {
    const bigSigma1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const t1 = (h + bigSigma1 + (g ^ (e & (f ^ g))) + k[i]! + w[i]!) | 0;
    const bigSigma0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const t2 = (bigSigma0 + ((a & b) | (c & (a | b)))) | 0;
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + t2) | 0;
  }
  writeWord(out, at, a + iv[0]!);
  writeWord(out, at + 4, b + iv[1]!);
  writeWord(out, at + 8, c + iv[2]!);
  writeWord(out, at + 12, d + iv[3]!);
  writeWord(out, at + 16, e + iv[4]!);
  writeWord(out, at + 20, f + iv[5]!);
  writeWord(out, at + 24, g + iv[6]!);
  writeWord(out, at + 28, h + iv[7]!);
}

function writeWord(out: Uint8Array, at: number, word: number): void {
  out[at] = word >>> 24;
  out[at + 1] = word >>> 16;
  out[at + 2] = word >>> 8;
  out[at + 3] = word;
}

/** out[at, at+32) = SHA256d(bytes[start, end)). The input is read whole before out is written. */
function sha256dInto(
  bytes: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): void {
  sha256OfDigest(nodeHash(SHA256, bytes.subarray(start, end), 'binary'), out, at);
}

/** Reused buffer for a segwit transaction's non-witness serialization. */
let strippedScratch: Uint8Array = new Uint8Array(4096);

/**
 * out[at, at+32) = the txid of the segwit transaction at bytes[txStart, txEnd) whose inputs and
 * outputs are bytes[bodyStart, bodyEnd): SHA256d(version ‖ inputs and outputs ‖ locktime).
 */
function strippedTxidInto(
  bytes: Uint8Array,
  txStart: number,
  bodyStart: number,
  bodyEnd: number,
  txEnd: number,
  out: Uint8Array,
  at: number,
): void {
  const length = bodyEnd - bodyStart + 8;
  if (strippedScratch.length < length) {
    strippedScratch = new Uint8Array(Math.max(length, strippedScratch.length * 2));
  }
  const scratch = strippedScratch;
  for (let i = 0; i < 4; i++) {
    scratch[i] = bytes[txStart + i]!;
    scratch[length - 4 + i] = bytes[txEnd - 4 + i]!;
  }
  scratch.set(bytes.subarray(bodyStart, bodyEnd), 4);
  sha256dInto(scratch, 0, length, out, at);
}

/** SHA256d as a fresh 32-byte array: the codec's fast double SHA-256, for every caller. */
export function sha256d(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(32);
  sha256dInto(bytes, 0, bytes.length, out, 0);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Parsing

function truncated(offset: number, field: string): AppError {
  return new AppError('INVALID_BLOCK', `truncated at byte ${offset} while reading ${field}`);
}

/**
 * What was being read when the input ran out. Error messages are built from these only when
 * parsing fails, so a successful parse makes no strings.
 */
const FIELD_INPUT_COUNT = 0;
const FIELD_INPUT_SCRIPT_LENGTH = 1;
const FIELD_OUTPUT_COUNT = 2;
const FIELD_OUTPUT_SCRIPT_LENGTH = 3;
const FIELD_WITNESS_ITEM_COUNT = 4;
const FIELD_WITNESS_ITEM_LENGTH = 5;

function fieldName(field: number, tx: number, index: number, item: number): string {
  switch (field) {
    case FIELD_INPUT_COUNT:
      return `transaction ${tx} input count`;
    case FIELD_INPUT_SCRIPT_LENGTH:
      return `transaction ${tx} input ${index} script length`;
    case FIELD_OUTPUT_COUNT:
      return `transaction ${tx} output count`;
    case FIELD_OUTPUT_SCRIPT_LENGTH:
      return `transaction ${tx} output ${index} script length`;
    case FIELD_WITNESS_ITEM_COUNT:
      return `transaction ${tx} input ${index} witness item count`;
    default:
      return `transaction ${tx} input ${index} witness item ${item} length`;
  }
}

const COMPACT_SIZE_TRUNCATED = -1;
const COMPACT_SIZE_TOO_LARGE = -2;
const COMPACT_SIZE_NON_CANONICAL = -3;

/**
 * The CompactSize (varint) at bytes[at], or COMPACT_SIZE_TRUNCATED, COMPACT_SIZE_TOO_LARGE
 * (above 2^32) or COMPACT_SIZE_NON_CANONICAL (a wider encoding than the value needs, refused as
 * Bitcoin Core's ReadCompactSize refuses it: such bytes never deserialize, so no valid
 * transaction or block has them). Its width is compactSizeWidth(bytes[at]). The checks are on
 * the multi-byte paths only: a one-byte CompactSize costs nothing more.
 */
function compactSize(bytes: Uint8Array, at: number, length: number): number {
  if (at >= length) return COMPACT_SIZE_TRUNCATED;
  const first = bytes[at]!;
  if (first < 0xfd) return first;
  if (first === 0xfd) {
    if (at + 3 > length) return COMPACT_SIZE_TRUNCATED;
    const value = bytes[at + 1]! | (bytes[at + 2]! << 8);
    return value < 0xfd ? COMPACT_SIZE_NON_CANONICAL : value;
  }
  if (first === 0xfe) {
    if (at + 5 > length) return COMPACT_SIZE_TRUNCATED;
    const value = readU32(bytes, at + 1);
    return value < 0x10000 ? COMPACT_SIZE_NON_CANONICAL : value;
  }
  if (at + 9 > length) return COMPACT_SIZE_TRUNCATED;
  // Every value 0xff can carry canonically is 2^32 or more.
  return readU32(bytes, at + 5) !== 0 ? COMPACT_SIZE_TOO_LARGE : COMPACT_SIZE_NON_CANONICAL;
}

function compactSizeWidth(first: number): number {
  return first < 0xfd ? 1 : first === 0xfd ? 3 : first === 0xfe ? 5 : 9;
}

function compactSizeError(
  result: number,
  at: number,
  field: number,
  tx: number,
  index: number,
  item: number,
): AppError {
  const name = fieldName(field, tx, index, item);
  if (result === COMPACT_SIZE_TOO_LARGE) {
    return new AppError('INVALID_BLOCK', `${name} at byte ${at} is larger than 2^32`);
  }
  if (result === COMPACT_SIZE_NON_CANONICAL) {
    return new AppError('INVALID_BLOCK', `${name} at byte ${at} is a non-canonical CompactSize`);
  }
  return truncated(at, name);
}

/**
 * Scratch arrays reused across parses (parsing is synchronous, so never shared); each grows to
 * fit the largest block parsed, and a parse's result is copied out of them at its end.
 */
let scratchRows: Uint32Array = new Uint32Array(4096);
let scratchEntries: Uint32Array = new Uint32Array(8192);
let scratchTxids: Uint8Array = new Uint8Array(8192);
let scratchWtxids: Uint8Array = new Uint8Array(8192);
const scratchTypeCounts = new Uint32Array(SCRIPT_TYPES.length);

function grownU32(array: Uint32Array, needed: number): Uint32Array {
  const grown = new Uint32Array(Math.max(array.length * 2, needed));
  grown.set(array);
  return grown;
}

function grownU8(array: Uint8Array, needed: number): Uint8Array {
  const grown = new Uint8Array(Math.max(array.length * 2, needed));
  grown.set(array);
  return grown;
}

/**
 * TxColumns.table holds a row per transaction, then an entry per input and per output. The row
 * of transaction t, at t * TX_STRIDE: offset of the transaction, offset of its witness data (0
 * when it has none), index of its first input entry, index of its first output entry. Row
 * `count` closes the rows: the end offset and the entry count. Entries, from TxColumns.entries
 * on: for an input, the offset of its outpoint; for an output, the offset of its 8-byte value.
 */
const TX_STRIDE = 4;
const TX_START = 0;
const TX_WITNESS = 1;
const TX_INPUTS = 2;
const TX_OUTPUTS = 3;

/** The parsed columns of a block's transactions; index i is the i-th transaction. */
interface TxColumns {
  readonly bytes: Uint8Array;
  readonly count: number;
  readonly table: Uint32Array;
  /** Where input and output entries start in `table` ((count + 1) × TX_STRIDE). */
  readonly entries: number;
  /** Txids of all transactions, 32 bytes each in internal order, then their wtxids. */
  readonly hashes: Uint8Array;
  /** Offset of the coinbase's first witness item (its witness reserved value), or 0. */
  readonly coinbaseWitnessItem: number;
}

interface Totals {
  inputs: number;
  outputs: number;
  outputValue: bigint;
  size: number;
  strippedSize: number;
  weight: number;
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
 * Output script types are counted into scratchTypeCounts.
 */
function parseTransactions(
  bytes: Uint8Array,
  offset: number,
  count: number,
  totals: Totals,
): { columns: TxColumns; end: number } {
  const length = bytes.length;
  // Scratch space grows with the transactions actually read, never with the declared count: a
  // count of 2^32 - 1 in a small block ends in a truncation error, not a huge allocation.
  let rows = scratchRows;
  let entries = scratchEntries;
  let entry = 0;
  let txids = scratchTxids;
  let wtxids = scratchWtxids;
  scratchTypeCounts.fill(0);
  let coinbaseWitnessItem = 0;
  let inputs = 0;
  let valueSum = 0; // exact while below 2^53; a block's outputs are far below that
  let valueSumBig = 0n;
  let size = 0;
  let strippedSize = 0;
  let pos = offset;

  for (let t = 0; t < count; t++) {
    const txStart = pos;
    const row = t * TX_STRIDE;
    if (row + 2 * TX_STRIDE > rows.length) rows = scratchRows = grownU32(rows, row + 2 * TX_STRIDE);
    rows[row + TX_START] = txStart;
    rows[row + TX_WITNESS] = 0;
    rows[row + TX_INPUTS] = entry;
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

    const inputCount = compactSize(bytes, pos, length);
    if (inputCount < 0) throw compactSizeError(inputCount, pos, FIELD_INPUT_COUNT, t, 0, 0);
    pos += compactSizeWidth(bytes[pos]!);
    for (let i = 0; i < inputCount; i++) {
      if (pos + 36 > length) throw truncated(pos, `transaction ${t} input ${i} outpoint`);
      if (entry === entries.length) entries = scratchEntries = grownU32(entries, entry + 1);
      entries[entry++] = pos;
      pos += 36;
      let scriptLength = bytes[pos]!;
      if (pos >= length || scriptLength >= 0xfd) {
        scriptLength = compactSize(bytes, pos, length);
        if (scriptLength < 0) {
          throw compactSizeError(scriptLength, pos, FIELD_INPUT_SCRIPT_LENGTH, t, i, 0);
        }
        pos += compactSizeWidth(bytes[pos]!);
      } else {
        pos += 1;
      }
      if (pos + scriptLength + 4 > length) {
        throw pos + scriptLength > length
          ? truncated(pos, `transaction ${t} input ${i} script`)
          : truncated(pos + scriptLength, `transaction ${t} input ${i} sequence`);
      }
      pos += scriptLength + 4;
    }
    inputs += inputCount;

    rows[row + TX_OUTPUTS] = entry;
    const outputCount = compactSize(bytes, pos, length);
    if (outputCount < 0) throw compactSizeError(outputCount, pos, FIELD_OUTPUT_COUNT, t, 0, 0);
    pos += compactSizeWidth(bytes[pos]!);
    for (let o = 0; o < outputCount; o++) {
      if (pos + 8 > length) throw truncated(pos, `transaction ${t} output ${o} value`);
      if (entry === entries.length) entries = scratchEntries = grownU32(entries, entry + 1);
      entries[entry++] = pos;
      const low = readU32(bytes, pos);
      const high = readU32(bytes, pos + 4);
      if (high < 0x200000) valueSum += high * 4294967296 + low;
      else valueSumBig += (BigInt(high) << 32n) + BigInt(low);
      pos += 8;
      let scriptLength = bytes[pos]!;
      if (pos >= length || scriptLength >= 0xfd) {
        scriptLength = compactSize(bytes, pos, length);
        if (scriptLength < 0) {
          throw compactSizeError(scriptLength, pos, FIELD_OUTPUT_SCRIPT_LENGTH, t, o, 0);
        }
        pos += compactSizeWidth(bytes[pos]!);
      } else {
        pos += 1;
      }
      if (pos + scriptLength > length) throw truncated(pos, `transaction ${t} output ${o} script`);
      const type = classifyScript(bytes, pos, pos + scriptLength);
      scratchTypeCounts[type] = scratchTypeCounts[type]! + 1;
      pos += scriptLength;
    }
    const bodyEnd = pos;

    if (segwit) {
      const witnessStart = pos;
      rows[row + TX_WITNESS] = pos;
      for (let i = 0; i < inputCount; i++) {
        const items = compactSize(bytes, pos, length);
        if (items < 0) throw compactSizeError(items, pos, FIELD_WITNESS_ITEM_COUNT, t, i, 0);
        pos += compactSizeWidth(bytes[pos]!);
        for (let w = 0; w < items; w++) {
          const itemLength = compactSize(bytes, pos, length);
          if (itemLength < 0) {
            throw compactSizeError(itemLength, pos, FIELD_WITNESS_ITEM_LENGTH, t, i, w);
          }
          pos += compactSizeWidth(bytes[pos]!);
          if (t === 0 && i === 0 && w === 0) coinbaseWitnessItem = pos;
          if (pos + itemLength > length) {
            throw truncated(pos, `transaction ${t} input ${i} witness item ${w}`);
          }
          pos += itemLength;
        }
      }
      // Bitcoin Core refuses the extended format when every witness is empty ("Superfluous
      // witness record"): then each witness is its one-byte item count, 0.
      if (pos - witnessStart === inputCount) {
        throw new AppError(
          'INVALID_BLOCK',
          `transaction ${t} has a superfluous witness record (every witness empty) at byte ${witnessStart}`,
        );
      }
    }
    if (pos + 4 > length) throw truncated(pos, `transaction ${t} locktime`);
    pos += 4;

    const txEnd = pos;
    const txSize = txEnd - txStart;
    const at = t * 32;
    if (at + 32 > txids.length) {
      txids = scratchTxids = grownU8(txids, at + 32);
      wtxids = scratchWtxids = grownU8(wtxids, at + 32);
    }
    if (segwit) {
      strippedSize += bodyEnd - bodyStart + 8;
      strippedTxidInto(bytes, txStart, bodyStart, bodyEnd, txEnd, txids, at);
      sha256dInto(bytes, txStart, txEnd, wtxids, at);
    } else {
      strippedSize += txSize;
      sha256dInto(bytes, txStart, txEnd, txids, at);
      for (let i = 0; i < 32; i++) wtxids[at + i] = txids[at + i]!;
    }
    size += txSize;
  }

  const closing = count * TX_STRIDE;
  rows[closing + TX_START] = pos;
  rows[closing + TX_WITNESS] = 0;
  rows[closing + TX_INPUTS] = entry;
  rows[closing + TX_OUTPUTS] = entry;
  totals.inputs += inputs;
  totals.outputs += entry - inputs;
  totals.outputValue += BigInt(valueSum) + valueSumBig;
  totals.size += size;
  totals.strippedSize += strippedSize;
  totals.weight += strippedSize * 3 + size;

  const rowValues = (count + 1) * TX_STRIDE;
  const table = new Uint32Array(rowValues + entry);
  table.set(rows.subarray(0, rowValues));
  table.set(entries.subarray(0, entry), rowValues);
  const hashes = new Uint8Array(64 * count);
  hashes.set(txids.subarray(0, 32 * count));
  hashes.set(wtxids.subarray(0, 32 * count), 32 * count);
  return {
    columns: {
      bytes,
      count,
      table,
      entries: rowValues,
      hashes,
      coinbaseWitnessItem,
    },
    end: pos,
  };
}

function emptyTotals(): Totals {
  return { inputs: 0, outputs: 0, outputValue: 0n, size: 0, strippedSize: 0, weight: 0 };
}

/** The output counts by script type gathered in scratchTypeCounts by the last parse. */
function outputsByType(): Record<ScriptType, number> {
  const counts = scratchTypeCounts;
  return {
    p2pkh: counts[0]!,
    p2sh: counts[1]!,
    p2wpkh: counts[2]!,
    p2wsh: counts[3]!,
    p2tr: counts[4]!,
    op_return: counts[5]!,
    multisig: counts[6]!,
    p2pk: counts[7]!,
    nonstandard: counts[8]!,
  };
}

export interface TxInput {
  /** The spent output's txid, display (reversed) hex; all zeros for a coinbase. */
  readonly prevTxid: string;
  /** The same txid in internal byte order; a view into the parsed buffer. */
  readonly prevTxidBytes: Uint8Array;
  readonly prevVout: number;
  readonly coinbase: boolean;
  /** A view into the parsed buffer. */
  readonly scriptSig: Uint8Array;
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

  #row(field: number): number {
    return this.#columns.table[this.index * TX_STRIDE + field]!;
  }
  #next(field: number): number {
    return this.#columns.table[(this.index + 1) * TX_STRIDE + field]!;
  }

  /** The raw transaction bytes (a view). */
  get bytes(): Uint8Array {
    return this.#columns.bytes.subarray(this.#row(TX_START), this.#next(TX_START));
  }
  /** Txid in internal byte order (as in outpoints and the merkle tree); a view. */
  get txidBytes(): Uint8Array {
    return this.#columns.hashes.subarray(this.index * 32, this.index * 32 + 32);
  }
  get wtxidBytes(): Uint8Array {
    const at = (this.#columns.count + this.index) * 32;
    return this.#columns.hashes.subarray(at, at + 32);
  }
  get txid(): string {
    return reversedHex32(this.#columns.hashes, this.index * 32);
  }
  get wtxid(): string {
    return reversedHex32(this.#columns.hashes, (this.#columns.count + this.index) * 32);
  }
  get hasWitness(): boolean {
    return this.#row(TX_WITNESS) !== 0;
  }
  get size(): number {
    return this.#next(TX_START) - this.#row(TX_START);
  }
  /** Size without witness data (marker, flag and witnesses removed). */
  get strippedSize(): number {
    const witness = this.#row(TX_WITNESS);
    if (witness === 0) return this.size;
    return this.size - 2 - (this.#next(TX_START) - 4 - witness);
  }
  /** BIP141 weight: stripped size × 3 + total size. */
  get weight(): number {
    return this.strippedSize * 3 + this.size;
  }
  get vsize(): number {
    return Math.ceil(this.weight / 4);
  }
  get version(): number {
    return readU32(this.#columns.bytes, this.#row(TX_START)) | 0;
  }
  get locktime(): number {
    return readU32(this.#columns.bytes, this.#next(TX_START) - 4);
  }
  get isCoinbase(): boolean {
    const first = this.#row(TX_INPUTS);
    return this.#row(TX_OUTPUTS) - first === 1 && isNullOutpoint(this.#columns, first);
  }
  get inputCount(): number {
    return this.#row(TX_OUTPUTS) - this.#row(TX_INPUTS);
  }
  get outputCount(): number {
    return this.#next(TX_INPUTS) - this.#row(TX_OUTPUTS);
  }
  get inputs(): TxInput[] {
    const c = this.#columns;
    const coinbase = this.isCoinbase;
    const result: TxInput[] = [];
    for (let i = this.#row(TX_INPUTS); i < this.#row(TX_OUTPUTS); i++) {
      const at = c.table[c.entries + i]!;
      const scriptLength = readVarintAt(c.bytes, at + 36);
      const scriptEnd = scriptLength.end + scriptLength.value;
      const prevTxidBytes = c.bytes.subarray(at, at + 32);
      result.push({
        prevTxid: toReversedHex(prevTxidBytes),
        prevTxidBytes,
        prevVout: readU32(c.bytes, at + 32),
        coinbase,
        scriptSig: c.bytes.subarray(scriptLength.end, scriptEnd),
        sequence: readU32(c.bytes, scriptEnd),
      });
    }
    return result;
  }
  /**
   * The witness stack of every input, in input order (each empty when the transaction has no
   * witness data); items are views into the parsed buffer.
   */
  get witnesses(): Uint8Array[][] {
    const count = this.inputCount;
    const stacks: Uint8Array[][] = [];
    let pos = this.#row(TX_WITNESS);
    const bytes = this.#columns.bytes;
    for (let i = 0; i < count; i++) {
      const stack: Uint8Array[] = [];
      if (pos !== 0) {
        const items = readVarintAt(bytes, pos);
        pos = items.end;
        for (let w = 0; w < items.value; w++) {
          const item = readVarintAt(bytes, pos);
          stack.push(bytes.subarray(item.end, item.end + item.value));
          pos = item.end + item.value;
        }
      }
      stacks.push(stack);
    }
    return stacks;
  }
  get outputs(): TxOutput[] {
    const result: TxOutput[] = [];
    for (let o = this.#row(TX_OUTPUTS); o < this.#next(TX_INPUTS); o++) {
      result.push(outputAt(this.#columns, o));
    }
    return result;
  }
  output(vout: number): TxOutput {
    if (!Number.isInteger(vout) || vout < 0 || vout >= this.outputCount) {
      throw new AppError(
        'VALIDATION_FAILED',
        `vout must be 0..${this.outputCount - 1}, got ${vout}`,
      );
    }
    return outputAt(this.#columns, this.#row(TX_OUTPUTS) + vout);
  }
}

/** Output `entry` (an index among the input and output entries) of the columns. */
function outputAt(c: TxColumns, entry: number): TxOutput {
  const at = c.table[c.entries + entry]!;
  const script = readVarintAt(c.bytes, at + 8);
  const end = script.end + script.value;
  return {
    value: readU64(c.bytes, at),
    scriptPubKey: c.bytes.subarray(script.end, end),
    type: SCRIPT_TYPES[classifyScript(c.bytes, script.end, end)] ?? 'nonstandard',
  };
}

function isNullOutpoint(c: TxColumns, entry: number): boolean {
  const at = c.table[c.entries + entry]!;
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

const hexScratch = Buffer.alloc(32);

/** Display hex of the 32-byte hash at bytes[at] (byte-reversed), made without a temporary view. */
function reversedHex32(bytes: Uint8Array, at: number): string {
  const target = hexScratch;
  for (let i = 0; i < 32; i++) target[i] = bytes[at + 31 - i]!;
  return target.toString('hex', 0, 32);
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
    if (this.#transactions === undefined) {
      const count = this.#columns.count;
      const transactions = new Array<ParsedTransaction>(count);
      for (let i = 0; i < count; i++) transactions[i] = new ParsedTransaction(this.#columns, i);
      this.#transactions = transactions;
    }
    return this.#transactions;
  }
  transaction(index: number): ParsedTransaction {
    if (!Number.isInteger(index) || index < 0 || index >= this.#columns.count) {
      throw new AppError(
        'VALIDATION_FAILED',
        `transaction index must be 0..${this.#columns.count - 1}, got ${index}`,
      );
    }
    return this.#transactions?.[index] ?? new ParsedTransaction(this.#columns, index);
  }
  /** Txids in display hex, in block order. */
  txids(): string[] {
    const out = new Array<string>(this.#columns.count);
    for (let i = 0; i < this.#columns.count; i++) {
      out[i] = reversedHex32(this.#columns.hashes, i * 32);
    }
    return out;
  }
  /** All txids, 32 bytes each in internal order, concatenated (a view). */
  get txidBytes(): Uint8Array {
    return this.#columns.hashes.subarray(0, 32 * this.#columns.count);
  }
  /** All wtxids, 32 bytes each in internal order, concatenated (a view). */
  get wtxidBytes(): Uint8Array {
    return this.#columns.hashes.subarray(32 * this.#columns.count);
  }
  get hasWitnessData(): boolean {
    const table = this.#columns.table;
    for (let i = 0; i < this.#columns.count; i++) {
      if (table[i * TX_STRIDE + TX_WITNESS] !== 0) return true;
    }
    return false;
  }

  /** True when the header's merkle root equals the root of the txids. */
  verifyMerkleRoot(): boolean {
    const c = this.#columns;
    const root = merkleRootOf(c.hashes, 0, c.count, false);
    return equal32(root, 0, this.#headerBytes, 36);
  }

  /** The witness commitment in the coinbase (BIP141), in hex, or null when there is none. */
  witnessCommitment(): string | null {
    const at = this.#commitmentOffset();
    if (at < 0) return null;
    return Buffer.from(
      this.#columns.bytes.buffer,
      this.#columns.bytes.byteOffset + at,
      32,
    ).toString('hex');
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
    const witnessStart = c.table[TX_WITNESS]!;
    const reserved = c.coinbaseWitnessItem;
    if (witnessStart === 0 || reserved === 0) return 'invalid';
    // The coinbase witness must be exactly one 32-byte item.
    if (c.bytes[witnessStart] !== 1 || c.bytes[witnessStart + 1] !== 32) return 'invalid';
    const root = merkleRootOf(c.hashes, 32 * c.count, c.count, true);
    const message = commitmentScratch;
    message.set(root);
    for (let i = 0; i < 32; i++) message[32 + i] = c.bytes[reserved + i]!;
    sha256dInto(message, 0, 64, message, 0);
    return equal32(message, 0, c.bytes, at) ? 'valid' : 'invalid';
  }

  #commitmentOffset(): number {
    const c = this.#columns;
    if (c.count === 0) return -1;
    let found = -1;
    const first = c.table[TX_OUTPUTS]!;
    const last = c.table[TX_STRIDE + TX_INPUTS]!;
    for (let o = first; o < last; o++) {
      const script = readVarintAt(c.bytes, c.table[c.entries + o]! + 8);
      const s = script.end;
      if (
        script.value >= 38 &&
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

const commitmentScratch = new Uint8Array(64);

function equal32(a: Uint8Array, aAt: number, b: Uint8Array, bAt: number): boolean {
  for (let i = 0; i < 32; i++) if (a[aAt + i] !== b[bAt + i]) return false;
  return true;
}

export const BLOCK_HEADER_SIZE = 80;

export function parseBlockHeader(bytes: Uint8Array): BlockHeader {
  if (bytes.length < BLOCK_HEADER_SIZE) {
    throw truncated(bytes.length, 'block header (80 bytes)');
  }
  return headerFrom(bytes);
}

const digestScratch = new Uint8Array(32);

/** The header fields of bytes[0, 80). */
function headerFrom(bytes: Uint8Array): BlockHeader {
  sha256dInto(bytes, 0, BLOCK_HEADER_SIZE, digestScratch, 0);
  return {
    version: readU32(bytes, 0) | 0,
    previousHash: reversedHex32(bytes, 4),
    merkleRoot: reversedHex32(bytes, 36),
    time: readU32(bytes, 68),
    bits: readU32(bytes, 72),
    nonce: readU32(bytes, 76),
    hash: reversedHex32(digestScratch, 0),
  };
}

/** Parses a block in consensus serialization. The result keeps views into `bytes`. */
export function parseBlock(bytes: Uint8Array): ParsedBlock {
  const header = parseBlockHeader(bytes);
  const headerBytes = bytes.subarray(0, BLOCK_HEADER_SIZE);
  let pos = BLOCK_HEADER_SIZE;
  const count = compactSize(bytes, pos, bytes.length);
  if (count === COMPACT_SIZE_TRUNCATED) throw truncated(pos, 'transaction count');
  if (count === COMPACT_SIZE_TOO_LARGE) {
    throw new AppError('INVALID_BLOCK', `transaction count at byte ${pos} is larger than 2^32`);
  }
  if (count === COMPACT_SIZE_NON_CANONICAL) {
    throw new AppError(
      'INVALID_BLOCK',
      `transaction count at byte ${pos} is a non-canonical CompactSize`,
    );
  }
  pos += compactSizeWidth(bytes[pos]!);
  if (count === 0) throw new AppError('INVALID_BLOCK', 'block has no transactions');
  const totals = emptyTotals();
  const { columns, end } = parseTransactions(bytes, pos, count, totals);
  if (end !== bytes.length) {
    throw new AppError(
      'INVALID_BLOCK',
      `${bytes.length - end} unexpected bytes after the last transaction, at byte ${end}`,
    );
  }
  // Block size and weight include the header and the transaction count.
  const overhead = pos;
  return new ParsedBlock(header, headerBytes, columns, {
    transactions: count,
    inputs: totals.inputs,
    outputs: totals.outputs,
    outputValue: totals.outputValue,
    size: totals.size + overhead,
    strippedSize: totals.strippedSize + overhead,
    weight: totals.weight + overhead * 4,
    outputsByType: outputsByType(),
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
 * hash).
 */
export function computeMerkleRootBytes(leaves: Uint8Array): Uint8Array {
  return merkleRootOf(leaves, 0, leaves.length / 32, false).slice();
}

/**
 * BIP141's witness merkle root over wtxids (32 bytes each, internal order, in block order): the
 * first leaf, the coinbase's, counts as 32 zero bytes whatever it holds.
 */
export function computeWitnessMerkleRootBytes(wtxids: Uint8Array): Uint8Array {
  return merkleRootOf(wtxids, 0, wtxids.length / 32, true).slice();
}

let merkleScratch: Uint8Array = new Uint8Array(64 * 64);

/**
 * Root of the `count` 32-byte leaves at leaves[from]; with `zeroFirst` the first leaf counts as
 * zero (the coinbase in the BIP141 witness tree). Pairs are adjacent in one buffer, so each
 * parent is one double SHA-256 of 64 bytes written over the level in place. Returns a view of a
 * scratch buffer, valid until the next call.
 */
function merkleRootOf(
  leaves: Uint8Array,
  from: number,
  count: number,
  zeroFirst: boolean,
): Uint8Array {
  if (merkleScratch.length < 32 * (count + 1)) {
    merkleScratch = new Uint8Array(32 * (count + 1));
  }
  const level = merkleScratch;
  for (let i = 0; i < 32 * count; i++) level[i] = leaves[from + i]!;
  if (zeroFirst || count === 0) level.fill(0, 0, 32);
  let width = count;
  while (width > 1) {
    if (width % 2 === 1) {
      level.copyWithin(width * 32, (width - 1) * 32, width * 32);
      width++;
    }
    const parents = width / 2;
    // Parent i is written at 32·i, at or before the pair 64·i it is read from: safe in place.
    for (let i = 0; i < parents; i++) sha256dInto(level, i * 64, i * 64 + 64, level, i * 32);
    width = parents;
  }
  return level.subarray(0, 32);
}

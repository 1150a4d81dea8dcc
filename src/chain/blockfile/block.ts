import { AppError, type NetworkName } from '../../kernel';
import {
  addressFromScript,
  computeMerkleRoot,
  sha256d,
  parseBlock as parseCodecBlock,
  parseTransaction as parseCodecTransaction,
  toReversedHex,
  type ParsedTransaction as CodecTransaction,
} from '../../bitcoin';

/**
 * The consensus block codec the chain module needs: 80-byte headers (hash, parent, target),
 * proof-of-work arithmetic, and transactions split into txid, prevouts and outputs.
 *
 * Transactions are decoded by src/bitcoin's codec; this file adds what the chain module needs
 * on top: the header with a nullable parent, proof-of-work arithmetic, a merkle check that
 * refuses, and plain copies of inputs and outputs that outlive the block buffer.
 */

export interface BlockHeader {
  readonly hash: string;
  readonly version: number;
  /** null only for a block whose parent field is all zeros (a genesis block). */
  readonly previousHash: string | null;
  readonly merkleRoot: string;
  readonly time: number;
  readonly bits: number;
  readonly nonce: number;
}

const ZERO_HASH = '0'.repeat(64);

export function parseHeader(bytes: Uint8Array): BlockHeader {
  if (bytes.length < 80) {
    throw new AppError('INVALID_BLOCK', `a block header is 80 bytes, got ${bytes.length} bytes`);
  }
  const header = bytes.subarray(0, 80);
  const view = new DataView(header.buffer, header.byteOffset, 80);
  const previousHash = toReversedHex(header.subarray(4, 36));
  return {
    hash: toReversedHex(sha256d(header)),
    version: view.getInt32(0, true),
    previousHash: previousHash === ZERO_HASH ? null : previousHash,
    merkleRoot: toReversedHex(header.subarray(36, 68)),
    time: view.getUint32(68, true),
    bits: view.getUint32(72, true),
    nonce: view.getUint32(76, true),
  };
}

/** The target a compact `nBits` encodes (Bitcoin Core arith_uint256::SetCompact). */
export function targetFromBits(bits: number): bigint {
  const exponent = bits >>> 24;
  const mantissa = BigInt(bits & 0x007fffff);
  if ((bits & 0x00800000) !== 0 || mantissa === 0n) return 0n; // negative or zero: no valid block
  return exponent <= 3
    ? mantissa >> BigInt(8 * (3 - exponent))
    : mantissa << BigInt(8 * (exponent - 3));
}

/**
 * The expected number of hashes to find a block at this target: 2^256 / (target + 1), as
 * Bitcoin Core's GetBlockProof computes it (~target / (target + 1) + 1). The best chain is the
 * one with the most total work, not the most blocks.
 */
export function workFromBits(bits: number): bigint {
  const target = targetFromBits(bits);
  if (target === 0n) return 0n;
  return (1n << 256n) / (target + 1n);
}

/** True when the header's hash, read as a little-endian number, is at most its target. */
export function meetsProofOfWork(header: BlockHeader): boolean {
  const target = targetFromBits(header.bits);
  return target > 0n && BigInt(`0x${header.hash}`) <= target;
}

export interface TxInput {
  /** The spent output; null for a coinbase input (null prevout: zero txid, index 0xffffffff). */
  readonly prevout: { readonly txid: string; readonly vout: number } | null;
  readonly sequence: number;
}

export interface TxOutput {
  readonly vout: number;
  readonly valueSats: bigint;
  readonly script: Uint8Array;
}

export interface ParsedTransaction {
  readonly txid: string;
  readonly coinbase: boolean;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
  /** The transaction's consensus bytes, with witness data when it has any. */
  readonly raw: Uint8Array;
}

export interface ParsedBlock {
  readonly header: BlockHeader;
  readonly transactions: readonly ParsedTransaction[];
}

const COINBASE_TXID = ZERO_HASH;

/** Copies a transaction of src/bitcoin's columnar codec into the plain shape chain code uses. */
function fromCodec(tx: CodecTransaction): ParsedTransaction {
  const coinbase = tx.isCoinbase;
  return {
    txid: tx.txid,
    coinbase,
    inputs: tx.inputs.map((input) => ({
      prevout:
        input.prevTxid === COINBASE_TXID && input.prevVout === 0xffffffff
          ? null
          : { txid: input.prevTxid, vout: input.prevVout },
      sequence: input.sequence,
    })),
    outputs: tx.outputs.map((output, vout) => ({
      vout,
      valueSats: output.value,
      script: output.scriptPubKey.slice(),
    })),
    raw: tx.bytes.slice(),
  };
}

/** Parses one transaction in consensus serialization (BIP144 witness format included). */
export function parseTransaction(bytes: Uint8Array): ParsedTransaction {
  return fromCodec(parseCodecTransaction(bytes));
}

/**
 * Parses a whole block with src/bitcoin's codec; refuses trailing bytes and a merkle root that
 * does not match the txids (a block served for a hash must be that block, all of it).
 */
export function parseBlock(bytes: Uint8Array): ParsedBlock {
  const block = parseCodecBlock(bytes);
  const header = parseHeader(bytes);
  if (!block.verifyMerkleRoot()) {
    throw new AppError(
      'INVALID_BLOCK',
      `block ${header.hash} commits to merkle root ${header.merkleRoot} but its transactions hash to ${merkleRoot(block.txids())}`,
    );
  }
  return { header, transactions: block.transactions.map(fromCodec) };
}

/** The merkle root of txids (display order in, display order out); all zeros for none. */
export function merkleRoot(txids: readonly string[]): string {
  return txids.length === 0 ? ZERO_HASH : computeMerkleRoot(txids);
}

/** The address an output pays, or null when its script type has none (OP_RETURN, bare multisig, P2PK). */
export function outputAddress(script: Uint8Array, network: NetworkName): string | null {
  try {
    return addressFromScript(script, network);
  } catch {
    return null;
  }
}

/**
 * Splits Bitcoin Core's blk*.dat framing: each block is preceded by the network magic (4 bytes,
 * in wire order) and its length (4 bytes, little-endian). Zero padding that Core leaves at the end
 * of a preallocated file is skipped.
 */
export function splitBlockFile(bytes: Uint8Array, magic: number): Uint8Array[] {
  const blocks: Uint8Array[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    const found = view.getUint32(offset, false);
    if (found === 0) break;
    if (found !== magic) {
      throw new AppError(
        'INVALID_BLOCK',
        `expected network magic ${magic.toString(16).padStart(8, '0')} at offset ${offset}, found ${found.toString(16).padStart(8, '0')}`,
      );
    }
    const length = view.getUint32(offset + 4, true);
    if (offset + 8 + length > bytes.length) {
      throw new AppError(
        'INVALID_BLOCK',
        `the block at offset ${offset} claims ${length} bytes but the file ends after ${bytes.length - offset - 8}`,
      );
    }
    blocks.push(bytes.subarray(offset + 8, offset + 8 + length));
    offset += 8 + length;
  }
  return blocks;
}

import { AppError } from '../../kernel';
import {
  equalBytes,
  findWitnessCommitment as findCommitment,
  parseBlock as parseCodecBlock,
  parseTransaction,
  toReversedHex,
  type ParsedTransaction,
  type RawBlockHeader,
  type TxFields,
  type TxInputFields,
  type TxOutputFields,
} from '../../bitcoin';

/**
 * Simnet's object model of transactions and blocks: plain objects (inputs with their witness
 * stacks, outputs, sizes, ids) that the mempool, the script interpreter and the RPC shapes read
 * field by field. The bytes are parsed by src/bitcoin's codec, which computes txids and wtxids
 * over exactly the bytes received, as Bitcoin Core does, and refuses what Core's deserializer
 * refuses (non-canonical CompactSize, a superfluous witness record); serialization is
 * src/bitcoin/serialize.ts's.
 */

/** An input as serialize.ts writes it, with the spent txid also in display hex. */
export interface TxInput extends TxInputFields {
  /** The spent transaction's id, display hex. */
  readonly prevTxid: string;
}

export type TxOutput = TxOutputFields;

/** A transaction as serialize.ts writes it, with its ids and sizes. */
export interface Tx extends TxFields {
  readonly inputs: readonly TxInput[];
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

export type BlockHeader = RawBlockHeader;

export interface Block {
  readonly header: BlockHeader;
  readonly hash: string;
  readonly txs: readonly Tx[];
  readonly raw: Uint8Array;
  readonly size: number;
  readonly strippedSize: number;
  readonly weight: number;
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

/**
 * The object model of a parsed transaction. Its ids and bytes are copied (they outlive the
 * parsed buffer); scripts and witness items stay views into it, as they always were.
 */
function toTx(parsed: ParsedTransaction): Tx {
  // Core reads an empty input vector as the BIP144 marker: "00 00" after the version is an
  // unknown flag to it, where the codec reads no inputs and no outputs. Simnet keeps Core's answer.
  if (parsed.inputCount === 0) {
    throw new AppError('INVALID_BLOCK', 'unknown transaction optional data (no inputs)');
  }
  const witnesses = parsed.witnesses;
  const txidBytes = parsed.txidBytes.slice();
  const wtxidBytes = parsed.hasWitness ? parsed.wtxidBytes.slice() : txidBytes;
  const weight = parsed.weight;
  return {
    version: parsed.version,
    inputs: parsed.inputs.map((input, i) => ({
      prevTxidBytes: input.prevTxidBytes,
      prevTxid: input.prevTxid,
      vout: input.prevVout,
      scriptSig: input.scriptSig,
      sequence: input.sequence,
      witness: witnesses[i] ?? [],
    })),
    outputs: parsed.outputs.map((output) => ({
      value: output.value,
      script: output.scriptPubKey,
    })),
    lockTime: parsed.locktime,
    txid: toReversedHex(txidBytes),
    wtxid: toReversedHex(wtxidBytes),
    txidBytes,
    wtxidBytes,
    hasWitness: parsed.hasWitness,
    raw: parsed.bytes.slice(),
    size: parsed.size,
    strippedSize: parsed.strippedSize,
    weight,
    vsize: Math.ceil(weight / 4),
  };
}

/**
 * Parses one transaction; the bytes must hold exactly one. Throws INVALID_BLOCK (the codec's
 * code) naming the byte and field.
 */
export function parseTx(data: Uint8Array): Tx {
  return toTx(parseTransaction(data));
}

/** Parses a block into the object model; `raw` is kept as given. */
export function parseBlock(data: Uint8Array): Block {
  const parsed = parseCodecBlock(data);
  const { header, totals } = parsed;
  return {
    header: {
      version: header.version,
      prevHash: data.slice(4, 36),
      merkleRoot: data.slice(36, 68),
      time: header.time,
      bits: header.bits,
      nonce: header.nonce,
    },
    hash: header.hash,
    txs: parsed.transactions.map(toTx),
    raw: data,
    size: totals.size,
    strippedSize: totals.strippedSize,
    weight: totals.weight,
  };
}

/** BIP141: the 32 bytes the coinbase commits to, or null. */
export function findWitnessCommitment(coinbase: Tx): Uint8Array | null {
  return findCommitment(coinbase.outputs.map((output) => output.script));
}

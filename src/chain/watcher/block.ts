import { AppError, type NetworkName } from '../../kernel';
import {
  outputAddress,
  parseBlock,
  parseTransaction,
  type ParsedTransaction,
} from '../blockfile/block';

/** An output as consumers see it: value in sats, the script, and its address when it has one. */
export interface WatchedOutput {
  readonly vout: number;
  readonly valueSats: bigint;
  readonly script: Uint8Array;
  /** null for scripts without an address form (OP_RETURN, P2PK, bare multisig, unknown). */
  readonly address: string | null;
}

export interface WatchedTransaction {
  readonly txid: string;
  readonly coinbase: boolean;
  /** The outputs this transaction spends; empty for a coinbase. */
  readonly inputs: readonly { readonly txid: string; readonly vout: number }[];
  readonly outputs: readonly WatchedOutput[];
}

export interface WatchedBlock {
  readonly hash: string;
  readonly height: number;
  readonly previousHash: string | null;
  /** Header time, seconds since the epoch. */
  readonly time: number;
  readonly transactions: readonly WatchedTransaction[];
  /**
   * False only for a disconnected block the source could no longer serve (Bitcoin Core may
   * have pruned a stale block): hash and height are exact, `transactions` is empty, and time is
   * the one recorded when the block was connected. Consumers keyed by block hash can still undo.
   */
  readonly complete: boolean;
}

export function watchedTransaction(
  tx: ParsedTransaction,
  network: NetworkName,
): WatchedTransaction {
  return {
    txid: tx.txid,
    coinbase: tx.coinbase,
    inputs: tx.inputs.flatMap((input) => (input.prevout ? [input.prevout] : [])),
    outputs: tx.outputs.map((output) => ({
      vout: output.vout,
      valueSats: output.valueSats,
      script: output.script.slice(),
      address: outputAddress(output.script, network),
    })),
  };
}

export function decodeWatchedTransaction(
  raw: Uint8Array,
  network: NetworkName,
): WatchedTransaction {
  return watchedTransaction(parseTransaction(raw), network);
}

/** Parses a raw block served for `expectedHash` and checks that it is that block. */
export function decodeWatchedBlock(
  raw: Uint8Array,
  expectedHash: string,
  height: number,
  network: NetworkName,
): WatchedBlock {
  const block = parseBlock(raw);
  if (block.header.hash !== expectedHash) {
    throw new AppError(
      'INVALID_BLOCK',
      `the source served a block hashing to ${block.header.hash} when asked for ${expectedHash}`,
    );
  }
  return {
    hash: block.header.hash,
    height,
    previousHash: block.header.previousHash,
    time: block.header.time,
    transactions: block.transactions.map((tx) => watchedTransaction(tx, network)),
    complete: true,
  };
}

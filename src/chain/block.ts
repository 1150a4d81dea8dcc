import { AppError, type NetworkName } from '../kernel';
import {
  outputAddress,
  parseBlock,
  parseTransaction,
  type ParsedTransaction,
} from './blockfile/block';

/**
 * The one block shape of Tradeclear: what every ChainSource hands the chain watcher and what
 * every chain consumer (trade, mining, clearing) reads. Each input carries the output it spends
 * (`prevout`: value and script), filled by the source before the watcher opens the block's
 * database transaction, so no consumer ever asks the chain for a previous output.
 */

/** An output: value in sats, the script, and its address when it has one. */
export interface ChainOutput {
  readonly vout: number;
  readonly valueSats: bigint;
  readonly script: Uint8Array;
  /** null for scripts without an address form (OP_RETURN, P2PK, bare multisig, unknown). */
  readonly address: string | null;
}

/** The output an input spends, as the transaction that created it wrote it. */
export interface ChainPrevout {
  readonly valueSats: bigint;
  readonly script: Uint8Array;
  readonly address: string | null;
}

/** A spent outpoint. */
export interface ChainOutpoint {
  readonly txid: string;
  readonly vout: number;
}

/** An input of a block's transaction: the outpoint it spends and that output. */
export interface ChainInput extends ChainOutpoint {
  readonly prevout: ChainPrevout;
}

/**
 * A transaction seen in a mempool: its inputs name the outpoints they spend, without the spent
 * outputs (the watcher announces mempool transactions best effort, with no lookups).
 */
export interface MempoolTransaction {
  readonly txid: string;
  readonly coinbase: boolean;
  /** The outputs this transaction spends; empty for a coinbase. */
  readonly inputs: readonly ChainOutpoint[];
  readonly outputs: readonly ChainOutput[];
}

/** A transaction of a block: a coinbase spends nothing (no inputs listed). */
export interface ChainTransaction extends MempoolTransaction {
  readonly inputs: readonly ChainInput[];
}

export interface ChainBlock {
  readonly hash: string;
  readonly height: number;
  readonly previousHash: string | null;
  /** Header time, seconds since the epoch. */
  readonly time: number;
  readonly transactions: readonly ChainTransaction[];
  /**
   * False only for a disconnected block the source could no longer serve (Bitcoin Core may
   * have pruned a stale block): hash and height are exact, `transactions` is empty, and time is
   * the one recorded when the block was connected. Consumers keyed by block hash can still undo.
   */
  readonly complete: boolean;
}

/** What a source knows of a spent output: value and script. */
export interface KnownPrevout {
  readonly valueSats: bigint;
  readonly script: Uint8Array;
}

/**
 * The previous output of `txid:vout` as the source tells it, or undefined when it cannot. Spends
 * of outputs created earlier in the same block are resolved from the block itself first.
 */
export type PrevoutSource = (txid: string, vout: number) => KnownPrevout | undefined;

export function mempoolTransaction(raw: Uint8Array, network: NetworkName): MempoolTransaction {
  const tx = parseTransaction(raw);
  return {
    txid: tx.txid,
    coinbase: tx.coinbase,
    inputs: tx.inputs.flatMap((input) => (input.prevout ? [input.prevout] : [])),
    outputs: outputsOf(tx, network),
  };
}

function outputsOf(tx: ParsedTransaction, network: NetworkName): ChainOutput[] {
  return tx.outputs.map((output) => ({
    vout: output.vout,
    valueSats: output.valueSats,
    script: output.script.slice(),
    address: outputAddress(output.script, network),
  }));
}

/**
 * A ChainBlock from a block's header fields and its parsed transactions, every input's previous
 * output filled from the block itself or `prevouts`. A spend the source cannot resolve is
 * refused with CHAIN_UNSUPPORTED naming the outpoint: a block is never delivered incomplete.
 */
export function assembleChainBlock(
  header: { hash: string; height: number; previousHash: string | null; time: number },
  transactions: readonly ParsedTransaction[],
  network: NetworkName,
  prevouts: PrevoutSource,
  sourceName: string,
): ChainBlock {
  const created = new Map<string, ChainOutput[]>();
  const assembled: ChainTransaction[] = [];
  for (const tx of transactions) {
    const outputs = outputsOf(tx, network);
    const inputs: ChainInput[] = [];
    for (const input of tx.inputs) {
      if (!input.prevout) continue;
      const { txid, vout } = input.prevout;
      const inBlock = created.get(txid)?.[vout];
      const known = inBlock ?? prevouts(txid, vout);
      if (!known) {
        throw new AppError(
          'CHAIN_UNSUPPORTED',
          `${sourceName} did not give the output ${txid}:${vout} spent by ${tx.txid} in block ${header.hash}; the block cannot be delivered without its inputs' previous outputs`,
          { details: { block: header.hash, txid: tx.txid, outpoint: `${txid}:${vout}` } },
        );
      }
      const address = inBlock ? inBlock.address : outputAddress(known.script, network);
      inputs.push({
        txid,
        vout,
        prevout: { valueSats: known.valueSats, script: known.script, address },
      });
    }
    created.set(tx.txid, outputs);
    assembled.push({ txid: tx.txid, coinbase: tx.coinbase, inputs, outputs });
  }
  return { ...header, transactions: assembled, complete: true };
}

/**
 * Parses a raw block served for `expectedHash`, checks that it is that block (header hash and
 * merkle root), and fills its inputs' previous outputs from `prevouts`.
 */
export function decodeChainBlock(
  raw: Uint8Array,
  expected: { hash: string; height: number },
  network: NetworkName,
  prevouts: PrevoutSource,
  sourceName: string,
): ChainBlock {
  const block = parseBlock(raw);
  if (block.header.hash !== expected.hash) {
    throw new AppError(
      'INVALID_BLOCK',
      `the source served a block hashing to ${block.header.hash} when asked for ${expected.hash}`,
    );
  }
  return assembleChainBlock(
    {
      hash: block.header.hash,
      height: expected.height,
      previousHash: block.header.previousHash,
      time: block.header.time,
    },
    block.transactions,
    network,
    prevouts,
    sourceName,
  );
}

/** The key of an outpoint in prevout maps. */
export function outpointKey(txid: string, vout: number): string {
  return `${txid}:${vout}`;
}

import type { NetworkName } from '../kernel';
import type { ChainBlock } from './block';

/**
 * The one interface through which Tradeclear reaches a Bitcoin chain. Adapters: simnet (the
 * embedded chain), bitcoind (Bitcoin Core JSON-RPC), esplora (the Esplora HTTP API) and a
 * read-only block file source. Hashes and txids are hex in the usual display (reversed) byte
 * order; blocks and transactions travel as raw consensus bytes, and decoded, with every input's
 * previous output, as a ChainBlock (getChainBlock: what the chain watcher delivers).
 *
 * Failures are AppErrors: BLOCK_NOT_FOUND, TX_NOT_FOUND, TX_REJECTED (with the reason the node
 * gave), CHAIN_UNAVAILABLE (the source could not be reached), CHAIN_UNSUPPORTED (the source
 * cannot do this at all: testMempoolAccept on an Esplora server without POST /txs/test).
 */
export interface ChainTip {
  readonly height: number;
  readonly hash: string;
}

export interface BlockHeaderInfo {
  readonly hash: string;
  readonly height: number;
  readonly previousHash: string | null;
  /** Block header time, seconds since the epoch. */
  readonly time: number;
  /** 1 for the tip, 0 or less when the block is not on the active chain (Bitcoin Core: -1). */
  readonly confirmations: number;
}

export interface MempoolAcceptResult {
  readonly txid: string;
  readonly allowed: boolean;
  /** Why the transaction was refused, in Bitcoin Core's words where it has them. */
  readonly rejectReason?: string;
}

export interface ChainSource {
  readonly network: NetworkName;
  getTip(): Promise<ChainTip>;
  /** The hash of the active chain's block at `height`. */
  getBlockHash(height: number): Promise<string>;
  getBlockHeader(hash: string): Promise<BlockHeaderInfo>;
  /** The raw block in consensus serialization (with witness data). */
  getBlock(hash: string): Promise<Uint8Array>;
  /**
   * The block decoded, with the output every input spends (value and script): Bitcoin Core's
   * getblock verbosity 3, Esplora's vin.prevout, simnet's stored transactions. Checked to be the
   * block asked for; a source that cannot give a prevout fails (CHAIN_UNSUPPORTED) rather than
   * answer an incomplete block.
   */
  getChainBlock(hash: string): Promise<ChainBlock>;
  /** A raw transaction from the mempool or the active chain. */
  getRawTransaction(txid: string): Promise<Uint8Array>;
  getMempoolTxids(): Promise<readonly string[]>;
  testMempoolAccept(rawTx: Uint8Array): Promise<MempoolAcceptResult>;
  /** Broadcasts; returns the txid or throws TX_REJECTED with the reason. */
  broadcast(rawTx: Uint8Array): Promise<string>;
  /** Fee rate in sat/kvB to confirm within `targetBlocks`, or null when the source has no estimate. */
  estimateFeeRateSatPerKvB(targetBlocks: number): Promise<bigint | null>;
}

import { z } from 'zod';
import { AppError, parseBtc, type ErrorCode, type NetworkName } from '../../kernel';
import { fromHex, toHex } from '../../bitcoin';
import type { BlockHeaderInfo, ChainSource, ChainTip, MempoolAcceptResult } from '../source';
import type { ChainBlock } from '../block';
import { BitcoindRpcClient, RPC_ERROR, type BitcoindRpcOptions } from './rpc';
import { chainBlockFromVerbose, verboseBlockSchema } from './verbose-block';

/** `getblockchaininfo.chain` → our network names (Bitcoin Core chainparams: main, test, signet, regtest). */
const CHAIN_NAMES: Readonly<Record<string, NetworkName>> = {
  main: 'mainnet',
  test: 'testnet',
  signet: 'signet',
  regtest: 'regtest',
};

const hash = z.string().regex(/^[0-9a-f]{64}$/);
// Checked by fromHex (a capturing regex over a 2 MB block is slow).
const hexString = z.string();

const blockchainInfoSchema = z.object({
  chain: z.string(),
  blocks: z.number().int().nonnegative(),
  bestblockhash: hash,
  initialblockdownload: z.boolean().optional(),
});

const blockHeaderSchema = z.object({
  hash,
  height: z.number().int().nonnegative(),
  confirmations: z.number().int(),
  time: z.number().int(),
  previousblockhash: hash.optional(),
});

const testMempoolAcceptSchema = z
  .array(
    z.object({
      txid: hash,
      allowed: z.boolean().optional(),
      'reject-reason': z.string().optional(),
      // Core ≥ 25 reports package errors here when a single transaction cannot be evaluated.
      'package-error': z.string().optional(),
    }),
  )
  .length(1);

const estimateSmartFeeSchema = z.object({
  feerate: z.number().positive().optional(),
  errors: z.array(z.string()).optional(),
  blocks: z.number().int().optional(),
});

const notFound =
  (code: ErrorCode) =>
  (rpcCode: number): ErrorCode =>
    rpcCode === RPC_ERROR.INVALID_ADDRESS_OR_KEY || rpcCode === RPC_ERROR.INVALID_PARAMETER
      ? code
      : 'INTERNAL';

/** sendrawtransaction refusals (src/rpc/protocol.h, node/transaction.cpp). */
const sendErrors = (rpcCode: number): ErrorCode =>
  rpcCode === RPC_ERROR.VERIFY_REJECTED ||
  rpcCode === RPC_ERROR.VERIFY_ERROR ||
  rpcCode === RPC_ERROR.VERIFY_ALREADY_IN_CHAIN ||
  rpcCode === RPC_ERROR.DESERIALIZATION_ERROR
    ? 'TX_REJECTED'
    : 'INTERNAL';

export interface BitcoindChainSourceOptions {
  /** The network the configuration expects: the node must be on it. */
  readonly network: NetworkName;
  readonly rpc: BitcoindRpcClient | BitcoindRpcOptions;
}

/**
 * ChainSource over Bitcoin Core's JSON-RPC. Needs Bitcoin Core 23 or later (getblock verbosity
 * 3) keeping the undo data of the blocks the watcher follows (a pruned node keeps it only for its
 * recent blocks); getrawtransaction of a confirmed non-wallet transaction needs -txindex.
 */
export class BitcoindChainSource implements ChainSource {
  readonly network: NetworkName;
  readonly rpc: BitcoindRpcClient;

  private constructor(network: NetworkName, rpc: BitcoindRpcClient) {
    this.network = network;
    this.rpc = rpc;
  }

  /**
   * Connects and checks that the node is on the configured network: a node on another chain is
   * refused before anything reads from it (payments on testnet must never look like mainnet ones).
   */
  static async connect(options: BitcoindChainSourceOptions): Promise<BitcoindChainSource> {
    const rpc =
      options.rpc instanceof BitcoindRpcClient ? options.rpc : new BitcoindRpcClient(options.rpc);
    const info = await rpc.call('getblockchaininfo', [], blockchainInfoSchema);
    const network = CHAIN_NAMES[info.chain];
    if (network !== options.network) {
      throw new AppError(
        'CONFIG_INVALID',
        `the Bitcoin Core node at BITCOIND_URL is on chain "${info.chain}"${network ? ` (${network})` : ', which Tradeclear does not support'}, but the configured network is ${options.network}; point BITCOIND_URL at a ${options.network} node or change the network`,
        { details: { nodeChain: info.chain, configured: options.network } },
      );
    }
    return new BitcoindChainSource(network, rpc);
  }

  async getTip(): Promise<ChainTip> {
    // One call, so height and hash come from the same moment (Core reads both under cs_main).
    const info = await this.rpc.call('getblockchaininfo', [], blockchainInfoSchema);
    return { height: info.blocks, hash: info.bestblockhash };
  }

  getBlockHash(height: number): Promise<string> {
    if (!Number.isInteger(height) || height < 0) {
      return Promise.reject(
        new AppError('VALIDATION_FAILED', `height must be a non-negative integer, got ${height}`),
      );
    }
    // -8 "Block height out of range".
    return this.rpc.call('getblockhash', [height], hash, notFound('BLOCK_NOT_FOUND'));
  }

  async getBlockHeader(blockHash: string): Promise<BlockHeaderInfo> {
    const header = await this.rpc.call(
      'getblockheader',
      [checkHash(blockHash, 'hash'), true],
      blockHeaderSchema,
      notFound('BLOCK_NOT_FOUND'),
    );
    return {
      hash: header.hash,
      height: header.height,
      previousHash: header.previousblockhash ?? null,
      time: header.time,
      confirmations: header.confirmations,
    };
  }

  async getBlock(blockHash: string): Promise<Uint8Array> {
    // Verbosity 0: the serialized block, hex (with witness data).
    const raw = await this.rpc.call(
      'getblock',
      [checkHash(blockHash, 'hash'), 0],
      hexString,
      notFound('BLOCK_NOT_FOUND'),
    );
    return fromHex(raw, 'block');
  }

  /**
   * One `getblock <hash> 3` (Core ≥ 23): the transactions with each input's previous output, from
   * the node's undo data, so no -txindex and no call per input.
   */
  async getChainBlock(blockHash: string): Promise<ChainBlock> {
    const id = checkHash(blockHash, 'hash');
    const block = await this.rpc.call(
      'getblock',
      [id, 3],
      verboseBlockSchema,
      notFound('BLOCK_NOT_FOUND'),
    );
    return chainBlockFromVerbose(block, id, this.network);
  }

  async getRawTransaction(txid: string): Promise<Uint8Array> {
    const raw = await this.rpc.call(
      'getrawtransaction',
      [checkHash(txid, 'txid'), false],
      hexString,
      notFound('TX_NOT_FOUND'),
    );
    return fromHex(raw, 'transaction');
  }

  async getMempoolTxids(): Promise<readonly string[]> {
    return this.rpc.call('getrawmempool', [false], z.array(hash));
  }

  async testMempoolAccept(rawTx: Uint8Array): Promise<MempoolAcceptResult> {
    const [result] = await this.rpc.call(
      'testmempoolaccept',
      [[toHex(rawTx)]],
      testMempoolAcceptSchema,
      (rpcCode) => (rpcCode === RPC_ERROR.DESERIALIZATION_ERROR ? 'TX_REJECTED' : 'INTERNAL'),
    );
    if (!result) throw new AppError('CHAIN_UNAVAILABLE', 'testmempoolaccept returned no result');
    const allowed = result.allowed === true;
    const rejectReason = result['reject-reason'] ?? result['package-error'];
    return allowed
      ? { txid: result.txid, allowed }
      : { txid: result.txid, allowed, rejectReason: rejectReason ?? 'refused without a reason' };
  }

  /**
   * Broadcasts. Never retried on a JSON-RPC error (the node answered: the refusal is final);
   * a connection failure is retried by the client, which is safe because sending the same
   * transaction twice is idempotent for the network.
   */
  broadcast(rawTx: Uint8Array): Promise<string> {
    return this.rpc.call('sendrawtransaction', [toHex(rawTx)], hash, sendErrors);
  }

  async estimateFeeRateSatPerKvB(targetBlocks: number): Promise<bigint | null> {
    if (!Number.isInteger(targetBlocks) || targetBlocks < 1 || targetBlocks > 1008) {
      throw new AppError(
        'VALIDATION_FAILED',
        `targetBlocks must be an integer from 1 to 1008, got ${targetBlocks}`,
      );
    }
    const estimate = await this.rpc.call(
      'estimatesmartfee',
      [targetBlocks],
      estimateSmartFeeSchema,
    );
    if (estimate.feerate === undefined) return null; // "Insufficient data or no feerate found"
    // Core prints the fee rate in BTC/kvB with 8 decimals (ValueFromAmount); JSON.parse made it a
    // double, whose nearest 8-decimal rendering is that exact printed value.
    return parseBtc(estimate.feerate.toFixed(8), 'feerate');
  }
}

function checkHash(value: string, field: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${field} must be 64 hex characters, got "${value.slice(0, 80)}"`,
    );
  }
  return value.toLowerCase();
}

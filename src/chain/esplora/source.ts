import { AppError, type NetworkName } from '../../kernel';
import { blockHash as headerHash, fromHex, parseTransaction, toHex } from '../../bitcoin';
import type { BlockHeaderInfo, ChainSource, ChainTip, MempoolAcceptResult } from '../source';
import { assembleChainBlock, outpointKey, type ChainBlock, type KnownPrevout } from '../block';
import { parseBlock } from '../blockfile/block';
import {
  ESPLORA_BLOCK_TXS_PAGE,
  EsploraClient,
  esploraTestMempoolAcceptSchema,
  type EsploraAnswer,
  type EsploraClientOptions,
} from './client';

/**
 * Genesis block hashes per network (Bitcoin Core chainparams). Esplora has no endpoint naming
 * its chain, so the adapter asks for block 0 and compares. Testnet accepts testnet3 and
 * testnet4, which share every address format; every signet shares one genesis block.
 */
export const GENESIS_HASHES: Readonly<Record<NetworkName, readonly string[]>> = {
  mainnet: ['000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f'],
  testnet: [
    '000000000933ea01ad0ee984209779baaec3ced90fa3f408719526f8d77f4943',
    '00000000da84f2bafbbc53dee25a72ae507ff4914b867c565be350b0da8bf043',
  ],
  signet: ['00000008819873e925422c1ff0f99f7cc9bbb232af63a077a480a3633bee1ef6'],
  regtest: ['0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206'],
};

export interface EsploraChainSourceOptions {
  /** The network the configuration expects: the server's chain must be it. */
  readonly network: NetworkName;
  readonly client: EsploraClient | EsploraClientOptions;
}

/**
 * ChainSource over the Esplora HTTP API. What it cannot do like Bitcoin Core:
 * - testMempoolAccept needs POST /txs/test, which mempool's electrs serves and Blockstream's
 *   does not: against a server without it the call fails with CHAIN_UNSUPPORTED (nothing is
 *   guessed); broadcast still reports a refusal with the node's reason.
 * - getTip and getBlockHeader take two or three requests, not one atomic read: the tip hash
 *   is read first and its height comes from that block, so a tip is always a consistent pair;
 *   confirmations are counted against a tip height read a moment later.
 * - electrs serves only best-chain blocks: a block that left the chain answers BLOCK_NOT_FOUND
 *   (the watcher delivers such disconnects with `complete: false`).
 */
export class EsploraChainSource implements ChainSource {
  readonly network: NetworkName;
  readonly client: EsploraClient;

  private constructor(network: NetworkName, client: EsploraClient) {
    this.network = network;
    this.client = client;
  }

  /**
   * Connects and checks that the server follows the configured network (by its genesis
   * block): a server on another chain, or a base URL that is not an Esplora API, is refused
   * before anything reads from it.
   */
  static async connect(options: EsploraChainSourceOptions): Promise<EsploraChainSource> {
    const client =
      options.client instanceof EsploraClient ? options.client : new EsploraClient(options.client);
    let genesis: string;
    try {
      genesis = await client.blockHashAt(0);
    } catch (error) {
      if (error instanceof AppError && error.code === 'BLOCK_NOT_FOUND') {
        throw new AppError(
          'CONFIG_INVALID',
          `ESPLORA_URL does not look like an Esplora API: ${client.where} answered 404 to GET /block-height/0; give the base of the API with its path prefix (e.g. https://host/api or https://host/testnet/api)`,
          { cause: error },
        );
      }
      throw error;
    }
    const expected = GENESIS_HASHES[options.network];
    if (!expected.includes(genesis)) {
      const actual = (Object.keys(GENESIS_HASHES) as NetworkName[]).find((name) =>
        GENESIS_HASHES[name].includes(genesis),
      );
      throw new AppError(
        'CONFIG_INVALID',
        `the Esplora server at ESPLORA_URL follows ${actual ?? `an unknown chain (genesis ${genesis})`}, but the configured network is ${options.network}; point ESPLORA_URL at a ${options.network} instance or change the network`,
        { details: { genesis, configured: options.network } },
      );
    }
    return new EsploraChainSource(options.network, client);
  }

  async getTip(): Promise<ChainTip> {
    // Hash first, then that block's own height: never a height from one moment and a hash
    // from the next.
    const tipHash = await this.client.tipHash();
    try {
      const block = await this.client.block(tipHash);
      return { height: block.height, hash: tipHash };
    } catch (error) {
      // The tip was reorganized away between the two requests: ask again once.
      if (!(error instanceof AppError && error.code === 'BLOCK_NOT_FOUND')) throw error;
      const again = await this.client.tipHash();
      const block = await this.client.block(again);
      return { height: block.height, hash: again };
    }
  }

  getBlockHash(height: number): Promise<string> {
    if (!Number.isInteger(height) || height < 0) {
      return Promise.reject(
        new AppError('VALIDATION_FAILED', `height must be a non-negative integer, got ${height}`),
      );
    }
    return this.client.blockHashAt(height);
  }

  async getBlockHeader(hash: string): Promise<BlockHeaderInfo> {
    const id = checkHash(hash, 'hash');
    const [block, status, tipHeight] = await Promise.all([
      this.client.block(id),
      this.client.blockStatus(id),
      this.client.tipHeight(),
    ]);
    if (block.id !== id) {
      throw this.client.malformed(`GET /block/${id}`, block.id, 'it describes another block');
    }
    const inBest = status.in_best_chain && typeof status.height === 'number';
    return {
      hash: id,
      height: block.height,
      previousHash: block.previousblockhash ?? null,
      time: block.timestamp,
      // Bitcoin Core's count: the tip has 1, a block off the best chain -1. The tip height may
      // lag a block mined between the requests; never count fewer than one for a best block.
      confirmations: inBest ? Math.max(1, tipHeight - block.height + 1) : -1,
    };
  }

  async getBlock(hash: string): Promise<Uint8Array> {
    const id = checkHash(hash, 'hash');
    const raw = await this.client.blockRaw(id);
    // The block must be the one asked for: its header hashes to `id`.
    const actual = raw.length >= 80 ? headerHash(raw) : null;
    if (actual !== id) {
      throw this.client.malformed(
        `GET /block/${id}/raw`,
        raw.length >= 80 ? `a block with hash ${actual}` : `${raw.length} bytes`,
        'not the block asked for',
      );
    }
    return raw;
  }

  /**
   * The raw block (checked to be the one asked for), its height from GET /block/:hash, and its
   * inputs' previous outputs from the `vin.prevout` of GET /block/:hash/txs/:start, 25
   * transactions a page: ⌈n / 25⌉ + 2 requests for a block of n transactions, none per input.
   */
  async getChainBlock(hash: string): Promise<ChainBlock> {
    const id = checkHash(hash, 'hash');
    const [raw, info] = await Promise.all([this.getBlock(id), this.client.block(id)]);
    if (info.id !== id) {
      throw this.client.malformed(`GET /block/${id}`, info.id, 'it describes another block');
    }
    const block = parseBlock(raw);
    const prevouts = new Map<string, KnownPrevout>();
    for (let start = 0; start < block.transactions.length; start += ESPLORA_BLOCK_TXS_PAGE) {
      const page = await this.client.blockTxs(id, start);
      const expected = block.transactions.slice(start, start + ESPLORA_BLOCK_TXS_PAGE);
      if (page.length !== expected.length || page.some((tx, i) => tx.txid !== expected[i]?.txid)) {
        throw this.client.malformed(
          `GET /block/${id}/txs/${start}`,
          page.map((tx) => tx.txid).join(','),
          'not the transactions of the raw block at these positions',
        );
      }
      for (const tx of page) {
        for (const input of tx.vin) {
          if (input.is_coinbase || !input.prevout) continue;
          prevouts.set(outpointKey(input.txid, input.vout), {
            valueSats: BigInt(input.prevout.value),
            script: fromHex(input.prevout.scriptpubkey, 'scriptpubkey'),
          });
        }
      }
    }
    return assembleChainBlock(
      {
        hash: id,
        height: info.height,
        previousHash: block.header.previousHash,
        time: block.header.time,
      },
      block.transactions,
      this.network,
      (txid, vout) => prevouts.get(outpointKey(txid, vout)),
      `Esplora at ${this.client.where}`,
    );
  }

  async getRawTransaction(txid: string): Promise<Uint8Array> {
    const id = checkHash(txid, 'txid');
    const raw = await this.client.txHex(id);
    let actual: string;
    try {
      actual = parseTransaction(raw).txid;
    } catch {
      throw this.client.malformed(`GET /tx/${id}/hex`, toHex(raw), 'not a transaction');
    }
    if (actual !== id) {
      throw this.client.malformed(
        `GET /tx/${id}/hex`,
        `a transaction with txid ${actual}`,
        'not the transaction asked for',
      );
    }
    return raw;
  }

  getMempoolTxids(): Promise<readonly string[]> {
    return this.client.mempoolTxids();
  }

  /**
   * POST /txs/test with a JSON array of one hex transaction (mempool's electrs passes it to
   * Bitcoin Core's testmempoolaccept and returns its result). A server without the endpoint
   * answers 404 (or 405): CHAIN_UNSUPPORTED, since an unknown answer must not read as
   * "refused" or "accepted".
   */
  async testMempoolAccept(rawTx: Uint8Array): Promise<MempoolAcceptResult> {
    const path = '/txs/test';
    const answer = await this.client.request('POST', path, {
      contentType: 'application/json',
      text: JSON.stringify([toHex(rawTx)]),
    });
    if (answer.status === 404 || answer.status === 405) {
      throw new AppError(
        'CHAIN_UNSUPPORTED',
        `the Esplora server at ${this.client.where} does not offer POST /txs/test (mempool's electrs does, Blockstream's does not), so a transaction cannot be checked without broadcasting it; broadcast reports a refusal with the node's reason`,
        { details: { method: 'POST', path, status: answer.status } },
      );
    }
    if (answer.status === 400) throw rejection(this.client, answer, rawTx, 'testmempoolaccept');
    if (answer.status !== 200) throw this.client.unexpected('POST', path, answer);
    const text = Buffer.from(answer.body).toString('utf8');
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.client.malformed(`POST ${path}`, text, 'not JSON');
    }
    const checked = esploraTestMempoolAcceptSchema.length(1).safeParse(parsed);
    if (!checked.success) throw this.client.malformed(`POST ${path}`, text, 'unexpected shape');
    const [result] = checked.data;
    if (!result) throw this.client.malformed(`POST ${path}`, text, 'no result');
    if (result.allowed === true) return { txid: result.txid, allowed: true };
    return {
      txid: result.txid,
      allowed: false,
      rejectReason:
        result['reject-reason'] ?? result['package-error'] ?? 'refused without a reason',
    };
  }

  /**
   * POST /tx with the hex as the body; the answer is the txid. HTTP 400 carries the node's
   * refusal (electrs passes sendrawtransaction's error through): TX_REJECTED with that reason.
   */
  async broadcast(rawTx: Uint8Array): Promise<string> {
    const path = '/tx';
    const answer = await this.client.request('POST', path, {
      contentType: 'text/plain',
      text: toHex(rawTx),
    });
    if (answer.status === 400) throw rejection(this.client, answer, rawTx, 'sendrawtransaction');
    if (answer.status !== 200) throw this.client.unexpected('POST', path, answer);
    const txid = Buffer.from(answer.body).toString('utf8').trim();
    if (!/^[0-9a-f]{64}$/.test(txid)) throw this.client.malformed(`POST ${path}`, txid);
    return txid;
  }

  /**
   * GET /fee-estimates, for the largest confirmation target the server lists that is not above
   * `targetBlocks` (a rate that confirms at least as fast as asked); below the smallest listed
   * target, the smallest one's. Null when the server lists none.
   */
  async estimateFeeRateSatPerKvB(targetBlocks: number): Promise<bigint | null> {
    if (!Number.isInteger(targetBlocks) || targetBlocks < 1 || targetBlocks > 1008) {
      throw new AppError(
        'VALIDATION_FAILED',
        `targetBlocks must be an integer from 1 to 1008, got ${targetBlocks}`,
      );
    }
    const estimates = await this.client.feeEstimates();
    const rate = pickEstimate(estimates, targetBlocks);
    if (rate === undefined) return null;
    const satPerKvB = satPerVbToSatPerKvB(rate);
    return satPerKvB > 0n ? satPerKvB : null;
  }
}

/** The estimate for `target` from an Esplora fee map (see estimateFeeRateSatPerKvB). */
export function pickEstimate(
  estimates: Readonly<Record<string, number>>,
  target: number,
): number | undefined {
  const targets = Object.keys(estimates)
    .map(Number)
    .sort((a, b) => a - b);
  const chosen = targets.filter((t) => t <= target).at(-1) ?? targets[0];
  return chosen === undefined ? undefined : estimates[String(chosen)];
}

/**
 * A fee rate in sat/vB, as Esplora sends it (a JSON float), to sat/kvB rounded up. The float is
 * read through its shortest decimal rendering, which is the decimal the server printed (serde
 * and JavaScript both print the shortest form that reads back to the same double), so 87.882
 * sat/vB is exactly 87882 sat/kvB and not one more from binary noise.
 */
export function satPerVbToSatPerKvB(satPerVb: number): bigint {
  if (!Number.isFinite(satPerVb) || satPerVb < 0) {
    throw new AppError(
      'VALIDATION_FAILED',
      `a fee rate must be a non-negative number of sat/vB, got ${satPerVb}`,
    );
  }
  const match = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(satPerVb));
  if (!match) {
    throw new AppError('VALIDATION_FAILED', `cannot read the fee rate ${satPerVb} as a decimal`);
  }
  const [, whole = '0', fraction = '', exponent = '0'] = match;
  const digits = BigInt(`${whole}${fraction}`);
  // value = digits × 10^(exponent − fraction length); × 1000 for sat/kvB.
  const scale = Number(exponent) - fraction.length + 3;
  if (scale >= 0) return digits * 10n ** BigInt(scale);
  const divisor = 10n ** BigInt(-scale);
  return digits / divisor + (digits % divisor === 0n ? 0n : 1n);
}

/**
 * TX_REJECTED from a 400 answer. electrs sends Bitcoin Core's error after the RPC name:
 * `sendrawtransaction RPC error: {"code":-26,"message":"…"}` (older) or
 * `sendrawtransaction RPC error -26: …` (newer); the reason is Core's message, or the whole
 * text when it has neither form.
 */
function rejection(
  client: EsploraClient,
  answer: EsploraAnswer,
  rawTx: Uint8Array,
  rpcName: string,
): AppError {
  const text = Buffer.from(answer.body).toString('utf8').trim();
  const { reason, rpcCode } = nodeReason(text, rpcName);
  let txid: string | undefined;
  try {
    txid = parseTransaction(rawTx).txid;
  } catch {
    txid = undefined;
  }
  return new AppError(
    'TX_REJECTED',
    `Esplora at ${client.where} refused transaction${txid ? ` ${txid}` : ''}: ${reason}`,
    {
      details: {
        ...(txid ? { txid } : {}),
        reason,
        ...(rpcCode === undefined ? {} : { rpcCode }),
      },
    },
  );
}

export function nodeReason(text: string, rpcName: string): { reason: string; rpcCode?: number } {
  const prefix = `${rpcName} RPC error`;
  if (text.startsWith(`${prefix}:`)) {
    const rest = text.slice(prefix.length + 1).trim();
    try {
      const error = JSON.parse(rest) as unknown;
      if (
        typeof error === 'object' &&
        error !== null &&
        'message' in error &&
        typeof error.message === 'string'
      ) {
        const code = 'code' in error && typeof error.code === 'number' ? error.code : undefined;
        return code === undefined
          ? { reason: error.message }
          : { reason: error.message, rpcCode: code };
      }
    } catch {
      // not JSON: fall through to the whole text
    }
  }
  const newer = new RegExp(`^${prefix} (-?\\d+): ([\\s\\S]+)$`).exec(text);
  if (newer?.[1] && newer[2]) return { reason: newer[2].trim(), rpcCode: Number(newer[1]) };
  return { reason: text || 'refused without a reason' };
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

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError } from '../../kernel';
import { serializeRawBlockHeader, toReversedHex } from '../../bitcoin';
import { difficulty } from './consensus';
import { isCoinbase, parseTx, type Tx } from './model';
import type { BlockEntry, Simnet } from './simnet';
import { classifyOutput, scriptToAddress } from './script';

/**
 * An Esplora HTTP API over simnet: the routes, answer shapes and status codes of Blockstream's
 * electrs REST server (src/rest.rs) for the chain, transaction, mempool and fee endpoints, so
 * that the esplora adapter is tested against it end to end and any Esplora client can follow
 * simnet. Like electrs it has no authentication.
 *
 * Served: GET /blocks/tip/height, /blocks/tip/hash, /block-height/:height, /block/:hash,
 * /block/:hash/status, /block/:hash/header, /block/:hash/raw, /block/:hash/txids,
 * /block/:hash/txs[/:start] (25 a page, inputs with their prevouts),
 * /tx/:txid/hex, /tx/:txid/raw, /tx/:txid/status, /mempool/txids, /fee-estimates; POST /tx;
 * POST /txs/test (mempool's electrs: Bitcoin Core's testmempoolaccept). Not served: the
 * address and scripthash indexes, /tx/:txid (the decoded JSON form), merkle proofs, outspends.
 *
 * Errors as electrs writes them: text/plain bodies; 404 "Block not found", "Transaction not
 * found", "endpoint does not exist"; 400 for malformed input and for Bitcoin Core's refusals,
 * passed through as `<rpc method> RPC error: {"code":…,"message":"…"}`.
 */

export interface SimnetEsploraServerOptions {
  readonly simnet: Simnet;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  /** Path prefix the API is served under, e.g. `/regtest/api` (default: none). */
  readonly basePath?: string;
  /**
   * Serve blocks that left the best chain (default false: electrs keeps only best-chain
   * headers, so such a block answers 404 on /block/:hash and its sub-resources, and its
   * status `in_best_chain: false`).
   */
  readonly serveStaleBlocks?: boolean;
}

export interface SimnetEsploraServer {
  /** The API's base URL, with the prefix and no trailing slash. */
  readonly url: string;
  close(): Promise<void>;
}

/** electrs's MAX_BODY_SIZE. */
const MAX_BODY_BYTES = 1_000_000;

/** sendrawtransaction's default maxfeerate, 0.10 BTC/kvB (DEFAULT_MAX_RAW_TX_FEE_RATE). */
const DEFAULT_MAX_FEE_RATE_SAT_PER_KVB = 10_000_000n;

/** The confirmation targets electrs asks bitcoind about for GET /fee-estimates. */
const FEE_TARGETS = [...Array.from({ length: 25 }, (_, i) => i + 1), 144, 504, 1008];

/** Bitcoin Core's RPC error codes used in refusals (rpc/protocol.h). */
const RPC = {
  VERIFY: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  DESERIALIZATION: -22,
};

interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string | Uint8Array;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const text = (body: string, status = 200): Reply => ({
  status,
  contentType: 'text/plain',
  body,
});
const json = (value: unknown): Reply => ({
  status: 200,
  contentType: 'application/json',
  body: JSON.stringify(value),
});
const binary = (body: Uint8Array): Reply => ({
  status: 200,
  contentType: 'application/octet-stream',
  body,
});

/** Bitcoin Core's error as electrs passes it on: `method RPC error: {"code":…,"message":…}`. */
function rpcRefusal(method: string, code: number, message: string): HttpError {
  return new HttpError(400, `${method} RPC error: ${JSON.stringify({ code, message })}`);
}

function hashParam(value: string): string {
  if (!/^[0-9a-fA-F]{64}$/.test(value)) throw new HttpError(400, 'Invalid hash string');
  return value.toLowerCase();
}

function requireBlock(simnet: Simnet, value: string, serveStale: boolean): BlockEntry {
  const entry = simnet.block(hashParam(value));
  if (!entry || (!serveStale && !simnet.isActive(entry.hash))) {
    throw new HttpError(404, 'Block not found');
  }
  return entry;
}

/** electrs's BlockValue. */
function blockJson(simnet: Simnet, entry: BlockEntry): Record<string, unknown> {
  const { header } = entry.block;
  return {
    id: entry.hash,
    height: entry.height,
    version: header.version >>> 0,
    timestamp: header.time,
    tx_count: entry.block.txs.length,
    size: entry.block.size,
    weight: entry.block.weight,
    merkle_root: toReversedHex(header.merkleRoot),
    previousblockhash: entry.prevHash,
    mediantime: simnet.medianTimePast(entry.hash),
    nonce: header.nonce,
    bits: header.bits,
    difficulty: difficulty(header.bits),
  };
}

const TXS_PER_PAGE = 25;

function outputJson(simnet: Simnet, output: { value: bigint; script: Uint8Array }) {
  const address = scriptToAddress(output.script, simnet.network);
  return {
    scriptpubkey: Buffer.from(output.script).toString('hex'),
    scriptpubkey_type: classifyOutput(output.script),
    ...(address ? { scriptpubkey_address: address } : {}),
    value: Number(output.value),
  };
}

/** electrs TransactionValue (the fields simnet can give: no fee for a stale branch's spends). */
function txJson(simnet: Simnet, tx: Tx): Record<string, unknown> {
  const coinbase = isCoinbase(tx);
  return {
    txid: tx.txid,
    version: tx.version,
    locktime: tx.lockTime,
    vin: tx.inputs.map((input) => {
      const prevout = coinbase ? undefined : simnet.previousOutput(input.prevTxid, input.vout);
      return {
        txid: input.prevTxid,
        vout: input.vout,
        prevout: prevout ? outputJson(simnet, prevout) : null,
        scriptsig: Buffer.from(input.scriptSig).toString('hex'),
        ...(input.witness.length > 0
          ? { witness: input.witness.map((item) => Buffer.from(item).toString('hex')) }
          : {}),
        is_coinbase: coinbase,
        sequence: input.sequence,
      };
    }),
    vout: tx.outputs.map((output) => outputJson(simnet, output)),
    size: tx.size,
    weight: tx.weight,
    status: txStatus(simnet, tx.txid),
  };
}

/** GET /block/:hash/txs/:start as electrs: 25 from `start`, a multiple of 25 inside the block. */
function blockTxs(simnet: Simnet, entry: BlockEntry, startText: string | undefined): Reply {
  const start = startText === undefined ? 0 : Number(startText);
  if (!Number.isInteger(start) || start < 0) throw new HttpError(400, 'Invalid start index');
  if (start % TXS_PER_PAGE !== 0) {
    throw new HttpError(400, `start index must be a multipication of ${TXS_PER_PAGE}`);
  }
  if (start >= entry.block.txs.length) throw new HttpError(400, 'start index out of range');
  return json(entry.block.txs.slice(start, start + TXS_PER_PAGE).map((tx) => txJson(simnet, tx)));
}

/** Decodes a hex transaction the way bitcoind does for sendrawtransaction/testmempoolaccept. */
function decodeTx(method: string, hex: string): Uint8Array {
  const failure = rpcRefusal(
    method,
    RPC.DESERIALIZATION,
    'TX decode failed. Make sure the tx has at least one input.',
  );
  if (hex.length === 0 || hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) throw failure;
  const raw = Uint8Array.from(Buffer.from(hex, 'hex'));
  try {
    parseTx(raw);
  } catch {
    throw failure;
  }
  return raw;
}

function feeExceeds(fee: bigint, vsize: number, maxSatPerKvB: bigint): boolean {
  return maxSatPerKvB > 0n && fee * 1000n > maxSatPerKvB * BigInt(vsize);
}

/** A BTC/kvB query parameter (electrs reads it as a float) in sat/kvB. */
function maxFeeRateParam(value: string | null): bigint {
  if (value === null) return DEFAULT_MAX_FEE_RATE_SAT_PER_KVB;
  const match = /^(\d+)(?:\.(\d{1,8}))?$/.exec(value);
  if (!match) throw new HttpError(400, 'Invalid maxfeerate');
  return BigInt(match[1] ?? '0') * 100_000_000n + BigInt((match[2] ?? '').padEnd(8, '0'));
}

/** sats → a BTC JSON number as bitcoind prints amounts. */
function btc(sats: bigint): number {
  return Number(sats) / 1e8;
}

async function broadcast(simnet: Simnet, body: string): Promise<Reply> {
  const raw = decodeTx('sendrawtransaction', body.trim());
  const preview = simnet.testMempoolAccept(raw);
  if (
    preview.allowed &&
    preview.fee !== undefined &&
    preview.vsize !== undefined &&
    feeExceeds(preview.fee, preview.vsize, DEFAULT_MAX_FEE_RATE_SAT_PER_KVB)
  ) {
    throw rpcRefusal(
      'sendrawtransaction',
      RPC.VERIFY,
      'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
    );
  }
  const result = await simnet.submitTransaction(raw);
  // bitcoind answers the txid when the same transaction is already in its mempool.
  if (result.allowed || result.rejectReason === 'txn-already-in-mempool') return text(result.txid);
  if (result.rejectKind === 'missing-inputs') {
    throw rpcRefusal('sendrawtransaction', RPC.VERIFY, 'bad-txns-inputs-missingorspent');
  }
  if (result.rejectKind === 'already-in-chain') {
    throw rpcRefusal(
      'sendrawtransaction',
      RPC.VERIFY_ALREADY_IN_CHAIN,
      'Transaction outputs already in utxo set',
    );
  }
  const reason = result.rejectReason ?? 'rejected';
  throw rpcRefusal(
    'sendrawtransaction',
    RPC.VERIFY_REJECTED,
    result.rejectDetails ? `${reason}, ${result.rejectDetails}` : reason,
  );
}

/** POST /txs/test as mempool's electrs: a JSON array of hex transactions, ?maxfeerate=BTC/kvB. */
function testMempoolAccept(simnet: Simnet, body: string, maxFeeRate: string | null): Reply {
  let hexes: unknown;
  try {
    hexes = JSON.parse(body);
  } catch (error) {
    throw new HttpError(400, error instanceof Error ? error.message : 'invalid JSON');
  }
  if (!Array.isArray(hexes) || !hexes.every((item) => typeof item === 'string')) {
    throw new HttpError(400, 'expected a JSON array of hex strings');
  }
  if (hexes.length > 25) throw new HttpError(400, 'Exceeded maximum of 25 transactions');
  const limit = maxFeeRateParam(maxFeeRate);
  hexes.forEach((hex, index) => {
    // electrs's pre-checks: more than 60 bytes, within the 400 kWU standardness limit.
    if (hex.length < 120 || hex.length >= 800_000) {
      throw new HttpError(400, `Invalid transaction size for item ${index}`);
    }
    if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(hex)) {
      throw new HttpError(400, `Invalid transaction hex for item ${index}`);
    }
  });
  if (hexes.length === 0) {
    throw rpcRefusal('testmempoolaccept', -8, 'Array must contain between 1 and 25 transactions.');
  }
  const raws = hexes.map((hex) => decodeTx('testmempoolaccept', hex));
  // Each transaction is checked on its own against the current mempool (no package evaluation).
  return json(
    raws.map((raw) => {
      const result = simnet.testMempoolAccept(raw);
      const { txid, wtxid } = result;
      if (!result.allowed) {
        return { txid, wtxid, allowed: false, 'reject-reason': result.rejectReason ?? 'rejected' };
      }
      const fee = result.fee ?? 0n;
      const vsize = result.vsize ?? 1;
      if (feeExceeds(fee, vsize, limit)) {
        return { txid, wtxid, allowed: false, 'reject-reason': 'max-fee-exceeded' };
      }
      return {
        txid,
        wtxid,
        allowed: true,
        vsize,
        fees: {
          base: btc(fee),
          'effective-feerate': btc((fee * 1000n) / BigInt(vsize)),
          'effective-includes': [wtxid],
        },
      };
    }),
  );
}

function txStatus(simnet: Simnet, txid: string): Record<string, unknown> {
  const found = simnet.transaction(txid);
  const entry = found?.blockHash ? simnet.block(found.blockHash) : undefined;
  if (!entry) return { confirmed: false };
  return {
    confirmed: true,
    block_height: entry.height,
    block_hash: entry.hash,
    block_time: entry.block.header.time,
  };
}

function requireTx(simnet: Simnet, value: string): Tx {
  const found = simnet.transaction(hashParam(value));
  if (!found) throw new HttpError(404, 'Transaction not found');
  return found.tx;
}

async function route(
  simnet: Simnet,
  serveStale: boolean,
  method: string,
  segments: readonly string[],
  query: URLSearchParams,
  body: string,
): Promise<Reply> {
  const [first, second, third] = segments;
  const length = segments.length;
  if (method === 'GET') {
    if (first === 'blocks' && second === 'tip' && length === 3) {
      if (third === 'height') return text(String(simnet.height));
      if (third === 'hash') return text(simnet.tip().hash);
    }
    if (first === 'block-height' && second !== undefined && length === 2) {
      if (!/^\d+$/.test(second)) throw new HttpError(400, 'Invalid number');
      const found = simnet.blockHashAt(Number(second));
      if (!found) throw new HttpError(404, 'Block not found');
      return text(found);
    }
    if (first === 'block' && second !== undefined) {
      if (length === 2) return json(blockJson(simnet, requireBlock(simnet, second, serveStale)));
      if (length === 3 && third === 'status') {
        const hash = hashParam(second);
        if (!simnet.isActive(hash)) return json({ in_best_chain: false });
        const entry = requireBlock(simnet, hash, true);
        return json({
          in_best_chain: true,
          height: entry.height,
          next_best: simnet.nextActive(hash) ?? null,
        });
      }
      if (length === 3 && third === 'header') {
        return text(
          Buffer.from(
            serializeRawBlockHeader(requireBlock(simnet, second, serveStale).block.header),
          ).toString('hex'),
        );
      }
      if (length === 3 && third === 'raw')
        return binary(requireBlock(simnet, second, serveStale).block.raw);
      if ((length === 3 || length === 4) && third === 'txs') {
        return blockTxs(simnet, requireBlock(simnet, second, serveStale), segments[3]);
      }
      if (length === 3 && third === 'txids') {
        return json(requireBlock(simnet, second, serveStale).block.txs.map((tx) => tx.txid));
      }
    }
    if (first === 'tx' && second !== undefined && length === 3) {
      if (third === 'hex') return text(Buffer.from(requireTx(simnet, second).raw).toString('hex'));
      if (third === 'raw') return binary(requireTx(simnet, second).raw);
      if (third === 'status') return json(txStatus(simnet, hashParam(second)));
    }
    if (first === 'mempool' && second === 'txids' && length === 2) {
      return json(simnet.mempoolTxids());
    }
    if (first === 'fee-estimates' && length === 1) {
      const estimates: Record<string, number> = {};
      for (const target of FEE_TARGETS) {
        const rate = simnet.estimateFeeRateSatPerKvB(target);
        // sat/kvB → sat/vB, the float electrs sends.
        if (rate !== null) estimates[String(target)] = Number(rate) / 1000;
      }
      return json(estimates);
    }
  }
  if (method === 'POST') {
    if (first === 'tx' && length === 1) return broadcast(simnet, body);
    if (first === 'txs' && second === 'test' && length === 2) {
      return testMempoolAccept(simnet, body, query.get('maxfeerate'));
    }
  }
  throw new HttpError(404, `endpoint does not exist "/${segments.join('/')}"`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, 'Request body too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, reply: Reply): void {
  response
    .writeHead(reply.status, {
      'content-type': reply.contentType,
      'content-length': Buffer.byteLength(reply.body),
    })
    .end(reply.body);
}

/** Starts the Esplora HTTP server; resolves once it listens. */
export async function startSimnetEsploraServer(
  options: SimnetEsploraServerOptions,
): Promise<SimnetEsploraServer> {
  const basePath = (options.basePath ?? '').replace(/\/+$/, '');
  if (basePath !== '' && !/^(\/[A-Za-z0-9._~-]+)+$/.test(basePath)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `basePath must look like /regtest/api, got "${options.basePath}"`,
    );
  }
  const { simnet } = options;
  const serveStale = options.serveStaleBlocks ?? false;
  const server = createServer((request, response) => {
    void (async () => {
      let reply: Reply;
      try {
        const url = new URL(request.url ?? '/', 'http://esplora.invalid');
        const inside = url.pathname.startsWith(`${basePath}/`);
        const segments = inside
          ? url.pathname
              .slice(basePath.length + 1)
              .split('/')
              .filter(Boolean)
          : [];
        const body = request.method === 'POST' ? await readBody(request) : '';
        if (!inside) throw new HttpError(404, `endpoint does not exist "${url.pathname}"`);
        reply = await route(
          simnet,
          serveStale,
          request.method ?? 'GET',
          segments,
          url.searchParams,
          body,
        );
      } catch (error) {
        reply =
          error instanceof HttpError
            ? text(error.message, error.status)
            : text('Internal server error', 500);
      }
      send(response, reply);
    })().catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}${basePath}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

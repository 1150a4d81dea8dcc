import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { isAppError, loadConfig, ManualClock } from '../../kernel';
import { parseTransaction } from '../../bitcoin';
import { UNFUNDED_TX } from '../../../test/support/chain-source-contract';
import { Simnet } from '../simnet';
import { startSimnetEsploraServer, type SimnetEsploraServer } from '../simnet/esplora';
import { fund, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import {
  EsploraChainSource,
  GENESIS_HASHES,
  nodeReason,
  pickEstimate,
  satPerVbToSatPerKvB,
  type EsploraClientOptions,
} from './index';
import { openTestDatabase } from '../../../test/support/db';

/**
 * The Esplora adapter's own behaviour, over real HTTP: retries and timeouts against servers
 * that drop connections, stall or fail; how refusals and absences map to our codes; answers
 * that are not what an Esplora server sends; the network check; fee rate conversion.
 */

const REGTEST_GENESIS = GENESIS_HASHES.regtest[0] ?? '';
const UNKNOWN = '00000000000000000000000000000000000000000000000000000000deadbeef';

interface Started {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** A real HTTP server with a hand-written handler; `requests` logs "METHOD /path". */
async function startServer(
  handler: (request: IncomingMessage, response: ServerResponse, index: number) => void,
): Promise<Started> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(`${request.method ?? ''} ${request.url ?? ''}`);
    handler(request, response, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/**
 * A proxy in front of `upstream` that treats each request as `plan(index)` says: drop the
 * connection without answering, answer 503, or pass it on.
 */
function startProxy(
  upstream: string,
  plan: (index: number, request: IncomingMessage) => 'drop' | 503 | 'pass',
): Promise<Started> {
  return startServer((request, response, index) => {
    const action = plan(index, request);
    if (action === 'drop') {
      request.socket.destroy();
      return;
    }
    if (action === 503) {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('daemon busy');
      return;
    }
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of request) chunks.push(chunk as Buffer);
      const forwarded = await fetch(`${upstream}${request.url ?? ''}`, {
        method: request.method ?? 'GET',
        ...(request.method === 'POST' ? { body: Buffer.concat(chunks) } : {}),
      });
      const body = Buffer.from(await forwarded.arrayBuffer());
      response
        .writeHead(forwarded.status, {
          'content-type': forwarded.headers.get('content-type') ?? 'text/plain',
        })
        .end(body);
    })();
  });
}

/** Serves the regtest genesis at /block-height/0 (so connect succeeds) and `rest` otherwise. */
function fixedServer(rest: (path: string, method: string) => [number, string | Buffer]) {
  return startServer((request, response) => {
    const path = request.url ?? '/';
    const [status, body] =
      path === '/block-height/0' ? [200, REGTEST_GENESIS] : rest(path, request.method ?? 'GET');
    response.writeHead(status, { 'content-type': 'text/plain' }).end(body);
  });
}

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message: string }> {
  return promise.then(
    () => ({ message: 'resolved' }),
    (error: unknown) =>
      isAppError(error)
        ? { code: error.code, message: error.message }
        : { message: `non-AppError: ${String(error)}` },
  );
}

const noWait = (delays: number[]) => (ms: number) => {
  delays.push(ms);
  return Promise.resolve();
};

describe('esplora adapter over simnet REST', () => {
  let db: Database;
  let simnet: Simnet;
  let esplora: SimnetEsploraServer;
  const minerKey = testKey('esplora adapter miner');
  const miner = p2wpkhOf(minerKey);
  const payee = p2wpkhOf(testKey('esplora adapter payee'));
  const servers: Started[] = [];

  beforeAll(async () => {
    db = await openTestDatabase();
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    await simnet.mine(3, miner.script);
    esplora = await startSimnetEsploraServer({ simnet, port: 0 });
  });
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });
  afterAll(async () => {
    await esplora.close();
    await db.close();
  });

  const connectTo = (url: string, options: Partial<EsploraClientOptions> = {}) =>
    EsploraChainSource.connect({ network: 'regtest', client: { url, retries: 0, ...options } });

  it('retries GETs on dropped connections with doubling backoff, then answers', async () => {
    const proxy = await startProxy(esplora.url, (index) =>
      index >= 1 && index <= 2 ? 'drop' : 'pass',
    );
    servers.push(proxy);
    const delays: number[] = [];
    const source = await connectTo(proxy.url, {
      retries: 3,
      retryDelayMs: 100,
      sleep: noWait(delays),
    });
    expect(await source.getTip()).toEqual(simnet.tip());
    // connect, two dropped attempts at the tip hash, the answered one, then the tip block.
    expect(proxy.requests).toEqual([
      'GET /block-height/0',
      'GET /blocks/tip/hash',
      'GET /blocks/tip/hash',
      'GET /blocks/tip/hash',
      `GET /block/${simnet.tip().hash}`,
    ]);
    expect(delays).toEqual([100, 200]);
  });

  it('retries GETs answered 503, and gives up with CHAIN_UNAVAILABLE after the last attempt', async () => {
    const proxy = await startProxy(esplora.url, (index) => (index >= 1 ? 503 : 'pass'));
    servers.push(proxy);
    const delays: number[] = [];
    const source = await connectTo(proxy.url, {
      retries: 2,
      retryDelayMs: 10,
      sleep: noWait(delays),
    });
    const result = await failure(source.getBlockHash(1));
    expect(result.code).toBe('CHAIN_UNAVAILABLE');
    expect(result.message).toContain('HTTP 503: daemon busy');
    expect(result.message).toContain('after 3 attempts');
    expect(proxy.requests.slice(1)).toEqual(Array(3).fill('GET /block-height/1'));
    expect(delays).toEqual([10, 20]);
  });

  it('gives up on dropped connections with CHAIN_UNAVAILABLE after the retries', async () => {
    const proxy = await startProxy(esplora.url, (index) => (index >= 1 ? 'drop' : 'pass'));
    servers.push(proxy);
    const source = await connectTo(proxy.url, { retries: 2, sleep: noWait([]) });
    const result = await failure(source.getMempoolTxids());
    expect(result.code).toBe('CHAIN_UNAVAILABLE');
    expect(result.message).toMatch(
      /cannot reach Esplora at 127\.0\.0\.1:\d+: GET \/mempool\/txids: .*\(after 3 attempts\)/,
    );
    expect(proxy.requests).toHaveLength(4);
  });

  it('never retries a broadcast that got an answer, even a 503', async () => {
    const proxy = await startProxy(esplora.url, (_index, request) =>
      request.method === 'POST' ? 503 : 'pass',
    );
    servers.push(proxy);
    const source = await connectTo(proxy.url, { retries: 3, sleep: noWait([]) });
    const result = await failure(source.broadcast(UNFUNDED_TX));
    expect(result.code).toBe('CHAIN_UNAVAILABLE');
    expect(proxy.requests.filter((line) => line.startsWith('POST'))).toEqual(['POST /tx']);
  });

  it('re-sends a broadcast whose connection dropped before any answer', async () => {
    const [coin] = await fund(simnet, miner.script, 1);
    if (!coin) throw new Error('no mature coin');
    const raw = signedTx(
      [{ utxo: coin }],
      [{ script: payee.script, value: coin.value - 5_000n }],
      [minerKey.secret],
    ).extract();
    let posts = 0;
    const proxy = await startProxy(esplora.url, (_index, request) =>
      request.method === 'POST' && posts++ === 0 ? 'drop' : 'pass',
    );
    servers.push(proxy);
    const source = await connectTo(proxy.url, { retries: 1, sleep: noWait([]) });
    const txid = parseTransaction(raw).txid;
    expect(await source.broadcast(raw)).toBe(txid);
    expect(proxy.requests.filter((line) => line.startsWith('POST'))).toEqual([
      'POST /tx',
      'POST /tx',
    ]);
    expect(simnet.mempoolTxids()).toContain(txid);
    // The fee estimate is the simnet's own, carried as a sat/vB float and back, exactly.
    const direct = simnet.estimateFeeRateSatPerKvB(6);
    expect(direct).not.toBeNull();
    expect(await source.estimateFeeRateSatPerKvB(6)).toBe(direct);
    await simnet.mine(1, miner.script);
  });

  it('times out a server that accepts and never answers', async () => {
    const stalled = await startServer((request, response) => {
      if (request.url === '/block-height/0') response.end(REGTEST_GENESIS);
      // otherwise: never answer
    });
    servers.push(stalled);
    const source = await connectTo(stalled.url, { timeoutMs: 200, retries: 1, sleep: noWait([]) });
    const result = await failure(source.getTip());
    expect(result.code).toBe('CHAIN_UNAVAILABLE');
    expect(result.message).toContain('no answer within 200 ms (after 2 attempts)');
  });

  it('maps a 400 refusal to TX_REJECTED with the node reason', async () => {
    const source = await connectTo(esplora.url);
    const error = await source.broadcast(UNFUNDED_TX).catch((e: unknown) => e);
    expect(isAppError(error) && error.code).toBe('TX_REJECTED');
    if (!isAppError(error)) return;
    expect(error.details).toEqual({
      txid: parseTransaction(UNFUNDED_TX).txid,
      reason: 'bad-txns-inputs-missingorspent',
      rpcCode: -25,
    });
    expect(error.message).toContain(': bad-txns-inputs-missingorspent');
  });

  it('reads the reason from the newer electrs wording, and keeps an unknown wording whole', async () => {
    const server = await fixedServer((path) =>
      path === '/tx'
        ? [400, 'sendrawtransaction RPC error -26: min relay fee not met, 110 < 141']
        : [404, 'endpoint does not exist'],
    );
    servers.push(server);
    const source = await connectTo(server.url);
    const error = await source.broadcast(UNFUNDED_TX).catch((e: unknown) => e);
    expect(isAppError(error) && error.details).toMatchObject({
      reason: 'min relay fee not met, 110 < 141',
      rpcCode: -26,
    });
    expect(
      nodeReason(
        'sendrawtransaction RPC error: {"code":-26,"message":"dust"}',
        'sendrawtransaction',
      ),
    ).toEqual({
      reason: 'dust',
      rpcCode: -26,
    });
    expect(nodeReason('bad request', 'sendrawtransaction')).toEqual({ reason: 'bad request' });
  });

  it('answers 404s with BLOCK_NOT_FOUND and TX_NOT_FOUND', async () => {
    const source = await connectTo(esplora.url);
    expect((await failure(source.getBlockHeader(UNKNOWN))).code).toBe('BLOCK_NOT_FOUND');
    expect((await failure(source.getBlock(UNKNOWN))).code).toBe('BLOCK_NOT_FOUND');
    expect((await failure(source.getBlockHash(simnet.height + 1))).code).toBe('BLOCK_NOT_FOUND');
    expect((await failure(source.getRawTransaction(UNKNOWN))).code).toBe('TX_NOT_FOUND');
    expect((await failure(source.getBlock('not a hash'))).code).toBe('VALIDATION_FAILED');
  });

  it('a block that left the best chain: BLOCK_NOT_FOUND as electrs, confirmations -1 where served', async () => {
    const [stale] = await simnet.mine(1, miner.script);
    await simnet.invalidateBlock(stale ?? '');
    await simnet.mine(2, payee.script);
    // electrs keeps only best-chain headers: the block is gone from /block/:hash.
    const source = await connectTo(esplora.url);
    expect((await failure(source.getBlockHeader(stale ?? ''))).code).toBe('BLOCK_NOT_FOUND');
    expect((await failure(source.getBlock(stale ?? ''))).code).toBe('BLOCK_NOT_FOUND');
    // A server that still serves it reports it off the chain, as Bitcoin Core counts (-1).
    const serving = await startSimnetEsploraServer({ simnet, port: 0, serveStaleBlocks: true });
    try {
      const header = await (await connectTo(serving.url)).getBlockHeader(stale ?? '');
      expect(header).toMatchObject({ hash: stale, confirmations: -1 });
    } finally {
      await serving.close();
    }
  });

  it('refuses malformed answers with CHAIN_UNAVAILABLE naming the endpoint', async () => {
    const otherBlock = simnet.block(simnet.blockHashAt(1) ?? '')?.block.raw ?? new Uint8Array();
    const server = await fixedServer((path, method) => {
      if (path === '/blocks/tip/hash') return [200, 'this is not a hash'];
      if (path === '/blocks/tip/height') return [200, '5'];
      if (path === `/block/${UNKNOWN}`) return [200, '{"id": "truncated'];
      if (path === `/block/${UNKNOWN}/status`) return [200, '{"in_best_chain": false}'];
      if (path === `/block/${UNKNOWN}/raw`) return [200, Buffer.from(otherBlock)];
      if (path === `/tx/${UNKNOWN}/hex`) return [200, 'zz'];
      if (path === '/mempool/txids') return [200, '{}'];
      if (path === '/fee-estimates') return [200, '{"6": "fast"}'];
      if (path === '/tx' && method === 'POST') return [200, 'accepted'];
      if (path === '/txs/test') return [200, '[{"allowed": true}]'];
      return [404, 'endpoint does not exist'];
    });
    servers.push(server);
    const source = await connectTo(server.url);
    const cases: [Promise<unknown>, string][] = [
      [source.getTip(), 'GET /blocks/tip/hash'],
      [source.getBlockHeader(UNKNOWN), `GET /block/${UNKNOWN}`],
      [source.getBlock(UNKNOWN), `GET /block/${UNKNOWN}/raw`],
      [source.getRawTransaction(UNKNOWN), `GET /tx/${UNKNOWN}/hex`],
      [source.getMempoolTxids(), 'GET /mempool/txids'],
      [source.estimateFeeRateSatPerKvB(6), 'GET /fee-estimates'],
      [source.broadcast(UNFUNDED_TX), 'POST /tx'],
      [source.testMempoolAccept(UNFUNDED_TX), 'POST /txs/test'],
    ];
    for (const [promise, endpoint] of cases) {
      const result = await failure(promise);
      expect(result.code, endpoint).toBe('CHAIN_UNAVAILABLE');
      expect(result.message, endpoint).toContain(`sent a malformed answer to ${endpoint}`);
    }
  });

  it('refuses testMempoolAccept with CHAIN_UNSUPPORTED where POST /txs/test does not exist', async () => {
    // Blockstream's electrs answers unknown routes 404 "endpoint does not exist".
    const server = await fixedServer((path) => [404, `endpoint does not exist "${path}"`]);
    servers.push(server);
    const source = await connectTo(server.url);
    const result = await failure(source.testMempoolAccept(UNFUNDED_TX));
    expect(result.code).toBe('CHAIN_UNSUPPORTED');
    expect(result.message).toContain('does not offer POST /txs/test');
  });

  it('checks the network by the genesis block and the base URL before anything else', async () => {
    const wrongNetwork = await failure(
      EsploraChainSource.connect({ network: 'mainnet', client: { url: esplora.url, retries: 0 } }),
    );
    expect(wrongNetwork.code).toBe('CONFIG_INVALID');
    expect(wrongNetwork.message).toContain(
      'follows regtest, but the configured network is mainnet',
    );

    const prefixed = await startSimnetEsploraServer({ simnet, port: 0, basePath: '/regtest/api' });
    try {
      const missingPrefix = await failure(connectTo(prefixed.url.replace('/regtest/api', '')));
      expect(missingPrefix.code).toBe('CONFIG_INVALID');
      expect(missingPrefix.message).toContain('ESPLORA_URL does not look like an Esplora API');
      const source = await connectTo(`${prefixed.url}/`);
      expect(await source.getTip()).toEqual(simnet.tip());
    } finally {
      await prefixed.close();
    }

    for (const url of ['not a url', 'ftp://host/api', 'https://host/api?key=1']) {
      expect((await failure(connectTo(url))).code, url).toBe('CONFIG_INVALID');
    }
    const secret = await failure(connectTo('http://user:s3cret@127.0.0.1:1/api'));
    expect(secret.code).toBe('CHAIN_UNAVAILABLE');
    expect(secret.message).not.toContain('s3cret');
  });
});

describe('Esplora fee estimates', () => {
  // The example answer of GET /fee-estimates in Esplora's API documentation (API.md).
  const documented = {
    '2': 87.882,
    '3': 87.882,
    '4': 87.882,
    '5': 81.129,
    '6': 68.285,
    '10': 1.027,
    '20': 1.027,
    '25': 1.027,
    '144': 1.027,
    '504': 1.027,
    '1008': 1.027,
  };

  it('converts sat/vB floats to sat/kvB exactly as printed, rounding a remainder up', () => {
    expect(satPerVbToSatPerKvB(87.882)).toBe(87_882n); // 87.882 * 1000 is 87882.00000000001 in floats
    expect(satPerVbToSatPerKvB(1.027)).toBe(1_027n); // and 1.027 * 1000 is 1026.9999999999998
    expect(satPerVbToSatPerKvB(68.285)).toBe(68_285n);
    expect(satPerVbToSatPerKvB(2)).toBe(2_000n);
    expect(satPerVbToSatPerKvB(1.0001)).toBe(1_001n);
    expect(satPerVbToSatPerKvB(1e-7)).toBe(1n);
    expect(satPerVbToSatPerKvB(0)).toBe(0n);
    expect(satPerVbToSatPerKvB(1.5e21)).toBe(15n * 10n ** 23n); // printed "1.5e+21"
    expect(() => satPerVbToSatPerKvB(-1)).toThrow(/non-negative/);
    expect(() => satPerVbToSatPerKvB(Number.NaN)).toThrow(/non-negative/);
  });

  it('takes the largest listed target not above the one asked, else the smallest listed', () => {
    expect(pickEstimate(documented, 1)).toBe(87.882);
    expect(pickEstimate(documented, 6)).toBe(68.285);
    expect(pickEstimate(documented, 7)).toBe(68.285);
    expect(pickEstimate(documented, 12)).toBe(1.027);
    expect(pickEstimate(documented, 1008)).toBe(1.027);
    expect(pickEstimate({}, 6)).toBeUndefined();
  });
});

describe('configuration: CHAIN=esplora', () => {
  const message = (env: Record<string, string>) => {
    try {
      loadConfig(env);
      return 'accepted';
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  };

  it('needs ESPLORA_URL (http or https) and an explicit NETWORK, naming what is wrong', () => {
    expect(message({ CHAIN: 'esplora', NETWORK: 'signet' })).toContain(
      'ESPLORA_URL is required when CHAIN=esplora',
    );
    expect(
      message({ CHAIN: 'esplora', NETWORK: 'signet', ESPLORA_URL: 'ftp://host/signet/api' }),
    ).toContain('ESPLORA_URL must be an http or https URL');
    expect(message({ CHAIN: 'esplora', ESPLORA_URL: 'https://host/signet/api' })).toContain(
      'NETWORK is required when CHAIN=esplora',
    );
    const config = loadConfig({
      CHAIN: 'esplora',
      NETWORK: 'signet',
      ESPLORA_URL: 'https://host/signet/api',
    });
    expect(config).toMatchObject({
      CHAIN: 'esplora',
      NETWORK: 'signet',
      ESPLORA_URL: 'https://host/signet/api',
    });
  });
});

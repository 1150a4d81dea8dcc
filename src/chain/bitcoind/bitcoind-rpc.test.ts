import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAppError, type AppError } from '../../kernel';
import { parseHeader } from '../blockfile/block';
import { BitcoindChainSource, BitcoindRpcClient } from './index';
import {
  startRecordedRpcServer,
  type RecordedRpcServer,
} from '../../../test/support/recorded-bitcoind';

/**
 * The Bitcoin Core adapter against a real HTTP JSON-RPC server answering as Core does (see
 * test/vectors/bitcoin/rpc/bitcoin-core-mainnet-413567.json for where the answers come from).
 */

const TIP = '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069';
const PARENT = '00000000000000000542b54d29b12b523ff6c6474e0e86085bd3005ec6c5ce11';
const COINBASE_TXID = '5b4aaef3f4e4625d70385ddf0bd2a0b7d7141e4c2fd36d2ff2cad37fff3deb0f';
const SECOND_TXID = 'f1bd8c6e99baddc7b5ba7882f89a578549a669e5764801d8a0084aee9183ee11';
const GENESIS = '000000000019d6689c085ae165831e934ff763ae46a2a6c172b3f1b60a8ce26f';
const UNKNOWN_BLOCK = '00000000000000000000000000000000000000000000000000000000deadbeef';
const RAW_413567 = new Uint8Array(
  readFileSync(
    path.resolve(import.meta.dirname, '../../../test/vectors/bitcoin/blocks/mainnet-413567.raw'),
  ),
);

function code(error: unknown): string | undefined {
  return isAppError(error) ? error.code : undefined;
}

async function failure(promise: Promise<unknown>): Promise<AppError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isAppError(error)) throw new Error(`expected an AppError, got ${String(error)}`);
  return error;
}

describe('Bitcoin Core JSON-RPC adapter (recorded mainnet node at block 413567)', () => {
  let server: RecordedRpcServer;
  let delays: number[];
  let source: BitcoindChainSource;

  function client(
    extra: Partial<ConstructorParameters<typeof BitcoindRpcClient>[0]> = {},
  ): BitcoindRpcClient {
    return new BitcoindRpcClient({
      url: server.authUrl,
      retryDelayMs: 10,
      sleep: (ms) => {
        delays.push(ms);
        return Promise.resolve();
      },
      ...extra,
    });
  }

  beforeEach(async () => {
    server = await startRecordedRpcServer('bitcoin-core-mainnet-413567.json');
    delays = [];
    source = await BitcoindChainSource.connect({ network: 'mainnet', rpc: client() });
  });
  afterEach(async () => {
    await server.close();
  });

  it('refuses to start when the node is on another chain than the configured network', async () => {
    const error = await failure(BitcoindChainSource.connect({ network: 'regtest', rpc: client() }));
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.message).toMatch(
      /chain "main" \(mainnet\), but the configured network is regtest/,
    );
  });

  it('reads the tip, block hash, header and raw block consistently', async () => {
    expect(source.network).toBe('mainnet');
    expect(await source.getTip()).toEqual({ height: 413567, hash: TIP });
    expect(await source.getBlockHash(413567)).toBe(TIP);
    expect(await source.getBlockHeader(TIP)).toEqual({
      hash: TIP,
      height: 413567,
      previousHash: PARENT,
      time: 1464307123,
      confirmations: 1,
    });
    const block = await source.getBlock(TIP);
    // Byte comparison through Buffer: a deep toEqual over a megabyte takes seconds.
    expect(block.length).toBe(999_887);
    expect(Buffer.from(block).equals(RAW_413567)).toBe(true);
    expect(parseHeader(block).hash).toBe(TIP);
  });

  it('reads a complete block with getblock verbosity 3, checked like a raw block', async () => {
    const genesis = await source.getChainBlock(GENESIS);
    expect(server.received.at(-1)).toBe('getblock');
    expect(genesis).toMatchObject({ hash: GENESIS, height: 0, previousHash: null, complete: true });
    expect(genesis.time).toBe(1231006505);
    expect(genesis.transactions).toHaveLength(1);
    expect(genesis.transactions[0]).toMatchObject({
      txid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
      coinbase: true,
      inputs: [],
    });
    // 50 BTC to a bare public key: no address form.
    expect(genesis.transactions[0]?.outputs[0]).toMatchObject({
      vout: 0,
      valueSats: 5_000_000_000n,
      address: null,
    });
  });

  it('refuses a verbosity-3 block without prevouts (no undo data) instead of delivering it incomplete', async () => {
    const error = await failure(source.getChainBlock(TIP));
    expect(error.code).toBe('CHAIN_UNSUPPORTED');
    expect(error.message).toMatch(/without the previous output of [0-9a-f]{64}:\d+/);
    expect(error.message).toMatch(/undo data/);
    expect(code(await failure(source.getChainBlock(UNKNOWN_BLOCK)))).toBe('BLOCK_NOT_FOUND');
  });

  it('refuses a verbosity-3 answer whose fields do not hash to the block asked for', async () => {
    server.override('getblock', () => ({
      result: {
        hash: GENESIS,
        height: 0,
        version: 1,
        merkleroot: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
        time: 1231006506, // one second off
        nonce: 2083236893,
        bits: '1d00ffff',
        tx: [
          {
            txid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b',
            hex: '00',
            vin: [],
          },
        ],
      },
    }));
    const error = await failure(source.getChainBlock(GENESIS));
    expect(error.code).toBe('INVALID_BLOCK');
    expect(error.message).toMatch(/header fields hash to another block/);
  });

  it('maps -5 and -8 to BLOCK_NOT_FOUND / TX_NOT_FOUND, keeping Core’s message', async () => {
    const noHeader = await failure(source.getBlockHeader(UNKNOWN_BLOCK));
    expect(noHeader.code).toBe('BLOCK_NOT_FOUND');
    expect(noHeader.message).toBe('Bitcoin Core getblockheader: Block not found (RPC error -5)');
    expect(noHeader.details).toMatchObject({ rpcCode: -5, rpcMessage: 'Block not found' });
    expect(code(await failure(source.getBlock(UNKNOWN_BLOCK)))).toBe('BLOCK_NOT_FOUND');
    expect(code(await failure(source.getBlockHash(413568)))).toBe('BLOCK_NOT_FOUND');
    const noTx = await failure(source.getRawTransaction('11'.repeat(32)));
    expect(noTx.code).toBe('TX_NOT_FOUND');
    expect(noTx.message).toMatch(/No such mempool or blockchain transaction/);
  });

  it('validates hashes before sending them', async () => {
    expect(code(await failure(source.getBlock('not-a-hash')))).toBe('VALIDATION_FAILED');
    expect(server.received).not.toContain('getblock');
  });

  it('reads raw transactions and the mempool', async () => {
    const coinbase = await source.getRawTransaction(COINBASE_TXID);
    expect(coinbase.length).toBe(185);
    expect(await source.getMempoolTxids()).toEqual([SECOND_TXID]);
  });

  it('reports testmempoolaccept refusals with Core’s reject reason', async () => {
    const raw = await rawOf(1);
    expect(await source.testMempoolAccept(raw)).toEqual({
      txid: SECOND_TXID,
      allowed: false,
      rejectReason: 'txn-already-known',
    });
  });

  it('maps -27, -26, -22 on sendrawtransaction to TX_REJECTED, and never retries them', async () => {
    const alreadyMined = await failure(source.broadcast(await rawOf(1)));
    expect(alreadyMined.code).toBe('TX_REJECTED');
    expect(alreadyMined.message).toMatch(
      /Transaction outputs already in utxo set \(RPC error -27\)/,
    );
    const coinbase = await failure(source.broadcast(await rawOf(0)));
    expect(coinbase).toMatchObject({
      code: 'TX_REJECTED',
      details: { rpcCode: -26, rpcMessage: 'coinbase' },
    });
    expect(code(await failure(source.broadcast(Uint8Array.of(0))))).toBe('TX_REJECTED');
    server.override('sendrawtransaction', () => ({
      error: { code: -25, message: 'bad-txns-inputs-missingorspent' },
    }));
    expect((await failure(source.broadcast(await rawOf(1)))).message).toMatch(
      /bad-txns-inputs-missingorspent/,
    );
    expect(server.received.filter((m) => m === 'sendrawtransaction')).toHaveLength(4);
    expect(delays).toEqual([]);
  });

  it('converts estimatesmartfee BTC/kvB to sat/kvB exactly, and no estimate to null', async () => {
    expect(await source.estimateFeeRateSatPerKvB(2)).toBe(12_345n);
    expect(await source.estimateFeeRateSatPerKvB(1008)).toBeNull();
  });

  it('any 8-decimal fee rate Core prints as a JSON number comes back as the exact sats (property)', async () => {
    let current = 0n;
    server.override('estimatesmartfee', () => ({
      result: { feerate: Number(current) / 1e8, blocks: 2 },
    }));
    await fc.assert(
      fc.asyncProperty(fc.bigInt({ min: 1n, max: 2_100_000_000_000_000n }), async (satPerKvB) => {
        current = satPerKvB;
        // The server prints Number(sats)/1e8 with JSON.stringify, as Core's UniValue prints a double.
        expect(await source.estimateFeeRateSatPerKvB(2)).toBe(satPerKvB);
      }),
      { numRuns: 200 },
    );
  });

  it('sends basic auth from the URL; bad credentials are CHAIN_UNAVAILABLE at once, not retried', async () => {
    const wrong = new URL(server.authUrl);
    wrong.password = 'wrong';
    const before = server.httpRequests();
    const error = await failure(
      client({ url: wrong.toString() }).call('getblockcount', [], z.unknown()),
    );
    expect(error.code).toBe('CHAIN_UNAVAILABLE');
    expect(error.message).toMatch(/HTTP 401/);
    expect(error.message).not.toMatch(/wrong/);
    expect(server.httpRequests() - before).toBe(1);
    // Credentials passed as options work as well as in the URL.
    const viaOptions = new BitcoindRpcClient({
      url: server.url,
      username: 'tradeclear',
      password: 'correct horse',
    });
    expect(
      (await BitcoindChainSource.connect({ network: 'mainnet', rpc: viaOptions })).network,
    ).toBe('mainnet');
  });

  it('retries dropped connections and 503 with exponential backoff, then succeeds', async () => {
    server.misbehave('drop', '503', 'drop');
    expect(await source.getTip()).toEqual({ height: 413567, hash: TIP });
    expect(delays).toEqual([10, 20, 40]);
  });

  it('gives up after its retries with CHAIN_UNAVAILABLE', async () => {
    server.misbehave('drop', 'drop', 'drop', 'drop');
    const error = await failure(source.getTip());
    expect(error.code).toBe('CHAIN_UNAVAILABLE');
    expect(error.message).toMatch(/after 4 attempts/);
    expect(delays).toEqual([10, 20, 40]);
  });

  it('times out a request that gets no answer', async () => {
    server.misbehave('stall');
    const error = await failure(
      client({ timeoutMs: 100, retries: 0 }).call('getblockcount', [], z.unknown()),
    );
    expect(error.code).toBe('CHAIN_UNAVAILABLE');
    expect(error.message).toMatch(/no answer within 100 ms/);
  });

  it('reports a refused connection (nothing listening) as CHAIN_UNAVAILABLE', async () => {
    const url = new URL(server.url);
    await server.close();
    const error = await failure(
      client({ url: url.toString(), retries: 1 }).call('getblockcount', [], z.unknown()),
    );
    expect(error.code).toBe('CHAIN_UNAVAILABLE');
    expect(error.message).toMatch(/ECONNREFUSED/);
    server = await startRecordedRpcServer('bitcoin-core-mainnet-413567.json');
  });

  it('sends a batch in one HTTP request and reports each outcome', async () => {
    const rpc = client();
    const before = server.httpRequests();
    const outcomes = await rpc.batch([
      { method: 'getblockhash', params: [413567] },
      { method: 'getblockhash', params: [413568] },
      { method: 'getrawmempool', params: [false] },
    ]);
    expect(server.httpRequests() - before).toBe(1);
    expect(outcomes).toEqual([
      { ok: true, result: TIP },
      { ok: false, rpcCode: -8, rpcMessage: 'Block height out of range' },
      { ok: true, result: [SECOND_TXID] },
    ]);
  });

  async function rawOf(index: 0 | 1): Promise<Uint8Array> {
    if (index === 0) return source.getRawTransaction(COINBASE_TXID);
    const fixture = JSON.parse(
      readFileSync(
        path.resolve(
          import.meta.dirname,
          '../../../test/vectors/bitcoin/rpc/bitcoin-core-mainnet-413567.json',
        ),
        'utf8',
      ),
    ) as { responses: { method: string; params: unknown[] }[] };
    const send = fixture.responses.find((r) => r.method === 'testmempoolaccept');
    const hex = (send?.params[0] as string[] | undefined)?.[0] ?? '';
    return Uint8Array.from(Buffer.from(hex, 'hex'));
  }
});

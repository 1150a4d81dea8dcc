import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { blockHashBytes, descriptorChecksum, fromHex, toReversedHex } from '../../bitcoin';
import { Simnet, type Utxo } from './simnet';
import { startSimnetRpcServer, type SimnetRpcServer } from './rpc';
import { p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * The JSON-RPC server, called over real HTTP with fetch. Field lists are those of Bitcoin
 * Core's RPC help (v28) for each method; error codes are rpc/protocol.h's.
 */

const alice = testKey('alice');
const bob = testKey('bob');
const aliceAddress = p2wpkhOf(alice).address;
const aliceSpk = p2wpkhOf(alice).script;
const bobSpk = p2wpkhOf(bob).script;
const GENESIS = '0f9188f13cb7b2c71f2a335e3a4fc328bf5beb436012afca590b1a11466e2206';

let db: Database;
let simnet: Simnet;
let server: SimnetRpcServer;
const auth = `Basic ${Buffer.from('user:secret').toString('base64')}`;

interface RpcReply {
  status: number;
  body: {
    result?: unknown;
    error?: { code: number; message: string } | null;
    id?: unknown;
    jsonrpc?: string;
  };
}

async function post(
  body: unknown,
  authorization = auth,
): Promise<{ status: number; text: string }> {
  const response = await fetch(server.url, {
    method: 'POST',
    headers: { authorization, 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, text: await response.text() };
}

async function call(method: string, params: unknown = []): Promise<RpcReply> {
  const { status, text } = await post({ jsonrpc: '1.0', id: 'test', method, params });
  return { status, body: JSON.parse(text) as RpcReply['body'] };
}

async function result<T>(method: string, params: unknown = []): Promise<T> {
  const reply = await call(method, params);
  if (reply.body.error)
    throw new Error(`${method}: ${reply.body.error.code} ${reply.body.error.message}`);
  return reply.body.result as T;
}

async function errorOf(method: string, params: unknown = []) {
  const reply = await call(method, params);
  return { status: reply.status, ...reply.body.error };
}

beforeAll(async () => {
  db = await openTestDatabase();
  simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  server = await startSimnetRpcServer({ simnet, port: 0, username: 'user', password: 'secret' });
});
afterAll(async () => {
  await server.close();
  await db.close();
});

describe('transport', () => {
  test('wrong or missing credentials get HTTP 401', async () => {
    const wrong = await post(
      { method: 'getblockcount' },
      `Basic ${Buffer.from('user:nope').toString('base64')}`,
    );
    expect(wrong.status).toBe(401);
    const response = await fetch(server.url, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe('Basic realm="jsonrpc"');
  });

  test('unknown method: -32601 (HTTP 404 for JSON-RPC 1.0, 200 for 2.0); parse errors: -32700', async () => {
    expect(await errorOf('getnothing')).toEqual({
      status: 404,
      code: -32601,
      message: 'Method not found',
    });
    const v2 = await post({ jsonrpc: '2.0', id: 7, method: 'getnothing' });
    expect(v2.status).toBe(200);
    expect(JSON.parse(v2.text)).toEqual({
      jsonrpc: '2.0',
      error: { code: -32601, message: 'Method not found' },
      id: 7,
    });
    const bad = await post('{not json');
    expect(bad.status).toBe(500);
    expect(JSON.parse(bad.text)).toMatchObject({ error: { code: -32700 } });
  });

  test('batches answer each request in order; named parameters work', async () => {
    const { status, text } = await post([
      { jsonrpc: '2.0', id: 1, method: 'getblockcount' },
      { jsonrpc: '2.0', id: 2, method: 'getblockhash', params: { height: 0 } },
      { jsonrpc: '2.0', id: 3, method: 'nope' },
    ]);
    expect(status).toBe(200);
    const replies = JSON.parse(text) as RpcReply['body'][];
    expect(replies.map((reply) => reply.id)).toEqual([1, 2, 3]);
    expect(replies[1]!.result).toBe(GENESIS);
    expect(replies[2]!.error!.code).toBe(-32601);
  });
});

describe('chain methods', () => {
  let coin: Utxo;

  beforeAll(async () => {
    const hashes = await result<string[]>('generatetoaddress', [101, aliceAddress]);
    expect(hashes).toHaveLength(101);
    coin = simnet.listUnspent(aliceAddress)[0]!;
  });

  test("getblockchaininfo has Bitcoin Core's fields", async () => {
    const info = await result<Record<string, unknown>>('getblockchaininfo');
    expect(Object.keys(info).sort()).toEqual(
      [
        'chain',
        'blocks',
        'headers',
        'bestblockhash',
        'difficulty',
        'time',
        'mediantime',
        'verificationprogress',
        'initialblockdownload',
        'chainwork',
        'size_on_disk',
        'pruned',
        'warnings',
      ].sort(),
    );
    expect(info).toMatchObject({
      chain: 'regtest',
      blocks: 101,
      headers: 101,
      difficulty: 4.656542373906925e-10,
    });
    // Regtest blocks carry 2 units of work each (2^256 / (target + 1)), genesis included.
    expect(info.chainwork).toBe((102 * 2).toString(16).padStart(64, '0'));
    expect(await result('getbestblockhash')).toBe(info.bestblockhash);
    expect(await result('getblockcount')).toBe(101);
  });

  test('getblockhash, getblockheader (verbose and hex) and getblock at verbosity 0, 1, 2', async () => {
    expect(await result('getblockhash', [0])).toBe(GENESIS);
    expect(await errorOf('getblockhash', [102])).toMatchObject({
      code: -8,
      message: 'Block height out of range',
    });
    const hash = await result<string>('getblockhash', [1]);
    const header = await result<Record<string, unknown>>('getblockheader', [hash]);
    expect(Object.keys(header).sort()).toEqual(
      [
        'hash',
        'confirmations',
        'height',
        'version',
        'versionHex',
        'merkleroot',
        'time',
        'mediantime',
        'nonce',
        'bits',
        'difficulty',
        'chainwork',
        'nTx',
        'previousblockhash',
        'nextblockhash',
      ].sort(),
    );
    expect(header).toMatchObject({
      hash,
      height: 1,
      confirmations: 101,
      bits: '207fffff',
      versionHex: '20000000',
      previousblockhash: GENESIS,
      nTx: 1,
    });
    const hex = await result<string>('getblockheader', [hash, false]);
    expect(hex).toHaveLength(160);
    expect(toReversedHex(blockHashBytes(fromHex(hex)))).toBe(hash);
    expect(await errorOf('getblockheader', ['00'.repeat(32)])).toMatchObject({
      code: -5,
      message: 'Block not found',
    });
    expect(await errorOf('getblock', ['abc'])).toMatchObject({
      code: -8,
      message: "blockhash must be of length 64 (not 3, for 'abc')",
    });

    const raw = await result<string>('getblock', [hash, 0]);
    expect(raw.startsWith(hex)).toBe(true);
    const block1 = await result<Record<string, unknown>>('getblock', [hash]);
    expect(block1).toMatchObject({ hash, height: 1, size: raw.length / 2 });
    expect(block1).toHaveProperty('strippedsize');
    expect(block1).toHaveProperty('weight');
    const block2 = await result<{ tx: Record<string, unknown>[] }>('getblock', [hash, 2]);
    const coinbase = block2.tx[0]!;
    expect(Object.keys(coinbase)).toEqual([
      'txid',
      'hash',
      'version',
      'size',
      'vsize',
      'weight',
      'locktime',
      'vin',
      'vout',
      'hex',
    ]);
    // BIP34: height 1 is pushed as OP_1, then OP_0 (Bitcoin Core's miner).
    expect((coinbase.vin as { coinbase: string }[])[0]!.coinbase.startsWith('5100')).toBe(true);
    expect((coinbase.vout as Record<string, unknown>[])[0]).toMatchObject({
      value: 50,
      n: 0,
      scriptPubKey: {
        address: aliceAddress,
        type: 'witness_v0_keyhash',
        asm: `0 ${Buffer.from(aliceSpk.subarray(2)).toString('hex')}`,
      },
    });
  });

  test('amounts are printed with 8 decimals, as Bitcoin Core does', async () => {
    const { text } = await post({
      method: 'getblock',
      params: [await result<string>('getblockhash', [1]), 2],
      id: 1,
    });
    expect(text).toContain('"value":50.00000000');
  });

  test('sendrawtransaction, testmempoolaccept, the mempool RPCs and getrawtransaction', async () => {
    const tx = signedTx(
      [{ utxo: coin }],
      [{ script: bobSpk, value: coin.value - 1_000n }],
      [alice.secret],
    );
    const hex = tx.hex;
    const accept = await result<Record<string, unknown>[]>('testmempoolaccept', [[hex]]);
    expect(accept).toEqual([
      {
        txid: tx.id,
        wtxid: expect.any(String) as string,
        allowed: true,
        vsize: tx.vsize,
        fees: {
          base: 0.00001,
          // CFeeRate(fee, vsize) truncates: fee × 1000 / vsize sat/kvB.
          'effective-feerate': Math.floor((1000 * 1000) / tx.vsize) / 1e8,
          'effective-includes': [expect.any(String) as string],
        },
      },
    ]);
    expect(await result('sendrawtransaction', [hex])).toBe(tx.id);
    // Sending it again returns the txid, as Bitcoin Core does for a transaction already in the mempool.
    expect(await result('sendrawtransaction', [hex])).toBe(tx.id);
    expect(await result('getrawmempool')).toEqual([tx.id]);
    const verbose = await result<Record<string, Record<string, unknown>>>('getrawmempool', [true]);
    expect(verbose[tx.id]).toMatchObject({
      vsize: tx.vsize,
      fees: { base: 0.00001 },
      'bip125-replaceable': true,
      depends: [],
    });
    expect(await result('getmempoolinfo')).toMatchObject({
      loaded: true,
      size: 1,
      bytes: tx.vsize,
      total_fee: 0.00001,
      minrelaytxfee: 0.00001,
    });

    const pooled = await result<Record<string, unknown>>('getrawtransaction', [tx.id, true]);
    expect(pooled).toMatchObject({ txid: tx.id, hex });
    expect(pooled).not.toHaveProperty('blockhash');
    expect(await result('getrawtransaction', [tx.id])).toBe(hex);

    // A double spend not signaling… this one signals (btc-signer default here is 0xfffffffd), so pay less: insufficient fee.
    const conflict = signedTx(
      [{ utxo: coin }],
      [{ script: aliceSpk, value: coin.value - 900n }],
      [alice.secret],
    );
    expect(await errorOf('sendrawtransaction', [conflict.hex])).toMatchObject({
      code: -26,
      message: expect.stringMatching(/^insufficient fee, rejecting replacement/) as string,
    });
    const rejected = await result<Record<string, unknown>[]>('testmempoolaccept', [[conflict.hex]]);
    expect(rejected[0]).toMatchObject({ allowed: false, 'reject-reason': 'insufficient fee' });

    const [blockHash] = await result<string[]>('generatetoaddress', [1, aliceAddress]);
    const mined = await result<Record<string, unknown>>('getrawtransaction', [tx.id, 1]);
    expect(mined).toMatchObject({ blockhash: blockHash, confirmations: 1 });
    expect(mined).toHaveProperty('blocktime');
    const inBlock = await result<Record<string, unknown>>('getrawtransaction', [
      tx.id,
      true,
      blockHash,
    ]);
    expect(inBlock).toMatchObject({ in_active_chain: true, txid: tx.id });

    expect(await errorOf('sendrawtransaction', [hex])).toMatchObject({ code: -27 });
    expect(await errorOf('sendrawtransaction', [conflict.hex])).toMatchObject({
      code: -25,
      message: 'bad-txns-inputs-missingorspent',
    });
    expect(await errorOf('sendrawtransaction', ['00zz'])).toMatchObject({ code: -22 });
    expect(await errorOf('sendrawtransaction', ['0200'])).toMatchObject({ code: -22 });
    expect(await errorOf('getrawtransaction', ['11'.repeat(32)])).toMatchObject({ code: -5 });
  });

  test('a non-signaling double spend gets -26 txn-mempool-conflict', async () => {
    const next = simnet.listUnspent(aliceAddress)[0]!;
    const first = signedTx(
      [{ utxo: next, sequence: 0xffffffff }],
      [{ script: bobSpk, value: next.value - 1_000n }],
      [alice.secret],
    );
    const second = signedTx(
      [{ utxo: next, sequence: 0xffffffff }],
      [{ script: aliceSpk, value: next.value - 9_000n }],
      [alice.secret],
    );
    await result('sendrawtransaction', [first.hex]);
    expect(await errorOf('sendrawtransaction', [second.hex])).toMatchObject({
      status: 500,
      code: -26,
      message: 'txn-mempool-conflict',
    });
  });

  test('estimatesmartfee answers from recent blocks and the mempool', async () => {
    const estimate = await result<Record<string, unknown>>('estimatesmartfee', [6]);
    expect(estimate).toEqual({ feerate: expect.any(Number) as number, blocks: 6 });
    expect(estimate.feerate as number).toBeGreaterThanOrEqual(0.00001);
    expect(await errorOf('estimatesmartfee', [0])).toMatchObject({ code: -8 });
  });

  test('invalidateblock disconnects; unknown blocks get -5; bad addresses -5', async () => {
    const tip = await result<string>('getbestblockhash');
    const height = await result<number>('getblockcount');
    expect(await result('invalidateblock', [tip])).toBeNull();
    expect(await result('getblockcount')).toBe(height - 1);
    expect((await result<Record<string, unknown>>('getblockheader', [tip])).confirmations).toBe(-1);
    expect(await errorOf('invalidateblock', ['00'.repeat(32)])).toMatchObject({
      code: -5,
      message: 'Block not found',
    });
    expect(await errorOf('generatetoaddress', [1, 'bc1qnotregtest'])).toMatchObject({
      code: -5,
      message: 'Error: Invalid address',
    });
    expect(await result('reconsiderblock', [tip])).toBeNull();
    expect(await result('getbestblockhash')).toBe(tip);
  });
});

describe('fresh chain', () => {
  test('estimatesmartfee without data returns errors, as Bitcoin Core', async () => {
    const emptyDb = await openTestDatabase();
    const fresh = await Simnet.open({
      db: emptyDb,
      clock: new ManualClock('2025-01-01T00:00:00Z'),
    });
    const other = await startSimnetRpcServer({
      simnet: fresh,
      port: 0,
      username: 'u',
      password: 'p',
    });
    try {
      const response = await fetch(other.url, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('u:p').toString('base64')}` },
        body: JSON.stringify({ method: 'estimatesmartfee', params: [2], id: 1 }),
      });
      expect(JSON.parse(await response.text())).toEqual({
        result: { errors: ['Insufficient data or no feerate found'], blocks: 0 },
        error: null,
        id: 1,
      });
    } finally {
      await other.close();
      await emptyDb.close();
    }
  });
});

test('descriptor checksums match BIP380', () => {
  expect(descriptorChecksum('raw(deadbeef)')).toBe('89f8spxm');
});

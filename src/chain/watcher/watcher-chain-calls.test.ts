import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import type { ChainBlock } from '../block';
import type { ChainSource } from '../source';
import { BitcoindChainSource } from '../bitcoind';
import { EsploraChainSource } from '../esplora';
import { Simnet, SimnetChainSource, startSimnetRpcServer } from '../simnet';
import { startSimnetEsploraServer } from '../simnet/esplora';
import { fund, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { guardChainCalls } from '../../../test/support/chain-guard';
import { openTestDatabase } from '../../../test/support/db';
import { ChainWatcher } from './index';

/**
 * Blocks reach consumers complete: every input carries the output it spends, as each adapter
 * reads it (simnet's stored transactions, Bitcoin Core's getblock verbosity 3 over JSON-RPC,
 * Esplora's vin.prevout over HTTP), and the watcher makes no chain call while a block's database
 * transaction is open. The guard wraps the real source and database and fails any such call.
 */

const minerKey = testKey('prevout miner');
const miner = p2wpkhOf(minerKey);
const payeeKey = testKey('prevout payee');
const payee = p2wpkhOf(payeeKey);
const onward = p2wpkhOf(testKey('prevout onward'));

type Adapter = 'simnet' | 'bitcoind' | 'esplora';

describe.each<Adapter>(['simnet', 'bitcoind', 'esplora'])(
  'complete blocks from the %s adapter',
  (adapter) => {
    let db: Database;
    let simnet: Simnet;
    let source: ChainSource;
    let close: () => Promise<void>;

    beforeEach(async () => {
      db = await openTestDatabase();
      simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
      close = () => Promise.resolve();
      if (adapter === 'simnet') source = new SimnetChainSource(simnet);
      if (adapter === 'bitcoind') {
        const server = await startSimnetRpcServer({
          simnet,
          port: 0,
          username: 'u',
          password: 'p',
        });
        close = () => server.close();
        source = await BitcoindChainSource.connect({
          network: 'regtest',
          rpc: { url: server.url, username: 'u', password: 'p', retries: 0 },
        });
      }
      if (adapter === 'esplora') {
        const server = await startSimnetEsploraServer({ simnet, port: 0 });
        close = () => server.close();
        source = await EsploraChainSource.connect({
          network: 'regtest',
          client: { url: server.url, retries: 0 },
        });
      }
    });
    afterEach(async () => {
      await close();
      await db.close();
    });

    it('delivers each input with its previous output, and calls the chain only outside block transactions', async () => {
      const [coin] = await fund(simnet, miner.script, 1);
      if (!coin) throw new Error('no mature coin');
      // A payment from a coinbase, and a spend of the payment in the same block.
      const payment = signedTx(
        [{ utxo: coin }],
        [{ script: payee.script, value: coin.value - 10_000n }],
        [minerKey.secret],
      );
      const chained = signedTx(
        [
          {
            utxo: {
              txid: payment.id,
              vout: 0,
              value: coin.value - 10_000n,
              script: payee.script,
            },
          },
        ],
        [{ script: onward.script, value: coin.value - 20_000n }],
        [payeeKey.secret],
      );
      expect((await simnet.submitTransaction(payment.extract())).allowed).toBe(true);
      expect((await simnet.submitTransaction(chained.extract())).allowed).toBe(true);
      const [hash] = await simnet.mine(1, miner.script);

      const guard = guardChainCalls(source, db);
      const watcher = new ChainWatcher({
        source: guard.source,
        database: guard.database,
        startHeight: simnet.height,
      });
      const seen: ChainBlock[] = [];
      await watcher.registerConsumer({
        name: 'prevouts',
        blockConnected: (block) => Promise.resolve(void seen.push(block)),
      });
      expect(await watcher.syncOnce()).toMatchObject({ connected: 1 });

      expect(seen.map((b) => b.hash)).toEqual([hash]);
      const byTxid = new Map(seen[0]?.transactions.map((t) => [t.txid, t]));
      expect(byTxid.get(payment.id)?.inputs).toEqual([
        {
          txid: coin.txid,
          vout: coin.vout,
          prevout: { valueSats: coin.value, script: miner.script, address: miner.address },
        },
      ]);
      expect(byTxid.get(chained.id)?.inputs).toEqual([
        {
          txid: payment.id,
          vout: 0,
          prevout: {
            valueSats: coin.value - 10_000n,
            script: payee.script,
            address: payee.address,
          },
        },
      ]);
      const coinbase = seen[0]?.transactions.find((t) => t.coinbase);
      expect(coinbase?.inputs).toEqual([]);
      expect(guard.calls.some((call) => call.method === 'getChainBlock')).toBe(true);
      expect(guard.insideTransactions()).toEqual([]);
    });

    it('the guard catches a chain call made inside a block transaction', async () => {
      await simnet.mine(2, miner.script);
      const guard = guardChainCalls(source, db);
      const watcher = new ChainWatcher({
        source: guard.source,
        database: guard.database,
        startHeight: 1,
      });
      await watcher.registerConsumer({
        name: 'calls-the-chain',
        // What consumers did before blocks carried their prevouts: ask the chain mid-block.
        blockConnected: async (block) => void (await guard.source.getBlock(block.hash)),
      });
      await expect(watcher.syncOnce()).rejects.toThrow(/inside a block's database transaction/);
      expect(guard.insideTransactions().map((call) => call.method)).toEqual(['getBlock']);
      expect(await watcher.cursor()).toBeNull();
    });
  },
);

import { ManualClock } from '../../kernel';
import { splitBlockFile } from '../blockfile/block';
import { BlockFileChainSource } from '../blockfile/source';
import { readBtcdReorgFile } from '../../../test/support/btcd-reorg';
import { z } from 'zod';
import { BitcoindChainSource } from '../bitcoind';
import { EsploraChainSource } from '../esplora';
import { Simnet, SimnetChainSource, startSimnetRpcServer } from '../simnet';
import { startSimnetEsploraServer } from '../simnet/esplora';
import { fund, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { chainSourceContract } from '../../../test/support/chain-source-contract';
import { openTestDatabase } from '../../../test/support/db';

/** Every ChainSource adapter that can run on this machine, through the one contract suite. */

// The block file source "mines" by adding the next real btcd block (blocks 2–4 after 0–1).
chainSourceContract('blockfile (btcd blocks)', () => {
  const source = new BlockFileChainSource('mainnet');
  const frames = splitBlockFile(readBtcdReorgFile('blk_0_to_4.dat'), 0xf9beb4d9);
  const frame = (raw: Uint8Array) => {
    const out = new Uint8Array(8 + raw.length);
    new DataView(out.buffer).setUint32(0, 0xf9beb4d9, false);
    new DataView(out.buffer).setUint32(4, raw.length, true);
    out.set(raw, 8);
    return out;
  };
  let next = 0;
  const mine = (n: number) => {
    const hashes: string[] = [];
    for (let i = 0; i < n; i++) {
      const raw = frames[next++];
      if (!raw) throw new Error('the btcd file has no more blocks to "mine"');
      hashes.push(...source.addBlocks(frame(raw)).added);
    }
    return Promise.resolve(hashes);
  };
  return mine(2).then(() => ({ source, mine, close: () => Promise.resolve() }));
});

chainSourceContract('simnet (direct)', async () => {
  const db = await openTestDatabase();
  const simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  const miner = p2wpkhOf(testKey('contract miner'));
  const payee = p2wpkhOf(testKey('contract payee'));
  await simnet.mine(1, miner.script);
  return {
    source: new SimnetChainSource(simnet),
    mine: (n) => simnet.mine(n, miner.script),
    fundedTx: async () => {
      const [coin] = await fund(simnet, miner.script, 1);
      if (!coin) throw new Error('no mature coin after funding');
      return signedTx(
        [{ utxo: coin }],
        [{ script: payee.script, value: coin.value - 10_000n }],
        [testKey('contract miner').secret],
      ).extract();
    },
    close: () => db.close(),
  };
});

// The Bitcoin Core adapter end to end: real HTTP JSON-RPC to simnet's Core-compatible server,
// mining through the generatetoaddress RPC as one would against a regtest bitcoind.
chainSourceContract('bitcoind over simnet JSON-RPC', async () => {
  const db = await openTestDatabase();
  const simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  const server = await startSimnetRpcServer({ simnet, port: 0, username: 'rpc', password: 'pw' });
  const source = await BitcoindChainSource.connect({
    network: 'regtest',
    rpc: { url: server.url, username: 'rpc', password: 'pw', retries: 0 },
  });
  const minerKey = testKey('contract rpc miner');
  const miner = p2wpkhOf(minerKey);
  const payee = p2wpkhOf(testKey('contract rpc payee'));
  const mine = (n: number) =>
    source.rpc.call('generatetoaddress', [n, miner.address], z.array(z.string()));
  await mine(1);
  return {
    source,
    mine,
    fundedTx: async () => {
      await mine(101);
      const [coin] = simnet
        .listUnspent(miner.script)
        .filter((utxo) => simnet.height + 1 - utxo.height >= 100);
      if (!coin) throw new Error('no mature coin after funding');
      return signedTx(
        [{ utxo: coin }],
        [{ script: payee.script, value: coin.value - 10_000n }],
        [minerKey.secret],
      ).extract();
    },
    close: async () => {
      await server.close();
      await db.close();
    },
  };
});

// The Esplora adapter end to end: real HTTP to simnet's Esplora-compatible server, under a
// path prefix as public instances serve it (/testnet/api, /signet/api). Esplora has no mining
// endpoint: blocks are mined on the simnet behind the server.
chainSourceContract('esplora over simnet REST', async () => {
  const db = await openTestDatabase();
  const simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  const server = await startSimnetEsploraServer({ simnet, port: 0, basePath: '/regtest/api' });
  const source = await EsploraChainSource.connect({
    network: 'regtest',
    client: { url: server.url, retries: 0 },
  });
  const minerKey = testKey('contract esplora miner');
  const miner = p2wpkhOf(minerKey);
  const payee = p2wpkhOf(testKey('contract esplora payee'));
  await simnet.mine(1, miner.script);
  return {
    source,
    mine: (n) => simnet.mine(n, miner.script),
    fundedTx: async () => {
      const [coin] = await fund(simnet, miner.script, 1);
      if (!coin) throw new Error('no mature coin after funding');
      return signedTx(
        [{ utxo: coin }],
        [{ script: payee.script, value: coin.value - 10_000n }],
        [minerKey.secret],
      ).extract();
    },
    close: async () => {
      await server.close();
      await db.close();
    },
  };
});

import * as bitcoinjs from 'bitcoinjs-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet, SimnetChainSource } from '../simnet';
import { fund, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { ChainWatcher } from './index';
import {
  connect,
  consumerState,
  createConsumerTables,
  disconnect,
  events,
  recordingConsumer,
} from '../../../test/support/watcher';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Reorganizations of depth 1 to 6 on simnet, made the two ways Bitcoin Core allows: a competing
 * branch with more work, and invalidateblock followed by new blocks. The old branch carries a
 * payment; the consumer's state must end equal to the final chain, checked against blocks
 * decoded by bitcoinjs-lib.
 */

const minerKey = testKey('watcher miner');
const miner = p2wpkhOf(minerKey);
const rival = p2wpkhOf(testKey('watcher rival miner'));
const payee = p2wpkhOf(testKey('watcher payee'));

describe('chain watcher over simnet reorganizations', () => {
  let db: Database;
  let simnet: Simnet;
  let source: SimnetChainSource;
  let payment: { raw: Uint8Array; txid: string };

  beforeEach(async () => {
    db = await openTestDatabase();
    await createConsumerTables(db);
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    source = new SimnetChainSource(simnet);
    const [coin] = await fund(simnet, miner.script, 1);
    if (!coin) throw new Error('no mature coin');
    const tx = signedTx(
      [{ utxo: coin }],
      [{ script: payee.script, value: coin.value - 5_000n }],
      [minerKey.secret],
    );
    payment = { raw: tx.extract(), txid: tx.id };
  });
  afterEach(async () => {
    await db.close();
  });

  /** Active chain hashes from `from` to the tip. */
  function activeFrom(from: number): string[] {
    const hashes: string[] = [];
    for (let h = from; h <= simnet.height; h++) hashes.push(simnet.blockHashAt(h) as string);
    return hashes;
  }

  /** The outputs of the active chain from `from`, decoded by bitcoinjs-lib. */
  async function activeOutputs(from: number): Promise<string[]> {
    const out: string[] = [];
    for (const hash of activeFrom(from)) {
      const block = bitcoinjs.Block.fromBuffer(Buffer.from(await source.getBlock(hash)));
      (block.transactions ?? []).forEach((tx, index) =>
        tx.outs.forEach((o, vout) =>
          out.push(`${hash} ${tx.getId()} ${vout} ${o.value} ${index === 0}`),
        ),
      );
    }
    return out.sort();
  }

  const cases = [1, 2, 3, 4, 5, 6].flatMap((depth) => [
    { depth, how: 'competing branch' as const },
    { depth, how: 'invalidateblock' as const },
  ]);

  it.each(cases)(
    'depth $depth by $how: disconnects newest first, then connects the new branch',
    async ({ depth, how }) => {
      const forkHeight = simnet.height;
      const watcher = new ChainWatcher({ source, database: db, startHeight: forkHeight });
      await watcher.registerConsumer(recordingConsumer());
      await source.broadcast(payment.raw);
      const old = await simnet.mine(depth, miner.script);
      await watcher.syncOnce();
      expect((await consumerState(db)).outputs.some((o) => o.includes(payment.txid))).toBe(true);

      const fork = simnet.blockHashAt(forkHeight) as string;
      const fresh =
        how === 'competing branch'
          ? await simnet.mineOn(fork, depth + 1, rival.script)
          : await simnet
              .invalidateBlock(old[0] as string)
              .then(() => simnet.mine(depth + 1, rival.script));
      expect(simnet.tip().hash).toBe(fresh.at(-1));

      expect(await watcher.syncOnce()).toMatchObject({ connected: depth + 1, disconnected: depth });
      const log = await events(db);
      expect(log.slice(0, depth + 1)).toEqual([
        connect(forkHeight, fork),
        ...old.map((hash, i) => connect(forkHeight + 1 + i, hash)),
      ]);
      expect(log.slice(depth + 1)).toEqual([
        ...old.map((hash, i) => disconnect(forkHeight + 1 + i, hash)).reverse(),
        ...fresh.map((hash, i) => connect(forkHeight + 1 + i, hash)),
      ]);
      const state = await consumerState(db);
      expect(state.blocks).toEqual(activeFrom(forkHeight));
      expect(state.outputs).toEqual(await activeOutputs(forkHeight));
      // The payment left with the old branch; after invalidateblock it was mined again from the mempool.
      expect(state.outputs.some((o) => o.includes(payment.txid))).toBe(how === 'invalidateblock');
    },
  );

  it('a restart in the middle of a reorganization neither misses nor repeats an event', async () => {
    const forkHeight = simnet.height;
    const first = new ChainWatcher({ source, database: db, startHeight: forkHeight });
    await first.registerConsumer(recordingConsumer());
    const old = await simnet.mine(3, miner.script);
    await first.syncOnce();
    const fresh = await simnet.mineOn(simnet.blockHashAt(forkHeight) as string, 4, rival.script);

    // The disconnects commit, then the process dies while connecting the second new block.
    const crashing = new ChainWatcher({ source, database: db, startHeight: forkHeight });
    await crashing.registerConsumer(recordingConsumer({ failOn: fresh[1] }));
    await expect(crashing.syncOnce()).rejects.toThrow(/simulated crash/);
    expect(await crashing.cursor()).toEqual({ height: forkHeight + 1, hash: fresh[0] });

    const resumed = new ChainWatcher({ source, database: db, startHeight: forkHeight });
    await resumed.registerConsumer(recordingConsumer());
    expect(await resumed.syncOnce()).toMatchObject({ connected: 3, disconnected: 0 });
    expect((await events(db)).slice(4)).toEqual([
      ...old.map((hash, i) => disconnect(forkHeight + 1 + i, hash)).reverse(),
      ...fresh.map((hash, i) => connect(forkHeight + 1 + i, hash)),
    ]);
    expect((await consumerState(db)).blocks).toEqual(activeFrom(forkHeight));
  });

  it('announces a mempool transaction once', async () => {
    const watcher = new ChainWatcher({ source, database: db });
    const seen: string[] = [];
    watcher.on('mempoolTx', (tx) => seen.push(`${tx.txid} ${tx.outputs[0]?.address ?? ''}`));
    await source.broadcast(payment.raw);
    expect(await watcher.syncMempool()).toEqual([payment.txid]);
    expect(await watcher.syncMempool()).toEqual([]);
    expect(seen).toEqual([`${payment.txid} ${payee.address ?? ''}`]);
  });
});

import * as bitcoinjs from 'bitcoinjs-lib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { AppError, isAppError } from '../../kernel';
import { splitBlockFile } from '../blockfile/block';
import { BlockFileChainSource } from '../blockfile/source';
import { BTCD_REORG, readBtcdReorgFile } from '../../../test/support/btcd-reorg';
import type { ChainSource } from '../source';
import type { ChainBlock } from '../block';
import { ChainWatcher, type ChainConsumer, type WatcherProgress } from './index';
import {
  connect,
  consumerState,
  createConsumerTables,
  disconnect,
  events,
  recordingConsumer,
  withOverrides,
} from '../../../test/support/watcher';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';

/**
 * The watcher over btcd's real reorganization blocks (see test/support/btcd-reorg.ts): main chain
 * 0–4, then a fork 3A–4A–5A from block 2 that becomes the most-work chain.
 */

const [M0, M1, M2, M3, M4] = BTCD_REORG.main;
const [F3, F4, F5] = BTCD_REORG.fork;

/** The outputs of the given blocks, decoded by bitcoinjs-lib (independent of our codec). */
function expectedOutputs(hashes: readonly string[]): string[] {
  const all = ['blk_0_to_4.dat', 'blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const;
  const byHash = new Map<string, bitcoinjs.Block>();
  for (const file of all) {
    for (const raw of splitBlockFile(readBtcdReorgFile(file), 0xf9beb4d9)) {
      const block = bitcoinjs.Block.fromBuffer(raw);
      byHash.set(block.getId(), block);
    }
  }
  return hashes
    .flatMap((hash) =>
      (byHash.get(hash)?.transactions ?? []).flatMap((tx, index) =>
        tx.outs.map((out, vout) => `${hash} ${tx.getId()} ${vout} ${out.value} ${index === 0}`),
      ),
    )
    .sort();
}

const FINAL_CHAIN = [M0, M1, M2, F3, F4, F5] as string[];

describe.each(TEST_DRIVERS)('chain watcher over the btcd reorg blocks (%s)', (driver) => {
  let db: Database;
  let source: BlockFileChainSource;

  beforeEach(async () => {
    db = await openTestDatabase(driver);
    await createConsumerTables(db);
    source = new BlockFileChainSource('mainnet');
  });
  afterEach(async () => {
    await db.close();
  });

  function watcher(
    extra: Partial<ConstructorParameters<typeof ChainWatcher>[0]> = {},
  ): ChainWatcher {
    return new ChainWatcher({ source, database: db, startHeight: 0, ...extra });
  }

  it('connects 0–4, disconnects 4 then 3, connects 3A, 4A, 5A; the consumer ends with the 5A chain', async () => {
    const progress: WatcherProgress[] = [];
    const emitted: string[] = [];
    const w = watcher({ onProgress: (p) => progress.push(p) });
    w.on('blockConnected', (b) => emitted.push(connect(b.height, b.hash)));
    w.on('blockDisconnected', (b) => emitted.push(disconnect(b.height, b.hash)));
    await w.registerConsumer(recordingConsumer());

    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    expect(await w.syncOnce()).toEqual({
      connected: 5,
      disconnected: 0,
      cursor: { height: 4, hash: M4 },
    });
    expect(progress.map((p) => [p.height, p.tipHeight])).toEqual([
      [0, 4],
      [1, 4],
      [2, 4],
      [3, 4],
      [4, 4],
    ]);

    source.addBlocks(readBtcdReorgFile('blk_3A.dat'));
    source.addBlocks(readBtcdReorgFile('blk_4A.dat'));
    expect(await w.syncOnce()).toMatchObject({ connected: 0, disconnected: 0 }); // equal work: no reorg

    source.addBlocks(readBtcdReorgFile('blk_5A.dat'));
    expect(await w.syncOnce()).toEqual({
      connected: 3,
      disconnected: 2,
      cursor: { height: 5, hash: F5 },
    });

    const expected = [
      connect(0, M0),
      connect(1, M1),
      connect(2, M2),
      connect(3, M3),
      connect(4, M4),
      disconnect(4, M4),
      disconnect(3, M3),
      connect(3, F3),
      connect(4, F4),
      connect(5, F5),
    ];
    expect(await events(db)).toEqual(expected);
    expect(emitted).toEqual(expected);
    const state = await consumerState(db);
    expect(state.blocks).toEqual(FINAL_CHAIN);
    expect(state.outputs).toEqual(expectedOutputs(FINAL_CHAIN));
  });

  it('delivers parsed blocks: heights, times, coinbase flags, prevouts and addresses', async () => {
    const seen: ChainBlock[] = [];
    const w = watcher();
    await w.registerConsumer({
      name: 'collector',
      blockConnected: (b) => Promise.resolve(void seen.push(b)),
    });
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    await w.syncOnce();
    const [genesis, , block2] = seen;
    expect(genesis).toMatchObject({
      hash: M0,
      height: 0,
      previousHash: null,
      time: 1231006505,
      complete: true,
    });
    expect(genesis?.transactions[0]).toMatchObject({
      txid: BTCD_REORG.genesisCoinbaseTxid,
      coinbase: true,
      inputs: [],
    });
    // The genesis output is pay-to-pubkey: no address form.
    expect(genesis?.transactions[0]?.outputs[0]).toMatchObject({
      valueSats: 5_000_000_000n,
      address: null,
    });
    // Block 2's second transaction spends block 1's coinbase into two P2PKH outputs.
    const spend = block2?.transactions[1];
    const block1Coinbase = seen[1]?.transactions[0]?.txid;
    expect(spend?.coinbase).toBe(false);
    // The block file source fills the input with block 1's coinbase output, as that block has it.
    const spentOutput = seen[1]?.transactions[0]?.outputs[0];
    expect(spentOutput).toBeDefined();
    expect(spend?.inputs).toEqual([
      {
        txid: block1Coinbase,
        vout: 0,
        prevout: {
          valueSats: spentOutput?.valueSats,
          script: spentOutput?.script,
          address: spentOutput?.address,
        },
      },
    ]);
    const theirs = bitcoinjs.Block.fromBuffer(Buffer.from(await source.getBlock(M2)))
      .transactions?.[1];
    expect(spend?.outputs.map((o) => o.address)).toEqual(
      theirs?.outs.map((o) =>
        bitcoinjs.address.fromOutputScript(o.script, bitcoinjs.networks.bitcoin),
      ),
    );
  });

  it('a crash before commit replays the block; after commit a new watcher never repeats it', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    const first = watcher();
    await first.registerConsumer(recordingConsumer());
    await first.syncOnce();

    source.addBlocks(readBtcdReorgFile('blk_3A.dat'));
    source.addBlocks(readBtcdReorgFile('blk_4A.dat'));
    source.addBlocks(readBtcdReorgFile('blk_5A.dat'));
    // Restart 1: a new instance crashes while connecting 4A (after writing part of it).
    const crashing = watcher();
    await crashing.registerConsumer(recordingConsumer({ failOn: F4 }));
    await expect(crashing.syncOnce()).rejects.toThrow(/simulated crash/);
    expect(await crashing.cursor()).toEqual({ height: 3, hash: F3 });

    // Restart 2: a new instance over the same database resumes after 3A and delivers 4A once.
    const resumed = watcher();
    await resumed.registerConsumer(recordingConsumer());
    expect(await resumed.syncOnce()).toMatchObject({ connected: 2, disconnected: 0 });
    expect(await events(db)).toEqual([
      connect(0, M0),
      connect(1, M1),
      connect(2, M2),
      connect(3, M3),
      connect(4, M4),
      disconnect(4, M4),
      disconnect(3, M3),
      connect(3, F3),
      connect(4, F4),
      connect(5, F5),
    ]);
    expect((await consumerState(db)).blocks).toEqual(FINAL_CHAIN);
    // Restart 3: nothing new, nothing repeated.
    const idle = watcher();
    await idle.registerConsumer(recordingConsumer());
    expect(await idle.syncOnce()).toMatchObject({ connected: 0, disconnected: 0 });
  });

  it('finds the fork point after a restart when the reorganization happened while it was down', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    const before = watcher();
    await before.registerConsumer(recordingConsumer());
    await before.syncOnce();
    for (const file of ['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const)
      source.addBlocks(readBtcdReorgFile(file));
    const after = watcher();
    await after.registerConsumer(recordingConsumer());
    await after.syncOnce();
    expect((await events(db)).slice(5)).toEqual([
      disconnect(4, M4),
      disconnect(3, M3),
      connect(3, F3),
      connect(4, F4),
      connect(5, F5),
    ]);
  });

  it('follows a tip that moves (and reorganizes) during catch-up', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    let forked = false;
    const moving: ChainSource = withOverrides(source, {
      getChainBlock: async (hash: string) => {
        const raw = await source.getChainBlock(hash);
        if (hash === M3 && !forked) {
          forked = true; // the fork arrives while the watcher holds block 3
          for (const file of ['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const)
            source.addBlocks(readBtcdReorgFile(file));
        }
        return raw;
      },
    });
    const w = new ChainWatcher({ source: moving, database: db, startHeight: 0 });
    await w.registerConsumer(recordingConsumer());
    expect(await w.syncOnce()).toEqual({
      connected: 7,
      disconnected: 1,
      cursor: { height: 5, hash: F5 },
    });
    expect(await events(db)).toEqual([
      connect(0, M0),
      connect(1, M1),
      connect(2, M2),
      connect(3, M3),
      disconnect(3, M3),
      connect(3, F3),
      connect(4, F4),
      connect(5, F5),
    ]);
    expect((await consumerState(db)).blocks).toEqual(FINAL_CHAIN);
  });

  it('refuses a reorganization deeper than its window, changing nothing, and rescans on request', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    const w = watcher({ window: 2 });
    await w.registerConsumer(recordingConsumer());
    await w.syncOnce();
    for (const file of ['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const)
      source.addBlocks(readBtcdReorgFile(file));
    const failure = await w.syncOnce().catch((e: unknown) => e);
    expect(isAppError(failure) && failure.code).toBe('CHAIN_REORG_TOO_DEEP');
    expect((failure as AppError).message).toMatch(/heights 3–4.*rescan from a height below 3/);
    expect(await w.cursor()).toEqual({ height: 4, hash: M4 });
    expect(await events(db)).toHaveLength(5);

    expect(await w.rescanFrom(3)).toMatchObject({ connected: 3, cursor: { height: 5, hash: F5 } });
    expect((await events(db)).slice(5)).toEqual([connect(3, F3), connect(4, F4), connect(5, F5)]);
  });

  it('a consumer registered later starts at the cursor; its start survives a restart', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    const w = watcher();
    await w.syncOnce();
    const late: number[] = [];
    const lateConsumer: ChainConsumer = {
      name: 'late',
      blockConnected: (b) => Promise.resolve(void late.push(b.height)),
      blockDisconnected: (b) => Promise.resolve(void late.push(-b.height)),
    };
    await w.registerConsumer(lateConsumer);
    for (const file of ['blk_3A.dat', 'blk_4A.dat', 'blk_5A.dat'] as const)
      source.addBlocks(readBtcdReorgFile(file));
    const restarted = watcher();
    await restarted.registerConsumer(lateConsumer);
    await restarted.syncOnce();
    // Started at height 4: it never saw blocks 0–4, so it gets no disconnects for 3 and 4 and,
    // of the new branch, only the block above its start.
    expect(late).toEqual([5]);
  });

  it('retries an unreachable source with backoff, logging, and keeps its state', async () => {
    source.addBlocks(readBtcdReorgFile('blk_0_to_4.dat'));
    let failuresLeft = 3;
    const flaky: ChainSource = withOverrides(source, {
      getTip: () =>
        failuresLeft-- > 0
          ? Promise.reject(
              new AppError('CHAIN_UNAVAILABLE', 'connect ECONNREFUSED 127.0.0.1:18443'),
            )
          : source.getTip(),
    });
    const warnings: Record<string, unknown>[] = [];
    const w = new ChainWatcher({
      source: flaky,
      database: db,
      startHeight: 0,
      pollIntervalMs: 1,
      maxBackoffMs: 4,
      logger: { info: () => {}, warn: (_m, f) => warnings.push(f ?? {}), error: () => {} },
    });
    const reachedTip = new Promise<void>((resolve) =>
      w.on('blockConnected', (b) => b.height === 4 && resolve()),
    );
    w.start();
    await reachedTip;
    await w.stop();
    expect(warnings.map((f) => f.retryInMs)).toEqual([2, 4, 4]);
    expect(warnings[0]?.error).toMatch(/ECONNREFUSED/);
    expect(await w.cursor()).toEqual({ height: 4, hash: M4 });
  });
});

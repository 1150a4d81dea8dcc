import { sql } from 'drizzle-orm';
import { z } from 'zod';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../../db';
import { isAppError, ManualClock } from '../../kernel';
import { BitcoindChainSource } from '../bitcoind';
import { Simnet, startSimnetRpcServer, type SimnetRpcServer } from '../simnet';
import { p2wpkhOf, testKey } from '../../../test/support/simnet';
import { ChainWatcher } from './index';
import {
  connect,
  createConsumerTables,
  disconnect,
  events,
  recordingConsumer,
} from '../../../test/support/watcher';
import { openTestDatabase } from '../../../test/support/db';

/**
 * The production path end to end: watcher → Bitcoin Core adapter → HTTP JSON-RPC → simnet's
 * Core-compatible server. The reorganization is made over RPC too (invalidateblock, then
 * generatetoaddress), as an operator would on a regtest bitcoind.
 */

const miner = p2wpkhOf(testKey('watcher rpc miner')).address;
const rival = p2wpkhOf(testKey('watcher rpc rival')).address;
const hashes = z.array(z.string());

describe('chain watcher over the bitcoind adapter (simnet JSON-RPC)', () => {
  let db: Database;
  let simnet: Simnet;
  let server: SimnetRpcServer;

  beforeEach(async () => {
    db = await openTestDatabase();
    await createConsumerTables(db);
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    server = await startSimnetRpcServer({ simnet, port: 0, username: 'rpc', password: 'pw' });
  });
  afterEach(async () => {
    await server.close();
    await db.close();
  });

  const sourceFor = (url: string) =>
    BitcoindChainSource.connect({
      network: 'regtest',
      rpc: { url, username: 'rpc', password: 'pw', retries: 0 },
    });

  it('follows a depth-3 reorganization made with invalidateblock over RPC', async () => {
    const source = await sourceFor(server.url);
    const start = await source.rpc.call('generatetoaddress', [5, miner], hashes);
    const watcher = new ChainWatcher({ source, database: db, startHeight: 1 });
    await watcher.registerConsumer(recordingConsumer());
    expect(await watcher.syncOnce()).toMatchObject({ connected: 5, cursor: { height: 5 } });

    await source.rpc.call('invalidateblock', [start[2]], z.null());
    const fresh = await source.rpc.call('generatetoaddress', [4, rival], hashes);
    expect(await watcher.syncOnce()).toMatchObject({ connected: 4, disconnected: 3 });
    expect((await events(db)).slice(5)).toEqual([
      disconnect(5, start[4]),
      disconnect(4, start[3]),
      disconnect(3, start[2]),
      ...fresh.map((hash, i) => connect(3 + i, hash)),
    ]);
  });

  it('keeps its state while the node is unreachable and resumes without repeating', async () => {
    const source = await sourceFor(server.url);
    await source.rpc.call('generatetoaddress', [3, miner], hashes);
    const watcher = new ChainWatcher({ source, database: db, startHeight: 0, window: 3 });
    await watcher.registerConsumer(recordingConsumer());
    await watcher.syncOnce();
    const before = await watcher.cursor();

    await server.close();
    const failure = await watcher.syncOnce().catch((e: unknown) => e);
    expect(isAppError(failure) && failure.code).toBe('CHAIN_UNAVAILABLE');
    expect(await watcher.cursor()).toEqual(before);

    await simnet.mine(2, miner);
    server = await startSimnetRpcServer({ simnet, port: 0, username: 'rpc', password: 'pw' });
    const restarted = new ChainWatcher({
      source: await sourceFor(server.url),
      database: db,
      window: 3,
    });
    await restarted.registerConsumer(recordingConsumer());
    expect(await restarted.syncOnce()).toMatchObject({ connected: 2, cursor: { height: 5 } });
    expect(await events(db)).toHaveLength(6);
    // The cursor keeps only its window of blocks.
    const kept = rowsOf(
      await db.orm.execute(sql`select height from chain_watcher_blocks order by height`),
    );
    expect(kept.map((row) => Number(row.height))).toEqual([3, 4, 5]);
  });
});

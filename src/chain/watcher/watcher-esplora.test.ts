import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { isAppError, ManualClock } from '../../kernel';
import { EsploraChainSource } from '../esplora';
import { Simnet } from '../simnet';
import { startSimnetEsploraServer, type SimnetEsploraServer } from '../simnet/esplora';
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
 * The watcher over the Esplora adapter: real HTTP to simnet's Esplora server. Esplora has no
 * mining or invalidation endpoint, so the chain is changed on the simnet behind the server, as
 * the node behind an electrs instance would change.
 */

const miner = p2wpkhOf(testKey('watcher esplora miner')).script;
const rival = p2wpkhOf(testKey('watcher esplora rival')).script;

describe('chain watcher over the esplora adapter (simnet REST)', () => {
  let db: Database;
  let simnet: Simnet;
  let server: SimnetEsploraServer;

  beforeEach(async () => {
    db = await openTestDatabase();
    await createConsumerTables(db);
    simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
    server = await startSimnetEsploraServer({ simnet, port: 0, basePath: '/regtest/api' });
  });
  afterEach(async () => {
    await server.close();
    await db.close();
  });

  const sourceFor = (url: string) =>
    EsploraChainSource.connect({ network: 'regtest', client: { url, retries: 0 } });

  it('follows a depth-3 reorganization: disconnects newest first, then connects the new branch', async () => {
    const source = await sourceFor(server.url);
    const start = await simnet.mine(5, miner);
    const watcher = new ChainWatcher({ source, database: db, startHeight: 1 });
    await watcher.registerConsumer(recordingConsumer());
    // Like electrs, the server no longer serves blocks that left the best chain: their
    // disconnects come from the cursor, without transactions.
    const disconnected: { hash: string; complete: boolean }[] = [];
    await watcher.registerConsumer({
      name: 'test-completeness',
      blockConnected: () => Promise.resolve(),
      blockDisconnected: (block) => {
        disconnected.push({ hash: block.hash, complete: block.complete });
        return Promise.resolve();
      },
    });
    expect(await watcher.syncOnce()).toMatchObject({ connected: 5, cursor: { height: 5 } });

    await simnet.invalidateBlock(start[2] ?? '');
    const fresh = await simnet.mine(4, rival);
    expect(await watcher.syncOnce()).toMatchObject({
      connected: 4,
      disconnected: 3,
      cursor: { height: 6, hash: fresh[3] },
    });
    expect((await events(db)).slice(5)).toEqual([
      disconnect(5, start[4]),
      disconnect(4, start[3]),
      disconnect(3, start[2]),
      ...fresh.map((hash, i) => connect(3 + i, hash)),
    ]);
    expect(disconnected).toEqual(
      [start[4], start[3], start[2]].map((hash) => ({ hash, complete: false })),
    );
    // Nothing more to do once caught up.
    expect(await watcher.syncOnce()).toMatchObject({ connected: 0, disconnected: 0 });
  });

  it('keeps its state while the server is unreachable and resumes without repeating', async () => {
    const source = await sourceFor(server.url);
    await simnet.mine(3, miner);
    const watcher = new ChainWatcher({ source, database: db, startHeight: 0 });
    await watcher.registerConsumer(recordingConsumer());
    await watcher.syncOnce();
    const before = await watcher.cursor();

    await server.close();
    const failure = await watcher.syncOnce().catch((e: unknown) => e);
    expect(isAppError(failure) && failure.code).toBe('CHAIN_UNAVAILABLE');
    expect(await watcher.cursor()).toEqual(before);

    await simnet.mine(2, miner);
    server = await startSimnetEsploraServer({ simnet, port: 0, basePath: '/regtest/api' });
    const restarted = new ChainWatcher({ source: await sourceFor(server.url), database: db });
    await restarted.registerConsumer(recordingConsumer());
    expect(await restarted.syncOnce()).toMatchObject({ connected: 2, cursor: { height: 5 } });
    expect(await events(db)).toHaveLength(6);
  });
});

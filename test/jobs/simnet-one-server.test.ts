import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, startRuntime, type Platform } from '../../src/app';
import { loadConfig } from '../../src/kernel';
import { scratchPostgresDatabase } from '../support/db';

/**
 * Simnet mines and keeps its mempool in the process that runs it, so one server per PostgreSQL
 * database runs it: a second server's start is refused with a clear message, and once the first
 * stops (or dies: the lock is its connection's), another may start.
 */
describe.runIf(process.env.TEST_DATABASE_URL)('simnet on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof scratchPostgresDatabase>>;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-simnet-'));
  const platforms: Platform[] = [];

  beforeAll(async () => {
    database = await scratchPostgresDatabase();
  });
  afterAll(async () => {
    for (const platform of platforms) await platform.close();
    await database?.drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const open = async () => {
    const config = loadConfig({
      DATABASE_URL: database.url,
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      SIMNET_BLOCK_INTERVAL_SECONDS: '0',
    });
    const platform = await openPlatform(config, { chain: true });
    platforms.push(platform);
    return platform;
  };

  it('lets one server run it and refuses a second until the first stops', async () => {
    const first = await startRuntime(await open(), { jobs: 'in-process' });
    const second = await open();
    await expect(startRuntime(second, { jobs: 'in-process' })).rejects.toMatchObject({
      code: 'CONFLICT',
      message: expect.stringContaining('simnet is for one server') as unknown,
    });
    await first.stop();
    const next = await startRuntime(second, { jobs: 'in-process' });
    await next.stop();
  }, 120_000);
});

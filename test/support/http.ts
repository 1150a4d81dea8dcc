import type { FastifyInstance } from 'fastify';
import { openTestDatabase, type Database } from '../../src/db';
import { buildApp } from '../../src/http';
import {
  loadConfig,
  ManualClock,
  SeededRandom,
  systemCaller,
  type Config,
  type Role,
} from '../../src/kernel';
import { composeServices, type Services } from '../../src/services';

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  clock: ManualClock;
  config: Config;
  services: Services;
  logs: string[];
  /** Creates a key directly through the service and returns its bearer header. */
  keyFor(
    role: Role,
    participantId: string,
    platformId?: string | null,
  ): Promise<{ authorization: string; id: string }>;
  close(): Promise<void>;
}

/** The whole HTTP app over a fresh test database, a manual clock and seeded randomness. */
export async function startTestApp(
  options: {
    driver?: 'pglite' | 'postgres';
    rateLimitPerMinute?: number;
    env?: Record<string, string>;
  } = {},
): Promise<TestApp> {
  const db = await openTestDatabase(options.driver ?? 'pglite');
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const config = loadConfig({
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute ?? 100_000),
    SCHEME_NAME: 'Test scheme',
    ...options.env,
  });
  const services = composeServices({ db, clock, config, random: new SeededRandom(7) });
  const logs: string[] = [];
  const app = await buildApp({
    db,
    clock,
    config,
    services,
    logStream: { write: (line) => void logs.push(line) },
  });
  return {
    app,
    db,
    clock,
    config,
    services,
    logs,
    keyFor: async (role, participantId, platformId = null) => {
      const created = await services.keys.create(systemCaller('test'), {
        role,
        participantId,
        platformId,
        name: 'test',
      });
      return { authorization: `Bearer ${created.token}`, id: created.id };
    },
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

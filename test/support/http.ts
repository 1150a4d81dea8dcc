import type { FastifyInstance } from 'fastify';
import type { Database } from '../../src/db';
import { buildApp } from '../../src/http';
import type { MarketRateSource } from '../../src/ledger';
import {
  loadConfig,
  ManualClock,
  SeededRandom,
  systemCaller,
  type Config,
  type Role,
} from '../../src/kernel';
import { composeServices, type Services } from '../../src/services';
import { openTestDatabase } from './db';

// A type alias, not an interface, so that a key passes as `headers` to app.inject.
export type TestKey = {
  authorization: string;
  id: string;
  /** The person (user id) the key belongs to. */
  personId: string;
};

export interface TestApp {
  app: FastifyInstance;
  db: Database;
  clock: ManualClock;
  config: Config;
  services: Services;
  logs: string[];
  /**
   * Issues a key directly through the service (no registry check, so tests may bind keys to ids
   * the registry lacks) and returns its bearer header. Each key belongs to a new person unless
   * `options.samePersonAs` names an earlier key's person (two keys of one officer).
   */
  keyFor(
    role: Role,
    participantId: string,
    platformId?: string | null,
    options?: { samePersonAs?: { personId: string } },
  ): Promise<TestKey>;
  close(): Promise<void>;
}

/** The whole HTTP app over a fresh test database, a manual clock and seeded randomness. */
export async function startTestApp(
  options: {
    driver?: 'pglite' | 'postgres';
    rateLimitPerMinute?: number;
    env?: Record<string, string>;
    /** Market sources the rate fixing may ask beside the manual desk (recorded ones). */
    marketSources?: (clock: ManualClock) => readonly MarketRateSource[];
    /** The local operator channel's token (the CLI's), accepted from loopback. */
    operatorToken?: string;
    /**
     * Another app's database: this app is a second server on it (its own services, jobs and
     * live feed); closing this app leaves the database open for its owner to close.
     */
    db?: Database;
  } = {},
): Promise<TestApp> {
  const db = options.db ?? (await openTestDatabase(options.driver ?? 'pglite'));
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const config = loadConfig({
    LOG_LEVEL: 'info',
    RATE_LIMIT_PER_MINUTE: String(options.rateLimitPerMinute ?? 100_000),
    SCHEME_NAME: 'Test scheme',
    ...options.env,
  });
  const services = composeServices({
    db,
    clock,
    config,
    random: new SeededRandom(7),
    ...(options.marketSources ? { rates: { marketSources: options.marketSources(clock) } } : {}),
  });
  const logs: string[] = [];
  let people = 0;
  const app = await buildApp({
    db,
    clock,
    config,
    services,
    logStream: { write: (line) => void logs.push(line) },
    ...(options.operatorToken ? { operatorToken: options.operatorToken } : {}),
  });
  return {
    app,
    db,
    clock,
    config,
    services,
    logs,
    keyFor: async (role, participantId, platformId = null, options = {}) => {
      people++;
      const created = await services.keys.issue(
        systemCaller('test'),
        {
          role,
          participantId,
          platformId: role === 'platform' ? participantId : platformId,
          name: 'test',
        },
        options.samePersonAs
          ? { personId: options.samePersonAs.personId }
          : { newPerson: { displayName: `Test ${role} person ${people}` } },
      );
      return {
        authorization: `Bearer ${created.token}`,
        id: created.id,
        personId: created.personId,
      };
    },
    close: async () => {
      await app.close();
      if (!options.db) await db.close();
    },
  };
}

import { mkdirSync } from 'node:fs';
import { PGlite, types } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import pg from 'pg';
import { AppError, packagePath } from '../kernel';
import { acquireDataDirLock } from './lock';
import { currentOf, detached, inUnit, runUnit, unitOf } from './unit-of-work';

/**
 * The query builder every store uses. Both drivers (PGlite and node-postgres) give a
 * PgDatabase; a transaction handle is one too, so stores take an `Orm` and work inside or
 * outside a transaction alike.
 */
export type Orm = PgDatabase<PgQueryResultHKT>;

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  readonly orm: Orm;
  /** Runs `fn` in one transaction: everything it writes commits together or not at all. */
  transaction<T>(fn: (tx: Orm) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` in the open unit of work as a savepoint (see unit-of-work.ts), or in a new
   * transaction outside one: for a service callable on its own and inside another's change.
   */
  unit<T>(fn: (tx: Orm) => Promise<T>): Promise<T>;
  /** The transaction of the unit of work this call runs in, else the pool (autocommit). */
  current(): Orm;
  /**
   * The open unit's transaction, for work that must run inside one (it locks rows until the
   * transaction ends, or its writes must commit with the caller's); outside a unit it throws,
   * naming `what`, instead of running on the pool where its locks would end with its statement.
   */
  currentUnit(what: string): Orm;
  /** True inside an open transaction of this database. */
  inTransaction(): boolean;
  /** Runs `fn` outside the caller's unit of work (its own transactions, not the caller's). */
  detached<T>(fn: () => T): T;
  /**
   * Applies the committed SQL migrations in ./drizzle (idempotent), or those of another set
   * (simnet's, applied by its store where simnet runs), recorded in that set's own table.
   */
  migrate(set?: MigrationSet): Promise<void>;
  /** True when the database answers and every committed migration is applied. */
  ready(): Promise<{ reachable: boolean; migrationsApplied: boolean }>;
  close(): Promise<void>;
  /**
   * Makes this process the only holder of `key` among the processes on the database, for as long
   * as it keeps the returned release (or lives): a session advisory lock on PostgreSQL, on a
   * connection of its own, released when the process dies. Null when another process holds it.
   * The embedded database has one process already (the data-directory lock): always granted.
   */
  holdExclusive(key: number): Promise<(() => Promise<void>) | null>;
  /** PGlite only: a dump of the data directory (used for fast test databases). */
  dump?: () => Promise<Blob | File>;
}

export const MIGRATIONS_FOLDER = packagePath('drizzle');

/**
 * A set of drizzle migrations with its own record of what ran: a folder (its SQL files and
 * meta/_journal.json) and a table in the `drizzle` schema. The platform's set is ./drizzle,
 * recorded in `__drizzle_migrations`; a module whose tables exist only where it runs keeps a
 * set of its own (simnet's: `SIMNET_MIGRATIONS` in the chain module).
 */
export interface MigrationSet {
  readonly folder: string;
  readonly table: string;
}

const PLATFORM_MIGRATIONS: MigrationSet = {
  folder: MIGRATIONS_FOLDER,
  table: '__drizzle_migrations',
};

/** drizzle's migrator configuration for a set. */
function migratorConfig(set: MigrationSet) {
  return { migrationsFolder: set.folder, migrationsTable: set.table, migrationsSchema: 'drizzle' };
}
/** Serializes migrations when several servers start at once against one PostgreSQL. */
const MIGRATION_LOCK_KEY = 7_233_001;

export interface DatabaseOptions {
  /** A postgres:// URL; when absent, embedded PGlite is used. */
  url?: string | undefined;
  /** PGlite data directory; `memory://` for a throwaway in-memory database. */
  dataDir?: string | undefined;
  /** node-postgres pool size. */
  poolSize?: number;
  /** Start PGlite from this data directory dump (tests: a migrated template). */
  loadDataDir?: Blob | File | undefined;
  /** Called with every query the query builder sends (tests count and explain them). */
  onQuery?: ((query: string, params: unknown[]) => void) | undefined;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  const logger = options.onQuery ? { logQuery: options.onQuery } : undefined;
  return options.url
    ? openPostgres(options.url, options.poolSize ?? 10, logger)
    : openPglite(options.dataDir, options.loadDataDir, logger);
}

const PGLITE_START_PARAMS: readonly string[] =
  (PGlite as unknown as { defaultStartParams?: string[] }).defaultStartParams ?? [];

type QueryLogger = { logQuery: (query: string, params: unknown[]) => void } | undefined;

async function openPglite(
  dataDir = 'memory://',
  loadDataDir?: Blob | File,
  logger?: QueryLogger,
): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  // One process per data directory (see lock.ts); refused here, before PGlite reads a byte.
  const lock = inMemory ? null : acquireDataDirLock(dataDir);
  try {
    if (!inMemory) mkdirSync(dataDir, { recursive: true });
    return await startPglite(dataDir, loadDataDir, () => lock?.release(), logger);
  } catch (error) {
    lock?.release();
    throw error;
  }
}

async function startPglite(
  dataDir: string,
  loadDataDir: Blob | File | undefined,
  unlock: () => void,
  logger: QueryLogger,
): Promise<Database> {
  const client = new PGlite(dataDir, {
    // int8 stays a string, as with node-postgres, so bigint columns round-trip exactly.
    parsers: { [types.INT8]: (value: string) => value },
    ...(loadDataDir ? { loadDataDir } : {}),
    // PostgreSQL's default 128 MB of shared buffers is touched eagerly inside the WASM heap;
    // 32 MB serves an embedded scheme well and keeps the idle server far under 400 MB.
    startParams: [...PGLITE_START_PARAMS, '-c', 'shared_buffers=32MB', '-c', 'work_mem=8MB'],
  });
  try {
    await client.waitReady;
  } catch (cause) {
    throw new AppError('NOT_READY', `cannot open the embedded database in "${dataDir}"`, { cause });
  }
  const orm = drizzlePglite(client, logger ? { logger } : {}) as unknown as Orm;
  return {
    kind: 'pglite',
    orm,
    ...unitOfWork(orm),
    migrate: async (set = PLATFORM_MIGRATIONS) => {
      await migratePglite(drizzlePglite(client), migratorConfig(set));
    },
    ready: () => readiness(orm),
    holdExclusive: () => Promise.resolve(() => Promise.resolve()),
    close: async () => {
      try {
        await client.close();
      } finally {
        unlock();
      }
    },
    dump: () => client.dumpDataDir('none'),
  };
}

async function openPostgres(
  url: string,
  poolSize: number,
  logger?: QueryLogger,
): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize });
  // A pool error on an idle client must not crash the process; the next query reports it.
  pool.on('error', () => undefined);
  const orm = drizzlePg(pool, logger ? { logger } : {}) as unknown as Orm;
  try {
    await pool.query('select 1');
  } catch (cause) {
    await pool.end();
    throw new AppError(
      'NOT_READY',
      `cannot connect to PostgreSQL at DATABASE_URL: ${describe(cause)}`,
      {
        cause,
      },
    );
  }
  return {
    kind: 'postgres',
    orm,
    ...unitOfWork(orm),
    migrate: async (set = PLATFORM_MIGRATIONS) => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
        await migratePg(drizzlePg(client), migratorConfig(set));
      } finally {
        await client
          .query('select pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY])
          .catch(() => undefined);
        client.release();
      }
    },
    ready: () => readiness(orm),
    holdExclusive: async (key) => {
      const client = await pool.connect();
      try {
        const { rows } = await client.query<{ held: boolean }>(
          'select pg_try_advisory_lock($1) as held',
          [key],
        );
        if (rows[0]?.held !== true) {
          client.release();
          return null;
        }
      } catch (error) {
        client.release();
        throw error;
      }
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await client.query('select pg_advisory_unlock($1)', [key]).catch(() => undefined);
        // Discarded, not pooled: had the unlock failed, the lock would ride along in the pool.
        client.release(true);
      };
    },
    close: () => pool.end(),
  };
}

/** The transaction members of a `Database` whose query builder is `orm`. */
function unitOfWork(
  orm: Orm,
): Pick<
  Database,
  'transaction' | 'unit' | 'current' | 'currentUnit' | 'inTransaction' | 'detached'
> {
  const owner = {};
  const begin = <R>(work: (tx: Orm) => Promise<R>) =>
    orm.transaction((tx) => work(tx as unknown as Orm));
  return {
    transaction: (fn) => runUnit(owner, begin, fn, false),
    unit: (fn) => runUnit(owner, begin, fn, true),
    current: () => currentOf(owner, orm),
    currentUnit: (what) => unitOf(owner, what),
    inTransaction: () => inUnit(owner),
    detached,
  };
}

async function readiness(orm: Orm): Promise<{ reachable: boolean; migrationsApplied: boolean }> {
  try {
    await orm.execute(sql`select 1`);
  } catch {
    return { reachable: false, migrationsApplied: false };
  }
  try {
    const { readMigrationFiles } = await import('drizzle-orm/migrator');
    // What drizzle's migrator goes by: a migration ran when its journal time is recorded (the
    // hash of its SQL is not compared, so a migration whose SQL was rewritten since, as 0004
    // was when simnet's tables left this set, still counts as applied).
    const expected = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
    const result = await orm.execute(sql`select created_at from drizzle.__drizzle_migrations`);
    const applied = new Set(rowsOf(result).map((row) => Number(row.created_at)));
    return {
      reachable: true,
      migrationsApplied: expected.every((m) => applied.has(m.folderMillis)),
    };
  } catch {
    return { reachable: true, migrationsApplied: false };
  }
}

/** The rows of a raw `orm.execute` result, whichever driver ran it. */
export function rowsOf(result: unknown): Record<string, unknown>[] {
  if (Array.isArray(result)) return result as Record<string, unknown>[];
  if (result && typeof result === 'object' && 'rows' in result && Array.isArray(result.rows)) {
    return result.rows as Record<string, unknown>[];
  }
  return [];
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

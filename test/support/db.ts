import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseOptions } from '../../src/db';

/**
 * Fresh, migrated databases for tests. Every call gives an empty database: an in-memory PGlite,
 * or — when TEST_DATABASE_URL points at a PostgreSQL server — a new database created on that
 * server and dropped on close.
 */
export const TEST_DRIVERS: readonly ('pglite' | 'postgres')[] = process.env.TEST_DATABASE_URL
  ? ['pglite', 'postgres']
  : ['pglite'];

let pgliteTemplate: Promise<Blob | File> | undefined;

/** initdb and the migrations run once per test process; each test starts from a copy. */
async function migratedTemplate(): Promise<Blob | File> {
  pgliteTemplate ??= (async () => {
    const db = await openDatabase({ dataDir: 'memory://' });
    await db.migrate();
    if (!db.dump) throw new Error('PGlite dump is unavailable');
    const dump = await db.dump();
    await db.close();
    return dump;
  })();
  return pgliteTemplate;
}

export async function openTestDatabase(
  driver: 'pglite' | 'postgres' = 'pglite',
  options: Pick<DatabaseOptions, 'onQuery' | 'poolSize'> = {},
): Promise<Database> {
  if (driver === 'pglite') {
    const db = await openDatabase({
      dataDir: 'memory://',
      loadDataDir: await migratedTemplate(),
      ...options,
    });
    // The template was dumped after migrating; newer migrations (none in a test run) would apply here.
    await db.migrate();
    return db;
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `tradeclear_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString(), poolSize: 5, ...options });
  await db.migrate();
  return {
    ...db,
    close: async () => {
      await db.close();
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

/**
 * An empty PostgreSQL database (no migrations) on the TEST_DATABASE_URL server, for tests that
 * start processes of their own against it; `drop` removes it with whatever still connects.
 */
export async function scratchPostgresDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const name = `tradeclear_scratch_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const cleanup = new pg.Client({ connectionString: serverUrl });
      await cleanup.connect();
      await cleanup.query(`drop database if exists ${name} with (force)`);
      await cleanup.end();
    },
  };
}

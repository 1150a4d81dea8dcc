import { createHash, randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import path from 'node:path';
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

/**
 * What a migrated template depends on: the committed migrations (and the PGlite version, whose
 * data directory format a dump is). Two runs with the same migrations share one template.
 */
function templateKey(): string {
  const hash = createHash('sha256');
  const dir = path.join(ROOT, 'drizzle');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const full = path.join(d, name);
      if (statSync(full).isDirectory()) walk(full);
      else hash.update(name).update(readFileSync(full));
    }
  };
  walk(dir);
  const pglite = JSON.parse(
    readFileSync(path.join(ROOT, 'node_modules/@electric-sql/pglite/package.json'), 'utf8'),
  ) as { version: string };
  hash.update(pglite.version);
  return hash.digest('hex').slice(0, 16);
}

const ROOT = path.resolve(import.meta.dirname, '../..');
let key: string | undefined;
const keyOnce = (): string => (key ??= templateKey());

let pgliteTemplate: Promise<Blob> | undefined;

/**
 * initdb and the migrations run once per set of migrations, not once per test file: the migrated
 * data directory is dumped to a file under node_modules/.cache (written whole, then renamed into
 * place, so a reader never sees half of one), and every test database starts from a copy.
 * Vitest's global setup makes it before any worker starts.
 */
export async function migratedPgliteTemplate(): Promise<Blob> {
  pgliteTemplate ??= (async () => {
    const file = path.join(ROOT, 'node_modules/.cache/tradeclear-test', `pglite-${keyOnce()}.tar`);
    if (existsSync(file)) return new Blob([readFileSync(file)]);
    const db = await openDatabase({ dataDir: 'memory://' });
    await db.migrate();
    if (!db.dump) throw new Error('PGlite dump is unavailable');
    const dump = await db.dump();
    await db.close();
    mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, file);
    return new Blob([await dump.arrayBuffer()]);
  })();
  return pgliteTemplate;
}

/**
 * The migrated template database on the TEST_DATABASE_URL server, made once per set of
 * migrations: migrated under a scratch name, then renamed, so a database of the final name is
 * always complete. New test databases are copies (`create database … template …`), which is
 * several times faster than migrating each. A session advisory lock keeps two processes from
 * making it at once.
 */
export async function migratedPostgresTemplate(serverUrl: string): Promise<string> {
  const name = `tradeclear_template_${keyOnce()}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const exists = async () =>
      (await admin.query('select 1 from pg_database where datname = $1', [name])).rowCount === 1;
    if (await exists()) return name;
    await admin.query("select pg_advisory_lock(hashtext('tradeclear test template'))");
    try {
      if (await exists()) return name;
      const scratch = `${name}_${randomBytes(4).toString('hex')}`;
      await admin.query(`create database ${scratch}`);
      const url = new URL(serverUrl);
      url.pathname = `/${scratch}`;
      const db = await openDatabase({ url: url.toString(), poolSize: 1 });
      await db.migrate();
      await db.close();
      await admin.query(`alter database ${scratch} rename to ${name}`);
      return name;
    } finally {
      await admin.query("select pg_advisory_unlock(hashtext('tradeclear test template'))");
    }
  } finally {
    await admin.end();
  }
}

/**
 * `create database … template …`, retried while a session that just closed on the template is
 * still leaving it (PostgreSQL refuses the copy then, with 55006).
 */
async function copyDatabase(admin: pg.Client, template: string, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await admin.query(`create database ${name} template ${template}`);
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '55006' || attempt === 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

export async function openTestDatabase(
  driver: 'pglite' | 'postgres' = 'pglite',
  options: Pick<DatabaseOptions, 'onQuery' | 'poolSize'> = {},
): Promise<Database> {
  if (driver === 'pglite') {
    const db = await openDatabase({
      dataDir: 'memory://',
      loadDataDir: await migratedPgliteTemplate(),
      ...options,
    });
    // The template was dumped after migrating; newer migrations (none in a test run) would apply here.
    await db.migrate();
    return db;
  }
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) throw new Error('TEST_DATABASE_URL is not set');
  const template = await migratedPostgresTemplate(serverUrl);
  const name = `tradeclear_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await copyDatabase(admin, template, name);
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

/**
 * Databases migrated up to, not including, one migration: a test fills them the way the code of
 * that time did, then migrates to the end and checks what the migration made of the rows.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import pg from 'pg';
import { MIGRATIONS_FOLDER, openDatabase, type Database } from '../../src/db';

/** The committed migrations before `tag`, as a folder drizzle's migrator reads. */
function migrationsBefore(tag: string): { folder: string; remove(): void } {
  const folder = mkdtempSync(path.join(tmpdir(), 'migrations-'));
  cpSync(MIGRATIONS_FOLDER, folder, { recursive: true });
  const journalFile = path.join(folder, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalFile, 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  if (at < 0) throw new Error(`no migration ${tag} in the journal`);
  writeFileSync(journalFile, JSON.stringify({ ...journal, entries: journal.entries.slice(0, at) }));
  return { folder, remove: () => rmSync(folder, { recursive: true, force: true }) };
}

/** A fresh database migrated up to, not including, `tag`. */
export async function openBefore(
  driver: 'pglite' | 'postgres',
  tag: string,
): Promise<{ db: Database; close: () => Promise<void> }> {
  const before = migrationsBefore(tag);
  try {
    if (driver === 'pglite') {
      const db = await openDatabase({ dataDir: 'memory://' });
      await migratePglite(db.orm as unknown as PgliteDatabase, { migrationsFolder: before.folder });
      return { db, close: () => db.close() };
    }
    const serverUrl = process.env.TEST_DATABASE_URL ?? '';
    const name = `tradeclear_test_${Date.now().toString(36)}${Math.floor(Math.random() * 1e6)}`;
    const admin = new pg.Client({ connectionString: serverUrl });
    await admin.connect();
    await admin.query(`create database ${name}`);
    await admin.end();
    const url = new URL(serverUrl);
    url.pathname = `/${name}`;
    const db = await openDatabase({ url: url.toString(), poolSize: 2 });
    await migratePg(db.orm as unknown as NodePgDatabase, { migrationsFolder: before.folder });
    return {
      db,
      close: async () => {
        await db.close();
        const cleanup = new pg.Client({ connectionString: serverUrl });
        await cleanup.connect();
        await cleanup.query(`drop database if exists ${name} with (force)`);
        await cleanup.end();
      },
    };
  } finally {
    before.remove();
  }
}

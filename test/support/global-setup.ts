import { migratedPgliteTemplate, migratedPostgresTemplate } from './db';

/**
 * Runs once before any test file: the migrated database templates every test database copies
 * (PGlite's as a dump file, PostgreSQL's as a template database), made here once instead of by
 * the first file of every worker.
 */
export default async function setup(): Promise<void> {
  await migratedPgliteTemplate();
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (serverUrl) await migratedPostgresTemplate(serverUrl);
}

import { defineConfig } from 'drizzle-kit';

// Simnet's storage (its blocks and mempool) is a migration set of its own, applied by simnet's
// store when it opens (`SIMNET_MIGRATIONS`, src/chain/simnet/store.ts), never by `tradeclear
// migrate`: a database that never runs simnet never gets its tables. Its tables are declared in
// src/chain/simnet/tables.ts, outside the production config's `schema.ts` globs.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/chain/simnet/tables.ts'],
  out: './drizzle-simnet',
  migrations: { schema: 'drizzle', table: '__simnet_migrations' },
});

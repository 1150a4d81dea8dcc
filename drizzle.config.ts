import { defineConfig } from 'drizzle-kit';

// Every module keeps its tables in src/<module>/schema.ts (or a sub-folder's schema.ts), and the
// views it publishes for other modules' SQL (its read models) in src/<module>/read-models.ts.
export default defineConfig({
  dialect: 'postgresql',
  schema: ['./src/*/schema.ts', './src/*/*/schema.ts', './src/*/read-models.ts'],
  out: './drizzle',
});

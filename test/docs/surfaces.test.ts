import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { is, Table } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';

/**
 * A module's tables stay inside it (docs/architecture.md, "Module surfaces"). ESLint's
 * entry-point rule keeps every import of another module on its index.ts; this keeps the index
 * itself from handing a table out, so no other module can read or write one directly.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');
const modules = readdirSync(SRC).filter(
  (name) =>
    statSync(path.join(SRC, name)).isDirectory() &&
    readdirSync(path.join(SRC, name)).includes('index.ts'),
);

describe('module surfaces', () => {
  it('finds the modules (a scan that found none would pass vacuously)', () => {
    expect(modules).toEqual(expect.arrayContaining(['trade', 'registry', 'compliance', 'ledger']));
  });

  it.each(modules)('src/%s/index.ts exports no table', async (name) => {
    const surface = (await import(path.join(SRC, name, 'index.ts'))) as Record<string, unknown>;
    const tables = Object.entries(surface)
      .filter(([, value]) => is(value, Table))
      .map(([key]) => key);
    expect(tables).toEqual([]);
  });
});

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { getTableName, is, sql, Table, type SQL } from 'drizzle-orm';
import { getViewConfig, PgDialect, PgView } from 'drizzle-orm/pg-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../../src/db';
import { systemCaller, type Caller, type Role } from '../../src/kernel';
import * as loopSql from '../../src/clearing/loop-sql';
import { roleHome } from '../../src/oversight/home-roles';
import { windowAt } from '../../src/oversight/home';
import { openTestDatabase } from '../support/db';

/**
 * No table leaves a module (docs/architecture.md, "Module surfaces"): another module's data is
 * read through a service call, or in SQL through the read models (views) its owner publishes
 * in `src/<module>/read-models.ts` and exports from its index.ts. Oversight's reports and home
 * pages and clearing's loop report read other modules in SQL, so their SQL may name another
 * module's published read models and no other module's table. The tables are those the drizzle
 * schemas declare (`src/<module>/schema.ts` and `src/<module>/<part>/schema.ts`), the read
 * models those the modules declare; neither is a list kept here.
 */
const SRC = path.resolve(import.meta.dirname, '../../src');
const modules = readdirSync(SRC).filter((name) => statSync(path.join(SRC, name)).isDirectory());

async function exportsOf(file: string): Promise<unknown[]> {
  return Object.values((await import(file)) as Record<string, unknown>);
}

/** Table name → owning module, from every drizzle schema. */
async function tablesByModule(): Promise<Map<string, string>> {
  const owner = new Map<string, string>();
  for (const name of modules) {
    const dir = path.join(SRC, name);
    const schemas = [
      path.join(dir, 'schema.ts'),
      ...readdirSync(dir)
        .filter((part) => statSync(path.join(dir, part)).isDirectory())
        .map((part) => path.join(dir, part, 'schema.ts')),
    ].filter((file) => existsSync(file));
    for (const file of schemas)
      for (const value of await exportsOf(file))
        if (is(value, Table)) owner.set(getTableName(value), name);
  }
  return owner;
}

/** The views each module declares in its read-models.ts: name → module and declared columns. */
async function readModels(): Promise<Map<string, { module: string; view: PgView }>> {
  const published = new Map<string, { module: string; view: PgView }>();
  for (const name of modules) {
    const file = path.join(SRC, name, 'read-models.ts');
    if (!existsSync(file)) continue;
    for (const value of await exportsOf(file))
      if (is(value, PgView))
        published.set(getViewConfig(value).name, { module: name, view: value });
  }
  return published;
}

/** The files whose SQL reads other modules: all of oversight, and clearing's loop report. */
function readerFiles(): Array<{ file: string; module: string }> {
  const walk = (dir: string): string[] =>
    readdirSync(dir).flatMap((name) => {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) return walk(full);
      return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
    });
  return [
    ...walk(path.join(SRC, 'oversight')).map((file) => ({ file, module: 'oversight' })),
    ...['loop.ts', 'loop-sql.ts'].map((f) => ({
      file: path.join(SRC, 'clearing', f),
      module: 'clearing',
    })),
  ];
}

/** The relations a source names in SQL: after `from` or `join`, and in `sql.raw('…')`. */
function relationsNamedIn(source: string): string[] {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  return [
    ...[...code.matchAll(/\b(?:from|join)\s+"?([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!),
    ...[...code.matchAll(/sql\.raw\(\s*['"`]([a-z_][a-z0-9_]*)['"`]/g)].map((m) => m[1]!),
  ];
}

/** The words of a rendered statement, its string literals left out. */
function wordsOf(statement: SQL): Set<string> {
  const text = new PgDialect().sqlToQuery(statement).sql.replace(/'(?:[^']|'')*'/g, "''");
  return new Set(text.match(/[a-z_][a-z0-9_]*/g) ?? []);
}

describe('read models: no SQL reads another module’s table', () => {
  let tables: Map<string, string>;
  let published: Map<string, { module: string; view: PgView }>;
  beforeAll(async () => {
    tables = await tablesByModule();
    published = await readModels();
  });

  it('finds the tables and the read models (a scan that found none would pass vacuously)', () => {
    expect(tables.get('trade_settlements')).toBe('trade');
    expect(tables.get('market_deals')).toBe('clearing');
    expect(tables.get('participants')).toBe('registry');
    expect(published.get('trade_settlement_facts')?.module).toBe('trade');
    expect(published.get('compliance_alert_facts')?.module).toBe('compliance');
    for (const [name, { module }] of published) {
      expect(tables.has(name), `${name} is a table`).toBe(false);
      // A module publishes under its own name (clearing's market included).
      expect(name.startsWith(`${module}_`), `${name} of ${module}`).toBe(true);
    }
  });

  it("each module's index.ts exports every read model it declares (its published surface)", async () => {
    for (const [name, { module, view }] of published) {
      const surface = await exportsOf(path.join(SRC, module, 'index.ts'));
      expect(surface.includes(view), `${module}/index.ts exports ${name}`).toBe(true);
    }
  });

  it.each(readerFiles().map((r) => [path.relative(SRC, r.file), r.module] as const))(
    'src/%s names no table of another module',
    (file, reader) => {
      const foreign = relationsNamedIn(readFileSync(path.join(SRC, file), 'utf8')).filter(
        (name) => tables.has(name) && tables.get(name) !== reader,
      );
      expect(foreign).toEqual([]);
    },
  );

  /** Every statement the home pages and the loop report build, rendered as PostgreSQL gets it. */
  function statements(): Array<[string, SQL]> {
    const now = new Date('2026-08-15T12:00:00Z');
    const period = { from: new Date('2026-07-01T00:00:00Z'), to: new Date('2026-10-01T00:00:00Z') };
    const roles: Role[] = ['supervisor', 'platform', 'company', 'miner', 'auditor'];
    const home = roles.flatMap((role): Array<[string, SQL]> => {
      const caller: Caller = { ...systemCaller(), role, participantId: 'p_1', personId: 'per_1' };
      const { counts, queues } = roleHome(caller, windowAt(now));
      return [
        [`home ${role} counts`, counts],
        [`home ${role} queues`, queues],
      ];
    });
    const loop: Array<[string, SQL]> = [
      ['loop lotsSummary', loopSql.lotsSummary(period)],
      ['loop dealGroups', loopSql.dealGroups(period)],
      ['loop dealTrace', loopSql.dealTrace(period, 10)],
      ['loop windowFigures', loopSql.windowFigures(period)],
      ['loop paidAbroad', loopSql.paidAbroad(period, now)],
      ['loop stuckItems', loopSql.stuckItems(period, 10)],
      ['loop minedByMonthRegion', loopSql.minedByMonthRegion(period)],
      ['loop paidAbroadByPartner', loopSql.paidAbroadByPartner(period)],
      ['loop dayValuations', loopSql.dayValuations(period)],
    ];
    // Every statement builder of loop-sql.ts is rendered above.
    const builders = Object.entries(loopSql).filter(([, v]) => typeof v === 'function');
    expect(builders.map(([k]) => `loop ${k}`).sort()).toEqual(loop.map(([k]) => k).sort());
    return [...home, ...loop];
  }

  it('the home pages and the loop report, as rendered, read other modules only through read models', () => {
    for (const [label, statement] of statements()) {
      const reader = label.startsWith('loop') ? 'clearing' : 'oversight';
      const words = wordsOf(statement);
      const foreign = [...words].filter((w) => tables.has(w) && tables.get(w) !== reader);
      expect(foreign, label).toEqual([]);
    }
    // They do read through the read models (this is not vacuous).
    const read = new Set(statements().flatMap(([, s]) => [...wordsOf(s)]));
    expect([...published.keys()].filter((name) => read.has(name)).length).toBeGreaterThan(10);
  });

  describe('the migrations create each read model with the columns it declares', () => {
    let db: Database;
    beforeAll(async () => {
      db = await openTestDatabase();
    });
    afterAll(async () => {
      await db.close();
    });

    it('every declared view exists with exactly its declared columns', async () => {
      const rows = rowsOf(
        await db.orm
          .execute(sql`select c.table_name, c.column_name from information_schema.columns c
          join information_schema.views v
            on v.table_schema = c.table_schema and v.table_name = c.table_name
          where c.table_schema = 'public'`),
      );
      const actual = new Map<string, string[]>();
      for (const r of rows) {
        const [view, column] = [String(r.table_name), String(r.column_name)];
        actual.set(view, [...(actual.get(view) ?? []), column]);
      }
      for (const [name, { view }] of published) {
        const declared = Object.values(getViewConfig(view).selectedFields).map(columnName);
        expect(actual.get(name)?.sort(), name).toEqual(declared.sort());
      }
    });
  });
});

function columnName(field: unknown): string {
  if (typeof field === 'object' && field !== null) {
    if ('fieldAlias' in field && typeof field.fieldAlias === 'string') return field.fieldAlias;
    if ('name' in field && typeof field.name === 'string') return field.name;
  }
  throw new TypeError('a read model column without a name');
}

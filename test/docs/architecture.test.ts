import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The module diagrams are the import graph: docs/architecture.md's is all of it, the README's a
 * part of it (kernel and db, cli and demo left out). An import added or removed without the
 * diagrams following fails here.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const SRC = path.join(ROOT, 'src');

/** `src/<module>` folders, and the two files at the top (`app.ts`, `services.ts`). */
function moduleOf(file: string): string | null {
  const relative = path.relative(SRC, file).split(path.sep);
  if (relative.length === 1) return relative[0]!.replace(/\.ts$/, '');
  return relative[0] ?? null;
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') ? [full] : [];
  });
}

/** Every module → module edge of the imports in src/ (tests excluded). */
function importGraph(): Set<string> {
  const edges = new Set<string>();
  for (const file of sources(SRC)) {
    const from = moduleOf(file);
    const text = readFileSync(file, 'utf8');
    for (const [, target] of text.matchAll(/(?:import|export)[^'"]*?from\s+'(\.[^']+)'/g)) {
      const resolved = path.resolve(path.dirname(file), target!);
      if (!resolved.startsWith(SRC + path.sep) && resolved !== SRC) continue;
      const to = moduleOf(resolved.endsWith('.ts') ? resolved : `${resolved}.ts`);
      if (from && to && from !== to) edges.add(`${from} --> ${to}`);
    }
  }
  return edges;
}

/** The `a --> b` lines of the first mermaid block after `heading`. */
function diagram(file: string, heading: string): Set<string> {
  const text = readFileSync(path.join(ROOT, file), 'utf8');
  const section = text.slice(text.indexOf(heading));
  const block = /```mermaid\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return new Set(
    [...block.matchAll(/^\s*(\w+) --> (\w+)\s*$/gm)].map((m) => `${m[1]} --> ${m[2]}`),
  );
}

describe('the architecture diagrams', () => {
  const graph = importGraph();

  it('reads the imports (a scan that found none would pass the rest vacuously)', () => {
    expect(graph.size).toBeGreaterThan(60);
    for (const edge of ['trade --> compliance', 'http --> services', 'chain --> bitcoin'])
      expect(graph).toContain(edge);
    // Downward only: nothing imports the composition root or the entry points.
    expect(
      [...graph].filter((e) => / --> (app|cli|demo)$/.test(e) && !e.startsWith('cli')),
    ).toEqual([]);
  });

  it("docs/architecture.md's diagram is the import graph, edge for edge", () => {
    const drawn = diagram('docs/architecture.md', '## The import graph');
    expect([...graph].filter((e) => !drawn.has(e)).sort()).toEqual([]);
    expect([...drawn].filter((e) => !graph.has(e)).sort()).toEqual([]);
  });

  it("every arrow of the README's diagram is an import, and it leaves out only what it says", () => {
    const drawn = diagram('README.md', '## Architecture');
    expect([...drawn].filter((e) => !graph.has(e)).sort()).toEqual([]);
    const leftOut = ['kernel', 'db', 'cli', 'demo'];
    const expected = [...graph].filter((e) => !leftOut.some((m) => e.split(' --> ').includes(m)));
    expect(expected.filter((e) => !drawn.has(e)).sort()).toEqual([]);
  });
});

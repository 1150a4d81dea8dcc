import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { COMMANDS } from '../../src/cli/program';

/**
 * The built package: `npm run build` bundles the CLI and server into dist/ (what `npm start` and
 * `npx tradeclear` run), each command a chunk loaded when it runs.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');
const node = (...args: string[]) =>
  execFileSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', env: { ...process.env } });

/** The npm packages a built file loads before running anything: its static imports, followed. */
function staticPackages(file: string, seen = new Set<string>(), found = new Set<string>()) {
  if (seen.has(file)) return found;
  seen.add(file);
  const text = readFileSync(file, 'utf8');
  for (const [, target] of text.matchAll(/^import\s+(?:[^'"]*?from\s+)?["']([^"']+)["']/gm)) {
    if (target!.startsWith('.'))
      staticPackages(path.resolve(path.dirname(file), target!), seen, found);
    else found.add(target!);
  }
  return found;
}

describe('the built package', () => {
  beforeAll(() => {
    // Built by `npm run check` before the tests; built here when run alone.
    node('scripts/build.mjs', '--server', '--if-stale');
  }, 120_000);

  it('is the command npm runs (bin), and prints its version and every command', () => {
    expect(packageJson.bin.tradeclear).toBe('bin/tradeclear.js');
    expect(node('bin/tradeclear.js', '--version').trim()).toBe(packageJson.version);
    const help = node(MAIN, '--help');
    for (const command of COMMANDS) expect(help).toContain(command.name);
  });

  it('loads no database, HTTP server, PDF or chain library before a command runs', () => {
    const loaded = [...staticPackages(MAIN)].filter((p) => !p.startsWith('node:'));
    expect(loaded).toEqual([]);
  });

  it('runs a command from the build: the block parser on mainnet block 413,567', () => {
    const file = path.join(ROOT, 'test/vectors/bitcoin/blocks/mainnet-413567.raw');
    const report = JSON.parse(node(MAIN, 'block', 'inspect', file, '--json')) as unknown;
    expect(report).toMatchObject({
      hash: '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069',
      transactions: 1557,
      inputs: 4887,
      outputs: 3581,
    });
  });
});

#!/usr/bin/env node
/**
 * Builds what `npm start` and the `tradeclear` command run:
 *   - the server and CLI, bundled by esbuild into dist/ (each top-level command a chunk of its own,
 *     loaded only when it runs; npm packages stay imports, resolved from node_modules);
 *   - the web app, built by Vite into web/dist, which the server serves at `/`.
 *
 * `node scripts/build.mjs` builds both. `--if-stale` builds only a part whose inputs changed since
 * it was last built (what `npm start` runs before serving). `--server` or `--web` builds one part.
 *
 * Plain JavaScript on purpose: it runs before anything is compiled, with no TypeScript loader.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const root = path.resolve(import.meta.dirname, '..');

/** The newest modification time of the files under `entries` (directories walked). */
function newest(entries, skip = () => false) {
  let latest = 0;
  const visit = (entry) => {
    if (!existsSync(entry) || skip(entry)) return;
    const stat = statSync(entry);
    if (stat.isDirectory()) {
      for (const name of readdirSync(entry)) visit(path.join(entry, name));
    } else if (stat.mtimeMs > latest) latest = stat.mtimeMs;
  };
  for (const entry of entries) visit(path.join(root, entry));
  return latest;
}

/** The build stamp of a part (written last, so a build that failed half-way reads as stale). */
function stampOf(file) {
  const full = path.join(root, file);
  return existsSync(full) ? statSync(full).mtimeMs : 0;
}

/** Every dependency except zod and commander, as esbuild external patterns. */
const EXTERNAL = (() => {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8'));
  const names = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies });
  return names.filter((n) => n !== 'zod' && n !== 'commander').flatMap((n) => [n, `${n}/*`]);
})();

const SERVER = {
  name: 'server and CLI',
  stamp: 'dist/.built',
  inputs: ['src', 'package.json', 'package-lock.json', 'tsconfig.json'],
  skip: (file) => /\.test\.ts$/.test(file),
  async build() {
    const { build } = await import('esbuild');
    rmSync(path.join(root, 'dist'), { recursive: true, force: true });
    await build({
      absWorkingDir: root,
      entryPoints: { 'cli/main': 'src/cli/main.ts' },
      outdir: 'dist',
      bundle: true,
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      // npm packages stay imports resolved from node_modules, except the two every command
      // loads: bundled, they are one file to read instead of dozens.
      external: EXTERNAL,
      sourcemap: true,
      chunkNames: 'chunks/[name]-[hash]',
      logLevel: 'warning',
      banner: {
        // commander is CommonJS: its bundled require() of Node's modules needs a real require.
        js: "#!/usr/bin/env node\nimport { createRequire as __tcRequire } from 'node:module';\nconst require = __tcRequire(import.meta.url);",
      },
    });
  },
};

const WEB = {
  name: 'web app',
  stamp: 'web/dist/index.html',
  inputs: ['web', 'src/kernel', 'package-lock.json'],
  skip: (file) => file.startsWith(path.join(root, 'web', 'dist')),
  async build() {
    const vite = path.join(root, 'node_modules', 'vite', 'bin', 'vite.js');
    const result = spawnSync(
      process.execPath,
      [vite, 'build', '--config', 'web/vite.config.ts', '--logLevel', 'warn'],
      { cwd: root, stdio: 'inherit' },
    );
    if (result.status !== 0) throw new Error(`vite build exited with ${result.status}`);
  },
};

/**
 * Builds `parts` ('server', 'web'); with `ifStale`, only those whose inputs are newer than their
 * last build. Progress goes to stderr; a failure throws with the part named.
 */
export async function build({ parts = ['server', 'web'], ifStale = false } = {}) {
  const todo = [
    ...(parts.includes('server') ? [SERVER] : []),
    ...(parts.includes('web') ? [WEB] : []),
  ];
  for (const part of todo) {
    if (ifStale && stampOf(part.stamp) >= newest(part.inputs, part.skip)) continue;
    const started = Date.now();
    process.stderr.write(`building the ${part.name}…\n`);
    try {
      await part.build();
    } catch (error) {
      throw new Error(`the ${part.name} did not build: ${error.message ?? error}`, {
        cause: error,
      });
    }
    if (part === SERVER)
      writeFileSync(path.join(root, part.stamp), `${new Date().toISOString()}\n`);
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    process.stderr.write(`built the ${part.name} in ${seconds} s\n`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = new Set(process.argv.slice(2));
  const only = ['server', 'web'].filter((p) => args.has(`--${p}`));
  try {
    await build({ parts: only.length > 0 ? only : undefined, ifStale: args.has('--if-stale') });
  } catch (error) {
    process.stderr.write(`error: ${error.message}\n`);
    process.exit(1);
  }
}

/**
 * Start-up of the built package: `tradeclear --help` from the build in dist/ against Node's own
 * start (`node -e 0`, the floor every command pays) and against the sources run through tsx, and
 * the built server's time to ready on an existing embedded database, with its memory once ready;
 * `up` (what `npm start` runs) on a seeded demo against `serve` on the same data (BENCH_DEMO=0
 * skips the seeding, which takes minutes); and on PostgreSQL when BENCH_DATABASE_URL is set.
 * Ready means /readyz answers 200. Builds dist/ first when it is stale.
 * Run: npm run bench -- startup
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/net';

const ROOT = path.resolve(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** Wall-clock milliseconds of one run of a command, which must exit 0. */
function timed(args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'ignore' });
  if (result.status !== 0) throw new Error(`node ${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function measure(label: string, args: string[]): number {
  timed(args); // warm the file cache
  const ms = median(Array.from({ length: RUNS }, () => timed(args)));
  console.log(`${label.padEnd(44)} median ${ms.toFixed(0).padStart(5)} ms`);
  return ms;
}

/**
 * Starts the built server on `dataDir` (`serve`, or `args` such as `up --no-activity`), returns
 * ms until /readyz answers 200 and its RSS. `env` adds to the environment (a DATABASE_URL).
 */
async function serverReady(
  dataDir: string,
  args: string[] = ['serve'],
  env: Record<string, string> = {},
): Promise<{ ms: number; rssMb: number }> {
  const port = await freePort();
  const started = process.hrtime.bigint();
  const child = spawn(process.execPath, ['dist/cli/main.js', ...args], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...env,
      DATA_DIR: dataDir,
      PORT: String(port),
      LOG_LEVEL: 'silent',
      SIMNET_BLOCK_INTERVAL_SECONDS: '0',
      NODE_ENV: 'development',
    },
    stdio: 'ignore',
  });
  try {
    for (;;) {
      const ok = await fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) break;
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const status = spawnSync('ps', ['-o', 'rss=', '-p', String(child.pid)], { encoding: 'utf8' });
    return { ms, rssMb: Number(status.stdout.trim()) / 1024 };
  } finally {
    child.kill('SIGINT');
    await new Promise((resolve) => child.once('exit', resolve));
  }
}

const build = spawnSync(process.execPath, ['scripts/build.mjs', '--server', '--if-stale'], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (build.status !== 0) process.exit(1);

console.log(`${RUNS} runs each, medians; ratios against Node's own start in the same run`);
const floor = measure('node -e 0 (reference)', ['-e', '0']);
const built = measure('tradeclear --help (built, dist/)', ['dist/cli/main.js', '--help']);
const sources = measure('tradeclear --help (sources through tsx)', [
  '--import',
  'tsx',
  'src/cli/main.ts',
  '--help',
]);
console.log(
  `--help built: ${(built / floor).toFixed(2)}× Node's start, ${(sources / built).toFixed(1)}× faster than through tsx`,
);

/** The median time to ready (and RSS) of `runs` starts, printed against Node's start. */
async function readyLine(
  label: string,
  dataDir: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<number> {
  const starts: { ms: number; rssMb: number }[] = [];
  for (let i = 0; i < Math.min(RUNS, 5); i++) starts.push(await serverReady(dataDir, args, env));
  const ready = median(starts.map((s) => s.ms));
  const rss = median(starts.map((s) => s.rssMb));
  console.log(
    `${label.padEnd(46)} median ${ready.toFixed(0).padStart(5)} ms (${(ready / floor).toFixed(1)}× Node's start), RSS when ready ${rss.toFixed(0)} MB`,
  );
  return ready;
}

/** A CLI command on `dataDir` that must exit 0. */
function cli(dataDir: string, args: string[], env: Record<string, string> = {}): void {
  const result = spawnSync(process.execPath, ['dist/cli/main.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  if (result.status !== 0) throw new Error(`tradeclear ${args.join(' ')} failed`);
}

const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-bench-'));
try {
  const migrate = spawnSync(process.execPath, ['dist/cli/main.js', 'migrate'], {
    cwd: ROOT,
    env: { ...process.env, DATA_DIR: dataDir, LOG_LEVEL: 'silent' },
    stdio: 'ignore',
  });
  if (migrate.status !== 0) throw new Error('migrate failed');
  const serve = await readyLine('built server ready on an existing database', dataDir, ['serve']);
  // `npm start` (`up`) on a database that holds a scheme already: it must not pay for opening
  // the database twice (once to see whether the demo is seeded, once to serve).
  if (process.env.BENCH_DEMO !== '0') {
    cli(dataDir, ['demo', 'seed', '--size', 'small']);
    const served = await readyLine('serve on the seeded demo (reference)', dataDir, ['serve']);
    const up = await readyLine('up on the seeded demo (npm start)', dataDir, [
      'up',
      '--no-activity',
    ]);
    console.log(`up against serve on the same data: ${(up / served).toFixed(2)}×`);
  }
  // PostgreSQL: BENCH_DATABASE_URL names a database the bench may migrate.
  const url = process.env.BENCH_DATABASE_URL;
  if (url) {
    cli(dataDir, ['migrate'], { DATABASE_URL: url });
    const pg = await readyLine('built server ready on existing PostgreSQL', dataDir, ['serve'], {
      DATABASE_URL: url,
    });
    console.log(`PostgreSQL against the embedded database: ${(pg / serve).toFixed(2)}×`);
  }
} finally {
  rmSync(dataDir, { recursive: true, force: true });
}

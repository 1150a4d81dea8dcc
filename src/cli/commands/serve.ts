import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { Command } from 'commander';
import { buildHttpApp, openPlatform, startRuntime } from '../../app';
import { ServerMetrics } from '../../http';
import { acquireDataDirLock, type DataDirLock } from '../../db';
import { newOperatorToken } from '../../http/operator';
import type { Config } from '../../kernel';
import { removeServerFile, writeServerFile } from '../server';
import { DemoActivity, demoKey, isSeeded, SIZES } from '../../demo';
import type { CliContext } from '../program';
import {
  parseSeed,
  parseSize,
  printLogins,
  printSummary,
  progressFor,
  seedDemoDatabase,
} from './demo';

interface ServeOptions {
  port?: string;
  host?: string;
  demo: boolean;
  /** `--no-activity` sets it false: the demo without its trickle of activity. */
  activity?: boolean;
  size?: string;
  seed?: string;
}

export function registerServeCommands(program: Command, context: CliContext): void {
  const serve = async (options: ServeOptions) => {
    const config = context.config();
    // The server holds the embedded database from the first probe to its stop, so that no other
    // process opens it meanwhile (PGlite would lose one side's writes); see src/db/lock.ts.
    const lock = config.DATABASE_URL
      ? null
      : acquireDataDirLock(path.join(config.DATA_DIR, 'db'), { command: 'serve' });
    try {
      await serveHolding(options, config, lock);
    } catch (error) {
      lock?.release();
      throw error;
    }
  };

  const serveHolding = async (options: ServeOptions, config: Config, lock: DataDirLock | null) => {
    const demo = options.demo && config.CHAIN === 'simnet';
    // One opening of the database on a start with data (a second one, to probe, costs PGlite's
    // start and the migrations check again); a first start of the demo closes it to seed.
    let platform = await openPlatform(config, { chain: true });
    if (demo && !(await isSeeded(platform.services.registry))) {
      await platform.close();
      const size = parseSize(options.size ?? 'full');
      context.io.stdout(
        `Seeding a demo scheme (${size}: ${SIZES[size].days} days of activity on simnet, seed ${options.seed ?? '1'})`,
      );
      const started = Date.now();
      const summary = await seedDemoDatabase(config, {
        size,
        seed: parseSeed(options.seed ?? '1'),
        progress: progressFor(context.io, process.stdout.isTTY === true),
      });
      printSummary(context.io, summary);
      context.io.stdout(`  in ${((Date.now() - started) / 1000).toFixed(0)} s`);
      platform = await openPlatform(config, { chain: true });
    }
    // The local operator channel (src/http/operator.ts): only beside an embedded database, whose
    // lock keeps the CLI from opening it.
    const operatorToken = lock ? newOperatorToken() : undefined;
    const metrics = new ServerMetrics();
    const app = await buildHttpApp(platform, {
      metrics,
      ...(operatorToken ? { operatorToken } : {}),
    });
    // The demo's trickle of activity (invoices paid, payouts approved and batched, now and then
    // a new contract or an alert), one action every DEMO_ACTIVITY_INTERVAL_MS.
    const activityMs = demo && options.activity !== false ? config.DEMO_ACTIVITY_INTERVAL_MS : 0;
    const activitySeed = parseSeed(options.seed ?? '1');
    const openActivity = async (simnet: NonNullable<typeof platform.simnet>) => {
      try {
        return await DemoActivity.open(
          {
            db: platform.db,
            clock: platform.clock,
            simnet,
            rateDesk: platform.rateDesk,
            services: platform.services,
            logger: app.log,
          },
          { seed: activitySeed },
        );
      } catch (error) {
        // The demo serves without its activity rather than not at all.
        app.log.warn(
          { error: error instanceof Error ? error.message : String(error) },
          'demo activity could not start',
        );
        return null;
      }
    };
    const activity = activityMs > 0 && platform.simnet ? await openActivity(platform.simnet) : null;
    // While serving, simnet's blocks go to the demo's registered miners in turn, so the mining
    // dashboard moves; without a demo they burn the subsidy (nobody's coins).
    let turn = 0;
    const runtime = await startRuntime(platform, {
      onError: (where, error) =>
        app.log.warn({ where, error: error instanceof Error ? error.message : String(error) }),
      onRun: (job, ms, ok) => metrics.jobRan(job, ms, ok),
      ...(demo ? { minerAddress: () => demoKey(`miner pool ${turn++ % 6}`).script } : {}),
      ...(activity
        ? {
            extra: async () => {
              await activity.tick();
            },
            extraIntervalMs: activityMs,
          }
        : {}),
    });
    metrics.attachRuntime({
      jobs: () => runtime.jobs.depth(),
      watcherLag: () => runtime.watcherLag(),
    });
    const port = options.port === undefined ? config.PORT : Number(options.port);
    const host = options.host ?? config.HOST;
    const address = await app.listen({ port, host });
    if (lock && operatorToken) {
      lock.annotate({ url: address });
      const local = loopbackUrl(host, app.server.address() as AddressInfo);
      if (local)
        writeServerFile(config.DATA_DIR, { pid: process.pid, url: local, token: operatorToken });
    }
    context.io.stdout(`Tradeclear is serving ${config.SCHEME_NAME} on ${address}`);
    context.io.stdout(`  API docs:  ${address}/docs`);
    context.io.stdout(
      `  database:  ${platform.db.kind === 'pglite' ? `embedded (${config.DATA_DIR}/db)` : 'PostgreSQL (DATABASE_URL)'}`,
    );
    context.io.stdout(
      `  chain:     ${config.CHAIN}${platform.simnet ? ` (a block every ${config.SIMNET_BLOCK_INTERVAL_SECONDS} s)` : ''}`,
    );
    if (demo)
      context.io.stdout(
        `  activity:  ${activity ? `one demo action every ${activityMs / 1000} s (from step ${activity.nextStep})` : 'off'}`,
      );
    if (demo) printLogins(context.io, address);
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      context.io.stdout(`${signal} received, shutting down`);
      removeServerFile(config.DATA_DIR, process.pid);
      void runtime
        .stop()
        .then(() => app.close())
        .then(() => platform.close())
        .finally(() => {
          lock?.release();
          process.exit(0);
        });
    };
    // Every signal is caught, not only the first: Ctrl-C reaches the whole process group and the
    // tsx and npm wrappers pass it on again, and a second SIGINT with no handler would kill the
    // server mid-shutdown, its database unclosed and its lock left behind.
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  };

  program
    .command('serve')
    .description('serve the API (and web UI) on HOST:PORT')
    .option('--port <port>', 'port to listen on (default: PORT or 8080)')
    .option('--host <host>', 'interface to listen on (default: HOST or 127.0.0.1)')
    .action((options: { port?: string; host?: string }) => serve({ ...options, demo: false }));

  program
    .command('up')
    .description(
      'migrate, seed the demo on first start (simnet), then serve (what `npm start` runs)',
    )
    .option('--port <port>', 'port to listen on (default: PORT or 8080)')
    .option('--host <host>', 'interface to listen on (default: HOST or 127.0.0.1)')
    .option('--no-demo', 'start empty, for real use')
    .option('--size <size>', 'demo size on first start: small or full', 'full')
    .option('--seed <n>', 'seed of the demo replay (and of its live activity)', '1')
    .option('--no-activity', 'serve the demo without its trickle of live activity')
    .action((options: ServeOptions) => serve(options));
}

/** Where the CLI on this machine reaches a server listening on `host`, or null (not loopback). */
function loopbackUrl(host: string, address: AddressInfo): string | null {
  if (host === '::1') return `http://[::1]:${address.port}`;
  if (['0.0.0.0', '::', 'localhost'].includes(host) || host.startsWith('127.'))
    return `http://127.0.0.1:${address.port}`;
  return null;
}

import { rm } from 'node:fs/promises';
import path from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { openPlatform, openWatcher, SIMNET_SIGNER_PASSPHRASE, type Platform } from '../../app';
import {
  DEMO_LOGINS,
  isSeeded,
  replayStart,
  seedDemo,
  SIZES,
  type DemoProgress,
  type DemoSize,
  type DemoSummary,
} from '../../demo';
import { acquireDataDirLock } from '../../db';
import { AppError, ManualClock, packagePath, SeededRandom, type Config } from '../../kernel';
import type { CliIo } from '../io';
import type { CliContext } from '../program';

/** The real list files the demo imports (test/vectors/sanctions, from the repository root). */
export const SANCTIONS_DIR = packagePath('test', 'vectors', 'sanctions');

/** Bars on a terminal, one plain line per phase elsewhere (CI logs, pipes). */
export function progressFor(io: CliIo, tty: boolean): DemoProgress {
  if (!tty) {
    let started = Date.now();
    return {
      phase(name) {
        started = Date.now();
        io.stdout(`  … ${name}`);
      },
      update() {},
      done() {
        io.stdout(`  done (${((Date.now() - started) / 1000).toFixed(1)} s in the last phase)`);
      },
    };
  }
  let bar: SingleBar | null = null;
  return {
    phase(name, total) {
      bar?.stop();
      bar = new SingleBar(
        { format: `  {bar} {percentage}% | ${name} {detail}`, hideCursor: true },
        Presets.shades_classic,
      );
      bar.start(total, 0, { detail: '' });
    },
    update(done, detail) {
      bar?.update(done, { detail: detail ?? '' });
    },
    done() {
      bar?.stop();
      bar = null;
    },
  };
}

export function parseSize(text: string): DemoSize {
  if (text !== 'small' && text !== 'full')
    throw new AppError('VALIDATION_FAILED', `--size must be "small" or "full", got "${text}"`);
  return text;
}

export function parseSeed(text: string): number {
  const seed = Number(text);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff)
    throw new AppError(
      'VALIDATION_FAILED',
      `--seed must be an integer from 0 to 4294967295, got "${text}"`,
    );
  return seed;
}

/**
 * Seeds a demo scheme into the configured database: the replay runs on its own platform instance
 * with a ManualClock (accelerated time) and a SeededRandom, ending at today's midnight (UTC).
 */
export async function seedDemoDatabase(
  config: Config,
  options: { size: DemoSize; seed: number; progress: DemoProgress; now?: Date },
): Promise<DemoSummary> {
  if (config.CHAIN !== 'simnet')
    throw new AppError('CONFIG_INVALID', 'the demo runs on simnet only (CHAIN=simnet)');
  const clock = new ManualClock(replayStart(SIZES[options.size].days, options.now ?? new Date()));
  const platform = await openPlatform(config, {
    clock,
    random: new SeededRandom(options.seed),
    chain: true,
  });
  try {
    if (await isSeeded(platform.services.registry))
      throw new AppError(
        'CONFLICT',
        'the database already holds a scheme; run `tradeclear demo reset` to start over',
      );
    return await seedWith(platform, clock, options);
  } finally {
    await platform.close();
  }
}

async function seedWith(
  platform: Platform,
  clock: ManualClock,
  options: { size: DemoSize; seed: number; progress: DemoProgress },
): Promise<DemoSummary> {
  const watcher = await openWatcher(platform);
  const bank = platform.simulatedBank;
  if (!bank) throw new AppError('CONFIG_INVALID', 'the demo runs on simnet only (CHAIN=simnet)');
  return seedDemo(
    {
      db: platform.db,
      clock,
      simnet: platform.simnet!,
      watcher,
      rateDesk: platform.rateDesk,
      signerPassphrase: SIMNET_SIGNER_PASSPHRASE,
      bank,
      services: platform.services,
    },
    {
      size: options.size,
      seed: options.seed,
      sanctionsDir: SANCTIONS_DIR,
      progress: options.progress,
    },
  );
}

export function printLogins(io: CliIo, address: string): void {
  io.stdout('');
  io.stdout(`  Open ${address} and log in (demo accounts, simnet only):`);
  for (const login of DEMO_LOGINS)
    io.stdout(`    ${login.role.padEnd(11)} ${login.username.padEnd(11)} ${login.password}`);
}

export function printSummary(io: CliIo, s: DemoSummary): void {
  io.stdout(
    `  Seeded ${s.from.toISOString().slice(0, 10)} → ${s.to.toISOString().slice(0, 10)}: ${s.blocks} blocks (${s.reorgs} reorgs), ` +
      `${s.contracts} contracts, ${s.invoicesPaid} invoices paid, ${s.payouts} payouts in ${s.batches} batches, ` +
      `${s.blockedTransfers} of ${s.gateDecisions} transfers blocked by the gate` +
      (s.licenceSuspended ? `, licence of ${s.licenceSuspended} suspended` : ''),
  );
}

export function registerDemoCommands(program: Command, context: CliContext): void {
  const demo = program.command('demo').description('the demo scheme (simnet only)');
  demo
    .command('seed')
    .description('seed a demo scheme into an empty database')
    .option('--size <size>', 'small or full', 'full')
    .option('--seed <n>', 'seed of the deterministic replay', '1')
    .action(async (options: { size: string; seed: string }) => {
      const config = context.config();
      const started = Date.now();
      const summary = await seedDemoDatabase(config, {
        size: parseSize(options.size),
        seed: parseSeed(options.seed),
        progress: progressFor(context.io, process.stdout.isTTY === true),
      });
      printSummary(context.io, summary);
      context.io.stdout(
        `  in ${((Date.now() - started) / 1000).toFixed(1)} s, peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`,
      );
    });
  demo
    .command('reset')
    .description('delete the embedded database, so that the next start seeds a new demo')
    .action(async () => {
      const config = context.config();
      if (config.DATABASE_URL)
        throw new AppError(
          'CONFIG_INVALID',
          'demo reset deletes the embedded database only; with DATABASE_URL, drop and recreate the database yourself',
        );
      const dir = path.join(config.DATA_DIR, 'db');
      // Never from under a running server (or any other opener): refused with the holder named.
      const lock = acquireDataDirLock(dir, { command: 'demo reset' });
      try {
        await rm(dir, { recursive: true, force: true });
      } finally {
        lock.release();
      }
      context.io.stdout(`deleted ${dir}; the next \`npm start\` seeds a new demo scheme`);
    });
}

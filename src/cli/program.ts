import path from 'node:path';
import { Command, CommanderError } from 'commander';
import packageJson from '../../package.json' with { type: 'json' };
import { AppError, isAppError, loadConfig, type Config } from '../kernel';
import type { Platform } from '../app';
import { processIo, type CliIo } from './io';
import type { RunningServer } from './server';

/** What commands need from the outside world; tests pass their own. */
export interface CliContext {
  io: CliIo;
  env: Record<string, string | undefined>;
  config(): Config;
  /** Opens the platform (database migrated) and closes it after `fn`. */
  withPlatform<T>(fn: (platform: Platform) => Promise<T>): Promise<T>;
  /**
   * The server holding this DATA_DIR's embedded database, for the commands that go through its
   * API while it serves; null when none does (the command opens the database itself).
   */
  runningServer(): Promise<RunningServer | null>;
}

export function createContext(
  env: Record<string, string | undefined>,
  io: CliIo = processIo,
): CliContext {
  let config: Config | undefined;
  const context: CliContext = {
    io,
    env,
    config: () => (config ??= loadConfig(env)),
    withPlatform: async (fn) => {
      const { openPlatform } = await import('../app');
      const platform = await openPlatform(context.config());
      try {
        return await fn(platform);
      } finally {
        await platform.close();
      }
    },
    runningServer: async () => (await import('./server')).runningServer(context.config()),
  };
  return context;
}

type Register = (program: Command, context: CliContext) => void;

/**
 * The top-level commands, each loaded only when it runs: `tradeclear --help` and a command that
 * forwards to the running server load none of the platform (database, HTTP server, PDF, chain).
 * The descriptions are the ones each module registers (a test holds them equal).
 */
export const COMMANDS: readonly {
  name: string;
  description: string;
  load: () => Promise<Register>;
}[] = [
  {
    name: 'serve',
    description: 'serve the API (and web UI) on HOST:PORT',
    load: async () => (await import('./commands/serve')).registerServeCommands,
  },
  {
    name: 'up',
    description:
      'migrate, seed the demo on first start (simnet), then serve (what `npm start` runs)',
    load: async () => (await import('./commands/serve')).registerServeCommands,
  },
  {
    name: 'migrate',
    description: 'apply the database migrations (also done at every start)',
    load: async () => (await import('./commands/migrate')).registerMigrateCommand,
  },
  {
    name: 'keys',
    description: 'manage API keys',
    load: async () => (await import('./commands/keys')).registerKeyCommands,
  },
  {
    name: 'audit',
    description: 'the tamper-evident audit log',
    load: async () => (await import('./commands/audit')).registerAuditCommands,
  },
  {
    name: 'block',
    description: 'inspect raw Bitcoin blocks',
    load: async () => {
      const { registerBlockCommands } = await import('./commands/block');
      return (program, context) => registerBlockCommands(program, context.io);
    },
  },
  {
    name: 'coinselect',
    description: 'coin selection tools',
    load: async () => {
      const { registerCoinselectCommands } = await import('./commands/coinselect');
      return (program, context) => registerCoinselectCommands(program, context.io);
    },
  },
  {
    name: 'report',
    description: 'statistics and reports for the supervisor (runs as the scheme itself)',
    load: async () => (await import('./commands/report')).registerReportCommands,
  },
  {
    name: 'registry',
    description: 'participants, licences and jurisdictions',
    load: async () => (await import('./commands/registry')).registerRegistryCommands,
  },
  {
    name: 'mining',
    description: 'mining sites, the ban calendar, attributions and violations',
    load: async () => (await import('./commands/mining')).registerMiningCommands,
  },
  {
    name: 'clearing',
    description: 'regulatory clearing of mined coins: the loop report',
    load: async () => (await import('./commands/clearing')).registerClearingCommands,
  },
  {
    name: 'provenance',
    description:
      'show the provenance of an output (TXID:VOUT): origins, sats and the path back to the coinbases',
    load: async () => (await import('./commands/provenance')).registerProvenanceCommands,
  },
  {
    name: 'demo',
    description: 'the demo scheme (simnet only)',
    load: async () => (await import('./commands/demo')).registerDemoCommands,
  },
  {
    name: 'lists',
    description: 'sanctions list snapshots: show what is loaded, import a new publication',
    load: async () => (await import('./commands/lists')).registerListsCommands,
  },
  {
    name: 'screen',
    description: 'screen a name or an address against the active sanctions lists',
    load: async () => (await import('./commands/screen')).registerScreenCommands,
  },
  {
    name: 'trade',
    description: 'trade contracts, invoices and payouts',
    load: async () => (await import('./commands/trade')).registerTradeCommands,
  },
  {
    name: 'ledger',
    description: 'the double-entry ledger: balances, statements, reconciliation',
    load: async () => (await import('./commands/ledger')).registerLedgerCommands,
  },
  {
    name: 'simnet',
    description: 'run the embedded simnet chain with a Bitcoin Core JSON-RPC server',
    load: async () => {
      const { registerSimnetCommands } = await import('./commands/simnet');
      return (program, context) =>
        registerSimnetCommands(program, {
          io: context.io,
          openDatabase: async () => {
            const { openDatabase } = await import('../db');
            const config = context.config();
            const db = await openDatabase({
              url: config.DATABASE_URL,
              dataDir: path.join(config.DATA_DIR, 'db'),
            });
            await db.migrate();
            return db;
          },
        });
    },
  },
];

/**
 * The program with every top-level command named, and `only` (the one about to run) loaded and
 * registered in full; `only` null loads them all.
 */
export async function buildProgram(
  context: CliContext,
  only: string | null = null,
): Promise<Command> {
  const program = new Command()
    .name('tradeclear')
    .description('Tradeclear: a supervised scheme for settling cross-border trade in bitcoin')
    .version(packageJson.version, '-V, --version', 'print the version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.stdout(text),
      writeErr: (text) => context.io.stderr(text),
    });
  const loaded = new Set<Register>();
  for (const command of COMMANDS) {
    if (only === null || command.name === only) {
      const register = await command.load();
      // serve and up share one module (the same function): the set registers it once.
      loaded.add(register);
    }
  }
  for (const register of loaded) register(program, context);
  for (const command of COMMANDS) {
    if (!program.commands.some((c) => c.name() === command.name)) {
      program.command(command.name).description(command.description);
    }
  }
  return program;
}

/**
 * Runs the CLI and returns the exit code. Errors become one line on stderr: the AppError's
 * message for bad input, a generic line (never a stack) for anything unexpected.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const named = argv.find((a) => !a.startsWith('-')) ?? null;
  const only = COMMANDS.some((c) => c.name === named) ? named : '';
  const program = await buildProgram(context, only);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version exit with 0; usage errors were already printed by commander.
      return error.exitCode;
    }
    if (isAppError(error)) {
      context.io.stderr(`error: ${error.message}`);
      return error instanceof AppError && error.code === 'AUDIT_CHAIN_BROKEN' ? 2 : 1;
    }
    const message = error instanceof Error ? error.message : String(error);
    context.io.stderr(`error: unexpected failure: ${message.split('\n')[0]}`);
    return 1;
  }
}

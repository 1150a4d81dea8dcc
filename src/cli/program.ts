import path from 'node:path';
import { openDatabase } from '../db';
import { Command, CommanderError } from 'commander';
import { AppError, isAppError, loadConfig, type Config } from '../kernel';
import { openPlatform, type Platform } from '../app';
import { processIo, type CliIo } from './io';
import { runningServer, type RunningServer } from './server';
import { registerServeCommands } from './commands/serve';
import { registerMigrateCommand } from './commands/migrate';
import { registerKeyCommands } from './commands/keys';
import { registerAuditCommands } from './commands/audit';
import { registerBlockCommands } from './commands/block';
import { registerCoinselectCommands } from './commands/coinselect';
import { registerReportCommands } from './commands/report';
import { registerRegistryCommands } from './commands/registry';
import { registerMiningCommands } from './commands/mining';
import { registerProvenanceCommands } from './commands/provenance';
import { registerSimnetCommands } from './commands/simnet';
import { registerDemoCommands } from './commands/demo';
import { registerListsCommands } from './commands/lists';
import { registerScreenCommands } from './commands/screen';
import { registerTradeCommands } from './commands/trade';
import { registerLedgerCommands } from './commands/ledger';

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
  runningServer(): RunningServer | null;
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
      const platform = await openPlatform(context.config());
      try {
        return await fn(platform);
      } finally {
        await platform.close();
      }
    },
    runningServer: () => runningServer(context.config()),
  };
  return context;
}

export function buildProgram(context: CliContext): Command {
  const program = new Command()
    .name('tradeclear')
    .description('Tradeclear: a supervised scheme for settling cross-border trade in bitcoin')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => context.io.stdout(text),
      writeErr: (text) => context.io.stderr(text),
    });
  registerServeCommands(program, context);
  registerMigrateCommand(program, context);
  registerKeyCommands(program, context);
  registerAuditCommands(program, context);
  registerBlockCommands(program, context.io);
  registerCoinselectCommands(program, context.io);
  registerReportCommands(program, context);
  registerRegistryCommands(program, context);
  registerMiningCommands(program, context);
  registerProvenanceCommands(program, context);
  registerDemoCommands(program, context);
  registerListsCommands(program, context);
  registerScreenCommands(program, context);
  registerTradeCommands(program, context);
  registerLedgerCommands(program, context);
  registerSimnetCommands(program, {
    io: context.io,
    openDatabase: async () => {
      const config = context.config();
      const db = await openDatabase({
        url: config.DATABASE_URL,
        dataDir: path.join(config.DATA_DIR, 'db'),
      });
      await db.migrate();
      return db;
    },
  });
  return program;
}

/**
 * Runs the CLI and returns the exit code. Errors become one line on stderr: the AppError's
 * message for bad input, a generic line (never a stack) for anything unexpected.
 */
export async function runCli(argv: readonly string[], context: CliContext): Promise<number> {
  const program = buildProgram(context);
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

import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { AppError, systemClock, type Clock } from '../../kernel';
import type { Database } from '../../db';
import { Simnet, startSimnetEsploraServer, startSimnetRpcServer } from '../../chain';
import { processIo, type CliIo } from '../io';

/** What the `simnet` command needs; the composition root passes the configured database. */
export interface SimnetCommandDeps {
  /** Opens the configured database, migrated. The command closes it when it stops. */
  openDatabase(): Promise<Database>;
  io?: CliIo;
  clock?: Clock;
  /** Stops the command when aborted (tests); SIGINT and SIGTERM always do. */
  signal?: AbortSignal;
}

interface SimnetCommandOptions {
  rpcPort: string;
  rpcHost: string;
  esploraPort?: string;
  rpcUser: string;
  rpcPassword?: string;
  blockInterval: string;
  mineTo?: string;
}

function parsePort(value: string, option = 'rpc-port'): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65_535) {
    throw new AppError(
      'VALIDATION_FAILED',
      `--${option} must be a port number from 0 to 65535, got "${value}"`,
      {
        issues: [{ field: option, message: 'not a port number' }],
      },
    );
  }
  return port;
}

function parseInterval(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `--block-interval must be a number of seconds (0 for no automatic mining), got "${value}"`,
      { issues: [{ field: 'block-interval', message: 'not a number of seconds' }] },
    );
  }
  return Number(value);
}

/**
 * `tradeclear simnet`: runs the embedded regtest-like chain, persisted in the configured
 * database, with its Bitcoin Core JSON-RPC server (and, with `--esplora-port`, an Esplora HTTP
 * API), optionally mining a block every `--block-interval` seconds to `--mine-to`.
 */
export function registerSimnetCommands(program: Command, deps: SimnetCommandDeps): void {
  program
    .command('simnet')
    .description('run the embedded simnet chain with a Bitcoin Core JSON-RPC server')
    .option('--rpc-port <port>', 'JSON-RPC port (0 picks a free one)', '18443')
    .option('--rpc-host <host>', 'interface to listen on', '127.0.0.1')
    .option('--rpc-user <user>', 'JSON-RPC user name', 'simnet')
    .option('--rpc-password <password>', 'JSON-RPC password (default: a random one, printed)')
    .option(
      '--esplora-port <port>',
      'also serve the Esplora HTTP API on this port, on the same interface (0 picks a free one)',
    )
    .option('--block-interval <seconds>', 'mine a block every N seconds (0: only on request)', '0')
    .option('--mine-to <address>', 'regtest address the automatic blocks pay')
    .action((options: SimnetCommandOptions) => runSimnet(options, deps));
}

async function runSimnet(options: SimnetCommandOptions, deps: SimnetCommandDeps): Promise<void> {
  const io = deps.io ?? processIo;
  const port = parsePort(options.rpcPort);
  const esploraPort =
    options.esploraPort === undefined ? undefined : parsePort(options.esploraPort, 'esplora-port');
  const interval = parseInterval(options.blockInterval);
  if (interval > 0 && !options.mineTo) {
    throw new AppError(
      'VALIDATION_FAILED',
      '--mine-to is required when --block-interval is above 0',
      {
        issues: [{ field: 'mine-to', message: 'required with --block-interval' }],
      },
    );
  }
  const db = await deps.openDatabase();
  let server: Awaited<ReturnType<typeof startSimnetRpcServer>> | undefined;
  let esplora: Awaited<ReturnType<typeof startSimnetEsploraServer>> | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const simnet = await Simnet.open({ db, clock: deps.clock ?? systemClock });
    const payTo = options.mineTo ? simnet.scriptForAddress(options.mineTo) : undefined;
    const password = options.rpcPassword ?? randomBytes(18).toString('base64url');
    server = await startSimnetRpcServer({
      simnet,
      port,
      host: options.rpcHost,
      username: options.rpcUser,
      password,
    });
    if (esploraPort !== undefined) {
      esplora = await startSimnetEsploraServer({
        simnet,
        port: esploraPort,
        host: options.rpcHost,
      });
    }
    const tip = simnet.tip();
    io.stdout(`simnet (regtest) at height ${tip.height}, tip ${tip.hash}`);
    io.stdout(`  JSON-RPC: ${server.url}`);
    io.stdout(`  user:     ${options.rpcUser}`);
    if (!options.rpcPassword) io.stdout(`  password: ${password}`);
    if (esplora) io.stdout(`  Esplora:  ${esplora.url}`);
    if (payTo) {
      io.stdout(`  mining a block every ${interval} s to ${options.mineTo}`);
      timer = setInterval(() => {
        simnet.mine(1, payTo).catch((error: unknown) => {
          io.stderr(
            `simnet: mining failed: ${error instanceof Error ? error.message : String(error)}`,
          );
        });
      }, interval * 1000);
    }
    await new Promise<void>((resolve) => {
      const stop = () => {
        process.off('SIGINT', stop);
        process.off('SIGTERM', stop);
        resolve();
      };
      deps.signal?.addEventListener('abort', stop, { once: true });
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
      if (deps.signal?.aborted) stop();
    });
    io.stdout('simnet: stopping');
  } finally {
    if (timer) clearInterval(timer);
    await esplora?.close();
    await server?.close();
    await db.close();
  }
}

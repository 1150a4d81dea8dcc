import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openDatabase } from './db';
import {
  BitcoindChainSource,
  ChainWatcher,
  EsploraChainSource,
  Simnet,
  SimnetChainSource,
  type ChainSource,
  type WatcherLogger,
} from './chain';
import { AppError, systemClock, type Clock, type Config, type Random } from './kernel';
import { SimulatedBank } from './clearing';
import { FixedRateSource } from './ledger';
import {
  InProcessJobRunner,
  postgresJobRunner,
  type JobEvents,
  type JobRunner,
  type PeriodicJob,
} from './jobs';
import { buildApp, type ServerMetrics } from './http';
import { composeServices, defaultPorts, type Ports, type Services } from './services';

/**
 * The composition root: reads the configuration, opens the adapters and wires the services.
 * Nothing else in the code base constructs a service from the environment.
 */
export interface Platform extends Ports {
  services: Services;
  /** The chain the platform follows (null when opened without one, e.g. for short CLI commands). */
  chain: ChainSource | null;
  /** The embedded chain, when CHAIN=simnet and the chain was opened. */
  simnet: Simnet | null;
  /** The manual rate desk trade prices with when no market source is configured (demo, tests). */
  rateDesk: FixedRateSource;
  /**
   * On simnet, the market's settlement bank: an in-process bank whose confirmations `market.tick`
   * reads (the demo pays deals' fiat legs through it). Null on a real chain, where confirmations
   * come from the bank's files (POST /v1/market/confirmations).
   */
  simulatedBank: SimulatedBank | null;
  close(): Promise<void>;
}

export interface OpenPlatformOptions {
  clock?: Clock;
  random?: Random;
  migrate?: boolean;
  /**
   * Open the configured chain source too (simnet over the platform database, Bitcoin Core or
   * an Esplora server):
   * the server and the demo need it; short CLI commands do not load the chain.
   */
  chain?: boolean;
}

/**
 * The passphrase sealing the platforms' local signer keys on simnet. Simnet coins are worthless
 * and the demo prints its logins, so a fixed passphrase is honest there; on any other chain
 * signing goes through an external signer and no local key is unsealed.
 */
export const SIMNET_SIGNER_PASSPHRASE = 'tradeclear simnet demo signer (not for real funds)';

export async function openPlatform(
  config: Config,
  options: OpenPlatformOptions = {},
): Promise<Platform> {
  const db = await openDatabase({
    url: config.DATABASE_URL,
    dataDir: path.join(config.DATA_DIR, 'db'),
  });
  try {
    if (options.migrate ?? true) await db.migrate();
    const clock = options.clock ?? systemClock;
    let simnet: Simnet | null = null;
    let chain: ChainSource | null = null;
    if (options.chain) {
      if (config.CHAIN === 'simnet') {
        simnet = await Simnet.open({ db, clock });
        chain = new SimnetChainSource(simnet);
      } else if (config.CHAIN === 'esplora') {
        if (!config.ESPLORA_URL || !config.NETWORK)
          throw new AppError('CONFIG_INVALID', 'ESPLORA_URL and NETWORK are required');
        chain = await EsploraChainSource.connect({
          network: config.NETWORK,
          client: { url: config.ESPLORA_URL },
        });
      } else {
        // CHAIN=bitcoind (the config schema admits no other value).
        if (!config.BITCOIND_URL || !config.NETWORK)
          throw new AppError('CONFIG_INVALID', 'BITCOIND_URL and NETWORK are required');
        chain = await BitcoindChainSource.connect({
          network: config.NETWORK,
          rpc: { url: config.BITCOIND_URL },
        });
      }
    }
    const rateDesk = new FixedRateSource('manual', clock);
    const simulatedBank = config.CHAIN === 'simnet' ? new SimulatedBank() : null;
    const ports = defaultPorts({
      db,
      config,
      clock,
      ...(options.random ? { random: options.random } : {}),
      trade: {
        chain,
        rateSource: rateDesk,
        signerPassphrase: () => (config.CHAIN === 'simnet' ? SIMNET_SIGNER_PASSPHRASE : null),
      },
      ...(simulatedBank ? { market: { bank: simulatedBank } } : {}),
    });
    const services = composeServices(ports);
    // Webhook secrets written in plain text before they were encrypted at rest are sealed now.
    if (options.migrate ?? true) await services.trade.sealLegacyWebhookSecrets();
    return {
      ...ports,
      services,
      chain,
      simnet,
      rateDesk,
      simulatedBank,
      close: () => db.close(),
    };
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function buildHttpApp(
  platform: Platform,
  options: { operatorToken?: string; metrics?: ServerMetrics } = {},
): Promise<FastifyInstance> {
  return buildApp({ ...platform, services: platform.services, ...options });
}

/**
 * A chain watcher over the platform's chain with every module's consumer registered: trade
 * (wallet coins, invoice payments, payout confirmations) and mining (attribution, provenance).
 */
export async function openWatcher(
  platform: Platform,
  options: { logger?: WatcherLogger; pollIntervalMs?: number; startHeight?: number } = {},
): Promise<ChainWatcher> {
  const source = platform.chain;
  if (!source) throw new AppError('CONFIG_INVALID', 'the platform was opened without a chain');
  const watcher = new ChainWatcher({
    source,
    database: platform.db,
    clock: platform.clock,
    // Simnet is ours from genesis, so the watcher follows it from the first block; on Bitcoin
    // Core it starts at the tip of the first sync (no replay of history unless asked).
    ...(options.startHeight !== undefined
      ? { startHeight: options.startHeight }
      : platform.simnet
        ? { startHeight: 1 }
        : {}),
    ...(options.pollIntervalMs !== undefined ? { pollIntervalMs: options.pollIntervalMs } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
  await watcher.registerConsumer(platform.services.trade.chainConsumer());
  await watcher.registerConsumer(platform.services.mining.chainConsumer());
  await watcher.registerConsumer(platform.services.clearing.chainConsumer()); // after mining's
  // Settlement windows' bitcoin pay-ins, after clearing's.
  await watcher.registerConsumer(platform.services.settlementWindows.chainConsumer());
  return watcher;
}

/** The advisory lock key of the one server that runs simnet on a PostgreSQL database. */
const SIMNET_SERVER_LOCK = 7_233_002;

export interface Runtime {
  readonly watcher: ChainWatcher;
  /** Runs the background jobs: in this process, or through PostgreSQL's job queue. */
  readonly jobs: JobRunner;
  /** Blocks between the chain's tip and the watcher's cursor (null before the first block). */
  watcherLag(): Promise<number | null>;
  /** Stops taking jobs, waits for the runs under way here (drain), then stops the watcher. */
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  logger?: WatcherLogger;
  onError?: (where: string, error: unknown) => void;
  onRun?: JobEvents['onRun'];
  /** Address simnet's blocks pay when no one else is mining (default: an unspendable burn). */
  minerAddress?: () => string | Uint8Array;
  tickMs?: number;
  extra?: () => Promise<void>;
  extraIntervalMs?: number;
  /**
   * Where the jobs run: `in-process` (the default on the embedded database), or `postgres`
   * (the default on PostgreSQL: one job queue shared by every server on the database).
   */
  jobs?: 'in-process' | 'postgres';
}

/**
 * The background work of a serving platform, as periodic singleton jobs:
 * - `chain.sync`: the watcher brings the cursor to the chain's tip (blocks, in each block's
 *   transaction) and announces new mempool transactions (invoice payments seen early);
 * - `events.relay`: what modules announced through the outbox, handed to their subscribers once
 *   each (an officer's review resolution reaches trade within a second);
 * - `events.prune`: the outbox's events every subscriber handled, past OUTBOX_RETENTION_HOURS
 *   (the live feed's alone past OUTBOX_FEED_RETENTION_MINUTES), deleted in bounded batches;
 * - `rates.fixing`: the day's reference-rate fixings, published at the supervisor's cut-off;
 * - `clearing.windows`: settlement windows closed at the supervisor's cut-off, settled when every
 *   pay-in arrived or, at the deadline, without the platforms that did not pay in, and a settled
 *   window's bitcoin pay-outs signed (one stored transaction per window) and broadcast;
 * - `trade.tick`: invoice expiry, payer lookups, payout batching and re-broadcast, confirmations,
 *   webhook delivery from the outbox;
 * - `market.tick`: the domestic market's bank confirmations, delivery broadcasts and settlements,
 *   and the unwinding of deals past their deadline;
 * - `simnet.mine`: simnet's block every SIMNET_BLOCK_INTERVAL_SECONDS;
 * - `demo.activity`: the demo's trickle of activity (`extra`), on its own period when given one,
 *   else inside `trade.tick`.
 */
export function backgroundJobs(
  platform: Platform,
  watcher: ChainWatcher,
  options: RuntimeOptions = {},
): PeriodicJob[] {
  const trade = platform.services.trade;
  const jobs: PeriodicJob[] = [
    {
      name: 'chain.sync',
      everyMs: 2_000,
      run: async () => {
        await watcher.syncOnce();
        await watcher.syncMempool();
      },
    },
    {
      name: 'events.relay',
      everyMs: 1_000,
      run: async () => void (await platform.services.events.run()),
    },
    {
      // Every subscriber of the deployment is on this relay (services.ts): it alone may prune.
      name: 'events.prune',
      everyMs: 60_000,
      run: async () => void (await platform.services.events.prune()),
    },
    {
      name: 'rates.fixing',
      everyMs: 60_000,
      run: async () => void (await platform.services.rates.fixings?.publishDueFixings()),
    },
    {
      name: 'clearing.windows',
      everyMs: 30_000,
      run: async () => void (await platform.services.settlementWindows.runDue()),
    },
  ];
  const extra = options.extra;
  const ownTimer = extra !== undefined && options.extraIntervalMs !== undefined;
  jobs.push({
    name: 'trade.tick',
    everyMs: options.tickMs ?? 10_000,
    run: async () => {
      await trade.tick();
      if (extra && !ownTimer) await extra();
    },
  });
  jobs.push({
    name: 'market.tick',
    everyMs: options.tickMs ?? 10_000,
    run: async () => void (await platform.services.market.tick()),
  });
  const interval = platform.config.SIMNET_BLOCK_INTERVAL_SECONDS;
  const simnet = platform.simnet;
  if (simnet && interval > 0) {
    // An OP_RETURN coinbase burns the subsidy when nobody registered mines: no one's coins.
    const payTo = options.minerAddress ?? (() => new Uint8Array([0x6a]));
    jobs.push({
      name: 'simnet.mine',
      everyMs: interval * 1000,
      run: async () => {
        await simnet.mine(1, payTo());
        await watcher.syncOnce();
      },
    });
  }
  if (extra && ownTimer && options.extraIntervalMs !== undefined)
    jobs.push({ name: 'demo.activity', everyMs: options.extraIntervalMs, run: extra });
  return jobs;
}

/**
 * Starts the background work of a serving platform (see `backgroundJobs`) after one sync of the
 * chain. On the embedded database the jobs run in this process, one at a time; on PostgreSQL
 * through the job queue, so that several servers on one database do each run once.
 */
export async function startRuntime(
  platform: Platform,
  options: RuntimeOptions = {},
): Promise<Runtime> {
  // Simnet mines and keeps its mempool in the process that runs it: one server per database.
  const releaseSimnet = platform.simnet
    ? await platform.db.holdExclusive(SIMNET_SERVER_LOCK)
    : null;
  if (platform.simnet && !releaseSimnet)
    throw new AppError(
      'CONFLICT',
      'another server already runs the embedded chain (CHAIN=simnet) on this database; simnet is for one server, several servers need CHAIN=bitcoind or CHAIN=esplora (docs/deploy.md)',
    );
  try {
    const runtime = await startJobs(platform, options);
    return {
      ...runtime,
      async stop() {
        await runtime.stop();
        await releaseSimnet?.();
      },
    };
  } catch (error) {
    await releaseSimnet?.();
    throw error;
  }
}

async function startJobs(platform: Platform, options: RuntimeOptions): Promise<Runtime> {
  const report = options.onError ?? (() => {});
  const watcher = await openWatcher(platform, { pollIntervalMs: 2_000, ...options });
  const trade = platform.services.trade;
  const source = platform.chain;
  const offMempool = watcher.on('mempoolTx', (wtx) => {
    if (!source) return;
    void (async () => {
      const tip = (await source.getTip()).height;
      await trade.invoices.mempoolTransaction(wtx, await source.getRawTransaction(wtx.txid), tip);
    })().catch((error: unknown) => report('mempool', error));
  });
  await watcher.syncOnce();
  const url = platform.config.DATABASE_URL;
  const kind = options.jobs ?? (url && platform.db.kind === 'postgres' ? 'postgres' : 'in-process');
  const events: JobEvents = {
    onError: report,
    ...(options.onRun ? { onRun: options.onRun } : {}),
  };
  let jobs: JobRunner;
  if (kind === 'postgres') {
    if (!url) throw new AppError('CONFIG_INVALID', 'jobs on PostgreSQL need DATABASE_URL');
    jobs = await postgresJobRunner({ connectionString: url, ...events });
  } else {
    jobs = new InProcessJobRunner(events);
  }
  try {
    await jobs.start(backgroundJobs(platform, watcher, options));
  } catch (error) {
    // Nothing keeps running in a process told that its start failed.
    await jobs.stop().catch(() => undefined);
    offMempool();
    await watcher.stop();
    throw error;
  }
  return {
    watcher,
    jobs,
    async watcherLag() {
      const cursor = await watcher.cursor();
      if (!cursor || !source) return null;
      return Math.max(0, (await source.getTip()).height - cursor.height);
    },
    async stop() {
      await jobs.stop();
      offMempool();
      await watcher.stop();
    },
  };
}

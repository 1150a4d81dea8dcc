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
import { FixedRateSource } from './ledger';
import { prevoutLookupFromSource } from './mining';
import { buildApp } from './http';
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
    });
    const services = composeServices(ports);
    // Webhook secrets written in plain text before they were encrypted at rest are sealed now.
    if (options.migrate ?? true) await services.trade.sealLegacyWebhookSecrets();
    return { ...ports, services, chain, simnet, rateDesk, close: () => db.close() };
  } catch (error) {
    await db.close();
    throw error;
  }
}

export async function buildHttpApp(
  platform: Platform,
  options: { operatorToken?: string } = {},
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
  await watcher.registerConsumer(
    platform.services.mining.chainConsumer({ prevouts: prevoutLookupFromSource(source) }),
  );
  await watcher.registerConsumer(platform.services.clearing.chainConsumer()); // after mining's
  return watcher;
}

export interface Runtime {
  readonly watcher: ChainWatcher;
  stop(): Promise<void>;
}

/**
 * Starts the background work of a serving platform: the watcher's polling (blocks and mempool,
 * invoice payments seen in the mempool), simnet's block every SIMNET_BLOCK_INTERVAL_SECONDS, and
 * trade's periodic work (invoice expiry, payout batching and re-broadcast, webhook delivery).
 * `extra` (the demo's trickle of activity) runs every `extraIntervalMs`, or on trade's timer
 * without one. All of it runs one piece at a time; `stop` lets the piece under way finish and
 * drops what was queued behind it.
 */
export async function startRuntime(
  platform: Platform,
  options: {
    logger?: WatcherLogger;
    onError?: (where: string, error: unknown) => void;
    /** Address simnet's blocks pay when no one else is mining (default: an unspendable burn). */
    minerAddress?: () => string | Uint8Array;
    tickMs?: number;
    extra?: () => Promise<void>;
    extraIntervalMs?: number;
  } = {},
): Promise<Runtime> {
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
  const offError = watcher.on('error', (error) => report('watcher', error));
  await watcher.syncOnce();
  watcher.start();

  const timers: NodeJS.Timeout[] = [];
  let busy = Promise.resolve();
  let stopping = false;
  const serial = (where: string, fn: () => Promise<void>) => {
    busy = busy
      .then(() => (stopping ? undefined : fn()))
      .catch((error: unknown) => report(where, error));
  };
  const interval = platform.config.SIMNET_BLOCK_INTERVAL_SECONDS;
  const simnet = platform.simnet;
  if (simnet && interval > 0) {
    // An OP_RETURN coinbase burns the subsidy when nobody registered mines: no one's coins.
    const payTo = options.minerAddress ?? (() => new Uint8Array([0x6a]));
    timers.push(
      setInterval(
        () =>
          serial('simnet', async () => {
            await simnet.mine(1, payTo());
            await watcher.syncOnce();
          }),
        interval * 1000,
      ),
    );
  }
  const tickMs = options.tickMs ?? 10_000;
  const extra = options.extra;
  const ownTimer = extra !== undefined && options.extraIntervalMs !== undefined;
  timers.push(
    setInterval(
      () =>
        serial('tick', async () => {
          await trade.tick();
          if (extra && !ownTimer) await extra();
        }),
      tickMs,
    ),
  );
  if (extra && ownTimer) {
    // At most one queued at a time: a slow action delays the next instead of piling them up.
    let queued = false;
    timers.push(
      setInterval(() => {
        if (queued) return;
        queued = true;
        serial('extra', () => extra().finally(() => (queued = false)));
      }, options.extraIntervalMs),
    );
  }
  return {
    watcher,
    async stop() {
      stopping = true;
      for (const timer of timers) clearInterval(timer);
      await busy;
      offMempool();
      offError();
      await watcher.stop();
    },
  };
}

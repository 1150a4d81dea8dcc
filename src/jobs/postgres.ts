import { PgBoss, type Job } from 'pg-boss';
import type { JobEvents, JobQueueDepth, JobRunner, PeriodicJob } from './job';

/** The schema the job queue keeps its tables in, beside the platform's. */
export const JOBS_SCHEMA = 'tradeclear_jobs';

export interface PostgresJobRunnerOptions extends JobEvents {
  readonly connectionString: string;
  /**
   * Seconds without a heartbeat after which a run is taken as dead (its server killed or cut
   * off) and retried on another server. pg-boss accepts 10 or more.
   */
  readonly heartbeatSeconds?: number;
  /** How often each server looks for dead runs and expired ones (seconds, default 2). */
  readonly superviseSeconds?: number;
  /** Connections this server's queue client may hold (default 4). */
  readonly maxConnections?: number;
  /** How long `stop` waits for runs under way (default 30 s). */
  readonly drainTimeoutMs?: number;
}

/**
 * Runs the platform's periodic jobs through pg-boss, a job queue on PostgreSQL, shared by every
 * server on one database:
 *
 * - Each job is a queue with the `exclusive` policy: at most one run exists at a time, waiting or
 *   under way, on any server. Every server offers the next run (a ticker `send`s one that starts
 *   `everyMs` from now); the database keeps one and refuses the rest, so a job runs once per
 *   period however many servers there are.
 * - A run sends heartbeats while it works. A server that dies mid-run stops them; after
 *   `heartbeatSeconds` another server's supervisor fails the run and it is retried there.
 * - A failed run is retried with exponential backoff and jitter (pg-boss's `retryBackoff`),
 *   capped at a minute; the slot stays taken meanwhile, so failures are not piled up.
 * - `stop` stops offering and taking runs, waits for this server's runs to finish (drain) and
 *   closes the queue's connections.
 */
export class PostgresJobRunner implements JobRunner {
  readonly kind = 'postgres' as const;
  readonly #options: PostgresJobRunnerOptions;
  readonly #tickers: NodeJS.Timeout[] = [];
  #boss: PgBoss | null = null;
  #names: string[] = [];
  #stopping = false;

  constructor(options: PostgresJobRunnerOptions) {
    this.#options = options;
  }

  async start(jobs: readonly PeriodicJob[]): Promise<void> {
    const options = this.#options;
    const superviseSeconds = options.superviseSeconds ?? 2;
    const boss = new PgBoss({
      connectionString: options.connectionString,
      schema: JOBS_SCHEMA,
      application_name: 'tradeclear-jobs',
      max: options.maxConnections ?? 4,
      supervise: true,
      superviseIntervalSeconds: superviseSeconds,
      monitorIntervalSeconds: superviseSeconds,
      // Our jobs are periodic by ticker; pg-boss's cron (minute resolution) is not used.
      schedule: false,
    });
    boss.on('error', (error: unknown) => options.onError?.('jobs', error));
    await boss.start();
    this.#boss = boss;
    this.#names = jobs.map((job) => job.name);
    for (const job of jobs) {
      await boss.createQueue(job.name, {
        policy: 'exclusive',
        heartbeatSeconds: options.heartbeatSeconds ?? 10,
        // A run that neither finishes nor stops beating within the hour is ended and retried.
        expireInSeconds: 3_600,
        retryLimit: 20,
        retryDelay: 1,
        retryBackoff: true,
        retryDelayMax: 60,
        deleteAfterSeconds: 3_600,
      });
      await boss.work(
        job.name,
        { localConcurrency: 1, batchSize: 1, pollingIntervalSeconds: 0.5 },
        (batch: Job[]) => this.#run(job, batch),
      );
    }
    for (const job of jobs) {
      const offer = () => void this.#offer(job);
      offer();
      // Offer often (the slot is usually taken: the database refuses cheaply); the run itself
      // starts `everyMs` after it was offered.
      const ticker = setInterval(offer, Math.min(job.everyMs, 1_000));
      ticker.unref?.();
      this.#tickers.push(ticker);
    }
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const ticker of this.#tickers.splice(0)) clearInterval(ticker);
    const boss = this.#boss;
    this.#boss = null;
    if (boss)
      await boss.stop({
        graceful: true,
        close: true,
        timeout: this.#options.drainTimeoutMs ?? 30_000,
      });
  }

  async depth(): Promise<JobQueueDepth[]> {
    const boss = this.#boss;
    if (!boss) return [];
    const queues = await boss.getQueues(this.#names);
    return queues
      .map((queue) => ({
        name: queue.name,
        queued: Number(queue.queuedCount),
        active: Number(queue.activeCount),
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async #offer(job: PeriodicJob): Promise<void> {
    const boss = this.#boss;
    if (!boss || this.#stopping) return;
    try {
      await boss.send(job.name, null, { startAfter: Math.max(1, Math.round(job.everyMs / 1000)) });
    } catch (error) {
      this.#options.onError?.(job.name, error);
    }
  }

  async #run(job: PeriodicJob, _batch: Job[]): Promise<void> {
    const started = performance.now();
    try {
      await job.run();
      this.#options.onRun?.(job.name, performance.now() - started, true);
    } catch (error) {
      this.#options.onError?.(job.name, error);
      this.#options.onRun?.(job.name, performance.now() - started, false);
      throw error; // pg-boss records the failure and retries with backoff
    }
  }
}

import {
  backoffMs,
  type JobEvents,
  type JobQueueDepth,
  type JobRunner,
  type PeriodicJob,
} from './job';

/**
 * Runs the jobs in this process, one run at a time across all of them: the embedded database has
 * a single connection, so runs side by side would only queue on it. Each job is due every
 * `everyMs` (later after failures, see `backoffMs`); at most one run of a job waits at a time.
 * `stop` lets the run under way finish and drops what waits behind it.
 */
export class InProcessJobRunner implements JobRunner {
  readonly kind = 'in-process' as const;
  readonly #events: JobEvents;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #queued = new Set<string>();
  #names: string[] = [];
  #running: string | null = null;
  #busy: Promise<void> = Promise.resolve();
  #stopping = false;

  constructor(events: JobEvents = {}) {
    this.#events = events;
  }

  start(jobs: readonly PeriodicJob[]): Promise<void> {
    this.#names = jobs.map((job) => job.name).sort();
    for (const job of jobs) this.#schedule(job, job.everyMs, 0);
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#busy;
  }

  depth(): Promise<JobQueueDepth[]> {
    return Promise.resolve(
      this.#names.map((name) => ({
        name,
        queued: this.#queued.has(name) ? 1 : 0,
        active: this.#running === name ? 1 : 0,
      })),
    );
  }

  #schedule(job: PeriodicJob, delayMs: number, failures: number): void {
    if (this.#stopping) return;
    const timer = setTimeout(() => this.#enqueue(job, failures), delayMs);
    timer.unref?.();
    this.#timers.set(job.name, timer);
  }

  #enqueue(job: PeriodicJob, failures: number): void {
    this.#timers.delete(job.name);
    this.#queued.add(job.name);
    this.#busy = this.#busy.then(async () => {
      this.#queued.delete(job.name);
      if (this.#stopping) return;
      this.#running = job.name;
      const started = performance.now();
      let ok = true;
      try {
        await job.run();
      } catch (error) {
        ok = false;
        this.#events.onError?.(job.name, error);
      } finally {
        this.#running = null;
      }
      this.#events.onRun?.(job.name, performance.now() - started, ok);
      const next = ok ? 0 : failures + 1;
      this.#schedule(job, backoffMs(job.everyMs, next), next);
    });
  }
}

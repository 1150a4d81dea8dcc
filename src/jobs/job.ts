/**
 * Background work as named, periodic, singleton jobs. A serving platform declares its jobs once
 * (src/app.ts `backgroundJobs`); a `JobRunner` runs them: in this process on the embedded
 * database (`InProcessJobRunner`), or through a job queue on PostgreSQL shared by every server
 * (`PostgresJobRunner`), which runs each job on one server at a time and hands it to another
 * when that server dies.
 */
export interface PeriodicJob {
  /** A stable queue name, `module.work` (e.g. `chain.sync`). */
  readonly name: string;
  /** How often the job is due. A run that overruns delays the next; runs never overlap. */
  readonly everyMs: number;
  /**
   * One run. It must be safe to run again after a crash at any point (the work it commits is
   * keyed, so a repeat finds it done): a server killed mid-run has its run retried elsewhere.
   */
  run(): Promise<void>;
}

export interface JobQueueDepth {
  readonly name: string;
  /** Runs waiting (due, or retrying after a failure). */
  readonly queued: number;
  /** Runs under way (on any server). */
  readonly active: number;
}

export interface JobRunner {
  /** `in-process` (this process only) or `postgres` (one queue for every server). */
  readonly kind: 'in-process' | 'postgres';
  start(jobs: readonly PeriodicJob[]): Promise<void>;
  /** Stops taking runs, lets the runs under way here finish (drain), then returns. */
  stop(): Promise<void>;
  depth(): Promise<JobQueueDepth[]>;
}

export interface JobEvents {
  /** A run failed; it is retried with backoff (the error is not rethrown anywhere else). */
  onError?(job: string, error: unknown): void;
  /** A run finished (successfully or not), with its duration. */
  onRun?(job: string, ms: number, ok: boolean): void;
}

/**
 * Delay before the next run after `failures` consecutive failures: doubling from the job's
 * period, capped, with full jitter in the upper half so that servers retrying the same failing
 * dependency do not retry in step.
 */
export function backoffMs(
  everyMs: number,
  failures: number,
  capMs = 60_000,
  random: () => number = Math.random,
): number {
  if (failures <= 0) return everyMs;
  const ceiling = Math.min(everyMs * 2 ** Math.min(failures, 30), Math.max(capMs, everyMs));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

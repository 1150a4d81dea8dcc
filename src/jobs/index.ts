import type { JobRunner } from './job';
import type { PostgresJobRunnerOptions } from './postgres';

export * from './job';
export { InProcessJobRunner } from './in-process';
export type { PostgresJobRunnerOptions } from './postgres';

/** The job queue on PostgreSQL (see postgres.ts); pg-boss loads only where it is used. */
export async function postgresJobRunner(options: PostgresJobRunnerOptions): Promise<JobRunner> {
  const { PostgresJobRunner } = await import('./postgres');
  return new PostgresJobRunner(options);
}

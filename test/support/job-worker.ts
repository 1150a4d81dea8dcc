/**
 * A server stand-in for the job queue tests: runs `probe.work` (every 500 ms, each run recorded
 * in `probe_runs` with its worker and start and end times, taking 400 ms) through the
 * PostgreSQL job runner until SIGTERM (drain, then exit 0) or SIGKILL.
 * Env: JOB_DB_URL, WORKER.
 */
import pg from 'pg';
import { postgresJobRunner } from '../../src/jobs';

const url = process.env.JOB_DB_URL;
const worker = process.env.WORKER ?? String(process.pid);
if (!url) throw new Error('JOB_DB_URL is not set');
const pool = new pg.Pool({ connectionString: url, max: 2 });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const runner = await postgresJobRunner({
  connectionString: url,
  onError: (job, error) => process.stderr.write(`${job}: ${String(error)}\n`),
});
await runner.start([
  {
    name: 'probe.work',
    everyMs: 500,
    async run() {
      const { rows } = await pool.query<{ id: number }>(
        'insert into probe_runs (worker, started_at) values ($1, clock_timestamp()) returning id',
        [worker],
      );
      await sleep(400);
      await pool.query('update probe_runs set finished_at = clock_timestamp() where id = $1', [
        rows[0]!.id,
      ]);
    },
  },
]);
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  void runner
    .stop()
    .then(() => pool.end())
    .then(() => process.exit(0));
});

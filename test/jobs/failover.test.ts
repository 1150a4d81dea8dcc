import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresJobRunner } from '../../src/jobs';
import { scratchPostgresDatabase } from '../support/db';

/**
 * The job queue on PostgreSQL as several servers use it: separate processes on one database run
 * a periodic job exactly once at a time; one killed mid-run is replaced by another within
 * seconds; one told to stop finishes its run first (drain); a failing run is retried with
 * growing delays.
 */
const WORKER = path.join(import.meta.dirname, '../support/job-worker.ts');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Run {
  id: number;
  worker: string;
  started_at: Date;
  finished_at: Date | null;
}

describe.runIf(process.env.TEST_DATABASE_URL)('periodic jobs on PostgreSQL', () => {
  let database: Awaited<ReturnType<typeof scratchPostgresDatabase>>;
  let pool: pg.Pool;
  const children = new Map<string, ChildProcess>();

  beforeAll(async () => {
    database = await scratchPostgresDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    await pool.query(
      'create table probe_runs (id serial primary key, worker text not null, started_at timestamptz not null, finished_at timestamptz)',
    );
  });

  afterAll(async () => {
    for (const child of children.values()) child.kill('SIGKILL');
    await pool?.end();
    await database?.drop();
  });

  const start = (worker: string) =>
    new Promise<ChildProcess>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', WORKER], {
        env: { ...process.env, JOB_DB_URL: database.url, WORKER: worker },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      children.set(worker, child);
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`${worker} exited with ${code}`)));
      child.stdout.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('ready')) resolve(child);
      });
    });

  const exited = (child: ChildProcess) =>
    new Promise<number | null>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
      else child.once('exit', (code) => resolve(code));
    });

  const runs = async () =>
    (await pool.query<Run>('select * from probe_runs order by started_at')).rows;

  const waitFor = async <T>(what: string, probe: () => Promise<T | null>, ms: number) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await probe();
      if (value !== null) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
  };

  it('runs once at a time across servers, survives a kill and drains on stop', async () => {
    await Promise.all(['a', 'b', 'c'].map(start));
    await waitFor('six runs', async () => ((await runs()).length >= 6 ? true : null), 30_000);

    // Kill the server whose run is under way, mid-run.
    const victim = await waitFor(
      'a run under way',
      async () => (await runs()).find((run) => run.finished_at === null) ?? null,
      10_000,
    );
    children.get(victim.worker)!.kill('SIGKILL');
    await exited(children.get(victim.worker)!);
    const killedAt = Date.now();
    const successor = await waitFor(
      'a run after the kill',
      async () =>
        (await runs()).find(
          (run) => run.started_at.getTime() > victim.started_at.getTime() && run.finished_at,
        ) ?? null,
      40_000,
    );
    const takeoverSeconds = (successor.started_at.getTime() - killedAt) / 1000;
    expect(successor.worker).not.toBe(victim.worker);
    // Heartbeats every 5 s, dead after 10 s, supervisors look every 2 s.
    expect(takeoverSeconds).toBeLessThan(20);

    // Stop (SIGTERM) the server whose run is under way: it finishes the run, then exits 0.
    const draining = await waitFor(
      'a run under way on a live server',
      async () =>
        (await runs()).find((run) => run.finished_at === null && run.id !== victim.id) ?? null,
      10_000,
    );
    const child = children.get(draining.worker)!;
    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    const drained = (await runs()).find((run) => run.id === draining.id)!;
    expect(drained.finished_at).not.toBeNull();

    // The last server carries on alone.
    const survivor = ['a', 'b', 'c'].find((w) => w !== victim.worker && w !== draining.worker)!;
    const before = (await runs()).length;
    await waitFor(
      'runs on the survivor',
      async () => ((await runs()).length >= before + 2 ? true : null),
      20_000,
    );
    children.get(survivor)!.kill('SIGTERM');
    expect(await exited(children.get(survivor)!)).toBe(0);

    // Exactly one run at a time: each run starts after the previous one finished, except the
    // run killed mid-way (never finished).
    const all = await runs();
    const finished = all.filter((run) => run.finished_at !== null);
    for (let i = 1; i < finished.length; i++)
      expect(finished[i]!.started_at.getTime()).toBeGreaterThanOrEqual(
        finished[i - 1]!.finished_at!.getTime(),
      );
    expect(all.filter((run) => run.finished_at === null).map((run) => run.id)).toEqual([victim.id]);
    expect(new Set(finished.map((run) => run.worker)).size).toBeGreaterThanOrEqual(2);
  }, 120_000);

  it('retries a failing run with growing delays, then carries on', async () => {
    const attempts: number[] = [];
    const runner = await postgresJobRunner({ connectionString: database.url });
    await runner.start([
      {
        name: 'probe.flaky',
        everyMs: 500,
        run() {
          attempts.push(Date.now());
          return attempts.length <= 3
            ? Promise.reject(new Error(`attempt ${attempts.length} fails`))
            : Promise.resolve();
        },
      },
    ]);
    try {
      await waitFor(
        'a run after three failures',
        () => Promise.resolve(attempts.length >= 5 ? true : null),
        40_000,
      );
      const depth = await runner.depth();
      expect(depth.map((queue) => queue.name)).toEqual(['probe.flaky']);
    } finally {
      await runner.stop();
    }
    const gaps = attempts.slice(1, 4).map((at, i) => at - attempts[i]!);
    // Backoff from 1 s doubling with jitter: 1–2 s, then 2–4 s, then 4–8 s (plus polling).
    expect(gaps[0]).toBeGreaterThanOrEqual(900);
    expect(gaps[1]).toBeGreaterThanOrEqual(1_900);
    expect(gaps[2]).toBeGreaterThanOrEqual(3_900);
  }, 60_000);
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InProcessJobRunner } from './in-process';
import { backoffMs } from './job';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('backoffMs', () => {
  it('is the period without failures, then doubles within [ceiling/2, ceiling] up to the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100_000 }),
        fc.integer({ min: 0, max: 60 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (every, failures, random) => {
          const delay = backoffMs(every, failures, 60_000, () => random);
          if (failures === 0) return delay === every;
          const ceiling = Math.min(every * 2 ** Math.min(failures, 30), Math.max(60_000, every));
          return delay >= Math.floor(ceiling / 2) && delay <= Math.ceil(ceiling);
        },
      ),
    );
  });
});

describe('InProcessJobRunner', () => {
  it('runs jobs one at a time, each on its period', async () => {
    const log: string[] = [];
    let running = 0;
    let overlaps = 0;
    const job = (name: string) => ({
      name,
      everyMs: 10,
      async run() {
        running++;
        if (running > 1) overlaps++;
        log.push(name);
        await sleep(5);
        running--;
      },
    });
    const runner = new InProcessJobRunner();
    await runner.start([job('a'), job('b')]);
    while (log.filter((n) => n === 'a').length < 5 || log.filter((n) => n === 'b').length < 5)
      await sleep(10);
    await runner.stop();
    expect(overlaps).toBe(0);
  });

  it('backs off after failures and resets after a success', async () => {
    const at: number[] = [];
    const errors: string[] = [];
    const runner = new InProcessJobRunner({ onError: (_job, error) => errors.push(String(error)) });
    await runner.start([
      {
        name: 'flaky',
        everyMs: 20,
        run() {
          at.push(performance.now());
          return at.length <= 4
            ? Promise.reject(new Error(`fail ${at.length}`))
            : Promise.resolve();
        },
      },
    ]);
    while (at.length < 6) await sleep(10);
    await runner.stop();
    expect(errors).toEqual(['Error: fail 1', 'Error: fail 2', 'Error: fail 3', 'Error: fail 4']);
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    // After 1..4 failures: at least 20, 40, 80, 160 ms (the upper half of 40, 80, 160, 320).
    expect(gaps[1]).toBeGreaterThanOrEqual(35);
    expect(gaps[2]).toBeGreaterThanOrEqual(75);
    expect(gaps[3]).toBeGreaterThanOrEqual(155);
  });

  it('stop lets the run under way finish and starts no other', async () => {
    let started = 0;
    let finished = 0;
    const runner = new InProcessJobRunner();
    await runner.start([
      {
        name: 'slow',
        everyMs: 1,
        async run() {
          started++;
          await sleep(50);
          finished++;
        },
      },
    ]);
    while (started === 0) await sleep(1);
    expect(await runner.depth()).toEqual([{ name: 'slow', queued: 0, active: 1 }]);
    await runner.stop();
    expect(finished).toBe(started);
    await sleep(30);
    expect(started).toBe(finished);
  });
});

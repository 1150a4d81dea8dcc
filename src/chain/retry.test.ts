import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { backoffOf, networkReason, retryWithBackoff, RETRY, type Backoff } from './retry';

/** A backoff whose waits advance a virtual clock instead of sleeping. */
function virtualBackoff(retries: number, retryDelayMs: number) {
  const clock = { now: 0, waits: [] as number[] };
  const backoff: Backoff = {
    retries,
    retryDelayMs,
    sleep: (ms) => {
      clock.waits.push(ms);
      clock.now += ms;
      return Promise.resolve();
    },
  };
  return { backoff, clock };
}

describe('retryWithBackoff', () => {
  it('returns the first answer without waiting', async () => {
    const { backoff, clock } = virtualBackoff(3, 250);
    await expect(retryWithBackoff(backoff, () => Promise.resolve('answer'))).resolves.toBe(
      'answer',
    );
    expect(clock.waits).toEqual([]);
  });

  it('doubles the wait on every retry and stops at the number of retries allowed', async () => {
    const { backoff, clock } = virtualBackoff(3, 250);
    const seen: { n: number; canRetry: boolean; at: number }[] = [];
    const result = await retryWithBackoff(backoff, (n, canRetry) => {
      seen.push({ n, canRetry, at: clock.now });
      return Promise.resolve(canRetry ? RETRY : `gave up after ${n + 1} attempts`);
    });
    expect(result).toBe('gave up after 4 attempts');
    expect(clock.waits).toEqual([250, 500, 1000]);
    expect(seen).toEqual([
      { n: 0, canRetry: true, at: 0 },
      { n: 1, canRetry: true, at: 250 },
      { n: 2, canRetry: true, at: 750 },
      { n: 3, canRetry: false, at: 1750 },
    ]);
  });

  it('ends as soon as an attempt answers', async () => {
    const { backoff, clock } = virtualBackoff(5, 100);
    const result = await retryWithBackoff(backoff, (n) => Promise.resolve(n < 2 ? RETRY : n));
    expect(result).toBe(2);
    expect(clock.waits).toEqual([100, 200]);
  });

  it('passes on what an attempt throws, without retrying', async () => {
    const { backoff, clock } = virtualBackoff(3, 250);
    let attempts = 0;
    await expect(
      retryWithBackoff(backoff, () => {
        attempts++;
        return Promise.reject(new Error('final answer'));
      }),
    ).rejects.toThrow('final answer');
    expect(attempts).toBe(1);
    expect(clock.waits).toEqual([]);
  });

  it('with no retries allowed, makes one attempt and refuses a RETRY from it', async () => {
    const { backoff, clock } = virtualBackoff(0, 250);
    await expect(retryWithBackoff(backoff, () => Promise.resolve(RETRY))).rejects.toThrow(
      'asked for a retry after the last one allowed',
    );
    expect(clock.waits).toEqual([]);
  });
});

describe('backoffOf', () => {
  it('defaults to 3 retries from 250 ms, and keeps what it is given', async () => {
    const defaults = backoffOf({});
    expect(defaults.retries).toBe(3);
    expect(defaults.retryDelayMs).toBe(250);
    const waits: number[] = [];
    const sleep = (ms: number) => {
      waits.push(ms);
      return Promise.resolve();
    };
    const given = backoffOf({ retries: 1, retryDelayMs: 10, sleep });
    expect(given.retries).toBe(1);
    expect(given.retryDelayMs).toBe(10);
    await given.sleep(7);
    expect(waits).toEqual([7]);
  });
});

describe('networkReason', () => {
  it('names a timeout by its limit', () => {
    const timeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(networkReason(timeout, 30_000)).toBe('no answer within 30000 ms');
  });

  it("names a refused connection by the system error's code", async () => {
    // A port that was just free: nothing listens on it, so the connection is refused.
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no TCP address');
    await new Promise<void>((resolve, reject) =>
      server.close((error) => (error ? reject(error) : resolve())),
    );
    const failure = await fetch(`http://127.0.0.1:${address.port}/`).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(networkReason(failure, 30_000)).toMatch(/^ECONNREFUSED \(.*ECONNREFUSED.*\)$/);
  });

  it('falls back to the text of what was thrown', () => {
    expect(networkReason(new Error('socket hang up'), 1)).toBe('socket hang up');
    expect(networkReason('odd', 1)).toBe('odd');
  });
});

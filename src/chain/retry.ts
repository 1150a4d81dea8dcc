/**
 * Retrying a request to a node (Bitcoin Core's JSON-RPC, an Esplora server) with exponential
 * backoff, shared by the adapters that reach one over HTTP. What is worth retrying, and the
 * error given up with, stay with each adapter.
 */

export interface BackoffOptions {
  /** Attempts after the first (default 3). */
  readonly retries?: number;
  /** First backoff delay in ms, doubled on every retry (default 250). */
  readonly retryDelayMs?: number;
  /** For tests: the wait between retries. */
  readonly sleep?: (ms: number) => Promise<void>;
}

export interface Backoff {
  readonly retries: number;
  readonly retryDelayMs: number;
  readonly sleep: (ms: number) => Promise<void>;
}

export function backoffOf(options: BackoffOptions): Backoff {
  return {
    retries: options.retries ?? 3,
    retryDelayMs: options.retryDelayMs ?? 250,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
  };
}

/** What an attempt returns to be tried again after the next backoff delay. */
export const RETRY: unique symbol = Symbol('retry');

/**
 * Runs `attempt` (numbered from 0) until it returns something other than RETRY, waiting
 * `retryDelayMs · 2^n` before attempt n + 1. `canRetry` is false on the last attempt allowed:
 * the attempt then returns or throws its final answer (RETRY returned then is a bug, and throws).
 */
export async function retryWithBackoff<T>(
  backoff: Backoff,
  attempt: (n: number, canRetry: boolean) => Promise<T | typeof RETRY>,
): Promise<T> {
  for (let n = 0; ; n++) {
    const canRetry = n < backoff.retries;
    const result = await attempt(n, canRetry);
    if (result !== RETRY) return result;
    if (!canRetry) throw new Error(`attempt ${n} asked for a retry after the last one allowed`);
    await backoff.sleep(backoff.retryDelayMs * 2 ** n);
  }
}

/** Why a request got no answer, for messages: a timeout, or the system error's code. */
export function networkReason(cause: unknown, timeoutMs: number): string {
  if (cause instanceof Error && (cause.name === 'TimeoutError' || cause.name === 'AbortError')) {
    return `no answer within ${timeoutMs} ms`;
  }
  const inner = cause instanceof Error && cause.cause instanceof Error ? cause.cause : cause;
  if (inner instanceof Error) {
    const code = 'code' in inner && typeof inner.code === 'string' ? inner.code : undefined;
    return code ? `${code} (${inner.message})` : inner.message;
  }
  return String(inner);
}

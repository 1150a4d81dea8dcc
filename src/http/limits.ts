import { AppError, type Clock } from '../kernel';

/**
 * Counts failures per key (an IP address, an account) in memory and refuses the key once it has
 * failed too often (issue 11: failed authentication per IP, login per IP and per account).
 * `max` failures within `windowMs` lock the key; each further failure doubles the lockout, from
 * `lockoutMs` up to `maxLockoutMs` (backoff). A success forgets the key. Memory is bounded: the
 * oldest keys are dropped past `maxKeys`. One process only; several servers would share this
 * through the database.
 */
export class FailureLimiter {
  readonly #entries = new Map<string, { failures: number; since: number; lockedUntil: number }>();

  constructor(
    private readonly clock: Clock,
    private readonly options: {
      max: number;
      windowMs: number;
      lockoutMs: number;
      maxLockoutMs: number;
      what: string;
      maxKeys?: number;
    },
  ) {}

  /** Throws RATE_LIMITED while `key` is locked out. */
  check(key: string): void {
    const entry = this.#entries.get(key);
    const now = this.clock.now().getTime();
    if (entry && entry.lockedUntil > now) {
      const seconds = Math.ceil((entry.lockedUntil - now) / 1000);
      throw new AppError(
        'RATE_LIMITED',
        `too many failed ${this.options.what}; retry in ${seconds} s`,
      );
    }
  }

  fail(key: string): void {
    const now = this.clock.now().getTime();
    let entry = this.#entries.get(key);
    if (!entry || (entry.lockedUntil <= now && now - entry.since > this.options.windowMs)) {
      entry = { failures: 0, since: now, lockedUntil: 0 };
    }
    entry.failures++;
    const over = entry.failures - this.options.max;
    if (over >= 0) {
      entry.lockedUntil =
        now + Math.min(this.options.lockoutMs * 2 ** Math.min(over, 30), this.options.maxLockoutMs);
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    if (this.#entries.size > (this.options.maxKeys ?? 100_000)) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  succeed(key: string): void {
    this.#entries.delete(key);
  }
}

import type { Role } from '../kernel';

/** What a successful authentication of a key established: enough to answer the next one. */
export interface VerifiedKey {
  keyId: string;
  /** The SHA-256 of the secret, hex: a presented token must still hash to it. */
  secretHash: string;
  role: Role;
  participantId: string;
  platformId: string | null;
  personId: string;
}

/**
 * How long a verified key is trusted without reading it again (ms of real time). It bounds how
 * late a revocation made elsewhere (another server, the database directly) takes effect; one
 * made through this service takes effect at once (KeyService.revoke forgets the key).
 */
export const KEY_CACHE_MS = 1_000;
/** A bound on memory: only keys that authenticated are kept, and never more than this. */
const MAX_KEYS = 10_000;

/**
 * The keys that authenticated within the last `ttlMs`, so that a client sending many requests
 * does not cost a database read for each (issue 12). Failures are never kept: an unknown,
 * revoked or wrong secret is read from the database every time (and counted by the failure
 * limiter). A revocation through the service calls `forget`, which also bumps a generation so
 * that an authentication that read the key before the revocation committed cannot store its
 * now stale answer afterwards.
 */
export class KeyCache {
  readonly #ttlMs: number;
  readonly #ticks: () => number;
  readonly #keys = new Map<string, { key: VerifiedKey; at: number }>();
  #generation = 0;

  constructor(options: { ttlMs?: number; ticks?: () => number } = {}) {
    this.#ttlMs = options.ttlMs ?? KEY_CACHE_MS;
    this.#ticks = options.ticks ?? (() => performance.now());
  }

  /** The key as verified less than ttlMs ago, or null (then the caller reads the database). */
  get(keyId: string): VerifiedKey | null {
    const found = this.#keys.get(keyId);
    if (!found) return null;
    const age = this.#ticks() - found.at;
    if (age >= this.#ttlMs || age < 0) {
      this.#keys.delete(keyId);
      return null;
    }
    return found.key;
  }

  /** A token for `store`: taken before reading the database. */
  generation(): number {
    return this.#generation;
  }

  /** Keeps a key just verified, unless a revocation happened since `generation` was taken. */
  store(key: VerifiedKey, generation: number): void {
    if (this.#ttlMs <= 0 || generation !== this.#generation) return;
    if (this.#keys.size >= MAX_KEYS) this.#keys.clear();
    this.#keys.set(key.keyId, { key, at: this.#ticks() });
  }

  /** Forgets a key (revoked): its next presentation is read from the database. */
  forget(keyId: string): void {
    this.#generation++;
    this.#keys.delete(keyId);
  }
}

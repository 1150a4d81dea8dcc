import { describe, expect, it } from 'vitest';
import { KEY_CACHE_MS, KeyCache, type VerifiedKey } from './key-cache';

const key = (keyId: string): VerifiedKey => ({
  keyId,
  secretHash: 'ab'.repeat(32),
  role: 'platform',
  participantId: 'par_x',
  platformId: 'par_x',
  personId: 'usr_x',
});

function cacheAt(start = 1_000, ttlMs?: number) {
  let now = start;
  const cache = new KeyCache({ ticks: () => now, ...(ttlMs === undefined ? {} : { ttlMs }) });
  return { cache, set: (ms: number) => (now = ms) };
}

describe('KeyCache', () => {
  it('keeps a verified key for less than KEY_CACHE_MS', () => {
    const { cache, set } = cacheAt();
    cache.store(key('k1'), cache.generation());
    set(1_000 + KEY_CACHE_MS - 1);
    expect(cache.get('k1')?.keyId).toBe('k1');
    set(1_000 + KEY_CACHE_MS);
    expect(cache.get('k1')).toBeNull();
  });

  it('forgets a revoked key at once', () => {
    const { cache } = cacheAt();
    cache.store(key('k1'), cache.generation());
    cache.forget('k1');
    expect(cache.get('k1')).toBeNull();
  });

  it('does not store what was read before a revocation (the read may predate its commit)', () => {
    const { cache } = cacheAt();
    const before = cache.generation();
    cache.forget('k1');
    cache.store(key('k1'), before);
    expect(cache.get('k1')).toBeNull();
    cache.store(key('k1'), cache.generation());
    expect(cache.get('k1')).not.toBeNull();
  });

  it('trusts nothing when its clock goes back, and keeps nothing with a zero bound', () => {
    const { cache, set } = cacheAt();
    cache.store(key('k1'), cache.generation());
    set(999);
    expect(cache.get('k1')).toBeNull();
    const off = cacheAt(1_000, 0).cache;
    off.store(key('k2'), off.generation());
    expect(off.get('k2')).toBeNull();
  });

  it('holds at most 10,000 keys', () => {
    const { cache } = cacheAt();
    for (let i = 0; i <= 10_000; i++) cache.store(key(`k${i}`), cache.generation());
    expect(cache.get('k0')).toBeNull();
    expect(cache.get('k10000')).not.toBeNull();
  });
});

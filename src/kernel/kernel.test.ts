import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ERROR_CODES,
  isAppError,
  isId,
  loadConfig,
  ManualClock,
  newId,
  parseId,
  SeededRandom,
} from '.';

describe('prefixed ids', () => {
  it('carry the entity prefix and sort by creation time', () => {
    const a = newId('contract', new Date('2026-01-01T00:00:00Z'));
    const b = newId('contract', new Date('2026-01-01T00:00:01Z'));
    expect(a).toMatch(/^ctr_[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(a < b).toBe(true);
    expect(parseId('contract', a)).toBe(a);
    expect(isId('invoice', a)).toBe(false);
  });

  it('refuses an id of another kind, naming the field', () => {
    const invoice = newId('invoice');
    expect(() => parseId('contract', invoice, 'contractId')).toThrow(
      /^contractId: must be a contract id/,
    );
  });
});

describe('configuration', () => {
  it('has explicit defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 8080,
      HOST: '127.0.0.1',
      DATA_DIR: './.tradeclear',
      CHAIN: 'simnet',
    });
    expect(config.DATABASE_URL).toBeUndefined();
  });

  it('refuses a bad value with a message naming the variable', () => {
    expect(() => loadConfig({ PORT: '99999' })).toThrow(/PORT/);
    expect(() => loadConfig({ DATABASE_URL: 'mysql://x' })).toThrow(
      /DATABASE_URL must be a postgres/,
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL/);
  });

  it('never defaults to mainnet: a real chain needs an explicit network', () => {
    try {
      loadConfig({ CHAIN: 'bitcoind', BITCOIND_URL: 'http://u:p@127.0.0.1:8332' });
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.code).toBe('CONFIG_INVALID');
      expect(String(error)).toMatch(/NETWORK is required when CHAIN=bitcoind/);
    }
    expect(
      loadConfig({ CHAIN: 'bitcoind', BITCOIND_URL: 'http://127.0.0.1:8332', NETWORK: 'signet' })
        .NETWORK,
    ).toBe('signet');
  });
});

describe('error codes', () => {
  it('are all documented in docs/errors.md, and the document lists no unknown code', () => {
    const doc = readFileSync(path.resolve(import.meta.dirname, '../../docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});

describe('clock and random', () => {
  it('a manual clock moves only when told', () => {
    const clock = new ManualClock('2026-07-01T00:00:00Z');
    clock.advance(1500);
    expect(clock.now().toISOString()).toBe('2026-07-01T00:00:01.500Z');
    expect(() => clock.advance(-1)).toThrow(/non-negative/);
  });

  it('a seeded generator repeats its sequence for the same seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const c = new SeededRandom(43);
    const seqA = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(seqA);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(seqA);
    expect(new Set(seqA).size).toBe(8);
  });
});

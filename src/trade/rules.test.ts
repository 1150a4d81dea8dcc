import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitFee } from './payouts';
import { openSeed, sealSeed } from './signer';
import { backoffSeconds, signWebhook } from './webhooks';
import { clampFeeRate, DEFAULT_SETTINGS, requiredApprovals } from './settings';

/** Trade's rules that need no database: fee shares, settings, the sealed seed, webhook signatures. */

describe('fee split', () => {
  it('always adds up to the fee, each share within one sat of its proportion', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 7n }),
        fc.array(fc.bigInt({ min: 1n, max: 10n ** 12n }), { minLength: 1, maxLength: 20 }),
        (fee, amounts) => {
          const shares = splitFee(fee, amounts);
          expect(shares.reduce((s, x) => s + x, 0n)).toBe(fee);
          const total = amounts.reduce((s, a) => s + a, 0n);
          shares.slice(1).forEach((share, i) => {
            expect(share * total <= fee * amounts[i + 1]!).toBe(true);
            expect((share + 1n) * total > fee * amounts[i + 1]!).toBe(true);
          });
        },
      ),
    );
  });
});

describe('settings rules', () => {
  it('clamps the fee estimate to [floor, cap] and picks the quorum by amount', () => {
    const s = {
      ...DEFAULT_SETTINGS,
      feeFloorSatPerKvB: 2_000n,
      feeCapSatPerKvB: 50_000n,
      quorumThresholdSats: 1_000n,
    };
    expect(clampFeeRate(null, s)).toBe(2_000n);
    expect(clampFeeRate(1_500n, s)).toBe(2_000n);
    expect(clampFeeRate(7_000n, s)).toBe(7_000n);
    expect(clampFeeRate(90_000n, s)).toBe(50_000n);
    expect(requiredApprovals(s, 1_000n)).toBe(s.approvalsBelow);
    expect(requiredApprovals(s, 1_001n)).toBe(s.approvalsAbove);
  });
});

describe('sealed signer seed (scrypt + AES-256-GCM)', () => {
  it('opens with the passphrase only, and the sealed form does not contain the seed', () => {
    const seed = new Uint8Array(32).map((_, i) => i);
    const sealed = sealSeed(seed, 'a long enough passphrase', 1 << 10);
    expect(sealed.ciphertext).not.toContain(Buffer.from(seed).toString('hex'));
    expect(openSeed(sealed, 'a long enough passphrase')).toEqual(seed);
    expect(() => openSeed(sealed, 'the wrong passphrase!!')).toThrow(/does not open/);
    const tampered = { ...sealed, ciphertext: `${sealed.ciphertext.slice(0, -2)}00` };
    expect(() => openSeed(tampered, 'a long enough passphrase')).toThrow(/does not open/);
  });
});

describe('webhook signatures and backoff', () => {
  it('signs t.body with HMAC-SHA256 and backs off 30 s doubling up to 6 h', () => {
    const body = '{"type":"invoice.settled"}';
    const expected = createHmac('sha256', 'whsec_test_secret_123')
      .update(`1783000000.${body}`)
      .digest('hex');
    expect(signWebhook('whsec_test_secret_123', 1783000000, body)).toBe(
      `t=1783000000,v1=${expected}`,
    );
    expect([1, 2, 3, 4].map(backoffSeconds)).toEqual([30, 60, 120, 240]);
    expect(backoffSeconds(20)).toBe(21_600);
  });
});

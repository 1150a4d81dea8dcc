import { describe, expect, it } from 'vitest';
import { travelRuleRequired } from './travel-rule';

const usd = (minor: bigint) => ({ minor, currency: 'USD' });

describe('the Travel Rule threshold (FATF R.16)', () => {
  it('requires the data at or above the threshold, not below', () => {
    expect(travelRuleRequired(usd(99_999n), usd(100_000n))).toBe(false);
    expect(travelRuleRequired(usd(100_000n), usd(100_000n))).toBe(true);
    expect(travelRuleRequired(usd(100_001n), usd(100_000n))).toBe(true);
  });

  it('requires it always at a threshold of 0, and in a currency the threshold is not in', () => {
    expect(travelRuleRequired(usd(1n), usd(0n))).toBe(true);
    expect(travelRuleRequired({ minor: 1n, currency: 'EUR' }, usd(100_000n))).toBe(true);
  });
});

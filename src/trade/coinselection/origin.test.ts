import { describe, expect, it } from 'vitest';
import { AppError, SeededRandom } from '../../kernel';
import type { CoinOrigin } from '../ports';
import { clearedShareBasisPoints, fundingTiers, selectFunding } from './origin';

const coin = (value: bigint, cleared: bigint, quarantined = 0n, undetermined = 0n): CoinOrigin => ({
  valueSats: value,
  clearedSats: cleared,
  quarantinedSats: quarantined,
  undeterminedSats: undetermined,
});
const origins = new Map<string, CoinOrigin>([
  ['full', coin(1_000_000n, 1_000_000n)],
  ['most', coin(1_000_000n, 800_000n)],
  ['some', coin(1_000_000n, 799_999n)],
  ['quarantined', coin(5_000_000n, 4_000_000n, 1n)],
  ['unknown-part', coin(1_000_000n, 900_000n, 0n, 1n)],
]);
const ids = ['full', 'most', 'some', 'quarantined', 'unknown-part', 'not-watched'];
const rule = { version: 'clearing.cleared-origin@1#v1', thresholdBasisPoints: 8_000 };

describe('funding under the cleared-origin rule', () => {
  it('computes the share in basis points, rounded down', () => {
    expect(clearedShareBasisPoints(coin(3n, 1n))).toBe(3_333);
    expect(clearedShareBasisPoints(coin(0n, 0n))).toBe(0);
  });

  it('never lets a quarantined coin fund a payout, rule or no rule', () => {
    const off = fundingTiers(ids, origins, null);
    expect(off.eligible).toEqual(['full', 'most', 'some', 'unknown-part', 'not-watched']);
    expect(off.preferred).toEqual(['full']);
    expect(off.refused).toEqual([{ id: 'quarantined', why: 'quarantined' }]);
  });

  it('keeps coins below the threshold and coins of unknown clearance out when in force', () => {
    const on = fundingTiers(ids, origins, rule);
    expect(on.eligible).toEqual(['full', 'most']);
    expect(on.refused).toEqual([
      { id: 'some', why: 'belowThreshold' },
      { id: 'quarantined', why: 'quarantined' },
      { id: 'unknown-part', why: 'undetermined' },
      { id: 'not-watched', why: 'undetermined' },
    ]);
    // Clearances that could not be read: every coin is undetermined (fail closed).
    expect(fundingTiers(ids, null, rule).eligible).toEqual([]);
  });

  it('refuses every coin when the clearances cannot be read, even with the rule off', () => {
    // Quarantined coins are known only from the clearances: without them no coin is known free.
    const unread = fundingTiers(ids, null, null);
    expect(unread.eligible).toEqual([]);
    expect(unread.refused.map((r) => r.why)).toEqual(ids.map(() => 'undetermined'));
  });

  const request = (target: bigint) => ({
    utxos: ids.map((id) => ({
      id,
      value: origins.get(id)?.valueSats ?? 2_000_000n,
      inputVbytes: 68,
    })),
    target,
    feeRateSatPerKvB: 1_000n,
    random: new SeededRandom(1),
  });

  it('pays with wholly cleared coins first', () => {
    const tiers = fundingTiers(ids, origins, null);
    const selection = selectFunding(request(500_000n), tiers, null);
    expect(selection.inputs.map((i) => i.id)).toEqual(['full']);
  });

  it('refuses with ORIGIN_NOT_CLEARED when only refused coins could pay', () => {
    const tiers = fundingTiers(ids, origins, rule);
    const error = (() => {
      try {
        selectFunding(request(3_000_000n), tiers, rule);
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('ORIGIN_NOT_CLEARED');
    expect((error as AppError).details).toMatchObject({
      rule: rule.version,
      quarantined: 1,
      belowThreshold: 1,
      undetermined: 2,
    });
    // More than every coin together: the shortfall is the funds', not the origin's.
    expect(() => selectFunding(request(100_000_000n), tiers, rule)).toThrow(
      expect.objectContaining({ code: 'INSUFFICIENT_FUNDS' }),
    );
  });
});

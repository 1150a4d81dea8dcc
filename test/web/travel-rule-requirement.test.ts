import { describe, expect, it } from 'vitest';
import { travelRuleRequirement } from '../../web/src/pages/trade/travelRuleRequirement';

const threshold = { minor: 100_000n, currency: 'USD', formatted: 'USD 1,000.00' };
const usd = (minor: bigint) => ({ minor, currency: 'USD' });

describe('the payout and invoice forms: Travel Rule data required before sending', () => {
  it('from the threshold up, in the contract’s currency', () => {
    const at = (minor: bigint) =>
      travelRuleRequirement({ contractCurrency: 'USD', fiatValue: usd(minor), threshold });
    expect(at(99_999n)).toBe(false);
    expect(at(100_000n)).toBe(true);
    expect(at(300_000n)).toBe(true);
  });

  it('at any amount when the contract is in another currency than the threshold', () => {
    expect(travelRuleRequirement({ contractCurrency: 'EUR', fiatValue: null, threshold })).toBe(
      true,
    );
  });

  it('says nothing while it cannot tell (no threshold, contract or amount yet)', () => {
    expect(
      travelRuleRequirement({ contractCurrency: 'USD', fiatValue: usd(500_000n), threshold: null }),
    ).toBe(false);
    expect(
      travelRuleRequirement({ contractCurrency: undefined, fiatValue: usd(500_000n), threshold }),
    ).toBe(false);
    expect(travelRuleRequirement({ contractCurrency: 'USD', fiatValue: null, threshold })).toBe(
      false,
    );
  });
});

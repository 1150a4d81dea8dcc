import { travelRuleRequired } from '../../../../src/kernel/travel-rule';

/** The scheme's Travel Rule threshold as the API gives it, its amount parsed. */
export interface TravelRuleThreshold {
  minor: bigint;
  currency: string;
  /** For people, e.g. "USD 1,000.00". */
  formatted: string;
}

/**
 * Whether a form's transfer must carry Travel Rule data, as far as the form can tell before
 * sending: the amount in the contract's currency (typed, or converted at the rate the form
 * shows) reaches the threshold, or the contract is in another currency than the threshold's (the
 * gate cannot compare them and asks for the data at any amount). Without the threshold, a
 * contract or an amount in its currency the form cannot tell, and says nothing; the policy gate
 * decides all the same.
 */
export function travelRuleRequirement(input: {
  contractCurrency: string | undefined;
  fiatValue: { minor: bigint; currency: string } | null;
  threshold: TravelRuleThreshold | null | undefined;
}): boolean {
  const { contractCurrency, fiatValue, threshold } = input;
  if (!threshold || contractCurrency === undefined) return false;
  if (contractCurrency !== threshold.currency) return true;
  return fiatValue !== null && travelRuleRequired(fiatValue, threshold);
}

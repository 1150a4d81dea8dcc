/**
 * FATF Recommendation 16 (the Travel Rule): originator and beneficiary data travel with a
 * transfer valued at or above the threshold (0 means always). A transfer valued in another
 * currency than the threshold's cannot be compared with it, so it needs the data too.
 *
 * The one statement of the rule: the policy gate decides with it, and the web forms (which import
 * this file, so it imports nothing) show the Travel Rule section as required before sending.
 */
export function travelRuleRequired(
  value: { readonly minor: bigint; readonly currency: string },
  threshold: { readonly minor: bigint; readonly currency: string },
): boolean {
  return value.currency !== threshold.currency || value.minor >= threshold.minor;
}

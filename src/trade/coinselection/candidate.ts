/**
 * A spendable coin as the search algorithms see it.
 *
 * The searches (branch and bound, knapsack) run hundreds of thousands of steps per payment, so
 * they work on plain numbers rather than bigints. This is exact, not an approximation: every
 * field is an integer number of sats no larger than the 21M BTC supply (2.1e15 < 2^53), and the
 * searches only add and subtract such integers (sums of at most a few thousand of them stay
 * below 2^53 too). `toCandidate` checks the bound where values enter; everything that leaves the
 * module is bigint again.
 */
export interface Candidate {
  /** Position of the coin in the caller's list. */
  readonly position: number;
  /** value − fee to spend it at the current rate (sats). Always positive here. */
  readonly effectiveValue: number;
  /** Fee to spend it at the current rate (sats). */
  readonly fee: number;
  /** Fee to spend it at the long-term rate (sats). */
  readonly longTermFee: number;
  /** Weight units it adds to the transaction when spent. */
  readonly weight: number;
}

/** Largest integer the searches may meet (sums included): 2^53 − 1. */
const EXACT_LIMIT = BigInt(Number.MAX_SAFE_INTEGER);

export function exactNumber(value: bigint, what: string): number {
  if (value > EXACT_LIMIT || value < -EXACT_LIMIT) {
    throw new RangeError(`${what} ${value} is outside the exact integer range of the search`);
  }
  return Number(value);
}

export function sumEffectiveValue(candidates: readonly Candidate[]): number {
  let total = 0;
  for (const candidate of candidates) total += candidate.effectiveValue;
  return total;
}

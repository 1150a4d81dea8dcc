import type { Candidate } from './candidate';

/** Bitcoin Core's cap on BnB's depth-first search steps (coinselection.cpp TOTAL_TRIES). */
export const BNB_TOTAL_TRIES = 100_000;

/**
 * Branch and bound (Mark Erhardt, "An Evaluation of Coin Selection Strategies", 2016), as in
 * Bitcoin Core's SelectCoinsBnB: a depth-first search over include/omit decisions on the coins
 * sorted by descending effective value, for a set whose effective value lands in
 * [target, target + costOfChange] — a transaction without change — keeping the one with the
 * lowest waste. The excess over the target is counted as waste because it goes to the miner.
 *
 * `target` is the payment amount plus the fees of everything but the inputs. Returns the
 * positions of the chosen coins, or undefined if no changeless solution was found within
 * BNB_TOTAL_TRIES steps.
 */
export function selectBranchAndBound(
  pool: readonly Candidate[],
  target: number,
  costOfChange: number,
): number[] | undefined {
  const coins = [...pool].sort((a, b) => b.effectiveValue - a.effectiveValue);
  // Typed arrays: this loop runs up to 100,000 steps per payment.
  const values = Float64Array.from(coins, (coin) => coin.effectiveValue);
  const inputWaste = Float64Array.from(coins, (coin) => coin.fee - coin.longTermFee);
  const fees = Float64Array.from(coins, (coin) => coin.fee);
  let availableValue = 0;
  for (const coin of coins) availableValue += coin.effectiveValue;
  if (availableValue < target || coins.length === 0) return undefined;

  let currentValue = 0;
  let currentWaste = 0;
  const currentSelection: number[] = []; // indexes into `coins`
  let bestSelection: number[] | undefined;
  let bestWaste = Number.MAX_SAFE_INTEGER;
  // At a fee rate above the long-term rate every added input adds waste, so a branch already
  // more wasteful than the best can be cut (Core's is_feerate_high).
  const first = coins[0] as Candidate;
  const feeRateIsHigh = first.fee > first.longTermFee;

  let index = 0;
  for (let attempt = 0; attempt < BNB_TOTAL_TRIES; attempt++, index++) {
    let backtrack = false;
    if (
      currentValue + availableValue < target || // cannot reach the target any more
      currentValue > target + costOfChange || // overshot: this would need change
      (currentWaste > bestWaste && feeRateIsHigh)
    ) {
      backtrack = true;
    } else if (currentValue >= target) {
      // A solution: its waste includes the excess that would go to fees.
      const waste = currentWaste + (currentValue - target);
      if (waste <= bestWaste) {
        bestSelection = [...currentSelection];
        bestWaste = waste;
      }
      backtrack = true;
    }

    if (backtrack) {
      const last = currentSelection.at(-1);
      if (last === undefined) break; // the whole tree has been walked
      // Put the coins skipped since the last inclusion back into the lookahead, then take the
      // omission branch of that last inclusion.
      for (index--; index > last; index--) availableValue += values[index] as number;
      currentValue -= values[index] as number;
      currentWaste -= inputWaste[index] as number;
      currentSelection.pop();
    } else {
      const value = values[index] as number;
      availableValue -= value;
      // Skip a coin equal to the previous one when that one was omitted: the branch would
      // repeat one already explored.
      if (
        currentSelection.length === 0 ||
        index - 1 === currentSelection.at(-1) ||
        value !== values[index - 1] ||
        fees[index] !== fees[index - 1]
      ) {
        currentSelection.push(index);
        currentValue += value;
        currentWaste += inputWaste[index] as number;
      }
    }
  }
  return bestSelection?.map((i) => (coins[i] as Candidate).position);
}

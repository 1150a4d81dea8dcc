import type { Candidate } from './candidate';

/** Bitcoin Core's cap on CoinGrinder's search steps (coinselection.cpp). */
export const COIN_GRINDER_TOTAL_TRIES = 100_000;

/**
 * CoinGrinder (Bitcoin Core 27, SelectCoinsCoinGrinder, by Murch): at high fee rates, find the
 * input set of least weight whose effective value covers target + changeTarget (a transaction
 * with change), preferring on equal weight the smaller effective value (less excess). A
 * depth-first search over the coins sorted by descending effective value with these cuts:
 *  - the remaining coins cannot reach the target: no later sibling can either;
 *  - the selection already weighs more than the best: try the next (possibly lighter) coin;
 *  - with the weight left before the best's weight, even the largest remaining coins cannot
 *    reach the target: no later sibling can either (they are no larger and no lighter than the
 *    lightest remaining coin).
 * Like Core it gives up after COIN_GRINDER_TOTAL_TRIES steps and returns the best found so far.
 */
export function selectCoinGrinder(
  pool: readonly Candidate[],
  target: number,
  changeTarget: number,
): number[] | undefined {
  const total = target + changeTarget;
  const coins = [...pool].sort(
    (a, b) => b.effectiveValue - a.effectiveValue || a.weight - b.weight,
  );
  const count = coins.length;
  const values = Float64Array.from(coins, (coin) => coin.effectiveValue);
  const weights = Float64Array.from(coins, (coin) => coin.weight);
  // suffixValue[i]: sum of values[i..]; prefix sums for "the r largest coins from i"; and the
  // lightest coin from i on.
  const prefixValue = new Float64Array(count + 1);
  for (let i = 0; i < count; i++)
    prefixValue[i + 1] = (prefixValue[i] as number) + (values[i] as number);
  const minTailWeight = new Float64Array(count + 1).fill(Number.POSITIVE_INFINITY);
  for (let i = count - 1; i >= 0; i--) {
    minTailWeight[i] = Math.min(weights[i] as number, minTailWeight[i + 1] as number);
  }
  if ((prefixValue[count] as number) < total) return undefined;

  let bestWeight = Number.POSITIVE_INFINITY;
  let bestValue = Number.POSITIVE_INFINITY;
  let best: number[] | undefined;
  const selection: number[] = [];
  let tries = 0;

  const search = (start: number, value: number, weight: number): void => {
    for (let i = start; i < count; i++) {
      if (++tries > COIN_GRINDER_TOTAL_TRIES) return;
      if (value + (prefixValue[count] as number) - (prefixValue[i] as number) < total) return;
      if (Number.isFinite(bestWeight)) {
        const slots = Math.floor((bestWeight - weight) / (minTailWeight[i] as number));
        const reach =
          value + (prefixValue[Math.min(count, i + slots)] as number) - (prefixValue[i] as number);
        if (reach < total) return;
      }
      const nextWeight = weight + (weights[i] as number);
      if (nextWeight > bestWeight) continue;
      const nextValue = value + (values[i] as number);
      // Skip a coin identical to its omitted predecessor: that branch was already explored.
      if (i > start && values[i] === values[i - 1] && weights[i] === weights[i - 1]) {
        continue;
      }
      selection.push(i);
      if (nextValue >= total) {
        if (nextWeight < bestWeight || (nextWeight === bestWeight && nextValue < bestValue)) {
          bestWeight = nextWeight;
          bestValue = nextValue;
          best = [...selection];
        }
      } else {
        search(i + 1, nextValue, nextWeight);
      }
      selection.pop();
      if (tries > COIN_GRINDER_TOTAL_TRIES) return;
    }
  };
  search(0, 0, 0);
  return best?.map((i) => (coins[i] as Candidate).position);
}

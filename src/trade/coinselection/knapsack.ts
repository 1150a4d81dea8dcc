import type { Candidate } from './candidate';
import type { RandomDraws } from './random';

/** Bitcoin Core's iteration count for ApproximateBestSubset. */
const KNAPSACK_ITERATIONS = 1000;

/**
 * Bitcoin Core's KnapsackSolver: take a single coin that matches the target exactly; otherwise
 * look for the smallest subset of the coins smaller than target + changeTarget that reaches the
 * target (a randomized subset-sum approximation, ApproximateBestSubset), and prefer the
 * smallest single larger coin when it is at least as close.
 */
export function selectKnapsack(
  pool: readonly Candidate[],
  target: number,
  changeTarget: number,
  draws: RandomDraws,
): number[] | undefined {
  const coins = [...pool];
  draws.shuffle(coins);
  let lowestLarger: Candidate | undefined;
  const applicable: Candidate[] = [];
  let totalLower = 0;
  for (const coin of coins) {
    if (coin.effectiveValue === target) return [coin.position];
    if (coin.effectiveValue < target + changeTarget) {
      applicable.push(coin);
      totalLower += coin.effectiveValue;
    } else if (lowestLarger === undefined || coin.effectiveValue < lowestLarger.effectiveValue) {
      lowestLarger = coin;
    }
  }
  if (totalLower === target) return applicable.map((coin) => coin.position);
  if (totalLower < target) return lowestLarger === undefined ? undefined : [lowestLarger.position];

  applicable.sort((a, b) => b.effectiveValue - a.effectiveValue);
  let best = approximateBestSubset(applicable, totalLower, target, draws);
  if (best.total !== target && totalLower >= target + changeTarget) {
    best = approximateBestSubset(applicable, totalLower, target + changeTarget, draws);
  }
  // A single larger coin wins when the subset search found nothing good or it is closer.
  if (
    lowestLarger !== undefined &&
    ((best.total !== target && best.total < target + changeTarget) ||
      lowestLarger.effectiveValue <= best.total)
  ) {
    return [lowestLarger.position];
  }
  const chosen: number[] = [];
  best.included.forEach((included, i) => {
    if (included) chosen.push((applicable[i] as Candidate).position);
  });
  return chosen;
}

/**
 * Core's ApproximateBestSubset: up to 1,000 repetitions of a first pass that includes each coin
 * (sorted by descending value) on a fair coin flip and a second pass, if the first never reached
 * the target, that includes every coin not yet included. Whenever the running total reaches the
 * target, it is recorded if it is the smallest such total so far, and the coin just added is
 * taken out again. The smallest total at or above the target wins.
 *
 * Run literally that is O(1,000 × coins) per payment, which for a pool of thousands of coins
 * replayed over thousands of payments takes minutes. This version has the same probability law
 * (it is not bit-for-bit Core's random stream, which nothing here reproduces anyway) and jumps
 * instead of walking coin by coin, using two facts that follow from the descending order:
 *  - With a gap g = target − total, the coins of value ≥ g still to visit form a contiguous run
 *    (found by binary search). Each one flipped in either reaches the target and is taken out
 *    again, so only the last one flipped in matters (it gives the smallest total); its position
 *    is the end of the run minus a geometric number of tails.
 *  - After that run every coin is below g, so the next coin flipped in is simply absorbed; its
 *    position is a geometric number of tails ahead. Absorbing shrinks g and starts a new run.
 */
function approximateBestSubset(
  coins: readonly Candidate[],
  totalLower: number,
  target: number,
  draws: RandomDraws,
): { included: boolean[]; total: number } {
  const count = coins.length;
  const values = Float64Array.from(coins, (coin) => coin.effectiveValue);
  let bestIndexes: number[] | undefined; // undefined: all coins (the initial best)
  let bestTotal = totalLower;
  const flips = new CoinFlips(draws);
  const included = new Uint8Array(count);
  const absorbed: number[] = [];

  /** First index ≥ from whose value is below gap (values descend). */
  const firstBelow = (from: number, gap: number): number => {
    let low = from;
    let high = count;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((values[middle] as number) < gap) high = middle;
      else low = middle + 1;
    }
    return low;
  };

  for (let rep = 0; rep < KNAPSACK_ITERATIONS && bestTotal !== target; rep++) {
    for (const index of absorbed) included[index] = 0;
    absorbed.length = 0;
    let total = 0;
    let reachedTarget = false;
    for (let pass = 0; pass < 2 && !reachedTarget; pass++) {
      let position = 0;
      while (position < count) {
        const runEnd = firstBelow(position, target - total);
        if (runEnd > position) {
          // Coins in [position, runEnd) each reach the target on their own.
          let last = -1;
          if (pass === 0) {
            const tails = flips.tailsBefore(runEnd - position);
            if (tails < runEnd - position) last = runEnd - 1 - tails;
          } else {
            for (let i = runEnd - 1; i >= position; i--) {
              if (included[i] === 0) {
                last = i;
                break;
              }
            }
          }
          if (last >= 0) {
            reachedTarget = true;
            const reached = total + (values[last] as number);
            if (reached < bestTotal) {
              bestTotal = reached;
              bestIndexes = [...absorbed, last];
            }
          }
          position = runEnd;
          continue;
        }
        // Every coin from here is below the gap: the next one taken is absorbed.
        let next: number;
        if (pass === 0) {
          next = position + flips.tailsBefore(count - position);
        } else {
          next = position;
          while (next < count && included[next] === 1) next++;
        }
        if (next >= count) break;
        total += values[next] as number;
        included[next] = 1;
        absorbed.push(next);
        position = next + 1;
      }
    }
  }
  const chosen = new Array<boolean>(count).fill(bestIndexes === undefined);
  for (const index of bestIndexes ?? []) chosen[index] = true;
  return { included: chosen, total: bestTotal };
}

/** Fair coin flips, 32 per random word, counted in runs of tails. */
class CoinFlips {
  readonly #draws: RandomDraws;
  #word = 0;
  #bitsLeft = 0;

  constructor(draws: RandomDraws) {
    this.#draws = draws;
  }

  /**
   * The number of tails before the first heads, capped at `limit` (returns `limit` when all of
   * the next `limit` flips are tails; only the flips used are consumed).
   */
  tailsBefore(limit: number): number {
    let tails = 0;
    while (tails < limit) {
      if (this.#bitsLeft === 0) {
        this.#word = this.#draws.uint32();
        this.#bitsLeft = 32;
      }
      if (this.#word === 0) {
        const used = Math.min(this.#bitsLeft, limit - tails);
        tails += used;
        this.#bitsLeft -= used;
        continue;
      }
      // Position of the lowest set bit = run of tails in this word.
      const run = 31 - Math.clz32(this.#word & -this.#word);
      if (run >= this.#bitsLeft) {
        // Unreachable: bits above bitsLeft are shifted out as they are used.
        this.#bitsLeft = 0;
        continue;
      }
      if (tails + run >= limit) {
        const used = limit - tails;
        this.#word >>>= used;
        this.#bitsLeft -= used;
        return limit;
      }
      tails += run;
      this.#word >>>= run + 1;
      this.#bitsLeft -= run + 1;
      return tails;
    }
    return limit;
  }
}

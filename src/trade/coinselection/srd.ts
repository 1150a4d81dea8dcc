import type { Candidate } from './candidate';
import type { RandomDraws } from './random';

/**
 * Bitcoin Core's Single Random Draw (SelectCoinsSRD): add coins in random order until their
 * effective value covers the target plus the change output's fee plus `minimumChange` (Core's
 * CHANGE_LOWER, 50,000 sats), so that it always yields a change output of a useful size.
 */
export function selectSingleRandomDraw(
  pool: readonly Candidate[],
  target: number,
  changeFee: number,
  minimumChange: number,
  draws: RandomDraws,
): number[] | undefined {
  const needed = target + changeFee + minimumChange;
  const order = pool.map((_, i) => i);
  draws.shuffle(order);
  const chosen: number[] = [];
  let selected = 0;
  for (const i of order) {
    const coin = pool[i] as Candidate;
    chosen.push(coin.position);
    selected += coin.effectiveValue;
    if (selected >= needed) return chosen;
  }
  return undefined;
}

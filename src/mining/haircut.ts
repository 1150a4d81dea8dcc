import { AppError } from '../kernel';

/**
 * Provenance by the haircut rule. A transaction mixes its inputs; each of its outputs receives,
 * for every origin, the share of that origin's coins in the transaction's inputs, pro rata to the
 * output's value:
 *
 *     share(origin, output) = floor(tagged(origin) × value(output) / value(all inputs))
 *
 * Rounding is down, so an output never carries more tagged coins than its value and an origin
 * never carries more coins after a spend than before; the fee takes its own pro-rata part (coins
 * paid as fee leave the traced set), and rounding loses at most one satoshi per output and origin.
 */
export interface ProvenanceShare {
  /** The origin: the attribution id of the coinbase output the coins were mined in. */
  readonly origin: string;
  readonly sats: bigint;
}

export interface HaircutInput {
  readonly value: bigint;
  readonly tags: readonly ProvenanceShare[];
}

export function haircut(
  inputs: readonly HaircutInput[],
  outputValues: readonly bigint[],
): ProvenanceShare[][] {
  let total = 0n;
  const tagged = new Map<string, bigint>();
  for (const [i, input] of inputs.entries()) {
    if (input.value < 0n)
      throw new AppError('VALIDATION_FAILED', `input ${i} has a negative value`);
    let inputTagged = 0n;
    for (const tag of input.tags) {
      if (tag.sats <= 0n)
        throw new AppError(
          'VALIDATION_FAILED',
          `input ${i} has a non-positive share of ${tag.origin}`,
        );
      inputTagged += tag.sats;
      tagged.set(tag.origin, (tagged.get(tag.origin) ?? 0n) + tag.sats);
    }
    if (inputTagged > input.value) {
      throw new AppError(
        'VALIDATION_FAILED',
        `input ${i} carries ${inputTagged} tagged sats but is worth ${input.value}`,
      );
    }
    total += input.value;
  }
  const spent = outputValues.reduce((sum, value) => sum + value, 0n);
  if (spent > total)
    throw new AppError(
      'VALIDATION_FAILED',
      `outputs (${spent} sats) exceed inputs (${total} sats)`,
    );
  const origins = [...tagged.keys()].sort();
  return outputValues.map((value) => {
    if (total === 0n) return [];
    const shares: ProvenanceShare[] = [];
    for (const origin of origins) {
      const sats = ((tagged.get(origin) ?? 0n) * value) / total;
      if (sats > 0n) shares.push({ origin, sats });
    }
    return shares;
  });
}

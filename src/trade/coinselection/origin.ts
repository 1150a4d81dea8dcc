import { AppError, isAppError } from '../../kernel';
import type { CoinOrigin, OriginRule } from '../ports';
import { selectCoins, type CoinSelection, type CoinSelectionRequest } from './select';

/**
 * Coin selection under the cleared-origin rule (clearing's cleared lots followed through spends):
 *
 * - a coin carrying sats of a quarantined lot is never spent by a payout, rule or no rule;
 * - with the rule in force, only coins whose stored cleared share is at least the threshold fund
 *   payouts, and a coin whose share is not known (no stored clearance, or sats of unknown
 *   clearance) does not: fail closed;
 * - among the coins allowed, wholly cleared coins are tried first, the others only when those
 *   cannot pay.
 */

export type OriginRefusal = 'quarantined' | 'undetermined' | 'belowThreshold';

export interface FundingTiers {
  /** Allowed coins that are wholly cleared. */
  readonly preferred: readonly string[];
  /** Every allowed coin (the preferred ones included). */
  readonly eligible: readonly string[];
  readonly refused: readonly { readonly id: string; readonly why: OriginRefusal }[];
}

const FULL = 10_000n;

/** A coin's cleared share in basis points, rounded down (0 for an empty coin). */
export function clearedShareBasisPoints(origin: CoinOrigin): number {
  return origin.valueSats > 0n ? Number((origin.clearedSats * FULL) / origin.valueSats) : 0;
}

/**
 * Sorts coins (by id `txid:vout`) by what the rule lets them fund. `origins` null means the
 * clearances could not be read: every coin is refused as undetermined, rule or no rule, since
 * none is known to be free of quarantined coins.
 */
export function fundingTiers(
  ids: readonly string[],
  origins: ReadonlyMap<string, CoinOrigin> | null,
  rule: OriginRule | null,
): FundingTiers {
  const preferred: string[] = [];
  const eligible: string[] = [];
  const refused: { id: string; why: OriginRefusal }[] = [];
  for (const id of ids) {
    // Fail closed: without the clearances no coin is known free of quarantined sats.
    if (origins === null) {
      refused.push({ id, why: 'undetermined' });
      continue;
    }
    const origin = origins.get(id);
    if (origin && origin.quarantinedSats > 0n) {
      refused.push({ id, why: 'quarantined' });
      continue;
    }
    if (rule) {
      if (!origin || origin.undeterminedSats > 0n) {
        refused.push({ id, why: 'undetermined' });
        continue;
      }
      // cleared / value ≥ threshold / 10,000, in integers.
      if (origin.clearedSats * FULL < BigInt(rule.thresholdBasisPoints) * origin.valueSats) {
        refused.push({ id, why: 'belowThreshold' });
        continue;
      }
    }
    eligible.push(id);
    if (origin && origin.clearedSats === origin.valueSats) preferred.push(id);
  }
  return { preferred, eligible, refused };
}

const insufficient = (error: unknown) => isAppError(error) && error.code === 'INSUFFICIENT_FUNDS';

/**
 * Selects the payment's inputs among the allowed coins, wholly cleared ones first. When the
 * allowed coins cannot pay but all the coins could, the refusal is ORIGIN_NOT_CLEARED (with the
 * rule version and the refused coins by reason); when even all the coins cannot pay, it is the
 * usual INSUFFICIENT_FUNDS.
 */
export function selectFunding(
  request: CoinSelectionRequest,
  tiers: FundingTiers,
  rule: OriginRule | null,
): CoinSelection {
  const pool = (ids: readonly string[]) => {
    const wanted = new Set(ids);
    return request.utxos.filter((utxo) => wanted.has(utxo.id));
  };
  const attempts =
    tiers.preferred.length > 0 && tiers.preferred.length < tiers.eligible.length
      ? [tiers.preferred, tiers.eligible]
      : [tiers.eligible];
  for (const ids of attempts) {
    if (ids.length === 0) continue;
    try {
      return selectCoins({ ...request, utxos: pool(ids) });
    } catch (error) {
      if (!insufficient(error)) throw error;
    }
  }
  if (tiers.refused.length > 0) {
    let fundable = false;
    try {
      selectCoins(request);
      fundable = true;
    } catch (error) {
      if (!insufficient(error)) throw error;
    }
    if (fundable) {
      const count = (why: OriginRefusal) => tiers.refused.filter((r) => r.why === why).length;
      throw new AppError(
        'ORIGIN_NOT_CLEARED',
        `the coins allowed to fund these payouts cannot pay them: ${count('quarantined')} coins hold quarantined mined coins, ${count('belowThreshold')} are below the cleared share of ${rule ? `${rule.thresholdBasisPoints} basis points (${rule.version})` : 'the rule'}, and the clearance of ${count('undetermined')} could not be determined`,
        {
          details: {
            rule: rule?.version ?? null,
            thresholdBasisPoints: rule?.thresholdBasisPoints ?? null,
            quarantined: count('quarantined'),
            belowThreshold: count('belowThreshold'),
            undetermined: count('undetermined'),
          },
        },
      );
    }
  }
  // Nothing refused by origin, or the coins could not pay anyway: the shortfall is the funds'.
  return selectCoins({ ...request, utxos: pool(tiers.eligible) });
}

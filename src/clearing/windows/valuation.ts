import type { Database } from '../../db';
import { AppError, formatRate, satsToFiat, type Rate } from '../../kernel';
import type { StoredRate } from '../../ledger';
import { BTC, type NetPositions } from '../netting';

/**
 * The valuation of a window's net positions at the reference rate (issue 13). At close, the
 * bitcoin nets are valued in the scheme's local currency at the rate of the window's cut-off
 * day: that day's published fixing (its latest version) when there is one, else the live
 * source's rate, through the same ledger helper invoices and payouts are priced with
 * (`RateService.valuationOn`, which stores the rate with the fixing it came from). Valuation
 * never stops a cut-off: with no currency, no fixing and no live rate, or a read that fails, the
 * window nets in bitcoin all the same and keeps why it has no valuation.
 */

/** What the windows ask of the ledger (services.ts wires the FixingService and RateService). */
export interface WindowValuationPort {
  /** The scheme's local currency: the first currency the supervisor's fixing rule fixes, or null. */
  currency(): Promise<string | null>;
  /** `RateService.valuationOn`: the day's fixing, else the live source; RATE_UNAVAILABLE. */
  rateOn(quote: string, date: string): Promise<StoredRate>;
}

export type WindowRate =
  | {
      readonly currency: string;
      readonly rate: Rate;
      readonly rateId: string;
      readonly fixingId: string | null;
    }
  | { readonly currency: string | null; readonly reason: string };

/**
 * The rate a window closing with cut-off `date` is valued at, read in a savepoint of the
 * closing transaction so that a failing read rolls back only itself; never throws.
 */
export async function windowRate(
  db: Database,
  port: WindowValuationPort | null,
  date: string,
): Promise<WindowRate> {
  if (!port) return { currency: null, reason: 'no valuation is wired into the settlement windows' };
  let currency: string | null = null;
  try {
    return await db.unit(async () => {
      currency = await port.currency();
      if (!currency)
        return {
          currency: null,
          reason: "no local currency: the supervisor's fixing rule names no currency",
        };
      const stored = await port.rateOn(currency, date);
      return { currency, rate: stored.rate, rateId: stored.id, fixingId: stored.fixingId };
    });
  } catch (error) {
    const why = error instanceof AppError ? error.message : 'the reference rate could not be read';
    return {
      currency,
      reason: `no fixing of BTC/${currency ?? '?'} for ${date} and no live rate: ${why}`,
    };
  }
}

/** The window's columns for its valuation (all null but the reason when there is none). */
export function valuationColumns(rate: WindowRate) {
  return 'reason' in rate
    ? {
        valuationCurrency: rate.currency,
        valuationRateId: null,
        valuationFixingId: null,
        valuationRate: null,
        valuationReason: rate.reason,
      }
    : {
        valuationCurrency: rate.currency,
        valuationRateId: rate.rateId,
        valuationFixingId: rate.fixingId,
        valuationRate: formatRate(rate.rate),
        valuationReason: null,
      };
}

/**
 * Each platform's net of one asset in the valuation currency, in minor units. Bitcoin nets: each
 * |net| × rate rounded half-even to the minor unit, signed; the rounding residue (what keeps the
 * sum from zero) goes to the largest |net| (the first platform in id order among equals), so the
 * valued positions of an asset sum to exactly zero, as the nets do, and every other one is its
 * own half-even rounding. A net in the valuation currency is its own value; another currency's
 * has none (absent from the map).
 */
export function valueNets(
  asset: string,
  nets: ReadonlyMap<string, bigint>,
  rate: WindowRate,
): Map<string, bigint> {
  const values = new Map<string, bigint>();
  if ('reason' in rate) return values;
  if (asset === rate.currency) return new Map(nets);
  if (asset !== BTC) return values;
  let residue = 0n;
  let largest: string | null = null;
  let largestAbs = -1n;
  for (const platform of [...nets.keys()].sort()) {
    const net = nets.get(platform) ?? 0n;
    const abs = net < 0n ? -net : net;
    const minor = satsToFiat(abs, rate.rate, 'halfEven').minor;
    const value = net < 0n ? -minor : minor;
    values.set(platform, value);
    residue += value;
    if (abs > largestAbs) {
      largest = platform;
      largestAbs = abs;
    }
  }
  if (largest !== null && residue !== 0n)
    values.set(largest, (values.get(largest) ?? 0n) - residue);
  return values;
}

/** Every asset's valued nets (see `valueNets`). */
export function valuePositions(
  positions: NetPositions,
  rate: WindowRate,
): Map<string, Map<string, bigint>> {
  return new Map([...positions].map(([asset, nets]) => [asset, valueNets(asset, nets, rate)]));
}

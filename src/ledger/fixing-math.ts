import { AppError, formatRate, type CurrencyCode, type Rate } from '../kernel';

/** What one source answered when a fixing was taken. */
export interface SourceQuote {
  readonly name: string;
  /** The price of 1 BTC, or null when the source had none (or failed: see `error`). */
  readonly rate: Rate | null;
  /** When the source says its price was current (else when it was asked). */
  readonly at?: Date;
  readonly error?: string;
}

/** Each source's value as stored with a fixing: used, or rejected and why. */
export interface FixingSourceReport {
  readonly name: string;
  readonly rate: string | null;
  readonly used: boolean;
  /** Why a source was not used: no quote, failed, or an outlier. */
  readonly reason?: string;
  /** Distance from the raw median in basis points (rounded up), when the source quoted. */
  readonly deviationBps?: number;
  readonly at?: string;
}

export interface FixingRule {
  /** A quote further than this from the median of all quotes (basis points) is an outlier. */
  readonly maxDeviationBps: number;
  /** Fewer used quotes than this: no fixing. */
  readonly minSources: number;
}

export type FixingOutcome =
  | {
      readonly ok: true;
      readonly rate: Rate;
      readonly used: number;
      readonly method: string;
      readonly sources: FixingSourceReport[];
    }
  | { readonly ok: false; readonly reason: string; readonly sources: FixingSourceReport[] };

/**
 * The fixing of a set of quotes: the raw median of every quote, the quotes further than
 * `maxDeviationBps` from it rejected as outliers, and the median of the rest, when at least
 * `minSources` remain. Pure and order-independent: reports are sorted by source name.
 */
export function fixQuotes(quotes: readonly SourceQuote[], rule: FixingRule): FixingOutcome {
  const sources: FixingSourceReport[] = [];
  const present: { name: string; rate: Rate; at?: Date }[] = [];
  for (const q of quotes) {
    if (q.rate) present.push({ name: q.name, rate: q.rate, ...(q.at ? { at: q.at } : {}) });
    else
      sources.push({
        name: q.name,
        rate: null,
        used: false,
        reason: q.error ? `failed: ${q.error}` : 'no quote',
      });
  }
  const byName = (a: { name: string }, b: { name: string }) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  if (present.length === 0) {
    return { ok: false, reason: 'no source quoted', sources: sources.sort(byName) };
  }
  const raw = medianRate(present.map((p) => p.rate));
  const kept: Rate[] = [];
  for (const p of present) {
    const deviationBps = spreadBps(p.rate, raw);
    const base = {
      name: p.name,
      rate: formatRate(p.rate),
      deviationBps,
      ...(p.at ? { at: p.at.toISOString() } : {}),
    };
    if (deviationBps > rule.maxDeviationBps) {
      sources.push({
        ...base,
        used: false,
        reason: `outlier: ${deviationBps} bp from the median ${formatRate(raw)} (max ${rule.maxDeviationBps})`,
      });
    } else {
      kept.push(p.rate);
      sources.push({ ...base, used: true });
    }
  }
  sources.sort(byName);
  if (kept.length < rule.minSources) {
    return {
      ok: false,
      reason: `${kept.length} usable source(s) of ${quotes.length}, at least ${rule.minSources} required`,
      sources,
    };
  }
  return {
    ok: true,
    rate: medianRate(kept),
    used: kept.length,
    method: `median(${kept.length} of ${quotes.length}, max deviation ${rule.maxDeviationBps} bp, min ${rule.minSources})`,
    sources,
  };
}

function rescale(rate: Rate, scale: number): bigint {
  return rate.digits * 10n ** BigInt(scale - rate.scale);
}

/** The exact median; for an even count the mean of the middle two, one more decimal if needed. */
export function medianRate(rates: readonly Rate[]): Rate {
  const first = rates[0];
  if (!first) throw new AppError('RATE_UNAVAILABLE', 'no rates to take the median of');
  const scale = Math.max(...rates.map((r) => r.scale));
  const values = rates.map((r) => rescale(r, scale)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const middle = Math.floor(values.length / 2);
  if (values.length % 2 === 1) return normalize(values[middle]!, scale, first.quote);
  const sum = values[middle - 1]! + values[middle]!;
  if (sum % 2n === 0n) return normalize(sum / 2n, scale, first.quote);
  return normalize(sum * 5n, scale + 1, first.quote);
}

function normalize(digits: bigint, scale: number, quote: CurrencyCode): Rate {
  let d = digits;
  let s = scale;
  while (s > 0 && d % 10n === 0n) {
    d /= 10n;
    s--;
  }
  return { digits: d, scale: s, quote };
}

/** |a − b| / b in whole basis points, rounded up (so a limit is never passed by rounding). */
export function spreadBps(a: Rate, b: Rate): number {
  const scale = Math.max(a.scale, b.scale);
  const x = rescale(a, scale);
  const y = rescale(b, scale);
  const diff = x > y ? x - y : y - x;
  return Number((diff * 10_000n + y - 1n) / y);
}

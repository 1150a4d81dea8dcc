import type { Rate } from '../kernel';

/** The day's BTC rate in a currency (trade's rate service plugs in here); null when unknown. */
export type RateLookup = (currency: string, date: string) => Rate | null | Promise<Rate | null>;

/** One rate for every day: for tests and the demo. */
export function fixedRateLookup(rate: Rate): RateLookup {
  return (code) => (code === rate.quote ? rate : null);
}

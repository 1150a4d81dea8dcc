import { parseTransaction } from '../bitcoin';
import type { Rate } from '../kernel';

/** The day's BTC rate in a currency (trade's rate service plugs in here); null when unknown. */
export type RateLookup = (currency: string, date: string) => Rate | null | Promise<Rate | null>;

/** One rate for every day: for tests and the demo. */
export function fixedRateLookup(rate: Rate): RateLookup {
  return (code) => (code === rate.quote ? rate : null);
}

/** The value of an output a transaction spends (the haircut needs every input's value). */
export type PrevoutLookup = (txid: string, vout: number) => Promise<bigint>;

/** Looks prevouts up through a chain source (Bitcoin Core needs -txindex for confirmed ones). */
export function prevoutLookupFromSource(source: {
  getRawTransaction(txid: string): Promise<Uint8Array>;
}): PrevoutLookup {
  return async (txid, vout) =>
    parseTransaction(await source.getRawTransaction(txid)).output(vout).value;
}

import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  VENUES,
  VenueRateSource,
  type JsonTransport,
  type MarketRateSource,
} from '../../src/ledger';
import type { Clock } from '../../src/kernel';

const DIR = path.join(import.meta.dirname, '..', 'vectors', 'rates');

/** The recorded answer each venue URL gets (test/vectors/rates/README section in the vectors README). */
export const RECORDED: Readonly<Record<string, string>> = {
  'https://api.kraken.com/0/public/Ticker?pair=XBTUSD': 'kraken-ticker-XBTUSD.json',
  'https://api.kraken.com/0/public/Ticker?pair=XBTEUR': 'kraken-ticker-XBTEUR.json',
  'https://api.coinbase.com/v2/prices/BTC-USD/spot': 'coinbase-spot-BTC-USD.json',
  'https://api.coinbase.com/v2/prices/BTC-EUR/spot': 'coinbase-spot-BTC-EUR.json',
  'https://www.bitstamp.net/api/v2/ticker/btcusd/': 'bitstamp-ticker-btcusd.json',
  'https://www.bitstamp.net/api/v2/ticker/btceur/': 'bitstamp-ticker-btceur.json',
};

/** When Bitstamp's recorded answers say they were current (the other venues carry no time). */
export const RECORDED_AT = '2026-07-01T15:59:42Z';

export function readRecorded(file: string): unknown {
  return JSON.parse(readFileSync(path.join(DIR, file), 'utf8')) as unknown;
}

/**
 * A transport answering from the recorded files, with `overrides` (URL → file, or an Error to
 * throw) replacing some answers; a URL with no recording throws, as an unreachable venue would.
 */
export function recordedTransport(
  overrides: Record<string, string | Error> = {},
): JsonTransport & { asked: string[] } {
  const asked: string[] = [];
  const transport = (url: string): Promise<unknown> => {
    asked.push(url);
    const answer = overrides[url] ?? RECORDED[url];
    if (answer === undefined) return Promise.reject(new Error(`no recording for ${url}`));
    if (answer instanceof Error) return Promise.reject(answer);
    return Promise.resolve(readRecorded(answer));
  };
  return Object.assign(transport, { asked });
}

/** Kraken, Coinbase and Bitstamp over the recorded answers. */
export function recordedMarketSources(
  clock: Clock,
  transport: JsonTransport = recordedTransport(),
): MarketRateSource[] {
  return Object.values(VENUES).map((venue) => new VenueRateSource(venue, transport, clock));
}

import { parseRate, type Clock, type CurrencyCode, type Rate } from '../kernel';

/** One market price of 1 BTC, and when the source says it was current. */
export interface MarketQuote {
  readonly rate: Rate;
  readonly at: Date;
}

/**
 * The MarketRateSource port: one source a fixing asks. It answers null when it does not quote
 * the currency, and throws when it failed (unreachable, malformed, stale); the fixing records
 * either as an unused source. The manual desk (`FixedRateSource`) is one as it is.
 */
export interface MarketRateSource {
  readonly name: string;
  quote(quote: CurrencyCode): Promise<MarketQuote | null>;
}

/** Fetches a JSON document: HTTPS in production (`httpJson`), recorded responses in tests. */
export type JsonTransport = (url: string) => Promise<unknown>;

/** A public price API: where to ask for a currency, and how to read its answer. */
export interface Venue {
  readonly name: string;
  /** The currencies the venue quotes BTC in (upper case). */
  readonly currencies: readonly string[];
  url(quote: CurrencyCode): string;
  /** The price as the venue's decimal string, and its time when the answer has one. */
  read(body: unknown, quote: CurrencyCode): { price: string; at?: Date };
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new Error(`${what} is not an object`);
  }
  return value as Record<string, unknown>;
}

function decimal(value: unknown, what: string): string {
  if (typeof value !== 'string' || !/^\d+(\.\d+)?$/.test(value)) {
    throw new Error(`${what} is not a decimal string`);
  }
  return value;
}

/**
 * Kraken's public Ticker (`GET /0/public/Ticker?pair=XBTUSD`): `{ error: [], result: { XXBTZUSD:
 * { a, b, c: [last price, lot volume], v, p, t, l, h, o } } }`. The price is the last trade,
 * `c[0]`; the answer carries no time.
 */
export const KRAKEN: Venue = {
  name: 'kraken',
  currencies: ['USD', 'EUR', 'GBP', 'CAD', 'JPY', 'CHF', 'AUD'],
  url: (quote) => `https://api.kraken.com/0/public/Ticker?pair=XBT${quote}`,
  read(body, quote) {
    const answer = object(body, 'kraken answer');
    if (Array.isArray(answer.error) && answer.error.length > 0) {
      throw new Error(`kraken error: ${answer.error.map(String).join('; ').slice(0, 200)}`);
    }
    const result = object(answer.result, 'kraken result');
    const pairs = Object.keys(result).filter((k) => k.startsWith('X') && k.endsWith(quote));
    if (pairs.length !== 1) throw new Error(`kraken result has no single XBT/${quote} pair`);
    const ticker = object(result[pairs[0]!], 'kraken ticker');
    if (!Array.isArray(ticker.c)) throw new Error('kraken ticker has no last trade (c)');
    return { price: decimal(ticker.c[0], 'kraken c[0]') };
  },
};

/**
 * Coinbase's spot price (`GET /v2/prices/BTC-USD/spot`): `{ data: { amount: "…", base: "BTC",
 * currency: "USD" } }`; no time.
 */
export const COINBASE: Venue = {
  name: 'coinbase',
  currencies: ['USD', 'EUR', 'GBP', 'CAD', 'JPY', 'CHF', 'AUD', 'BRL', 'MXN', 'COP', 'PYG'],
  url: (quote) => `https://api.coinbase.com/v2/prices/BTC-${quote}/spot`,
  read(body, quote) {
    const data = object(object(body, 'coinbase answer').data, 'coinbase data');
    if (data.base !== 'BTC' || data.currency !== quote) {
      throw new Error(`coinbase answered ${String(data.base)}/${String(data.currency)}`);
    }
    return { price: decimal(data.amount, 'coinbase amount') };
  },
};

/**
 * Bitstamp's ticker (`GET /api/v2/ticker/btcusd/`): `{ timestamp: "<unix seconds>", last, bid,
 * ask, high, low, open, volume, vwap, … }`, all strings. The price is `last`, at `timestamp`.
 */
export const BITSTAMP: Venue = {
  name: 'bitstamp',
  currencies: ['USD', 'EUR', 'GBP'],
  url: (quote) => `https://www.bitstamp.net/api/v2/ticker/btc${quote.toLowerCase()}/`,
  read(body) {
    const ticker = object(body, 'bitstamp answer');
    const seconds = typeof ticker.timestamp === 'string' ? Number(ticker.timestamp) : NaN;
    if (!Number.isInteger(seconds) || seconds <= 0) throw new Error('bitstamp timestamp is bad');
    return { price: decimal(ticker.last, 'bitstamp last'), at: new Date(seconds * 1000) };
  },
};

export const VENUES: Readonly<Record<string, Venue>> = {
  kraken: KRAKEN,
  coinbase: COINBASE,
  bitstamp: BITSTAMP,
};

/**
 * A venue asked through a transport. A price older than `maxAgeMs` (by the venue's own time) is
 * refused as stale; a currency the venue does not quote is null, without asking.
 */
export class VenueRateSource implements MarketRateSource {
  readonly name: string;

  constructor(
    readonly venue: Venue,
    readonly transport: JsonTransport,
    readonly clock: Clock,
    readonly maxAgeMs = 10 * 60_000,
  ) {
    this.name = venue.name;
  }

  async quote(quote: CurrencyCode): Promise<MarketQuote | null> {
    if (!this.venue.currencies.includes(quote)) return null;
    const asked = this.clock.now();
    const { price, at } = this.venue.read(await this.transport(this.venue.url(quote)), quote);
    if (at && asked.getTime() - at.getTime() > this.maxAgeMs) {
      throw new Error(`stale: the price is from ${at.toISOString()}`);
    }
    return { rate: parseRate(price, quote, `${this.name}.price`), at: at ?? asked };
  }
}

/** JSON over HTTPS with a timeout and a size cap, for the venues in production. */
export function httpJson(options: { timeoutMs?: number; maxBytes?: number } = {}): JsonTransport {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const maxBytes = options.maxBytes ?? 64 * 1024;
  return async (url) => {
    const response = await fetch(url, {
      signal: AbortSignal.timeout(timeoutMs),
      headers: { accept: 'application/json' },
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const text = await response.text();
    if (text.length > maxBytes) throw new Error(`answer larger than ${maxBytes} bytes`);
    return JSON.parse(text) as unknown;
  };
}

/** The venues named (e.g. from RATE_MARKET_SOURCES), asked over HTTPS. */
export function venueSources(
  names: readonly string[],
  clock: Clock,
  transport: JsonTransport = httpJson(),
): MarketRateSource[] {
  return names.map((name) => {
    const venue = VENUES[name];
    if (!venue) throw new Error(`unknown rate source "${name}"`);
    return new VenueRateSource(venue, transport, clock);
  });
}

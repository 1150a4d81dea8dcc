import { describe, expect, it } from 'vitest';
import { currency, formatRate, ManualClock } from '../kernel';
import { BITSTAMP, COINBASE, KRAKEN, VenueRateSource } from './market-sources';
import {
  readRecorded,
  RECORDED_AT,
  recordedMarketSources,
  recordedTransport,
} from '../../test/support/rate-sources';

const USD = currency('USD');
const EUR = currency('EUR');

describe('market rate sources on recorded answers', () => {
  const clock = new ManualClock('2026-07-01T16:00:00Z');

  it('read the price each venue documents: Kraken c[0], Coinbase data.amount, Bitstamp last', async () => {
    const [kraken, coinbase, bitstamp] = recordedMarketSources(clock);
    const usd = await Promise.all([kraken!, coinbase!, bitstamp!].map((s) => s.quote(USD)));
    expect(usd.map((q) => q && formatRate(q.rate))).toEqual(['67012.40000', '67005.31', '67020']);
    const eur = await Promise.all([kraken!, coinbase!, bitstamp!].map((s) => s.quote(EUR)));
    expect(eur.map((q) => q && formatRate(q.rate))).toEqual(['61940.10000', '61935.72', '61950']);
    expect(eur.every((q) => q?.rate.quote === 'EUR')).toBe(true);
    // Bitstamp's answer carries its time; the others are as of the asking.
    expect(usd[2]!.at.toISOString()).toBe(new Date(RECORDED_AT).toISOString());
    expect(usd[0]!.at).toEqual(clock.now());
  });

  it('ask the documented URLs, and do not ask for a currency the venue does not quote', async () => {
    const transport = recordedTransport();
    const sources = recordedMarketSources(clock, transport);
    for (const s of sources) await s.quote(USD);
    expect(transport.asked).toEqual([
      'https://api.kraken.com/0/public/Ticker?pair=XBTUSD',
      'https://api.coinbase.com/v2/prices/BTC-USD/spot',
      'https://www.bitstamp.net/api/v2/ticker/btcusd/',
    ]);
    const bitstamp = sources[2]!;
    expect(await bitstamp.quote(currency('JPY'))).toBeNull();
    expect(transport.asked).toHaveLength(3);
  });

  it('fail on an error answer, a malformed answer, another currency or a stale price', async () => {
    const kraken = new VenueRateSource(
      KRAKEN,
      recordedTransport({
        'https://api.kraken.com/0/public/Ticker?pair=XBTUSD': 'kraken-ticker-unknown-pair.json',
      }),
      clock,
    );
    await expect(kraken.quote(USD)).rejects.toThrow(/kraken error: EQuery:Unknown asset pair/);
    expect(() => KRAKEN.read({ error: [], result: { XXBTZUSD: { c: [67000] } } }, USD)).toThrow(
      /not a decimal string/,
    );
    expect(() => COINBASE.read(readRecorded('coinbase-spot-BTC-EUR.json'), USD)).toThrow(
      /coinbase answered BTC\/EUR/,
    );
    expect(() => BITSTAMP.read({ last: '67000' }, USD)).toThrow(/timestamp/);
    const later = new ManualClock('2026-07-01T16:20:00Z');
    const stale = new VenueRateSource(BITSTAMP, recordedTransport(), later);
    await expect(stale.quote(USD)).rejects.toThrow(/stale: the price is from 2026-07-01T15:59:42/);
    const unreachable = new VenueRateSource(
      COINBASE,
      recordedTransport({
        'https://api.coinbase.com/v2/prices/BTC-USD/spot': new Error('HTTP 503'),
      }),
      clock,
    );
    await expect(unreachable.quote(USD)).rejects.toThrow('HTTP 503');
  });
});

import { readFile } from 'node:fs/promises';
import { and, desc, eq, inArray, lte } from 'drizzle-orm';
import { keyset, pageOf, type Database, type Orm, type Page, type PageRequest } from '../db';
import {
  AppError,
  invalid,
  currency,
  formatRate,
  newId,
  parseRate,
  type Clock,
  type CurrencyCode,
  type Random,
  type Rate,
} from '../kernel';
import { medianRate, spreadBps } from './fixing-math';
import type { FixingService, FixingView } from './fixings';
import { exchangeRates } from './schema';

/** What one source said, kept with every rate the scheme uses. */
export interface SourceReport {
  readonly name: string;
  /** The rate as a decimal string, or null when the source had none. */
  readonly rate: string | null;
  readonly used: boolean;
  readonly reason?: string;
}

export interface RateObservation {
  readonly rate: Rate;
  readonly at: Date;
  readonly method: string;
  readonly sources: readonly SourceReport[];
}

/** The RateSource port: the price of 1 BTC in `quote`, or null when the source has none. */
export interface RateSource {
  readonly name: string;
  quote(quote: CurrencyCode): Promise<RateObservation | null>;
}

/** A fixed table of rates, for demos and tests; `set` changes it. */
export class FixedRateSource implements RateSource {
  readonly name: string;
  readonly #rates = new Map<string, Rate>();
  readonly #clock: Clock;

  constructor(name: string, clock: Clock, rates: Readonly<Record<string, string>> = {}) {
    this.name = name;
    this.#clock = clock;
    for (const [code, text] of Object.entries(rates)) this.set(code, text);
  }

  set(quote: string, text: string | null): void {
    if (text === null) this.#rates.delete(quote);
    else this.#rates.set(quote, parseRate(text, quote, `rates.${quote}`));
  }

  quote(quote: CurrencyCode): Promise<RateObservation | null> {
    const rate = this.#rates.get(quote);
    if (!rate) return Promise.resolve(null);
    return Promise.resolve({
      rate,
      at: this.#clock.now(),
      method: `fixed(${this.name})`,
      sources: [{ name: this.name, rate: formatRate(rate), used: true }],
    });
  }
}

/** Rates from a JSON file `{ "USD": "67123.45", … }`, re-read on every request. */
export class FileRateSource implements RateSource {
  readonly name: string;
  constructor(
    readonly path: string,
    readonly clock: Clock,
  ) {
    this.name = `file:${path.split(/[\\/]/).pop() ?? path}`;
  }

  async quote(quote: CurrencyCode): Promise<RateObservation | null> {
    let parsed: unknown;
    try {
      parsed = JSON.parse(await readFile(this.path, 'utf8'));
    } catch {
      return null;
    }
    if (!parsed || typeof parsed !== 'object') return null;
    const text = (parsed as Record<string, unknown>)[quote];
    if (typeof text !== 'string') return null;
    const rate = parseRate(text, quote, `${this.name}.${quote}`);
    return {
      rate,
      at: this.clock.now(),
      method: `fixed(${this.name})`,
      sources: [{ name: this.name, rate: text, used: true }],
    };
  }
}

export interface RateLogger {
  warn(message: string, fields?: Record<string, unknown>): void;
}

/**
 * The median of several sources with a maximum spread: a source further than `maxSpreadBps`
 * (basis points) from the median of all answers is dropped and logged; the rate is the median of
 * the rest. Fewer than `minSources` remaining answers give no rate at all.
 */
export class MedianRateSource implements RateSource {
  readonly name = 'median';
  constructor(
    readonly sources: readonly RateSource[],
    readonly options: { maxSpreadBps: number; minSources?: number; logger?: RateLogger },
  ) {
    if (!Number.isInteger(options.maxSpreadBps) || options.maxSpreadBps < 0) {
      throw new AppError(
        'CONFIG_INVALID',
        `maxSpreadBps must be a non-negative integer, got ${options.maxSpreadBps}`,
      );
    }
  }

  async quote(quote: CurrencyCode): Promise<RateObservation | null> {
    const answers = await Promise.all(
      this.sources.map(async (source) => {
        try {
          return { source, observation: await source.quote(quote), error: undefined };
        } catch (error) {
          return { source, observation: null, error };
        }
      }),
    );
    const present = answers.flatMap((a) =>
      a.observation ? [{ ...a, rate: a.observation.rate }] : [],
    );
    const reports: SourceReport[] = answers
      .filter((a) => !a.observation)
      .map((a) => ({
        name: a.source.name,
        rate: null,
        used: false,
        reason:
          a.error === undefined
            ? 'no rate'
            : `failed: ${a.error instanceof Error ? a.error.message : 'unknown error'}`,
      }));
    if (present.length === 0) return null;
    const all = medianRate(present.map((p) => p.rate));
    const kept: typeof present = [];
    for (const p of present) {
      const deviationBps = spreadBps(p.rate, all);
      if (deviationBps > this.options.maxSpreadBps) {
        this.options.logger?.warn('rate source dropped: too far from the median', {
          source: p.source.name,
          quote,
          rate: formatRate(p.rate),
          median: formatRate(all),
          deviationBps,
        });
        reports.push({
          name: p.source.name,
          rate: formatRate(p.rate),
          used: false,
          reason: `${deviationBps} bp from the median ${formatRate(all)} (max ${this.options.maxSpreadBps})`,
        });
      } else {
        kept.push(p);
        reports.push({ name: p.source.name, rate: formatRate(p.rate), used: true });
      }
    }
    if (kept.length < (this.options.minSources ?? 1)) return null;
    const rate = medianRate(kept.map((k) => k.rate));
    const latest = kept.reduce(
      (max, k) => (k.observation && k.observation.at > max ? k.observation.at : max),
      new Date(0),
    );
    return {
      rate,
      at: latest,
      method: `median(${kept.length} of ${this.sources.length}, max spread ${this.options.maxSpreadBps} bp)`,
      sources: reports,
    };
  }
}

export interface StoredRate {
  readonly id: string;
  readonly rate: Rate;
  readonly at: Date;
  readonly method: string;
  readonly sources: readonly SourceReport[];
  /** The published fixing the rate was taken from, or null (the live source). */
  readonly fixingId: string | null;
}

/**
 * Hands out the rates trade values invoices and payouts at, and stores each one with its sources
 * and time. With published fixings (`fixings`), the day's fixing is the rate once it exists;
 * before the day's cut-off (or without fixings) the rate comes from the live `source`.
 */
export class RateService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly source: RateSource;
  readonly fixings: FixingService | null;

  constructor(ports: {
    db: Database;
    clock: Clock;
    random: Random;
    source: RateSource;
    fixings?: FixingService | null;
  }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#random = ports.random;
    this.source = ports.source;
    this.fixings = ports.fixings ?? null;
  }

  /**
   * The current rate, stored in the caller's unit of work (autocommit outside one): the latest
   * version of today's published fixing (UTC date) when there is one, else the live source's.
   * Throws RATE_UNAVAILABLE.
   */
  async current(quote: string): Promise<StoredRate> {
    return this.valuationOn(quote, this.#clock.now().toISOString().slice(0, 10));
  }

  /**
   * The rate to value at on `date` (YYYY-MM-DD, UTC), stored in the caller's unit of work as
   * `current` does: the latest version of that day's published fixing when there is one, else,
   * for today only, the live source's rate as it stands now (`current` is this for today); a past
   * day without a fixing is RATE_UNAVAILABLE, never valued at today's rate. The settlement
   * windows value their nets with it at the cut-off day. Throws RATE_UNAVAILABLE.
   */
  async valuationOn(quote: string, date: string): Promise<StoredRate> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw invalid('date', `must be YYYY-MM-DD, got "${date}"`);
    const tx = this.#db.current();
    const code = currency(quote, 'currency');
    const fixing = await this.fixings?.forDay(code, date);
    if (fixing) return this.#store(tx, fromFixing(fixing), fixing.id);
    // The live source says what a bitcoin is worth now: it stands in for today's fixing only. A
    // past day without a fixing (a window closed late, after downtime) has no rate.
    if (date !== this.#clock.now().toISOString().slice(0, 10)) {
      throw new AppError('RATE_UNAVAILABLE', `no BTC/${code} fixing was published for ${date}`);
    }
    let observation: RateObservation | null;
    try {
      observation = await this.source.quote(code);
    } catch (error) {
      throw new AppError('RATE_UNAVAILABLE', `no BTC/${code} rate: the rate source failed`, {
        cause: error,
      });
    }
    if (!observation) {
      throw new AppError(
        'RATE_UNAVAILABLE',
        `no BTC/${code} rate is available right now; retry later`,
      );
    }
    return this.#store(tx, observation, null);
  }

  async #store(
    tx: Orm,
    observation: RateObservation,
    fixingId: string | null,
  ): Promise<StoredRate> {
    const id = newId('rate', this.#clock.now(), this.#random);
    await tx.insert(exchangeRates).values({
      id,
      quote: observation.rate.quote,
      digits: observation.rate.digits,
      scale: observation.rate.scale,
      at: observation.at,
      method: observation.method,
      sources: observation.sources,
      fixingId,
    });
    return { id, ...observation, fixingId };
  }

  /**
   * The rate of a past day: the day's published fixing (its latest version) when there is one,
   * else the last rate stored on or before the end of `date` (YYYY-MM-DD, UTC), or null when
   * none was stored by then. Used to value output "at the day's rate".
   */
  async onDay(quote: string, date: string): Promise<Rate | null> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date))
      throw invalid('date', `must be YYYY-MM-DD, got "${date}"`);
    const code = currency(quote, 'currency');
    const endOfDay = new Date(`${date}T23:59:59.999Z`);
    if (Number.isNaN(endOfDay.getTime()))
      throw invalid('date', `is not a calendar date: "${date}"`);
    const fixing = await this.fixings?.forDay(code, date);
    if (fixing) return fixing.rate;
    const [row] = await this.#db
      .current()
      .select()
      .from(exchangeRates)
      .where(and(eq(exchangeRates.quote, code), lte(exchangeRates.at, endOfDay)))
      .orderBy(desc(exchangeRates.at), desc(exchangeRates.id))
      .limit(1);
    return row ? { digits: row.digits, scale: row.scale, quote: code } : null;
  }

  async get(id: string): Promise<StoredRate> {
    const [row] = await this.#db
      .current()
      .select()
      .from(exchangeRates)
      .where(eq(exchangeRates.id, id));
    if (!row) throw new AppError('NOT_FOUND', `no exchange rate ${id}`);
    return toStored(row);
  }

  /** The fixing each stored rate was taken from (null for a rate from the live source). */
  async fixingIdsOf(rateIds: readonly string[]): Promise<Map<string, string | null>> {
    const ids = [...new Set(rateIds)];
    if (ids.length === 0) return new Map();
    const rows = await this.#db
      .current()
      .select({ id: exchangeRates.id, fixingId: exchangeRates.fixingId })
      .from(exchangeRates)
      .where(inArray(exchangeRates.id, ids));
    return new Map(rows.map((r) => [r.id, r.fixingId]));
  }

  /** A page of the stored rates, newest first (keyset on at, id), of one quote currency or all. */
  async list(quote?: string, request: PageRequest = {}): Promise<Page<StoredRate>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: exchangeRates.at, id: exchangeRates.id },
      request,
    );
    const rows = await this.#db
      .current()
      .select()
      .from(exchangeRates)
      .where(and(quote ? eq(exchangeRates.quote, quote) : undefined, after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(toStored),
      (row) => ({ createdAt: row.at, id: row.id }),
    );
  }
}

function toStored(row: typeof exchangeRates.$inferSelect): StoredRate {
  return {
    id: row.id,
    rate: { digits: row.digits, scale: row.scale, quote: currency(row.quote) },
    at: row.at,
    method: row.method,
    sources: Array.isArray(row.sources) ? (row.sources as SourceReport[]) : [],
    fixingId: row.fixingId,
  };
}

/** A fixing as the observation a stored rate records: its rate, time and sources. */
function fromFixing(f: FixingView): RateObservation {
  return {
    rate: f.rate,
    at: f.publishedAt,
    method: `fixing ${f.id} (${f.quote} ${f.date} v${f.version}: ${f.method})`,
    sources: f.sources.map((s) => ({
      name: s.name,
      rate: s.rate,
      used: s.used,
      ...(s.reason ? { reason: s.reason } : {}),
    })),
  };
}

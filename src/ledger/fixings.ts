import { and, desc, eq, inArray } from 'drizzle-orm';
import { AuditLog } from '../audit';
import {
  keyset,
  pageOf,
  sqlState,
  UNIQUE_VIOLATION,
  type Database,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  currency,
  formatRate,
  invalid,
  newId,
  systemCaller,
  type Caller,
  type Clock,
  type CurrencyCode,
  type Random,
  type Rate,
} from '../kernel';
import { fixQuotes, type FixingSourceReport, type SourceQuote } from './fixing-math';
import {
  checkFixingSettings,
  cutoffOf,
  loadFixingSettings,
  type FixingSettings,
  type FixingSettingsInput,
} from './fixing-settings';
import type { MarketRateSource } from './market-sources';
import { rateFixingSettings, rateFixings } from './schema';

/** A published fixing (one version of the reference rate of a currency on a date). */
export interface FixingView {
  readonly id: string;
  readonly quote: CurrencyCode;
  readonly date: string;
  readonly version: number;
  readonly rate: Rate;
  readonly method: string;
  readonly sources: readonly FixingSourceReport[];
  readonly settingsVersion: number;
  readonly minSources: number;
  readonly maxDeviationBps: number;
  readonly publishedBy: string;
  readonly publishedAt: Date;
  /** For a correction: the version it supersedes and why. */
  readonly supersedes: string | null;
  readonly reason: string | null;
  /** The correction that supersedes this version, if any. */
  readonly supersededBy: string | null;
}

export interface DueFixingsResult {
  readonly published: string[];
  /** `QUOTE:date` of each refused attempt (audited). */
  readonly refused: string[];
}

/** After a refusal, the daily job asks the sources again at most this often. */
export const REFUSAL_RETRY_MS = 15 * 60_000;

const SOURCE_TIMEOUT_MS = 10_000;

const today = (now: Date) => now.toISOString().slice(0, 10);

function isDate(value: string): boolean {
  return (
    /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(new Date(`${value}T00:00:00Z`).getTime())
  );
}

/**
 * The supervisor's reference rate: a fixing per currency and cut-off date, taken from the
 * configured sources by `fixQuotes` (the median after rejecting outliers), stored with every
 * source's value, audited, never overwritten (a correction is a new version with a reason).
 * Sources are asked outside any transaction; the fixing and its audit event commit together.
 */
export class FixingService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #random: Random;
  readonly #sources: ReadonlyMap<string, MarketRateSource>;
  /** The job's last refused attempt per `QUOTE:date`, in this process. */
  readonly #refusedAt = new Map<string, number>();

  constructor(ports: {
    db: Database;
    clock: Clock;
    random: Random;
    sources: readonly MarketRateSource[];
  }) {
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#audit = new AuditLog(ports);
    this.#random = ports.random;
    this.#sources = new Map(ports.sources.map((s) => [s.name, s]));
    if (this.#sources.size !== ports.sources.length) {
      throw new AppError('CONFIG_INVALID', 'two rate sources have the same name');
    }
  }

  /** The names of the sources this deployment can ask. */
  get available(): string[] {
    return [...this.#sources.keys()];
  }

  /** The rule in force, read in the caller's unit of work (autocommit outside one). */
  async settings(): Promise<FixingSettings> {
    return loadFixingSettings(this.#db.current(), this.available);
  }

  /** Stores a new version of the rule (supervisor), audited. */
  async setSettings(caller: Caller, input: FixingSettingsInput): Promise<FixingSettings> {
    supervisorOnly(caller);
    const checked = checkFixingSettings(input, this.available);
    return this.#db.transaction(async (tx) => {
      const before = await loadFixingSettings(tx, this.available);
      const version = before.version + 1;
      const setAt = this.#clock.now();
      try {
        await tx.insert(rateFixingSettings).values({
          version,
          ...checked,
          setBy: caller.actorId,
          setAt,
        });
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError('CONFLICT', 'the fixing rule was changed meanwhile; retry');
        }
        throw error;
      }
      const after: FixingSettings = { version, ...checked, setBy: caller.actorId, setAt };
      await this.#audit.record(caller, {
        action: 'rates.fixingSettings.changed',
        entityType: 'rateFixingSettings',
        entityId: String(version),
        before: before.version === 0 ? null : before,
        after,
      });
      return after;
    });
  }

  /**
   * Publishes the fixing of `quote` for `date` (today, UTC: the sources are asked now).
   * FIXING_ALREADY_PUBLISHED when it exists; FIXING_SOURCES_INSUFFICIENT (the attempt audited,
   * nothing else written) when too few sources gave a usable quote.
   */
  async publish(caller: Caller, input: { quote: string; date?: string }): Promise<FixingView> {
    supervisorOnly(caller);
    const now = this.#clock.now();
    const code = currency(input.quote, 'quote');
    const date = input.date ?? today(now);
    if (!isDate(date)) throw invalid('date', `must be YYYY-MM-DD, got "${date}"`);
    if (date !== today(now)) {
      throw invalid('date', `a fixing takes the sources' quotes now, so its date is ${today(now)}`);
    }
    return this.#take(caller, code, date, null);
  }

  /**
   * A new version of today's fixing (the latest one), re-taken from the sources, with a reason.
   * An earlier day's fixing is refused (CONFLICT): its quotes cannot be asked again.
   */
  async correct(caller: Caller, id: string, input: { reason: string }): Promise<FixingView> {
    supervisorOnly(caller);
    const reason = input.reason.trim();
    if (reason.length < 10) throw invalid('reason', 'must say why, in 10 characters or more');
    const fixing = await this.get(id);
    if (fixing.supersededBy) {
      throw new AppError('FIXING_SUPERSEDED', `${id} was corrected by ${fixing.supersededBy}`, {
        details: { supersededBy: fixing.supersededBy },
      });
    }
    // The sources are asked now: a past day's fixing cannot be re-taken from today's prices.
    const now = this.#clock.now();
    if (fixing.date !== today(now))
      throw new AppError(
        'CONFLICT',
        `${id} is the fixing of ${fixing.date}; a correction takes the sources' quotes now, so only today's (${today(now)}) can be corrected`,
      );
    return this.#take(caller, fixing.quote, fixing.date, { fixing, reason });
  }

  async #take(
    caller: Caller,
    code: CurrencyCode,
    date: string,
    correction: { fixing: FixingView; reason: string } | null,
  ): Promise<FixingView> {
    if (!correction) {
      const existing = await this.forDay(code, date);
      if (existing) throw alreadyPublished(code, date, existing.id);
    }
    const settings = await this.settings();
    const outcome = fixQuotes(await this.#ask(settings, code), settings);
    const key = `${code}:${date}`;
    if (!outcome.ok) {
      await this.#db.transaction(() =>
        this.#audit.record(caller, {
          action: 'rates.fixing.refused',
          entityType: 'rateFixing',
          entityId: key,
          after: {
            quote: code,
            date,
            reason: outcome.reason,
            sources: outcome.sources,
            settingsVersion: settings.version,
            minSources: settings.minSources,
            maxDeviationBps: settings.maxDeviationBps,
            correctionOf: correction?.fixing.id ?? null,
          },
        }),
      );
      throw new AppError(
        'FIXING_SOURCES_INSUFFICIENT',
        `no BTC/${code} fixing for ${date}: ${outcome.reason}`,
        { details: { quote: code, date, reason: outcome.reason, sources: outcome.sources } },
      );
    }
    const now = this.#clock.now();
    const row: typeof rateFixings.$inferInsert = {
      id: newId('fixing', now, this.#random),
      quote: code,
      date,
      version: correction ? correction.fixing.version + 1 : 1,
      digits: outcome.rate.digits,
      scale: outcome.rate.scale,
      method: outcome.method,
      sources: outcome.sources,
      settingsVersion: settings.version,
      minSources: settings.minSources,
      maxDeviationBps: settings.maxDeviationBps,
      publishedBy: caller.actorId,
      supersedes: correction?.fixing.id ?? null,
      reason: correction?.reason ?? null,
      createdAt: now,
    };
    try {
      await this.#db.transaction(async (tx) => {
        await tx.insert(rateFixings).values(row);
        const view = toView(row as typeof rateFixings.$inferSelect, null);
        await this.#audit.record(caller, {
          action: correction ? 'rates.fixing.corrected' : 'rates.fixing.published',
          entityType: 'rateFixing',
          entityId: row.id,
          before: correction ? auditBody(correction.fixing) : null,
          after: { ...auditBody(view), reason: row.reason },
        });
      });
    } catch (error) {
      if (sqlState(error) !== UNIQUE_VIOLATION) throw error;
      if (!correction) throw alreadyPublished(code, date, (await this.forDay(code, date))?.id);
      throw new AppError('FIXING_SUPERSEDED', `${correction.fixing.id} was corrected meanwhile`);
    }
    return this.get(row.id);
  }

  /** Every configured source's quote, each failure or silence recorded, never thrown. */
  async #ask(settings: FixingSettings, code: CurrencyCode): Promise<SourceQuote[]> {
    return Promise.all(
      settings.sources.map(async (name): Promise<SourceQuote> => {
        const source = this.#sources.get(name);
        if (!source) return { name, rate: null, error: 'not available in this deployment' };
        try {
          const quote = await withTimeout(source.quote(code), SOURCE_TIMEOUT_MS);
          if (!quote) return { name, rate: null };
          if (quote.rate.quote !== code) {
            return { name, rate: null, error: `quoted ${quote.rate.quote}, not ${code}` };
          }
          return { name, rate: quote.rate, at: quote.at };
        } catch (error) {
          const message = error instanceof Error ? error.message : 'unknown error';
          return { name, rate: null, error: message.slice(0, 200) };
        }
      }),
    );
  }

  /**
   * The daily job: at or after the cut-off, publishes today's fixing of every configured
   * currency that has none yet. Idempotent (a published fixing is skipped, and a second server
   * racing to publish the same one gets FIXING_ALREADY_PUBLISHED, ignored); a refused attempt
   * is audited and retried here no sooner than REFUSAL_RETRY_MS later.
   */
  async publishDueFixings(now: Date = this.#clock.now()): Promise<DueFixingsResult> {
    const result: DueFixingsResult = { published: [], refused: [] };
    const settings = await this.settings();
    const date = today(now);
    if (settings.currencies.length === 0 || now < cutoffOf(date, settings)) return result;
    const caller = systemCaller('rates.fixing');
    for (const code of settings.currencies) {
      const key = `${code}:${date}`;
      if (await this.forDay(currency(code), date)) continue;
      const refused = this.#refusedAt.get(key);
      if (refused !== undefined && now.getTime() - refused < REFUSAL_RETRY_MS) continue;
      try {
        result.published.push((await this.#take(caller, currency(code), date, null)).id);
        this.#refusedAt.delete(key);
      } catch (error) {
        if (!(error instanceof AppError)) throw error;
        if (error.code === 'FIXING_ALREADY_PUBLISHED') continue;
        if (error.code !== 'FIXING_SOURCES_INSUFFICIENT') throw error;
        this.#refusedAt.set(key, now.getTime());
        result.refused.push(key);
      }
    }
    return result;
  }

  /**
   * The latest version of the fixing of `quote` on `date`, or null, read in the caller's unit of
   * work (autocommit outside one).
   */
  async forDay(quote: CurrencyCode, date: string): Promise<FixingView | null> {
    const [row] = await this.#db
      .current()
      .select()
      .from(rateFixings)
      .where(and(eq(rateFixings.quote, quote), eq(rateFixings.date, date)))
      .orderBy(desc(rateFixings.version))
      .limit(1);
    return row ? toView(row, null) : null;
  }

  /** One fixing version, read in the caller's unit of work (autocommit outside one). */
  async get(id: string): Promise<FixingView> {
    const orm = this.#db.current();
    const [row] = await orm.select().from(rateFixings).where(eq(rateFixings.id, id));
    if (!row) throw new AppError('FIXING_NOT_FOUND', `no fixing ${id}`);
    const [next] = await orm
      .select({ id: rateFixings.id })
      .from(rateFixings)
      .where(eq(rateFixings.supersedes, id));
    return toView(row, next?.id ?? null);
  }

  /**
   * The fixing versions of `ids` (those that exist; an unknown id is left out), oldest date
   * first, in two statements whatever their number: what a report lists its figures rest on.
   */
  async many(ids: readonly string[]): Promise<FixingView[]> {
    const wanted = [...new Set(ids)];
    if (wanted.length === 0) return [];
    const orm = this.#db.current();
    const rows = await orm.select().from(rateFixings).where(inArray(rateFixings.id, wanted));
    const next = await orm
      .select({ id: rateFixings.id, supersedes: rateFixings.supersedes })
      .from(rateFixings)
      .where(inArray(rateFixings.supersedes, wanted));
    const by = new Map(next.map((n) => [n.supersedes, n.id]));
    return rows
      .map((r) => toView(r, by.get(r.id) ?? null))
      .sort(
        (a, b) =>
          a.date.localeCompare(b.date) || a.quote.localeCompare(b.quote) || a.version - b.version,
      );
  }

  /** Fixings, newest first, a page at a time; every version is listed. */
  async list(
    filter: { quote?: string; date?: string },
    page: PageRequest = {},
  ): Promise<Page<FixingView>> {
    if (filter.date !== undefined && !isDate(filter.date)) {
      throw invalid('date', `must be YYYY-MM-DD, got "${filter.date}"`);
    }
    const { after, orderBy, read, limit } = keyset(rateFixings, page);
    const orm = this.#db.current();
    const rows = await orm
      .select()
      .from(rateFixings)
      .where(
        and(
          filter.quote ? eq(rateFixings.quote, currency(filter.quote, 'quote')) : undefined,
          filter.date ? eq(rateFixings.date, filter.date) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, async (shown) => {
      const ids = shown.map((r) => r.id);
      const next =
        ids.length === 0
          ? []
          : await orm
              .select({ id: rateFixings.id, supersedes: rateFixings.supersedes })
              .from(rateFixings)
              .where(inArray(rateFixings.supersedes, ids));
      const by = new Map(next.map((n) => [n.supersedes, n.id]));
      return shown.map((r) => toView(r, by.get(r.id) ?? null));
    });
  }
}

function supervisorOnly(caller: Caller): void {
  if (caller.role !== 'supervisor') {
    throw new AppError('FORBIDDEN', 'only the supervisor publishes fixings and sets their rule');
  }
}

function alreadyPublished(code: string, date: string, id: string | undefined): AppError {
  return new AppError(
    'FIXING_ALREADY_PUBLISHED',
    `the BTC/${code} fixing of ${date} is already published${id ? ` (${id})` : ''}; correct it instead`,
    { details: { quote: code, date, ...(id ? { fixingId: id } : {}) } },
  );
}

function auditBody(f: FixingView): Record<string, unknown> {
  return {
    id: f.id,
    quote: f.quote,
    date: f.date,
    version: f.version,
    rate: formatRate(f.rate),
    method: f.method,
    sources: f.sources,
    settingsVersion: f.settingsVersion,
  };
}

function toView(row: typeof rateFixings.$inferSelect, supersededBy: string | null): FixingView {
  const quote = currency(row.quote);
  return {
    id: row.id,
    quote,
    date: row.date,
    version: row.version,
    rate: { digits: row.digits, scale: row.scale, quote },
    method: row.method,
    sources: Array.isArray(row.sources) ? (row.sources as FixingSourceReport[]) : [],
    settingsVersion: row.settingsVersion,
    minSources: row.minSources,
    maxDeviationBps: row.maxDeviationBps,
    publishedBy: row.publishedBy,
    publishedAt: row.createdAt,
    supersedes: row.supersedes,
    reason: row.reason,
    supersededBy,
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

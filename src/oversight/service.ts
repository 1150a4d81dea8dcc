import type { FixingView } from '../ledger';
import {
  AppError,
  formatBtc,
  formatRate,
  seesEverything,
  type Caller,
  type Clock,
  type Config,
} from '../kernel';
import { rowsOf, type Database, type Page, type PageRequest } from '../db';
import { itemsOf, windowAt, type Home } from './home';
import { roleHome } from './home-roles';
import { monthsOf, parseMonth, type Period } from './period';
import {
  buildAlerts,
  buildBop,
  buildFixings,
  buildMining,
  buildPlatformActivity,
  formatFiat,
  reportHeader,
  type FixingUse,
  type Report,
  type ReportFixing,
  type ReportKind,
  type ReportSection,
} from './report';
import { renderReport, type ReportFormat, type RenderedReport } from './render';
import {
  OversightStore,
  type GroupedSettlement,
  type SettlementRow,
  type SettlementSort,
  type TimeRange,
} from './store';

/** The rates module's fixings, read by id: what a report lists its fiat values rest on. */
export interface OversightFixings {
  many(ids: readonly string[]): Promise<FixingView[]>;
}

export interface OversightServiceDeps {
  db: Database;
  clock: Clock;
  config: Pick<Config, 'SCHEME_NAME'>;
  fixings: OversightFixings;
}

/** An amount as JSON carries it: strings, exact. */
export interface AmountView {
  count: number;
  sats: string;
  btc: string;
  currency: string;
  fiatMinor: string;
  fiat: string;
}

export interface DashboardPoint extends AmountView {
  direction: 'export' | 'import';
}

export interface Dashboard {
  generatedAt: string;
  period: { label: string; from: string; to: string; months: string[] } | null;
  settledByMonth: Array<DashboardPoint & { month: string }>;
  byCountry: Array<DashboardPoint & { country: string }>;
  byHsChapter: Array<DashboardPoint & { hsChapter: string }>;
  mining: {
    byRegionMonth: Array<{
      region: string;
      month: string;
      outputs: number;
      sats: string;
      btc: string;
      violations: number;
      violationSats: string;
    }>;
    bans: Array<{
      id: string;
      region: string;
      kind: string;
      from: string;
      to: string;
      reason: string;
      liftedAt: string | null;
    }>;
  };
  open: {
    alertsBySeverity: Array<{ severity: string; count: number }>;
    casesBySeverity: Array<{ severity: string; count: number }>;
  };
  participantsByLicenceStatus: Array<{ kind: string; status: string; count: number }>;
}

export interface SettlementQuery {
  country?: string | undefined;
  hsChapter?: string | undefined;
  month?: string | undefined;
  direction?: 'export' | 'import' | undefined;
  platformId?: string | undefined;
  sort?: SettlementSort | undefined;
  order?: 'asc' | 'desc' | undefined;
}

export type SettlementPage = Page<SettlementRow>;

const forbidden = (what: string) =>
  new AppError('FORBIDDEN', `${what} are for the supervisor and auditors`);

function amount(a: {
  count: number;
  sats: bigint;
  fiatMinor: bigint;
  currency: string;
}): AmountView {
  return {
    count: a.count,
    sats: a.sats.toString(),
    btc: formatBtc(a.sats),
    currency: a.currency,
    fiatMinor: a.fiatMinor.toString(),
    fiat: formatFiat(a.fiatMinor, a.currency),
  };
}

function reportFixing(f: FixingView): ReportFixing {
  return {
    id: f.id,
    quote: f.quote,
    date: f.date,
    version: f.version,
    rate: formatRate(f.rate),
    sourcesUsed: f.sources.filter((s) => s.used).length,
    sourcesAsked: f.sources.length,
    supersededBy: f.supersededBy,
  };
}

/** Sums the month groups per (key, direction, currency): exact, bigint. */
function totalsByKey(rows: readonly GroupedSettlement[]) {
  const totals = new Map<
    string,
    {
      key: string;
      direction: 'export' | 'import';
      currency: string;
      count: number;
      sats: bigint;
      fiatMinor: bigint;
    }
  >();
  for (const r of rows) {
    const id = `${r.key}|${r.direction}|${r.currency}`;
    const entry = totals.get(id) ?? {
      key: r.key,
      direction: r.direction,
      currency: r.currency,
      count: 0,
      sats: 0n,
      fiatMinor: 0n,
    };
    entry.count += r.count;
    entry.sats += r.sats;
    entry.fiatMinor += r.fiatMinor;
    totals.set(id, entry);
  }
  return [...totals.values()];
}

/**
 * Statistics and reports for the supervisor: balance of payments of bitcoin-settled trade,
 * mining output by region, platform activity, alert statistics, and the dashboard's data.
 * Read-only: it writes nothing, so it records no audit events.
 */
export class OversightService {
  readonly #store: OversightStore;
  readonly #clock: Clock;
  readonly #scheme: string;
  readonly #db: Database;
  readonly #fixings: OversightFixings;

  constructor(deps: OversightServiceDeps) {
    this.#db = deps.db;
    this.#fixings = deps.fixings;
    this.#store = new OversightStore(deps.db);
    this.#clock = deps.clock;
    this.#scheme = deps.config.SCHEME_NAME;
  }

  /**
   * Builds a report. bop, mining and alerts are for the supervisor and auditors; platform
   * activity also for a platform, which sees its own row only (asking for another platform's
   * is PARTICIPANT_NOT_FOUND, as if it did not exist).
   */
  async report(
    caller: Caller,
    kind: ReportKind,
    period: Period,
    options: { platformId?: string | undefined } = {},
  ): Promise<Report> {
    const range: TimeRange = { from: period.from, to: period.to };
    const header = () => reportHeader(kind, this.#scheme, period, this.#clock.now());
    switch (kind) {
      case 'bop': {
        if (!seesEverything(caller)) throw forbidden('balance-of-payments statistics');
        const [byCountry, byMonth, mining, uses] = await Promise.all([
          this.#store.settlementsByCountry(range),
          this.#store.settlementsByMonth(range),
          this.#store.mining(range),
          this.#store.settlementFixings(range, null),
        ]);
        return {
          ...header(),
          sections: [...buildBop({ byCountry, byMonth, mining }), await this.#fixingsOf(uses)],
        };
      }
      case 'mining': {
        if (!seesEverything(caller)) throw forbidden('mining reports');
        const [rows, bans] = await Promise.all([
          this.#store.mining(range),
          this.#store.bans(range),
        ]);
        return { ...header(), sections: buildMining({ rows, bans }) };
      }
      case 'alerts': {
        if (!seesEverything(caller)) throw forbidden('alert statistics');
        const [alerts, cases] = await Promise.all([
          this.#store.alerts(range),
          this.#store.cases(range),
        ]);
        return { ...header(), sections: buildAlerts({ alerts, cases }) };
      }
      case 'platform-activity': {
        const platformId = await this.#platformScope(caller, options.platformId);
        const [settlements, onboarding, uses] = await Promise.all([
          this.#store.platformSettlements(range, platformId),
          this.#store.onboarding(range, platformId),
          this.#store.settlementFixings(range, platformId),
        ]);
        return {
          ...header(),
          sections: [
            ...buildPlatformActivity({ settlements, onboarding }),
            await this.#fixingsOf(uses),
          ],
        };
      }
    }
  }

  /** The fixings behind the settlements counted, read through the rates module. */
  async #fixingsOf(uses: readonly FixingUse[]): Promise<ReportSection> {
    const ids = uses.flatMap((u) => (u.fixingId === null ? [] : [u.fixingId]));
    const fixings = await this.#fixings.many(ids);
    return buildFixings(uses, fixings.map(reportFixing));
  }

  async #platformScope(caller: Caller, requested: string | undefined): Promise<string | null> {
    if (caller.role === 'platform') {
      if (requested !== undefined && requested !== caller.participantId) {
        throw new AppError('PARTICIPANT_NOT_FOUND', `no platform ${requested}`);
      }
      return caller.participantId;
    }
    if (!seesEverything(caller)) {
      throw new AppError(
        'FORBIDDEN',
        'platform activity is for the supervisor, auditors and platforms',
      );
    }
    if (requested === undefined) return null;
    if (!(await this.#store.platformExists(requested))) {
      throw new AppError('PARTICIPANT_NOT_FOUND', `no platform ${requested}`);
    }
    return requested;
  }

  /** `section` names the one section a `csv` carries (VALIDATION_FAILED naming `sectionField`). */
  render(
    report: Report,
    format: ReportFormat,
    options: { section?: string | undefined; sectionField?: string } = {},
  ): Promise<RenderedReport> {
    return renderReport(report, format, options);
  }

  /** The dashboard's chart data; all time, or the period given. */
  /**
   * The caller's home page: figures and work queues of its role, within its tenancy, in two
   * queries (home-sql.ts). Every role has one.
   */
  async home(caller: Caller): Promise<Home> {
    const now = this.#clock.now();
    const { counts, queues, shape } = roleHome(caller, windowAt(now));
    const row = rowsOf(await this.#db.orm.execute(counts))[0] ?? {};
    const items = itemsOf(rowsOf(await this.#db.orm.execute(queues)));
    return {
      role: caller.role,
      generatedAt: now.toISOString(),
      figures: shape.figures(row),
      queues: shape.queues.map((q) => ({
        key: q.key,
        title: q.title,
        total: q.total(row),
        href: q.href,
        empty: q.empty,
        items: items.get(q.key) ?? [],
      })),
    };
  }

  async dashboard(caller: Caller, period: Period | null = null): Promise<Dashboard> {
    if (!seesEverything(caller)) throw forbidden('dashboards');
    const range: TimeRange = { from: period?.from ?? null, to: period?.to ?? null };
    const [byMonth, byCountry, byChapter, mining, bans, open, licences] = await Promise.all([
      this.#store.settlementsByMonth(range),
      this.#store.settlementsBy(range, 'country'),
      this.#store.settlementsBy(range, 'hs_chapter'),
      this.#store.mining(range),
      this.#store.bans(range),
      this.#store.openBySeverity(),
      this.#store.participantsByLicenceStatus(this.#clock.now()),
    ]);
    return {
      generatedAt: this.#clock.now().toISOString(),
      period: period
        ? {
            label: period.label,
            from: period.from.toISOString(),
            to: period.to.toISOString(),
            months: monthsOf(period),
          }
        : null,
      settledByMonth: byMonth.map((r) => ({
        month: r.month,
        direction: r.direction,
        ...amount(r),
      })),
      byCountry: totalsByKey(byCountry).map((r) => ({
        country: r.key,
        direction: r.direction,
        ...amount(r),
      })),
      byHsChapter: totalsByKey(byChapter).map((r) => ({
        hsChapter: r.key,
        direction: r.direction,
        ...amount(r),
      })),
      mining: {
        byRegionMonth: mining.map((m) => ({
          region: m.region,
          month: m.month,
          outputs: m.outputs,
          sats: m.sats.toString(),
          btc: formatBtc(m.sats),
          violations: m.violations,
          violationSats: m.violationSats.toString(),
        })),
        bans,
      },
      open: { alertsBySeverity: open.alerts, casesBySeverity: open.cases },
      participantsByLicenceStatus: licences,
    };
  }

  /** The settlements behind a chart point: filtered, sorted, a page at a time. */
  async settlements(
    caller: Caller,
    query: SettlementQuery,
    page: PageRequest = {},
  ): Promise<SettlementPage> {
    if (!seesEverything(caller)) throw forbidden('settlement drill-downs');
    const month = query.month === undefined ? null : parseMonth(query.month, 'month');
    return this.#store.listSettlements(
      {
        range: { from: month?.from ?? null, to: month?.to ?? null },
        country: query.country,
        hsChapter: query.hsChapter,
        direction: query.direction,
        platformId: query.platformId,
      },
      { by: query.sort ?? 'settledAt', order: query.order ?? 'desc' },
      page,
    );
  }
}

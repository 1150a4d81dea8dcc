import { currencyExponent, formatBtc, formatMoney, type CurrencyCode } from '../kernel';
import type { Period } from './period';

/**
 * The report model every format is rendered from: a few sections, each a table whose cells are
 * strings (amounts exact: sats as integers, BTC with 8 decimals, fiat in the currency's minor
 * unit exponent). JSON is this model as is; CSV, XLSX and PDF are layouts of it.
 */
export type ColumnKind = 'text' | 'count' | 'sats' | 'btc' | 'fiat';

export interface ReportColumn {
  readonly key: string;
  readonly label: string;
  readonly kind: ColumnKind;
}

export interface ReportSection {
  readonly id: string;
  readonly title: string;
  readonly columns: readonly ReportColumn[];
  readonly rows: ReadonlyArray<Readonly<Record<string, string>>>;
}

export const REPORT_KINDS = ['bop', 'mining', 'platform-activity', 'alerts'] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];

export const REPORT_TITLES: Record<ReportKind, string> = {
  bop: 'Balance of payments: bitcoin-settled trade',
  mining: 'Mining output by region',
  'platform-activity': 'Platform activity',
  alerts: 'Alert and case statistics',
};

export interface Report {
  readonly kind: ReportKind;
  readonly title: string;
  readonly scheme: string;
  readonly period: string;
  readonly from: string;
  readonly to: string;
  readonly generatedAt: string;
  readonly sections: readonly ReportSection[];
}

export function reportHeader(
  kind: ReportKind,
  scheme: string,
  period: Period,
  generatedAt: Date,
): Omit<Report, 'sections'> {
  return {
    kind,
    title: REPORT_TITLES[kind],
    scheme,
    period: period.label,
    from: period.from.toISOString(),
    to: period.to.toISOString(),
    generatedAt: generatedAt.toISOString(),
  };
}

export const col = (key: string, label: string, kind: ColumnKind = 'text'): ReportColumn => ({
  key,
  label,
  kind,
});

/** Fiat minor units as a decimal in the currency's exponent ("12345" USD → "123.45"). */
export function formatFiat(minor: bigint, currency: string): string {
  try {
    return formatMoney({ minor, currency: currency as CurrencyCode });
  } catch {
    // A currency the kernel does not list (should not happen: settlements check it) is shown
    // in minor units rather than guessed.
    return minor.toString();
  }
}

export function fiatExponent(currency: string): number {
  try {
    return currencyExponent(currency as CurrencyCode);
  } catch {
    return 0;
  }
}

const countryNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });

/**
 * The English name of an ISO 3166-1 alpha-2 country ("DE" → "Germany"), from the runtime's
 * CLDR data; ZZ, the user-assigned code the reports use for an unknown country, is "Unknown".
 */
export function countryName(code: string): string {
  if (code === 'ZZ') return 'Unknown';
  try {
    return countryNames.of(code) ?? code;
  } catch {
    // Not a well-formed region code: shown as it is.
    return code;
  }
}

/** Cells for an amount in sats: `sats` (integer) and `btc` (8 decimals). */
export function satsCells(amount: bigint): { sats: string; btc: string } {
  return { sats: amount.toString(), btc: formatBtc(amount) };
}

// ------------------------------------------------------------------ aggregate rows (from SQL)

/** Settlements grouped by some key, summed in SQL. */
export interface SettlementAggregate {
  readonly direction: 'export' | 'import';
  readonly currency: string;
  readonly count: number;
  readonly sats: bigint;
  readonly fiatMinor: bigint;
}

export interface CountryAggregate extends SettlementAggregate {
  readonly country: string;
}

export interface MonthAggregate extends SettlementAggregate {
  readonly month: string;
}

export interface MiningAggregate {
  readonly region: string;
  /** The region's name in the mining registry (the code when it has none). */
  readonly regionName?: string;
  readonly month: string;
  readonly outputs: number;
  readonly sats: bigint;
  readonly violations: number;
  readonly violationSats: bigint;
}

export interface BanRow {
  readonly id: string;
  readonly region: string;
  readonly regionName?: string;
  readonly kind: string;
  readonly from: string;
  readonly to: string;
  readonly reason: string;
  readonly liftedAt: string | null;
}

export interface PlatformSettlementAggregate {
  readonly platformId: string;
  readonly platformName: string;
  readonly kind: 'invoice' | 'payout';
  readonly currency: string;
  readonly count: number;
  readonly sats: bigint;
  readonly fiatMinor: bigint;
}

export interface PlatformOnboarding {
  readonly platformId: string;
  readonly platformName: string;
  readonly onboarded: number;
  readonly total: number;
}

export interface AlertAggregate {
  readonly rule: string;
  readonly kind: string;
  readonly severity: string;
  readonly count: number;
}

export interface CaseAggregate {
  readonly state: string;
  readonly outcome: string | null;
  readonly count: number;
}

/** How many settlements a fixing valued (null: the live rate before the day's fixing). */
export interface FixingUse {
  readonly fixingId: string | null;
  readonly count: number;
}

/** A published fixing as a report lists it, read through the rates module. */
export interface ReportFixing {
  readonly id: string;
  readonly quote: string;
  readonly date: string;
  readonly version: number;
  /** The rate, a decimal (fiat per BTC). */
  readonly rate: string;
  readonly sourcesUsed: number;
  readonly sourcesAsked: number;
  readonly supersededBy: string | null;
}

// ------------------------------------------------------------------ pure report builders

const amountColumns = [
  col('count', 'Settlements', 'count'),
  col('sats', 'Amount (sats)', 'sats'),
  col('btc', 'Amount (BTC)', 'btc'),
  col('currency', 'Currency'),
  col('fiat', 'Fiat value at settlement rates', 'fiat'),
];

function amountCells(a: SettlementAggregate): Record<string, string> {
  return {
    count: String(a.count),
    ...satsCells(a.sats),
    currency: a.currency,
    fiat: formatFiat(a.fiatMinor, a.currency),
  };
}

/** Sums aggregates per (direction, currency): the totals lines. Exact: bigint. */
export function totalsByDirection(rows: readonly SettlementAggregate[]): SettlementAggregate[] {
  const totals = new Map<
    string,
    {
      direction: 'export' | 'import';
      currency: string;
      count: number;
      sats: bigint;
      fiatMinor: bigint;
    }
  >();
  for (const row of rows) {
    const key = `${row.direction}|${row.currency}`;
    const entry = totals.get(key) ?? {
      direction: row.direction,
      currency: row.currency,
      count: 0,
      sats: 0n,
      fiatMinor: 0n,
    };
    entry.count += row.count;
    entry.sats += row.sats;
    entry.fiatMinor += row.fiatMinor;
    totals.set(key, entry);
  }
  return [...totals.values()].sort(
    (a, b) => a.direction.localeCompare(b.direction) || a.currency.localeCompare(b.currency),
  );
}

/**
 * The balance of payments of bitcoin-settled trade (IMF BPM6 goods account, settled on a cash
 * basis): exports are credits, imports debits, per partner country (the counterparty's
 * country, ISO 3166-1) and month; the net line is exports − imports per currency. Mining output
 * is a separate line by region (BPM6 treats mined bitcoin as production, not as trade).
 */
export function buildBop(input: {
  byCountry: readonly CountryAggregate[];
  byMonth: readonly MonthAggregate[];
  mining: readonly MiningAggregate[];
}): ReportSection[] {
  const totals = totalsByDirection(input.byCountry);
  const currencies = [...new Set(totals.map((t) => t.currency))].sort();
  const net = currencies.map((currency) => {
    const pick = (direction: string) =>
      totals.find((t) => t.direction === direction && t.currency === currency);
    const exp = pick('export');
    const imp = pick('import');
    const sats = (exp?.sats ?? 0n) - (imp?.sats ?? 0n);
    const fiat = (exp?.fiatMinor ?? 0n) - (imp?.fiatMinor ?? 0n);
    return { currency, ...satsCells(sats), fiat: formatFiat(fiat, currency) };
  });
  const miningByRegion = new Map<string, { name: string; outputs: number; sats: bigint }>();
  for (const m of input.mining) {
    const entry = miningByRegion.get(m.region) ?? {
      name: m.regionName ?? m.region,
      outputs: 0,
      sats: 0n,
    };
    entry.outputs += m.outputs;
    entry.sats += m.sats;
    miningByRegion.set(m.region, entry);
  }
  return [
    {
      id: 'totals',
      title: 'Totals by direction',
      columns: [col('direction', 'Direction'), ...amountColumns],
      rows: totals.map((t) => ({ direction: t.direction, ...amountCells(t) })),
    },
    {
      id: 'net',
      title: 'Net (exports minus imports)',
      columns: [
        col('currency', 'Currency'),
        col('sats', 'Net (sats)', 'sats'),
        col('btc', 'Net (BTC)', 'btc'),
        col('fiat', 'Net fiat value', 'fiat'),
      ],
      rows: net,
    },
    {
      id: 'byCountry',
      title: 'By partner country',
      columns: [
        col('direction', 'Direction'),
        col('country', 'Country code'),
        col('countryName', 'Partner country'),
        ...amountColumns,
      ],
      rows: input.byCountry.map((r) => ({
        direction: r.direction,
        country: r.country,
        countryName: countryName(r.country),
        ...amountCells(r),
      })),
    },
    {
      id: 'byMonth',
      title: 'By month',
      columns: [col('month', 'Month'), col('direction', 'Direction'), ...amountColumns],
      rows: input.byMonth.map((r) => ({
        month: r.month,
        direction: r.direction,
        ...amountCells(r),
      })),
    },
    {
      id: 'mining',
      title: 'Mining output by region (separate line, not trade)',
      columns: [
        col('region', 'Region code'),
        col('regionName', 'Region'),
        col('outputs', 'Coinbase outputs', 'count'),
        col('sats', 'Output (sats)', 'sats'),
        col('btc', 'Output (BTC)', 'btc'),
      ],
      rows: [...miningByRegion.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([region, m]) => ({
          region,
          regionName: m.name,
          outputs: String(m.outputs),
          ...satsCells(m.sats),
        })),
    },
  ];
}

export function buildMining(input: {
  rows: readonly MiningAggregate[];
  bans: readonly BanRow[];
}): ReportSection[] {
  return [
    {
      id: 'byRegionMonth',
      title: 'Output by region and month',
      columns: [
        col('region', 'Region code'),
        col('regionName', 'Region'),
        col('month', 'Month'),
        col('outputs', 'Coinbase outputs', 'count'),
        col('sats', 'Output (sats)', 'sats'),
        col('btc', 'Output (BTC)', 'btc'),
        col('violations', 'Ban violations', 'count'),
        col('violationSats', 'Output under ban (sats)', 'sats'),
      ],
      rows: input.rows.map((r) => ({
        region: r.region,
        regionName: r.regionName ?? r.region,
        month: r.month,
        outputs: String(r.outputs),
        ...satsCells(r.sats),
        violations: String(r.violations),
        violationSats: r.violationSats.toString(),
      })),
    },
    {
      id: 'bans',
      title: 'Regional bans in force during the period',
      columns: [
        col('region', 'Region code'),
        col('regionName', 'Region'),
        col('kind', 'Kind'),
        col('from', 'From'),
        col('to', 'To'),
        col('liftedAt', 'Lifted at'),
        col('reason', 'Reason'),
      ],
      rows: input.bans.map((b) => ({
        region: b.region,
        regionName: b.regionName ?? b.region,
        kind: b.kind,
        from: b.from,
        to: b.to,
        liftedAt: b.liftedAt ?? '',
        reason: b.reason,
      })),
    },
  ];
}

export function buildPlatformActivity(input: {
  settlements: readonly PlatformSettlementAggregate[];
  onboarding: readonly PlatformOnboarding[];
}): ReportSection[] {
  return [
    {
      id: 'settlements',
      title: 'Invoices and payouts settled',
      columns: [
        col('platformId', 'Platform'),
        col('platformName', 'Name'),
        col('kind', 'Kind'),
        ...amountColumns,
      ],
      rows: input.settlements.map((r) => ({
        platformId: r.platformId,
        platformName: r.platformName,
        kind: r.kind,
        count: String(r.count),
        ...satsCells(r.sats),
        currency: r.currency,
        fiat: formatFiat(r.fiatMinor, r.currency),
      })),
    },
    {
      id: 'onboarding',
      title: 'Companies onboarded',
      columns: [
        col('platformId', 'Platform'),
        col('platformName', 'Name'),
        col('onboarded', 'Onboarded in period', 'count'),
        col('total', 'Companies at end of period', 'count'),
      ],
      rows: input.onboarding.map((r) => ({
        platformId: r.platformId,
        platformName: r.platformName,
        onboarded: String(r.onboarded),
        total: String(r.total),
      })),
    },
  ];
}

export function buildAlerts(input: {
  alerts: readonly AlertAggregate[];
  cases: readonly CaseAggregate[];
}): ReportSection[] {
  return [
    {
      id: 'alerts',
      title: 'Alerts raised, by rule and severity',
      columns: [
        col('rule', 'Rule'),
        col('kind', 'Kind'),
        col('severity', 'Severity'),
        col('count', 'Alerts', 'count'),
      ],
      rows: input.alerts.map((a) => ({
        rule: a.rule,
        kind: a.kind,
        severity: a.severity,
        count: String(a.count),
      })),
    },
    {
      id: 'cases',
      title: 'Cases opened, by state and outcome',
      columns: [col('state', 'State'), col('outcome', 'Outcome'), col('count', 'Cases', 'count')],
      rows: input.cases.map((c) => ({
        state: c.state,
        outcome: c.outcome ?? '',
        count: String(c.count),
      })),
    },
  ];
}

/**
 * The fixings the report's fiat values rest on: each published fixing its settlements were
 * valued at, with how many sources it was taken from (one is flagged: a single-source fixing),
 * and a line for the settlements priced at the live rate before their day's fixing. A fixing
 * the rates module no longer returns is listed by its id with its other cells empty, never
 * dropped: the figures still rest on it.
 */
export function buildFixings(
  uses: readonly FixingUse[],
  fixings: readonly ReportFixing[],
): ReportSection {
  const byId = new Map(fixings.map((f) => [f.id, f]));
  const counted = new Map(uses.map((u) => [u.fixingId, u.count]));
  const known = fixings.filter((f) => counted.has(f.id));
  const unknown = uses.filter((u) => u.fixingId !== null && !byId.has(u.fixingId));
  const live = counted.get(null);
  return {
    id: 'fixings',
    title: 'Reference-rate fixings the fiat values rest on',
    columns: [
      col('basis', 'Basis'),
      col('fixingId', 'Fixing'),
      col('date', 'Date'),
      col('currency', 'Currency'),
      col('version', 'Version', 'count'),
      col('rate', 'Rate (per BTC)'),
      col('sources', 'Sources used', 'count'),
      col('asked', 'Sources asked', 'count'),
      col('singleSource', 'Single source'),
      col('supersededBy', 'Corrected by'),
      col('settlements', 'Settlements', 'count'),
    ],
    rows: [
      ...known.map((f) => ({
        basis: 'fixing',
        fixingId: f.id,
        date: f.date,
        currency: f.quote,
        version: String(f.version),
        rate: f.rate,
        sources: String(f.sourcesUsed),
        asked: String(f.sourcesAsked),
        singleSource: f.sourcesUsed === 1 ? 'yes' : 'no',
        supersededBy: f.supersededBy ?? '',
        settlements: String(counted.get(f.id) ?? 0),
      })),
      ...unknown.map((u) => ({
        ...blankFixing,
        basis: 'fixing',
        fixingId: u.fixingId ?? '',
        settlements: String(u.count),
      })),
      ...(live === undefined
        ? []
        : [{ ...blankFixing, basis: 'live rate', settlements: String(live) }]),
    ],
  };
}

const blankFixing = {
  fixingId: '',
  date: '',
  currency: '',
  version: '',
  rate: '',
  sources: '',
  asked: '',
  singleSource: '',
  supersededBy: '',
};

import { sql, type SQL } from 'drizzle-orm';
import {
  keysetOn,
  rowsOf,
  type Database,
  type KeyColumn,
  type Page,
  type PageRequest,
} from '../db';
import { complianceAlertFacts, complianceCaseFacts } from '../compliance';
import { ledgerRateFacts } from '../ledger';
import { miningBanFacts, miningOutputFacts, miningViolationFacts } from '../mining';
import { registryLicenceFacts, registryParticipantFacts, registryRegionNames } from '../registry';
import { tradeSettlementFacts } from '../trade';
import type {
  AlertAggregate,
  BanRow,
  CaseAggregate,
  CountryAggregate,
  FixingUse,
  MiningAggregate,
  MonthAggregate,
  PlatformOnboarding,
  PlatformSettlementAggregate,
} from './report';

/**
 * The SQL behind the reports. Every sum is computed by PostgreSQL over bigint columns (the
 * result is `numeric`, read as text and parsed to bigint), so no amount passes through a float.
 *
 * Other modules' data is read only through the read models they publish (views declared in
 * their read-models.ts and exported from their index.ts: trade's settlements, the registry's
 * participants, licences and regions, mining's output, violations and bans, compliance's alerts
 * and cases, the ledger's rates); never their tables (test/docs/read-models.test.ts).
 */

type Row = Record<string, unknown>;

function text(row: Row, key: string): string {
  const value = row[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return value.toISOString();
  throw new TypeError(`column ${key} must be text, got ${typeof value}`);
}

function nullableText(row: Row, key: string): string | null {
  return row[key] === null || row[key] === undefined ? null : text(row, key);
}

function big(row: Row, key: string): bigint {
  const value = text(row, key);
  if (!/^-?\d+$/.test(value)) throw new TypeError(`column ${key} must be an integer, got ${value}`);
  return BigInt(value);
}

function count(row: Row, key: string): number {
  const value = big(row, key);
  return Number(value);
}

function direction(row: Row): 'export' | 'import' {
  const value = text(row, 'direction');
  if (value !== 'export' && value !== 'import') {
    throw new TypeError(`direction must be export or import, got ${value}`);
  }
  return value;
}

export interface TimeRange {
  readonly from: Date | null;
  readonly to: Date | null;
}

/** Unknown partner country (ISO 3166-1 user-assigned code, used for "unknown"). */
export const UNKNOWN_COUNTRY = 'ZZ';

/**
 * Live settlements (trade's read model leaves out a settlement reversed by a reorg) with what
 * the report groups by: the contract's direction and HS code, and the counterparty's country
 * and the names from the registry.
 */
function settlementFacts(range: TimeRange, platformId: string | null): SQL {
  return sql`
    select s.id, s.kind, s.reference, s.platform_id, s.company_id, s.contract_id, s.amount_sats,
           s.fiat_minor, s.currency, s.txid, s.created_at, s.rate_id, r.fixing_id,
           s.direction, s.hs_code, substr(s.hs_code, 1, 2) as hs_chapter, s.counterparty_id,
           coalesce(p.country, ${UNKNOWN_COUNTRY}) as country,
           coalesce(co.legal_name, s.company_id) as company_name,
           coalesce(p.legal_name, s.counterparty_id) as counterparty_name,
           to_char(s.created_at at time zone 'UTC', 'YYYY-MM') as month
    from ${tradeSettlementFacts} s
    left join ${ledgerRateFacts} r on r.id = s.rate_id
    left join ${registryParticipantFacts} p on p.id = s.counterparty_id
    left join ${registryParticipantFacts} co on co.id = s.company_id
    where true
      ${range.from ? sql`and s.created_at >= ${range.from.toISOString()}::timestamptz` : sql``}
      ${range.to ? sql`and s.created_at < ${range.to.toISOString()}::timestamptz` : sql``}
      ${platformId === null ? sql`` : sql`and s.platform_id = ${platformId}`}`;
}

/** Alert severities from worst to least, as compliance stores them (`alertSeverity`). */
const SEVERITY_RANK = sql`case a.severity when 'critical' then 4 when 'high' then 3
  when 'medium' then 2 else 1 end`;

export interface SettlementFilter {
  readonly range: TimeRange;
  readonly country?: string | undefined;
  readonly hsChapter?: string | undefined;
  readonly direction?: 'export' | 'import' | undefined;
  readonly platformId?: string | undefined;
}

export const SETTLEMENT_SORTS = ['settledAt', 'amountSats', 'fiatMinor', 'country'] as const;
export type SettlementSort = (typeof SETTLEMENT_SORTS)[number];

export interface SettlementRow {
  readonly id: string;
  readonly kind: string;
  readonly reference: string;
  readonly direction: 'export' | 'import';
  readonly platformId: string;
  readonly companyId: string;
  readonly companyName: string;
  readonly contractId: string;
  readonly counterpartyId: string;
  readonly counterpartyName: string;
  readonly country: string;
  readonly hsCode: string;
  readonly hsChapter: string;
  readonly amountSats: bigint;
  readonly fiatMinor: bigint;
  readonly currency: string;
  readonly txid: string;
  readonly settledAt: Date;
  /** The stored rate the settlement was valued at, and the published fixing it came from. */
  readonly rateId: string;
  readonly fixingId: string | null;
}

export interface GroupedSettlement {
  readonly key: string;
  readonly month: string;
  readonly direction: 'export' | 'import';
  readonly currency: string;
  readonly count: number;
  readonly sats: bigint;
  readonly fiatMinor: bigint;
}

export class OversightStore {
  readonly #db: Database;

  constructor(db: Database) {
    this.#db = db;
  }

  async #rows(query: SQL): Promise<Row[]> {
    return rowsOf(await this.#db.orm.execute(query));
  }

  async settlementsByCountry(range: TimeRange): Promise<CountryAggregate[]> {
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(range, null)})
      select direction, country, currency, count(*)::text as n,
             sum(amount_sats)::text as sats, sum(fiat_minor)::text as fiat
      from f group by direction, country, currency
      order by direction, country, currency`);
    return rows.map((r) => ({
      direction: direction(r),
      country: text(r, 'country'),
      currency: text(r, 'currency'),
      count: count(r, 'n'),
      sats: big(r, 'sats'),
      fiatMinor: big(r, 'fiat'),
    }));
  }

  async settlementsByMonth(range: TimeRange): Promise<MonthAggregate[]> {
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(range, null)})
      select month, direction, currency, count(*)::text as n,
             sum(amount_sats)::text as sats, sum(fiat_minor)::text as fiat
      from f group by month, direction, currency
      order by month, direction, currency`);
    return rows.map((r) => ({
      month: text(r, 'month'),
      direction: direction(r),
      currency: text(r, 'currency'),
      count: count(r, 'n'),
      sats: big(r, 'sats'),
      fiatMinor: big(r, 'fiat'),
    }));
  }

  /** Settlements grouped by month and one more key (country or HS chapter), for the dashboard. */
  async settlementsBy(
    range: TimeRange,
    key: 'country' | 'hs_chapter',
  ): Promise<GroupedSettlement[]> {
    const column = key === 'country' ? sql`country` : sql`hs_chapter`;
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(range, null)})
      select ${column} as key, month, direction, currency, count(*)::text as n,
             sum(amount_sats)::text as sats, sum(fiat_minor)::text as fiat
      from f group by ${column}, month, direction, currency
      order by 1, month, direction, currency`);
    return rows.map((r) => ({
      key: text(r, 'key'),
      month: text(r, 'month'),
      direction: direction(r),
      currency: text(r, 'currency'),
      count: count(r, 'n'),
      sats: big(r, 'sats'),
      fiatMinor: big(r, 'fiat'),
    }));
  }

  async mining(range: TimeRange): Promise<MiningAggregate[]> {
    const rows = await this.#rows(sql`
      select a.region_code as region, to_char(a.block_time at time zone 'UTC', 'YYYY-MM') as month,
             coalesce(max(r.name), a.region_code) as region_name,
             count(*)::text as outputs, sum(a.value_sats)::text as sats,
             count(v.attribution_id)::text as violations,
             coalesce(sum(v.value_sats), 0)::text as violation_sats
      from ${miningOutputFacts} a
      left join ${miningViolationFacts} v on v.attribution_id = a.id and v.status <> 'dismissed'
      left join ${registryRegionNames} r on r.code = a.region_code
      where true
        ${range.from ? sql`and a.block_time >= ${range.from.toISOString()}::timestamptz` : sql``}
        ${range.to ? sql`and a.block_time < ${range.to.toISOString()}::timestamptz` : sql``}
      group by 1, 2 order by 1, 2`);
    return rows.map((r) => ({
      region: text(r, 'region'),
      regionName: text(r, 'region_name'),
      month: text(r, 'month'),
      outputs: count(r, 'outputs'),
      sats: big(r, 'sats'),
      violations: count(r, 'violations'),
      violationSats: big(r, 'violation_sats'),
    }));
  }

  /** Bans whose date range overlaps the period (dates are the region's local dates). */
  async bans(range: TimeRange): Promise<BanRow[]> {
    const day = (d: Date) => d.toISOString().slice(0, 10);
    const rows = await this.#rows(sql`
      select b.id, b.region_code, coalesce(r.name, b.region_code) as region_name, b.kind,
             b.from_date::text as from_date, b.to_date::text as to_date, b.reason, b.lifted_at
      from ${miningBanFacts} b
      left join ${registryRegionNames} r on r.code = b.region_code
      where true
        ${range.to ? sql`and b.from_date < ${day(range.to)}::date` : sql``}
        ${range.from ? sql`and b.to_date >= ${day(range.from)}::date` : sql``}
      order by b.region_code, b.from_date, b.id`);
    return rows.map((r) => ({
      id: text(r, 'id'),
      region: text(r, 'region_code'),
      regionName: text(r, 'region_name'),
      kind: text(r, 'kind'),
      from: text(r, 'from_date'),
      to: text(r, 'to_date'),
      reason: text(r, 'reason'),
      liftedAt: nullableText(r, 'lifted_at'),
    }));
  }

  async platformSettlements(
    range: TimeRange,
    platformId: string | null,
  ): Promise<PlatformSettlementAggregate[]> {
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(range, platformId)})
      select f.platform_id, coalesce(p.legal_name, f.platform_id) as platform_name,
             f.kind, f.currency, count(*)::text as n,
             sum(f.amount_sats)::text as sats, sum(f.fiat_minor)::text as fiat
      from f
      left join ${registryParticipantFacts} p on p.id = f.platform_id
      group by 1, 2, 3, 4 order by 1, 3, 4`);
    return rows.map((r) => {
      const kind = text(r, 'kind');
      if (kind !== 'invoice' && kind !== 'payout')
        throw new TypeError(`unknown settlement kind ${kind}`);
      return {
        platformId: text(r, 'platform_id'),
        platformName: text(r, 'platform_name'),
        kind,
        currency: text(r, 'currency'),
        count: count(r, 'n'),
        sats: big(r, 'sats'),
        fiatMinor: big(r, 'fiat'),
      };
    });
  }

  /**
   * How many of the period's live settlements (of one platform, or all) each published fixing
   * valued; a settlement priced at the live rate before its day's fixing counts under null.
   */
  async settlementFixings(range: TimeRange, platformId: string | null): Promise<FixingUse[]> {
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(range, platformId)})
      select fixing_id, count(*)::text as n from f group by fixing_id order by fixing_id`);
    return rows.map((r) => ({ fixingId: nullableText(r, 'fixing_id'), count: count(r, 'n') }));
  }

  async onboarding(range: TimeRange, platformId: string | null): Promise<PlatformOnboarding[]> {
    const from = range.from?.toISOString() ?? '-infinity';
    const to = range.to?.toISOString() ?? 'infinity';
    const rows = await this.#rows(sql`
      select pl.id, pl.legal_name,
        count(c.id) filter (where c.created_at >= ${from}::timestamptz and c.created_at < ${to}::timestamptz)::text as onboarded,
        count(c.id) filter (where c.created_at < ${to}::timestamptz)::text as total
      from ${registryParticipantFacts} pl
      left join ${registryParticipantFacts} c on c.platform_id = pl.id and c.kind = 'company'
      where pl.kind = 'platform' ${platformId === null ? sql`` : sql`and pl.id = ${platformId}`}
      group by pl.id, pl.legal_name order by pl.id`);
    return rows.map((r) => ({
      platformId: text(r, 'id'),
      platformName: text(r, 'legal_name'),
      onboarded: count(r, 'onboarded'),
      total: count(r, 'total'),
    }));
  }

  async platformExists(platformId: string): Promise<boolean> {
    const rows = await this.#rows(sql`
      select 1 from ${registryParticipantFacts} where id = ${platformId} and kind = 'platform'
      union all select 1 from ${tradeSettlementFacts} where platform_id = ${platformId}
      limit 1`);
    return rows.length > 0;
  }

  async alerts(range: TimeRange): Promise<AlertAggregate[]> {
    const rows = await this.#rows(sql`
      select a.rule, a.kind, a.severity, count(*)::text as n
      from ${complianceAlertFacts} a
      where true
        ${range.from ? sql`and a.created_at >= ${range.from.toISOString()}::timestamptz` : sql``}
        ${range.to ? sql`and a.created_at < ${range.to.toISOString()}::timestamptz` : sql``}
      group by 1, 2, 3 order by 1, 2, 3`);
    return rows.map((r) => ({
      rule: text(r, 'rule'),
      kind: text(r, 'kind'),
      severity: text(r, 'severity'),
      count: count(r, 'n'),
    }));
  }

  async cases(range: TimeRange): Promise<CaseAggregate[]> {
    const rows = await this.#rows(sql`
      select state, outcome, count(*)::text as n
      from ${complianceCaseFacts}
      where true
        ${range.from ? sql`and opened_at >= ${range.from.toISOString()}::timestamptz` : sql``}
        ${range.to ? sql`and opened_at < ${range.to.toISOString()}::timestamptz` : sql``}
      group by 1, 2 order by 1, 2 nulls first`);
    return rows.map((r) => ({
      state: text(r, 'state'),
      outcome: nullableText(r, 'outcome'),
      count: count(r, 'n'),
    }));
  }

  /** Alerts of cases not closed, and the open cases by their worst alert, by severity. */
  async openBySeverity(): Promise<{
    alerts: Array<{ severity: string; count: number }>;
    cases: Array<{ severity: string; count: number }>;
  }> {
    const alertRows = await this.#rows(sql`
      select a.severity, count(*)::text as n
      from ${complianceAlertFacts} a join ${complianceCaseFacts} c on c.id = a.case_id
      where c.state <> 'closed' group by 1 order by 1`);
    const caseRows = await this.#rows(sql`
      select case max(${SEVERITY_RANK}) when 4 then 'critical' when 3 then 'high'
               when 2 then 'medium' else 'low' end as severity, c.id
      from ${complianceCaseFacts} c join ${complianceAlertFacts} a on a.case_id = c.id
      where c.state <> 'closed' group by c.id`);
    const casesBySeverity = new Map<string, number>();
    for (const r of caseRows) {
      const severity = text(r, 'severity');
      casesBySeverity.set(severity, (casesBySeverity.get(severity) ?? 0) + 1);
    }
    return {
      alerts: alertRows.map((r) => ({ severity: text(r, 'severity'), count: count(r, 'n') })),
      cases: [...casesBySeverity.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([severity, n]) => ({ severity, count: n })),
    };
  }

  /**
   * Platforms and miners by the status of their latest licence (by validity start); a licence
   * still marked active past its end counts as expired; a participant without one is `none`.
   */
  async participantsByLicenceStatus(
    now: Date,
  ): Promise<Array<{ kind: string; status: string; count: number }>> {
    const rows = await this.#rows(sql`
      with latest as (
        select distinct on (participant_id) participant_id, status, valid_to
        from ${registryLicenceFacts} order by participant_id, valid_from desc, created_at desc
      )
      select p.kind,
             case when l.participant_id is null then 'none'
                  when l.status = 'active' and l.valid_to is not null
                       and l.valid_to <= ${now.toISOString()}::timestamptz then 'expired'
                  else l.status end as status,
             count(*)::text as n
      from ${registryParticipantFacts} p left join latest l on l.participant_id = p.id
      where p.kind in ('platform', 'miner')
      group by 1, 2 order by 1, 2`);
    return rows.map((r) => ({
      kind: text(r, 'kind'),
      status: text(r, 'status'),
      count: count(r, 'n'),
    }));
  }

  /**
   * A page of the live settlements matching `filter`, by `sort` in `order` and then id (keyset
   * on the sort value and id: the settlement's time, amount or fiat value each read through an
   * index under trade's settlement read model; the partner country, computed by the join, is
   * sorted).
   */
  async listSettlements(
    filter: SettlementFilter,
    sort: { by: SettlementSort; order: 'asc' | 'desc' },
    request: PageRequest,
  ): Promise<Page<SettlementRow>> {
    const sortKey: KeyColumn<SettlementRow> = {
      settledAt: {
        column: sql`created_at`,
        kind: 'time' as const,
        value: (r: SettlementRow) => r.settledAt,
      },
      amountSats: {
        column: sql`amount_sats`,
        kind: 'int' as const,
        value: (r: SettlementRow) => r.amountSats,
      },
      fiatMinor: {
        column: sql`fiat_minor`,
        kind: 'int' as const,
        value: (r: SettlementRow) => r.fiatMinor,
      },
      country: {
        column: sql`country`,
        kind: 'text' as const,
        value: (r: SettlementRow) => r.country,
      },
    }[sort.by];
    const key = keysetOn<SettlementRow>(
      [sortKey, { column: sql`id`, kind: 'text', value: (r) => r.id }],
      sort.order,
      request,
    );
    const rows = await this.#rows(sql`
      with f as (${settlementFacts(filter.range, filter.platformId ?? null)})
      select * from f
      where true
        ${filter.country ? sql`and country = ${filter.country}` : sql``}
        ${filter.hsChapter ? sql`and hs_chapter = ${filter.hsChapter}` : sql``}
        ${filter.direction ? sql`and direction = ${filter.direction}` : sql``}
        ${key.after ? sql`and ${key.after}` : sql``}
      order by ${sql.join(key.orderBy, sql`, `)}
      limit ${key.read}`);
    return key.page(rows.map(settlementRow), (shown) => [...shown]);
  }
}

function settlementRow(r: Row): SettlementRow {
  const settledAt = r.created_at;
  return {
    id: text(r, 'id'),
    kind: text(r, 'kind'),
    reference: text(r, 'reference'),
    direction: direction(r),
    platformId: text(r, 'platform_id'),
    companyId: text(r, 'company_id'),
    companyName: text(r, 'company_name'),
    contractId: text(r, 'contract_id'),
    counterpartyId: text(r, 'counterparty_id'),
    counterpartyName: text(r, 'counterparty_name'),
    country: text(r, 'country'),
    hsCode: text(r, 'hs_code'),
    hsChapter: text(r, 'hs_chapter'),
    amountSats: big(r, 'amount_sats'),
    fiatMinor: big(r, 'fiat_minor'),
    currency: text(r, 'currency'),
    txid: text(r, 'txid'),
    settledAt: settledAt instanceof Date ? settledAt : new Date(text(r, 'created_at')),
    rateId: text(r, 'rate_id'),
    fixingId: nullableText(r, 'fixing_id'),
  };
}

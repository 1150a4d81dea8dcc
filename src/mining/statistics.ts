/*
 * Output statistics, in SQL: a page of the rows (miner, site, region, month) and, with the first
 * page, the totals per miner, site, region and month, each output valued at its day's rate in the query itself.
 */
import { sql, type SQL } from 'drizzle-orm';
import { keysetOn, rowsOf, scopeTo, type PageRequest } from '../db';
import {
  currency as parseCurrency,
  currencyExponent,
  invalid,
  money,
  type Caller,
  type CurrencyCode,
  type Money,
} from '../kernel';
import { ledgerFixingRates, ledgerRateValues } from '../ledger';
import { miningAttributions } from './schema';
import {
  type OutputStatistics,
  type OutputStatisticsRow,
  type OutputStatisticsTotals,
} from './types';
import { forbidden, type MiningContext } from './shared';

/** Which outputs the statistics count: a time range, a miner, a region. */
export interface StatisticsFilter {
  currency: string;
  from?: Date | undefined;
  to?: Date | undefined;
  minerId?: string | undefined;
  regionCode?: string | undefined;
}

const a = miningAttributions;
/** The UTC month and day of an output's block, as the rows and the rates key them. */
const MONTH = sql`to_char(${a.blockTime} at time zone 'UTC', 'YYYY-MM')`;
const DAY = sql`to_char(${a.blockTime} at time zone 'UTC', 'YYYY-MM-DD')`;

/** Output per miner, site, region and month, in sats and in fiat at each day's rate. */
export class Statistics {
  readonly #ctx: MiningContext;

  constructor(ctx: MiningContext) {
    this.#ctx = ctx;
  }

  /**
   * A page of the output per miner, site and region and month (UTC), oldest month first (keyset
   * on month, miner, site, region), in sats and in `currency` at each output's day's rate (UTC
   * date of the block): the day's latest published fixing, or before it is published the latest
   * rate stored by the day's end (as `RateService.onDay`); each output converted half-even to the
   * minor unit, then summed. The totals per miner, site, region and month, and the days without a
   * rate, come with the first page (no cursor) from one more query (grouping sets), whatever the
   * page's size; a later page answers them null: they are the same for every page of one query,
   * so a reader walking the pages reads every output the filters keep once for the totals, not
   * once per page. A miner sees its own output only.
   */
  async statistics(
    caller: Caller,
    filter: StatisticsFilter,
    request: PageRequest = {},
  ): Promise<OutputStatistics> {
    const code = parseCurrency(filter.currency);
    if (caller.role === 'company' || caller.role === 'platform') {
      throw forbidden('mining statistics are for the supervisor, auditors and miners');
    }
    type Key = { month: string; minerId: string; siteId: string; regionCode: string };
    const { after, read, position, page } = keysetOn<Key>(
      [
        { column: MONTH, kind: 'text', value: (r) => r.month },
        { column: a.minerId, kind: 'text', value: (r) => r.minerId },
        { column: a.siteId, kind: 'text', value: (r) => r.siteId },
        { column: a.regionCode, kind: 'text', value: (r) => r.regionCode },
      ],
      'asc',
      request,
    );
    if (position && !/^\d{4}-(0[1-9]|1[0-2])$/.test(position[0] ?? ''))
      throw invalid('cursor', 'is not a cursor this list gave (pass nextCursor unchanged)');
    const scope = scopeTo(caller, { participant: a.minerId });
    const where = (extra: SQL[]) =>
      sql.join(
        [
          sql`true`,
          ...(filter.from
            ? [sql`${a.blockTime} >= ${filter.from.toISOString()}::timestamptz`]
            : []),
          ...(filter.to ? [sql`${a.blockTime} < ${filter.to.toISOString()}::timestamptz`] : []),
          ...(filter.minerId ? [sql`${a.minerId} = ${filter.minerId}`] : []),
          ...(filter.regionCode ? [sql`${a.regionCode} = ${filter.regionCode}`] : []),
          ...(scope ? [scope] : []),
          ...extra,
        ],
        sql` and `,
      );
    // A later page starts at its cursor's month: the rows before it are not read again (an
    // index on block_time serves the range), then the row comparison skips the groups shown.
    const pageRange =
      position && after
        ? [sql`${a.blockTime} >= (${`${position[0]}-01`}::timestamp at time zone 'UTC')`, after]
        : [];
    const rows = rowsOf(
      await this.#ctx.db.orm.execute(sql`
        ${valued(code, where(pageRange))}
        select miner_id, site_id, region_code, month,
          count(distinct block_hash)::int as blocks,
          sum(value_sats)::text as sats,
          case when bool_and(fiat is not null) then trunc(sum(fiat))::text end as fiat
        from valued
        group by month, miner_id, site_id, region_code
        order by month, miner_id, site_id, region_code
        limit ${read}`),
    ).map((r): OutputStatisticsRow => ({
      minerId: String(r.miner_id),
      siteId: String(r.site_id),
      regionCode: String(r.region_code),
      month: String(r.month),
      blocks: Number(r.blocks),
      sats: BigInt(String(r.sats)),
      fiat: fiatOf(r.fiat, code),
    }));
    const shown = await page(rows, (items) => [...items]);
    return {
      currency: code,
      items: shown.items,
      nextCursor: shown.nextCursor,
      totals: position ? null : await this.#totals(code, where([])),
    };
  }

  /** The totals of every output `where` keeps, per miner, site, region and month: one query. */
  async #totals(code: CurrencyCode, where: SQL): Promise<OutputStatisticsTotals> {
    const totals = rowsOf(
      await this.#ctx.db.orm.execute(sql`
        ${valued(code, where)}
        select grouping(miner_id) as g_miner, grouping(site_id) as g_site,
          grouping(region_code) as g_region, grouping(month) as g_month,
          miner_id, site_id, region_code, month, day,
          sum(value_sats)::text as sats,
          case when bool_and(fiat is not null) then trunc(sum(fiat))::text end as fiat
        from valued
        group by grouping sets ((miner_id), (site_id), (region_code), (month), (day))
        having grouping(day) = 1 or bool_or(fiat is null)
        order by miner_id, site_id, region_code, month, day`),
    );
    const set = (name: string) =>
      totals.filter(
        (t) =>
          ['g_miner', 'g_site', 'g_region', 'g_month'].filter((g) => Number(t[g]) === 0)[0] ===
          name,
      );
    const total = (t: Record<string, unknown>) => ({
      sats: BigInt(String(t.sats)),
      fiat: fiatOf(t.fiat, code),
    });
    return {
      byMiner: set('g_miner').map((t) => ({ minerId: String(t.miner_id), ...total(t) })),
      bySite: set('g_site').map((t) => ({ siteId: String(t.site_id), ...total(t) })),
      byRegion: set('g_region').map((t) => ({ regionCode: String(t.region_code), ...total(t) })),
      byMonth: set('g_month').map((t) => ({ month: String(t.month), ...total(t) })),
      missingRateDays: totals.filter((t) => t.day !== null).map((t) => String(t.day)),
    };
  }
}

/**
 * The outputs `where` keeps, each with its UTC month and day and its value in minor units of
 * `code` at its day's rate (null without one), as the CTE `valued`. A day's rate is looked up
 * once per day (not per output): the day's latest fixing version (`rate_fixings`' unique index
 * on quote, date, version), else the latest stored rate by the day's end (`exchange_rates`'
 * index on quote, at, id). The conversion is `satsToFiat`'s, half-even, in exact numerics:
 * sats × digits × 10^exponent / (10^8 × 10^scale).
 */
function valued(code: CurrencyCode, where: SQL): SQL {
  const minorPerUnit = (10n ** BigInt(currencyExponent(code))).toString();
  return sql`with outputs as (
      select ${a.minerId} as miner_id, ${a.siteId} as site_id, ${a.regionCode} as region_code,
        ${a.blockHash} as block_hash, ${a.valueSats} as value_sats,
        ${MONTH} as month, ${DAY} as day
      from ${a}
      where ${where}
    ),
    day_rates as (
      select d.day, r.digits, r.scale
      from (select distinct day from outputs) d
      left join lateral (
        select c.digits, c.scale from (
          (select f.digits, f.scale, 0 as preference from ${ledgerFixingRates} f
            where f.quote = ${code} and f.date = d.day
            order by f.version desc limit 1)
          union all
          (select v.digits, v.scale, 1 as preference from ${ledgerRateValues} v
            where v.quote = ${code}
              and v.at <= (d.day::date + 1)::timestamp at time zone 'UTC' - interval '1 millisecond'
            order by v.at desc, v.id desc limit 1)
        ) c order by c.preference limit 1
      ) r on true
    ),
    exact as (
      select o.*, o.value_sats::numeric * r.digits * ${minorPerUnit}::numeric as numerator,
        power(10::numeric, 8 + r.scale) as denominator
      from outputs o join day_rates r using (day)
    ),
    valued as (
      select miner_id, site_id, region_code, block_hash, value_sats, month, day,
        div(numerator, denominator)
          + case
              when 2 * mod(numerator, denominator) > denominator then 1
              when 2 * mod(numerator, denominator) = denominator then mod(div(numerator, denominator), 2)
              else 0
            end as fiat
      from exact
    )`;
}

function fiatOf(value: unknown, code: CurrencyCode): Money | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'bigint')
    throw new TypeError('a fiat total must be a decimal integer');
  return money(BigInt(value), code);
}

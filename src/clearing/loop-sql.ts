import { sql, type SQL } from 'drizzle-orm';
import { ledgerFixingFacts, ledgerFixingRates } from '../ledger';
import { registryParticipantFacts } from '../registry';
import { tradeCoinFacts, tradePayoutFacts, tradeSettlementFacts } from '../trade';

/**
 * The statements behind the loop report (loop.ts): nine, whatever the period holds. Clearing's
 * own tables (lots, the market's, the windows') are read with the read models other modules
 * publish: the ledger's fixings, trade's company coins, payouts and settlements, the registry's
 * participants (views declared in their read-models.ts, exported from their index.ts), never
 * their tables (test/docs/read-models.test.ts).
 */

/** The period, as bound parameters: [from, to). */
export interface LoopPeriod {
  readonly from: Date;
  readonly to: Date;
}

/** How many rows a list of the report (the traced deals, the stuck items) shows at most. */
export const LOOP_LIST_LIMIT = 100;

const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;
const within = (column: string, p: LoopPeriod) =>
  sql`${sql.raw(column)} >= ${at(p.from)} and ${sql.raw(column)} < ${at(p.to)}`;
const total = (expression: string) => sql.raw(`coalesce(sum(${expression}), 0)::text`);

/** One row: the period's mined lots by clearance, and what of them was offered on a market. */
export function lotsSummary(p: LoopPeriod): SQL {
  const lots = within('l.block_time', p);
  const by = (clearance: string, as: string) =>
    sql`count(*) filter (where l.clearance = ${clearance})::int as ${sql.raw(`${as}_lots`)},
      coalesce(sum(l.value_sats) filter (where l.clearance = ${clearance}), 0)::text as ${sql.raw(`${as}_sats`)}`;
  return sql`select count(*)::int as lots, ${total('l.value_sats')} as sats,
      count(distinct l.miner_id)::int as miners,
      ${by('cleared', 'cleared')}, ${by('quarantined', 'quarantined')}, ${by('released', 'released')},
      (select count(*)::int from market_offers o join clearing_lots x on x.id = o.lot_id
        where ${within('x.block_time', p)}) as offers,
      (select ${total('o.amount_sats')} from market_offers o join clearing_lots x on x.id = o.lot_id
        where ${within('x.block_time', p)}) as offered_sats
    from clearing_lots l where ${lots}`;
}

/** The period's deals grouped by status, route and fixing (the report folds the groups). */
export function dealGroups(p: LoopPeriod): SQL {
  return sql`select d.status, d.currency, d.miner_platform_id, d.importer_platform_id,
      d.fixing_id, d.reference_rate, f.quote as fixing_quote, f.date as fixing_date,
      f.version as fixing_version,
      count(*)::int as deals, ${total('d.amount_sats')} as sats, ${total('d.fiat_minor')} as fiat_minor,
      ${total('d.delivered_sats')} as delivered_sats, ${total('d.fee_sats')} as fee_sats
    from market_deals d left join ${ledgerFixingFacts} f on f.id = d.fixing_id
    where ${within('d.created_at', p)}
    group by d.status, d.currency, d.miner_platform_id, d.importer_platform_id, d.fixing_id,
      d.reference_rate, f.quote, f.date, f.version
    order by d.fixing_id, d.status`;
}

/**
 * The period's deals, newest first, each traced back to its lot and forward to the windows its
 * obligations sit in and the payouts of the batch that spends its delivered coin.
 */
export function dealTrace(p: LoopPeriod, limit: number): SQL {
  return sql`select d.id, d.status, d.created_at, d.offer_id, o.lot_id, l.height as lot_height,
      l.clearance as lot_clearance, d.miner_id, d.company_id, d.contract_id,
      d.miner_platform_id, d.importer_platform_id, d.amount_sats::text as amount_sats,
      d.delivered_sats::text as delivered_sats, d.currency, d.fiat_minor::text as fiat_minor,
      d.fixing_id, d.deal_rate, d.delivery_txid, d.delivery_vout,
      u.spent_by_txid, u.reserved_by_batch as batch_id,
      (select string_agg(distinct ob.window_id, ',') from clearing_obligations ob
        where ob.source = 'deal' and ob.source_id = d.id) as window_ids,
      (select string_agg(po.id, ',' order by po.id) from ${tradePayoutFacts} po
        where u.reserved_by_batch is not null and po.batch_id = u.reserved_by_batch) as payout_ids
    from market_deals d
    join market_offers o on o.id = d.offer_id
    left join clearing_lots l on l.id = o.lot_id
    left join ${tradeCoinFacts} u on u.txid = d.delivery_txid and u.vout = d.delivery_vout
    where ${within('d.created_at', p)}
    order by d.created_at desc, d.id desc
    limit ${limit}`;
}

/**
 * The windows the period overlaps, per asset: the obligations settling in each (gross), the sum
 * of the net payers' positions at close (net) and its value at the window's rate (when every
 * position of the asset has one), what is still unpaid and what was paid out; and the window's
 * valuation with the fixing it used.
 */
export function windowFigures(p: LoopPeriod): SQL {
  const of = (table: string, alias: string) =>
    `from ${table} ${alias} where ${alias}.window_id = w.id and ${alias}.asset = a.asset`;
  return sql`select w.id, w.sequence, w.status, w.opens_at, w.closed_at, w.pay_in_deadline,
      w.settled_at, a.asset, w.valuation_currency, w.valuation_rate, w.valuation_fixing_id,
      w.valuation_reason, f.quote as fixing_quote, f.date as fixing_date,
      f.version as fixing_version,
      (select count(*)::int ${sql.raw(of('clearing_obligations', 'o'))}) as obligations,
      (select ${total('o.amount')} ${sql.raw(of('clearing_obligations', 'o'))}) as gross,
      (select count(*)::int ${sql.raw(of('clearing_obligations', 'o'))} and o.source = 'deal') as deal_obligations,
      (select ${total('greatest(x.net_at_close, 0)')} ${sql.raw(of('clearing_positions', 'x'))}) as net,
      (select case when count(*) > 0 and count(x.value_minor) = count(*)
        then sum(greatest(x.value_minor, 0))::text end
        ${sql.raw(of('clearing_positions', 'x'))}) as net_value_minor,
      (select count(*)::int ${sql.raw(of('clearing_positions', 'x'))} and x.status = 'takenOut') as taken_out,
      (select count(*)::int ${sql.raw(of('clearing_pay_ins', 'i'))} and i.status <> 'received') as unpaid_pay_ins,
      (select ${total('i.amount_due')} ${sql.raw(of('clearing_pay_ins', 'i'))} and i.status <> 'received') as unpaid,
      (select ${total('i.amount_due')} ${sql.raw(of('clearing_pay_ins', 'i'))} and i.status = 'received') as paid_in,
      (select ${total('po.amount')} ${sql.raw(of('clearing_pay_outs', 'po'))} and po.kind = 'payOut') as paid_out
    from clearing_windows w
    left join lateral (
      select o.asset from clearing_obligations o where o.window_id = w.id
      union select x.asset from clearing_positions x where x.window_id = w.id
    ) a on true
    left join ${ledgerFixingFacts} f on f.id = w.valuation_fixing_id
    where w.opens_at < ${at(p.to)} and (w.closed_at is null or w.closed_at >= ${at(p.from)})
    order by w.sequence, a.asset`;
}

/**
 * One row: the coins the period's deals delivered, how much of them trade's payouts spent, those
 * payouts (in batches that spend a delivered coin) by status, and the cleared-origin rule in force.
 */
export function paidAbroad(p: LoopPeriod, now: Date): SQL {
  return sql`with delivered as (
      select d.delivery_txid as txid, d.delivery_vout as vout, d.delivered_sats
      from market_deals d where ${within('d.created_at', p)} and d.delivery_txid is not null
        and d.status in ('delivered', 'settled')
    ), coins as (
      select u.value_sats, u.reserved_by_batch, u.spent_by_txid from ${tradeCoinFacts} u
      join delivered x on x.txid = u.txid and x.vout = u.vout
    ), payouts as (
      select distinct po.id, po.status, po.amount_sats from ${tradePayoutFacts} po
      join coins c on c.reserved_by_batch is not null and po.batch_id = c.reserved_by_batch
    )
    select (select count(*)::int from delivered) as delivered_coins,
      (select ${total('delivered_sats')} from delivered) as delivered_sats,
      (select count(*)::int from coins) as watched_coins,
      (select ${total('value_sats')} from coins where spent_by_txid is not null) as spent_sats,
      (select ${total('value_sats')} from coins where spent_by_txid is null and reserved_by_batch is not null) as reserved_sats,
      (select ${total('value_sats')} from coins where spent_by_txid is null and reserved_by_batch is null) as unspent_sats,
      (select count(*)::int from payouts) as payouts,
      (select ${total('amount_sats')} from payouts) as payout_sats,
      (select count(*)::int from payouts where status = 'completed') as completed_payouts,
      (select ${total('amount_sats')} from payouts where status = 'completed') as completed_sats,
      (select count(*)::int from ${tradePayoutFacts} po where po.origin_refused
        and po.status = 'awaitingPayment') as origin_refused_payouts,
      (select r.threshold_basis_points from clearing_rule_versions r
        where r.effective_from <= ${at(now)} order by r.effective_from desc, r.version desc limit 1)
        as rule_threshold_basis_points,
      (select r.version from clearing_rule_versions r
        where r.effective_from <= ${at(now)} order by r.effective_from desc, r.version desc limit 1)
        as rule_version`;
}

/**
 * What is stuck: the period's quarantined lots, its deals not settled nor unwound, and the
 * bitcoin pay-ins held by address screening (they count for nothing until the supervisor acts).
 */
export function stuckItems(p: LoopPeriod, limit: number): SQL {
  return sql`(select 'quarantinedLot' as kind, l.id, l.miner_id as party_id,
      l.value_sats::text as sats, l.quarantine_reason as detail, l.block_time as at
      from clearing_lots l where ${within('l.block_time', p)} and l.clearance = 'quarantined'
      order by l.block_time desc, l.id desc limit ${limit})
    union all
    (select 'deal' as kind, d.id, d.company_id as party_id, d.amount_sats::text as sats,
      d.status as detail, d.created_at as at
      from market_deals d where ${within('d.created_at', p)}
        and d.status in ('held', 'awaitingPayment', 'delivering', 'delivered')
      order by d.created_at desc, d.id desc limit ${limit})
    union all
    (select 'heldPayIn' as kind, i.id, i.platform_id as party_id, i.amount_due::text as sats,
      'held by address screening (window ' || i.window_id || ')' as detail, i.created_at as at
      from clearing_pay_ins i where ${within('i.created_at', p)} and i.status = 'held'
      order by i.created_at desc, i.id desc limit ${limit})`;
}

/** The period's mined lots by month (UTC) and region, by clearance. */
export function minedByMonthRegion(p: LoopPeriod): SQL {
  const by = (clearance: string, as: string) =>
    sql`count(*) filter (where l.clearance = ${clearance})::int as ${sql.raw(`${as}_lots`)},
      coalesce(sum(l.value_sats) filter (where l.clearance = ${clearance}), 0)::text as ${sql.raw(`${as}_sats`)}`;
  return sql`select to_char(l.block_time at time zone 'UTC', 'YYYY-MM') as month, l.region_code,
      count(*)::int as lots, ${total('l.value_sats')} as sats,
      ${by('cleared', 'cleared')}, ${by('quarantined', 'quarantined')}, ${by('released', 'released')}
    from clearing_lots l where ${within('l.block_time', p)}
    group by 1, 2 order by 1, 2`;
}

/**
 * The payouts to foreign suppliers settled in the period, by the supplier's country and the
 * contract's HS chapter, with the cleared share of the coins that paid them: each batch's inputs
 * (the company coins its transaction spent) are looked up in `clearing_outputs`, and a payout
 * carries its batch's cleared share pro rata (rounded down; a coin clearing never followed
 * counts as not cleared).
 */
export function paidAbroadByPartner(p: LoopPeriod): SQL {
  return sql`with paid as (
      select s.reference as payout_id, s.amount_sats, s.txid, s.hs_code, s.counterparty_id
      from ${tradeSettlementFacts} s
      where s.kind = 'payout' and ${within('s.created_at', p)}
    ), funding as (
      select u.spent_by_txid as txid, sum(u.value_sats) as input_sats,
        sum(coalesce(o.cleared_sats, 0)) as cleared_sats
      from ${tradeCoinFacts} u
      left join clearing_outputs o on o.txid = u.txid and o.vout = u.vout
      where u.spent_by_txid in (select txid from paid)
      group by u.spent_by_txid
    )
    select pt.country, left(paid.hs_code, 2) as hs_chapter, count(*)::int as payouts,
      ${total('paid.amount_sats')} as sats,
      coalesce(sum(case when f.input_sats > 0
        then div(paid.amount_sats * f.cleared_sats, f.input_sats) else 0 end), 0)::text
        as cleared_sats
    from paid
    join ${registryParticipantFacts} pt on pt.id = paid.counterparty_id
    left join funding f on f.txid = paid.txid
    group by 1, 2 order by 1, 2`;
}

/**
 * The period's mined lots by clearance and its deals (by match time), their sats summed per UTC
 * day, each day joined to the latest version of every currency's fixing published for it (a day
 * without any: one row, its fixing null). The report values each day's sats at its fixing.
 */
export function dayValuations(p: LoopPeriod): SQL {
  const day = (column: string) => sql.raw(`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD')`);
  return sql`with days as (
      select l.clearance as stage, ${day('l.block_time')} as day, sum(l.value_sats) as sats
      from clearing_lots l where ${within('l.block_time', p)} group by 1, 2
      union all
      select 'sold' as stage, ${day('d.created_at')} as day, sum(d.amount_sats) as sats
      from market_deals d where ${within('d.created_at', p)} group by 1, 2
    ), latest as (
      select distinct on (f.quote, f.date) f.id, f.quote, f.date, f.version, r.digits, r.scale
      from ${ledgerFixingFacts} f
      join ${ledgerFixingRates} r on r.quote = f.quote and r.date = f.date and r.version = f.version
      where f.date in (select day from days)
      order by f.quote, f.date, f.version desc
    )
    select d.stage, d.day, d.sats::text as sats, x.id as fixing_id, x.quote as fixing_quote,
      x.date as fixing_date, x.version as fixing_version, x.digits::text as digits, x.scale
    from days d left join latest x on x.date = d.day
    order by d.stage, d.day, x.quote`;
}

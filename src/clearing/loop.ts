import { sql } from 'drizzle-orm';
import { rowsOf, type Orm } from '../db';
import { AppError, currency, invalid, satsToFiat, seesEverything, type Caller } from '../kernel';
import { registryParticipantFacts } from '../registry';
import {
  dayValuations,
  dealGroups,
  dealTrace,
  LOOP_LIST_LIMIT,
  lotsSummary,
  minedByMonthRegion,
  paidAbroad,
  paidAbroadByPartner,
  stuckItems,
  windowFigures,
  type LoopPeriod,
} from './loop-sql';

/**
 * The loop of domestically mined coins over a period, stage by stage: mined (the lots of blocks
 * in the period) → cleared or quarantined → sold on a market (the deals matched in the period,
 * at which fixing, between which platforms) → netted (the settlement windows the period
 * overlaps: gross obligations against net positions) → paid abroad (the importers' payouts in
 * the batches that spend the coins those deals delivered, under the cleared-origin rule), with
 * each deal traced through the stages and what is stuck where; the mined lots also by month and
 * region, and every payout abroad settled in the period by partner country and HS chapter with
 * the cleared share of the coins that paid it; the mined lots by clearance and the deals' sats
 * valued at the reference rate of their day, in every currency fixed on those days. Built in ten
 * queries whatever the period holds (loop-sql.ts, and one for the participants' names).
 */

type Row = Record<string, unknown>;

export interface LoopAmount {
  count: number;
  sats: bigint;
}

export interface LoopDealGroup {
  deals: number;
  sats: bigint;
}

export interface LoopRoute extends LoopDealGroup {
  minerPlatformId: string;
  importerPlatformId: string;
  /** The miner's platform (the market's) is not the importer's. */
  crossPlatform: boolean;
}

export interface LoopFixing extends LoopDealGroup {
  /** Null: deals valued at the live source's rate, before the day's fixing was published. */
  fixingId: string | null;
  quote: string | null;
  date: string | null;
  version: number | null;
  referenceRate: string;
}

export interface LoopCurrency {
  currency: string;
  deals: number;
  fiatMinor: bigint;
}

export interface LoopWindowAsset {
  asset: string;
  obligations: number;
  /** Of which recorded by market deals. */
  dealObligations: number;
  gross: bigint;
  net: bigint;
  /** `net` in the window's valuation currency (minor units); null without a valuation. */
  netValueMinor: bigint | null;
  unpaid: bigint;
  unpaidPayIns: number;
  paidIn: bigint;
  paidOut: bigint;
  takenOut: number;
}

export interface LoopWindow {
  id: string;
  sequence: number;
  status: string;
  opensAt: Date;
  closedAt: Date | null;
  payInDeadline: Date | null;
  settledAt: Date | null;
  /** The rate its nets were valued at when it closed (null while open or before valuation). */
  valuation: {
    currency: string | null;
    rate: string | null;
    /** Null: the live source's rate, before the cut-off day's fixing was published. */
    fixingId: string | null;
    /** Why there is no rate (the window netted in its assets all the same). */
    unavailableReason: string | null;
  } | null;
  assets: LoopWindowAsset[];
}

/**
 * A published fixing the report's valuations used: by the period's deals (their price), by its
 * windows (their nets), by the stages' valuations (lots and deals' sats at their day's fixing).
 */
export interface LoopFixingUsed {
  fixingId: string;
  quote: string;
  date: string;
  version: number;
  usedBy: ('deals' | 'windows' | 'stages')[];
}

export const LOOP_VALUED_STAGES = ['cleared', 'quarantined', 'released', 'sold'] as const;
export type LoopValuedStage = (typeof LOOP_VALUED_STAGES)[number];

/**
 * A stage's sats at the reference rate of their day: the lots by the day (UTC) of their block,
 * the deals by the day they were matched; each day's sats valued at that day's latest fixing
 * (half-even to the minor unit), then summed. A day without a fixing of the currency leaves its
 * sats unvalued (`unvaluedDays`), never valued at another day's rate.
 */
export interface LoopStageValue {
  stage: LoopValuedStage;
  sats: bigint;
  valuedSats: bigint;
  valueMinor: bigint;
  unvaluedDays: string[];
  fixingIds: string[];
}

/** The stages valued in one currency (every currency a fixing was published in on those days). */
export interface LoopValuation {
  currency: string;
  stages: LoopStageValue[];
}

export interface LoopTrace {
  dealId: string;
  status: string;
  createdAt: Date;
  offerId: string;
  lotId: string;
  lotHeight: number | null;
  lotClearance: string | null;
  minerId: string;
  companyId: string;
  contractId: string;
  minerPlatformId: string;
  importerPlatformId: string;
  amountSats: bigint;
  deliveredSats: bigint | null;
  currency: string;
  fiatMinor: bigint;
  fixingId: string | null;
  dealRate: string;
  deliveryTxid: string | null;
  deliveryVout: number | null;
  windowIds: string[];
  batchId: string | null;
  spentByTxid: string | null;
  payoutIds: string[];
}

export interface LoopStuck {
  /** `heldPayIn`: a window's bitcoin pay-in whose paying addresses did not pass screening. */
  kind: 'quarantinedLot' | 'deal' | 'heldPayIn';
  /** The lot, the deal, or the pay-in. */
  id: string;
  /** The miner, the importer, or the paying platform. */
  partyId: string;
  sats: bigint;
  /** The lot's quarantine reason, the deal's status, or the held pay-in's window. */
  detail: string;
  at: Date;
}

/** Mined lots of one month (UTC, `YYYY-MM`) and region, by clearance. */
export interface LoopMinedGroup {
  month: string;
  regionCode: string;
  lots: number;
  sats: bigint;
  cleared: LoopAmount;
  quarantined: LoopAmount;
  released: LoopAmount;
}

/** Payouts abroad settled in the period to suppliers of one country under one HS chapter. */
export interface LoopPartnerGroup {
  /** The supplier's country (ISO 3166-1 alpha-2). */
  country: string;
  /** The contract's HS chapter: the first two digits of its HS code. */
  hsChapter: string;
  payouts: number;
  sats: bigint;
  /** Of `sats`, paid with coins of cleared (or released) mined lots, pro rata per batch. */
  clearedSats: bigint;
  /** `clearedSats` ÷ `sats` in basis points (0 when nothing was paid). */
  clearedShareBasisPoints: number;
}

export interface LoopReport {
  from: Date;
  to: Date;
  mined: { lots: number; sats: bigint; miners: number; byMonthRegion: LoopMinedGroup[] };
  clearance: {
    cleared: LoopAmount;
    quarantined: LoopAmount;
    released: LoopAmount;
    offers: number;
    offeredSats: bigint;
  };
  sold: {
    deals: number;
    sats: bigint;
    deliveredSats: bigint;
    feeSats: bigint;
    byStatus: (LoopDealGroup & { status: string })[];
    routes: LoopRoute[];
    fixings: LoopFixing[];
    currencies: LoopCurrency[];
  };
  netted: {
    windows: LoopWindow[];
    totals: { asset: string; gross: bigint; net: bigint; unpaid: bigint }[];
  };
  paidAbroad: {
    deliveredCoins: number;
    deliveredSats: bigint;
    spentSats: bigint;
    reservedSats: bigint;
    unspentSats: bigint;
    payouts: number;
    payoutSats: bigint;
    completedPayouts: number;
    completedSats: bigint;
    originRefusedPayouts: number;
    rule: { version: number; thresholdBasisPoints: number | null } | null;
    /**
     * Every payout abroad settled in the period (whatever its coins' origin), by partner country
     * and HS chapter, with the cleared share of what paid it; `settled` sums them.
     */
    byPartner: LoopPartnerGroup[];
    settled: {
      payouts: number;
      sats: bigint;
      clearedSats: bigint;
      clearedShareBasisPoints: number;
    };
  };
  trace: LoopTrace[];
  traceTruncated: boolean;
  stuck: {
    quarantinedLots: number;
    heldDeals: number;
    unsettledDeals: number;
    unpaidWindows: number;
    items: LoopStuck[];
  };
  /** The mined lots by clearance and the deals' sats at their day's fixing, per currency. */
  valuations: LoopValuation[];
  /** Every published fixing the deals, the windows and the valuations of the report used. */
  fixings: LoopFixingUsed[];
  /** Legal names of every participant the report names. */
  names: Record<string, string>;
}

/** The longest period one report covers. */
const MAX_PERIOD_MS = 366 * 86_400_000;

export function checkLoopPeriod(caller: Caller, from: Date, to: Date): LoopPeriod {
  if (!seesEverything(caller))
    throw new AppError('FORBIDDEN', 'the loop report is for the supervisor and auditors');
  if (Number.isNaN(from.getTime())) throw invalid('from', 'must be an ISO 8601 date or date-time');
  if (Number.isNaN(to.getTime())) throw invalid('to', 'must be an ISO 8601 date or date-time');
  if (to.getTime() <= from.getTime()) throw invalid('to', 'must be after from');
  if (to.getTime() - from.getTime() > MAX_PERIOD_MS)
    throw invalid('to', 'a loop report covers at most 366 days');
  return { from, to };
}

const big = (v: unknown): bigint => BigInt((v as string | number | null) ?? 0);
const num = (v: unknown): number => Number(v ?? 0);
const str = (v: unknown): string => {
  if (v === null || v === undefined) return '';
  return typeof v === 'string' ? v : JSON.stringify(v).replace(/^"|"$/g, '');
};
const date = (v: unknown): Date => (v instanceof Date ? v : new Date(str(v)));
const maybeDate = (v: unknown): Date | null => (v === null || v === undefined ? null : date(v));
const list = (v: unknown): string[] => (v ? str(v).split(',').filter(Boolean) : []);
const maybe = (v: unknown): string | null => (v === null || v === undefined ? null : str(v));

/** The loop report for [from, to): see the module comment. */
export async function loopReport(orm: Orm, period: LoopPeriod, now: Date): Promise<LoopReport> {
  const run = async (query: ReturnType<typeof lotsSummary>) => rowsOf(await orm.execute(query));
  const [lots = {}] = await run(lotsSummary(period));
  const groups = await run(dealGroups(period));
  const traced = await run(dealTrace(period, LOOP_LIST_LIMIT + 1));
  const windowRows = await run(windowFigures(period));
  const windows = windowsOf(windowRows);
  const [paid = {}] = await run(paidAbroad(period, now));
  const byMonthRegion = (await run(minedByMonthRegion(period))).map(minedGroupOf);
  const byPartner = (await run(paidAbroadByPartner(period))).map(partnerGroupOf);
  const stuck = (await run(stuckItems(period, LOOP_LIST_LIMIT))).map(stuckOf);
  const dayRows = await run(dayValuations(period));
  const trace = traced.slice(0, LOOP_LIST_LIMIT).map(traceOf);
  const sold = soldOf(groups);
  const report: LoopReport = {
    from: period.from,
    to: period.to,
    mined: {
      lots: num(lots.lots),
      sats: big(lots.sats),
      miners: num(lots.miners),
      byMonthRegion,
    },
    clearance: clearanceOf(lots),
    sold,
    netted: { windows, totals: nettedTotals(windows) },
    paidAbroad: { ...paidOf(paid), byPartner, settled: settledOf(byPartner) },
    trace,
    traceTruncated: traced.length > LOOP_LIST_LIMIT,
    stuck: {
      quarantinedLots: num(lots.quarantined_lots),
      heldDeals: sold.byStatus.find((s) => s.status === 'held')?.deals ?? 0,
      unsettledDeals: sold.byStatus
        .filter((s) => ['held', 'awaitingPayment', 'delivering', 'delivered'].includes(s.status))
        .reduce((n, s) => n + s.deals, 0),
      unpaidWindows: windows.filter((w) => w.assets.some((a) => a.unpaidPayIns > 0)).length,
      items: stuck,
    },
    valuations: valuationsOf(dayRows),
    fixings: fixingsUsed(groups, windowRows, dayRows),
    names: {},
  };
  report.names = await namesOf(orm, participantIds(report));
  return report;
}

const amountOf = (row: Row, as: string): LoopAmount => ({
  count: num(row[`${as}_lots`]),
  sats: big(row[`${as}_sats`]),
});

const minedGroupOf = (row: Row): LoopMinedGroup => ({
  month: str(row.month),
  regionCode: str(row.region_code),
  lots: num(row.lots),
  sats: big(row.sats),
  cleared: amountOf(row, 'cleared'),
  quarantined: amountOf(row, 'quarantined'),
  released: amountOf(row, 'released'),
});

/** `part` ÷ `whole` in basis points, rounded down (0 for an empty whole). */
const basisPoints = (part: bigint, whole: bigint): number =>
  whole > 0n ? Number((part * 10_000n) / whole) : 0;

function partnerGroupOf(row: Row): LoopPartnerGroup {
  const sats = big(row.sats);
  const clearedSats = big(row.cleared_sats);
  return {
    country: str(row.country),
    hsChapter: str(row.hs_chapter),
    payouts: num(row.payouts),
    sats,
    clearedSats,
    clearedShareBasisPoints: basisPoints(clearedSats, sats),
  };
}

function settledOf(groups: readonly LoopPartnerGroup[]): LoopReport['paidAbroad']['settled'] {
  const sats = groups.reduce((n, g) => n + g.sats, 0n);
  const clearedSats = groups.reduce((n, g) => n + g.clearedSats, 0n);
  return {
    payouts: groups.reduce((n, g) => n + g.payouts, 0),
    sats,
    clearedSats,
    clearedShareBasisPoints: basisPoints(clearedSats, sats),
  };
}

function clearanceOf(row: Row): LoopReport['clearance'] {
  const amount = (as: string): LoopAmount => amountOf(row, as);
  return {
    cleared: amount('cleared'),
    quarantined: amount('quarantined'),
    released: amount('released'),
    offers: num(row.offers),
    offeredSats: big(row.offered_sats),
  };
}

/** Adds `row`'s deals and sats to the group keyed `key` (created by `make` when new). */
function tally<T extends LoopDealGroup>(
  groups: Map<string, T>,
  key: string,
  make: () => T,
  row: Row,
) {
  const group = groups.get(key) ?? make();
  group.deals += num(row.deals);
  group.sats += big(row.sats);
  groups.set(key, group);
}

function soldOf(rows: Row[]): LoopReport['sold'] {
  const byStatus = new Map<string, LoopDealGroup & { status: string }>();
  const routes = new Map<string, LoopRoute>();
  const fixings = new Map<string, LoopFixing>();
  const currencies = new Map<string, LoopCurrency>();
  let deliveredSats = 0n;
  let feeSats = 0n;
  for (const row of rows) {
    const status = str(row.status);
    const from = str(row.miner_platform_id);
    const to = str(row.importer_platform_id);
    const fixing = maybe(row.fixing_id) ?? `live ${str(row.reference_rate)}`;
    tally(byStatus, status, () => ({ status, deals: 0, sats: 0n }), row);
    tally(routes, `${from}>${to}`, () => route(from, to), row);
    tally(fixings, fixing, () => fixingOf(row), row);
    const currency = currencies.get(str(row.currency)) ?? {
      currency: str(row.currency),
      deals: 0,
      fiatMinor: 0n,
    };
    currency.deals += num(row.deals);
    currency.fiatMinor += big(row.fiat_minor);
    currencies.set(currency.currency, currency);
    deliveredSats += big(row.delivered_sats);
    feeSats += big(row.fee_sats);
  }
  const statuses = [...byStatus.values()];
  return {
    deals: statuses.reduce((n, s) => n + s.deals, 0),
    sats: statuses.reduce((n, s) => n + s.sats, 0n),
    deliveredSats,
    feeSats,
    byStatus: statuses,
    routes: [...routes.values()],
    fixings: [...fixings.values()],
    currencies: [...currencies.values()],
  };
}

const route = (from: string, to: string): LoopRoute => ({
  minerPlatformId: from,
  importerPlatformId: to,
  crossPlatform: from !== to,
  deals: 0,
  sats: 0n,
});

const fixingOf = (row: Row): LoopFixing => ({
  fixingId: maybe(row.fixing_id),
  quote: row.fixing_quote === null ? null : str(row.fixing_quote),
  date: row.fixing_date === null ? null : str(row.fixing_date),
  version: row.fixing_version === null ? null : num(row.fixing_version),
  referenceRate: str(row.reference_rate),
  deals: 0,
  sats: 0n,
});

function windowsOf(rows: Row[]): LoopWindow[] {
  const windows = new Map<string, LoopWindow>();
  for (const row of rows) {
    const id = str(row.id);
    const window = windows.get(id) ?? {
      id,
      sequence: num(row.sequence),
      status: str(row.status),
      opensAt: date(row.opens_at),
      closedAt: maybeDate(row.closed_at),
      payInDeadline: maybeDate(row.pay_in_deadline),
      settledAt: maybeDate(row.settled_at),
      valuation:
        row.valuation_rate === null && row.valuation_reason === null
          ? null
          : {
              currency: maybe(row.valuation_currency),
              rate: maybe(row.valuation_rate),
              fixingId: maybe(row.valuation_fixing_id),
              unavailableReason: maybe(row.valuation_reason),
            },
      assets: [],
    };
    windows.set(id, window);
    if (row.asset === null || row.asset === undefined) continue;
    window.assets.push({
      asset: str(row.asset),
      obligations: num(row.obligations),
      dealObligations: num(row.deal_obligations),
      gross: big(row.gross),
      net: big(row.net),
      netValueMinor: row.net_value_minor === null ? null : big(row.net_value_minor),
      unpaid: big(row.unpaid),
      unpaidPayIns: num(row.unpaid_pay_ins),
      paidIn: big(row.paid_in),
      paidOut: big(row.paid_out),
      takenOut: num(row.taken_out),
    });
  }
  return [...windows.values()];
}

/** The published fixings behind the deals' groups and the windows' valuations, by id. */
function fixingsUsed(groups: Row[], windowRows: Row[], dayRows: Row[]): LoopFixingUsed[] {
  const used = new Map<string, LoopFixingUsed>();
  const add = (row: Row, id: unknown, by: LoopFixingUsed['usedBy'][number]) => {
    const fixingId = maybe(id);
    // A fixing the ledger's read model does not name (none: a live rate) is not listed.
    if (fixingId === null || row.fixing_quote === null || row.fixing_quote === undefined) return;
    const entry = used.get(fixingId) ?? {
      fixingId,
      quote: str(row.fixing_quote),
      date: str(row.fixing_date),
      version: num(row.fixing_version),
      usedBy: [],
    };
    if (!entry.usedBy.includes(by)) entry.usedBy.push(by);
    used.set(fixingId, entry);
  };
  for (const row of groups) add(row, row.fixing_id, 'deals');
  for (const row of windowRows) add(row, row.valuation_fixing_id, 'windows');
  for (const row of dayRows) add(row, row.fixing_id, 'stages');
  return [...used.values()].sort((a, b) =>
    a.date === b.date ? a.quote.localeCompare(b.quote) : a.date.localeCompare(b.date),
  );
}

/** The stages' sats per day, each day at its fixing of every currency fixed on some day. */
function valuationsOf(rows: Row[]): LoopValuation[] {
  const sats = new Map<string, bigint>();
  const fixings = new Map<string, { id: string; digits: bigint; scale: number }>();
  for (const row of rows) {
    sats.set(`${str(row.stage)}|${str(row.day)}`, big(row.sats));
    if (row.fixing_id === null || row.fixing_id === undefined) continue;
    fixings.set(`${str(row.fixing_quote)}|${str(row.day)}`, {
      id: str(row.fixing_id),
      digits: big(row.digits),
      scale: num(row.scale),
    });
  }
  const quotes = [...new Set([...fixings.keys()].map((k) => k.split('|')[0] ?? ''))].sort();
  return quotes.map((quote) => ({
    currency: quote,
    stages: LOOP_VALUED_STAGES.map((stage) => stageValue(stage, quote, sats, fixings)),
  }));
}

function stageValue(
  stage: LoopValuedStage,
  quote: string,
  sats: ReadonlyMap<string, bigint>,
  fixings: ReadonlyMap<string, { id: string; digits: bigint; scale: number }>,
): LoopStageValue {
  const value: LoopStageValue = {
    stage,
    sats: 0n,
    valuedSats: 0n,
    valueMinor: 0n,
    unvaluedDays: [],
    fixingIds: [],
  };
  const code = currency(quote);
  for (const [key, amount] of [...sats].sort(([a], [b]) => a.localeCompare(b))) {
    const [of, day = ''] = key.split('|');
    if (of !== stage) continue;
    value.sats += amount;
    const fixing = fixings.get(`${quote}|${day}`);
    if (!fixing) {
      value.unvaluedDays.push(day);
      continue;
    }
    const rate = { digits: fixing.digits, scale: fixing.scale, quote: code };
    value.valuedSats += amount;
    value.valueMinor += satsToFiat(amount, rate, 'halfEven').minor;
    if (!value.fixingIds.includes(fixing.id)) value.fixingIds.push(fixing.id);
  }
  return value;
}

function nettedTotals(windows: LoopWindow[]): LoopReport['netted']['totals'] {
  const totals = new Map<string, { asset: string; gross: bigint; net: bigint; unpaid: bigint }>();
  for (const a of windows.flatMap((w) => w.assets)) {
    const t = totals.get(a.asset) ?? { asset: a.asset, gross: 0n, net: 0n, unpaid: 0n };
    t.gross += a.gross;
    t.net += a.net;
    t.unpaid += a.unpaid;
    totals.set(a.asset, t);
  }
  return [...totals.values()].sort((a, b) => a.asset.localeCompare(b.asset));
}

function paidOf(row: Row): Omit<LoopReport['paidAbroad'], 'byPartner' | 'settled'> {
  const version = row.rule_version;
  return {
    deliveredCoins: num(row.delivered_coins),
    deliveredSats: big(row.delivered_sats),
    spentSats: big(row.spent_sats),
    reservedSats: big(row.reserved_sats),
    unspentSats: big(row.unspent_sats),
    payouts: num(row.payouts),
    payoutSats: big(row.payout_sats),
    completedPayouts: num(row.completed_payouts),
    completedSats: big(row.completed_sats),
    originRefusedPayouts: num(row.origin_refused_payouts),
    rule:
      version === null || version === undefined
        ? null
        : {
            version: num(version),
            thresholdBasisPoints:
              row.rule_threshold_basis_points === null
                ? null
                : num(row.rule_threshold_basis_points),
          },
  };
}

function traceOf(row: Row): LoopTrace {
  return {
    dealId: str(row.id),
    status: str(row.status),
    createdAt: date(row.created_at),
    offerId: str(row.offer_id),
    lotId: str(row.lot_id),
    lotHeight: row.lot_height === null ? null : num(row.lot_height),
    lotClearance: row.lot_clearance === null ? null : str(row.lot_clearance),
    minerId: str(row.miner_id),
    companyId: str(row.company_id),
    contractId: str(row.contract_id),
    minerPlatformId: str(row.miner_platform_id),
    importerPlatformId: str(row.importer_platform_id),
    amountSats: big(row.amount_sats),
    deliveredSats: row.delivered_sats === null ? null : big(row.delivered_sats),
    currency: str(row.currency),
    fiatMinor: big(row.fiat_minor),
    fixingId: maybe(row.fixing_id),
    dealRate: str(row.deal_rate),
    deliveryTxid: row.delivery_txid === null ? null : str(row.delivery_txid),
    deliveryVout: row.delivery_vout === null ? null : num(row.delivery_vout),
    windowIds: list(row.window_ids),
    batchId: row.batch_id === null ? null : str(row.batch_id),
    spentByTxid: row.spent_by_txid === null ? null : str(row.spent_by_txid),
    payoutIds: list(row.payout_ids),
  };
}

function stuckOf(row: Row): LoopStuck {
  return {
    kind: row.kind === 'deal' || row.kind === 'heldPayIn' ? row.kind : 'quarantinedLot',
    id: str(row.id),
    partyId: str(row.party_id),
    sats: big(row.sats),
    detail: str(row.detail),
    at: date(row.at),
  };
}

function participantIds(report: LoopReport): string[] {
  const ids = new Set<string>();
  for (const r of report.sold.routes) ids.add(r.minerPlatformId).add(r.importerPlatformId);
  for (const t of report.trace)
    ids.add(t.minerId).add(t.companyId).add(t.minerPlatformId).add(t.importerPlatformId);
  for (const s of report.stuck.items) ids.add(s.partyId);
  ids.delete('');
  return [...ids];
}

async function namesOf(orm: Orm, ids: string[]): Promise<Record<string, string>> {
  if (ids.length === 0) return {};
  const rows = rowsOf(
    await orm.execute(
      sql`select id, legal_name from ${registryParticipantFacts} where id in (${sql.join(
        ids.map((id) => sql`${id}`),
        sql`, `,
      )})`,
    ),
  );
  return Object.fromEntries(rows.map((r) => [str(r.id), str(r.legal_name)]));
}

/**
 * Monitoring facts about a company's recent transfers, as aggregates over a time window rather
 * than the rows themselves: a rule says which windows it needs (a `WindowSpec`), the database
 * computes them with SQL aggregates (policy/store.ts), and the rule evaluates the totals.
 * `aggregateWindow` is the same aggregate over rows in memory: the reference the SQL is tested
 * against, and what adds transfers decided earlier in the same batch (not yet in the table).
 */
import type { MonitoredTransfer } from './rules';

export interface WindowSpec {
  /** How far back from the current transfer's time, in hours (the edge is included). */
  hours: number;
  /** Only transfers in this direction; `same`: in the current transfer's direction. */
  direction?: 'inbound' | 'outbound' | 'same';
  /** Only transfers valued in this ISO 4217 currency (fiatSum is meaningful only with it). */
  currency?: string;
  /** Only fiat values in [fiatFrom, fiatBelow), minor units. */
  fiatFrom?: bigint;
  fiatBelow?: bigint;
  /** Also count distinct counterparties. */
  counterparties?: boolean;
}

/** The company's earlier transfers in a window (the current transfer excluded). */
export interface WindowFacts {
  count: number;
  satsSum: bigint;
  fiatSum: bigint;
  /**
   * Distinct counterparties of these transfers together with the current transfer's own
   * (0 unless the spec asks for counterparties).
   */
  counterpartiesWithCurrent: number;
}

/** The window aggregates a set of rules asked for, by `windowKey`. */
export type WindowFactsByKey = ReadonlyMap<string, WindowFacts>;

/** A stable key for a spec: two rules asking for the same window share one aggregate. */
export function windowKey(spec: WindowSpec): string {
  return [
    spec.hours,
    spec.direction ?? '*',
    spec.currency ?? '*',
    spec.fiatFrom ?? '*',
    spec.fiatBelow ?? '*',
    spec.counterparties ? 'cp' : '',
  ].join('|');
}

/**
 * The earliest instant inside the window, in ms. Timestamps are whole milliseconds, so
 * `t ≥ now − hours` is `t ≥ ceil(now − hours)`; the SQL compares against the same instant.
 */
export function windowStart(spec: WindowSpec, current: MonitoredTransfer): Date {
  return new Date(Math.ceil(current.occurredAt.getTime() - spec.hours * 3_600_000));
}

/** Whether an earlier transfer falls in the window and passes the spec's filters. */
export function inWindow(
  spec: WindowSpec,
  current: MonitoredTransfer,
  t: MonitoredTransfer,
): boolean {
  const at = t.occurredAt.getTime();
  if (at < windowStart(spec, current).getTime() || at > current.occurredAt.getTime()) return false;
  const direction = spec.direction === 'same' ? current.direction : spec.direction;
  if (direction && t.direction !== direction) return false;
  if (spec.currency && t.fiatCurrency !== spec.currency) return false;
  if (spec.fiatFrom !== undefined && t.fiatMinor < spec.fiatFrom) return false;
  if (spec.fiatBelow !== undefined && t.fiatMinor >= spec.fiatBelow) return false;
  return true;
}

/**
 * The window over earlier transfers held in memory. `rows` must already exclude the current
 * transfer and be the same company's.
 */
export function aggregateWindow(
  spec: WindowSpec,
  current: MonitoredTransfer,
  rows: Iterable<MonitoredTransfer>,
): WindowFacts {
  let count = 0;
  let satsSum = 0n;
  let fiatSum = 0n;
  const counterparties = new Set<string>();
  for (const t of rows) {
    if (!inWindow(spec, current, t)) continue;
    count++;
    satsSum += t.amountSats;
    fiatSum += t.fiatMinor;
    if (spec.counterparties) counterparties.add(t.counterpartyId);
  }
  if (spec.counterparties) counterparties.add(current.counterpartyId);
  return { count, satsSum, fiatSum, counterpartiesWithCurrent: counterparties.size };
}

/** Every spec's window over rows in memory, by key. */
export function windowsFromHistory(
  specs: readonly WindowSpec[],
  current: MonitoredTransfer,
  history: readonly MonitoredTransfer[],
): Map<string, WindowFacts> {
  const rows = history.filter(
    (t) => t.transferId !== current.transferId && t.companyId === current.companyId,
  );
  return new Map(specs.map((spec) => [windowKey(spec), aggregateWindow(spec, current, rows)]));
}

/**
 * A window as the database computed it over stored transfers, with, for counting distinct
 * counterparties exactly once more transfers are added, which of the asked-about counterparties
 * are already among them.
 */
export interface StoredWindow {
  count: number;
  satsSum: bigint;
  fiatSum: bigint;
  distinctCounterparties: number;
  /** Those of the counterparties asked about that the stored transfers include. */
  presentCounterparties: ReadonlySet<string>;
}

/**
 * The window over stored transfers plus transfers not stored yet (`extra`: same company, not the
 * current transfer, none of them among the stored ones). Every counterparty of `extra` and the
 * current transfer's must have been asked about in `stored.presentCounterparties`.
 */
export function completeWindow(
  spec: WindowSpec,
  current: MonitoredTransfer,
  stored: StoredWindow,
  extra: Iterable<MonitoredTransfer>,
): WindowFacts {
  let { count, satsSum, fiatSum } = stored;
  const added = new Set<string>();
  for (const t of extra) {
    if (!inWindow(spec, current, t)) continue;
    count++;
    satsSum += t.amountSats;
    fiatSum += t.fiatMinor;
    if (spec.counterparties && !stored.presentCounterparties.has(t.counterpartyId)) {
      added.add(t.counterpartyId);
    }
  }
  if (spec.counterparties && !stored.presentCounterparties.has(current.counterpartyId)) {
    added.add(current.counterpartyId);
  }
  return {
    count,
    satsSum,
    fiatSum,
    counterpartiesWithCurrent: spec.counterparties ? stored.distinctCounterparties + added.size : 0,
  };
}

import type { components, paths } from '../../api/schema';

/** What the supervisor's dashboard reads (GET /v1/oversight/dashboard). */
export type Dashboard = components['schemas']['OversightDashboard'];
export type SettlementQuery = NonNullable<
  paths['/v1/oversight/settlements']['get']['parameters']['query']
>;
/** A chart point clicked: the settlements behind it are listed with these filters. */
export type Drill = Pick<SettlementQuery, 'country' | 'hsChapter' | 'month' | 'direction'>;

/** BTC for plotting only (a chart axis is a float); every figure shown as text stays exact. */
export const plotBtc = (sats: string) => Number(BigInt(sats)) / 1e8;

/** Sats summed by a key, largest first. */
export function sumBy<T>(
  rows: T[],
  key: (row: T) => string,
  sats: (row: T) => string,
): [string, bigint][] {
  const totals = new Map<string, bigint>();
  for (const row of rows) totals.set(key(row), (totals.get(key(row)) ?? 0n) + BigInt(sats(row)));
  return [...totals].sort((a, b) => (b[1] > a[1] ? 1 : b[1] < a[1] ? -1 : 0));
}

/** A ban as the oversight dashboard lists it: local dates (YYYY-MM-DD) of its first and last day. */
export interface ShadedBan {
  region: string;
  kind: string;
  from: string;
  to: string;
  liftedAt: string | null;
}

/** One shaded band of an ECharts markArea over a category axis: its first and last category. */
export type ShadingArea = [{ name: string; xAxis: string }, { xAxis: string }];

/**
 * The shaded bands of a chart whose x axis is the category list `months` (YYYY-MM, ascending,
 * possibly with gaps): each ban in force, cut to the months shown. A markArea coordinate that is
 * not one of the axis' categories has no position (ECharts places it at NaN and draws nothing,
 * "translate(NaN 60)"), so a ban reaching beyond the axis is clamped to its ends, and a ban
 * wholly outside it is left out. Lifted bans are not in force and not shaded.
 */
export function banShading(bans: readonly ShadedBan[], months: readonly string[]): ShadingArea[] {
  const areas: ShadingArea[] = [];
  for (const ban of bans) {
    if (ban.liftedAt) continue;
    const first = ban.from.slice(0, 7);
    const last = ban.to.slice(0, 7);
    const covered = months.filter((m) => m >= first && m <= last);
    const start = covered[0];
    const end = covered.at(-1);
    if (start === undefined || end === undefined) continue;
    areas.push([{ name: `${ban.region} ${ban.kind}`, xAxis: start }, { xAxis: end }]);
  }
  return areas;
}

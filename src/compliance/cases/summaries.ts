/**
 * What an analyst triages a case by, read for a page of cases at once: its worst alert's
 * severity, how many alerts it holds, and the value of the transfers its evidence names (linked
 * transfers and the alerts' transfers, each counted once, per currency, as the gate valued them).
 */
import { inArray } from 'drizzle-orm';
import type { Orm } from '../../db';
import { alerts, caseTransfers, complianceTransfers } from '../schema';
import { ALERT_SEVERITIES, type AlertSeverity } from './alerts';

export interface CaseSummary {
  /** The worst severity among the case's alerts (null: a case with no alert). */
  severity: AlertSeverity | null;
  alertCount: number;
  /** The fiat value of the evidence's transfers, one entry per currency. */
  exposure: Array<{ minor: bigint; currency: string }>;
}

const RANK = new Map<string, number>(ALERT_SEVERITIES.map((s, i) => [s, i]));

/** The worse of two severities. */
export function worse(a: AlertSeverity | null, b: AlertSeverity): AlertSeverity {
  return a === null || (RANK.get(b) ?? 0) > (RANK.get(a) ?? 0) ? b : a;
}

export async function caseSummaries(
  orm: Orm,
  caseIds: readonly string[],
): Promise<Map<string, CaseSummary>> {
  const summaries = new Map<string, CaseSummary>(
    caseIds.map((id) => [id, { severity: null, alertCount: 0, exposure: [] }]),
  );
  if (!caseIds.length) return summaries;
  const alertRows = await orm
    .select({ caseId: alerts.caseId, severity: alerts.severity, transferId: alerts.transferId })
    .from(alerts)
    .where(inArray(alerts.caseId, [...caseIds]));
  const linked = await orm
    .select()
    .from(caseTransfers)
    .where(inArray(caseTransfers.caseId, [...caseIds]));
  const transfersOf = new Map<string, Set<string>>(caseIds.map((id) => [id, new Set()]));
  for (const a of alertRows) {
    const summary = summaries.get(a.caseId);
    if (!summary) continue;
    summary.alertCount++;
    summary.severity = worse(summary.severity, a.severity as AlertSeverity);
    if (a.transferId) transfersOf.get(a.caseId)?.add(a.transferId);
  }
  for (const l of linked) transfersOf.get(l.caseId)?.add(l.transferId);
  const ids = [...new Set([...transfersOf.values()].flatMap((s) => [...s]))];
  const values = ids.length
    ? await orm
        .select({
          id: complianceTransfers.transferId,
          minor: complianceTransfers.fiatMinor,
          currency: complianceTransfers.fiatCurrency,
        })
        .from(complianceTransfers)
        .where(inArray(complianceTransfers.transferId, ids))
    : [];
  const valueOf = new Map(values.map((v) => [v.id, v]));
  for (const [caseId, transfers] of transfersOf) {
    const totals = new Map<string, bigint>();
    for (const id of transfers) {
      const v = valueOf.get(id);
      if (v) totals.set(v.currency, (totals.get(v.currency) ?? 0n) + v.minor);
    }
    const summary = summaries.get(caseId);
    if (summary)
      summary.exposure = [...totals]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([currency, minor]) => ({ minor, currency }));
  }
  return summaries;
}

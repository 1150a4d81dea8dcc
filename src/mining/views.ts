import type { BanKind, BanRule } from './calendar';
import { describeBan } from './calendar';
import type { miningAttributions, miningBans, miningSites, miningViolations } from './schema';
import {
  MINING_BAN_VIOLATION,
  type AttributionView,
  type BanView,
  type SiteView,
  type ViolationStatus,
  type ViolationView,
} from './types';

/** Row → view mappers of mining's tables, shared by its parts. */

function formatMegawatts(kw: number): string {
  const whole = Math.floor(kw / 1000);
  const fraction = String(kw % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

export function siteView(row: typeof miningSites.$inferSelect): SiteView {
  return {
    id: row.id,
    minerId: row.minerId,
    regionCode: row.regionCode,
    name: row.name,
    gridConnection: row.gridConnection,
    powerCapacityMw: formatMegawatts(row.powerCapacityKw),
    declaredHashrateThs: row.declaredHashrateThs,
    commissioningDate: row.commissioningDate,
    poolName: row.poolName,
    createdAt: row.createdAt,
  };
}

export function banView(row: typeof miningBans.$inferSelect): BanView {
  const rule = ruleOf(row);
  return {
    ...rule,
    id: row.id,
    regionCode: row.regionCode,
    reason: row.reason,
    description: describeBan(rule),
    createdAt: row.createdAt,
    liftedAt: row.liftedAt,
    liftReason: row.liftReason,
  };
}

export function ruleOf(row: typeof miningBans.$inferSelect): BanRule {
  return {
    kind: row.kind as BanKind,
    fromDate: row.fromDate,
    toDate: row.toDate,
    season:
      row.seasonStart && row.seasonEnd ? { start: row.seasonStart, end: row.seasonEnd } : null,
    daily: row.dailyStart && row.dailyEnd ? { start: row.dailyStart, end: row.dailyEnd } : null,
  };
}

export function attributionView(row: typeof miningAttributions.$inferSelect): AttributionView {
  return { ...row, payoutKind: row.payoutKind as 'pool' | 'solo' };
}

/** A violation as stored (what the audit log records); the lists add its outpoint and names. */
export type ViolationRecord = Omit<
  ViolationView,
  'txid' | 'vout' | 'minerName' | 'siteName' | 'regionName'
>;

export function violationView(row: typeof miningViolations.$inferSelect): ViolationRecord {
  return { ...row, code: MINING_BAN_VIOLATION, status: row.status as ViolationStatus };
}

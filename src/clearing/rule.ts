import type { AuditLog } from '../audit';
import { keysetOn, type Orm, type Page, type PageRequest } from '../db';
import { AppError, invalid, type Caller, type Clock } from '../kernel';
import { clearingRuleVersions } from './schema';
import { effectiveFromOf, nextVersion, versionInForce } from './versions';

/**
 * The cleared-origin rule: payouts to foreign suppliers are funded only by coins whose cleared
 * share is at least the supervisor's threshold. Versioned like the gate's checks (`…@1` is the
 * rule's logic) and, per setting, by an append-only list of versions each with the time it takes
 * effect: the version in force at T is the one with the latest `effectiveFrom` ≤ T (the higher
 * version on a tie). No version, or one with a null threshold, is the rule off: the default,
 * under which payouts are funded as before (quarantined coins excepted).
 */
export const CLEARED_ORIGIN_RULE = 'clearing.cleared-origin@1';

export interface RuleVersionView {
  version: number;
  /** `clearing.cleared-origin@1#v<version>`: what a refusal records. */
  id: string;
  /** Basis points (0–10,000) of cleared sats a funding coin needs; null: the rule is off. */
  thresholdBasisPoints: number | null;
  effectiveFrom: Date;
  reason: string;
  setBy: string;
  createdAt: Date;
}

export interface RuleState extends Page<RuleVersionView> {
  /** The version in force now (null: never set, so off). */
  inForce: RuleVersionView | null;
}

export interface RuleInput {
  thresholdBasisPoints: number | null;
  /** When it takes effect: now (default) or later, never in the past. */
  effectiveFrom?: Date | undefined;
  reason: string;
}

function view(row: typeof clearingRuleVersions.$inferSelect): RuleVersionView {
  return {
    version: row.version,
    id: `${CLEARED_ORIGIN_RULE}#v${row.version}`,
    thresholdBasisPoints: row.thresholdBasisPoints,
    effectiveFrom: row.effectiveFrom,
    reason: row.reason,
    setBy: row.setBy,
    createdAt: row.createdAt,
  };
}

/** The version in force at `at` (see `versionInForce`), or null: never set, so off. */
export async function ruleAt(orm: Orm, at: Date): Promise<RuleVersionView | null> {
  const row = await versionInForce(orm, clearingRuleVersions, at);
  return row ? view(row) : null;
}

/** The version in force now and a page of every version, newest first (scheduled ones included). */
export async function ruleState(orm: Orm, now: Date, page: PageRequest = {}): Promise<RuleState> {
  const {
    after,
    orderBy,
    read,
    page: pageOfRows,
  } = keysetOn(
    [
      {
        column: clearingRuleVersions.version,
        kind: 'int',
        value: (r: { version: number }) => r.version,
      },
    ],
    'desc',
    page,
  );
  const rows = await orm
    .select()
    .from(clearingRuleVersions)
    .where(after)
    .orderBy(...orderBy)
    .limit(read);
  const versions = await pageOfRows(rows, (shown) => shown.map(view));
  return { inForce: await ruleAt(orm, now), ...versions };
}

/** Appends a version (supervisor only), audited; versions already stored never change. */
export async function setRule(
  tx: Orm,
  caller: Caller,
  { clock, audit }: { clock: Clock; audit: AuditLog },
  input: RuleInput,
): Promise<RuleVersionView> {
  if (caller.role !== 'supervisor')
    throw new AppError('FORBIDDEN', 'only the supervisor sets the cleared-origin rule');
  const threshold = input.thresholdBasisPoints;
  if (threshold !== null && !(Number.isInteger(threshold) && threshold >= 0 && threshold <= 10_000))
    throw invalid(
      'thresholdBasisPoints',
      `must be a whole number from 0 to 10000, got ${threshold}`,
    );
  const reason = input.reason.trim();
  if (!reason) throw invalid('reason', 'must not be empty');
  const now = clock.now();
  const effectiveFrom = effectiveFromOf(input.effectiveFrom, now, 'decisions already taken');
  const row = {
    version: await nextVersion(tx, clearingRuleVersions),
    thresholdBasisPoints: threshold,
    effectiveFrom,
    reason,
    setBy: caller.actorId,
    setByPerson: caller.personId,
    createdAt: now,
  };
  await tx.insert(clearingRuleVersions).values(row);
  const result = view(row);
  await audit.record(caller, {
    action: 'clearing_rule.set',
    entityType: 'clearing_rule',
    entityId: result.id,
    after: {
      ...result,
      effectiveFrom: result.effectiveFrom.toISOString(),
      createdAt: result.createdAt.toISOString(),
    },
  });
  return result;
}

import { desc } from 'drizzle-orm';
import type { AuditLog } from '../../audit';
import type { Orm } from '../../db';
import { AppError, invalid, type Caller, type Clock } from '../../kernel';
import { effectiveFromOf, nextVersion, versionInForce } from '../versions';
import { clearingWindowSchedules } from './schema';

/**
 * The settlement window schedule the supervisor sets: windows close at every multiple of
 * `periodMinutes` counted from midnight UTC (60: on the hour), and net payers pay in within
 * `payInMinutes` of the cut-off. Versioned: each version takes effect at `effectiveFrom`
 * (never in the past); the version in force at T is the latest that has taken effect.
 */
export interface ScheduleVersionView {
  version: number;
  periodMinutes: number;
  payInMinutes: number;
  effectiveFrom: Date;
  reason: string;
  setBy: string;
  createdAt: Date;
}

export interface ScheduleInput {
  periodMinutes: number;
  payInMinutes: number;
  effectiveFrom?: Date | undefined;
  reason: string;
}

export interface ScheduleState {
  inForce: ScheduleVersionView | null;
  versions: ScheduleVersionView[];
}

const MINUTE_MS = 60_000;

/** The first cut-off strictly after `after` for a period that divides the day (pure). */
export function nextCutoff(after: Date, periodMinutes: number): Date {
  const period = periodMinutes * MINUTE_MS;
  return new Date((Math.floor(after.getTime() / period) + 1) * period);
}

function view(row: typeof clearingWindowSchedules.$inferSelect): ScheduleVersionView {
  return {
    version: row.version,
    periodMinutes: row.periodMinutes,
    payInMinutes: row.payInMinutes,
    effectiveFrom: row.effectiveFrom,
    reason: row.reason,
    setBy: row.setBy,
    createdAt: row.createdAt,
  };
}

/** The version in force at `at` (see `versionInForce`), or null: never set. */
export async function scheduleAt(orm: Orm, at: Date): Promise<ScheduleVersionView | null> {
  const row = await versionInForce(orm, clearingWindowSchedules, at);
  return row ? view(row) : null;
}

export async function scheduleState(orm: Orm, now: Date): Promise<ScheduleState> {
  const rows = await orm
    .select()
    .from(clearingWindowSchedules)
    .orderBy(desc(clearingWindowSchedules.version));
  return { inForce: await scheduleAt(orm, now), versions: rows.map(view) };
}

function checkInput(input: ScheduleInput): void {
  const period = input.periodMinutes;
  if (!Number.isInteger(period) || period < 1 || period > 1440 || 1440 % period !== 0)
    throw invalid(
      'periodMinutes',
      `must be a whole number of minutes that divides a day (15, 30, 60, 120, …, 1440), got ${period}`,
    );
  const payIn = input.payInMinutes;
  if (!Number.isInteger(payIn) || payIn < 1 || payIn > 1440)
    throw invalid('payInMinutes', `must be a whole number from 1 to 1440, got ${payIn}`);
}

/** Appends a schedule version (supervisor only), audited `settlement_schedule.set`. */
export async function setSchedule(
  tx: Orm,
  caller: Caller,
  { clock, audit }: { clock: Clock; audit: AuditLog },
  input: ScheduleInput,
): Promise<ScheduleVersionView> {
  if (caller.role !== 'supervisor')
    throw new AppError('FORBIDDEN', 'only the supervisor sets the settlement window schedule');
  checkInput(input);
  const reason = input.reason.trim();
  if (!reason) throw invalid('reason', 'must not be empty');
  const now = clock.now();
  const effectiveFrom = effectiveFromOf(input.effectiveFrom, now, 'windows already scheduled');
  const row = {
    version: await nextVersion(tx, clearingWindowSchedules),
    periodMinutes: input.periodMinutes,
    payInMinutes: input.payInMinutes,
    effectiveFrom,
    reason,
    setBy: caller.actorId,
    setByPerson: caller.personId,
    createdAt: now,
  };
  await tx.insert(clearingWindowSchedules).values(row);
  const result = view(row);
  await audit.record(caller, {
    action: 'settlement_schedule.set',
    entityType: 'settlement_schedule',
    entityId: `v${result.version}`,
    after: {
      ...result,
      effectiveFrom: result.effectiveFrom.toISOString(),
      createdAt: result.createdAt.toISOString(),
    },
  });
  return result;
}

import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { AuditLog } from '../../audit';
import type { Orm } from '../../db';
import { AppError, newId, systemCaller, type Caller, type Clock, type Random } from '../../kernel';
import {
  BTC,
  netPositions,
  settlementInstructions,
  settleWithTakeOut,
  type Obligation,
} from '../netting';
import { HOLDING, obligationPostings, platformAccount, postEntry, windowBalances } from './books';
import type { PayOutAlerts } from './pay-out-alerts';
import { nextCutoff, scheduleAt } from './schedule';
import { valuationColumns, valuePositions, type WindowRate } from './valuation';
import {
  clearingObligations,
  clearingPayIns,
  clearingPayOuts,
  clearingPositions,
  clearingWindows,
} from './schema';

/**
 * Address screening (compliance's ScreeningService), in the caller's unit of work (no handle is
 * passed; the alert and the note are refused outside a transaction): the addresses
 * paying a bitcoin pay-in are screened, a pay-in held for them raises a screening alert into
 * the paying platform's case (`raiseAddressAlert`), for the supervisor, and the supervisor's
 * decision on it is noted on that case (`noteAddressCase`).
 */
export interface PayerScreening {
  screenAddress(caller: Caller, address: string): Promise<{ outcome: string }>;
  raiseAddressAlert(
    caller: Caller,
    input: { partyId: string; platformId: string | null; rule: string; message: string },
  ): Promise<{ alertId: string; caseId: string }>;
  /** A decision on what an alert was raised for, noted on its case (false: the case is closed). */
  noteAddressCase(
    caller: Caller,
    input: { caseId: string; note: string },
  ): Promise<{ noted: boolean }>;
}

/** What the window steps need: the clock, ids, and the clearing's deposit address at an index. */
export interface WindowContext {
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly random: Random;
  /** The clearing's BTC deposit address at a derivation index; null when none is configured. */
  readonly depositAddress: ((index: number) => string) | null;
  /**
   * The confirmations a bitcoin pay-in needs before it counts: the scheme's own (trade's
   * settings for the scheme, lifted to the supervisor's floors), at least one.
   */
  readonly confirmationDepth: (orm: Orm) => Promise<number>;
  /** Screens the addresses paying a bitcoin pay-in; null: none wired, every one is held. */
  readonly screening: PayerScreening | null;
  /** The supervisor's alert of a held pay-out (pay-out-alerts.ts); null: none wired, audit only. */
  readonly alerts: PayOutAlerts | null;
  /**
   * The rate a window with cut-off day `date` (YYYY-MM-DD) values its nets at (valuation.ts's
   * `windowRate`, in a savepoint of the closing transaction); never throws.
   */
  readonly valuationRate: (date: string) => Promise<WindowRate>;
}

export type WindowRow = typeof clearingWindows.$inferSelect;
export const WINDOWS_CALLER = systemCaller('clearing.windows');
const CHUNK = 500;
const MINUTE_MS = 60_000;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

const asObligation = (row: typeof clearingObligations.$inferSelect): Obligation => ({
  id: row.id,
  from: row.fromPlatform,
  to: row.toPlatform,
  asset: row.asset,
  amount: row.amount,
});

/**
 * The open window, opened now when there is none (its cut-off from the schedule in force, or
 * none until a schedule is set). Taken `for share`, so a close waits for the obligations being
 * recorded into it and a record made during a close lands in the next window.
 */
export async function openWindow(tx: Orm, ctx: WindowContext, now: Date): Promise<WindowRow> {
  const [open] = await tx
    .select()
    .from(clearingWindows)
    .where(eq(clearingWindows.status, 'open'))
    .for('share');
  if (open) return open;
  const schedule = await scheduleAt(tx, now);
  const [last] = await tx
    .select({ sequence: sql<number>`coalesce(max(${clearingWindows.sequence}), 0)` })
    .from(clearingWindows);
  const [inserted] = await tx
    .insert(clearingWindows)
    .values({
      id: newId('settlementWindow', now, ctx.random),
      sequence: Number(last?.sequence ?? 0) + 1,
      status: 'open',
      opensAt: now,
      closesAt: schedule ? nextCutoff(now, schedule.periodMinutes) : null,
      scheduleVersion: schedule?.version ?? null,
      createdAt: now,
    })
    .onConflictDoNothing()
    .returning();
  if (inserted) return inserted;
  const [raced] = await tx.select().from(clearingWindows).where(eq(clearingWindows.status, 'open'));
  if (!raced) throw new AppError('CONFLICT', 'a settlement window was opened concurrently; retry');
  return raced;
}

/**
 * Closes a window at its cut-off (or earlier, by the supervisor): its obligations are netted per
 * asset, each platform's position stored, and a pay-in due from every net payer (in bitcoin to a
 * deposit address of its own for this window). The next window opens in the same transaction.
 * A window already closed is WINDOW_ALREADY_CLOSED.
 */
export async function closeWindow(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  windowId: string,
): Promise<WindowRow> {
  const now = ctx.clock.now();
  const [window] = await tx
    .select()
    .from(clearingWindows)
    .where(eq(clearingWindows.id, windowId))
    .for('update');
  if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${windowId}`);
  if (window.status !== 'open')
    throw new AppError(
      'WINDOW_ALREADY_CLOSED',
      `settlement window ${windowId} is already ${window.status} (closed at ${window.closedAt?.toISOString() ?? '?'})`,
      { details: { status: window.status } },
    );
  const schedule = await scheduleAt(tx, now);
  if (!schedule)
    throw new AppError(
      'CONFLICT',
      'no settlement window schedule is in force: set one (the pay-in deadline) before closing',
    );
  const rows = await tx
    .select()
    .from(clearingObligations)
    .where(eq(clearingObligations.windowId, windowId));
  const positions = netPositions(rows.map(asObligation));
  const { payIns } = settlementInstructions(positions);
  // Valued at the rate of the cut-off day (the supervisor's early close: today's); a window
  // without a valuation nets and settles in its assets all the same.
  const rate = await ctx.valuationRate((window.closesAt ?? now).toISOString().slice(0, 10));
  const values = valuePositions(positions, rate);
  const closed = {
    ...window,
    status: 'closed',
    closedAt: now,
    payInDeadline: new Date(now.getTime() + schedule.payInMinutes * MINUTE_MS),
    ...valuationColumns(rate),
  };
  await tx.update(clearingWindows).set(closed).where(eq(clearingWindows.id, windowId));
  const positionRows = [...positions].flatMap(([asset, byPlatform]) =>
    [...byPlatform].map(([platformId, net]) => ({
      id: newId('netPosition', now, ctx.random),
      windowId,
      platformId,
      asset,
      netAtClose: net,
      valueMinor: values.get(asset)?.get(platformId) ?? null,
      status: 'awaiting',
      createdAt: now,
    })),
  );
  for (const part of chunks(positionRows)) await tx.insert(clearingPositions).values(part);
  const payInRows = await payInsDue(tx, ctx, windowId, payIns, now);
  if (payInRows.length > 0) await tx.insert(clearingPayIns).values(payInRows);
  const next = await openWindow(tx, ctx, now);
  await ctx.audit.record(caller, {
    action: 'settlement_window.closed',
    entityType: 'settlement_window',
    entityId: windowId,
    before: { status: 'open' },
    after: {
      status: 'closed',
      obligations: rows.length,
      payInDeadline: closed.payInDeadline.toISOString(),
      scheduleVersion: schedule.version,
      valuation: {
        currency: closed.valuationCurrency,
        rateId: closed.valuationRateId,
        fixingId: closed.valuationFixingId,
        rate: closed.valuationRate,
        reason: closed.valuationReason,
      },
      payIns: payInRows.map((p) => ({
        platformId: p.platformId,
        asset: p.asset,
        amount: p.amountDue.toString(),
        address: p.address,
      })),
      nextWindowId: next.id,
    },
  });
  return closed;
}

async function payInsDue(
  tx: Orm,
  ctx: WindowContext,
  windowId: string,
  payIns: readonly { participant: string; asset: string; amount: bigint }[],
  now: Date,
): Promise<(typeof clearingPayIns.$inferInsert & { amountDue: bigint })[]> {
  const bitcoin = payIns.filter((p) => p.asset === BTC).length;
  let index = 0;
  if (bitcoin > 0) {
    if (!ctx.depositAddress)
      throw new AppError(
        'CONFIG_INVALID',
        "bitcoin pay-ins are due but no clearing descriptor is configured for the clearing's deposit addresses",
      );
    // One writer at a time takes the next derivation indexes.
    await tx.execute(sql`lock table clearing_pay_ins in share row exclusive mode`);
    const [top] = await tx
      .select({ index: sql<number>`coalesce(max(${clearingPayIns.derivationIndex}), -1)` })
      .from(clearingPayIns);
    index = Number(top?.index ?? -1) + 1;
  }
  return payIns.map((p) => {
    const own = p.asset === BTC ? index++ : null;
    return {
      id: newId('payIn', now, ctx.random),
      windowId,
      platformId: p.participant,
      asset: p.asset,
      amountDue: p.amount,
      address: own !== null && ctx.depositAddress ? ctx.depositAddress(own) : null,
      derivationIndex: own,
      status: 'awaiting',
      createdAt: now,
    };
  });
}

/**
 * Settles a closed window when every pay-in has arrived, or at its deadline without the
 * platforms that did not pay in (payment versus payment, `settleWithTakeOut`): their obligations
 * roll to the open window, the rest settle, pay-outs and refunds are instructed, and the
 * window's books must end at zero in every account (else nothing is written). Returns false when
 * the window is not due yet.
 */
export async function settleWindow(
  tx: Orm,
  ctx: WindowContext,
  windowId: string,
): Promise<boolean> {
  const now = ctx.clock.now();
  const [window] = await tx
    .select()
    .from(clearingWindows)
    .where(eq(clearingWindows.id, windowId))
    .for('update');
  if (!window || window.status !== 'closed') return false;
  const payIns = await tx
    .select()
    .from(clearingPayIns)
    .where(eq(clearingPayIns.windowId, windowId));
  // Each due's latest attempt: a rejected or frozen one reopened at a fresh address is not awaited.
  const latest = new Map<string, (typeof payIns)[number]>();
  for (const p of payIns) {
    const key = `${p.platformId}\n${p.asset}`;
    if ((latest.get(key)?.attempt ?? 0) < p.attempt) latest.set(key, p);
  }
  const missing = [...latest.values()].filter((p) => p.status !== 'received');
  const deadline = window.payInDeadline ?? now;
  if (missing.length > 0 && now.getTime() < deadline.getTime()) return false;
  const paid = new Map<string, Map<string, bigint>>();
  for (const p of payIns) {
    if (p.status !== 'received') continue;
    const byPlatform = paid.get(p.asset) ?? new Map<string, bigint>();
    byPlatform.set(p.platformId, p.amountDue);
    paid.set(p.asset, byPlatform);
  }
  const rows = await tx
    .select()
    .from(clearingObligations)
    .where(eq(clearingObligations.windowId, windowId))
    .orderBy(asc(clearingObligations.id));
  const outcome = settleWithTakeOut(rows.map(asObligation), paid);
  const rolledTo =
    outcome.takenOut.length > 0
      ? await takeOut(tx, ctx, window, outcome.takenOut, outcome.rolled, missing)
      : null;
  await instructPayOuts(tx, ctx, windowId, outcome.payOuts, outcome.refunds, now);
  await settlePositions(tx, windowId, outcome.positions, outcome.takenOut);
  await tx
    .update(clearingWindows)
    .set({ status: 'settled', settledAt: now })
    .where(eq(clearingWindows.id, windowId));
  const unbalanced = (await windowBalances(tx, windowId)).filter((b) => b.balance !== 0n);
  if (unbalanced.length > 0)
    throw new AppError(
      'LEDGER_UNBALANCED',
      `settlement window ${windowId} does not reconcile: ${unbalanced.map((b) => `${b.account} ${b.asset} ${b.balance}`).join(', ')}`,
    );
  await ctx.audit.record(WINDOWS_CALLER, {
    action: 'settlement_window.settled',
    entityType: 'settlement_window',
    entityId: windowId,
    before: { status: 'closed' },
    after: {
      status: 'settled',
      settled: outcome.settled,
      takenOut: outcome.takenOut,
      rolledObligations: outcome.rolled.length,
      rolledTo,
      payOuts: outcome.payOuts.map(transferJson),
      refunds: outcome.refunds.map(transferJson),
      reconciled: true,
    },
  });
  return true;
}

const transferJson = (t: { participant: string; asset: string; amount: bigint }) => ({
  platformId: t.participant,
  asset: t.asset,
  amount: t.amount.toString(),
});

/** Takes out the platforms that did not pay in: their obligations roll to the open window. */
async function takeOut(
  tx: Orm,
  ctx: WindowContext,
  window: WindowRow,
  takenOut: readonly string[],
  rolled: readonly Obligation[],
  missing: readonly (typeof clearingPayIns.$inferSelect)[],
): Promise<string> {
  const now = ctx.clock.now();
  const next = await openWindow(tx, ctx, now);
  const byId = new Map(rolled.map((o) => [o.id, o]));
  const postings = (sign: 1n | -1n) =>
    rolled.flatMap((o) =>
      obligationPostings(
        { fromPlatform: o.from, toPlatform: o.to, asset: o.asset, amount: o.amount },
        sign,
      ),
    );
  await postEntry(
    tx,
    { windowId: window.id, entry: `roll-out:${window.id}`, kind: 'obligation.rolledOut', at: now },
    postings(-1n),
  );
  await postEntry(
    tx,
    { windowId: next.id, entry: `roll-in:${window.id}`, kind: 'obligation.rolledIn', at: now },
    postings(1n),
  );
  for (const part of chunks([...byId.keys()])) {
    await tx
      .update(clearingObligations)
      .set({ windowId: next.id, rolls: sql`${clearingObligations.rolls} + 1` })
      .where(inArray(clearingObligations.id, part));
  }
  for (const platformId of takenOut) {
    await ctx.audit.record(WINDOWS_CALLER, {
      action: 'settlement_window.takenOut',
      entityType: 'settlement_window',
      entityId: window.id,
      after: {
        platformId,
        missingPayIns: missing
          .filter((p) => p.platformId === platformId)
          .map((p) => ({ asset: p.asset, amount: p.amountDue.toString() })),
        rolledObligations: rolled.filter((o) => o.from === platformId || o.to === platformId)
          .length,
        nextWindowId: next.id,
      },
    });
  }
  return next.id;
}

async function instructPayOuts(
  tx: Orm,
  ctx: WindowContext,
  windowId: string,
  payOuts: readonly { participant: string; asset: string; amount: bigint }[],
  refunds: readonly { participant: string; asset: string; amount: bigint }[],
  now: Date,
): Promise<void> {
  const rows = [
    ...payOuts.map((t) => ({ ...t, kind: 'payOut' })),
    ...refunds.map((t) => ({ ...t, kind: 'refund' })),
  ].map((t) => ({
    id: newId('payOut', now, ctx.random),
    windowId,
    platformId: t.participant,
    asset: t.asset,
    kind: t.kind,
    amount: t.amount,
    status: 'instructed',
    createdAt: now,
  }));
  if (rows.length === 0) return;
  await tx.insert(clearingPayOuts).values(rows);
  await postEntry(
    tx,
    { windowId, entry: `pay-outs:${windowId}`, kind: 'payOut.instructed', at: now },
    rows.flatMap((r) => [
      { account: platformAccount(r.platformId), asset: r.asset, amount: r.amount },
      { account: HOLDING, asset: r.asset, amount: -r.amount },
    ]),
  );
}

async function settlePositions(
  tx: Orm,
  windowId: string,
  positions: ReadonlyMap<string, ReadonlyMap<string, bigint>>,
  takenOut: readonly string[],
): Promise<void> {
  if (takenOut.length > 0) {
    await tx
      .update(clearingPositions)
      .set({ status: 'takenOut' })
      .where(
        and(
          eq(clearingPositions.windowId, windowId),
          inArray(clearingPositions.platformId, [...takenOut]),
        ),
      );
  }
  // Every position still awaiting settles at what the recomputed netting gives it (0 if none).
  await tx
    .update(clearingPositions)
    .set({ status: 'settled', netSettled: 0n })
    .where(and(eq(clearingPositions.windowId, windowId), eq(clearingPositions.status, 'awaiting')));
  for (const [asset, byPlatform] of positions) {
    for (const [platformId, net] of byPlatform) {
      if (net === 0n) continue;
      await tx
        .update(clearingPositions)
        .set({ netSettled: net })
        .where(
          and(
            eq(clearingPositions.windowId, windowId),
            eq(clearingPositions.platformId, platformId),
            eq(clearingPositions.asset, asset),
          ),
        );
    }
  }
}

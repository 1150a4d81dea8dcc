import { and, eq, sql } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError, newId, type Caller } from '../../kernel';
import type { WindowContext } from './lifecycle';
import { receive, type PayInRow } from './pay-ins';
import { clearingPayIns, clearingWindows } from './schema';

/**
 * The supervisor's decision on a held bitcoin pay-in (accept with four eyes, or reject: returned
 * or frozen), apart from how pay-ins are detected, screened and held (pay-ins.ts).
 */

/** The rule of the alert a frozen pay-in raises: coins from a listed address, to be reported. */
export const FROZEN_PAY_IN_RULE = 'clearing.pay-in-frozen@1';

export interface HeldDecision {
  decision: 'accept' | 'reject';
  reason: string;
}

/**
 * The supervisor's decision on a held bitcoin pay-in, in the caller's transaction (the window,
 * then the pay-in locked, as arrivals lock them): `accept` by two persons (the first proposes,
 * audited `settlement_pay_in.acceptProposed`; the same person again is SELF_APPROVAL) makes it
 * count as received (the books as for any pay-in; the window settles if it was the last
 * awaited). `reject` makes it count nothing: held for an address that could not be screened, it
 * is recorded to be returned to the payer (status `rejected`); held for a sanctions list match,
 * its coins are frozen and reported, never returned (status `frozen`, and a critical alert into
 * the platform's case for the report). A reject before the pay-in deadline opens the due's next
 * attempt at a fresh deposit address, so that the platform can still pay in cleanly. Every step
 * is audited with the reason and the person, and noted on the held alert's case. Only a held
 * pay-in is decided (PAY_IN_NOT_HELD), and an accepted one only while its window is not settled
 * (WINDOW_ALREADY_SETTLED: reject it).
 */
export async function decideHeld(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  target: { windowId: string; payInId: string },
  input: HeldDecision,
): Promise<PayInRow> {
  const [window] = await tx
    .select({ status: clearingWindows.status, payInDeadline: clearingWindows.payInDeadline })
    .from(clearingWindows)
    .where(eq(clearingWindows.id, target.windowId))
    .for('update');
  if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${target.windowId}`);
  const [payIn] = await tx
    .select()
    .from(clearingPayIns)
    .where(and(eq(clearingPayIns.id, target.payInId), eq(clearingPayIns.windowId, target.windowId)))
    .for('update');
  if (!payIn)
    throw new AppError(
      'PAY_IN_NOT_FOUND',
      `no pay-in ${target.payInId} in settlement window ${target.windowId}`,
    );
  if (payIn.status !== 'held')
    throw new AppError(
      'PAY_IN_NOT_HELD',
      `pay-in ${payIn.id} is ${payIn.status}; only a held pay-in is accepted or rejected`,
      { details: { status: payIn.status } },
    );
  if (input.decision === 'accept' && window.status === 'settled')
    throw new AppError(
      'WINDOW_ALREADY_SETTLED',
      `settlement window ${payIn.windowId} settled without this pay-in; it can no longer count: reject it`,
    );
  const now = ctx.clock.now();
  // Four eyes on accepting: coins a screening held count only when two persons say so. The
  // first person's accept is a proposal (the pay-in stays held); another person's accept makes
  // it count. Rejecting counts nothing, so one person's word does.
  const proposedBy =
    payIn.decision === 'accept' && payIn.decidedByPerson !== null ? payIn.decidedByPerson : null;
  if (input.decision === 'accept' && proposedBy === caller.personId)
    throw new AppError(
      'SELF_APPROVAL',
      `you proposed to accept pay-in ${payIn.id}; another supervisor (a different person, with any credential) must approve it`,
    );
  const decided = {
    decision: input.decision,
    decisionReason: input.reason,
    decidedByPerson: caller.personId,
    decidedAt: now,
  };
  await tx.update(clearingPayIns).set(decided).where(eq(clearingPayIns.id, payIn.id));
  // A held pay-in from before its reason was recorded counts as a list match: freezing coins
  // that could have been returned is undone by hand; returning listed coins is not.
  const frozen = input.decision === 'reject' && payIn.heldReason !== 'unscreenable';
  const step =
    input.decision === 'accept'
      ? proposedBy === null
        ? 'proposed to accept (it counts once another person accepts)'
        : `accepted with ${proposedBy} (it counts)`
      : frozen
        ? 'rejected: frozen (a sanctions list match), to be reported, never returned'
        : 'rejected: to be returned to the payer';
  const caseNoted = await noteOnCase(tx, ctx, caller, payIn, `${step}. Reason: ${input.reason}`);
  if (input.decision === 'accept' && proposedBy === null) {
    await ctx.audit.record(caller, {
      action: 'settlement_pay_in.acceptProposed',
      entityType: 'pay_in',
      entityId: payIn.id,
      before: { status: 'held' },
      after: {
        windowId: payIn.windowId,
        platformId: payIn.platformId,
        reason: input.reason,
        proposedBy: caller.personId,
        status: 'held',
        caseId: payIn.caseId,
        caseNoted,
      },
    });
    return { ...payIn, ...decided };
  }
  const detail = {
    windowId: payIn.windowId,
    platformId: payIn.platformId,
    asset: payIn.asset,
    amount: payIn.amountDue.toString(),
    txid: payIn.txid,
    vout: payIn.vout,
    reason: input.reason,
    decidedBy: caller.personId,
    heldReason: payIn.heldReason,
    alertId: payIn.alertId,
    caseId: payIn.caseId,
    caseNoted,
    ...(input.decision === 'accept' ? { proposedBy } : {}),
  };
  if (input.decision === 'reject') {
    const status = frozen ? 'frozen' : 'rejected';
    await tx.update(clearingPayIns).set({ status }).where(eq(clearingPayIns.id, payIn.id));
    // The supervisor's report of the frozen coins starts from a critical alert in the platform's
    // case (compliance's cases export the goAML report); like the held alert, the supervisor's
    // and auditors' only.
    const alert =
      frozen && ctx.screening
        ? await ctx.screening.raiseAddressAlert(caller, {
            partyId: payIn.platformId,
            platformId: payIn.platformId,
            rule: FROZEN_PAY_IN_RULE,
            message: `Settlement pay-in ${payIn.id} (window ${payIn.windowId}, ${payIn.amountDue} sats, transaction ${payIn.txid ?? '?'}, output ${payIn.vout ?? '?'}) was paid from a listed address and is frozen: its coins are not returned. Report it (held alert ${payIn.alertId ?? 'none'}).`,
          })
        : null;
    await ctx.audit.record(caller, {
      action: frozen ? 'settlement_pay_in.frozen' : 'settlement_pay_in.rejected',
      entityType: 'pay_in',
      entityId: payIn.id,
      before: { status: 'held' },
      after: frozen
        ? { ...detail, status, toReturn: false, frozenAlertId: alert?.alertId ?? null }
        : { ...detail, status, toReturn: true },
    });
    if (window.status === 'closed' && window.payInDeadline && now < window.payInDeadline)
      await reopen(tx, ctx, caller, payIn);
    return { ...payIn, ...decided, status };
  }
  await ctx.audit.record(caller, {
    action: 'settlement_pay_in.accepted',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: { status: 'held' },
    after: { ...detail, status: 'received' },
  });
  await receive(tx, ctx, caller, payIn, {
    amount: payIn.amountDue,
    txid: payIn.txid ?? '',
    vout: payIn.vout ?? 0,
    blockHash: payIn.blockHash ?? '',
  });
  return { ...payIn, ...decided, status: 'received' };
}

/** The decision noted on the held alert's case (false: no case, or it is closed). */
async function noteOnCase(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  payIn: PayInRow,
  text: string,
): Promise<boolean> {
  if (!ctx.screening || payIn.caseId === null) return false;
  const { noted } = await ctx.screening.noteAddressCase(caller, {
    caseId: payIn.caseId,
    note: `Settlement pay-in ${payIn.id} (window ${payIn.windowId}, alert ${payIn.alertId ?? 'none'}): ${text}`,
  });
  return noted;
}

/**
 * The due's next attempt after a rejected or frozen one: the same window, platform, asset and
 * amount at a fresh deposit address (the next derivation index on the clearing's descriptor, as
 * at the close), awaiting; the decided attempt stays as recorded. Audited on the new pay-in.
 */
async function reopen(tx: Orm, ctx: WindowContext, caller: Caller, payIn: PayInRow) {
  if (!ctx.depositAddress)
    throw new AppError(
      'CONFIG_INVALID',
      "no clearing descriptor is configured for the clearing's deposit addresses",
    );
  // One writer at a time takes the next derivation index (as a window's close does).
  await tx.execute(sql`lock table clearing_pay_ins in share row exclusive mode`);
  const [top] = await tx
    .select({ index: sql<number>`coalesce(max(${clearingPayIns.derivationIndex}), -1)` })
    .from(clearingPayIns);
  const index = Number(top?.index ?? -1) + 1;
  const now = ctx.clock.now();
  const row = {
    id: newId('payIn', now, ctx.random),
    windowId: payIn.windowId,
    platformId: payIn.platformId,
    asset: payIn.asset,
    amountDue: payIn.amountDue,
    attempt: payIn.attempt + 1,
    address: ctx.depositAddress(index),
    derivationIndex: index,
    status: 'awaiting',
    createdAt: now,
  };
  await tx.insert(clearingPayIns).values(row);
  await ctx.audit.record(caller, {
    action: 'settlement_pay_in.reopened',
    entityType: 'pay_in',
    entityId: row.id,
    after: {
      windowId: row.windowId,
      platformId: row.platformId,
      asset: row.asset,
      amountDue: row.amountDue.toString(),
      attempt: row.attempt,
      address: row.address,
      previousPayInId: payIn.id,
      status: 'awaiting',
    },
  });
}

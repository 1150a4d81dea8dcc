import type { Caller } from '../../kernel';
import { WINDOWS_CALLER, type WindowContext } from './lifecycle';

/**
 * The supervisor's alert for a settlement window's held pay-out (issue 13): compliance's alert
 * queue (`GET /v1/alerts`) through this port (compliance's `RaisedAlerts`), in the caller's unit
 * of work (no handle is passed; refused outside a transaction), so the alert commits with the
 * hold it explains. Raised once per subject while its case is open: a job that holds the window
 * again for the same code, or a refusal repeated, raises no second one.
 */
export interface PayOutAlerts {
  raiseAlertOnce(
    caller: Caller,
    input: {
      partyId: string;
      platformId: string | null;
      kind: 'screening' | 'clearing';
      rule: string;
      score: number;
      message: string;
      subject: string;
    },
  ): Promise<{ alertId: string; caseId: string; raised: boolean }>;
  /**
   * The holds of these subjects cleared: the party's open case noted, and closed when nothing
   * else is in it (compliance's `closeClearedAlerts`), in the caller's unit of work.
   */
  closeClearedAlerts(
    caller: Caller,
    input: { partyId: string; subjects: readonly string[]; note: string },
  ): Promise<{ caseId: string; closed: boolean } | null>;
}

/** The rule a held pay-out's alert names (alerts' rules are versioned ids). */
export const PAY_OUT_HELD_RULE = 'clearing.pay-out-held@1';

/** A clearing hold's score: `high` by compliance's grading (a screening one is `critical`). */
const HOLD_SCORE = 60;

/**
 * What the hold is, for the supervisor, in words that name no list (a platform never reads
 * alerts, and the screening's own record holds the match).
 */
const WHAT: Record<string, string> = {
  TRANSFER_BLOCKED: "the receiver's settlement address does not screen clear now",
  LICENCE_NOT_ACTIVE: 'the receiver holds no active licence now',
  PAY_OUT_BELOW_DUST: 'an output would be below the dust limit once its fee share is taken',
  PAY_IN_OUTPOINT_MISSING: "the network reported the pay-ins' outpoints missing on every attempt",
  REPLACED_TRANSACTION_MINED: 'a transaction it replaced was mined after all',
  PAY_OUT_REJECTED: 'the network refused the transaction for good',
  MINED_TRANSACTION_MISMATCH: "the mined transaction does not pay the window's receivers",
};

/** Held for a receiver (its case, one alert per platform); else for the window (its own case). */
const OF_RECEIVER = new Set(['TRANSFER_BLOCKED', 'LICENCE_NOT_ACTIVE']);

export interface PayOutHold {
  windowId: string;
  /** The hold's code (a HeldCode, the transaction's held code, or the refusal's). */
  code: string;
  /** The receiving platform, for a hold a receiver's check caused. */
  platformId: string | null;
  /** What the supervisor is to do, and anything the hold adds (a txid, a refusal). */
  detail: string;
}

/**
 * Raises the supervisor's alert of a hold, once while open, or returns null when none is wired.
 * A receiver's check (TRANSFER_BLOCKED, a `screening` alert: critical; LICENCE_NOT_ACTIVE) goes
 * into that platform's case; the others into the window's own (its id as the party, no platform).
 */
export async function alertPayOutHold(
  ctx: WindowContext,
  caller: Caller,
  hold: PayOutHold,
): Promise<{ alertId: string; caseId: string; raised: boolean } | null> {
  if (!ctx.alerts) return null;
  const receiver = OF_RECEIVER.has(hold.code) ? hold.platformId : null;
  return ctx.alerts.raiseAlertOnce(caller, {
    partyId: receiver ?? hold.windowId,
    platformId: receiver,
    kind: hold.code === 'TRANSFER_BLOCKED' ? 'screening' : 'clearing',
    rule: PAY_OUT_HELD_RULE,
    score: HOLD_SCORE,
    message: `The bitcoin pay-out of settlement window ${hold.windowId} is held (${hold.code})${
      receiver ? ` for platform ${receiver}` : ''
    }: ${WHAT[hold.code] ?? 'see its audit events'}. ${hold.detail}`,
    subject: holdSubject(hold.windowId, hold.code, receiver),
  });
}

/** What a hold's alert is about: raised once per subject while its case is open. */
const holdSubject = (windowId: string, code: string, platformId: string | null) =>
  `settlement-window:${windowId}:pay-out:${code}${platformId ? `:${platformId}` : ''}`;

/** The window's own holds a sent transaction clears (never a refused adoption: that stays open). */
const CLEARED_BY_SENDING = ['PAY_OUT_BELOW_DUST', 'PAY_IN_OUTPOINT_MISSING', 'PAY_OUT_REJECTED'];

/**
 * A transaction of the window the network took (or a block has): the holds it clears are closed
 * in compliance's queue, in the caller's unit of work. Each receiver it pays: its own holds'
 * alerts (TRANSFER_BLOCKED, LICENCE_NOT_ACTIVE) in its platform's case; the window: its dust hold,
 * once no pay-out of it is held as dust any more, and the holds of a transaction that sending
 * replaced (missing inputs, refused for good). Each case is noted that the hold cleared, and closed
 * only when nothing else is in it (compliance's rule). Nothing when no alerts are wired.
 */
export async function closeClearedHolds(
  ctx: WindowContext,
  sent: { windowId: string; txid: string; platformIds: readonly string[]; dustHeld: boolean },
): Promise<void> {
  if (!ctx.alerts) return;
  const note = (what: string) =>
    `The hold cleared: ${what} of settlement window ${sent.windowId} was sent in transaction ${sent.txid}.`;
  for (const platformId of new Set(sent.platformIds))
    await ctx.alerts.closeClearedAlerts(WINDOWS_CALLER, {
      partyId: platformId,
      subjects: [...OF_RECEIVER].map((code) => holdSubject(sent.windowId, code, platformId)),
      note: note(`the bitcoin pay-out to platform ${platformId}`),
    });
  await ctx.alerts.closeClearedAlerts(WINDOWS_CALLER, {
    partyId: sent.windowId,
    subjects: CLEARED_BY_SENDING.filter((c) => c !== 'PAY_OUT_BELOW_DUST' || !sent.dustHeld).map(
      (code) => holdSubject(sent.windowId, code, null),
    ),
    note: note('the bitcoin pay-out'),
  });
}

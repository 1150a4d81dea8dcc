import type { Caller } from '../../kernel';
import type { WindowContext } from './lifecycle';

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
    subject: `settlement-window:${hold.windowId}:pay-out:${hold.code}${receiver ? `:${receiver}` : ''}`,
  });
}

import { and, asc, eq, isNull, or } from 'drizzle-orm';
import type { Orm } from '../db';
import { AppError, countsAsPerson, systemCaller, type Caller } from '../kernel';
import { transitionPayout, type GateCheck } from './lifecycle';
import type { PayoutContext } from './payout-context';
import { holdView, payoutView, type PayoutRow, type PayoutView } from './payout-views';
import { tradePayouts } from './schema';

/**
 * Releases: a held payout moves on again once the condition that held it has cleared. Every
 * check runs again at that moment (`PayoutContext.check` at step `release`: the contract active
 * and the amount still open, the licences, KYC/KYB, jurisdictions, the address screened against
 * the active lists, Travel Rule, a new decision recorded by the gate); a payout that had its
 * quorum waits for the next batch (where the batching check and the cleared-origin rule apply as
 * ever), one held before its quorum goes back to approval.
 *
 * Only the conditions below end without a compliance finding, so only they are released here. A
 * hold for a sanctions or screening match or a monitoring alert (and any reason not known here)
 * belongs to compliance's review of the decision or its case, never to this action.
 */
export const RELEASABLE_HOLD_CODES: ReadonlySet<string> = new Set([
  // Registry standing: a licence reinstated, a party verified again, a proof of the address.
  'LICENCE_NOT_ACTIVE',
  'KYC_NOT_VERIFIED',
  'ADDRESS_OWNERSHIP_UNPROVEN',
  'PARTICIPANT_NOT_REGISTERED',
  'SCHEME_JURISDICTION_NOT_SET',
  // The scheme's refusal of a country, lifted by the supervisor.
  'JURISDICTION_REFUSED',
  // The contract resumed, or enough of it open again.
  'CONTRACT_NOT_ACTIVE',
  'CONTRACT_MISSING',
  'AMOUNT_EXCEEDS_OPEN',
  // Travel Rule rules changed; the data on the payout itself never does.
  'TRAVEL_RULE_MISSING',
  'TRAVEL_RULE_INVALID',
  // A check that could not run (a lookup, the lists): it runs again.
  'CHECK_FAILED',
]);

/** The codes of a hold's reasons (`CODE: message`). */
export function holdCodes(hold: GateCheck): string[] {
  return hold.reasons.map((r) => r.split(':')[0]!.trim());
}

/**
 * Whether a release may clear the hold: every reason's code is one a release clears. A hold with
 * no reason to read is not (fail closed: nothing says what held it).
 */
export function isReleasable(hold: GateCheck | null): boolean {
  if (!hold || hold.reasons.length === 0) return false;
  return holdCodes(hold).every((code) => RELEASABLE_HOLD_CODES.has(code));
}

/**
 * An officer's release of a held payout: an officer of the payout's platform, a named person
 * (never the operator channel), not its maker with any credential. Refused before anything is
 * decided when the payout is not held (two releases at once: one wins) or its hold is for a
 * compliance finding (HOLD_NOT_RELEASABLE); refused after the decision, which stays recorded
 * with the new hold, when the checks still do not pass (HOLD_NOT_CLEARED).
 */
export async function releasePayout(
  ctx: PayoutContext,
  caller: Caller,
  id: string,
): Promise<PayoutView> {
  if (!countsAsPerson(caller))
    throw new AppError(
      'FORBIDDEN',
      'a held payout is released by a named officer; the operator channel is not one',
    );
  if (caller.role !== 'platform')
    throw new AppError(
      'FORBIDDEN',
      "held payouts are released by officers of the company's platform",
    );
  const { db } = ctx.ports;
  const held = await db.transaction(async (tx) => {
    const row = await ctx.lock(tx, caller, id);
    if (caller.participantId !== row.platformId)
      throw new AppError(
        'FORBIDDEN',
        "held payouts are released by officers of the company's platform",
      );
    if (row.status !== 'held')
      throw new AppError('INVALID_STATE_TRANSITION', `payout ${id} is ${row.status}, not held`);
    if (caller.personId === row.createdByPerson || caller.actorId === row.createdBy) {
      throw new AppError(
        'SELF_APPROVAL',
        `the maker of payout ${id} cannot release it, with any credential; another officer must`,
      );
    }
    return releaseHeld(ctx, tx, caller, row, { releasedByPerson: caller.personId });
  });
  if (held) throw notCleared(id, held);
  return payoutView(db.orm, id);
}

/**
 * Re-evaluates, as the system, each held payout of `participantId` (its platform or its company)
 * whose every reason is `LICENCE_NOT_ACTIVE`: released when the gate now allows it, else held
 * again with the new check. In one transaction of its own; `releaseLicenceHoldsIn` is the same in
 * the caller's (the `trade.licences` subscriber's, when a licence becomes active again).
 */
export function releaseLicenceHolds(
  ctx: PayoutContext,
  participantId: string,
): Promise<{ released: string[]; stillHeld: string[] }> {
  return ctx.ports.db.transaction((tx) => releaseLicenceHoldsIn(ctx, tx, participantId));
}

/**
 * `releaseLicenceHolds` in `tx`: every candidate row locked (in id order) before the first
 * check, which records a decision and so takes the audit head after them.
 */
export async function releaseLicenceHoldsIn(
  ctx: PayoutContext,
  tx: Orm,
  participantId: string,
): Promise<{ released: string[]; stillHeld: string[] }> {
  const caller = systemCaller('trade.licenceHolds');
  const released: string[] = [];
  const stillHeld: string[] = [];
  const rows = await tx
    .select()
    .from(tradePayouts)
    .where(
      and(
        eq(tradePayouts.status, 'held'),
        isNull(tradePayouts.batchId),
        or(eq(tradePayouts.platformId, participantId), eq(tradePayouts.companyId, participantId)),
      ),
    )
    .orderBy(asc(tradePayouts.id))
    .for('update');
  for (const row of rows) {
    const hold = holdView(row.hold);
    if (!hold || hold.reasons.length === 0) continue;
    if (!holdCodes(hold).every((code) => code === 'LICENCE_NOT_ACTIVE')) continue;
    const again = await releaseHeld(ctx, tx, caller, row, { automatic: 'licence active' });
    (again ? stillHeld : released).push(row.id);
  }
  return { released, stillHeld };
}

/**
 * The release itself, in the caller's transaction with the payout locked: refused for a
 * compliance finding, then the gate at step `release` through the transition table. Returns the
 * new check when it still does not pass (the payout held again with it), null when released.
 */
async function releaseHeld(
  ctx: PayoutContext,
  tx: Orm,
  caller: Caller,
  row: PayoutRow,
  audit: Record<string, unknown>,
): Promise<GateCheck | null> {
  const hold = holdView(row.hold);
  const reference = hold?.decisionId ?? row.id;
  if (!isReleasable(hold)) {
    throw new AppError(
      'HOLD_NOT_RELEASABLE',
      `payout ${row.id} is held for a finding that only a compliance review or case clears (reference ${reference})`,
      { details: { payoutId: row.id, status: 'held', reference } },
    );
  }
  // Every hold frees the payout from its batch; one still in a batch is not released (fail closed).
  if (row.batchId !== null) {
    throw new AppError(
      'INVALID_STATE_TRANSITION',
      `payout ${row.id} is still in batch ${row.batchId}; it cannot be released`,
    );
  }
  const result = await transitionPayout(
    ctx.transitions,
    tx,
    caller,
    row,
    // Its approvals stand: one that had its quorum waits for a batch, the others for approval.
    row.approvedAt ? 'released' : 'releasedToApproval',
    {
      patch: { hold: null },
      audit: { ...audit, releasedHold: { step: hold!.step, decisionId: hold!.decisionId } },
    },
  );
  return result.action === 'held' ? result.check : null;
}

/** The refusal of a release whose checks still do not pass: a reference, never the reasons. */
function notCleared(payoutId: string, check: GateCheck): AppError {
  const reference = check.decisionId ?? payoutId;
  return new AppError(
    'HOLD_NOT_CLEARED',
    `payout ${payoutId} stays held: its checks, run again at release, still do not pass (reference ${reference})`,
    { details: { payoutId, status: 'held', step: check.step, reference } },
  );
}

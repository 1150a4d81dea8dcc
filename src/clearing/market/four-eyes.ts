import { eq } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError, countsAsPerson, type Caller } from '../../kernel';
import type { MarketContext } from './context';
import type { DealRow } from './deals';
import { marketDeals } from './schema';

/** The two ways out of `held`, each decided by two supervisors. */
export type HeldDecision = 'release' | 'refund';

/** The pending decision's columns once it is carried out. */
export const NO_PENDING_DECISION = {
  pendingDecision: null,
  pendingDecisionByPerson: null,
  pendingDecisionReason: null,
  pendingDecisionAt: null,
} as const;

/**
 * Four eyes on a held deal's way out, counted by person as contracts' approval counts them (two
 * credentials of one person are one pair of eyes). Called with the deal locked, before any check
 * runs: the first supervisor's decision is recorded as pending (audited) and the row as it now is
 * returned; the same decision by a different person returns null, and the caller carries it out;
 * the same person again is SELF_APPROVAL, refused before anything of the deal's checks is run or
 * said. Another decision than the pending one replaces it as the new proposal.
 */
export async function proposeOrApprove(
  ctx: MarketContext,
  tx: Orm,
  caller: Caller,
  row: DealRow,
  action: HeldDecision,
  reason: string,
): Promise<DealRow | null> {
  if (!countsAsPerson(caller))
    throw new AppError(
      'FORBIDDEN',
      `to ${action} a held deal takes two named supervisors; the operator channel is not one`,
    );
  if (row.pendingDecision === action && row.pendingDecisionByPerson !== null) {
    if (row.pendingDecisionByPerson === caller.personId)
      throw new AppError(
        'SELF_APPROVAL',
        `you proposed to ${action} deal ${row.id}; another supervisor (a different person, with any credential) must approve it`,
      );
    return null;
  }
  const now = ctx.clock.now();
  const pending = {
    pendingDecision: action,
    pendingDecisionByPerson: caller.personId,
    pendingDecisionReason: reason,
    pendingDecisionAt: now,
  };
  await tx.update(marketDeals).set(pending).where(eq(marketDeals.id, row.id));
  await ctx.audit.record(caller, {
    action: 'market_deal.decisionProposed',
    entityType: 'market_deal',
    entityId: row.id,
    before: { status: row.status, pendingDecision: row.pendingDecision },
    after: { status: row.status, pendingDecision: action, reason, proposedBy: caller.personId },
  });
  return { ...row, ...pending };
}

/** What the audit of a carried-out decision says of its two persons. */
export function decidedBy(row: DealRow, caller: Caller) {
  return {
    proposedBy: row.pendingDecisionByPerson,
    proposedReason: row.pendingDecisionReason,
    approvedBy: caller.personId,
  };
}

/**
 * What a caller is told about a compliance decision: the one place the no-tipping-off rule lives.
 *
 * FATF Recommendation 21 forbids disclosing that a transfer is being looked at, and why: a
 * company that reads "4 transfers within 10 % under 10000.00 USD in 72 h (structuring)" learns
 * how to stay under the rule; one that reads the sanctions entry it matched learns which name to
 * change. So the parties to a transfer (the company, a miner, the foreign buyer on the public pay
 * page) learn only its status, "held for compliance review" or "refused", with a reference they
 * can quote (the decision id, or the transfer's own id when no decision was stored). The platform's
 * compliance officers (for their own clients), the supervisor and the auditor see every reason,
 * rule version, score, list entry and snapshot.
 *
 * Every route, error and live event that carries a decision passes through these functions.
 */
import type { Caller } from '../kernel';
import type { DecisionView } from './policy/decisions';
import type { GateOutcome } from './policy/types';

/** `detail`: every reason, rule, score and list entry; `outcome`: the status and a reference only. */
export type DisclosureLevel = 'detail' | 'outcome';

export const COMPLIANCE_STATUSES = ['allowed', 'held for compliance review', 'refused'] as const;
/** What a transfer's party reads about its compliance state. */
export type ComplianceStatus = (typeof COMPLIANCE_STATUSES)[number];

/**
 * Who may read the detail of a decision. A platform only for its own clients (`owner`: the
 * platform carrying the transfer; routes already scope what a platform reads, and an owner that
 * is not the caller is told the outcome only). Anonymous callers (the pay page) get the outcome.
 */
export function disclosureFor(
  caller: Caller | null,
  owner?: { platformId: string | null },
): DisclosureLevel {
  if (!caller) return 'outcome';
  if (caller.role === 'supervisor' || caller.role === 'auditor') return 'detail';
  if (caller.role === 'platform') {
    if (!owner) return 'detail';
    return owner.platformId !== null && owner.platformId === caller.participantId
      ? 'detail'
      : 'outcome';
  }
  return 'outcome';
}

/** A decision's status as its party reads it: a resolved review is its resolution. */
export function complianceStatus(
  outcome: GateOutcome,
  resolution: 'allow' | 'block' | null = null,
): ComplianceStatus {
  const effective = outcome === 'review' ? (resolution ?? 'review') : outcome;
  if (effective === 'allow') return 'allowed';
  if (effective === 'review') return 'held for compliance review';
  return 'refused';
}

/** One line for a party: `held for compliance review (reference dec_…)`. */
export function complianceSummary(status: ComplianceStatus, reference: string | null): string {
  return reference ? `${status} (reference ${reference})` : status;
}

/** What `decidedBy` reads for a caller told the outcome only (no check or rule name). */
export const UNDISCLOSED_DECIDER = 'compliance';

/** A stored decision as a caller may read it. */
export interface DisclosedDecision extends Omit<DecisionView, 'monitoringScore'> {
  disclosure: DisclosureLevel;
  status: ComplianceStatus;
  /** What to quote to the platform about it. */
  reference: string;
  /** Null when not disclosed to the caller. */
  monitoringScore: number | null;
}

/**
 * A decision as the caller may read it: in full for officers, otherwise its outcome, status and
 * reference with every reason, rule version, list snapshot, score and the officer's review note
 * (which says why) removed.
 */
export function disclose(caller: Caller | null, decision: DecisionView): DisclosedDecision {
  const disclosure = disclosureFor(caller, decision);
  const status = complianceStatus(decision.outcome, decision.finalOutcome);
  if (disclosure === 'detail') return { ...decision, disclosure, status, reference: decision.id };
  return {
    ...decision,
    disclosure,
    status,
    reference: decision.id,
    reasons: [],
    listSnapshotIds: [],
    ruleVersions: [],
    monitoringScore: null,
    reviewedBy: null,
    reviewNote: null,
  };
}

/** The gate verdict a transfer (invoice, payout) carries, as trade stores it. */
export interface GateVerdict {
  readonly outcome: GateOutcome;
  readonly reasons: readonly string[];
  readonly decidedBy: string;
  readonly decisionId: string | null;
  readonly resolution: 'allow' | 'block' | null;
}

/**
 * A transfer's gate verdict as the caller may read it. `owner` is the transfer's platform,
 * `transferId` the reference when the gate stored no decision (trade refused before asking it).
 */
export function discloseGate<T extends GateVerdict>(
  caller: Caller | null,
  owner: { platformId: string | null },
  verdict: T,
  transferId: string,
): Omit<T, 'reasons'> & {
  reasons: string[];
  disclosure: DisclosureLevel;
  status: ComplianceStatus;
  reference: string;
} {
  const disclosure = disclosureFor(caller, owner);
  const status = complianceStatus(verdict.outcome, verdict.resolution);
  const reference = verdict.decisionId ?? transferId;
  if (disclosure === 'detail')
    return { ...verdict, reasons: [...verdict.reasons], disclosure, status, reference };
  return {
    ...verdict,
    reasons: [],
    decidedBy: UNDISCLOSED_DECIDER,
    disclosure,
    status,
    reference,
  };
}

/**
 * Keys of an error's details or an event's payload that carry compliance detail (reasons, the
 * check that decided, rule versions, scores, list matches and snapshots).
 */
const DETAIL_KEYS = new Set([
  'reasons',
  'decidedBy',
  'ruleVersions',
  'rule',
  'monitoringScore',
  'score',
  'listSnapshotIds',
  'listSnapshotId',
  'listEntryId',
  'matches',
  'matchedAlias',
  'primaryName',
  'entryHash',
  'reviewNote',
  'facts',
]);

/** Where an id of a compliance decision may be read from error details. */
function decisionIdIn(details: Readonly<Record<string, unknown>>): string | null {
  if (typeof details.decisionId === 'string') return details.decisionId;
  // Trade's refusals carry the decision to quote as their reference.
  if (typeof details.reference === 'string' && details.reference.startsWith('dec_')) {
    return details.reference;
  }
  const by = details.decidedBy;
  const match = typeof by === 'string' ? /(dec_[0-9A-Za-z]+)/.exec(by) : null;
  return match?.[1] ?? null;
}

/** An error as the server is about to send it. */
export interface ErrorForDisclosure {
  code: string;
  message: string;
  details?: Readonly<Record<string, unknown>> | undefined;
}

/**
 * An error as the caller may read it. A TRANSFER_BLOCKED (whose message lists the gate's
 * reasons) or any error whose details carry compliance detail is rewritten for a caller told the
 * outcome only: the status, the reference and the transfer's id, nothing of why.
 */
export function discloseError<E extends ErrorForDisclosure>(caller: Caller | null, error: E): E {
  if (disclosureFor(caller) === 'detail') return error;
  const details = error.details ?? {};
  const carriesDetail = Object.keys(details).some((k) => DETAIL_KEYS.has(k));
  if (error.code !== 'TRANSFER_BLOCKED' && !carriesDetail) return error;
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(details)) {
    if (!DETAIL_KEYS.has(key)) kept[key] = value;
  }
  const transferId =
    typeof details.payoutId === 'string'
      ? details.payoutId
      : typeof details.invoiceId === 'string'
        ? details.invoiceId
        : typeof details.transferId === 'string'
          ? details.transferId
          : null;
  const reference = decisionIdIn(details) ?? transferId;
  const outcome: GateOutcome = details.outcome === 'review' ? 'review' : 'block';
  const status = complianceStatus(outcome);
  const what = transferId ? `transfer ${transferId}` : 'the transfer';
  return {
    ...error,
    message: `${what} was ${complianceSummary(status, reference)}; your platform can tell you what to do next`,
    details: { ...kept, status, ...(reference ? { reference } : {}) },
  };
}

/**
 * Compliance's own work on a party (alerts raised, cases opened, screening hits, list imports,
 * clearances, monitoring): telling the party it happened is itself a tip-off.
 */
const INTERNAL_ACTIONS = /^(alert|case|screening|clearance|list|monitoring|partyHit|party_hit)\./;
const INTERNAL_ENTITIES = new Set([
  'alert',
  'case',
  'clearance',
  'listSnapshot',
  'screening',
  'partyHit',
  'party_hit',
]);

/**
 * Whether a caller may be told of an activity (an audit action on an entity): officers of every
 * kind yes; a party not of compliance's internal work on it.
 */
export function mayNotice(
  caller: Caller | null,
  activity: { action?: unknown; entityType?: unknown; topic?: string },
  owner?: { platformId: string | null },
): boolean {
  if (disclosureFor(caller, owner) === 'detail') return true;
  const action = typeof activity.action === 'string' ? activity.action : '';
  const entityType = typeof activity.entityType === 'string' ? activity.entityType : '';
  if (INTERNAL_ACTIONS.test(action) || INTERNAL_ENTITIES.has(entityType)) return false;
  if (/screen|sanction|monitor/i.test(action)) return false;
  return !(activity.topic && INTERNAL_ENTITIES.has(activity.topic));
}

/** A payload (of an event, say) without the keys that carry compliance detail, for a party. */
export function withoutDetail(
  caller: Caller | null,
  payload: Readonly<Record<string, unknown>>,
  owner?: { platformId: string | null },
): Record<string, unknown> {
  if (disclosureFor(caller, owner) === 'detail') return { ...payload };
  const kept: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(payload)) if (!DETAIL_KEYS.has(key)) kept[key] = value;
  return kept;
}

import type { GateReason, InputIssues } from '../compliance';
import { AppError, formatMoneyForPeople, money } from '../kernel';

/**
 * The refusal a transfer gets, before it is created, when all that stands in its way is what the
 * caller can mend (see the policy gate's `inputIssues`): one closed code for the most pressing
 * reason, its message naming the party by name, and every such reason in `details.inputIssues`
 * for forms. None is a screening outcome, so the company may read them (compliance's disclosure
 * rule rewrites only errors that carry one).
 *
 * And the refusal a transfer gets when the gate blocked it at creation (`refusedIfBlocked`).
 */

export interface PartyNames {
  company: { id: string; name: string };
  counterparty: { id: string; name: string };
}

/** The most pressing first: a party to verify, the address, the amount, then the Travel Rule data. */
const PRIORITY = [
  'KYC_NOT_VERIFIED',
  'ADDRESS_OWNERSHIP_UNPROVEN',
  'AMOUNT_EXCEEDS_OPEN',
  'TRAVEL_RULE_MISSING',
  'TRAVEL_RULE_INVALID',
];

export function inputRefusal(found: InputIssues, parties: PartyNames): AppError | null {
  const reasons = [...found.reasons].sort(
    (a, b) => PRIORITY.indexOf(a.code) - PRIORITY.indexOf(b.code),
  );
  const first = reasons[0];
  if (!first) return null;
  const threshold = money(found.travelRuleThreshold.minor, found.travelRuleThreshold.currency);
  const details = {
    inputIssues: reasons.map((r) => ({
      code: r.code,
      message: r.code === 'KYC_NOT_VERIFIED' ? kycMessage(r, parties) : r.message,
      field: r.field ?? null,
    })),
    travelRuleThreshold: {
      minor: threshold.minor.toString(),
      currency: threshold.currency,
      formatted: formatMoneyForPeople(threshold),
    },
  };
  switch (first.code) {
    case 'KYC_NOT_VERIFIED':
      return unverified(first, parties, details);
    case 'ADDRESS_OWNERSHIP_UNPROVEN':
      return new AppError('VALIDATION_FAILED', `address: ${first.message}`, {
        issues: [{ field: 'address', message: first.message }],
        details,
      });
    case 'AMOUNT_EXCEEDS_OPEN':
      return new AppError('AMOUNT_EXCEEDS_OPEN', first.message, { details });
    default:
      return new AppError(
        'TRAVEL_RULE_INCOMPLETE',
        first.code === 'TRAVEL_RULE_MISSING'
          ? `Travel Rule data (originator, beneficiary and their VASPs) is required at or above ${details.travelRuleThreshold.formatted}; attach it and send again`
          : `the Travel Rule data is not complete: ${reasons
              .filter((r) => r.code === 'TRAVEL_RULE_INVALID')
              .map((r) => r.message.replace(/^Travel Rule data: /, ''))
              .join('; ')}`,
        { details },
      );
  }
}

function unverified(
  reason: GateReason,
  parties: PartyNames,
  details: Record<string, unknown>,
): AppError {
  const side = sideOf(reason);
  const party = parties[side];
  const status = shownStatus(reason);
  return new AppError(
    'KYC_NOT_VERIFIED',
    `${kycMessage(reason, parties)}; it must be verified in the registry first`,
    {
      details: {
        ...details,
        party: side,
        participantId: party.id,
        participantName: party.name,
        kycStatus: status,
      },
    },
  );
}

function sideOf(reason: GateReason): 'company' | 'counterparty' {
  return reason.field?.startsWith('company') ? 'company' : 'counterparty';
}

/**
 * The verification status the refused caller is told: pending or expired (what it mends by
 * sending documents), anything else only as "not verified". A rejection can follow a screening
 * hit, and the screened party's side learns nothing of its screening.
 */
function shownStatus(reason: GateReason): string {
  const status = /is (\w+)$/.exec(reason.message)?.[1];
  return status === 'pending' || status === 'expired' ? status : 'not verified';
}

function kycMessage(reason: GateReason, parties: PartyNames): string {
  const side = sideOf(reason);
  return `${side} ${parties[side].name} has not passed ${side === 'company' ? 'KYB' : 'KYC'} verification (${shownStatus(reason)})`;
}

/**
 * A transfer the gate refused at creation is kept (an invoice as invalid, a payout as cancelled)
 * and answered with TRANSFER_BLOCKED: a reference, not the reasons, since the caller may be the
 * company (no tipping-off); officers read the reasons on the transfer and on compliance's
 * decision. A replay answers the same. `blocked` is the creation's decision when it blocked,
 * otherwise null, and the transfer is answered as it is.
 */
export function refusedIfBlocked<T extends { readonly id: string }>(
  kind: 'invoice' | 'payout',
  transfer: T,
  blocked: { readonly decisionId: string | null } | null,
): T {
  if (!blocked) return transfer;
  const reference = blocked.decisionId ?? transfer.id;
  throw new AppError(
    'TRANSFER_BLOCKED',
    `${kind} ${transfer.id} was refused by the compliance checks and kept as ${KEPT_AS[kind]} (reference ${reference})`,
    { details: { [`${kind}Id`]: transfer.id, outcome: 'block', reference } },
  );
}

const KEPT_AS = { invoice: 'invalid', payout: 'cancelled' } as const;

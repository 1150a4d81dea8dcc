import { describe, expect, it } from 'vitest';
import type { Caller, Role } from '../kernel';
import {
  complianceStatus,
  disclose,
  discloseError,
  discloseGate,
  disclosureFor,
  mayNotice,
} from './disclosure';
import type { DecisionView } from './policy/decisions';

const caller = (role: Role, participantId: string, platformId: string | null = null): Caller => ({
  role,
  participantId,
  platformId,
  actorId: `key_${participantId}`,
  personId: `usr_${participantId}`,
  requestId: null,
});

const STRUCTURING = '4 transfers within 10% under 10000.00 USD in 72 h (structuring) (score 60)';

const decision: DecisionView = {
  id: 'dec_1',
  transferId: 'pay_1',
  platformId: 'plt_a',
  companyId: 'cmp_a',
  counterpartyId: 'cpt_1',
  direction: 'outbound',
  outcome: 'review',
  finalOutcome: null,
  reviewedBy: null,
  reviewedAt: null,
  reviewNote: null,
  reasons: [
    { code: 'MONITORING_HIT', rule: 'rule.structuring@1', message: STRUCTURING, outcome: 'review' },
  ],
  listSnapshotIds: ['lst_1'],
  ruleVersions: ['rule.structuring@1'],
  monitoringScore: 60,
  decidedAt: new Date('2026-07-01T09:00:00Z'),
};

// FATF Recommendation 21 (no tipping-off): who reads why compliance held or refused a transfer.
describe('disclosure of compliance decisions', () => {
  it('gives detail to officers (a platform for its own clients only), the outcome to parties', () => {
    const cases: [Caller | null, string | null, 'detail' | 'outcome'][] = [
      [caller('supervisor', 'scheme'), 'plt_a', 'detail'],
      [caller('auditor', 'scheme'), 'plt_a', 'detail'],
      [caller('platform', 'plt_a', 'plt_a'), 'plt_a', 'detail'],
      [caller('platform', 'plt_b', 'plt_b'), 'plt_a', 'outcome'],
      [caller('company', 'cmp_a', 'plt_a'), 'plt_a', 'outcome'],
      [caller('miner', 'min_1'), 'plt_a', 'outcome'],
      [null, 'plt_a', 'outcome'],
    ];
    for (const [who, platformId, level] of cases)
      expect(disclosureFor(who, { platformId })).toBe(level);
  });

  it('names the status: held for compliance review, refused, allowed', () => {
    expect(complianceStatus('review')).toBe('held for compliance review');
    expect(complianceStatus('review', 'block')).toBe('refused');
    expect(complianceStatus('review', 'allow')).toBe('allowed');
    expect(complianceStatus('block')).toBe('refused');
  });

  it('strips a decision to its status and reference for the company', () => {
    const shown = disclose(caller('company', 'cmp_a', 'plt_a'), decision);
    expect(shown).toMatchObject({
      disclosure: 'outcome',
      status: 'held for compliance review',
      reference: 'dec_1',
      reasons: [],
      ruleVersions: [],
      listSnapshotIds: [],
      monitoringScore: null,
    });
    expect(disclose(caller('platform', 'plt_a', 'plt_a'), decision)).toMatchObject({
      disclosure: 'detail',
      reasons: decision.reasons,
      monitoringScore: 60,
    });
  });

  it("strips a transfer's gate verdict, falling back to the transfer id as reference", () => {
    const verdict = {
      outcome: 'block' as const,
      reasons: ['SANCTIONS_NAME_MATCH: matches un entry KPe.016'],
      decidedBy: 'trade.complianceGate@1',
      decisionId: null,
      resolution: null,
    };
    expect(
      discloseGate(caller('company', 'cmp_a', 'plt_a'), { platformId: 'plt_a' }, verdict, 'pay_9'),
    ).toEqual({
      ...verdict,
      reasons: [],
      decidedBy: 'compliance',
      disclosure: 'outcome',
      status: 'refused',
      reference: 'pay_9',
    });
  });

  it("rewrites a TRANSFER_BLOCKED error for the company, not for the platform's officer", () => {
    const error = {
      code: 'TRANSFER_BLOCKED',
      message: `the policy gate blocked payout pay_1: MONITORING_HIT: ${STRUCTURING}`,
      requestId: 'req-1',
      details: {
        payoutId: 'pay_1',
        outcome: 'block',
        reasons: [STRUCTURING],
        decidedBy: 'compliance.policyGate:dec_01ABC',
      },
    };
    const shown = discloseError(caller('company', 'cmp_a', 'plt_a'), error);
    expect(shown).toEqual({
      code: 'TRANSFER_BLOCKED',
      message:
        'transfer pay_1 was refused (reference dec_01ABC); your platform can tell you what to do next',
      requestId: 'req-1',
      details: { payoutId: 'pay_1', outcome: 'block', status: 'refused', reference: 'dec_01ABC' },
    });
    expect(discloseError(caller('platform', 'plt_a', 'plt_a'), error)).toBe(error);
    const other = { code: 'NOT_FOUND', message: 'no payout pay_2', details: { payoutId: 'pay_2' } };
    expect(discloseError(null, other)).toBe(other);
  });

  it("hides compliance's own work on a party from that party", () => {
    const company = caller('company', 'cmp_a', 'plt_a');
    expect(mayNotice(company, { action: 'alert.raised', entityType: 'alert' })).toBe(false);
    expect(mayNotice(company, { action: 'case.opened', entityType: 'case' })).toBe(false);
    expect(mayNotice(company, { action: 'screening.listed', entityType: 'party' })).toBe(false);
    expect(mayNotice(company, { action: 'payout.created', entityType: 'payout' })).toBe(true);
    expect(mayNotice(caller('supervisor', 'scheme'), { action: 'alert.raised' })).toBe(true);
  });
});

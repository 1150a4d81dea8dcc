import { pgView } from 'drizzle-orm/pg-core';
import { alerts, cases, decisions, partyHits } from './schema';

/**
 * Compliance's published read models: PostgreSQL views over compliance's tables with only the
 * columns oversight's reports and home pages read. Its tables stay private. drizzle-kit creates
 * the views from these declarations, so a renamed column fails the typecheck here.
 */

/**
 * Alerts with the severity compliance stores on each (`alertSeverity`: a screening hit is
 * critical, sanctioned exposure at least high), so reports and the alerts list agree.
 */
export const complianceAlertFacts = pgView('compliance_alert_facts').as((qb) =>
  qb
    .select({
      id: alerts.id,
      caseId: alerts.caseId,
      kind: alerts.kind,
      rule: alerts.rule,
      severity: alerts.severity,
      createdAt: alerts.createdAt,
    })
    .from(alerts),
);

/** Cases: whose, in which state, with which outcome, opened when. */
export const complianceCaseFacts = pgView('compliance_case_facts').as((qb) =>
  qb
    .select({
      id: cases.id,
      partyId: cases.partyId,
      state: cases.state,
      outcome: cases.outcome,
      openedAt: cases.openedAt,
    })
    .from(cases),
);

/** The gate's decisions: who, which way, what outcome, when (never the reasons or facts). */
export const complianceDecisionFacts = pgView('compliance_decision_facts').as((qb) =>
  qb
    .select({
      id: decisions.id,
      transferId: decisions.transferId,
      platformId: decisions.platformId,
      companyId: decisions.companyId,
      counterpartyId: decisions.counterpartyId,
      direction: decisions.direction,
      outcome: decisions.outcome,
      decidedAt: decisions.decidedAt,
    })
    .from(decisions),
);

/** Screening hits on registered parties, with their review state, for a platform's queue. */
export const complianceHitFacts = pgView('compliance_hit_facts').as((qb) =>
  qb
    .select({
      id: partyHits.id,
      partyId: partyHits.partyId,
      platformId: partyHits.platformId,
      subject: partyHits.subject,
      source: partyHits.source,
      matchedName: partyHits.matchedName,
      score: partyHits.score,
      status: partyHits.status,
      review: partyHits.review,
      listedAt: partyHits.listedAt,
    })
    .from(partyHits),
);

/**
 * Recording a batch of the policy gate's decisions: the rows prepared by batch.ts and their
 * audit events, in one statement (which commits them, outside a caller's transaction) or, when
 * monitoring raises alerts, in one transaction with the alerts and their cases.
 */
import { sql } from 'drizzle-orm';
import type { Caller, Clock, Random } from '../../kernel';
import type { Orm } from '../../db';
import { lockAuditHead, recordAuditBatch, type AuditEntry } from '../../audit';
import { raiseAlert } from '../cases/alerts';
import { inTransaction, ormOf, type Decided, type Place, type Prepared } from './batch';
import type { PolicyDecision } from './types';

type CallerEntry = { caller: Caller; entry: AuditEntry };

/**
 * Writes a prepared batch: outside a caller's transaction, one statement writes the rows and
 * appends the audit events (committing them) — or, when monitoring raises alerts, one
 * transaction. Returns the batch's decisions, in order.
 */
export async function recordBatch(
  place: Place,
  prepared: Extract<Prepared, { done: false }>,
  ports: { clock: Clock; random: Random },
): Promise<PolicyDecision[]> {
  const { decided, writes } = prepared;
  const orm = ormOf(place);
  // The audit events, each decision's alert events before its own, in order. Without alerts
  // one statement writes the rows and appends the events (committing them, outside a caller's
  // transaction); monitoring alerts (into a case) are raised after the rows they point to are
  // written, in one transaction with them. Either way the rows are written while the audit
  // head lock is held (taken by the statement's audit part, whose AFTER triggers fire at its
  // end, or beforehand): the exposure table's trigger relies on writers being serialized.
  if (!decided.some((d) => d.monitoring.outcome !== 'allow')) {
    await recordAuditBatch(
      orm,
      ports.clock,
      decided.flatMap((d) => auditEntries(d, [])),
      writes,
    );
  } else {
    await inTransaction(place, async (tx) => {
      // Transfers are written under the audit head lock (the exposure trigger relies on it).
      await lockAuditHead(tx);
      await tx.execute(sql`with ${writes} select 1`);
      const audits: CallerEntry[] = [];
      for (const d of decided) {
        const alertEntries: AuditEntry[] = [];
        if (d.monitoring.outcome !== 'allow') await raiseAlerts(tx, d, ports, alertEntries);
        audits.push(...auditEntries(d, alertEntries));
      }
      await recordAuditBatch(tx, ports.clock, audits);
    });
  }
  return decided.map((d) => d.decision);
}

/** A decision's audit events: its alerts' first, then its own. */
function auditEntries(d: Decided, alertEntries: AuditEntry[]): CallerEntry[] {
  return [
    ...alertEntries,
    {
      action: 'decision.made',
      entityType: 'decision',
      entityId: d.decision.decisionId,
      after: {
        transferId: d.request.facts.transferId,
        outcome: d.decision.outcome,
        reasons: d.decision.reasons,
        listSnapshotIds: d.decision.listSnapshotIds,
        ruleVersions: d.decision.ruleVersions,
      },
    },
  ].map((entry) => ({ caller: d.request.caller, entry }));
}

/** An alert (into a case) for each monitoring hit of a decision, its audit events deferred. */
async function raiseAlerts(
  tx: Orm,
  d: Decided,
  ports: { clock: Clock; random: Random },
  alertEntries: AuditEntry[],
): Promise<void> {
  const { caller, facts } = d.request;
  for (const hit of d.monitoring.results.filter((r) => r.outcome === 'hit')) {
    await raiseAlert(
      tx,
      caller,
      ports.clock,
      ports.random,
      {
        partyId: facts.company.id,
        platformId: facts.platform.id,
        kind: 'monitoring',
        rule: hit.rule,
        score: hit.score,
        message: hit.reason,
        transferId: facts.transferId,
        decisionId: d.decision.decisionId,
      },
      alertEntries,
    );
  }
}

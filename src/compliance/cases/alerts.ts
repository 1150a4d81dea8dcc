/**
 * Raising an alert: alerts group into one open case per party (a partial unique index in the
 * database keeps it to one), created on the first alert. Runs inside the caller's transaction.
 *
 * `deferAudit`: when given, the audit events are pushed there instead of appended at once, so
 * that the caller appends them last in its transaction (the audit head row lock serializes every
 * writer of the platform until commit; taking it last keeps it held briefly).
 */
import { and, eq, ne } from 'drizzle-orm';
import { newId, type Caller, type Clock, type Random } from '../../kernel';
import type { Database, Orm } from '../../db';
import { AuditLog, type AuditEntry } from '../../audit';
import { alerts, cases, caseTransfers } from '../schema';

export const ALERT_SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/**
 * The severity stored on an alert, so that officers triage the worst first:
 * - a sanctions screening hit (kind `screening`: a registered party or address matches a list
 *   entry) is `critical`, whatever its score — it blocks transfers outright;
 * - monitoring, by the rule's score (the default rule set scores 10–80, review at 50):
 *   score ≥ 60 → `high`, ≥ 30 → `medium`, below → `low`;
 * - exposure to a sanctioned address (`rule.sanctioned-exposure@…`) is at least `high`, however
 *   many hops away (its score halves per hop);
 * - another module's hold for the supervisor (kind `clearing`: a settlement window's pay-out
 *   held) by its score as monitoring's (raised at 60: `high`).
 */
export type AlertKind = 'monitoring' | 'screening' | 'clearing';

export function alertSeverity(input: {
  kind: AlertKind;
  rule: string;
  score: number;
}): AlertSeverity {
  if (input.kind === 'screening') return 'critical';
  const byScore: AlertSeverity = input.score >= 60 ? 'high' : input.score >= 30 ? 'medium' : 'low';
  if (input.rule.startsWith('rule.sanctioned-exposure@') && byScore !== 'high') return 'high';
  return byScore;
}

export interface AlertInput {
  partyId: string;
  platformId: string | null;
  kind: AlertKind;
  rule: string;
  score: number;
  message: string;
  transferId?: string | null;
  decisionId?: string | null;
  /**
   * What the alert is about, when it is raised once: while an alert of this subject sits in the
   * party's open case, that one is returned (`raised` false) and nothing is written.
   */
  subject?: string | null;
}

export async function raiseAlert(
  tx: Orm,
  caller: Caller,
  clock: Clock,
  random: Random,
  input: AlertInput,
  /** The audit writer (in the caller's unit of work), or a list the caller appends in its batch. */
  audits: AuditLog | AuditEntry[],
): Promise<{ alertId: string; caseId: string; caseCreated: boolean; raised: boolean }> {
  const audit = async (entry: AuditEntry): Promise<void> => {
    if (Array.isArray(audits)) audits.push(entry);
    else await audits.record(caller, entry);
  };
  const now = clock.now();
  const [open] = await tx
    .select({ id: cases.id })
    .from(cases)
    .where(and(eq(cases.partyId, input.partyId), ne(cases.state, 'closed')))
    .for('update');
  let caseId = open?.id;
  let caseCreated = false;
  // Raised once per subject while open: the case is locked, so a second raiser waits and sees it.
  if (caseId !== undefined && input.subject) {
    const [same] = await tx
      .select({ id: alerts.id })
      .from(alerts)
      .where(and(eq(alerts.caseId, caseId), eq(alerts.subject, input.subject)))
      .limit(1);
    if (same) return { alertId: same.id, caseId, caseCreated: false, raised: false };
  }
  if (caseId === undefined) {
    caseId = newId('case', now, random);
    caseCreated = true;
    const row = {
      id: caseId,
      partyId: input.partyId,
      platformId: input.platformId,
      state: 'open',
      outcome: null,
      assignee: null,
      notes: [],
      openedAt: now,
      closedAt: null,
    };
    // Two raisers for a party with no open case would both insert one; the second waits for the
    // first and, the first committed, finds the party's open case taken (one open case per party):
    // it raises into that case instead of failing its whole unit.
    const opened = await tx
      .insert(cases)
      .values(row)
      .onConflictDoNothing()
      .returning({ id: cases.id });
    if (opened.length === 0) return raiseAlert(tx, caller, clock, random, input, audits);
    await audit({ action: 'case.opened', entityType: 'case', entityId: caseId, after: row });
  }
  const alertId = newId('alert', now, random);
  const alert = {
    id: alertId,
    partyId: input.partyId,
    platformId: input.platformId,
    caseId,
    kind: input.kind,
    rule: input.rule,
    score: input.score,
    message: input.message,
    transferId: input.transferId ?? null,
    decisionId: input.decisionId ?? null,
    subject: input.subject ?? null,
    createdAt: now,
  };
  await tx.insert(alerts).values(alert);
  if (input.transferId) {
    await tx
      .insert(caseTransfers)
      .values({ caseId, transferId: input.transferId })
      .onConflictDoNothing();
  }
  await audit({ action: 'alert.raised', entityType: 'alert', entityId: alertId, after: alert });
  return { alertId, caseId, caseCreated, raised: true };
}

/**
 * A note added to a case inside the caller's transaction (another module's decision on what the
 * case's alert was raised for), audited `case.updated` as a note added through `CaseService`.
 * A closed case is not reopened nor written to: `noted` is false, and the caller keeps the
 * decision in its own audit event.
 */
export async function noteCase(
  tx: Orm,
  caller: Caller,
  { clock, audit }: { clock: Clock; audit: AuditLog },
  caseId: string,
  text: string,
): Promise<{ noted: boolean }> {
  const [row] = await tx.select().from(cases).where(eq(cases.id, caseId)).for('update');
  if (!row || row.state === 'closed') return { noted: false };
  const before = row.notes as { at: string; by: string; text: string }[];
  const notes = [...before, { at: clock.now().toISOString(), by: caller.actorId, text }];
  await tx.update(cases).set({ notes }).where(eq(cases.id, caseId));
  await audit.record(caller, {
    action: 'case.updated',
    entityType: 'case',
    entityId: caseId,
    before: { notes: before },
    after: { notes, linkedTransfers: [] },
  });
  return { noted: true };
}

/**
 * Alerts other modules raise for the supervisor in their unit of work (a settlement window's
 * pay-out held, say), once per `subject`: while an alert of that subject sits in the party's open
 * case it is returned (`raised` false) and nothing is written; once that case is closed, a new one
 * is raised. Into the party's open case, as every alert, for the supervisor's alerts list (alerts
 * and cases are the supervisor's and auditors' only). Refused outside a transaction: the alert
 * commits with what it explains. Kind `screening` is critical, `clearing` graded by its score.
 */
export class RaisedAlerts {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #audit: AuditLog;

  constructor(deps: { db: Database; clock: Clock; random: Random }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random;
    this.#audit = new AuditLog(deps);
  }

  async raiseAlertOnce(
    caller: Caller,
    input: AlertInput & { subject: string },
  ): Promise<{ alertId: string; caseId: string; raised: boolean }> {
    const raised = await raiseAlert(
      this.#db.currentUnit('raiseAlertOnce'),
      caller,
      this.#clock,
      this.#random,
      input,
      this.#audit,
    );
    return { alertId: raised.alertId, caseId: raised.caseId, raised: raised.raised };
  }

  /** `closeClearedAlerts` in the caller's unit of work (refused outside one). */
  async closeClearedAlerts(
    caller: Caller,
    input: { partyId: string; subjects: readonly string[]; note: string },
  ): Promise<{ caseId: string; closed: boolean } | null> {
    return closeClearedAlerts(
      this.#db.currentUnit('closeClearedAlerts'),
      caller,
      { clock: this.#clock, audit: this.#audit },
      input,
    );
  }
}

/**
 * Another module's holds whose alerts it raised once per subject have cleared (a settlement
 * window's held pay-out was paid): the party's open case is noted with `note`, and closed (outcome
 * `confirmed`: the alerts were right, and what they held is resolved) only when every alert in it
 * is one of `subjects` and none is a screening alert, and no person has taken the case up (state
 * `open`, no assignee); any other case stays open for the supervisor, noted.
 * Audited as `CaseService` would (`case.closed` or `case.updated`). Null when the party has no open
 * case holding an alert of these subjects.
 */
export async function closeClearedAlerts(
  tx: Orm,
  caller: Caller,
  { clock, audit }: { clock: Clock; audit: AuditLog },
  input: { partyId: string; subjects: readonly string[]; note: string },
): Promise<{ caseId: string; closed: boolean } | null> {
  if (input.subjects.length === 0) return null;
  const [row] = await tx
    .select()
    .from(cases)
    .where(and(eq(cases.partyId, input.partyId), ne(cases.state, 'closed')))
    .for('update');
  if (!row) return null;
  const inCase = await tx
    .select({ subject: alerts.subject, kind: alerts.kind })
    .from(alerts)
    .where(eq(alerts.caseId, row.id));
  const cleared = new Set(input.subjects);
  if (!inCase.some((a) => a.subject !== null && cleared.has(a.subject))) return null;
  // Closed by the system only when nothing in it asks a person: every alert one of the holds
  // cleared, none a screening finding (paying another address does not resolve a hit on the
  // first: an officer decides that), and nobody has taken the case up (still `open`, unassigned).
  const closed =
    row.state === 'open' &&
    row.assignee === null &&
    inCase.every((a) => a.subject !== null && cleared.has(a.subject) && a.kind !== 'screening');
  const now = clock.now();
  const before = row.notes as { at: string; by: string; text: string }[];
  const notes = [...before, { at: now.toISOString(), by: caller.actorId, text: input.note }];
  const next = closed ? { state: 'closed', outcome: 'confirmed', closedAt: now, notes } : { notes };
  await tx.update(cases).set(next).where(eq(cases.id, row.id));
  await audit.record(caller, {
    action: closed ? 'case.closed' : 'case.updated',
    entityType: 'case',
    entityId: row.id,
    before: { state: row.state, outcome: row.outcome, notes: before },
    after: { ...next, state: closed ? 'closed' : row.state, linkedTransfers: [] },
  });
  return { caseId: row.id, closed };
}

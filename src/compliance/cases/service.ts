/**
 * Cases: alerts grouped per party; states open → investigating → closed with an outcome
 * (confirmed, falsePositive, reported), an assignee, notes and linked transfers; a closed
 * reported case exports as a goAML STR. Cases are for the supervisor (and the auditor reads
 * them): a party must never learn it is under investigation (FATF R.21, tipping-off).
 */
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { AppError, type Caller, type Clock } from '../../kernel';
import { keyset, keysetOn, pageOf, type Database, type Page, type PageRequest } from '../../db';
import { AuditLog } from '../../audit';
import { alerts, cases, caseTransfers, complianceTransfers } from '../schema';
import { buildGoamlStr, type GoamlConfig } from './goaml';
import { previewOf, strInputOf, type GoamlPreview, type RegistrationLookup } from './report';
import type { AlertSeverity } from './alerts';
import { caseSummaries, type CaseSummary } from './summaries';

export const CASE_STATES = ['open', 'investigating', 'closed'] as const;
export const CASE_OUTCOMES = ['confirmed', 'falsePositive', 'reported'] as const;
export type CaseState = (typeof CASE_STATES)[number];
export type CaseOutcome = (typeof CASE_OUTCOMES)[number];

export interface CaseNote {
  at: string;
  by: string;
  text: string;
}

export interface CaseView {
  id: string;
  partyId: string;
  platformId: string | null;
  state: CaseState;
  outcome: CaseOutcome | null;
  assignee: string | null;
  notes: CaseNote[];
  openedAt: Date;
  closedAt: Date | null;
}

/** A case with what it is triaged by (severity, alert count, exposure). */
export type CaseListItem = CaseView & CaseSummary;

const NO_SUMMARY: CaseSummary = { severity: null, alertCount: 0, exposure: [] };

/**
 * A case with how many transfers are linked to it; its alerts and its linked transfers are lists
 * of their own (`alerts({ caseId })`, `caseTransfers`).
 */
export interface CaseDetail extends CaseListItem {
  transferCount: number;
}

/** A case with every alert and linked transfer: the evidence of a goAML report, one document. */
export interface CaseDossier extends CaseDetail {
  transferIds: string[];
  alerts: Array<{
    id: string;
    kind: string;
    rule: string;
    score: number;
    severity: AlertSeverity;
    message: string;
    transferId: string | null;
    decisionId: string | null;
    /** The fiat value of the alert's transfer, as the gate valued it. */
    amount: { minor: bigint; currency: string } | null;
    createdAt: Date;
  }>;
}

/** An alert with the state of the case it sits in (an alert is open while its case is). */
export interface AlertView {
  id: string;
  partyId: string;
  platformId: string | null;
  caseId: string;
  caseState: CaseState;
  kind: string;
  rule: string;
  score: number;
  severity: AlertSeverity;
  message: string;
  transferId: string | null;
  decisionId: string | null;
  /** The fiat value of the alert's transfer, as the gate valued it (null: no transfer). */
  amount: { minor: bigint; currency: string } | null;
  createdAt: Date;
}

export interface AlertFilter {
  /** The state of the alert's case. */
  state?: CaseState;
  rule?: string;
  severity?: AlertSeverity;
  partyId?: string;
  /** The case the alerts sit in. */
  caseId?: string;
}

const NEXT: Record<CaseState, readonly CaseState[]> = {
  open: ['investigating'],
  investigating: ['closed'],
  closed: [],
};

function view(row: typeof cases.$inferSelect): CaseView {
  return {
    id: row.id,
    partyId: row.partyId,
    platformId: row.platformId,
    state: row.state as CaseState,
    outcome: row.outcome as CaseOutcome | null,
    assignee: row.assignee,
    notes: row.notes as CaseNote[],
    openedAt: row.openedAt,
    closedAt: row.closedAt,
  };
}

function requireReader(caller: Caller): void {
  if (caller.role !== 'supervisor' && caller.role !== 'auditor') {
    throw new AppError(
      'FORBIDDEN',
      `cases are for the supervisor and auditor; the caller is a ${caller.role}`,
    );
  }
}

/** Whether an id names a person a case may be assigned to (the supervisor's staff, able to act). */
export type AssigneeCheck = (id: string) => Promise<boolean>;

export class CaseService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;
  readonly #goaml: GoamlConfig;
  readonly #schemeCountry: () => Promise<string | null>;
  readonly #registrations: RegistrationLookup;
  readonly #isAssignable: AssigneeCheck;

  constructor(deps: {
    db: Database;
    clock: Clock;
    goaml: GoamlConfig;
    schemeCountry?: () => Promise<string | null>;
    registrations?: RegistrationLookup;
    /** Whether an id names a person a case may be assigned to; without it, nobody may be. */
    isAssignable?: AssigneeCheck;
  }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
    this.#goaml = deps.goaml;
    this.#schemeCountry = deps.schemeCountry ?? (() => Promise.resolve(null));
    this.#registrations = deps.registrations ?? (() => Promise.resolve(new Map()));
    this.#isAssignable = deps.isAssignable ?? (() => Promise.resolve(false));
  }

  /**
   * A page of the cases, newest first (keyset on opened_at, id), filtered in the query: a case
   * behind many newer ones is still found by its state or party.
   */
  async list(
    caller: Caller,
    filter: { state?: CaseState; partyId?: string } = {},
    page: PageRequest = {},
  ): Promise<Page<CaseListItem>> {
    requireReader(caller);
    const { after, orderBy, read, limit } = keyset(
      { createdAt: cases.openedAt, id: cases.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(cases)
      .where(
        and(
          filter.state ? eq(cases.state, filter.state) : undefined,
          filter.partyId ? eq(cases.partyId, filter.partyId) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    const shown = await pageOf(
      rows,
      limit,
      (r) => r.map(view),
      (row) => ({ createdAt: row.openedAt, id: row.id }),
    );
    const summaries = await caseSummaries(
      this.#db.orm,
      shown.items.map((c) => c.id),
    );
    return {
      ...shown,
      items: shown.items.map((c) => ({ ...c, ...(summaries.get(c.id) ?? NO_SUMMARY) })),
    };
  }

  /**
   * A page of the alerts, newest first (keyset on created_at, id), filtered by case state, rule,
   * severity and party in the query (supervisor, auditor).
   */
  async alerts(
    caller: Caller,
    filter: AlertFilter = {},
    page: PageRequest = {},
  ): Promise<Page<AlertView>> {
    requireReader(caller);
    const { after, orderBy, read, limit } = keyset(alerts, page);
    const rows = await this.#db.orm
      .select({
        alert: alerts,
        caseState: cases.state,
        fiatMinor: complianceTransfers.fiatMinor,
        fiatCurrency: complianceTransfers.fiatCurrency,
      })
      .from(alerts)
      .innerJoin(cases, eq(cases.id, alerts.caseId))
      .leftJoin(complianceTransfers, eq(complianceTransfers.transferId, alerts.transferId))
      .where(
        and(
          filter.state ? eq(cases.state, filter.state) : undefined,
          filter.rule ? eq(alerts.rule, filter.rule) : undefined,
          filter.severity ? eq(alerts.severity, filter.severity) : undefined,
          filter.partyId ? eq(alerts.partyId, filter.partyId) : undefined,
          filter.caseId ? eq(alerts.caseId, filter.caseId) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) =>
        shown.map(({ alert, caseState, fiatMinor, fiatCurrency }) => ({
          id: alert.id,
          partyId: alert.partyId,
          platformId: alert.platformId,
          caseId: alert.caseId,
          caseState: caseState as CaseState,
          kind: alert.kind,
          rule: alert.rule,
          score: alert.score,
          severity: alert.severity as AlertSeverity,
          message: alert.message,
          transferId: alert.transferId,
          decisionId: alert.decisionId,
          amount:
            fiatMinor !== null && fiatCurrency !== null
              ? { minor: fiatMinor, currency: fiatCurrency }
              : null,
          createdAt: alert.createdAt,
        })),
      ({ alert }) => alert,
    );
  }

  /** A page of one case's alerts, newest first (CASE_NOT_FOUND for no such case). */
  async caseAlerts(caller: Caller, id: string, page: PageRequest = {}): Promise<Page<AlertView>> {
    requireReader(caller);
    const [row] = await this.#db.orm.select({ id: cases.id }).from(cases).where(eq(cases.id, id));
    if (!row) throw new AppError('CASE_NOT_FOUND', `no case ${id}`);
    return this.alerts(caller, { caseId: id }, page);
  }

  /**
   * A page of the transfers linked to a case, by transfer id ascending (keyset on the links'
   * primary key (case_id, transfer_id)); CASE_NOT_FOUND for no such case.
   */
  async caseTransfers(
    caller: Caller,
    id: string,
    page: PageRequest = {},
  ): Promise<Page<{ transferId: string }>> {
    requireReader(caller);
    const [row] = await this.#db.orm.select({ id: cases.id }).from(cases).where(eq(cases.id, id));
    if (!row) throw new AppError('CASE_NOT_FOUND', `no case ${id}`);
    const {
      after,
      orderBy,
      read,
      page: pageOfRows,
    } = keysetOn<{ transferId: string }>(
      [{ column: caseTransfers.transferId, kind: 'text', value: (r) => r.transferId }],
      'asc',
      page,
    );
    const rows = await this.#db.orm
      .select({ transferId: caseTransfers.transferId })
      .from(caseTransfers)
      .where(and(eq(caseTransfers.caseId, id), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOfRows(rows, (shown) => shown.map((r) => ({ transferId: r.transferId })));
  }

  /** One case with what it is triaged by and how many transfers it links (both lists: own routes). */
  async get(caller: Caller, id: string): Promise<CaseDetail> {
    requireReader(caller);
    const [row] = await this.#db.orm.select().from(cases).where(eq(cases.id, id));
    if (!row) throw new AppError('CASE_NOT_FOUND', `no case ${id}`);
    const [links] = await this.#db.orm
      .select({ count: sql<number>`count(*)::int` })
      .from(caseTransfers)
      .where(eq(caseTransfers.caseId, id));
    const summary = (await caseSummaries(this.#db.orm, [id])).get(id) ?? NO_SUMMARY;
    return { ...view(row), ...summary, transferCount: Number(links?.count ?? 0) };
  }

  /** A case with every alert and linked transfer, oldest first: what a goAML report is built from. */
  async #dossier(caller: Caller, id: string): Promise<CaseDossier> {
    const detail = await this.get(caller, id);
    const links = await this.#db.orm
      .select({ transferId: caseTransfers.transferId })
      .from(caseTransfers)
      .where(eq(caseTransfers.caseId, id))
      .orderBy(asc(caseTransfers.transferId));
    const alertRows = await this.#db.orm
      .select({
        a: alerts,
        fiatMinor: complianceTransfers.fiatMinor,
        fiatCurrency: complianceTransfers.fiatCurrency,
      })
      .from(alerts)
      .leftJoin(complianceTransfers, eq(complianceTransfers.transferId, alerts.transferId))
      .where(eq(alerts.caseId, id))
      .orderBy(asc(alerts.createdAt), asc(alerts.id));
    return {
      ...detail,
      transferIds: links.map((l) => l.transferId),
      alerts: alertRows.map(({ a, fiatMinor, fiatCurrency }) => ({
        id: a.id,
        kind: a.kind,
        rule: a.rule,
        score: a.score,
        severity: a.severity as AlertSeverity,
        message: a.message,
        transferId: a.transferId,
        decisionId: a.decisionId,
        amount:
          fiatMinor !== null && fiatCurrency !== null
            ? { minor: fiatMinor, currency: fiatCurrency }
            : null,
        createdAt: a.createdAt,
      })),
    };
  }

  /** Moves a case on (open → investigating → closed), assigns it, adds a note or links transfers. */
  async update(
    caller: Caller,
    id: string,
    change: {
      state?: CaseState;
      outcome?: CaseOutcome;
      assignee?: string | null;
      note?: string;
      linkTransferIds?: string[];
    },
  ): Promise<CaseView> {
    if (caller.role !== 'supervisor') {
      throw new AppError(
        'FORBIDDEN',
        `only the supervisor works cases; the caller is a ${caller.role}`,
      );
    }
    // A case is assigned to a person of the supervisor's staff, by id: not to a role or a login
    // name typed by hand. Asked before the case is locked (the staff are another module's).
    if (typeof change.assignee === 'string' && !(await this.#isAssignable(change.assignee))) {
      throw new AppError(
        'VALIDATION_FAILED',
        `assignee: "${change.assignee}" is not a person of the supervisor's staff; pick one from GET /v1/cases/assignees`,
        { issues: [{ field: 'assignee', message: "is not a person of the supervisor's staff" }] },
      );
    }
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.select().from(cases).where(eq(cases.id, id)).for('update');
      if (!row) throw new AppError('CASE_NOT_FOUND', `no case ${id}`);
      const before = view(row);
      const now = this.#clock.now();
      const next = { ...before, notes: [...before.notes] };
      if (change.state && change.state !== before.state) {
        if (!NEXT[before.state].includes(change.state)) {
          throw new AppError(
            'INVALID_STATE_TRANSITION',
            `a case goes open → investigating → closed; it cannot go from ${before.state} to ${change.state}`,
          );
        }
        next.state = change.state;
        if (change.state === 'closed') {
          if (!change.outcome) {
            throw new AppError(
              'VALIDATION_FAILED',
              `outcome: closing a case needs an outcome (${CASE_OUTCOMES.join(', ')})`,
              {
                issues: [{ field: 'outcome', message: 'is required to close a case' }],
              },
            );
          }
          next.outcome = change.outcome;
          next.closedAt = now;
        }
      } else if (change.outcome) {
        throw new AppError(
          'VALIDATION_FAILED',
          'outcome: an outcome is given only when closing the case',
          {
            issues: [{ field: 'outcome', message: 'only with state "closed"' }],
          },
        );
      }
      if (
        before.state === 'closed' &&
        (change.note || change.assignee !== undefined || change.linkTransferIds)
      ) {
        throw new AppError('INVALID_STATE_TRANSITION', `case ${id} is closed`);
      }
      if (change.assignee !== undefined) next.assignee = change.assignee;
      if (change.note)
        next.notes.push({ at: now.toISOString(), by: caller.actorId, text: change.note });
      if (change.linkTransferIds?.length) {
        const known = await tx
          .select({ id: complianceTransfers.transferId })
          .from(complianceTransfers)
          .where(inArray(complianceTransfers.transferId, change.linkTransferIds));
        const missing = change.linkTransferIds.filter((t) => !known.some((k) => k.id === t));
        if (missing.length)
          throw new AppError('NOT_FOUND', `no decided transfer ${missing.join(', ')}`);
        await tx
          .insert(caseTransfers)
          .values(change.linkTransferIds.map((transferId) => ({ caseId: id, transferId })))
          .onConflictDoNothing();
      }
      await tx
        .update(cases)
        .set({
          state: next.state,
          outcome: next.outcome,
          assignee: next.assignee,
          notes: next.notes,
          closedAt: next.closedAt,
        })
        .where(eq(cases.id, id));
      await this.#audit.record(caller, {
        action: next.state !== before.state ? `case.${next.state}` : 'case.updated',
        entityType: 'case',
        entityId: id,
        before,
        after: { ...next, linkedTransfers: change.linkTransferIds ?? [] },
      });
      return next;
    });
  }

  /** The goAML STR of a closed, reported case, as filed with the FIU. */
  async exportGoaml(caller: Caller, id: string): Promise<string> {
    requireReader(caller);
    const detail = await this.#dossier(caller, id);
    if (detail.state !== 'closed' || detail.outcome !== 'reported') {
      throw new AppError(
        'CONFLICT',
        `only a closed case with outcome "reported" is exported as an STR; case ${id} is ${detail.state}${detail.outcome ? ` (${detail.outcome})` : ''}`,
      );
    }
    return buildGoamlStr(this.#goaml, await this.#strInput(detail));
  }

  /** The goAML STR the case would file now, with what stops it: read before filing. */
  async previewGoaml(caller: Caller, id: string): Promise<GoamlPreview> {
    requireReader(caller);
    return previewOf(this.#goaml, await this.#strInput(await this.#dossier(caller, id)));
  }

  async #strInput(detail: CaseDossier) {
    return strInputOf(this.#db.orm, detail, {
      submittedAt: this.#clock.now(),
      schemeCountry: await this.#schemeCountry(),
      registrations: this.#registrations,
    });
  }
}

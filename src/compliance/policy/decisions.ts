/**
 * Stored gate decisions: reading them (scoped to the caller) and an officer's resolution of a
 * review. Only a `review` can be resolved: a block (a sanctions hit among them) stays a block.
 */
import { and, eq, isNull, ne, sql } from 'drizzle-orm';
import { AppError, type Caller, type Clock } from '../../kernel';
import { keyset, pageOf, scopeTo, type Database, type Page, type PageRequest } from '../../db';
import { AuditLog } from '../../audit';
import { publish } from '../../events';
import { decisions, travelRuleMessages } from '../schema';
import type { Ivms101Payload } from '../../kernel';
import type { GateOutcome, GateReason } from './types';

/** IVMS101 data one platform of the scheme sent another through Tradeclear (FATF R.16). */
export interface TravelRuleMessageView {
  id: string;
  transferId: string;
  decisionId: string;
  fromPlatformId: string;
  toPlatformId: string;
  payload: Ivms101Payload;
  createdAt: Date;
}

export interface DecisionView {
  id: string;
  transferId: string;
  platformId: string;
  companyId: string;
  counterpartyId: string;
  direction: string;
  outcome: GateOutcome;
  /** What the transfer may do now: the outcome, or for a review the officer's resolution (null while waiting). */
  finalOutcome: 'allow' | 'block' | null;
  reviewedBy: string | null;
  reviewedAt: Date | null;
  reviewNote: string | null;
  reasons: GateReason[];
  listSnapshotIds: string[];
  ruleVersions: string[];
  monitoringScore: number;
  decidedAt: Date;
}

function view(row: typeof decisions.$inferSelect): DecisionView {
  const outcome = row.outcome as GateOutcome;
  const review = row.reviewOutcome as 'allow' | 'block' | null;
  return {
    id: row.id,
    transferId: row.transferId,
    platformId: row.platformId,
    companyId: row.companyId,
    counterpartyId: row.counterpartyId,
    direction: row.direction,
    outcome,
    finalOutcome: outcome === 'review' ? review : outcome,
    reviewedBy: row.reviewedBy,
    reviewedAt: row.reviewedAt,
    reviewNote: row.reviewNote,
    reasons: row.reasons as GateReason[],
    listSnapshotIds: row.listSnapshotIds as string[],
    ruleVersions: row.ruleVersions as string[],
    monitoringScore: row.monitoringScore,
    decidedAt: row.decidedAt,
  };
}

/**
 * Announced when an officer resolves a review (payload `DecisionResolved`): the module that
 * holds the transfer carries the resolution through.
 */
export const DECISION_RESOLVED = 'compliance.decision.resolved';

export interface DecisionResolved {
  decisionId: string;
  transferId: string;
  outcome: 'allow' | 'block';
}

export class DecisionService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;

  constructor(deps: { db: Database; clock: Clock }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#audit = new AuditLog(deps);
  }

  #scope(caller: Caller) {
    return scopeTo(caller, { participant: decisions.companyId, platform: decisions.platformId });
  }

  /** A page of the decisions visible to the caller, newest first (keyset on decided_at, id). */
  async list(
    caller: Caller,
    filter: {
      outcome?: GateOutcome;
      pendingReview?: boolean;
      /** Only the transfers the gate stopped: blocked or held for review. */
      attention?: boolean;
      transferId?: string;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<DecisionView>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: decisions.decidedAt, id: decisions.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(decisions)
      .where(
        and(
          this.#scope(caller),
          filter.outcome ? eq(decisions.outcome, filter.outcome) : undefined,
          filter.transferId ? eq(decisions.transferId, filter.transferId) : undefined,
          // In SQL, not after the read: a review waiting beyond the first rows is still found.
          filter.pendingReview
            ? and(eq(decisions.outcome, 'review'), isNull(decisions.reviewOutcome))
            : undefined,
          filter.attention ? ne(decisions.outcome, 'allow') : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(view),
      (row) => ({ createdAt: row.decidedAt, id: row.id }),
    );
  }

  /** How many decisions the gate recorded, and how many of them blocked the transfer. */
  async counts(): Promise<{ total: number; blocked: number }> {
    const [row] = await this.#db.orm
      .select({
        total: sql<string>`count(*)`,
        blocked: sql<string>`count(*) filter (where ${decisions.outcome} = 'block')`,
      })
      .from(decisions);
    return { total: Number(row?.total ?? 0), blocked: Number(row?.blocked ?? 0) };
  }

  async get(caller: Caller, id: string): Promise<DecisionView> {
    const [row] = await this.#db.orm
      .select()
      .from(decisions)
      .where(and(eq(decisions.id, id), this.#scope(caller)));
    if (!row) throw new AppError('NOT_FOUND', `no decision ${id} visible to the caller`);
    return view(row);
  }

  /** The officer's decision on a transfer the gate sent to review. */
  async resolveReview(
    caller: Caller,
    id: string,
    input: { outcome: 'allow' | 'block'; note: string },
  ): Promise<DecisionView> {
    if (caller.role !== 'supervisor') {
      throw new AppError(
        'FORBIDDEN',
        `only a supervisor officer resolves reviews; the caller is a ${caller.role}`,
      );
    }
    const note = input.note.trim();
    if (note.length < 10) {
      throw new AppError('VALIDATION_FAILED', 'note must say why (at least 10 characters)', {
        issues: [{ field: 'note', message: 'must be at least 10 characters' }],
      });
    }
    return this.#db.transaction(async (tx) => {
      const [row] = await tx.select().from(decisions).where(eq(decisions.id, id)).for('update');
      if (!row) throw new AppError('NOT_FOUND', `no decision ${id}`);
      if (row.outcome !== 'review') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `decision ${id} is a ${row.outcome}, not a review: only reviews are resolved by an officer`,
        );
      }
      if (row.reviewOutcome !== null) {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `decision ${id} was already resolved (${row.reviewOutcome}) by ${row.reviewedBy}`,
        );
      }
      const now = this.#clock.now();
      const [updated] = await tx
        .update(decisions)
        .set({
          reviewOutcome: input.outcome,
          reviewedBy: caller.actorId,
          reviewedAt: now,
          reviewNote: note,
        })
        .where(eq(decisions.id, id))
        .returning();
      if (!updated) throw new AppError('NOT_FOUND', `no decision ${id}`);
      await this.#audit.record(caller, {
        action: 'decision.reviewed',
        entityType: 'decision',
        entityId: id,
        before: { outcome: 'review', finalOutcome: null },
        after: { finalOutcome: input.outcome, note },
      });
      await publish(tx, this.#clock, {
        topic: DECISION_RESOLVED,
        key: id,
        payload: { decisionId: id, transferId: updated.transferId, outcome: input.outcome },
      });
      return view(updated);
    });
  }

  /**
   * IVMS101 data another platform of the scheme sent to the caller's platform, newest first (a
   * platform sees only what was addressed to it; the supervisor and auditor see every message).
   */
  async travelRuleInbox(
    caller: Caller,
    page: PageRequest = {},
  ): Promise<Page<TravelRuleMessageView>> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor' && caller.role !== 'auditor') {
      throw new AppError('FORBIDDEN', 'Travel Rule messages are exchanged between platforms');
    }
    const { after, orderBy, read, limit } = keyset(travelRuleMessages, page);
    const rows = await this.#db.orm
      .select()
      .from(travelRuleMessages)
      .where(and(scopeTo(caller, { participant: travelRuleMessages.toPlatformId }), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) =>
      shown.map((r) => ({ ...r, payload: r.payload as Ivms101Payload })),
    );
  }
}

/**
 * Hits on parties: reading them (the blocking ones, each party's flag, a caller's page) and an
 * officer's review of one, in two steps (the platform's officer, then the supervisor for a
 * confirmed hit). Screening a party writes them (`screen-party.ts`).
 */
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { AppError, type Caller, type Clock } from '../../kernel';
import { keyset, pageOf, type Database, type Page, type PageRequest } from '../../db';
import { AuditLog } from '../../audit';
import { partyHits, type HitReview } from '../schema';

export const HIT_REVIEW_STATES = [
  'open',
  'false_positive',
  'confirmed',
  'blocked',
  'released',
] as const;
export type HitReviewState = (typeof HIT_REVIEW_STATES)[number];
export const HIT_REVIEW_DECISIONS = ['false_positive', 'confirmed', 'blocked', 'released'] as const;
export type HitReviewDecision = (typeof HIT_REVIEW_DECISIONS)[number];
/** Reviews under which a listed hit still blocks KYC verification and transfers. */
const BLOCKING_REVIEWS: HitReviewState[] = ['open', 'confirmed', 'blocked'];

/** Why a hit stands: the party's name, a beneficial owner's, the 50 % rule, or an address. */
export type HitReason = 'name' | 'beneficial_owner' | 'ownership_50_percent' | 'address';

export interface PartyHitView {
  id: string;
  partyId: string;
  platformId: string | null;
  /** `name`, `owner:<name>`, `ownership` (50 % rule) or `address:<address>`. */
  subject: string;
  reason: HitReason;
  source: string;
  listEntryId: string;
  snapshotId: string;
  score: number;
  matchedName: string | null;
  status: 'listed' | 'delisted';
  delistedReason: string | null;
  review: HitReviewState;
  reviews: HitReview[];
  /** Whether the hit blocks KYC verification and transfers now. */
  blocking: boolean;
  listedAt: Date;
}

export interface ScreeningFlag {
  status: 'clear' | 'review' | 'blocked';
  /** Listed hits not resolved away (open, confirmed or blocked). */
  openHits: number;
}

function reasonOf(subject: string): HitReason {
  if (subject === 'ownership') return 'ownership_50_percent';
  if (subject.startsWith('owner:')) return 'beneficial_owner';
  if (subject.startsWith('address:')) return 'address';
  return 'name';
}

export function hitView(row: typeof partyHits.$inferSelect): PartyHitView {
  const review = row.review as HitReviewState;
  const status = row.status as 'listed' | 'delisted';
  return {
    id: row.id,
    partyId: row.partyId,
    platformId: row.platformId,
    subject: row.subject,
    reason: reasonOf(row.subject),
    source: row.source,
    listEntryId: row.listEntryId,
    snapshotId: row.snapshotId,
    score: row.score,
    matchedName: row.matchedName,
    status,
    delistedReason: row.delistedReason,
    review,
    reviews: row.reviews,
    blocking: status === 'listed' && BLOCKING_REVIEWS.includes(review),
    listedAt: row.listedAt,
  };
}

/** Which hits a caller may see: all for the supervisor and auditor, its parties' for a platform. */
function hitScope(caller: Caller): SQL | undefined {
  if (caller.role === 'supervisor' || caller.role === 'auditor') return undefined;
  if (caller.role === 'platform') return eq(partyHits.platformId, caller.participantId);
  throw new AppError(
    'FORBIDDEN',
    `screening hits are for platform officers, the supervisor and the auditor; the caller is a ${caller.role}`,
  );
}

export class PartyHits {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #audit: AuditLog;

  constructor(db: Database, clock: Clock) {
    this.#db = db;
    this.#clock = clock;
    this.#audit = new AuditLog({ db, clock });
  }

  /** The party's hits that block its KYC verification and its transfers (listed, not resolved away). */
  async blockingHits(partyId: string): Promise<PartyHitView[]> {
    const rows = await this.#db
      .current()
      .select()
      .from(partyHits)
      .where(
        and(
          eq(partyHits.partyId, partyId),
          eq(partyHits.status, 'listed'),
          inArray(partyHits.review, BLOCKING_REVIEWS),
        ),
      )
      .orderBy(asc(partyHits.listedAt), asc(partyHits.id));
    return rows.map(hitView);
  }

  /**
   * The screening flag of each party: `blocked` (a confirmed hit, or ownership by listed persons
   * of 50 % or more not yet resolved), `review` (an open hit) or `clear`.
   */
  async flags(partyIds: readonly string[]): Promise<Map<string, ScreeningFlag>> {
    const flags = new Map<string, ScreeningFlag>();
    for (const id of partyIds) flags.set(id, { status: 'clear', openHits: 0 });
    if (partyIds.length === 0) return flags;
    const rows = await this.#db
      .current()
      .select({ partyId: partyHits.partyId, subject: partyHits.subject, review: partyHits.review })
      .from(partyHits)
      .where(
        and(
          inArray(partyHits.partyId, [...new Set(partyIds)]),
          eq(partyHits.status, 'listed'),
          inArray(partyHits.review, BLOCKING_REVIEWS),
        ),
      );
    for (const row of rows) {
      const flag = flags.get(row.partyId) ?? { status: 'clear', openHits: 0 };
      const blocked = row.review !== 'open' || row.subject === 'ownership' ? 'blocked' : 'review';
      flags.set(row.partyId, {
        status: flag.status === 'blocked' || blocked === 'blocked' ? 'blocked' : 'review',
        openHits: flag.openHits + 1,
      });
    }
    return flags;
  }

  /**
   * A page of the hits visible to the caller, newest first (keyset on listed_at, id): the
   * supervisor and auditor see all; a platform's officers the hits of the parties that belong to
   * their platform. Filters are conditions of the query, so no hit hides behind newer ones.
   */
  async listHits(
    caller: Caller,
    filter: {
      partyId?: string | undefined;
      review?: HitReviewState | undefined;
      status?: 'listed' | 'delisted' | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<PartyHitView>> {
    const scope = hitScope(caller);
    const { after, orderBy, read, limit } = keyset(
      { createdAt: partyHits.listedAt, id: partyHits.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(partyHits)
      .where(
        and(
          scope,
          filter.partyId ? eq(partyHits.partyId, filter.partyId) : undefined,
          filter.review ? eq(partyHits.review, filter.review) : undefined,
          filter.status ? eq(partyHits.status, filter.status) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(hitView),
      (row) => ({ createdAt: row.listedAt, id: row.id }),
    );
  }

  /**
   * Resolves a hit. First an officer of the party's platform (the supervisor for a party of no
   * platform: a platform, miner or VASP) calls it a false positive or confirms it; a confirmed hit
   * then goes to the supervisor, who keeps the party blocked or releases it. An exact address
   * match is never a false positive. Every step is audited.
   */
  async resolveHit(
    caller: Caller,
    hitId: string,
    input: { decision: HitReviewDecision; reason: string },
  ): Promise<PartyHitView> {
    const reason = input.reason.trim();
    if (reason.length < 10) {
      throw new AppError('VALIDATION_FAILED', 'reason must say why (at least 10 characters)', {
        issues: [{ field: 'reason', message: 'must be at least 10 characters' }],
      });
    }
    if (!(HIT_REVIEW_DECISIONS as readonly string[]).includes(input.decision)) {
      throw new AppError(
        'VALIDATION_FAILED',
        `decision must be one of ${HIT_REVIEW_DECISIONS.join(', ')}`,
        {
          issues: [
            { field: 'decision', message: `must be one of ${HIT_REVIEW_DECISIONS.join(', ')}` },
          ],
        },
      );
    }
    return this.#db.transaction(async (tx) => {
      const [hit] = await tx
        .select()
        .from(partyHits)
        .where(and(eq(partyHits.id, hitId), hitScope(caller)))
        .for('update');
      if (!hit) throw new AppError('NOT_FOUND', `no screening hit ${hitId} visible to you`);
      const firstStep = input.decision === 'false_positive' || input.decision === 'confirmed';
      if (firstStep) {
        const officer = hit.platformId
          ? caller.role === 'platform' && caller.participantId === hit.platformId
          : caller.role === 'supervisor';
        if (!officer) {
          throw new AppError(
            hit.platformId && caller.role === 'supervisor'
              ? 'INVALID_STATE_TRANSITION'
              : 'FORBIDDEN',
            hit.platformId
              ? `an officer of platform ${hit.platformId} reviews this hit first`
              : 'the supervisor reviews the hits of parties that belong to no platform',
          );
        }
      } else if (caller.role !== 'supervisor') {
        throw new AppError(
          'FORBIDDEN',
          'only the supervisor keeps blocked or releases a confirmed hit',
        );
      }
      if (hit.status !== 'listed') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `hit ${hitId} is delisted: nothing to resolve`,
        );
      }
      const from = hit.review as HitReviewState;
      if (firstStep ? from !== 'open' : from !== 'confirmed') {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          firstStep
            ? `hit ${hitId} is ${from}, not open; ${from === 'confirmed' ? 'the supervisor decides it now' : 'it was reviewed already'}`
            : `hit ${hitId} is ${from}; the supervisor decides a hit the platform confirmed`,
        );
      }
      if (input.decision === 'false_positive' && hit.subject.startsWith('address:')) {
        throw new AppError(
          'CONFLICT',
          'an address match is exact and cannot be called a false positive; confirm it',
        );
      }
      const step: HitReview = {
        at: this.#clock.now().toISOString(),
        actor: caller.actorId,
        role: caller.role,
        decision: input.decision,
        reason,
      };
      const reviews = [...hit.reviews, step];
      await tx
        .update(partyHits)
        .set({ review: input.decision, reviews })
        .where(eq(partyHits.id, hit.id));
      const after = hitView({ ...hit, review: input.decision, reviews });
      await this.#audit.record(caller, {
        action: `screening_hit.${input.decision}`,
        entityType: 'screening_hit',
        entityId: hit.id,
        before: { review: from },
        after: { partyId: hit.partyId, subject: hit.subject, review: input.decision, reason },
      });
      return after;
    });
  }

  /** Standing hits of a party (listed and delisted, with the delisting reason). */
  async partyHits(caller: Caller, partyId: string) {
    requireSupervisorOrAuditor(caller);
    return this.#db.orm
      .select()
      .from(partyHits)
      .where(eq(partyHits.partyId, partyId))
      .orderBy(asc(partyHits.listedAt));
  }
}

function requireSupervisorOrAuditor(caller: Caller): void {
  if (caller.role !== 'supervisor' && caller.role !== 'auditor') {
    throw new AppError(
      'FORBIDDEN',
      `screening hits are for the supervisor and auditor; the caller is a ${caller.role}`,
    );
  }
}

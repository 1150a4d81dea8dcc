import { and, asc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { keyset, pageOf, scopeTo, startsWith, type Orm, type Page, type PageRequest } from '../db';
import { publish } from '../events';
import { AppError, invalid, newId, type Caller } from '../kernel';
import { licenceEvents, licences, participants } from './schema';
import { optionalText, parseInstant, requireText } from './validate';
import { type GrantLicenceInput, type LicenceStatus, type LicenceView } from './types';
import { type RegistryContext, forbidden } from './shared';
import type { ParticipantRegistry } from './participants';

/**
 * Announced when a licence is granted or changes status (suspended, reinstated, revoked,
 * expired), in the transaction of the change. Payload `LicenceChanged`. A licence that lapses by
 * passing its `validTo` changes no row and is not announced: readers check validity at the time
 * they act (`requireActiveLicence`).
 */
export const LICENCE_CHANGED = 'registry.licence.changed';

export interface LicenceChanged {
  licenceId: string;
  participantId: string;
  /** null when granted. */
  fromStatus: LicenceStatus | null;
  toStatus: LicenceStatus;
  reason: string | null;
}

/** Licences of platforms and miners: granting, status changes with their history, and the active-licence check. */
export class LicenceRegistry {
  readonly #ctx: RegistryContext;
  readonly #participants: ParticipantRegistry;

  constructor(ctx: RegistryContext, participants: ParticipantRegistry) {
    this.#ctx = ctx;
    this.#participants = participants;
  }

  // ------------------------------------------------------------------ licences

  async grantLicence(caller: Caller, input: GrantLicenceInput): Promise<LicenceView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor grants licences');
    const now = this.#ctx.clock.now();
    const validFrom = parseInstant(input.validFrom, 'validFrom');
    const validTo = input.validTo ? parseInstant(input.validTo, 'validTo') : null;
    if (validTo && validTo <= validFrom) throw invalid('validTo', 'must be after validFrom');
    const kind = requireText(input.kind, 'kind', 100);
    const scope = requireText(input.scope, 'scope', 500);
    return this.#ctx.db.transaction(async (tx) => {
      const participant = await this.#participants.getParticipant(caller, input.participantId);
      if (participant.kind !== 'platform' && participant.kind !== 'miner') {
        throw invalid(
          'participantId',
          `licences are granted to platforms and miners, not to a ${participant.kind}`,
        );
      }
      const id = newId('licence', now, this.#ctx.random);
      await tx.insert(licences).values({
        id,
        participantId: participant.id,
        kind,
        scope,
        validFrom,
        validTo,
        status: 'active',
        statusReason: null,
        createdAt: now,
        updatedAt: now,
      });
      await tx.insert(licenceEvents).values({
        licenceId: id,
        seq: 1,
        at: now,
        fromStatus: null,
        toStatus: 'active',
        reason: 'granted',
        actor: caller.actorId,
      });
      const view = await licenceOf(tx, id, now);
      await this.#ctx.audit.record(caller, {
        action: 'licence.granted',
        entityType: 'licence',
        entityId: id,
        after: view,
      });
      const changed: LicenceChanged = {
        licenceId: id,
        participantId: participant.id,
        fromStatus: null,
        toStatus: 'active',
        reason: 'granted',
      };
      await publish(tx, this.#ctx.clock, {
        topic: LICENCE_CHANGED,
        key: id,
        payload: { ...changed },
      });
      return view;
    });
  }

  /**
   * Moves a licence: active → suspended → active (reinstated), active|suspended → revoked
   * (final), active|suspended → expired. A reason is required for every change but reinstatement.
   */
  async changeLicenceStatus(
    caller: Caller,
    id: string,
    to: Exclude<LicenceStatus, never>,
    reason: string | null | undefined,
  ): Promise<LicenceView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor changes licence status');
    const now = this.#ctx.clock.now();
    const why = to === 'active' ? optionalText(reason, 'reason') : requireText(reason, 'reason');
    return this.#ctx.db.transaction(async (tx) => {
      const [row] = await tx.select().from(licences).where(eq(licences.id, id)).for('update');
      if (!row) throw new AppError('NOT_FOUND', `no licence ${id}`);
      const allowed: Record<string, readonly string[]> = {
        active: ['suspended', 'revoked', 'expired'],
        suspended: ['active', 'revoked', 'expired'],
        revoked: [],
        expired: [],
      };
      if (!(allowed[row.status] ?? []).includes(to)) {
        throw new AppError(
          'INVALID_STATE_TRANSITION',
          `licence ${id} cannot go from ${row.status} to ${to}`,
        );
      }
      const before = await licenceOf(tx, id, now);
      await tx
        .update(licences)
        .set({ status: to, statusReason: why, updatedAt: now })
        .where(eq(licences.id, id));
      await tx.insert(licenceEvents).values({
        licenceId: id,
        seq: before.history.length + 1,
        at: now,
        fromStatus: row.status,
        toStatus: to,
        reason: why,
        actor: caller.actorId,
      });
      const after = await licenceOf(tx, id, now);
      const verb = to === 'active' ? 'reinstated' : to;
      await this.#ctx.audit.record(caller, {
        action: `licence.${verb}`,
        entityType: 'licence',
        entityId: id,
        before,
        after,
      });
      const changed: LicenceChanged = {
        licenceId: id,
        participantId: row.participantId,
        fromStatus: row.status as LicenceStatus,
        toStatus: to,
        reason: why,
      };
      await publish(tx, this.#ctx.clock, {
        topic: LICENCE_CHANGED,
        key: id,
        payload: { ...changed },
      });
      return after;
    });
  }

  /**
   * A page of the licences visible to the caller, newest first (keyset on created_at, id).
   * `participantIds` (a name lookup) and `q` (a prefix of the participant's legal name, through
   * `participants_name_prefix_idx`) read the licences of those participants only.
   */
  async listLicences(
    caller: Caller,
    filter: {
      participantId?: string | undefined;
      participantIds?: readonly string[] | undefined;
      kind?: string | undefined;
      q?: string | undefined;
      status?: LicenceStatus | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<LicenceView>> {
    const { after, orderBy, read, limit } = keyset(licences, page);
    const now = this.#ctx.clock.now();
    // The status as shown: an active licence past its validity reads expired.
    const lapsed = and(eq(licences.status, 'active'), lte(licences.validTo, now));
    const status =
      filter.status === 'active'
        ? and(
            eq(licences.status, 'active'),
            or(isNull(licences.validTo), gt(licences.validTo, now)),
          )
        : filter.status === 'expired'
          ? or(eq(licences.status, 'expired'), lapsed)
          : filter.status
            ? eq(licences.status, filter.status)
            : undefined;
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(licences)
      .where(
        and(
          filter.participantId ? eq(licences.participantId, filter.participantId) : undefined,
          filter.participantIds
            ? inArray(licences.participantId, [...filter.participantIds])
            : undefined,
          filter.q !== undefined
            ? inArray(
                licences.participantId,
                this.#ctx.db
                  .current()
                  .select({ id: participants.id })
                  .from(participants)
                  .where(startsWith(participants.legalName, filter.q)),
              )
            : undefined,
          filter.kind !== undefined ? eq(licences.kind, filter.kind) : undefined,
          status,
          scopeTo(caller, { participant: licences.participantId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => licenceDetails(this.#ctx.db.current(), shown, now));
  }

  async getLicence(caller: Caller, id: string): Promise<LicenceView> {
    const [view] = await licenceViews(
      this.#ctx.db.current(),
      and(eq(licences.id, id), scopeTo(caller, { participant: licences.participantId })),
      this.#ctx.clock.now(),
    );
    if (!view) throw new AppError('NOT_FOUND', `no licence ${id} visible to you`);
    return view;
  }

  /**
   * Throws LICENCE_NOT_ACTIVE unless the participant holds a licence that is active and valid at
   * `at`. Platforms and miners call nothing that changes state without one.
   */
  async requireActiveLicence(
    participantId: string,
    at: Date = this.#ctx.clock.now(),
  ): Promise<void> {
    await checkActiveLicence(this.#ctx.db.current(), participantId, at);
  }
}

export async function checkActiveLicence(orm: Orm, participantId: string, at: Date): Promise<void> {
  const views = await licenceViews(orm, eq(licences.participantId, participantId), at);
  if (views.some((l) => isActiveAt(l, at))) return;
  const status = bestLicenceStatus(views, at);
  throw new AppError(
    'LICENCE_NOT_ACTIVE',
    status === 'none'
      ? `participant ${participantId} holds no licence`
      : `the licence of participant ${participantId} is not active at ${at.toISOString()} (status ${status})`,
    { details: { participantId, status } },
  );
}

export async function licenceOf(orm: Orm, id: string, now: Date): Promise<LicenceView> {
  const [view] = await licenceViews(orm, eq(licences.id, id), now);
  if (!view) throw new AppError('NOT_FOUND', `no licence ${id}`);
  return view;
}

export async function licenceViews(
  orm: Orm,
  where: ReturnType<typeof and>,
  now: Date,
): Promise<LicenceView[]> {
  const rows = await orm.select().from(licences).where(where).orderBy(asc(licences.id));
  return licenceDetails(orm, rows, now);
}

/** The licences' views with their history, in one more query for all of them. */
async function licenceDetails(
  orm: Orm,
  rows: readonly (typeof licences.$inferSelect)[],
  now: Date,
): Promise<LicenceView[]> {
  if (rows.length === 0) return [];
  const events = await orm
    .select()
    .from(licenceEvents)
    .where(sql`${licenceEvents.licenceId} in ${rows.map((r) => r.id)}`)
    .orderBy(asc(licenceEvents.licenceId), asc(licenceEvents.seq));
  return rows.map((row) => ({
    id: row.id,
    participantId: row.participantId,
    kind: row.kind,
    scope: row.scope,
    validFrom: row.validFrom,
    validTo: row.validTo,
    status:
      row.status === 'active' && row.validTo && row.validTo <= now
        ? 'expired'
        : (row.status as LicenceStatus),
    statusReason: row.statusReason,
    history: events
      .filter((e) => e.licenceId === row.id)
      .map((e) => ({
        at: e.at,
        fromStatus: e.fromStatus,
        toStatus: e.toStatus,
        reason: e.reason,
        actor: e.actor,
      })),
  }));
}

function isActiveAt(licence: LicenceView, at: Date): boolean {
  return (
    licence.status === 'active' &&
    licence.validFrom <= at &&
    (!licence.validTo || at < licence.validTo)
  );
}

export function bestLicenceStatus(views: readonly LicenceView[], at: Date): LicenceStatus | 'none' {
  if (views.length === 0) return 'none';
  if (views.some((l) => isActiveAt(l, at))) return 'active';
  for (const status of ['suspended', 'expired', 'revoked'] as const) {
    if (views.some((l) => l.status === status)) return status;
  }
  // Active but not yet valid.
  return 'suspended';
}

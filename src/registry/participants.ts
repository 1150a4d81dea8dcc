/*
 * `registerParticipant` runs past 60 lines: who may register which kind, the row's field checks and the
 * registering transaction (licence, insert, audit, screening) are one flow, kept whole when the
 * registry was split by concern.
 */
import { and, asc, desc, eq, inArray, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  keyset,
  pageOf,
  scopeTo,
  sqlState,
  startsWith,
  UNIQUE_VIOLATION,
  type Page,
  type PageRequest,
} from '../db';
import {
  AppError,
  invalid,
  newId,
  parseCountry,
  parseLei,
  seesEverything,
  systemCaller,
  type Caller,
} from '../kernel';
import { kycRecords, licences, participants, vasps } from './schema';
import { optionalText, requireText } from './validate';
import {
  PARTICIPANT_KINDS,
  PERSON_TYPES,
  type ScreeningPartyFacts,
  type KycStatus,
  type LicenceStatus,
  type ParticipantKind,
  type PersonType,
  type ParticipantView,
  type PartyFacts,
  type RegisterParticipantInput,
  type RiskLevel,
} from './types';
import { type RegistryContext, notFound, forbidden, PARTICIPANT_ID } from './shared';
import { participantView, effectiveKycStatus } from './views';
import { checkActiveLicence, licenceViews, bestLicenceStatus } from './licences';

/** Participants: registering and renaming them, reading them (scoped), and the party facts other modules ask for. */
export class ParticipantRegistry {
  readonly #ctx: RegistryContext;

  constructor(ctx: RegistryContext) {
    this.#ctx = ctx;
  }

  // ------------------------------------------------------------------ participants

  async registerParticipant(
    caller: Caller,
    input: RegisterParticipantInput,
  ): Promise<ParticipantView> {
    const kind = input.kind;
    if (!(PARTICIPANT_KINDS as readonly string[]).includes(kind)) {
      throw invalid(
        'kind',
        `must be one of ${PARTICIPANT_KINDS.join(', ')}, got "${String(kind)}"`,
      );
    }
    let platformId: string | null = null;
    if (kind === 'platform' || kind === 'miner') {
      if (caller.role !== 'supervisor') throw forbidden(`only the supervisor registers ${kind}s`);
    } else if (caller.role === 'platform') {
      if (input.platformId && input.platformId !== caller.participantId) {
        throw forbidden(`a platform registers ${kind}s for itself, not for ${input.platformId}`);
      }
      platformId = caller.participantId;
    } else if (caller.role === 'supervisor') {
      if (!input.platformId) throw invalid('platformId', `is required to register a ${kind}`);
      platformId = input.platformId;
    } else {
      throw forbidden(`a ${caller.role} cannot register participants`);
    }
    const personType = input.personType ?? 'legal';
    if (!(PERSON_TYPES as readonly string[]).includes(personType)) {
      throw invalid('personType', `must be "legal" or "natural", got "${String(personType)}"`);
    }
    if (personType === 'natural' && kind !== 'counterparty') {
      throw invalid('personType', `a ${kind} of the scheme is a legal person`);
    }
    const now = this.#ctx.clock.now();
    const row: typeof participants.$inferSelect = {
      id: newId('participant', now, this.#ctx.random),
      kind,
      personType,
      legalName: requireText(input.legalName, 'legalName', 300),
      otherNames: (input.otherNames ?? []).map((name, i) =>
        requireText(name, `otherNames.${i}`, 300),
      ),
      country: parseCountry(input.country),
      registrationNumber: optionalText(input.registrationNumber, 'registrationNumber', 100),
      lei: input.lei ? parseLei(input.lei) : null,
      addresses: (input.addresses ?? []).map((a, i) => ({
        lines: a.lines.map((line, j) => requireText(line, `addresses.${i}.lines.${j}`, 200)),
        city: requireText(a.city, `addresses.${i}.city`, 100),
        ...(a.postalCode
          ? { postalCode: requireText(a.postalCode, `addresses.${i}.postalCode`, 20) }
          : {}),
        country: parseCountry(a.country, `addresses.${i}.country`),
      })),
      contacts: (input.contacts ?? []).map((c, i) => ({
        name: requireText(c.name, `contacts.${i}.name`, 200),
        ...(c.email ? { email: requireText(c.email, `contacts.${i}.email`, 200) } : {}),
        ...(c.phone ? { phone: requireText(c.phone, `contacts.${i}.phone`, 50) } : {}),
        ...(c.role ? { role: requireText(c.role, `contacts.${i}.role`, 100) } : {}),
      })),
      platformId,
      createdAt: now,
      updatedAt: now,
    };
    return this.#ctx.db.transaction(async (tx) => {
      if (platformId) {
        const [platform] = await tx
          .select()
          .from(participants)
          .where(eq(participants.id, platformId));
        if (platform?.kind !== 'platform') throw notFound(platformId);
        // Anything a platform does while its licence is not active is refused.
        await checkActiveLicence(tx, platformId, now);
      }
      try {
        await tx.insert(participants).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError('CONFLICT', `a ${kind} with LEI ${row.lei} is already registered`);
        }
        throw error;
      }
      const view = participantView(row);
      await this.#ctx.audit.record(caller, {
        action: `${kind}.registered`,
        entityType: 'participant',
        entityId: view.id,
        after: view,
      });
      // Screened from onboarding: a hit is stored on the party now, not found at its first invoice.
      await this.#ctx.screener.screen(caller, {
        partyId: view.id,
        platformId: view.platformId,
        kind: view.personType === 'natural' ? 'person' : 'organization',
        names: [view.legalName, ...view.otherNames],
      });
      return view;
    });
  }

  /**
   * Changes a participant's legal name or other names (aliases, transliterations), by whoever
   * registered it (its platform, or the supervisor). The new names are screened in the same
   * transaction: a hit is stored with the change, and a name dropped takes its hit with it.
   */
  async updateParticipantNames(
    caller: Caller,
    id: string,
    input: { legalName?: string | undefined; otherNames?: string[] | undefined },
  ): Promise<ParticipantView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden(`a ${caller.role} cannot change a participant's names`);
    }
    if (input.legalName === undefined && input.otherNames === undefined) {
      throw invalid('legalName', 'give legalName, otherNames or both');
    }
    const legalName =
      input.legalName === undefined ? undefined : requireText(input.legalName, 'legalName', 300);
    const otherNames = input.otherNames?.map((name, i) =>
      requireText(name, `otherNames.${i}`, 300),
    );
    const now = this.#ctx.clock.now();
    return this.#ctx.db.transaction(async (tx) => {
      const before = await this.getParticipant(caller, id);
      if (caller.role === 'platform' && before.platformId !== caller.participantId) {
        throw forbidden('a platform changes the names of its own companies and counterparties');
      }
      if (before.platformId) await checkActiveLicence(tx, before.platformId, now);
      await tx
        .update(participants)
        .set({
          ...(legalName === undefined ? {} : { legalName }),
          ...(otherNames === undefined ? {} : { otherNames }),
          updatedAt: now,
        })
        .where(eq(participants.id, id));
      const after: ParticipantView = {
        ...before,
        legalName: legalName ?? before.legalName,
        otherNames: otherNames ?? before.otherNames,
        updatedAt: now,
      };
      await this.#ctx.audit.record(caller, {
        action: `${before.kind}.names_changed`,
        entityType: 'participant',
        entityId: id,
        before: { legalName: before.legalName, otherNames: before.otherNames },
        after: { legalName: after.legalName, otherNames: after.otherNames },
      });
      await this.#ctx.screener.screen(caller, {
        partyId: id,
        platformId: after.platformId,
        kind: after.personType === 'natural' ? 'person' : 'organization',
        names: [after.legalName, ...after.otherNames],
      });
      return after;
    });
  }

  /**
   * Every party screening re-screens after a list import: each participant by its names (a
   * natural person as a person), with its beneficial owners when it has a KYB record, and every
   * registered foreign VASP.
   */
  async screeningParties(): Promise<ScreeningPartyFacts[]> {
    const orm = this.#ctx.db.current();
    const rows = await orm.select().from(participants).orderBy(asc(participants.id));
    const kyc = await orm
      .select({ participantId: kycRecords.participantId, owners: kycRecords.beneficialOwners })
      .from(kycRecords);
    const ownersOf = new Map(kyc.map((k) => [k.participantId, k.owners]));
    const parties: ScreeningPartyFacts[] = rows.map((row) => {
      const owners = ownersOf.get(row.id);
      return {
        id: row.id,
        kind: row.personType === 'natural' ? 'person' : 'organization',
        names: [row.legalName, ...row.otherNames],
        country: row.country,
        platformId: row.platformId,
        ...(owners
          ? {
              owners: owners.map((o) => ({ name: o.name, shareBasisPoints: o.shareBasisPoints })),
            }
          : {}),
      };
    });
    for (const vasp of await orm.select().from(vasps).orderBy(asc(vasps.id))) {
      parties.push({
        id: vasp.id,
        kind: 'organization',
        names: [vasp.name, ...vasp.otherNames],
        country: vasp.jurisdiction,
        platformId: null,
      });
    }
    return parties;
  }

  /** One participant, if the caller may see it (else PARTICIPANT_NOT_FOUND). */
  async getParticipant(caller: Caller, id: string): Promise<ParticipantView> {
    if (!PARTICIPANT_ID.test(id)) throw notFound(id);
    const [row] = await this.#ctx.db
      .current()
      .select()
      .from(participants)
      .where(
        and(
          eq(participants.id, id),
          scopeTo(caller, { participant: participants.id, platform: participants.platformId }),
        ),
      );
    if (!row) throw notFound(id);
    return participantView(row);
  }

  /**
   * The participants the caller may see: its own rows (scopeTo), and for a company also the
   * foreign counterparties its platform registered, read-only, so that it can name one on a
   * contract. Nothing else widens: not the other companies of its platform, not the platform's
   * own record, not another platform's counterparties. The company's platform is read from the
   * registry's row of the company, not from the credential, so a key bound to the wrong platform
   * reveals nothing more.
   */
  async listParticipants(
    caller: Caller,
    filter: {
      kind?: ParticipantKind | undefined;
      platformId?: string | undefined;
      /** A prefix of the legal name, whatever its case (pickers' search). */
      q?: string | undefined;
      /** Only these participants (at most a page of them): name lookups, read by primary key. */
      ids?: readonly string[] | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<ParticipantView>> {
    const own = scopeTo(caller, {
      participant: participants.id,
      platform: participants.platformId,
    });
    let visible = own;
    if (caller.role === 'company') {
      const company = alias(participants, 'caller_company');
      const platformOfCaller = this.#ctx.db
        .current()
        .select({ platformId: company.platformId })
        .from(company)
        .where(and(eq(company.id, caller.participantId), eq(company.kind, 'company')));
      visible = or(
        own,
        and(
          eq(participants.kind, 'counterparty'),
          inArray(participants.platformId, platformOfCaller),
        ),
      );
    }
    // Newest first (keyset on created_at, id); the scope is a condition of every page's query,
    // and a cursor only says where the previous page ended.
    const { after, orderBy, read, limit } = keyset(participants, page);
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(participants)
      .where(
        and(
          filter.kind ? eq(participants.kind, filter.kind) : undefined,
          filter.platformId ? eq(participants.platformId, filter.platformId) : undefined,
          // `like` on lower(legal_name), read through participants_name_prefix_idx; the
          // search's own wildcards are escaped, so `q` is only ever a prefix.
          filter.q ? startsWith(participants.legalName, filter.q) : undefined,
          // A lookup by ids stays inside the caller's scope (`visible`): an id the caller may not
          // see is simply not answered, so a name is never learned by guessing its id.
          filter.ids ? inArray(participants.id, [...filter.ids]) : undefined,
          visible,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(participantView));
  }

  /** Every party (companies and counterparties) with its facts, for re-screening after a list update. */
  async listParties(): Promise<PartyFacts[]> {
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(participants)
      .where(sql`${participants.kind} in ('company', 'counterparty')`)
      .orderBy(asc(participants.id));
    const kyc = await this.#ctx.db.current().select().from(kycRecords);
    const byId = new Map(kyc.map((k) => [k.participantId, k]));
    const now = this.#ctx.clock.now();
    return rows.map((row) => {
      const record = byId.get(row.id);
      return {
        id: row.id,
        kind: row.kind as ParticipantKind,
        personType: row.personType as PersonType,
        legalName: row.legalName,
        otherNames: row.otherNames,
        country: row.country,
        lei: row.lei,
        kycStatus: record ? effectiveKycStatus(record, now) : 'pending',
        riskRating: record ? (record.riskRating as RiskLevel) : null,
        platformId: row.platformId,
        licenceStatus: null,
      };
    });
  }

  async partyFacts(participantId: string): Promise<PartyFacts> {
    const orm = this.#ctx.db.current();
    const participant = await this.getParticipant(systemCaller(), participantId);
    const now = this.#ctx.clock.now();
    let kycStatus: KycStatus | null = null;
    let riskRating: RiskLevel | null = null;
    if (participant.kind === 'company' || participant.kind === 'counterparty') {
      const [record] = await orm
        .select()
        .from(kycRecords)
        .where(eq(kycRecords.participantId, participantId));
      kycStatus = record ? effectiveKycStatus(record, now) : 'pending';
      riskRating = record ? (record.riskRating as RiskLevel) : null;
    }
    let licenceStatus: LicenceStatus | 'none' | null = null;
    if (participant.kind === 'platform' || participant.kind === 'miner') {
      const views = await licenceViews(orm, eq(licences.participantId, participantId), now);
      licenceStatus = bestLicenceStatus(views, now);
    }
    return {
      id: participant.id,
      kind: participant.kind,
      personType: participant.personType,
      legalName: participant.legalName,
      otherNames: participant.otherNames,
      country: participant.country,
      lei: participant.lei,
      kycStatus,
      riskRating,
      platformId: participant.platformId,
      licenceStatus,
    };
  }

  /**
   * Throws KYC_NOT_VERIFIED unless the company or counterparty is verified (and not past review)
   * and has no open or confirmed screening hit (one found by a list import after it was verified
   * included).
   */
  async requireVerified(participantId: string): Promise<void> {
    const facts = await this.partyFacts(participantId);
    if (facts.kycStatus !== 'verified') {
      throw new AppError(
        'KYC_NOT_VERIFIED',
        `${facts.kind} ${participantId} is not KYC/KYB verified (status ${facts.kycStatus ?? 'none'}); only verified parties can trade`,
      );
    }
    // Said without the hit: the caller may be the company itself (no tipping-off).
    if ((await this.#ctx.screener.blockingHits(participantId)).length > 0) {
      throw new AppError(
        'KYC_NOT_VERIFIED',
        `${facts.kind} ${participantId} is held for compliance review; only verified parties can trade`,
      );
    }
  }

  /**
   * Refuses a party with an unresolved sanctions hit (held for compliance review), whatever its
   * kind: for parties that keep no KYC record (miners), where `requireVerified` does not apply.
   */
  async requireNotHeld(participantId: string): Promise<void> {
    if ((await this.#ctx.screener.blockingHits(participantId)).length > 0) {
      throw new AppError(
        'KYC_NOT_VERIFIED',
        `participant ${participantId} is held for compliance review; it cannot trade until resolved`,
      );
    }
  }

  /** Tenancy helper for other modules: may `caller` see participant `id`? */
  async canSee(caller: Caller, id: string): Promise<boolean> {
    if (seesEverything(caller)) return true;
    try {
      await this.getParticipant(caller, id);
      return true;
    } catch {
      return false;
    }
  }

  /** The most recent participants first, for dashboards (scoped). */
  async recentParticipants(caller: Caller, limit = 20): Promise<ParticipantView[]> {
    const rows = await this.#ctx.db
      .current()
      .select()
      .from(participants)
      .where(scopeTo(caller, { participant: participants.id, platform: participants.platformId }))
      .orderBy(desc(participants.createdAt))
      .limit(limit);
    return rows.map(participantView);
  }
}

import { and, asc, desc, eq, gt, inArray, isNull, lte, or, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import {
  deriveAddress,
  descriptorToString,
  parseAddress,
  parseDescriptor,
  verifyBip322Simple,
  CHANGE,
  RECEIVE,
  type Branch,
  type Descriptor,
  type DerivedOutput,
} from '../bitcoin';
import {
  keyset,
  pageOf,
  scopeTo,
  sqlState,
  UNIQUE_VIOLATION,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import { recordAudit } from '../audit';
import {
  AppError,
  cryptoRandom,
  invalid,
  newId,
  parseCountry,
  parseLei,
  seesEverything,
  systemCaller,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
} from '../kernel';
import { OWNERSHIP_STATEMENT_VALID_DAYS, ownershipStatement, statementProblem } from './ownership';
import {
  addressOwners,
  counterpartyAddresses,
  jurisdictions,
  kycRecords,
  licenceEvents,
  licences,
  participants,
  regions,
  schemeJurisdiction,
  vasps,
  walletAddresses,
  wallets,
  type BeneficialOwner,
  type Contact,
  type KycDocument,
  type PostalAddress,
} from './schema';
import {
  optionalText,
  parseDate,
  parseInstant,
  parsePercentBasisPoints,
  parseTimeZone,
  requireText,
} from './validate';

export const PARTICIPANT_KINDS = ['platform', 'company', 'miner', 'counterparty'] as const;
export type ParticipantKind = (typeof PARTICIPANT_KINDS)[number];
export const LICENCE_STATUSES = ['active', 'suspended', 'revoked', 'expired'] as const;
export type LicenceStatus = (typeof LICENCE_STATUSES)[number];
export const KYC_STATUSES = ['pending', 'verified', 'rejected', 'expired'] as const;
export type KycStatus = (typeof KYC_STATUSES)[number];
export const RISK_LEVELS = ['low', 'medium', 'high'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];

export const PERSON_TYPES = ['legal', 'natural'] as const;
/** A legal person (company, the default) or a natural person (a sole trader). */
export type PersonType = (typeof PERSON_TYPES)[number];

export interface ParticipantView {
  id: string;
  kind: ParticipantKind;
  personType: PersonType;
  legalName: string;
  otherNames: string[];
  country: string;
  registrationNumber: string | null;
  lei: string | null;
  addresses: PostalAddress[];
  contacts: Contact[];
  platformId: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface RegisterParticipantInput {
  kind: ParticipantKind;
  /** Counterparties only: `natural` for a foreign sole trader (default `legal`). */
  personType?: PersonType | undefined;
  legalName: string;
  otherNames?: string[] | undefined;
  country: string;
  registrationNumber?: string | null | undefined;
  lei?: string | null | undefined;
  addresses?: PostalAddress[] | undefined;
  contacts?: Contact[] | undefined;
  /** For a company or counterparty registered by the supervisor: its platform. */
  platformId?: string | null | undefined;
}

export interface LicenceView {
  id: string;
  participantId: string;
  kind: string;
  scope: string;
  validFrom: Date;
  validTo: Date | null;
  /** The stored status, except that an active licence past its `validTo` reads as expired. */
  status: LicenceStatus;
  statusReason: string | null;
  history: {
    at: Date;
    fromStatus: string | null;
    toStatus: string;
    reason: string | null;
    actor: string;
  }[];
}

export interface GrantLicenceInput {
  participantId: string;
  kind: string;
  scope: string;
  validFrom: string;
  validTo?: string | null | undefined;
}

export interface KycView {
  participantId: string;
  platformId: string;
  /** The stored status, except that a verified record past its review date reads as expired. */
  status: KycStatus;
  riskRating: RiskLevel;
  reviewDue: string;
  beneficialOwners: BeneficialOwner[];
  documents: KycDocument[];
  statusReason: string | null;
  updatedAt: Date;
}

export interface SetKycInput {
  status: KycStatus;
  riskRating: RiskLevel;
  reviewDue: string;
  beneficialOwners: {
    name: string;
    country: string;
    share: string;
    dateOfBirth?: string | undefined;
  }[];
  documents: KycDocument[];
  reason?: string | null | undefined;
}

export interface RegionView {
  code: string;
  name: string;
  timeZone: string;
}

export interface JurisdictionView {
  country: string;
  riskLevel: RiskLevel;
  refused: boolean;
  reason: string | null;
  updatedAt: Date;
}

export interface WalletView {
  id: string;
  companyId: string;
  platformId: string;
  network: NetworkName;
  descriptor: string;
  label: string;
  /** The next receive index to hand out (as many receive addresses have been). */
  nextIndex: number;
  /** The next change index to hand out (as many change addresses have been). */
  nextChangeIndex: number;
  createdAt: Date;
}

/** BIP44's change field, by name: 0 is the receive branch, 1 the change branch. */
export type WalletBranch = 'receive' | 'change';

/** An address handed out from a company's wallet. */
export interface WalletAddressView {
  id: string;
  walletId: string;
  companyId: string;
  platformId: string;
  address: string;
  branch: WalletBranch;
  derivationIndex: number;
  purpose: string | null;
  usedAt: Date;
}

/** Whose wallet an address belongs to and where in it (for the chain consumer and payouts). */
export interface WalletAddressOwner {
  address: string;
  walletId: string;
  companyId: string;
  platformId: string;
  branch: Branch;
  index: number;
}

export type CounterpartyAddressInput =
  | {
      address: string;
      ownership: 'hosted';
      /** The registered foreign VASP that holds the address (GET /v1/vasps). */
      vaspId: string;
    }
  | { address: string; ownership: 'self_hosted'; message: string; signature: string };

export interface CounterpartyAddressView {
  id: string;
  counterpartyId: string;
  platformId: string;
  address: string;
  network: NetworkName;
  ownership: 'hosted' | 'self_hosted';
  /** The VASP holding a hosted address: registered (id) or, for rows from before the VASP registry, a name only. */
  vasp: { id: string | null; name: string; lei: string | null } | null;
  proof: { message: string; signature: string; addressType: string } | null;
  verifiedAt: Date;
}

/** What other modules (trade, compliance) need to know about a party, in one read. */
export interface PartyFacts {
  id: string;
  kind: ParticipantKind;
  personType: PersonType;
  legalName: string;
  otherNames: string[];
  country: string;
  lei: string | null;
  /** Companies and counterparties; null for platforms and miners (no KYB record kept here). */
  kycStatus: KycStatus | null;
  riskRating: RiskLevel | null;
  platformId: string | null;
  /** Platforms and miners: the best licence status at the time asked ('none' without any). */
  licenceStatus: LicenceStatus | 'none' | null;
}

export interface RegistryServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  /** The scheme's Bitcoin network: descriptors and addresses for another network are refused. */
  network: NetworkName;
  /** Sanctions screening of parties as they are registered and changed (compliance's). */
  screener?: PartyScreener;
}

/** What screening is asked about one party; only the parts given are screened (compliance's ScreeningSubject). */
export interface PartyScreeningSubject {
  partyId: string;
  platformId: string | null;
  kind: 'person' | 'organization';
  names?: readonly string[];
  owners?: readonly { name: string; shareBasisPoints: number }[];
  addresses?: readonly string[];
}

/**
 * The screening port: screens a party inside the registry's transaction (its hits are stored with
 * the change that caused them) and tells which hits block verification. Compliance's
 * ScreeningService implements it; the composition root wires it (`setScreener`).
 */
export interface PartyScreener {
  screen(tx: Orm, caller: Caller, subject: PartyScreeningSubject): Promise<void>;
  blockingHits(orm: Orm, partyId: string): Promise<ReadonlyArray<{ id: string; subject: string }>>;
}

/** Screening against no lists: the registry alone (unit tests) until compliance is wired. */
const unscreened: PartyScreener = {
  screen: () => Promise.resolve(),
  blockingHits: () => Promise.resolve([]),
};

export const ADDRESS_ROLES = ['counterparty_address', 'company_wallet', 'payout_address'] as const;
/** What an address is registered as: a counterparty's, a company wallet's, or a miner's payout address. */
export type AddressRole = (typeof ADDRESS_ROLES)[number];

export const VASP_LICENCE_STATUSES = ['active', 'suspended', 'revoked'] as const;
export type VaspLicenceStatus = (typeof VASP_LICENCE_STATUSES)[number];

/** A foreign VASP of the registry. */
export interface VaspView {
  id: string;
  name: string;
  otherNames: string[];
  lei: string;
  jurisdiction: string;
  licence: { authority: string; number: string; status: VaspLicenceStatus };
  createdAt: Date;
}

export interface RegisterVaspInput {
  name: string;
  otherNames?: string[] | undefined;
  lei: string;
  jurisdiction: string;
  licence: { authority: string; number: string; status?: VaspLicenceStatus | undefined };
}

/** Everything screening reads about a party when a list is imported. */
export interface ScreeningPartyFacts {
  id: string;
  kind: 'person' | 'organization';
  names: string[];
  country: string;
  platformId: string | null;
  owners?: { name: string; shareBasisPoints: number }[];
}

const PARTICIPANT_ID = /^par_[0-9A-HJKMNP-TV-Z]{26}$/;
const VASP_ID = /^vsp_[0-9A-HJKMNP-TV-Z]{26}$/;

const ROLE_NAMES: Record<AddressRole, string> = {
  counterparty_address: "a counterparty's address",
  company_wallet: 'a company wallet address',
  payout_address: "a miner's payout address",
};

function notFound(id: string): AppError {
  return new AppError('PARTICIPANT_NOT_FOUND', `no participant ${id} visible to you`);
}

function forbidden(message: string): AppError {
  return new AppError('FORBIDDEN', message);
}

function participantView(row: typeof participants.$inferSelect): ParticipantView {
  return { ...row, kind: row.kind as ParticipantKind, personType: row.personType as PersonType };
}

function todayOf(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * The registry: participants, licences, KYC/KYB, jurisdictions and regions, company wallets and
 * counterparty addresses. Every change writes its audit event in the same transaction; every
 * read is scoped to the caller (a row the caller may not see is reported as not found).
 */
export class RegistryService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly network: NetworkName;
  #screener: PartyScreener;

  constructor(deps: RegistryServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random ?? cryptoRandom;
    this.network = deps.network;
    this.#screener = deps.screener ?? unscreened;
  }

  /** The composition root wires compliance's screening here once both exist. */
  setScreener(screener: PartyScreener): void {
    this.#screener = screener;
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
    const now = this.#clock.now();
    const row: typeof participants.$inferSelect = {
      id: newId('participant', now, this.#random),
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
    return this.#db.transaction(async (tx) => {
      if (platformId) {
        const [platform] = await tx
          .select()
          .from(participants)
          .where(eq(participants.id, platformId));
        if (platform?.kind !== 'platform') throw notFound(platformId);
        // Anything a platform does while its licence is not active is refused.
        await this.#requireActiveLicence(tx, platformId, now);
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
      await recordAudit(tx, caller, this.#clock, {
        action: `${kind}.registered`,
        entityType: 'participant',
        entityId: view.id,
        after: view,
      });
      // Screened from onboarding: a hit is stored on the party now, not found at its first invoice.
      await this.#screener.screen(tx, caller, {
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
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const before = await this.getParticipant(caller, id, tx);
      if (caller.role === 'platform' && before.platformId !== caller.participantId) {
        throw forbidden('a platform changes the names of its own companies and counterparties');
      }
      if (before.platformId) await this.#requireActiveLicence(tx, before.platformId, now);
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
      await recordAudit(tx, caller, this.#clock, {
        action: `${before.kind}.names_changed`,
        entityType: 'participant',
        entityId: id,
        before: { legalName: before.legalName, otherNames: before.otherNames },
        after: { legalName: after.legalName, otherNames: after.otherNames },
      });
      await this.#screener.screen(tx, caller, {
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
  async screeningParties(orm: Orm = this.#db.orm): Promise<ScreeningPartyFacts[]> {
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

  /** Every address registered to an owner (counterparty, company wallet, miner payout), for re-screening. */
  async registeredAddresses(
    orm: Orm = this.#db.orm,
  ): Promise<{ address: string; ownerId: string; role: AddressRole }[]> {
    const rows = await orm.select().from(addressOwners).orderBy(asc(addressOwners.address));
    return rows.map((r) => ({
      address: r.address,
      ownerId: r.ownerId,
      role: r.role as AddressRole,
    }));
  }

  /**
   * Screens an address registered to an owner outside the registry (a miner's payout address),
   * inside the caller's transaction: a hit is stored on the owner.
   */
  async screenOwnedAddress(
    tx: Orm,
    caller: Caller,
    input: { ownerId: string; address: string },
  ): Promise<void> {
    await this.#screener.screen(tx, caller, {
      partyId: input.ownerId,
      platformId: null,
      kind: 'organization',
      addresses: [input.address],
    });
  }

  /**
   * One address, one owner across the registry: claims `address` for `ownerId` inside the
   * caller's transaction (a counterparty address, a company wallet address handed out, a miner's
   * payout address). ADDRESS_ALREADY_ASSIGNED, naming `field`, when another owner holds it; the
   * same owner claiming it again is accepted. The caller's own table keeps its unique index too.
   */
  async claimAddress(
    tx: Orm,
    input: { address: string; ownerId: string; role: AddressRole; field?: string | undefined },
  ): Promise<void> {
    const inserted = await tx
      .insert(addressOwners)
      .values({
        address: input.address,
        ownerId: input.ownerId,
        role: input.role,
        createdAt: this.#clock.now(),
      })
      .onConflictDoNothing()
      .returning({ address: addressOwners.address });
    if (inserted.length > 0) return;
    const [holder] = await tx
      .select()
      .from(addressOwners)
      .where(eq(addressOwners.address, input.address));
    if (holder && holder.ownerId === input.ownerId) return;
    const field = input.field ?? 'address';
    // Who holds it is not said: it may be another platform's client.
    const message = `address ${input.address} is already registered to another owner (as ${ROLE_NAMES[(holder?.role ?? '') as AddressRole] ?? 'an address'}); an address belongs to one owner`;
    throw new AppError('ADDRESS_ALREADY_ASSIGNED', message, { issues: [{ field, message }] });
  }

  /** One participant, if the caller may see it (else PARTICIPANT_NOT_FOUND). */
  async getParticipant(
    caller: Caller,
    id: string,
    orm: Orm = this.#db.orm,
  ): Promise<ParticipantView> {
    if (!PARTICIPANT_ID.test(id)) throw notFound(id);
    const [row] = await orm
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
    filter: { kind?: ParticipantKind | undefined; platformId?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<ParticipantView>> {
    const own = scopeTo(caller, {
      participant: participants.id,
      platform: participants.platformId,
    });
    let visible = own;
    if (caller.role === 'company') {
      const company = alias(participants, 'caller_company');
      const platformOfCaller = this.#db.orm
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
    const rows = await this.#db.orm
      .select()
      .from(participants)
      .where(
        and(
          filter.kind ? eq(participants.kind, filter.kind) : undefined,
          filter.platformId ? eq(participants.platformId, filter.platformId) : undefined,
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
    const rows = await this.#db.orm
      .select()
      .from(participants)
      .where(sql`${participants.kind} in ('company', 'counterparty')`)
      .orderBy(asc(participants.id));
    const kyc = await this.#db.orm.select().from(kycRecords);
    const byId = new Map(kyc.map((k) => [k.participantId, k]));
    const now = this.#clock.now();
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

  async partyFacts(participantId: string, orm: Orm = this.#db.orm): Promise<PartyFacts> {
    const participant = await this.getParticipant(systemCaller(), participantId, orm);
    const now = this.#clock.now();
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
      const views = await this.#licenceViews(orm, eq(licences.participantId, participantId), now);
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
  async requireVerified(participantId: string, orm: Orm = this.#db.orm): Promise<void> {
    const facts = await this.partyFacts(participantId, orm);
    if (facts.kycStatus !== 'verified') {
      throw new AppError(
        'KYC_NOT_VERIFIED',
        `${facts.kind} ${participantId} is not KYC/KYB verified (status ${facts.kycStatus ?? 'none'}); only verified parties can trade`,
      );
    }
    // Said without the hit: the caller may be the company itself (no tipping-off).
    if ((await this.#screener.blockingHits(orm, participantId)).length > 0) {
      throw new AppError(
        'KYC_NOT_VERIFIED',
        `${facts.kind} ${participantId} is held for compliance review; only verified parties can trade`,
      );
    }
  }

  async #requireNoBlockingHits(orm: Orm, participantId: string): Promise<void> {
    const hits = await this.#screener.blockingHits(orm, participantId);
    if (hits.length === 0) return;
    const subjects = [...new Set(hits.map((h) => h.subject.replace(/:.*$/, '')))].join(', ');
    throw new AppError(
      'SCREENING_HIT_UNRESOLVED',
      `participant ${participantId} has ${hits.length} unresolved or confirmed sanctions screening hit(s) (${subjects}); an officer of its platform resolves them first (GET /v1/screenings/hits?partyId=${participantId}), then the supervisor for a confirmed one`,
      { issues: [{ field: 'status', message: 'the party has unresolved screening hits' }] },
    );
  }

  // ------------------------------------------------------------------ licences

  async grantLicence(caller: Caller, input: GrantLicenceInput): Promise<LicenceView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor grants licences');
    const now = this.#clock.now();
    const validFrom = parseInstant(input.validFrom, 'validFrom');
    const validTo = input.validTo ? parseInstant(input.validTo, 'validTo') : null;
    if (validTo && validTo <= validFrom) throw invalid('validTo', 'must be after validFrom');
    const kind = requireText(input.kind, 'kind', 100);
    const scope = requireText(input.scope, 'scope', 500);
    return this.#db.transaction(async (tx) => {
      const participant = await this.getParticipant(caller, input.participantId, tx);
      if (participant.kind !== 'platform' && participant.kind !== 'miner') {
        throw invalid(
          'participantId',
          `licences are granted to platforms and miners, not to a ${participant.kind}`,
        );
      }
      const id = newId('licence', now, this.#random);
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
      const view = await this.#licence(tx, id, now);
      await recordAudit(tx, caller, this.#clock, {
        action: 'licence.granted',
        entityType: 'licence',
        entityId: id,
        after: view,
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
    const now = this.#clock.now();
    const why = to === 'active' ? optionalText(reason, 'reason') : requireText(reason, 'reason');
    return this.#db.transaction(async (tx) => {
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
      const before = await this.#licence(tx, id, now);
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
      const after = await this.#licence(tx, id, now);
      const verb = to === 'active' ? 'reinstated' : to;
      await recordAudit(tx, caller, this.#clock, {
        action: `licence.${verb}`,
        entityType: 'licence',
        entityId: id,
        before,
        after,
      });
      return after;
    });
  }

  /** A page of the licences visible to the caller, newest first (keyset on created_at, id). */
  async listLicences(
    caller: Caller,
    filter: { participantId?: string | undefined; status?: LicenceStatus | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<LicenceView>> {
    const { after, orderBy, read, limit } = keyset(licences, page);
    const now = this.#clock.now();
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
    const rows = await this.#db.orm
      .select()
      .from(licences)
      .where(
        and(
          filter.participantId ? eq(licences.participantId, filter.participantId) : undefined,
          status,
          scopeTo(caller, { participant: licences.participantId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => this.#licenceDetails(this.#db.orm, shown, now));
  }

  async getLicence(caller: Caller, id: string): Promise<LicenceView> {
    const [view] = await this.#licenceViews(
      this.#db.orm,
      and(eq(licences.id, id), scopeTo(caller, { participant: licences.participantId })),
      this.#clock.now(),
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
    at: Date = this.#clock.now(),
    orm: Orm = this.#db.orm,
  ): Promise<void> {
    await this.#requireActiveLicence(orm, participantId, at);
  }

  async #requireActiveLicence(orm: Orm, participantId: string, at: Date): Promise<void> {
    const views = await this.#licenceViews(orm, eq(licences.participantId, participantId), at);
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

  async #licence(orm: Orm, id: string, now: Date): Promise<LicenceView> {
    const [view] = await this.#licenceViews(orm, eq(licences.id, id), now);
    if (!view) throw new AppError('NOT_FOUND', `no licence ${id}`);
    return view;
  }

  async #licenceViews(orm: Orm, where: ReturnType<typeof and>, now: Date): Promise<LicenceView[]> {
    const rows = await orm.select().from(licences).where(where).orderBy(asc(licences.id));
    return this.#licenceDetails(orm, rows, now);
  }

  /** The licences' views with their history, in one more query for all of them. */
  async #licenceDetails(
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

  // ------------------------------------------------------------------ KYC / KYB

  async setKyc(caller: Caller, participantId: string, input: SetKycInput): Promise<KycView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden('KYC/KYB records are kept by the platform (or the supervisor)');
    }
    const now = this.#clock.now();
    if (!(KYC_STATUSES as readonly string[]).includes(input.status)) {
      throw invalid('status', `must be one of ${KYC_STATUSES.join(', ')}, got "${input.status}"`);
    }
    if (!(RISK_LEVELS as readonly string[]).includes(input.riskRating)) {
      throw invalid(
        'riskRating',
        `must be one of ${RISK_LEVELS.join(', ')}, got "${input.riskRating}"`,
      );
    }
    const reviewDue = parseDate(input.reviewDue, 'reviewDue');
    if (input.status === 'verified' && reviewDue <= todayOf(now)) {
      throw invalid(
        'reviewDue',
        `must be after today (${todayOf(now)}) for a verified record, got ${reviewDue}`,
      );
    }
    // FATF Recommendation 24/25 and the EU AMLD: beneficial owners are the natural persons holding
    // 25 % or more; the record lists those, so a smaller share is not a beneficial owner.
    const owners: BeneficialOwner[] = input.beneficialOwners.map((o, i) => {
      const shareBasisPoints = parsePercentBasisPoints(o.share, `beneficialOwners.${i}.share`);
      if (shareBasisPoints < 2_500) {
        throw invalid(
          `beneficialOwners.${i}.share`,
          `a beneficial owner holds at least 25 %, got ${o.share} %`,
        );
      }
      return {
        name: requireText(o.name, `beneficialOwners.${i}.name`, 200),
        country: parseCountry(o.country, `beneficialOwners.${i}.country`),
        shareBasisPoints,
        ...(o.dateOfBirth
          ? { dateOfBirth: parseDate(o.dateOfBirth, `beneficialOwners.${i}.dateOfBirth`) }
          : {}),
      };
    });
    const total = owners.reduce((sum, o) => sum + o.shareBasisPoints, 0);
    if (total > 10_000)
      throw invalid('beneficialOwners', `shares add up to more than 100 % (${total / 100} %)`);
    const documents = input.documents.map((d, i) => ({
      type: requireText(d.type, `documents.${i}.type`, 100),
      number: requireText(d.number, `documents.${i}.number`, 100),
      issuer: requireText(d.issuer, `documents.${i}.issuer`, 200),
    }));
    if (input.status === 'verified' && documents.length === 0) {
      throw invalid('documents', 'a verified record references at least one document');
    }
    const reason = optionalText(input.reason, 'reason');
    return this.#db.transaction(async (tx) => {
      const participant = await this.getParticipant(caller, participantId, tx);
      if (participant.kind !== 'company' && participant.kind !== 'counterparty') {
        throw invalid(
          'participantId',
          `KYC/KYB is kept for companies and counterparties, not for a ${participant.kind}`,
        );
      }
      const platformId = participant.platformId ?? '';
      if (caller.role === 'platform')
        await this.#requireActiveLicence(tx, caller.participantId, now);
      const [existing] = await tx
        .select()
        .from(kycRecords)
        .where(eq(kycRecords.participantId, participantId))
        .for('update');
      const values = {
        participantId,
        platformId,
        status: input.status,
        riskRating: input.riskRating,
        reviewDue,
        beneficialOwners: owners,
        documents,
        statusReason: reason,
        updatedAt: now,
      };
      if (existing)
        await tx.update(kycRecords).set(values).where(eq(kycRecords.participantId, participantId));
      else await tx.insert(kycRecords).values(values);
      const after = kycView(values, now);
      await recordAudit(tx, caller, this.#clock, {
        action: `kyc.${input.status}`,
        entityType: 'participant',
        entityId: participantId,
        before: existing ? kycView(existing, now) : undefined,
        after,
      });
      // The beneficial owners are screened with the record (each owner's name, and OFAC's 50 %
      // rule over their holdings); a party with a standing hit is not verified.
      await this.#screener.screen(tx, caller, {
        partyId: participantId,
        platformId: participant.platformId,
        kind: participant.personType === 'natural' ? 'person' : 'organization',
        owners: owners.map((o) => ({ name: o.name, shareBasisPoints: o.shareBasisPoints })),
      });
      if (input.status === 'verified') await this.#requireNoBlockingHits(tx, participantId);
      return after;
    });
  }

  async getKyc(caller: Caller, participantId: string): Promise<KycView> {
    await this.getParticipant(caller, participantId);
    const [row] = await this.#db.orm
      .select()
      .from(kycRecords)
      .where(eq(kycRecords.participantId, participantId));
    if (!row)
      throw new AppError('NOT_FOUND', `participant ${participantId} has no KYC/KYB record yet`);
    return kycView(row, this.#clock.now());
  }

  // ------------------------------------------------------------------ jurisdictions and regions

  async setSchemeJurisdiction(caller: Caller, input: { country: string; name: string }) {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor sets the scheme jurisdiction');
    const country = parseCountry(input.country);
    const name = requireText(input.name, 'name', 200);
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const [before] = await tx.select().from(schemeJurisdiction);
      await tx
        .insert(schemeJurisdiction)
        .values({ singleton: 1, country, name, updatedAt: now })
        .onConflictDoUpdate({
          target: schemeJurisdiction.singleton,
          set: { country, name, updatedAt: now },
        });
      const after = { country, name };
      await recordAudit(tx, caller, this.#clock, {
        action: 'scheme.jurisdiction_set',
        entityType: 'scheme',
        entityId: 'scheme',
        before: before ? { country: before.country, name: before.name } : undefined,
        after,
      });
      return after;
    });
  }

  async getSchemeJurisdiction(): Promise<{ country: string; name: string } | null> {
    const [row] = await this.#db.orm.select().from(schemeJurisdiction);
    return row ? { country: row.country, name: row.name } : null;
  }

  async createRegion(caller: Caller, input: RegionView): Promise<RegionView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor manages regions');
    if (!/^[a-z0-9][a-z0-9-]{0,39}$/.test(input.code)) {
      throw invalid(
        'code',
        `must be 1–40 lower-case letters, digits or dashes, got "${input.code}"`,
      );
    }
    const region = {
      code: input.code,
      name: requireText(input.name, 'name', 200),
      timeZone: parseTimeZone(input.timeZone),
    };
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      try {
        await tx.insert(regions).values({ ...region, createdAt: now });
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION)
          throw new AppError('CONFLICT', `region "${region.code}" already exists`);
        throw error;
      }
      await recordAudit(tx, caller, this.#clock, {
        action: 'region.created',
        entityType: 'region',
        entityId: region.code,
        after: region,
      });
      return region;
    });
  }

  async listRegions(): Promise<RegionView[]> {
    const rows = await this.#db.orm.select().from(regions).orderBy(asc(regions.code));
    return rows.map(({ code, name, timeZone }) => ({ code, name, timeZone }));
  }

  async getRegion(code: string, orm: Orm = this.#db.orm): Promise<RegionView> {
    const [row] = await orm.select().from(regions).where(eq(regions.code, code));
    if (!row) throw new AppError('NOT_FOUND', `no region "${code}"`);
    return { code: row.code, name: row.name, timeZone: row.timeZone };
  }

  async setJurisdiction(
    caller: Caller,
    input: {
      country: string;
      riskLevel: RiskLevel;
      refused: boolean;
      reason?: string | null | undefined;
    },
  ): Promise<JurisdictionView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor maintains jurisdictions');
    const country = parseCountry(input.country);
    if (!(RISK_LEVELS as readonly string[]).includes(input.riskLevel)) {
      throw invalid(
        'riskLevel',
        `must be one of ${RISK_LEVELS.join(', ')}, got "${input.riskLevel}"`,
      );
    }
    const reason = input.refused
      ? requireText(input.reason, 'reason')
      : optionalText(input.reason, 'reason');
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const [before] = await tx
        .select()
        .from(jurisdictions)
        .where(eq(jurisdictions.country, country));
      const values = {
        country,
        riskLevel: input.riskLevel,
        refused: input.refused,
        reason,
        updatedAt: now,
      };
      await tx
        .insert(jurisdictions)
        .values(values)
        .onConflictDoUpdate({ target: jurisdictions.country, set: values });
      await recordAudit(tx, caller, this.#clock, {
        action: input.refused ? 'jurisdiction.refused' : 'jurisdiction.set',
        entityType: 'jurisdiction',
        entityId: country,
        before,
        after: values,
      });
      return values;
    });
  }

  async listJurisdictions(): Promise<JurisdictionView[]> {
    const rows = await this.#db.orm
      .select()
      .from(jurisdictions)
      .orderBy(asc(jurisdictions.country));
    return rows.map((r) => ({ ...r, riskLevel: r.riskLevel as RiskLevel }));
  }

  /** True when settlement with `country` is refused at scheme level. */
  async isJurisdictionRefused(country: string, orm: Orm = this.#db.orm): Promise<boolean> {
    const code = parseCountry(country);
    const [row] = await orm.select().from(jurisdictions).where(eq(jurisdictions.country, code));
    return row?.refused ?? false;
  }

  /** Throws JURISDICTION_REFUSED naming the reason when settlement with `country` is refused. */
  async requireJurisdictionAllowed(country: string, orm: Orm = this.#db.orm): Promise<void> {
    const code = parseCountry(country);
    const [row] = await orm.select().from(jurisdictions).where(eq(jurisdictions.country, code));
    if (row?.refused) {
      throw new AppError(
        'JURISDICTION_REFUSED',
        `settlement with ${code} is refused at scheme level: ${row.reason ?? ''}`,
      );
    }
  }

  // ------------------------------------------------------------------ wallets

  /**
   * Registers a company's watch-only wallet: the company's one wallet, from which invoices take
   * their receive addresses and payouts their change addresses. Registered once (CONFLICT when
   * the company already has one).
   */
  async registerWallet(
    caller: Caller,
    input: { companyId: string; descriptor: string; label?: string | undefined },
  ): Promise<WalletView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden('company wallets are registered by their platform');
    }
    let descriptor: Descriptor;
    try {
      descriptor = parseDescriptor(input.descriptor, this.network);
      // The wallet must give receive and change addresses (BIP44 change = 0 and 1): ranged, with
      // a receive step (…/0/*, whose change branch is …/1/*, or …/<0;1>/*), and outputs that
      // have an address.
      for (const branch of [0, 1] as const) {
        if (!deriveAddress(descriptor, branch, 0).address)
          throw new AppError('INVALID_DESCRIPTOR', 'it derives outputs without an address');
      }
    } catch (error) {
      if (error instanceof AppError) {
        throw new AppError(error.code, `descriptor: ${error.message}`, {
          issues: [{ field: 'descriptor', message: error.message }],
        });
      }
      throw error;
    }
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const company = await this.getParticipant(caller, input.companyId, tx);
      if (company.kind !== 'company')
        throw invalid(
          'companyId',
          `wallets are registered for companies, not for a ${company.kind}`,
        );
      const platformId = company.platformId ?? '';
      await this.#requireActiveLicence(tx, platformId, now);
      const row = {
        id: newId('wallet', now, this.#random),
        companyId: company.id,
        platformId,
        network: this.network,
        descriptor: descriptorToString(descriptor),
        label: optionalText(input.label, 'label', 100) ?? 'default',
        nextIndex: 0,
        nextChangeIndex: 0,
        createdAt: now,
      };
      try {
        await tx.insert(wallets).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION)
          throw new AppError('CONFLICT', `company ${company.id} already has a wallet`);
        throw error;
      }
      const view = walletView(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'wallet.registered',
        entityType: 'wallet',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  /** A page of the wallets visible to the caller, newest first (keyset on created_at, id). */
  async listWallets(
    caller: Caller,
    filter: { companyId?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<WalletView>> {
    const { after, orderBy, read, limit } = keyset(wallets, page);
    const rows = await this.#db.orm
      .select()
      .from(wallets)
      .where(
        and(
          filter.companyId ? eq(wallets.companyId, filter.companyId) : undefined,
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(walletView));
  }

  /** One wallet the caller may see; another's is not found, exactly like one that does not exist. */
  async getWallet(caller: Caller, id: string): Promise<WalletView> {
    const [row] = await this.#db.orm
      .select()
      .from(wallets)
      .where(
        and(
          eq(wallets.id, id),
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
        ),
      );
    if (!row) throw new AppError('NOT_FOUND', `no wallet ${id} visible to you`);
    return walletView(row);
  }

  /**
   * Derives the company's next receive address (BIP44 receive branch, next unused index), records
   * it as used, and returns it, inside the caller's transaction `tx`: the address is handed out
   * exactly when the caller's own write (an invoice) commits, and never again. The wallet row is
   * locked so that two concurrent invoices never get the same address.
   */
  async nextReceiveAddress(
    tx: Orm,
    companyId: string,
    purpose: string | null = null,
  ): Promise<WalletAddressView> {
    return this.#handOut(tx, companyId, RECEIVE, purpose);
  }

  /**
   * The company's next change address (BIP44 change branch), recorded as used inside the caller's
   * transaction `tx` (a payout batch), under the same lock and rules as receive addresses.
   */
  async nextChangeAddress(
    tx: Orm,
    companyId: string,
    purpose: string | null = null,
  ): Promise<WalletAddressView> {
    return this.#handOut(tx, companyId, CHANGE, purpose);
  }

  /** Locks the companies' wallet rows (by company id, one order for all) until `tx` ends. */
  async lockWallets(tx: Orm, companyIds: readonly string[]): Promise<void> {
    if (companyIds.length === 0) return;
    await tx
      .select({ id: wallets.id })
      .from(wallets)
      .where(inArray(wallets.companyId, [...companyIds]))
      .orderBy(asc(wallets.companyId))
      .for('update');
  }

  /**
   * Hands out the next address of `branch` under the wallet row's lock, held until the caller's
   * transaction ends. Callers take it before the audit head (before any audited write, e.g. the
   * policy gate's): every writer then takes the two in the same order and none waits for another.
   */
  async #handOut(
    tx: Orm,
    companyId: string,
    branch: Branch,
    purpose: string | null,
  ): Promise<WalletAddressView> {
    const [wallet] = await tx
      .select()
      .from(wallets)
      .where(eq(wallets.companyId, companyId))
      .for('update');
    if (!wallet)
      throw new AppError(
        'CONFLICT',
        `company ${companyId} has no registered wallet; its platform registers one first (POST /v1/wallets)`,
      );
    const index = branch === RECEIVE ? wallet.nextIndex : wallet.nextChangeIndex;
    // BIP32: unhardened children only, 0 … 2^31 − 1.
    if (index >= 0x7fffffff)
      throw new AppError(
        'CONFLICT',
        `wallet ${wallet.id} has handed out every ${branchName(branch)} address`,
      );
    const derived = deriveAddress(
      parseDescriptor(wallet.descriptor, wallet.network as NetworkName),
      branch,
      index,
    );
    if (!derived.address)
      throw new AppError(
        'INVALID_DESCRIPTOR',
        `wallet ${wallet.id} derives outputs without addresses`,
      );
    const row = {
      id: newId('address', this.#clock.now(), this.#random),
      walletId: wallet.id,
      companyId,
      platformId: wallet.platformId,
      branch,
      derivationIndex: index,
      address: derived.address,
      purpose,
      usedAt: this.#clock.now(),
    };
    // One address, one owner: an address another owner registered is never handed out to a company.
    await this.claimAddress(tx, {
      address: derived.address,
      ownerId: companyId,
      role: 'company_wallet',
    });
    try {
      await tx.insert(walletAddresses).values(row);
    } catch (error) {
      if (sqlState(error) === UNIQUE_VIOLATION)
        throw new AppError(
          'ADDRESS_ALREADY_ASSIGNED',
          `address ${derived.address} (${branchName(branch)} ${index} of wallet ${wallet.id}) was handed out before; it is not handed out again`,
        );
      throw error;
    }
    await tx
      .update(wallets)
      .set(branch === RECEIVE ? { nextIndex: index + 1 } : { nextChangeIndex: index + 1 })
      .where(eq(wallets.id, wallet.id));
    return walletAddressView(row);
  }

  /** For the HTTP API: hands out the next receive address of a company, as its own transaction. */
  async deriveReceiveAddress(
    caller: Caller,
    walletId: string,
    purpose: string | null,
  ): Promise<WalletAddressView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor' && caller.role !== 'company') {
      throw forbidden(`a ${caller.role} cannot derive wallet addresses`);
    }
    return this.#db.transaction(async (tx) => {
      const [wallet] = await tx
        .select()
        .from(wallets)
        .where(
          and(
            eq(wallets.id, walletId),
            scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
          ),
        );
      if (!wallet) throw new AppError('NOT_FOUND', `no wallet ${walletId} visible to you`);
      await this.#requireActiveLicence(tx, wallet.platformId, this.#clock.now());
      const address = await this.nextReceiveAddress(
        tx,
        wallet.companyId,
        optionalText(purpose, 'purpose', 200),
      );
      await recordAudit(tx, caller, this.#clock, {
        action: 'wallet.address_derived',
        entityType: 'wallet',
        entityId: walletId,
        after: address,
      });
      return address;
    });
  }

  /** The addresses a wallet has handed out, receive then change, each by index. */
  async listWalletAddresses(caller: Caller, walletId: string): Promise<WalletAddressView[]> {
    const [wallet] = await this.#db.orm
      .select()
      .from(wallets)
      .where(
        and(
          eq(wallets.id, walletId),
          scopeTo(caller, { participant: wallets.companyId, platform: wallets.platformId }),
        ),
      );
    if (!wallet) throw new AppError('NOT_FOUND', `no wallet ${walletId} visible to you`);
    const rows = await this.#db.orm
      .select()
      .from(walletAddresses)
      .where(eq(walletAddresses.walletId, walletId))
      .orderBy(asc(walletAddresses.branch), asc(walletAddresses.derivationIndex));
    return rows.map(walletAddressView);
  }

  /**
   * Which of `addresses` are company wallet addresses handed out, with their wallet, branch and
   * index (the chain consumer's question for every block: whose coins are these?).
   */
  async walletAddressOwners(
    addresses: readonly string[],
    orm: Orm = this.#db.orm,
  ): Promise<Map<string, WalletAddressOwner>> {
    if (addresses.length === 0) return new Map();
    const rows = await orm
      .select()
      .from(walletAddresses)
      .where(inArray(walletAddresses.address, [...addresses]));
    return new Map(rows.map((row) => [row.address, walletAddressOwner(row)]));
  }

  /**
   * The scripts and key paths of a handed-out wallet address (its wallet's descriptor at its
   * branch and index), for building and signing a PSBT that spends from it. NOT_FOUND when the
   * address is no company wallet's.
   */
  async walletAddressDerivation(address: string, orm: Orm = this.#db.orm): Promise<DerivedOutput> {
    const [row] = await orm
      .select({
        walletId: wallets.id,
        network: wallets.network,
        descriptor: wallets.descriptor,
        branch: walletAddresses.branch,
        index: walletAddresses.derivationIndex,
      })
      .from(walletAddresses)
      .innerJoin(wallets, eq(wallets.id, walletAddresses.walletId))
      .where(eq(walletAddresses.address, address));
    if (!row) throw new AppError('NOT_FOUND', `address ${address} is not a company wallet address`);
    const branch: Branch = row.branch === 1 ? CHANGE : RECEIVE;
    const derived = deriveAddress(
      parseDescriptor(row.descriptor, row.network as NetworkName),
      branch,
      row.index,
    );
    // A coin is signed for only with the keys that derive its very address.
    if (derived.address !== address)
      throw new AppError(
        'INTERNAL',
        `address ${address} is recorded as ${branchName(branch)} ${row.index} of wallet ${row.walletId}, whose descriptor derives ${derived.address ?? 'no address'} there`,
      );
    return derived;
  }

  /** Every address a company's wallet has handed out (receive and change), for reconciliation. */
  async walletAddressesOf(companyId: string, orm: Orm = this.#db.orm): Promise<string[]> {
    const rows = await orm
      .select({ address: walletAddresses.address })
      .from(walletAddresses)
      .where(eq(walletAddresses.companyId, companyId))
      .orderBy(asc(walletAddresses.branch), asc(walletAddresses.derivationIndex));
    return rows.map((r) => r.address);
  }

  // ------------------------------------------------------------------ foreign VASPs

  /**
   * Registers a foreign VASP (supervisor): name, LEI (ISO 17442 check digits), the jurisdiction
   * that licenses it and its licence. Screened at once, like any party.
   */
  async registerVasp(caller: Caller, input: RegisterVaspInput): Promise<VaspView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor registers foreign VASPs');
    const status = input.licence.status ?? 'active';
    if (!(VASP_LICENCE_STATUSES as readonly string[]).includes(status)) {
      throw invalid('licence.status', `must be one of ${VASP_LICENCE_STATUSES.join(', ')}`);
    }
    const now = this.#clock.now();
    const row = {
      id: newId('vasp', now, this.#random),
      name: requireText(input.name, 'name', 300),
      otherNames: (input.otherNames ?? []).map((n, i) => requireText(n, `otherNames.${i}`, 300)),
      lei: parseLei(input.lei, 'lei'),
      jurisdiction: parseCountry(input.jurisdiction, 'jurisdiction'),
      licenceAuthority: requireText(input.licence.authority, 'licence.authority', 200),
      licenceNumber: requireText(input.licence.number, 'licence.number', 100),
      licenceStatus: status,
      createdAt: now,
      updatedAt: now,
    };
    return this.#db.transaction(async (tx) => {
      try {
        await tx.insert(vasps).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError('CONFLICT', `a VASP with LEI ${row.lei} is already registered`, {
            issues: [{ field: 'lei', message: 'already registered' }],
          });
        }
        throw error;
      }
      const view = vaspView(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'vasp.registered',
        entityType: 'vasp',
        entityId: row.id,
        after: view,
      });
      await this.#screener.screen(tx, caller, {
        partyId: row.id,
        platformId: null,
        kind: 'organization',
        names: [row.name, ...row.otherNames],
      });
      return view;
    });
  }

  /** The registry's foreign VASPs (public to every role: platforms pick one for hosted addresses). */
  async listVasps(): Promise<VaspView[]> {
    const rows = await this.#db.orm.select().from(vasps).orderBy(asc(vasps.name), asc(vasps.id));
    return rows.map(vaspView);
  }

  async getVasp(id: string): Promise<VaspView> {
    const [row] = VASP_ID.test(id)
      ? await this.#db.orm.select().from(vasps).where(eq(vasps.id, id))
      : [];
    if (!row) throw new AppError('NOT_FOUND', `no VASP ${id}`);
    return vaspView(row);
  }

  // ------------------------------------------------------------------ counterparty addresses

  /**
   * The statement the counterparty signs (BIP322) to prove it controls a self-hosted address,
   * for this counterparty and address, issued today.
   */
  async ownershipStatement(
    caller: Caller,
    counterpartyId: string,
    address: string,
  ): Promise<{ message: string; validUntil: string }> {
    const counterparty = await this.getParticipant(caller, counterpartyId);
    if (counterparty.kind !== 'counterparty') {
      throw invalid(
        'id',
        `ownership statements are for counterparties, not a ${counterparty.kind}`,
      );
    }
    const parsed = parseAddress(address, this.network);
    const now = this.#clock.now();
    const issuedOn = now.toISOString().slice(0, 10);
    const validUntil = new Date(
      Date.parse(`${issuedOn}T00:00:00Z`) + (OWNERSHIP_STATEMENT_VALID_DAYS + 1) * 86_400_000,
    );
    return {
      message: ownershipStatement({ counterpartyId, address: parsed.canonical, issuedOn }),
      validUntil: validUntil.toISOString(),
    };
  }

  async registerCounterpartyAddress(
    caller: Caller,
    counterpartyId: string,
    input: CounterpartyAddressInput,
  ): Promise<CounterpartyAddressView> {
    if (caller.role !== 'platform' && caller.role !== 'supervisor') {
      throw forbidden(
        'counterparty addresses are registered by the platform the counterparty belongs to',
      );
    }
    const parsed = parseAddress(input.address, this.network);
    const now = this.#clock.now();
    let proof: { message: string; signature: string; addressType: string } | null = null;
    let vaspId: string | null = null;
    if (input.ownership === 'hosted') {
      // A hosted address is vouched for by a VASP of the registry (screened like any party), named
      // by id: a free-text name proved nothing.
      if (typeof input.vaspId !== 'string' || !VASP_ID.test(input.vaspId)) {
        throw invalid('vaspId', 'must name a registered VASP by its id (vsp_…; see GET /v1/vasps)');
      }
      vaspId = input.vaspId;
    } else if (input.ownership === 'self_hosted') {
      // BIP322: a self-hosted address is shown to be controlled by the counterparty with a simple
      // signature over the message; only a `valid` verdict is accepted (never `inconclusive`).
      // The message must be the ownership statement for this counterparty and address, recent:
      // a signature over anything else could be a replayed proof (see ownership.ts).
      const problem = statementProblem(input.message, {
        counterpartyId,
        address: parsed.canonical,
        now,
      });
      if (problem) {
        throw new AppError('OWNERSHIP_PROOF_INVALID', problem, {
          issues: [{ field: 'message', message: problem }],
        });
      }
      const verdict = verifyBip322Simple({
        address: parsed.canonical,
        message: input.message,
        signatureBase64: input.signature,
        network: this.network,
      });
      if (!verdict.valid) {
        throw new AppError(
          'OWNERSHIP_PROOF_INVALID',
          `the BIP322 proof for ${parsed.canonical} does not verify: ${verdict.reason}`,
          {
            issues: [{ field: 'signature', message: verdict.reason }],
          },
        );
      }
      proof = {
        message: input.message,
        signature: input.signature,
        addressType: verdict.addressType,
      };
    } else {
      throw invalid('ownership', 'must be "hosted" or "self_hosted"');
    }
    return this.#db.transaction(async (tx) => {
      const counterparty = await this.getParticipant(caller, counterpartyId, tx);
      if (counterparty.kind !== 'counterparty') {
        throw invalid(
          'counterpartyId',
          `addresses are registered for counterparties, not for a ${counterparty.kind}`,
        );
      }
      const platformId = counterparty.platformId ?? '';
      await this.#requireActiveLicence(tx, platformId, now);
      let vasp: typeof vasps.$inferSelect | undefined;
      if (vaspId !== null) {
        [vasp] = await tx.select().from(vasps).where(eq(vasps.id, vaspId));
        if (!vasp) throw invalid('vaspId', `no registered VASP ${vaspId}`);
        if (vasp.licenceStatus !== 'active') {
          throw invalid('vaspId', `VASP ${vaspId}'s licence is ${vasp.licenceStatus}`);
        }
        const hits = await this.#screener.blockingHits(tx, vasp.id);
        if (hits.length > 0) {
          throw new AppError(
            'SCREENING_HIT_UNRESOLVED',
            `VASP ${vasp.id} has ${hits.length} unresolved or confirmed screening hit(s); no address is registered as hosted there until they are resolved`,
            { issues: [{ field: 'vaspId', message: 'the VASP has unresolved screening hits' }] },
          );
        }
      }
      await this.claimAddress(tx, {
        address: parsed.canonical,
        ownerId: counterpartyId,
        role: 'counterparty_address',
      });
      const row = {
        id: newId('address', now, this.#random),
        counterpartyId,
        platformId,
        network: this.network,
        address: parsed.canonical,
        ownership: input.ownership,
        vaspId: vasp?.id ?? null,
        vaspName: vasp?.name ?? null,
        vaspLei: vasp?.lei ?? null,
        proofMessage: proof?.message ?? null,
        proofSignature: proof?.signature ?? null,
        proofAddressType: proof?.addressType ?? null,
        verifiedAt: now,
        createdAt: now,
      };
      try {
        await tx.insert(counterpartyAddresses).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError(
            'ADDRESS_ALREADY_ASSIGNED',
            `address ${parsed.canonical} is already registered to a counterparty`,
          );
        }
        throw error;
      }
      const view = counterpartyAddressView(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'counterparty_address.registered',
        entityType: 'participant',
        entityId: counterpartyId,
        after: view,
      });
      await this.#screener.screen(tx, caller, {
        partyId: counterpartyId,
        platformId,
        kind: counterparty.personType === 'natural' ? 'person' : 'organization',
        addresses: [parsed.canonical],
      });
      return view;
    });
  }

  /**
   * A page of a counterparty's registered addresses, newest first (keyset on created_at, id), for
   * a caller who may see the counterparty.
   */
  async listCounterpartyAddresses(
    caller: Caller,
    counterpartyId: string,
    page: PageRequest = {},
  ): Promise<Page<CounterpartyAddressView>> {
    await this.getParticipant(caller, counterpartyId);
    const { after, orderBy, read, limit } = keyset(counterpartyAddresses, page);
    const rows = await this.#db.orm
      .select()
      .from(counterpartyAddresses)
      .where(and(eq(counterpartyAddresses.counterpartyId, counterpartyId), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) => shown.map(counterpartyAddressView));
  }

  /** The registration of a counterparty address (who it belongs to and how ownership was shown), or null. */
  async counterpartyAddress(
    address: string,
    orm: Orm = this.#db.orm,
  ): Promise<CounterpartyAddressView | null> {
    let canonical: string;
    try {
      canonical = parseAddress(address, this.network).canonical;
    } catch {
      return null;
    }
    const [row] = await orm
      .select()
      .from(counterpartyAddresses)
      .where(eq(counterpartyAddresses.address, canonical));
    return row ? counterpartyAddressView(row) : null;
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
    const rows = await this.#db.orm
      .select()
      .from(participants)
      .where(scopeTo(caller, { participant: participants.id, platform: participants.platformId }))
      .orderBy(desc(participants.createdAt))
      .limit(limit);
    return rows.map(participantView);
  }
}

function isActiveAt(licence: LicenceView, at: Date): boolean {
  return (
    licence.status === 'active' &&
    licence.validFrom <= at &&
    (!licence.validTo || at < licence.validTo)
  );
}

function bestLicenceStatus(views: readonly LicenceView[], at: Date): LicenceStatus | 'none' {
  if (views.length === 0) return 'none';
  if (views.some((l) => isActiveAt(l, at))) return 'active';
  for (const status of ['suspended', 'expired', 'revoked'] as const) {
    if (views.some((l) => l.status === status)) return status;
  }
  // Active but not yet valid.
  return 'suspended';
}

function effectiveKycStatus(record: { status: string; reviewDue: string }, now: Date): KycStatus {
  if (record.status === 'verified' && record.reviewDue < todayOf(now)) return 'expired';
  return record.status as KycStatus;
}

function kycView(row: typeof kycRecords.$inferSelect, now: Date): KycView {
  return {
    participantId: row.participantId,
    platformId: row.platformId,
    status: effectiveKycStatus(row, now),
    riskRating: row.riskRating as RiskLevel,
    reviewDue: row.reviewDue,
    beneficialOwners: row.beneficialOwners,
    documents: row.documents,
    statusReason: row.statusReason,
    updatedAt: row.updatedAt,
  };
}

function walletView(row: typeof wallets.$inferSelect): WalletView {
  const network = row.network as NetworkName;
  // Wallets moved from trade's former store (migration 0018) kept the descriptor as it was given,
  // possibly without its BIP380 checksum: shown in normal form, as registered ones are stored.
  const descriptor = row.descriptor.includes('#')
    ? row.descriptor
    : descriptorToString(parseDescriptor(row.descriptor, network));
  return { ...row, network, descriptor };
}

function branchName(branch: number): WalletBranch {
  return branch === 1 ? 'change' : 'receive';
}

function walletAddressView(row: typeof walletAddresses.$inferSelect): WalletAddressView {
  return { ...row, branch: branchName(row.branch) };
}

function walletAddressOwner(row: typeof walletAddresses.$inferSelect): WalletAddressOwner {
  return {
    address: row.address,
    walletId: row.walletId,
    companyId: row.companyId,
    platformId: row.platformId,
    branch: row.branch === 1 ? CHANGE : RECEIVE,
    index: row.derivationIndex,
  };
}

function counterpartyAddressView(
  row: typeof counterpartyAddresses.$inferSelect,
): CounterpartyAddressView {
  return {
    id: row.id,
    counterpartyId: row.counterpartyId,
    platformId: row.platformId,
    address: row.address,
    network: row.network as NetworkName,
    ownership: row.ownership as 'hosted' | 'self_hosted',
    vasp: row.vaspName ? { id: row.vaspId, name: row.vaspName, lei: row.vaspLei } : null,
    proof:
      row.proofMessage !== null && row.proofSignature !== null
        ? {
            message: row.proofMessage,
            signature: row.proofSignature,
            addressType: row.proofAddressType ?? '',
          }
        : null,
    verifiedAt: row.verifiedAt,
  };
}

function vaspView(row: typeof vasps.$inferSelect): VaspView {
  return {
    id: row.id,
    name: row.name,
    otherNames: row.otherNames,
    lei: row.lei,
    jurisdiction: row.jurisdiction,
    licence: {
      authority: row.licenceAuthority,
      number: row.licenceNumber,
      status: row.licenceStatus as VaspLicenceStatus,
    },
    createdAt: row.createdAt,
  };
}

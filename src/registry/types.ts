import type { Branch } from '../bitcoin';
import type { Database } from '../db';
import type { Caller, Clock, NetworkName, Random } from '../kernel';
import type { BeneficialOwner, Contact, KycDocument, PostalAddress } from './schema';

/** The registry's vocabulary: its closed lists, the views it answers with, its inputs and its ports. */

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
 * The screening port: screens a party inside the registry's unit of work (its hits are stored
 * with the change that caused them; refused outside one) and tells which hits block verification
 * (read in the caller's unit). No handle is passed: both join the caller's unit of work.
 * Compliance's ScreeningService implements it; the composition root wires it (`setScreener`).
 */
export interface PartyScreener {
  screen(caller: Caller, subject: PartyScreeningSubject): Promise<void>;
  blockingHits(partyId: string): Promise<ReadonlyArray<{ id: string; subject: string }>>;
}

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

/** The scheme's jurisdiction (null until the supervisor sets it) and the ratings of countries. */
export interface SchemeFacts {
  scheme: { country: string; name: string } | null;
  jurisdictions: { country: string; riskLevel: string; refused: boolean }[];
}

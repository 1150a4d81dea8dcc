import { sql } from 'drizzle-orm';
import {
  boolean,
  check,
  date,
  foreignKey,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

/**
 * Participants: platforms (licensed VASPs), companies (each a client of one platform), miners
 * and foreign counterparties (each registered by, and belonging to, one platform).
 */
export const participants = pgTable(
  'participants',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(),
    /**
     * Whether the party is a legal person (the default) or a natural person (a foreign sole
     * trader; counterparties only): screening compares names with list entries of that kind.
     */
    personType: text('person_type').notNull().default('legal'),
    legalName: text('legal_name').notNull(),
    /** Other names in any script (trading names, transliterations, names in the local script). */
    otherNames: jsonb('other_names').$type<string[]>().notNull(),
    country: text('country').notNull(),
    registrationNumber: text('registration_number'),
    lei: text('lei'),
    addresses: jsonb('addresses').$type<PostalAddress[]>().notNull(),
    contacts: jsonb('contacts').$type<Contact[]>().notNull(),
    /** For a company or counterparty: the platform it belongs to. Null for platforms and miners. */
    platformId: text('platform_id'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check(
      'participants_kind_check',
      sql`${t.kind} in ('platform', 'company', 'miner', 'counterparty')`,
    ),
    check(
      'participants_platform_check',
      sql`(${t.kind} in ('company', 'counterparty')) = (${t.platformId} is not null)`,
    ),
    check('participants_person_type_check', sql`${t.personType} in ('legal', 'natural')`),
    check(
      'participants_natural_person_check',
      sql`${t.personType} = 'legal' or ${t.kind} = 'counterparty'`,
    ),
    check('participants_country_check', sql`${t.country} ~ '^[A-Z]{2}$'`),
    check('participants_lei_check', sql`${t.lei} is null or ${t.lei} ~ '^[0-9A-Z]{18}[0-9]{2}$'`),
    foreignKey({
      columns: [t.platformId],
      foreignColumns: [t.id],
      name: 'participants_platform_fk',
    }),
    // The participants list, newest first: all, a platform's, of a kind (keyset on created_at, id).
    index('participants_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('participants_kind_page_idx').on(t.kind, t.createdAt, t.id),
    index('participants_page_idx').on(t.createdAt, t.id),
    // Pickers' search: a prefix of the legal name, whatever its case (`?q=`).
    index('participants_name_prefix_idx').on(sql`lower(${t.legalName}) text_pattern_ops`),
    uniqueIndex('participants_lei_kind_idx').on(t.lei, t.kind),
  ],
);

export interface PostalAddress {
  lines: string[];
  city: string;
  postalCode?: string | undefined;
  country: string;
}

export interface Contact {
  name: string;
  email?: string | undefined;
  phone?: string | undefined;
  role?: string | undefined;
}

/** Licences granted by the supervisor to platforms and miners. */
export const licences = pgTable(
  'licences',
  {
    id: text('id').primaryKey(),
    participantId: text('participant_id')
      .notNull()
      .references(() => participants.id),
    kind: text('kind').notNull(),
    scope: text('scope').notNull(),
    validFrom: at('valid_from').notNull(),
    validTo: at('valid_to'),
    status: text('status').notNull(),
    statusReason: text('status_reason'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check(
      'licences_status_check',
      sql`${t.status} in ('active', 'suspended', 'revoked', 'expired')`,
    ),
    check('licences_validity_check', sql`${t.validTo} is null or ${t.validTo} > ${t.validFrom}`),
    // The licences list, newest first: all, a participant's (keyset on created_at, id).
    index('licences_participant_page_idx').on(t.participantId, t.createdAt, t.id),
    index('licences_page_idx').on(t.createdAt, t.id),
    // Licences expiring soon (the supervisor's home page).
    index('licences_expiry_idx')
      .on(t.validTo)
      .where(sql`${t.status} = 'active'`),
  ],
);

/** Every status change of a licence, with its reason: the licence's history. */
export const licenceEvents = pgTable(
  'licence_events',
  {
    licenceId: text('licence_id')
      .notNull()
      .references(() => licences.id),
    seq: integer('seq').notNull(),
    at: at('at').notNull(),
    fromStatus: text('from_status'),
    toStatus: text('to_status').notNull(),
    reason: text('reason'),
    actor: text('actor').notNull(),
  },
  (t) => [primaryKey({ columns: [t.licenceId, t.seq] })],
);

/** KYC/KYB of companies and counterparties. */
export const kycRecords = pgTable(
  'kyc_records',
  {
    participantId: text('participant_id')
      .primaryKey()
      .references(() => participants.id),
    platformId: text('platform_id').notNull(),
    status: text('status').notNull(),
    riskRating: text('risk_rating').notNull(),
    reviewDue: date('review_due', { mode: 'string' }).notNull(),
    beneficialOwners: jsonb('beneficial_owners').$type<BeneficialOwner[]>().notNull(),
    documents: jsonb('documents').$type<KycDocument[]>().notNull(),
    statusReason: text('status_reason'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('kyc_status_check', sql`${t.status} in ('pending', 'verified', 'rejected', 'expired')`),
    check('kyc_risk_check', sql`${t.riskRating} in ('low', 'medium', 'high')`),
    // A platform's KYC reviews coming due (its officers' home page).
    index('kyc_records_platform_due_idx').on(t.platformId, t.reviewDue),
  ],
);

export interface BeneficialOwner {
  name: string;
  country: string;
  /** Share in basis points (2500 = 25 %). */
  shareBasisPoints: number;
  dateOfBirth?: string | undefined;
}

export interface KycDocument {
  type: string;
  number: string;
  issuer: string;
}

/** The scheme's own jurisdiction (one row). */
export const schemeJurisdiction = pgTable(
  'scheme_jurisdiction',
  {
    singleton: integer('singleton').primaryKey().default(1),
    country: text('country').notNull(),
    name: text('name').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [check('scheme_jurisdiction_singleton', sql`${t.singleton} = 1`)],
);

/** Regions of the scheme's jurisdiction, each with its IANA time zone (for ban calendars). */
export const regions = pgTable(
  'regions',
  {
    code: text('code').primaryKey(),
    name: text('name').notNull(),
    timeZone: text('time_zone').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [check('regions_code_check', sql`${t.code} ~ '^[a-z0-9][a-z0-9-]{0,39}$'`)],
);

/** Per foreign country: a risk level, and whether settlement with it is refused at scheme level. */
export const jurisdictions = pgTable(
  'jurisdictions',
  {
    country: text('country').primaryKey(),
    riskLevel: text('risk_level').notNull(),
    refused: boolean('refused').notNull(),
    reason: text('reason'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('jurisdictions_risk_check', sql`${t.riskLevel} in ('low', 'medium', 'high')`),
    check('jurisdictions_refused_reason', sql`not ${t.refused} or ${t.reason} is not null`),
    // GET /v1/jurisdictions?refused=…, by country.
    index('jurisdictions_refused_page_idx').on(t.refused, t.country),
  ],
);

/**
 * A company's watch-only wallet, registered by its platform: the one wallet of the company, from
 * which the registry hands out receive addresses (invoices, deposits) and change addresses
 * (payouts), and whose keys the platform's signer holds.
 */
export const wallets = pgTable(
  'wallets',
  {
    id: text('id').primaryKey(),
    companyId: text('company_id')
      .notNull()
      .references(() => participants.id),
    platformId: text('platform_id').notNull(),
    network: text('network').notNull(),
    /**
     * The descriptor in normal form with its BIP380 checksum; ranged, with a receive and a change
     * branch (`…/<0;1>/*`, or `…/0/*` whose change branch is `…/1/*`).
     */
    descriptor: text('descriptor').notNull(),
    label: text('label').notNull(),
    /** The next index of the receive branch (BIP44 change = 0) to hand out. */
    nextIndex: integer('next_index').notNull(),
    /** The next index of the change branch (BIP44 change = 1) to hand out. */
    nextChangeIndex: integer('next_change_index').notNull().default(0),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('wallets_company_idx').on(t.companyId),
    // The wallets list, newest first: all, a platform's (a company has one wallet).
    index('wallets_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('wallets_page_idx').on(t.createdAt, t.id),
    check('wallets_next_index_check', sql`${t.nextIndex} >= 0 and ${t.nextIndex} < 2147483648`),
    check(
      'wallets_next_change_index_check',
      sql`${t.nextChangeIndex} >= 0 and ${t.nextChangeIndex} < 2147483648`,
    ),
  ],
);

/**
 * Addresses derived from a wallet and handed out, each at most once: receive addresses (to an
 * invoice, or by hand) and change addresses (to a payout batch). The chain consumer knows a
 * company's coins by these rows, and a payout signs for a coin with the row's branch and index.
 */
export const walletAddresses = pgTable(
  'wallet_addresses',
  {
    id: text('id').primaryKey(),
    walletId: text('wallet_id')
      .notNull()
      .references(() => wallets.id),
    companyId: text('company_id').notNull(),
    platformId: text('platform_id').notNull(),
    /** BIP44's change field: 0 receive, 1 change. */
    branch: integer('branch').notNull().default(0),
    derivationIndex: integer('derivation_index').notNull(),
    address: text('address').notNull().unique(),
    purpose: text('purpose'),
    usedAt: at('used_at').notNull(),
  },
  (t) => [
    uniqueIndex('wallet_addresses_path_idx').on(t.walletId, t.branch, t.derivationIndex),
    index('wallet_addresses_company_idx').on(t.companyId),
    check('wallet_addresses_branch_check', sql`${t.branch} in (0, 1)`),
  ],
);

/** A counterparty's address, with how its ownership was shown. */
export const counterpartyAddresses = pgTable(
  'counterparty_addresses',
  {
    id: text('id').primaryKey(),
    counterpartyId: text('counterparty_id')
      .notNull()
      .references(() => participants.id),
    platformId: text('platform_id').notNull(),
    network: text('network').notNull(),
    address: text('address').notNull().unique(),
    ownership: text('ownership').notNull(),
    /** The registered foreign VASP holding a hosted address (rows from before the VASP registry have only a name). */
    vaspId: text('vasp_id').references(() => vasps.id),
    vaspName: text('vasp_name'),
    vaspLei: text('vasp_lei'),
    proofMessage: text('proof_message'),
    proofSignature: text('proof_signature'),
    proofAddressType: text('proof_address_type'),
    verifiedAt: at('verified_at').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    check(
      'counterparty_addresses_ownership_check',
      sql`${t.ownership} in ('hosted', 'self_hosted')`,
    ),
    check(
      'counterparty_addresses_proof_check',
      sql`(${t.ownership} = 'hosted' and (${t.vaspId} is not null or ${t.vaspName} is not null)) or (${t.ownership} = 'self_hosted' and ${t.proofSignature} is not null and ${t.proofMessage} is not null)`,
    ),
    // A counterparty's addresses, newest first (keyset on created_at, id).
    index('counterparty_addresses_counterparty_page_idx').on(t.counterpartyId, t.createdAt, t.id),
  ],
);

/**
 * Foreign VASPs that hold counterparties' hosted addresses, registered by the supervisor and
 * screened like any party (FATF Recommendation 15: a VASP's counterparty VASPs are identified and
 * checked). A hosted address names one by id, never free text.
 */
export const vasps = pgTable(
  'vasps',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    otherNames: jsonb('other_names').$type<string[]>().notNull(),
    /** ISO 17442, check digits verified. */
    lei: text('lei').notNull().unique(),
    /** ISO 3166-1 alpha-2 of the jurisdiction that licenses it. */
    jurisdiction: text('jurisdiction').notNull(),
    licenceAuthority: text('licence_authority').notNull(),
    licenceNumber: text('licence_number').notNull(),
    licenceStatus: text('licence_status').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('vasps_lei_check', sql`${t.lei} ~ '^[0-9A-Z]{18}[0-9]{2}$'`),
    check('vasps_jurisdiction_check', sql`${t.jurisdiction} ~ '^[A-Z]{2}$'`),
    check(
      'vasps_licence_status_check',
      sql`${t.licenceStatus} in ('active', 'suspended', 'revoked')`,
    ),
    index('vasps_page_idx').on(t.createdAt, t.id),
    // A picker's search: a prefix of the name, whatever its case (`startsWith`).
    index('vasps_name_prefix_idx').on(sql`lower(${t.name}) text_pattern_ops`),
  ],
);

/**
 * One address, one owner across the registry: every counterparty address, company wallet address
 * handed out and miner payout address claims its row here, in the transaction that registers it,
 * so that no address is ever registered to two owners (the primary key decides a race).
 */
export const addressOwners = pgTable(
  'address_owners',
  {
    address: text('address').primaryKey(),
    ownerId: text('owner_id').notNull(),
    role: text('role').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    check(
      'address_owners_role_check',
      sql`${t.role} in ('counterparty_address', 'company_wallet', 'payout_address')`,
    ),
    index('address_owners_owner_idx').on(t.ownerId),
  ],
);

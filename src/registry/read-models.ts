import { pgView } from 'drizzle-orm/pg-core';
import { kycRecords, licences, participants, regions } from './schema';

/**
 * The registry's published read models: PostgreSQL views over its tables with only the columns
 * other modules' SQL reads (oversight's reports and home pages, clearing's loop report). Its
 * tables stay private. drizzle-kit creates the views from these declarations, so a renamed
 * column fails the typecheck here.
 */

/** Every participant's name, kind and country, and the platform a company or miner is under. */
export const registryParticipantFacts = pgView('registry_participant_facts').as((qb) =>
  qb
    .select({
      id: participants.id,
      kind: participants.kind,
      legalName: participants.legalName,
      country: participants.country,
      platformId: participants.platformId,
      createdAt: participants.createdAt,
    })
    .from(participants),
);

/** Licences: whose, which kind, in which state, valid when. */
export const registryLicenceFacts = pgView('registry_licence_facts').as((qb) =>
  qb
    .select({
      id: licences.id,
      participantId: licences.participantId,
      kind: licences.kind,
      status: licences.status,
      validFrom: licences.validFrom,
      validTo: licences.validTo,
      createdAt: licences.createdAt,
    })
    .from(licences),
);

/** KYC records' state and review date (never their documents or beneficial owners). */
export const registryKycFacts = pgView('registry_kyc_facts').as((qb) =>
  qb
    .select({
      participantId: kycRecords.participantId,
      platformId: kycRecords.platformId,
      status: kycRecords.status,
      riskRating: kycRecords.riskRating,
      reviewDue: kycRecords.reviewDue,
      updatedAt: kycRecords.updatedAt,
    })
    .from(kycRecords),
);

/** The scheme's regions by code, with their names. */
export const registryRegionNames = pgView('registry_region_names').as((qb) =>
  qb.select({ code: regions.code, name: regions.name }).from(regions),
);

/**
 * registry/: participants (platforms, companies, miners, foreign counterparties), licences,
 * KYC/KYB, jurisdictions and regions, company wallets and counterparty addresses.
 *
 * The read facade other modules (trade, compliance, mining) use is `RegistryService`. No method
 * takes a transaction handle: each joins the caller's unit of work (`db.current()`), else runs on
 * the pool; those that lock rows or write into the caller's change refuse to run outside a unit.
 *
 * - `getParticipant(caller, id)` → ParticipantView, scoped to the caller (PARTICIPANT_NOT_FOUND
 *   when the caller may not see it);
 * - `requireActiveLicence(participantId, at?)` throws LICENCE_NOT_ACTIVE unless the platform
 *   or miner holds a licence that is active and within its validity at `at`;
 * - `partyFacts(participantId)` → { id, kind, legalName, otherNames, country, lei,
 *   kycStatus, riskRating, platformId, licenceStatus } (KYC fields for companies and
 *   counterparties, licence status for platforms and miners);
 * - `requireVerified(participantId)` throws KYC_NOT_VERIFIED unless verified and not past review;
 * - company wallets (one per company, registered once by its platform; the only wallet store:
 *   trade's invoices and payouts take their addresses here):
 *   `nextReceiveAddress(companyId, purpose?)` / `nextChangeAddress(companyId, purpose?)`
 *   derive the company's next receive (BIP44 change = 0) or change (= 1) address and record it as
 *   handed out, inside the caller's transaction (never handed out again; CONFLICT without a
 *   wallet); `walletAddressOwners(addresses)` → address → { walletId, companyId, platformId,
 *   branch, index }; `walletAddressDerivation(address)` → scripts and key paths to sign a
 *   coin; `walletAddressesOfCompanies(companyIds)` → company → addresses;
 * - `counterpartyAddress(address)` → the registration and its ownership proof, or null;
 * - `isJurisdictionRefused(country)` / `requireJurisdictionAllowed(country)`
 *   (JURISDICTION_REFUSED);
 * - `listParties()` → PartyFacts of every company and counterparty;
 * - screening from onboarding: registering a participant or VASP, changing names
 *   (`updateParticipantNames`), beneficial owners (`setKyc`) or addresses screens the party
 *   through the PartyScreener port (compliance's, wired with `setScreener`); `setKyc` refuses
 *   `verified` with SCREENING_HIT_UNRESOLVED while a hit stands; `screeningParties()` and
 *   `registeredAddresses()` feed re-screening after a list import;
 * - foreign VASPs (`registerVasp`, `listVasps`, `getVasp`): a hosted counterparty address names
 *   one by id;
 * - one address, one owner: `claimAddress({ address, ownerId, role, field? })` inside the
 *   registering transaction (counterparty addresses, company wallet addresses, miner payout
 *   addresses), ADDRESS_ALREADY_ASSIGNED when another owner holds the address;
 * - `getRegion(code)` → { code, name, timeZone } (mining's ban calendar uses the time zone);
 *   `lockRegion(code)` the same, its row locked until the caller's transaction ends;
 * - `participantNames(db, ids)` → Map of id to legal name, one query (lists name their ids).
 *
 * Country codes (ISO 3166-1 alpha-2) and LEIs (ISO 17442) are checked by the kernel's
 * `parseCountry` and `parseLei`, which throw INVALID_COUNTRY and INVALID_LEI.
 */
export { RegistryService } from './service';
export { LICENCE_CHANGED } from './licences';
export type { LicenceChanged } from './licences';
export { participantNames } from './names';
export {
  PARTICIPANT_KINDS,
  PERSON_TYPES,
  LICENCE_STATUSES,
  KYC_STATUSES,
  RISK_LEVELS,
  ADDRESS_ROLES,
  VASP_LICENCE_STATUSES,
} from './types';
export type {
  AddressRole,
  PartyScreener,
  PartyScreeningSubject,
  RegisterVaspInput,
  ScreeningPartyFacts,
  VaspLicenceStatus,
  VaspView,
  CounterpartyAddressInput,
  CounterpartyAddressView,
  GrantLicenceInput,
  JurisdictionView,
  KycStatus,
  KycView,
  LicenceStatus,
  LicenceView,
  ParticipantKind,
  PersonType,
  ParticipantView,
  PartyFacts,
  RegionView,
  RegisterParticipantInput,
  RegistryServiceDeps,
  RiskLevel,
  SchemeFacts,
  SetKycInput,
  WalletAddressOwner,
  WalletAddressView,
  WalletBranch,
  WalletView,
} from './types';
export { formatBasisPoints } from './validate';
export type { BeneficialOwner, Contact, KycDocument, PostalAddress } from './schema';
// Published read models: views other modules' SQL reads instead of this module's tables.
export {
  registryKycFacts,
  registryLicenceFacts,
  registryParticipantFacts,
  registryRegionNames,
} from './read-models';

import { AuditLog } from '../audit';
import type { DerivedOutput } from '../bitcoin';
import type { Page, PageRequest } from '../db';
import { cryptoRandom, type Caller, type NetworkName } from '../kernel';
import { AddressOwnerRegistry } from './address-owners';
import { CounterpartyAddressRegistry } from './counterparty-addresses';
import { JurisdictionRegistry } from './jurisdictions';
import { KycRegistry } from './kyc';
import { LicenceRegistry } from './licences';
import { ParticipantRegistry } from './participants';
import { unscreened, type RegistryContext } from './shared';
import type {
  AddressRole,
  CounterpartyAddressInput,
  CounterpartyAddressView,
  GrantLicenceInput,
  JurisdictionView,
  SchemeFacts,
  KycView,
  LicenceStatus,
  LicenceView,
  ParticipantKind,
  ParticipantView,
  PartyFacts,
  PartyScreener,
  RegionView,
  RegisterParticipantInput,
  RegisterVaspInput,
  RegistryServiceDeps,
  RiskLevel,
  ScreeningPartyFacts,
  SetKycInput,
  VaspView,
  WalletAddressOwner,
  WalletAddressView,
  WalletView,
} from './types';
import { VaspRegistry } from './vasps';
import { WalletRegistry } from './wallets';

/**
 * The registry: participants, licences, KYC/KYB, jurisdictions and regions, company wallets and
 * counterparty addresses. Every change writes its audit event in the same transaction; every
 * read is scoped to the caller (a row the caller may not see is reported as not found).
 * No method takes a transaction handle: each reads and writes in the caller's unit of work
 * (`db.current()`) when there is one, else on the pool; the methods that lock rows or write
 * into the caller's change (`nextReceiveAddress`, `nextChangeAddress`, `lockWallets`,
 * `lockRegion`, `claimAddress`, `screenOwnedAddress`) refuse to run outside a unit.
 *
 * This class is the registry's one public service and only delegates: each part's work is in
 * the file named after it (participants.ts, licences.ts, kyc.ts, jurisdictions.ts, wallets.ts,
 * vasps.ts, counterparty-addresses.ts, address-owners.ts), all sharing one `RegistryContext`.
 */
export class RegistryService {
  readonly network: NetworkName;
  readonly #ctx: RegistryContext;
  readonly #participants: ParticipantRegistry;
  readonly #addressOwners: AddressOwnerRegistry;
  readonly #licences: LicenceRegistry;
  readonly #kyc: KycRegistry;
  readonly #jurisdictions: JurisdictionRegistry;
  readonly #wallets: WalletRegistry;
  readonly #vasps: VaspRegistry;
  readonly #counterpartyAddresses: CounterpartyAddressRegistry;

  constructor(deps: RegistryServiceDeps) {
    this.network = deps.network;
    this.#ctx = {
      db: deps.db,
      clock: deps.clock,
      random: deps.random ?? cryptoRandom,
      network: deps.network,
      audit: new AuditLog(deps),
      screener: deps.screener ?? unscreened,
    };
    this.#participants = new ParticipantRegistry(this.#ctx);
    this.#addressOwners = new AddressOwnerRegistry(this.#ctx);
    this.#licences = new LicenceRegistry(this.#ctx, this.#participants);
    this.#kyc = new KycRegistry(this.#ctx, this.#participants);
    this.#jurisdictions = new JurisdictionRegistry(this.#ctx);
    this.#wallets = new WalletRegistry(this.#ctx, this.#participants, this.#addressOwners);
    this.#vasps = new VaspRegistry(this.#ctx);
    this.#counterpartyAddresses = new CounterpartyAddressRegistry(
      this.#ctx,
      this.#participants,
      this.#addressOwners,
    );
  }

  /** The composition root wires compliance's screening here once both exist. */
  setScreener(screener: PartyScreener): void {
    this.#ctx.screener = screener;
  }

  // ------------------------------------------------------------------ participants (participants.ts)

  registerParticipant(caller: Caller, input: RegisterParticipantInput): Promise<ParticipantView> {
    return this.#participants.registerParticipant(caller, input);
  }

  /** See ParticipantRegistry.updateParticipantNames: the new names are screened with the change. */
  updateParticipantNames(
    caller: Caller,
    id: string,
    input: { legalName?: string | undefined; otherNames?: string[] | undefined },
  ): Promise<ParticipantView> {
    return this.#participants.updateParticipantNames(caller, id, input);
  }

  /** Every party screening re-screens after a list import (participants and foreign VASPs). */
  screeningParties(): Promise<ScreeningPartyFacts[]> {
    return this.#participants.screeningParties();
  }

  /** One participant, if the caller may see it (else PARTICIPANT_NOT_FOUND). */
  getParticipant(caller: Caller, id: string): Promise<ParticipantView> {
    return this.#participants.getParticipant(caller, id);
  }

  /** The participants the caller may see (a company also its platform's counterparties), paged. */
  listParticipants(
    caller: Caller,
    filter?: { kind?: ParticipantKind | undefined; platformId?: string | undefined },
    page?: PageRequest,
  ): Promise<Page<ParticipantView>> {
    return this.#participants.listParticipants(caller, filter, page);
  }

  /** Every party (companies and counterparties) with its facts, for re-screening after a list update. */
  listParties(): Promise<PartyFacts[]> {
    return this.#participants.listParties();
  }

  partyFacts(participantId: string): Promise<PartyFacts> {
    return this.#participants.partyFacts(participantId);
  }

  /** Throws KYC_NOT_VERIFIED unless verified, not past review, and with no blocking screening hit. */
  requireVerified(participantId: string): Promise<void> {
    return this.#participants.requireVerified(participantId);
  }

  requireNotHeld(participantId: string): Promise<void> {
    return this.#participants.requireNotHeld(participantId);
  }

  /** Tenancy helper for other modules: may `caller` see participant `id`? */
  canSee(caller: Caller, id: string): Promise<boolean> {
    return this.#participants.canSee(caller, id);
  }

  /** The most recent participants first, for dashboards (scoped). */
  recentParticipants(caller: Caller, limit?: number): Promise<ParticipantView[]> {
    return this.#participants.recentParticipants(caller, limit);
  }

  // ------------------------------------------------------------------ address owners (address-owners.ts)

  /** Every address registered to an owner (counterparty, company wallet, miner payout), for re-screening. */
  registeredAddresses(): Promise<{ address: string; ownerId: string; role: AddressRole }[]> {
    return this.#addressOwners.registeredAddresses();
  }

  /**
   * Screens an address registered outside the registry (a miner's payout address) in the
   * caller's unit of work (refused outside one).
   */
  screenOwnedAddress(caller: Caller, input: { ownerId: string; address: string }): Promise<void> {
    return this.#addressOwners.screenOwnedAddress(caller, input);
  }

  /**
   * One address, one owner: ADDRESS_ALREADY_ASSIGNED when another owner holds `address`. In the
   * caller's unit of work (refused outside one).
   */
  claimAddress(input: {
    address: string;
    ownerId: string;
    role: AddressRole;
    field?: string | undefined;
  }): Promise<void> {
    return this.#addressOwners.claimAddress(input);
  }

  // ------------------------------------------------------------------ licences (licences.ts)

  grantLicence(caller: Caller, input: GrantLicenceInput): Promise<LicenceView> {
    return this.#licences.grantLicence(caller, input);
  }

  /** active ⇄ suspended, active|suspended → revoked (final) or expired; a reason but to reinstate. */
  changeLicenceStatus(
    caller: Caller,
    id: string,
    to: Exclude<LicenceStatus, never>,
    reason: string | null | undefined,
  ): Promise<LicenceView> {
    return this.#licences.changeLicenceStatus(caller, id, to, reason);
  }

  /** A page of the licences visible to the caller, newest first (keyset on created_at, id). */
  listLicences(
    caller: Caller,
    filter?: Parameters<LicenceRegistry['listLicences']>[1],
    page?: PageRequest,
  ): Promise<Page<LicenceView>> {
    return this.#licences.listLicences(caller, filter, page);
  }

  getLicence(caller: Caller, id: string): Promise<LicenceView> {
    return this.#licences.getLicence(caller, id);
  }

  /** Throws LICENCE_NOT_ACTIVE unless the participant holds a licence active and valid at `at`. */
  requireActiveLicence(participantId: string, at?: Date): Promise<void> {
    return this.#licences.requireActiveLicence(participantId, at);
  }

  // ------------------------------------------------------------------ KYC / KYB (kyc.ts)

  setKyc(caller: Caller, participantId: string, input: SetKycInput): Promise<KycView> {
    return this.#kyc.setKyc(caller, participantId, input);
  }

  getKyc(caller: Caller, participantId: string): Promise<KycView> {
    return this.#kyc.getKyc(caller, participantId);
  }

  // ------------------------------------------------------------------ jurisdictions and regions (jurisdictions.ts)

  setSchemeJurisdiction(
    caller: Caller,
    input: { country: string; name: string },
  ): Promise<{ country: string; name: string }> {
    return this.#jurisdictions.setSchemeJurisdiction(caller, input);
  }

  getSchemeJurisdiction(): Promise<{ country: string; name: string } | null> {
    return this.#jurisdictions.getSchemeJurisdiction();
  }

  schemeFacts(): Promise<SchemeFacts> {
    return this.#jurisdictions.schemeFacts();
  }

  createRegion(caller: Caller, input: RegionView): Promise<RegionView> {
    return this.#jurisdictions.createRegion(caller, input);
  }

  listRegions(page?: PageRequest): Promise<Page<RegionView>> {
    return this.#jurisdictions.listRegions(page);
  }

  getRegion(code: string): Promise<RegionView> {
    return this.#jurisdictions.getRegion(code);
  }

  /** The region, its row locked until the caller's unit of work ends (refused outside one). */
  lockRegion(code: string): Promise<RegionView> {
    return this.#jurisdictions.lockRegion(code);
  }

  setJurisdiction(
    caller: Caller,
    input: {
      country: string;
      riskLevel: RiskLevel;
      refused: boolean;
      reason?: string | null | undefined;
    },
  ): Promise<JurisdictionView> {
    return this.#jurisdictions.setJurisdiction(caller, input);
  }

  listJurisdictions(
    filter?: { refused?: boolean | undefined },
    page?: PageRequest,
  ): Promise<Page<JurisdictionView>> {
    return this.#jurisdictions.listJurisdictions(filter, page);
  }

  /** True when settlement with `country` is refused at scheme level. */
  isJurisdictionRefused(country: string): Promise<boolean> {
    return this.#jurisdictions.isJurisdictionRefused(country);
  }

  /** Throws JURISDICTION_REFUSED naming the reason when settlement with `country` is refused. */
  requireJurisdictionAllowed(country: string): Promise<void> {
    return this.#jurisdictions.requireJurisdictionAllowed(country);
  }

  // ------------------------------------------------------------------ wallets (wallets.ts)

  /** Registers a company's one watch-only wallet (CONFLICT when it already has one). */
  registerWallet(
    caller: Caller,
    input: { companyId: string; descriptor: string; label?: string | undefined },
  ): Promise<WalletView> {
    return this.#wallets.registerWallet(caller, input);
  }

  /** A page of the wallets visible to the caller, newest first (keyset on created_at, id). */
  listWallets(
    caller: Caller,
    filter?: { companyId?: string | undefined },
    page?: PageRequest,
  ): Promise<Page<WalletView>> {
    return this.#wallets.listWallets(caller, filter, page);
  }

  /** One wallet the caller may see; another's is not found, exactly like one that does not exist. */
  getWallet(caller: Caller, id: string): Promise<WalletView> {
    return this.#wallets.getWallet(caller, id);
  }

  /**
   * The company's next receive address, recorded as handed out inside the caller's unit of work
   * (refused outside one), under the wallet row's lock (taken before the audit head; see
   * wallets.ts).
   */
  nextReceiveAddress(companyId: string, purpose?: string | null): Promise<WalletAddressView> {
    return this.#wallets.nextReceiveAddress(companyId, purpose);
  }

  /** The company's next change address, like `nextReceiveAddress` (a payout batch's change). */
  nextChangeAddress(companyId: string, purpose?: string | null): Promise<WalletAddressView> {
    return this.#wallets.nextChangeAddress(companyId, purpose);
  }

  /**
   * Locks the companies' wallet rows (by company id, one order for all) until the caller's unit
   * of work ends (refused outside one).
   */
  lockWallets(companyIds: readonly string[]): Promise<void> {
    return this.#wallets.lockWallets(companyIds);
  }

  /** For the HTTP API: hands out the next receive address of a company, as its own transaction. */
  deriveReceiveAddress(
    caller: Caller,
    walletId: string,
    purpose: string | null,
  ): Promise<WalletAddressView> {
    return this.#wallets.deriveReceiveAddress(caller, walletId, purpose);
  }

  /** A page of the addresses a wallet has handed out, receive then change, each by index. */
  listWalletAddresses(
    caller: Caller,
    walletId: string,
    filter?: { branch?: 0 | 1 | undefined },
    page?: PageRequest,
  ): Promise<Page<WalletAddressView>> {
    return this.#wallets.listWalletAddresses(caller, walletId, filter, page);
  }

  /** Which of `addresses` are company wallet addresses handed out, with wallet, branch and index. */
  walletAddressOwners(addresses: readonly string[]): Promise<Map<string, WalletAddressOwner>> {
    return this.#wallets.walletAddressOwners(addresses);
  }

  /** The scripts and key paths of a handed-out wallet address, to sign for a coin on it. */
  walletAddressDerivation(address: string): Promise<DerivedOutput> {
    return this.#wallets.walletAddressDerivation(address);
  }

  /** Every address the companies' wallets have handed out, per company, for reconciliation. */
  walletAddressesOfCompanies(companyIds: readonly string[]): Promise<Map<string, string[]>> {
    return this.#wallets.walletAddressesOfCompanies(companyIds);
  }

  // ------------------------------------------------------------------ foreign VASPs (vasps.ts)

  /** Registers a foreign VASP (supervisor), screened at once like any party. */
  registerVasp(caller: Caller, input: RegisterVaspInput): Promise<VaspView> {
    return this.#vasps.registerVasp(caller, input);
  }

  /** The registry's foreign VASPs (public to every role: platforms pick one for hosted addresses). */
  listVasps(filter?: { q?: string }, page?: PageRequest): Promise<Page<VaspView>> {
    return this.#vasps.listVasps(filter, page);
  }

  getVasp(id: string): Promise<VaspView> {
    return this.#vasps.getVasp(id);
  }

  // ------------------------------------------------------------------ counterparty addresses (counterparty-addresses.ts)

  /** The statement a counterparty signs (BIP322) to prove it controls a self-hosted address. */
  ownershipStatement(
    caller: Caller,
    counterpartyId: string,
    address: string,
  ): Promise<{ message: string; validUntil: string }> {
    return this.#counterpartyAddresses.ownershipStatement(caller, counterpartyId, address);
  }

  registerCounterpartyAddress(
    caller: Caller,
    counterpartyId: string,
    input: CounterpartyAddressInput,
  ): Promise<CounterpartyAddressView> {
    return this.#counterpartyAddresses.registerCounterpartyAddress(caller, counterpartyId, input);
  }

  /** A page of a counterparty's registered addresses, newest first, for a caller who may see it. */
  listCounterpartyAddresses(
    caller: Caller,
    counterpartyId: string,
    page?: PageRequest,
  ): Promise<Page<CounterpartyAddressView>> {
    return this.#counterpartyAddresses.listCounterpartyAddresses(caller, counterpartyId, page);
  }

  /** The registration of a counterparty address (who it belongs to and how ownership was shown), or null. */
  counterpartyAddress(address: string): Promise<CounterpartyAddressView | null> {
    return this.#counterpartyAddresses.counterpartyAddress(address);
  }
}

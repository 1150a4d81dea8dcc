/**
 * The policy gate's interface. The gate depends on no other module's internals: the caller
 * (trade, for payouts and incoming payments) gathers these plain facts and passes them in.
 */
import type { Caller } from '../../kernel';
import type { Ivms101Payload } from '../../kernel';

export type TransferDirection = 'inbound' | 'outbound';
export type LicenceStatus = 'active' | 'pending' | 'suspended' | 'revoked' | 'expired';
export type KycStatus = 'verified' | 'pending' | 'rejected' | 'expired' | 'none';
export type PartyKind = 'person' | 'organization';
/** The scheme's rating of a country (registry jurisdictions). */
export type CountryRiskLevel = 'low' | 'medium' | 'high';
/**
 * How the counterparty's address is held: at a VASP ('hosted'), or in a self-hosted wallet whose
 * ownership the counterparty proved with a BIP322 signature ('selfHostedProven') or did not.
 */
export type AddressOwnership = 'hosted' | 'selfHostedProven' | 'selfHostedUnproven' | 'unknown';

export interface TransferFacts {
  /** The transfer's id in the calling module (payout or settlement id): decisions are keyed by it. */
  transferId: string;
  direction: TransferDirection;
  occurredAt: Date;
  amountSats: bigint;
  /** The transfer's value in fiat minor units at the rate used (`rate`: fiat units per BTC, exact decimal). */
  fiatValue: { minor: bigint; currency: string; rate: string };
  /** The licensed platform carrying the transfer. */
  platform: { id: string; licenceStatus: LicenceStatus };
  /** The scheme's own company (exporter or importer). */
  company: {
    id: string;
    legalName: string;
    country: string;
    kycStatus: KycStatus;
    licence?: { id: string; status: LicenceStatus } | null;
  };
  /** The foreign party paying or being paid. */
  counterparty: {
    id: string;
    legalName: string;
    otherNames: string[];
    country: string;
    kind: PartyKind;
    kycStatus: KycStatus;
    countryRiskLevel: CountryRiskLevel;
  };
  counterpartyAddress: {
    address: string;
    /** Asset ticker as the sanctions lists write it: XBT for bitcoin. */
    asset: string;
    ownership: AddressOwnership;
    /** When hosted by another platform of this scheme, its participant id (Travel Rule goes through Tradeclear). */
    schemePlatformId?: string | null;
  };
  /** ISO 3166-1 alpha-2 country of the scheme (the supervisor's jurisdiction). */
  schemeCountry: string;
  /** Countries with which settlement is refused at scheme level. */
  refusedJurisdictions: string[];
  contract: { id: string; openAmountSats: bigint; toleranceSats: bigint } | null;
  /** IVMS101 originator/beneficiary data, or null when none was supplied. */
  travelRule: Ivms101Payload | null;
  /**
   * Present on a domestic transfer: the coin leg of a deal on the scheme's domestic market, cleared
   * coins sold by a licensed miner (the counterparty, in the scheme's country) to the company (the
   * importer; direction inbound), from the escrow address the market platform holds
   * (`counterpartyAddress`, hosted by it). Such a transfer is judged by the domestic rule set
   * (`gate.domestic@1` in place of the foreign-trade, contract and cross-border Travel Rule checks).
   */
  domestic?: DomesticLeg | null;
}

/** What a domestic transfer adds to the facts (see `TransferFacts.domestic`). */
export interface DomesticLeg {
  /**
   * The miner's mining licence: a miner keeps no KYC record, it was identified and verified by
   * the supervisor when licensed (null when it holds none).
   */
  counterpartyLicenceStatus: LicenceStatus | null;
  /** The platform the miner is a client of (the market's when it is no platform's client). */
  counterpartyPlatform: { id: string; legalName: string; licenceStatus: LicenceStatus };
  /** The importer's platform (`platform` is the market's). */
  companyPlatform: { id: string; legalName: string; licenceStatus: LicenceStatus };
  /** The company wallet's address the coins go to; null before it is handed out (at matching). */
  destinationAddress: string | null;
  /** The lot the coins were mined in is cleared or released (not quarantined). */
  lotCleared: boolean;
  /** The lot, for the record. */
  lotId: string;
}

export type GateOutcome = 'allow' | 'review' | 'block';

export interface GateReason {
  /** Stable machine code, e.g. SANCTIONS_ADDRESS_MATCH, TRAVEL_RULE_INVALID. */
  code: string;
  /** The check or monitoring rule that produced it, e.g. `gate.screening@1`, `rule.velocity@1`. */
  rule: string;
  message: string;
  /** The fact or payload field concerned, e.g. `travelRule.originator.originatorPersons.0`. */
  field?: string;
  /** This reason's own severity (the decision's outcome is the worst of them). */
  outcome: GateOutcome;
}

export interface PolicyDecision {
  decisionId: string;
  transferId: string;
  outcome: GateOutcome;
  reasons: GateReason[];
  /** The list snapshots screening used. */
  listSnapshotIds: string[];
  /** Every check and monitoring rule version evaluated, e.g. ['gate.licences@1', 'rule.velocity@1']. */
  ruleVersions: string[];
  /** Monitoring's summed score. */
  monitoringScore: number;
}

/** The gate's port, as another module sees it. */
export interface PolicyGatePort {
  /**
   * Decides inside the caller's unit of work (the decision commits or rolls back with it); no
   * handle is passed, and outside a transaction it is refused.
   */
  decide(caller: Caller, facts: TransferFacts): Promise<PolicyDecision>;
  /**
   * Decides and commits the decision with its audit event before answering, together with the
   * other decisions asked for meanwhile (group commit): many times the throughput of one
   * transaction per decision. Not from inside a transaction.
   */
  decideCommitted(caller: Caller, facts: TransferFacts): Promise<PolicyDecision>;
  /**
   * `decideCommitted` for a transfer created with its decision: the caller's `work` runs in the
   * batch's transaction (its locks first, then `before` ahead of the batch's audit append, then
   * `after`), so the decision commits with the row it decides or not at all. A request whose
   * work fails fails alone (the others of its batch commit). Not from inside a transaction.
   */
  decideAndCreate<T>(
    caller: Caller,
    facts: TransferFacts,
    work: CommitWork<T>,
  ): Promise<{ decision: PolicyDecision; created: T }>;
  /**
   * Allow or block as decided, or a review's resolution (null while it waits); read in the
   * caller's unit of work when there is one.
   */
  resolution(decisionId: string): Promise<'allow' | 'block' | null>;
  /**
   * The reasons the caller can mend before the transfer is created (decides nothing, writes
   * nothing), and what else would stop it (for the record of an attempt refused for its input).
   * Read in the caller's unit of work when there is one.
   */
  inputIssues(caller: Caller, facts: TransferFacts): Promise<InputIssues>;
  /**
   * Marks a decided transfer void, in the caller's unit of work (refused outside one): it never
   * happened (refused after its decision, or undone before anything moved), so monitoring's
   * windows leave it out; its decisions stay. Audited (`compliance_transfer.voided`); false when there is no such transfer or it is void.
   */
  voidTransfer(caller: Caller, transferId: string, reason: string): Promise<boolean>;
}

/**
 * What a caller of `decideAndCreate` does in the batch's transaction, which is its unit of work
 * (`db.current()`): the rows it locks, taken for every request of the batch before any step, in
 * `LOCK_ORDER` and by key (so batches and other writers never wait for each other in a circle);
 * `before`, run in the batch's order ahead of its audit append (the audit head is not held yet:
 * what locks a contract or a wallet, and what checks the decided facts still hold); and `after`,
 * run after the append (the row's own audit events, its announcements). A throw in either fails
 * the batch, whose requests are then run one at a time: the failing one fails alone.
 */
export interface CommitWork<T> {
  readonly locks: readonly WorkLock[];
  before(decision: PolicyDecision): Promise<void>;
  after(decision: PolicyDecision): Promise<T>;
}

/** A row lock a unit of work takes (a `LOCK_ORDER` name below the audit head, and its key). */
export interface WorkLock {
  readonly lock: 'contract' | 'wallet';
  readonly key: string;
  take(): Promise<void>;
}

/** What `inputIssues` found, with the Travel Rule threshold to say what it is. */
export interface InputIssues {
  reasons: GateReason[];
  travelRuleThreshold: { minor: bigint; currency: string };
  /**
   * The codes of what else would stop the transfer (a list match, a refused jurisdiction): for
   * the supervisor's record of an attempt refused for its input, never shown to the caller.
   */
  stoppedBy: string[];
}

/** Registered parties and addresses, for re-screening when a new list snapshot arrives (registry provides it). */
export interface PartySource {
  listParties(): AsyncIterable<{
    id: string;
    kind: PartyKind;
    names: string[];
    country: string;
    /** The platform the party belongs to (its officers review the party's hits first). */
    platformId?: string | null;
    /** Beneficial owners (natural persons) with their direct holdings, when the party has a KYB record. */
    owners?: { name: string; shareBasisPoints: number }[];
  }>;
  listAddresses(): AsyncIterable<{ participantId: string; address: string; asset?: string }>;
}

/** A PartySource with nothing in it: the default until the registry is wired. */
export const emptyPartySource: PartySource = {
  async *listParties() {},
  async *listAddresses() {},
};

import type { Branch, DerivedOutput } from '../bitcoin';
import type { Database } from '../db';
import type { AppError, Caller } from '../kernel';

/** What trade needs to know about a company (from the registry). */
export interface CompanyFacts {
  readonly id: string;
  readonly platformId: string;
  readonly name: string;
  readonly country: string;
  /** KYB passed and not past review. */
  readonly verified: boolean;
}

export interface CounterpartyFacts {
  readonly id: string;
  /** The platform that registered the counterparty: only its companies trade with it. */
  readonly platformId: string | null;
  readonly name: string;
  readonly country: string;
  readonly verified: boolean;
}

/**
 * The PartyDirectory port: the registry's read facade, as trade uses it. Read in the caller's
 * unit of work (no handle is passed).
 */
export interface PartyDirectory {
  company(id: string): Promise<CompanyFacts | null>;
  counterparty(id: string): Promise<CounterpartyFacts | null>;
}

/** A company wallet address handed out, as trade needs to know it: whose, and where it derives. */
export interface WalletAddressFacts {
  readonly address: string;
  readonly companyId: string;
  readonly platformId: string;
  readonly branch: Branch;
  readonly index: number;
}

/**
 * The CompanyWallets port: the registry's company wallets (RegistryService), the one store of
 * wallets, as trade uses them. Every method joins the caller's unit of work (no handle is
 * passed). Invoices take receive addresses and payout batches change addresses inside their own
 * transaction (an address is handed out when, and only if, that transaction commits, and never
 * again; outside a transaction they are refused); the chain consumer asks whose an address is; a
 * payout signs a coin with its address's derivation.
 */
export interface CompanyWallets {
  nextReceiveAddress(
    companyId: string,
    purpose: string | null,
  ): Promise<{ readonly address: string }>;
  nextChangeAddress(
    companyId: string,
    purpose: string | null,
  ): Promise<{ readonly address: string }>;
  /**
   * Locks the companies' wallet rows until the caller's transaction ends, in one order (by
   * company id): a writer that will take addresses after an audited write (a payout batch's
   * change, after the gate) takes them first, so that every writer locks a wallet before the
   * audit head.
   */
  lockWallets(companyIds: readonly string[]): Promise<void>;
  walletAddressOwners(
    addresses: readonly string[],
  ): Promise<ReadonlyMap<string, WalletAddressFacts>>;
  walletAddressDerivation(address: string): Promise<DerivedOutput>;
  /** Every address each company's wallet handed out, in one read (absent: none). */
  walletAddressesOfCompanies(
    companyIds: readonly string[],
  ): Promise<ReadonlyMap<string, readonly string[]>>;
}

/** The facts of one transfer, for the policy gate (compliance's TransferFacts, as trade knows them). */
export interface TransferFacts {
  /** The payout (or settlement) id the decision is keyed by. */
  readonly transferId: string;
  readonly occurredAt: Date;
  readonly direction: 'inbound' | 'outbound';
  readonly platformId: string;
  readonly companyId: string;
  readonly counterpartyId: string;
  readonly contractId: string;
  /**
   * The counterparty's address: where an outbound payout goes; for an inbound payment, an input
   * address of the paying transaction (null at invoice creation, when no payer is known yet).
   */
  readonly address: string | null;
  readonly amountSats: bigint;
  readonly fiatMinor: bigint;
  readonly currency: string;
  /** The rate the fiat value was computed at (exact decimal, quote units per BTC). */
  readonly rate: string;
  /** The contract's open amount and tolerance, in sats (for fiat contracts: at this rate). */
  readonly openAmountSats: bigint;
  readonly toleranceSats: bigint;
  /** IVMS101 originator/beneficiary data supplied with the transfer, if any. */
  readonly travelRule: unknown;
}

export interface GateDecision {
  readonly outcome: 'allow' | 'block' | 'review';
  readonly reasons: readonly string[];
  /** Which gate decided (and, for compliance's, the decision id). */
  readonly decidedBy: string;
  /**
   * Compliance's stored decision (an officer resolves a `review` on it), or null when trade's
   * adapter blocked before the policy gate could be asked (unregistered party, no scheme
   * jurisdiction).
   */
  readonly decisionId: string | null;
}

/**
 * The TransferGate port: compliance's PolicyGate.decide, as trade calls it. It joins the caller's
 * unit of work (no handle is passed): the decision and its audit events commit with the transfer
 * it decides, and `decide` is refused outside a transaction.
 */
export interface TransferGate {
  decide(caller: Caller, facts: TransferFacts): Promise<GateDecision>;
  /**
   * Decides a transfer and creates it with its decision in one committed unit: outside a
   * transaction, in the policy gate's group commit (the batch's transaction runs `work`, shared
   * with the transfers decided meanwhile); inside the caller's unit of work, there. A retry
   * therefore never finds a decision without its row. A request whose work fails fails alone.
   */
  decideAndCreate<T>(
    caller: Caller,
    facts: TransferFacts,
    work: CreationWork<T>,
  ): Promise<{ decision: GateDecision; created: T }>;
  /**
   * An officer's resolution of a `review` decision: allow or block, or null while it waits
   * (compliance's decisions review flow), read in the caller's unit of work.
   */
  resolution(decisionId: string): Promise<'allow' | 'block' | null>;
  /**
   * The refusal to answer instead of creating the transfer, when all that stands in its way is
   * what the caller can mend (Travel Rule data, a party's verification, the address, the amount):
   * nothing is decided nor written. Null otherwise: the transfer is decided, and recorded, as ever.
   * Read in the caller's unit of work.
   */
  refusalBeforeCreation(caller: Caller, facts: TransferFacts): Promise<AppError | null>;
  /**
   * After the creation's transaction rolled back on `error`: when it was an input refusal of a
   * transfer that something else (a list match, a refused jurisdiction) would also have stopped,
   * records the attempt in the audit log, in a transaction of its own, for the supervisor. The
   * one refused is answered the same either way. Does nothing for any other error.
   */
  recordRefusedAttempt(db: Database, caller: Caller, error: unknown): Promise<void>;
}

/**
 * What a transfer's creation does in the unit of work its decision commits in (which it reads
 * and writes through `db.current()`): the rows it locks (taken first, for every transfer of the
 * unit, contracts before wallets and each by key); `before`, ahead of the audit head (locking and
 * checking the contract, taking an address, writing the row); `after`, once the decision is
 * recorded (the row's audit event and announcements). A throw undoes the transfer and its
 * decision alike.
 */
export interface CreationWork<T> {
  readonly locks: readonly CreationLock[];
  before(decision: GateDecision): Promise<void>;
  after(decision: GateDecision): Promise<T>;
}

/** A row lock of a creation: a contract or a wallet (`LOCK_ORDER`), by its key. */
export interface CreationLock {
  readonly lock: 'contract' | 'wallet';
  readonly key: string;
  take(): Promise<void>;
}

/** A coin's stored clearance (clearing's cleared lots, followed through spends). */
export interface CoinOrigin {
  readonly valueSats: bigint;
  /** Sats of cleared (or released) mined lots. */
  readonly clearedSats: bigint;
  /** Sats of quarantined lots: a coin with any is never spent by a payout. */
  readonly quarantinedSats: bigint;
  /** Sats whose clearance is unknown (mined before clearing followed the chain). */
  readonly undeterminedSats: bigint;
}

/** The cleared-origin rule in force: payouts are funded only by coins at or above the threshold. */
export interface OriginRule {
  /** The rule and its version, e.g. `clearing.cleared-origin@1#v2`. */
  readonly version: string;
  /** The least cleared share a funding coin must have, in basis points (0–10,000). */
  readonly thresholdBasisPoints: number;
}

/**
 * The CoinOrigins port: clearing's stored cleared shares, as coin selection uses them. Both read
 * in the caller's unit of work (the batch's transaction, or a `db.unit` savepoint of it; the pool
 * outside one), one indexed lookup per coin.
 */
export interface CoinOrigins {
  /** The rule in force at `at`, or null when the supervisor has not turned it on. */
  ruleAt(at: Date): Promise<OriginRule | null>;
  /** The stored clearance of each coin, by `txid:vout`; a coin missing is one not known. */
  coinOrigins(
    coins: readonly { txid: string; vout: number }[],
  ): Promise<ReadonlyMap<string, CoinOrigin>>;
}

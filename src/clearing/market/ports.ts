import type { DerivedOutput } from '../../bitcoin';
import type { Database, Orm } from '../../db';
import type { Caller, Clock, NetworkName, Random } from '../../kernel';
import type { PostRequest, StoredRate } from '../../ledger';
import type { PolicyGatePort } from '../../compliance';
import type { ContractView, SignerProvider } from '../../trade';
import type { SettlementBank } from './bank';

/**
 * An inter-platform obligation a deal creates when the miner's platform and the importer's
 * differ: the fiat leg the importer paid its own platform, owed to the miner's platform (in the
 * deal's currency), recorded when the fiat leg is confirmed and reversed when the held deal is
 * refunded. Settlement windows accumulate and net them. Called inside the deal's transaction, so
 * an obligation exists exactly when the confirmation (or the refund) commits.
 */
export interface MarketObligation {
  readonly source: 'deal';
  readonly sourceId: string;
  /** The platform that owes. */
  readonly from: string;
  readonly to: string;
  /** 'BTC' (sats) or an ISO 4217 code (minor units). */
  readonly asset: string;
  readonly amount: bigint;
  readonly at: Date;
}

export interface ObligationSink {
  record(o: MarketObligation, tx: Orm): Promise<void>;
}

/** What the market reads of the registry (RegistryService has these). */
export interface MarketRegistry {
  partyFacts(participantId: string): Promise<{
    kind: string;
    /** `natural` for a person (screened as one). */
    personType: string;
    legalName: string;
    otherNames: string[];
    country: string;
    lei: string | null;
    kycStatus: string | null;
    licenceStatus: string | null;
    platformId: string | null;
  }>;
  /** The scheme's jurisdiction and the countries' ratings, read at decision time in the caller's unit. */
  schemeFacts(): Promise<{
    scheme: { country: string } | null;
    jurisdictions: { country: string; riskLevel: string; refused: boolean }[];
  }>;
  requireActiveLicence(participantId: string, at?: Date): Promise<void>;
  requireVerified(participantId: string): Promise<void>;
  /** Refuses a party with an unresolved sanctions hit (miners keep no KYC record). */
  requireNotHeld(participantId: string): Promise<void>;
  /** In the caller's transaction (refused outside one). */
  nextReceiveAddress(
    companyId: string,
    purpose: string | null,
  ): Promise<{ readonly address: string }>;
}

/** The chain, structurally (ChainSource): the market reads deposits and broadcasts deliveries. */
export interface MarketChain {
  getRawTransaction(txid: string): Promise<Uint8Array>;
  /**
   * The mempool's transactions (ChainSource), read when an unfunded offer is withdrawn to find a
   * deposit not yet mined; without it only deposits in followed blocks are found.
   */
  getMempoolTxids?(): Promise<readonly string[]>;
  broadcast(rawTx: Uint8Array): Promise<string>;
  estimateFeeRateSatPerKvB(targetBlocks: number): Promise<bigint | null>;
}

export interface MarketServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  network: NetworkName;
  /** Null when the platform runs without a chain (CLI): deposits and deliveries are refused. */
  chain: MarketChain | null;
  registry: MarketRegistry;
  /** Trade's contracts (ContractService.get, in the caller's unit): the contract a bid is for. */
  contracts: { get(caller: Caller, id: string): Promise<ContractView> };
  /**
   * The rate deals are valued at: the ledger's `RateService.current`, the helper invoices and
   * payouts are priced with (today's fixing once published, else the live source; stored in the
   * caller's unit with the fixing it came from). RATE_UNAVAILABLE without either. A bid's
   * open-amount check converts a fiat contract at it too.
   */
  rates: { current(quote: string): Promise<StoredRate> };
  /** The ledger (LedgerService.post): the delivered coins become the importer's client funds. */
  ledger: { post(caller: Caller, request: PostRequest): Promise<string> };
  /** The platforms' signers (trade's sealed keys): the market platform signs escrow spends. */
  signers: SignerProvider;
  /** Where fiat confirmations come from (`market.tick` reads them); none: only imports. */
  bank?: SettlementBank | undefined;
  /**
   * Address screening (compliance's ScreeningService.screenAddress): the miner's address is
   * screened afresh before escrowed coins go back to it. Absent: such returns are refused.
   */
  addressScreening?:
    { screenAddress(caller: Caller, address: string): Promise<{ outcome: string }> } | undefined;
  /** The period of the `market.tick` job (default 10 s): retried deliveries back off from it. */
  tickMs?: number | undefined;
  /**
   * Compliance's policy gate: it decides the coin leg (its domestic rule set) at matching and at
   * delivery, recording each decision. Absent: every coin leg is refused (fail closed). A coin
   * leg that then never moves (a match refused, a deal unwound or refunded) is voided, so that
   * monitoring does not count it.
   */
  gate?: Pick<PolicyGatePort, 'decide' | 'voidTransfer'> | undefined;
  /** Settlement windows' intake (the server wires them); absent: obligations are not recorded. */
  obligations?: ObligationSink | undefined;
}

/** An escrow address with how to sign for it (a derivation of the platform's escrow wallet). */
export type EscrowOutput = DerivedOutput & { readonly address: string };

import type { LocalKeySigner } from '../../bitcoin';
import type { ChainWatcher, Simnet } from '../../chain';
import type { UserService } from '../../access';
import type {
  ClearingService,
  MarketService,
  SettlementWindowService,
  SimulatedBank,
} from '../../clearing';
import type { Compliance } from '../../compliance';
import type { Database } from '../../db';
import { systemCaller, type Caller, type ManualClock, type Role } from '../../kernel';
import type { FixedRateSource, LedgerService, RateService } from '../../ledger';
import type { MiningService } from '../../mining';
import type { RegistryService } from '../../registry';
import type { TradeService } from '../../trade';
import type { CounterpartySpec, DemoSize } from '../cast';

/** What the demo drives: the services it calls and the chain it mines. */
export interface DemoPorts {
  readonly db: Database;
  readonly clock: ManualClock;
  readonly simnet: Simnet;
  readonly watcher: ChainWatcher;
  readonly rateDesk: FixedRateSource;
  readonly signerPassphrase: string;
  /** The market's simulated bank: the importers' fiat payments to miners go through it. */
  readonly bank: SimulatedBank;
  readonly services: {
    readonly users: UserService;
    readonly registry: RegistryService;
    readonly mining: MiningService;
    readonly compliance: Compliance;
    readonly trade: TradeService;
    readonly ledger: LedgerService;
    readonly rates: RateService;
    readonly clearing: ClearingService;
    readonly market: MarketService;
    readonly settlementWindows: SettlementWindowService;
  };
}

/** Progress of the seeding, shown as bars on a terminal and as plain lines elsewhere. */
export interface DemoProgress {
  phase(name: string, total: number): void;
  update(done: number, detail?: string): void;
  done(): void;
}

export const silentProgress: DemoProgress = { phase() {}, update() {}, done() {} };

export interface DemoLogin {
  readonly role: Role;
  readonly username: string;
  readonly password: string;
  readonly who: string;
}

export interface DemoOptions {
  readonly size: DemoSize;
  readonly seed: number;
  /** Directory holding test/vectors/sanctions (the real list files). */
  readonly sanctionsDir: string;
  readonly progress?: DemoProgress;
}

export interface DemoSummary {
  readonly size: DemoSize;
  readonly seed: number;
  readonly from: Date;
  readonly to: Date;
  readonly blocks: number;
  readonly reorgs: number;
  readonly contracts: number;
  readonly invoicesPaid: number;
  readonly payouts: number;
  readonly batches: number;
  readonly blockedTransfers: number;
  readonly gateDecisions: number;
  readonly licenceSuspended: string | null;
  /** The market deal of the clearing loop (delivered against payment between two platforms). */
  readonly marketDeal: string;
  /** The lot quarantined for the ban that the supervisor released. */
  readonly releasedLot: string;
  readonly logins: readonly DemoLogin[];
}

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
/** The scheme's supervisor, as the seeding acts for it. */
export const SUPERVISOR = systemCaller('demo.seed');

type Officer = 'maker' | 'officer-a' | 'officer-b';

export interface PlatformActor {
  id: string;
  name: string;
  licenceId: string;
  officers: Record<Officer, Caller>;
  /** The platform's signing key (simnet: a local key stands in for an external signer). */
  signer: LocalKeySigner;
}

export interface CompanyActor {
  id: string;
  name: string;
  platform: PlatformActor;
  caller: Caller;
  exportContracts: { id: string; counterparty: PartyActor }[];
  importContracts: { id: string; counterparty: PartyActor; address: string }[];
  /** Sats the company's invoices brought in, less what its payouts took out (a budget only). */
  funds: bigint;
}

export interface PartyActor {
  id: string;
  /** The platform that registered it: only that platform's companies contract with it. */
  platformId: string;
  spec: CounterpartySpec;
  address: string;
}

export interface MinerActor {
  id: string;
  /** The output script of the miner's pool: the blocks it mines pay there. */
  script: Uint8Array;
  region: string;
}

/** Who takes part in the demo scheme, as the seeding registered them. */
export interface Scheme {
  readonly platforms: readonly PlatformActor[];
  readonly parties: readonly PartyActor[];
  readonly companies: readonly CompanyActor[];
  readonly miners: readonly MinerActor[];
}

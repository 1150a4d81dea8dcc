import { EventRelay } from './events';
import type { Database } from './db';
import {
  AppError,
  cryptoRandom,
  systemCaller,
  type Clock,
  type Config,
  type Random,
} from './kernel';
import { KeyService, UserService } from './access';
import { RegistryService } from './registry';
import { MiningService } from './mining';
import {
  ClearingService,
  MarketService,
  SettlementWindowService,
  simnetClearingDescriptor,
  clearingSigner,
  type ObligationSink,
  type SettlementBank,
} from './clearing';
import {
  createCompliance,
  goamlFromSettings,
  registryPartySource,
  type Compliance,
} from './compliance';
import { OversightService } from './oversight';
import type { ChainSource } from './chain';
import {
  FixedRateSource,
  FixingService,
  LedgerService,
  RateService,
  venueSources,
  type MarketRateSource,
  type RateSource,
} from './ledger';
import {
  ComplianceTransferGate,
  RegistryPartyDirectory,
  SecretBox,
  TradeService,
  schemeConfirmationDepth,
  type WebhookPoster,
} from './trade';

/**
 * Every domain service, wired from the ports it needs. The server (src/app.ts), the CLI and the
 * tests all build services here, so a service is constructed the same way everywhere.
 *
 * To add a module's service: construct it below from `ports` (and the services it uses), add it
 * to `Services`, and register its HTTP routes in src/http/app.ts.
 */
export interface Ports {
  db: Database;
  clock: Clock;
  random: Random;
  config: Config;
  /** Trade's ports: the chain payouts broadcast through, the rate source, the signer passphrase. */
  trade?: {
    chain?: ChainSource | null;
    rateSource?: RateSource;
    signerPassphrase?: () => string | null;
    webhookPoster?: WebhookPoster;
  };
  /** The market sources the rate fixing may ask besides the manual desk (tests: recorded ones). */
  rates?: { marketSources?: readonly MarketRateSource[] };
  /**
   * The domestic market's ports: the bank whose confirmations `market.tick` reads (the demo's
   * SimulatedBank), and the settlement windows' intake of inter-platform obligations.
   */
  market?: { bank?: SettlementBank; obligations?: ObligationSink };
}

export interface Services {
  keys: KeyService;
  users: UserService;
  registry: RegistryService;
  mining: MiningService;
  clearing: ClearingService;
  /** Settlement windows between platforms: the ObligationSink the market records into. */
  settlementWindows: SettlementWindowService;
  market: MarketService;
  oversight: OversightService;
  compliance: Compliance;
  ledger: LedgerService;
  rates: RateService;
  trade: TradeService;
  /** The outbox relay: hands what modules announce to their subscribers (`events.relay` job). */
  events: EventRelay;
}

export function composeServices(ports: Ports): Services {
  const users = new UserService({ db: ports.db, clock: ports.clock, random: ports.random });
  // Simnet is regtest; every other chain names its network explicitly (config refuses otherwise).
  const network = ports.config.NETWORK ?? 'regtest';
  const registry = new RegistryService({ ...ports, network });
  // A key is bound only to a participant the registry has, with the role it is registered as.
  const keys = new KeyService({
    db: ports.db,
    clock: ports.clock,
    random: ports.random,
    participants: async (id) => {
      try {
        const found = await registry.getParticipant(systemCaller('access'), id);
        return { kind: found.kind, platformId: found.platformId, name: found.legalName };
      } catch (error) {
        if (error instanceof AppError && error.code === 'PARTICIPANT_NOT_FOUND') return null;
        throw error;
      }
    },
  });
  // Importing a list re-screens every registered company, counterparty and counterparty address.
  const compliance = createCompliance(ports, {
    parties: registryPartySource(registry),
    // goAML reports name the FIU's id of the reporting entity and the scheme's country, never
    // placeholders: both come from the deployment and the registry.
    goaml: goamlFromSettings({
      rentityId: ports.config.GOAML_RENTITY_ID,
      reportingPerson: ports.config.GOAML_REPORTING_PERSON,
      reportingEmail: ports.config.GOAML_REPORTING_EMAIL,
      address: ports.config.GOAML_ADDRESS,
      city: ports.config.GOAML_CITY,
    }),
    schemeCountry: async () => (await registry.getSchemeJurisdiction())?.country ?? null,
    // A case is assigned to a person of the supervisor's staff (GET /v1/cases/assignees).
    assignees: (id) => users.isStaff('supervisor', id),
    registrations: async (ids) => {
      const numbers = new Map<string, string | null>();
      for (const id of ids) {
        try {
          const party = await registry.getParticipant(systemCaller('compliance'), id);
          numbers.set(id, party.registrationNumber);
        } catch (error) {
          // A party the registry no longer has is reported without a number.
          if (!(error instanceof AppError && error.code === 'PARTICIPANT_NOT_FOUND')) throw error;
        }
      }
      return numbers;
    },
  });
  // And screens every party as it is registered or changed, in the registry's transaction.
  registry.setScreener(compliance.screening);
  const ledger = new LedgerService(ports);
  // Without a configured source, a manual desk whose rates the supervisor sets (demos, tests).
  const rateSource = ports.trade?.rateSource ?? new FixedRateSource('manual', ports.clock);
  // The reference rate: fixings from the manual desk and the market sources the deployment
  // offers (RATE_MARKET_SOURCES, or recorded ones in tests), under the supervisor's rule.
  const marketSources = [
    ...venueSources(ports.config.RATE_MARKET_SOURCES, ports.clock),
    ...(ports.rates?.marketSources ?? []),
  ];
  const fixings = new FixingService({ ...ports, sources: [rateSource, ...marketSources] });
  const rates = new RateService({ ...ports, source: rateSource, fixings });
  // The reports list the fixings their fiat values rest on, read through the rates module.
  const oversight = new OversightService({ ...ports, fixings });
  // Mining output is valued at the day's rate: the last rate the scheme stored that day.
  const mining = new MiningService({
    ...ports,
    network,
    registry,
    rates: (code, date) => rates.onDay(code, date),
  });
  // Regulatory clearing: lots of mined coins, their clearance through spends, and the
  // cleared-origin rule that trade's coin selection applies (its CoinOrigins port).
  const clearing = new ClearingService({ ...ports, wallets: registry });
  // Settlement windows between platforms: bitcoin pay-ins go to addresses of the clearing's
  // descriptor (on simnet, a fixed demo key's when none is configured).
  // The clearing signs the pay-out of a settled window with the private side of that descriptor:
  // CLEARING_SIGNING_KEY, or on simnet with no descriptor configured the same demo key.
  const clearingDemo = !ports.config.CLEARING_PAY_IN_DESCRIPTOR && ports.config.CHAIN === 'simnet';
  const settlementWindows = new SettlementWindowService({
    ...ports,
    network,
    payInDescriptor:
      ports.config.CLEARING_PAY_IN_DESCRIPTOR ?? (clearingDemo ? simnetClearingDescriptor() : null),
    signer: clearingSigner(ports.config.CLEARING_SIGNING_KEY ?? null, clearingDemo, network),
    chain: ports.trade?.chain ?? null,
    licences: registry,
    // A bitcoin pay-in counts at the scheme's confirmation depth, once the addresses paying it
    // pass the same address screening as the coins returned to miners.
    confirmationDepth: schemeConfirmationDepth,
    addressScreening: compliance.screening,
    // A held pay-out raises the supervisor's alert in compliance's queue, once while open.
    payOutAlerts: compliance.alerts,
    // Net positions are valued at the cut-off day's reference rate in the scheme's currency
    // (the first the fixing rule fixes), by the helper invoices and payouts are priced with.
    valuation: {
      currency: async () => (await fixings.settings()).currencies[0] ?? null,
      rateOn: (quote, date) => rates.valuationOn(quote, date),
    },
  });
  const trade = new TradeService({
    ...ports,
    network,
    chain: ports.trade?.chain ?? null,
    ledger,
    rates,
    directory: new RegistryPartyDirectory(registry),
    wallets: registry,
    // Every payout and invoice passes compliance's policy gate, with the facts (and the scheme's
    // jurisdiction, read at decision time) from the registry: there is no gate that allows.
    gate: new ComplianceTransferGate({
      db: ports.db,
      gate: compliance.gate,
      registry,
      clock: ports.clock,
    }),
    origins: clearing,
    secrets: SecretBox.fromConfig(ports.config),
    webhookAllowLoopback: ports.config.WEBHOOK_ALLOW_LOOPBACK,
    ...(ports.trade?.signerPassphrase ? { signerPassphrase: ports.trade.signerPassphrase } : {}),
    ...(ports.trade?.webhookPoster ? { webhookPoster: ports.trade.webhookPoster } : {}),
  });
  // What modules announce reaches the modules that act on it (officers' review resolutions,
  // licence changes and list activations → trade).
  const events = new EventRelay({
    ...ports,
    // What the `events.prune` job keeps (the audit log itself is never pruned).
    retention: {
      heardMs: ports.config.OUTBOX_RETENTION_HOURS * 3_600_000,
      unheardMs: ports.config.OUTBOX_FEED_RETENTION_MINUTES * 60_000,
    },
  });
  for (const subscriber of trade.subscribers()) events.subscribe(subscriber);
  // The domestic market for cleared coins: escrow spends signed with the platforms' sealed keys,
  // priced at the reference-rate fixings, the delivered coins credited in the ledger.
  const market = new MarketService({
    ...ports,
    network,
    chain: ports.trade?.chain ?? null,
    registry,
    contracts: trade.contracts,
    rates,
    ledger,
    signers: trade.signers,
    bank: ports.market?.bank,
    // The miner's address is screened afresh before escrowed coins go back to it.
    addressScreening: compliance.screening,
    // The coin leg (escrow to the importer's wallet) is decided by the policy gate's domestic
    // rule set at matching and at delivery.
    gate: compliance.gate,
    // The settlement windows: a deal's coins go gross from escrow to the importer's wallet, and
    // between two platforms its fiat leg, paid by the importer to its own platform, is owed by
    // that platform to the miner's (one obligation in local currency, netted in the window), so
    // nothing is paid twice.
    obligations: ports.market?.obligations ?? settlementWindows,
  });
  // An officer's resolution of a deal's coin-leg review moves the deal at once.
  for (const subscriber of market.subscribers()) events.subscribe(subscriber);
  return {
    keys,
    users,
    registry,
    mining,
    clearing,
    settlementWindows,
    market,
    compliance,
    oversight,
    ledger,
    rates,
    trade,
    events,
  };
}

export function defaultPorts(partial: Omit<Ports, 'random'> & { random?: Random }): Ports {
  return { ...partial, random: partial.random ?? cryptoRandom };
}

import { sql } from 'drizzle-orm';
import { Transaction } from '@scure/btc-signer';
import { AuditLog } from '../audit';
import { addressFromScript } from '../bitcoin';
import { chainHasTransaction, type ChainSource } from '../chain';
import type { Database, PageRequest } from '../db';
import { DECISION_RESOLVED, type DecisionResolved } from '../compliance';
import type { Subscriber } from '../events';
import type { LedgerService, RateService } from '../ledger';
import {
  AppError,
  systemCaller,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
} from '../kernel';
import { tradeChainConsumer } from './consumer';
import { ContractService } from './contracts';
import { InvoiceService } from './invoices';
import { PayoutService } from './payouts';
import type { CoinOrigins, CompanyWallets, PartyDirectory, TransferGate } from './ports';
import { reconcile, reconcilePage, type ReconcilePorts } from './reconcile';
import type { ReconcilePage, ReconcileReport, ReconcileSources } from './reconcile-types';
import {
  loadFloors,
  loadSettings,
  saveSettings,
  sealLegacyWebhookSecrets,
  updateFloors,
  type FloorsPatch,
  type SettingsFloors,
  type SettingsPatch,
  type TradeSettings,
} from './settings';
import { SealedKeySignerProvider, type SignerProvider } from './signer';
import { SecretBox } from './secrets';
import {
  pinnedPoster,
  WebhookDeliverer,
  type DeliveryLogger,
  type WebhookPoster,
} from './webhooks';
import type { HostResolver } from './webhook-target';

/**
 * The address a previous output paid (an input of a paying transaction), read from the chain:
 * what trade can know of who paid an invoice. Null when the output has no standard address.
 */
export function previousOutputAddress(
  chain: ChainSource,
  network: NetworkName,
): (txid: string, vout: number) => Promise<string | null> {
  return async (txid, vout) => {
    const raw = await chain.getRawTransaction(txid);
    const tx = Transaction.fromRaw(raw, { allowUnknownOutputs: true, disableScriptCheck: true });
    if (vout >= tx.outputsLength) return null;
    const script = tx.getOutput(vout).script;
    if (!script) return null;
    try {
      return addressFromScript(script, network);
    } catch {
      return null;
    }
  };
}

export interface TradePorts {
  readonly db: Database;
  readonly clock: Clock;
  readonly random: Random;
  readonly network: NetworkName;
  readonly chain: ChainSource | null;
  readonly ledger: LedgerService;
  readonly rates: RateService;
  /** The registry's parties (RegistryPartyDirectory): trade keeps no party table of its own. */
  readonly directory: PartyDirectory;
  /**
   * The registry's company wallets (RegistryService): invoices take their receive addresses and
   * payouts their change addresses there. Trade keeps no wallet of its own.
   */
  readonly wallets: CompanyWallets;
  /**
   * The policy gate every payout and every invoice (at creation and for each payment) passes.
   * Required: there is no default that allows (services.ts wires ComplianceTransferGate).
   */
  readonly gate: TransferGate;
  /**
   * Clearing's cleared shares and the cleared-origin rule, for coin selection (services.ts wires
   * ClearingService). Without it no rule can be in force and no coin is known to be quarantined.
   */
  readonly origins?: CoinOrigins;
  readonly signers?: SignerProvider;
  /** Passphrase for locally sealed signer keys (simnet and demos). */
  readonly signerPassphrase?: () => string | null;
  readonly webhookPoster?: WebhookPoster;
  /** Resolves webhook hosts for the SSRF check (the system resolver by default). */
  readonly webhookResolver?: HostResolver;
  /** Webhooks to loopback addresses (honoured on regtest only; `WEBHOOK_ALLOW_LOOPBACK`). */
  readonly webhookAllowLoopback?: boolean;
  /** Seals webhook secrets at rest (SecretBox.fromConfig); without it none can be stored. */
  readonly secrets?: SecretBox;
  readonly webhookLogger?: DeliveryLogger;
}

/** Trade: contracts, invoices, payouts, settlements, webhooks and reconciliation. */
export class TradeService {
  readonly contracts: ContractService;
  readonly invoices: InvoiceService;
  readonly payouts: PayoutService;
  readonly wallets: CompanyWallets;
  readonly directory: PartyDirectory;
  readonly signers: SignerProvider;
  readonly sealedKeys: SealedKeySignerProvider;
  readonly webhooks: WebhookDeliverer;
  readonly #ports: TradePorts;
  readonly #secrets: SecretBox;
  readonly #audit: AuditLog;

  constructor(ports: TradePorts) {
    this.#ports = ports;
    this.#audit = new AuditLog(ports);
    this.#secrets =
      ports.secrets ?? SecretBox.withoutKey('no secrets key was given to the trade service');
    this.directory = ports.directory;
    this.wallets = ports.wallets;
    this.sealedKeys = new SealedKeySignerProvider(
      ports.signerPassphrase ?? (() => null),
      ports.clock,
      ports.db,
    );
    this.signers = ports.signers ?? this.sealedKeys;
    const base = { db: ports.db, clock: ports.clock, random: ports.random };
    this.contracts = new ContractService({ ...base, directory: this.directory });
    this.invoices = new InvoiceService({
      ...base,
      network: ports.network,
      contracts: this.contracts,
      wallets: this.wallets,
      rates: ports.rates,
      ledger: ports.ledger,
      gate: ports.gate,
      ...(ports.chain ? { payerAddress: previousOutputAddress(ports.chain, ports.network) } : {}),
    });
    this.payouts = new PayoutService({
      ...base,
      network: ports.network,
      chain: ports.chain,
      contracts: this.contracts,
      wallets: this.wallets,
      rates: ports.rates,
      ledger: ports.ledger,
      gate: ports.gate,
      signers: this.signers,
      origins: ports.origins ?? null,
    });
    this.webhooks = new WebhookDeliverer({
      db: ports.db,
      clock: ports.clock,
      random: ports.random,
      poster: ports.webhookPoster ?? pinnedPoster,
      // Plain http webhooks on regtest only (simnet is regtest): see WebhookTargetPolicy.
      allowPlainHttp: ports.network === 'regtest',
      allowLoopback: ports.network === 'regtest' && ports.webhookAllowLoopback === true,
      ...(ports.webhookResolver ? { resolve: ports.webhookResolver } : {}),
      secrets: this.#secrets,
      ...(ports.webhookLogger ? { logger: ports.webhookLogger } : {}),
    });
  }

  /** The chain-watcher consumer (register it with the ChainWatcher). */
  /**
   * What trade hears through the outbox: an officer's resolution of a review is carried to the
   * payout or invoice it was made on at once, in the delivery's transaction (the tick's sweep
   * remains for any not heard); trade's own invoice and payout announcements become webhook
   * deliveries (`trade.webhooks`); a platform's licence that stops being active, or a list
   * snapshot activated, holds the approved payouts not yet sent that the gate no longer allows
   * (`trade.licences`, `trade.lists`).
   */
  subscribers(): (Subscriber<number> | Subscriber<undefined>)[] {
    const reviews: Subscriber<number> = {
      name: 'trade.reviews',
      topics: [DECISION_RESOLVED],
      prepare: async () => (this.#ports.chain ? (await this.#ports.chain.getTip()).height : 0),
      handle: async (event, tx, tip) => {
        const { transferId } = event.payload as unknown as DecisionResolved;
        if ((await this.payouts.applyReview(tx, transferId)) === null)
          await this.invoices.applyReview(tx, transferId, tip);
      },
    };
    // A licence suspended or a list activated holds the approved payouts not yet sent at once.
    return [reviews, this.webhooks.subscriber(), ...this.payouts.recheckSubscribers()];
  }

  chainConsumer() {
    return tradeChainConsumer({
      wallets: this.wallets,
      invoices: this.invoices,
      payouts: this.payouts,
    });
  }

  async settings(caller: Caller, platformId: string): Promise<TradeSettings> {
    this.#mayManage(caller, platformId, false);
    return loadSettings(this.#ports.db.orm, platformId);
  }

  async updateSettings(
    caller: Caller,
    platformId: string,
    patch: SettingsPatch,
  ): Promise<TradeSettings> {
    this.#mayManage(caller, platformId, true);
    return this.#ports.db.transaction(async (tx) => {
      const before = await loadSettings(tx, platformId);
      const after = await saveSettings(
        tx,
        platformId,
        patch,
        this.#ports.clock.now(),
        this.#secrets,
      );
      await this.#audit.record(caller, {
        action: 'trade.settingsChanged',
        entityType: 'platform',
        entityId: platformId,
        before: { ...before, webhookSecret: before.webhookSecret ? '[set]' : null },
        after: { ...after, webhookSecret: after.webhookSecret ? '[set]' : null },
      });
      return after;
    });
  }

  /** The scheme's floors under every platform's settings (anyone authenticated may read them). */
  async floors(): Promise<SettingsFloors> {
    return loadFloors(this.#ports.db.orm);
  }

  /** Changes the scheme's floors (the supervisor only; audited). */
  async updateFloors(caller: Caller, patch: FloorsPatch): Promise<SettingsFloors> {
    return updateFloors(this.#ports.db, this.#ports.clock, caller, patch);
  }

  /** Seals the webhook secrets stored in plain text before encryption at rest (run at start). */
  async sealLegacyWebhookSecrets(): Promise<{ sealed: number; plain: number }> {
    return sealLegacyWebhookSecrets(this.#ports.db, this.#secrets, this.#ports.clock);
  }

  /**
   * Ledger against chain, per company: clientFunds + inTransit against the wallet's unspent
   * coins, each difference explained by category (reconcile.ts). Compared with the chain's own
   * UTXO set when `sources.utxos` is given, else with the coins the chain consumer tracked.
   */
  async reconcile(caller: Caller, sources: ReconcileSources = {}): Promise<ReconcileReport> {
    return reconcile(this.#reconcilePorts(), caller, sources);
  }

  /**
   * A page of the reconciliation's lines by company id (what the API serves), with the totals
   * over the page's lines: the report is reconciled when every page is.
   */
  async reconcilePage(
    caller: Caller,
    page: PageRequest = {},
    sources: ReconcileSources = {},
  ): Promise<ReconcilePage> {
    return reconcilePage(this.#reconcilePorts(), caller, sources, page);
  }

  #reconcilePorts(): ReconcilePorts {
    return {
      orm: this.#ports.db.orm,
      ledger: this.#ports.ledger,
      wallets: this.wallets,
      chain: this.#ports.chain,
      network: this.#ports.network,
    };
  }

  /**
   * Periodic work: expire invoices, re-broadcast and fee-bump batches, run due batches, deliver
   * webhooks. The server calls it on a timer; tests call it directly.
   */
  async tick(): Promise<{
    expired: number;
    reviews: { released: string[]; cancelled: string[] };
    bumped: string[];
    batches: string[];
    failures: { platformId: string; error: string }[];
    webhooks: { delivered: number; failed: number; pending: number };
  }> {
    const chain = this.#ports.chain;
    const tip = chain ? (await chain.getTip()).height : 0;
    // Officers' resolutions of reviews first: released payouts may batch in this very tick.
    const reviews = await this.payouts.applyReviews();
    await this.invoices.applyReviews(tip);
    const expired = await this.invoices.expireDue(tip);
    const batches: string[] = [];
    const failures: { platformId: string; error: string }[] = [];
    let bumped: string[] = [];
    if (chain) {
      await this.invoices.dropVanishedPayments(
        // Unsure (the chain unreachable): still there, nothing dropped on a hiccup.
        (txid) => chainHasTransaction(chain, txid, true),
        tip,
      );
      await this.payouts.resume();
      bumped = await this.payouts.bumpStuck();
      const platforms = await this.#ports.db.orm
        .selectDistinct({ platformId: sql<string>`platform_id` })
        .from(sql`trade_payouts`)
        .where(sql`status = 'awaitingPayment' and batch_id is null`);
      for (const { platformId } of platforms) {
        try {
          const batch = await this.payouts.runBatch(systemCaller('trade.batcher'), platformId);
          if (batch) batches.push(batch.id);
        } catch (error) {
          // One platform's failed run (e.g. INSUFFICIENT_FUNDS) must not stop the others'.
          failures.push({
            platformId,
            error: error instanceof Error ? error.message : 'unknown error',
          });
        }
      }
    }
    const webhooks = await this.webhooks.drain();
    return { expired, reviews, bumped, batches, failures, webhooks };
  }

  #mayManage(caller: Caller, platformId: string, write: boolean): void {
    if (caller.role === 'supervisor') return;
    if (!write && caller.role === 'auditor') return;
    if (caller.role === 'platform' && caller.participantId === platformId) return;
    throw new AppError(
      'FORBIDDEN',
      `only platform ${platformId} or the supervisor may ${write ? 'change' : 'read'} its trade settings`,
    );
  }
}

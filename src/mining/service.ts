import { AuditLog } from '../audit';
import type { Page, PageRequest } from '../db';
import { cryptoRandom, type Caller } from '../kernel';
import { Attribution } from './attribution';
import { BanCalendar } from './bans';
import type { BanInput } from './calendar';
import { Provenance } from './provenance';
import type { MiningContext } from './shared';
import { Sites } from './sites';
import { Statistics, type StatisticsFilter } from './statistics';
import type {
  AttributionView,
  BanView,
  MiningChainConsumer,
  MiningServiceDeps,
  OutputStatistics,
  PayoutAddressView,
  ProvenanceReport,
  RegisterSiteInput,
  SiteView,
  TransactionView,
  ViolationStatus,
  ViolationView,
} from './types';

/**
 * mining/: sites, pools and payout addresses, the regional ban calendar, attribution of coinbase
 * outputs, ban violations, provenance of mined coins and output statistics.
 *
 * This class is mining's one public service and only delegates: each part's work is in the file
 * named after it (sites.ts, bans.ts, attribution.ts with the chain consumer, provenance.ts,
 * statistics.ts), all sharing one `MiningContext`.
 */
export class MiningService {
  readonly #sites: Sites;
  readonly #bans: BanCalendar;
  readonly #attribution: Attribution;
  readonly #provenance: Provenance;
  readonly #statistics: Statistics;

  constructor(deps: MiningServiceDeps) {
    const ctx: MiningContext = {
      db: deps.db,
      clock: deps.clock,
      random: deps.random ?? cryptoRandom,
      network: deps.network,
      registry: deps.registry,
      rates: deps.rates,
      audit: new AuditLog(deps),
    };
    this.#sites = new Sites(ctx);
    this.#bans = new BanCalendar(ctx);
    this.#attribution = new Attribution(ctx, this.#bans);
    this.#provenance = new Provenance(ctx);
    this.#statistics = new Statistics(ctx);
  }

  // ------------------------------------------------------------------ sites and payout addresses (sites.ts)

  registerSite(caller: Caller, input: RegisterSiteInput): Promise<SiteView> {
    return this.#sites.registerSite(caller, input);
  }

  listSites(
    caller: Caller,
    filter?: Parameters<Sites['listSites']>[1],
    page?: PageRequest,
  ): Promise<Page<SiteView>> {
    return this.#sites.listSites(caller, filter, page);
  }

  listSiteRegions(
    caller: Caller,
    filter?: Parameters<Sites['listSiteRegions']>[1],
    page?: PageRequest,
  ): Promise<Page<{ regionCode: string; sites: number }>> {
    return this.#sites.listSiteRegions(caller, filter, page);
  }

  getSite(caller: Caller, id: string): Promise<SiteView> {
    return this.#sites.getSite(caller, id);
  }

  /** A site's pool or solo payout address; one address, one owner (ADDRESS_ALREADY_ASSIGNED). */
  registerPayoutAddress(
    caller: Caller,
    siteId: string,
    input: { address: string; kind: 'pool' | 'solo'; poolName?: string | null | undefined },
  ): Promise<PayoutAddressView> {
    return this.#sites.registerPayoutAddress(caller, siteId, input);
  }

  listPayoutAddresses(
    caller: Caller,
    siteId?: string,
    page?: PageRequest,
  ): Promise<Page<PayoutAddressView>> {
    return this.#sites.listPayoutAddresses(caller, siteId, page);
  }

  // ------------------------------------------------------------------ ban calendar (bans.ts)

  declareBan(
    caller: Caller,
    regionCode: string,
    input: BanInput & { reason: string },
  ): Promise<BanView> {
    return this.#bans.declareBan(caller, regionCode, input);
  }

  liftBan(caller: Caller, banId: string, reason: string): Promise<BanView> {
    return this.#bans.liftBan(caller, banId, reason);
  }

  listBans(
    regionCode?: string,
    page?: PageRequest,
    during?: { from?: string | undefined; to?: string | undefined },
  ): Promise<Page<BanView>> {
    return this.#bans.listBans(regionCode, page, during);
  }

  /** Is region R banned at time T? With a page of the bans in force and the region's local time then. */
  isBanned(
    regionCode: string,
    at: Date,
    page?: PageRequest,
  ): Promise<{
    banned: boolean;
    bans: BanView[];
    nextCursor: string | null;
    regionCode: string;
    timeZone: string;
    localDate: string;
    localTime: string;
  }> {
    return this.#bans.isBanned(regionCode, at, page);
  }

  // ------------------------------------------------------------------ attribution (attribution.ts)

  /**
   * The chain consumer: attribution of coinbase outputs (with ban violations) and the provenance
   * tracer, in one consumer so that they see blocks in one order (see attribution.ts).
   */
  chainConsumer(options: { name?: string } = {}): MiningChainConsumer {
    return this.#attribution.chainConsumer(options);
  }

  /** A page of the attributions visible to the caller, newest block first (keyset on block_time, id). */
  listAttributions(
    caller: Caller,
    filter?: { minerId?: string | undefined; regionCode?: string | undefined },
    page?: PageRequest,
  ): Promise<Page<AttributionView>> {
    return this.#attribution.listAttributions(caller, filter, page);
  }

  /** A page of the ban violations visible to the caller, newest block first. */
  listViolations(
    caller: Caller,
    filter?: {
      status?: ViolationStatus | undefined;
      minerId?: string | undefined;
      regionCode?: string | undefined;
      from?: Date | undefined;
      to?: Date | undefined;
    },
    page?: PageRequest,
  ): Promise<Page<ViolationView>> {
    return this.#attribution.listViolations(caller, filter, page);
  }

  /** The supervisor (or compliance, with the alert it opened) moves a violation along. */
  updateViolation(
    caller: Caller,
    attributionId: string,
    input: {
      status: ViolationStatus;
      alertId?: string | null | undefined;
      note?: string | null | undefined;
    },
  ): Promise<ViolationView> {
    return this.#attribution.updateViolation(caller, attributionId, input);
  }

  // ------------------------------------------------------------------ provenance (provenance.ts)

  /** The provenance of an output and its path back to the coinbases it came from. */
  provenance(caller: Caller, txid: string, vout: number): Promise<ProvenanceReport> {
    return this.#provenance.provenance(caller, txid, vout);
  }

  /** A transaction as the tracer recorded it: inputs with their origins, outputs with their shares. */
  transaction(caller: Caller, txid: string): Promise<TransactionView> {
    return this.#provenance.transaction(caller, txid);
  }

  // ------------------------------------------------------------------ statistics (statistics.ts)

  /**
   * A page of the output per miner, site, region and month (UTC), in sats and in `currency` at
   * each day's rate, with the totals per miner, site, region and month.
   */
  statistics(
    caller: Caller,
    filter: StatisticsFilter,
    page: PageRequest = {},
  ): Promise<OutputStatistics> {
    return this.#statistics.statistics(caller, filter, page);
  }
}

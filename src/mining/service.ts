import { and, asc, eq, gte, inArray, isNull, lt, sql } from 'drizzle-orm';
import { parseAddress, parseTransaction, toHex } from '../bitcoin';
import {
  keyset,
  pageOf,
  scopeTo,
  sqlState,
  UNIQUE_VIOLATION,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import { recordAudit } from '../audit';
import {
  addMoney,
  AppError,
  cryptoRandom,
  currency as parseCurrency,
  invalid,
  money,
  newId,
  satsToFiat,
  systemCaller,
  type Caller,
  type Clock,
  type Money,
  type NetworkName,
  type Random,
  type Rate,
} from '../kernel';
import type { RegistryService } from '../registry';
import {
  assertNoOverlap,
  bansInForce,
  describeBan,
  localTime,
  normalizeBan,
  type BanInput,
  type BanKind,
  type BanRule,
} from './calendar';
import { haircut, type ProvenanceShare } from './haircut';
import {
  miningAttributions,
  miningBans,
  miningBlocks,
  miningPayoutAddresses,
  miningSites,
  miningViolations,
  provenanceInputs,
  provenanceOutputs,
  provenanceTags,
} from './schema';

/** The code every ban violation record carries (compliance links these into alerts). */
export const MINING_BAN_VIOLATION = 'MINING_BAN_VIOLATION';

/** The day's BTC rate in a currency (trade's rate service plugs in here); null when unknown. */
export type RateLookup = (currency: string, date: string) => Rate | null | Promise<Rate | null>;

/** One rate for every day: for tests and the demo. */
export function fixedRateLookup(rate: Rate): RateLookup {
  return (code) => (code === rate.quote ? rate : null);
}

/** The value of an output a transaction spends (the haircut needs every input's value). */
export type PrevoutLookup = (txid: string, vout: number) => Promise<bigint>;

/** Looks prevouts up through a chain source (Bitcoin Core needs -txindex for confirmed ones). */
export function prevoutLookupFromSource(source: {
  getRawTransaction(txid: string): Promise<Uint8Array>;
}): PrevoutLookup {
  return async (txid, vout) =>
    parseTransaction(await source.getRawTransaction(txid)).output(vout).value;
}

/**
 * The chain events the attributor consumes: the chain watcher's WatchedBlock, structurally (so
 * the mining module needs nothing from the watcher but this shape).
 */
export interface MiningBlock {
  readonly hash: string;
  readonly height: number;
  /** Header time, seconds since the epoch. */
  readonly time: number;
  readonly transactions: readonly {
    readonly txid: string;
    readonly coinbase: boolean;
    readonly inputs: readonly { readonly txid: string; readonly vout: number }[];
    readonly outputs: readonly {
      readonly vout: number;
      readonly valueSats: bigint;
      readonly script: Uint8Array;
      readonly address: string | null;
    }[];
  }[];
}

/** A chain consumer (the watcher's ChainConsumer shape). */
export interface MiningChainConsumer {
  readonly name: string;
  blockConnected(block: MiningBlock, tx: Orm): Promise<void>;
  blockDisconnected(block: MiningBlock, tx: Orm): Promise<void>;
}

export interface SiteView {
  id: string;
  minerId: string;
  regionCode: string;
  name: string;
  gridConnection: string;
  /** Decimal MW with up to 3 decimals, e.g. "12.5". */
  powerCapacityMw: string;
  declaredHashrateThs: bigint;
  commissioningDate: string;
  poolName: string | null;
  createdAt: Date;
}

export interface RegisterSiteInput {
  minerId?: string | undefined;
  regionCode: string;
  name: string;
  gridConnection: string;
  powerCapacityMw: string;
  declaredHashrateThs: string;
  commissioningDate: string;
  poolName?: string | null | undefined;
}

export interface PayoutAddressView {
  id: string;
  minerId: string;
  siteId: string;
  kind: 'pool' | 'solo';
  poolName: string | null;
  address: string;
  createdAt: Date;
}

export interface BanView extends BanRule {
  id: string;
  regionCode: string;
  reason: string;
  description: string;
  createdAt: Date;
  liftedAt: Date | null;
  liftReason: string | null;
}

export interface AttributionView {
  id: string;
  blockHash: string;
  height: number;
  blockTime: Date;
  txid: string;
  vout: number;
  valueSats: bigint;
  address: string;
  minerId: string;
  siteId: string;
  regionCode: string;
  payoutKind: 'pool' | 'solo';
  poolName: string | null;
}

export const VIOLATION_STATUSES = ['open', 'linked', 'confirmed', 'dismissed'] as const;
export type ViolationStatus = (typeof VIOLATION_STATUSES)[number];

export interface ViolationView {
  attributionId: string;
  code: typeof MINING_BAN_VIOLATION;
  banId: string;
  minerId: string;
  siteId: string;
  regionCode: string;
  blockHash: string;
  height: number;
  blockTime: Date;
  valueSats: bigint;
  status: ViolationStatus;
  alertId: string | null;
  note: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface ProvenanceOrigin {
  attributionId: string;
  minerId: string;
  siteId: string;
  regionCode: string;
  blockHash: string;
  height: number;
  txid: string;
  vout: number;
}

export interface ProvenanceEntry {
  origin: ProvenanceOrigin;
  sats: bigint;
}

/** One output on the path back to the coinbases: its provenance and the tagged outputs it came from. */
export interface ProvenanceNode {
  txid: string;
  vout: number;
  valueSats: bigint;
  blockHash: string;
  height: number;
  coinbase: boolean;
  provenance: { originId: string; sats: bigint }[];
  /** The tagged outputs the creating transaction spent (empty for a coinbase). */
  from: ProvenanceNode[];
  /** True when the path was cut at the depth or size limit. */
  truncated: boolean;
}

export interface ProvenanceReport {
  txid: string;
  vout: number;
  valueSats: bigint;
  blockHash: string;
  height: number;
  /** Σ sats of the provenance: the output's domestically mined part. */
  taggedSats: bigint;
  provenance: ProvenanceEntry[];
  path: ProvenanceNode;
}

export interface OutputStatisticsRow {
  minerId: string;
  siteId: string;
  regionCode: string;
  /** YYYY-MM (UTC). */
  month: string;
  blocks: number;
  sats: bigint;
  /** The sum of each output at its day's rate (half-even to the minor unit); null if a day had no rate. */
  fiat: Money | null;
}

export interface OutputStatistics {
  currency: string;
  rows: OutputStatisticsRow[];
  byMiner: { minerId: string; sats: bigint; fiat: Money | null }[];
  bySite: { siteId: string; sats: bigint; fiat: Money | null }[];
  byRegion: { regionCode: string; sats: bigint; fiat: Money | null }[];
  byMonth: { month: string; sats: bigint; fiat: Money | null }[];
  /** Days for which the rate lookup had no rate. */
  missingRateDays: string[];
}

export interface MiningServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  network: NetworkName;
  registry: RegistryService;
  rates?: RateLookup;
}

const MAX_PATH_DEPTH = 32;
const MAX_PATH_NODES = 400;

function forbidden(message: string): AppError {
  return new AppError('FORBIDDEN', message);
}

function parseMegawatts(value: string): number {
  const match = /^(\d{1,6})(?:\.(\d{1,3}))?$/.exec(value);
  if (!match)
    throw invalid(
      'powerCapacityMw',
      `must be a decimal number of MW with at most 3 decimals, like "12.5", got "${value}"`,
    );
  const kw = Number(match[1]) * 1000 + Number((match[2] ?? '').padEnd(3, '0'));
  if (kw <= 0) throw invalid('powerCapacityMw', `must be greater than zero, got "${value}"`);
  return kw;
}

function formatMegawatts(kw: number): string {
  const whole = Math.floor(kw / 1000);
  const fraction = String(kw % 1000)
    .padStart(3, '0')
    .replace(/0+$/, '');
  return fraction ? `${whole}.${fraction}` : String(whole);
}

function siteView(row: typeof miningSites.$inferSelect): SiteView {
  return {
    id: row.id,
    minerId: row.minerId,
    regionCode: row.regionCode,
    name: row.name,
    gridConnection: row.gridConnection,
    powerCapacityMw: formatMegawatts(row.powerCapacityKw),
    declaredHashrateThs: row.declaredHashrateThs,
    commissioningDate: row.commissioningDate,
    poolName: row.poolName,
    createdAt: row.createdAt,
  };
}

function banView(row: typeof miningBans.$inferSelect): BanView {
  const rule = ruleOf(row);
  return {
    ...rule,
    id: row.id,
    regionCode: row.regionCode,
    reason: row.reason,
    description: describeBan(rule),
    createdAt: row.createdAt,
    liftedAt: row.liftedAt,
    liftReason: row.liftReason,
  };
}

function ruleOf(row: typeof miningBans.$inferSelect): BanRule {
  return {
    kind: row.kind as BanKind,
    fromDate: row.fromDate,
    toDate: row.toDate,
    season:
      row.seasonStart && row.seasonEnd ? { start: row.seasonStart, end: row.seasonEnd } : null,
    daily: row.dailyStart && row.dailyEnd ? { start: row.dailyStart, end: row.dailyEnd } : null,
  };
}

function attributionView(row: typeof miningAttributions.$inferSelect): AttributionView {
  return { ...row, payoutKind: row.payoutKind as 'pool' | 'solo' };
}

function violationView(row: typeof miningViolations.$inferSelect): ViolationView {
  return { ...row, code: MINING_BAN_VIOLATION, status: row.status as ViolationStatus };
}

/**
 * mining/: sites, pools and payout addresses, the regional ban calendar, attribution of coinbase
 * outputs, ban violations, provenance of mined coins and output statistics.
 */
export class MiningService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #network: NetworkName;
  readonly #registry: RegistryService;
  readonly #rates: RateLookup | undefined;

  constructor(deps: MiningServiceDeps) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#random = deps.random ?? cryptoRandom;
    this.#network = deps.network;
    this.#registry = deps.registry;
    this.#rates = deps.rates;
  }

  // ------------------------------------------------------------------ sites and payout addresses

  async registerSite(caller: Caller, input: RegisterSiteInput): Promise<SiteView> {
    let minerId: string;
    if (caller.role === 'miner') {
      if (input.minerId && input.minerId !== caller.participantId)
        throw forbidden('a miner registers its own sites');
      minerId = caller.participantId;
    } else if (caller.role === 'supervisor') {
      if (!input.minerId) throw invalid('minerId', 'is required');
      minerId = input.minerId;
    } else throw forbidden(`a ${caller.role} cannot register mining sites`);
    const powerCapacityKw = parseMegawatts(input.powerCapacityMw);
    if (!/^[1-9]\d{0,15}$/.test(input.declaredHashrateThs)) {
      throw invalid(
        'declaredHashrateThs',
        `must be a positive whole number of TH/s, got "${input.declaredHashrateThs}"`,
      );
    }
    const commissioningDate = input.commissioningDate;
    if (
      !/^\d{4}-\d{2}-\d{2}$/.test(commissioningDate) ||
      Number.isNaN(Date.parse(`${commissioningDate}T00:00:00Z`))
    ) {
      throw invalid(
        'commissioningDate',
        `must be a date like "2025-03-01", got "${commissioningDate}"`,
      );
    }
    const name = input.name.trim();
    const gridConnection = input.gridConnection.trim();
    if (!name) throw invalid('name', 'must not be empty');
    if (!gridConnection) throw invalid('gridConnection', 'must not be empty');
    const poolName = input.poolName?.trim() || null;
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const miner = await this.#registry.getParticipant(caller, minerId, tx);
      if (miner.kind !== 'miner')
        throw invalid('minerId', `sites belong to miners, not to a ${miner.kind}`);
      await this.#registry.requireActiveLicence(minerId, now, tx);
      await this.#registry.getRegion(input.regionCode, tx);
      const row = {
        id: newId('site', now, this.#random),
        minerId,
        regionCode: input.regionCode,
        name,
        gridConnection,
        powerCapacityKw,
        declaredHashrateThs: BigInt(input.declaredHashrateThs),
        commissioningDate,
        poolName,
        createdAt: now,
        updatedAt: now,
      };
      await tx.insert(miningSites).values(row);
      const view = siteView(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'mining_site.registered',
        entityType: 'site',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  async listSites(caller: Caller, minerId?: string): Promise<SiteView[]> {
    const rows = await this.#db.orm
      .select()
      .from(miningSites)
      .where(
        and(
          minerId ? eq(miningSites.minerId, minerId) : undefined,
          scopeTo(caller, { participant: miningSites.minerId }),
        ),
      )
      .orderBy(asc(miningSites.id));
    return rows.map(siteView);
  }

  async getSite(caller: Caller, id: string, orm: Orm = this.#db.orm): Promise<SiteView> {
    const [row] = await orm
      .select()
      .from(miningSites)
      .where(and(eq(miningSites.id, id), scopeTo(caller, { participant: miningSites.minerId })));
    if (!row) throw new AppError('NOT_FOUND', `no mining site ${id} visible to you`);
    return siteView(row);
  }

  /**
   * Registers an address at which a site's coinbase payouts arrive: from its pool (kind pool, with
   * the pool's name) or, mining solo, the coinbase address itself. An address belongs to one
   * miner: a second registration is ADDRESS_ALREADY_ASSIGNED.
   */
  async registerPayoutAddress(
    caller: Caller,
    siteId: string,
    input: { address: string; kind: 'pool' | 'solo'; poolName?: string | null | undefined },
  ): Promise<PayoutAddressView> {
    if (caller.role !== 'miner' && caller.role !== 'supervisor')
      throw forbidden('payout addresses are registered by the miner');
    const parsed = parseAddress(input.address, this.#network);
    if (input.kind !== 'pool' && input.kind !== 'solo')
      throw invalid('kind', `must be "pool" or "solo", got "${String(input.kind)}"`);
    const poolName = input.kind === 'pool' ? input.poolName?.trim() || null : null;
    if (input.kind === 'pool' && !poolName)
      throw invalid('poolName', 'is required for a pool payout address');
    if (input.kind === 'solo' && input.poolName)
      throw invalid('poolName', 'must be absent for a solo coinbase address');
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const site = await this.getSite(caller, siteId, tx);
      await this.#registry.requireActiveLicence(site.minerId, now, tx);
      // One address, one owner across the registry: not a counterparty's or a company's address.
      await this.#registry.claimAddress(tx, {
        address: parsed.canonical,
        ownerId: site.minerId,
        role: 'payout_address',
      });
      const row = {
        id: newId('address', now, this.#random),
        minerId: site.minerId,
        siteId: site.id,
        kind: input.kind,
        poolName,
        address: parsed.canonical,
        scriptHex: toHex(parsed.scriptPubKey),
        createdAt: now,
      };
      try {
        await tx.insert(miningPayoutAddresses).values(row);
      } catch (error) {
        if (sqlState(error) === UNIQUE_VIOLATION) {
          throw new AppError(
            'ADDRESS_ALREADY_ASSIGNED',
            `address ${parsed.canonical} is already registered as a payout address; an address belongs to one miner`,
          );
        }
        throw error;
      }
      const view: PayoutAddressView = { ...row, kind: input.kind };
      await recordAudit(tx, caller, this.#clock, {
        action: 'mining_payout_address.registered',
        entityType: 'site',
        entityId: site.id,
        after: view,
      });
      await this.#registry.screenOwnedAddress(tx, caller, {
        ownerId: site.minerId,
        address: parsed.canonical,
      });
      return view;
    });
  }

  async listPayoutAddresses(caller: Caller, siteId?: string): Promise<PayoutAddressView[]> {
    const rows = await this.#db.orm
      .select()
      .from(miningPayoutAddresses)
      .where(
        and(
          siteId ? eq(miningPayoutAddresses.siteId, siteId) : undefined,
          scopeTo(caller, { participant: miningPayoutAddresses.minerId }),
        ),
      )
      .orderBy(asc(miningPayoutAddresses.id));
    return rows.map(({ scriptHex: _script, ...row }) => ({
      ...row,
      kind: row.kind as 'pool' | 'solo',
    }));
  }

  // ------------------------------------------------------------------ ban calendar

  async declareBan(
    caller: Caller,
    regionCode: string,
    input: BanInput & { reason: string },
  ): Promise<BanView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor declares mining bans');
    const rule = normalizeBan(input);
    const reason = (input.reason ?? '').trim();
    if (!reason) throw invalid('reason', 'must not be empty');
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      await this.#registry.getRegion(regionCode, tx);
      // Serializes ban declarations per region, so two overlapping bans cannot both pass the check.
      await tx.execute(sql`select code from regions where code = ${regionCode} for update`);
      const existing = await tx
        .select()
        .from(miningBans)
        .where(and(eq(miningBans.regionCode, regionCode), isNull(miningBans.liftedAt)));
      assertNoOverlap(
        rule,
        existing.map((row) => ({ ...ruleOf(row), id: row.id })),
      );
      const row = {
        id: newId('ban', now, this.#random),
        regionCode,
        kind: rule.kind,
        fromDate: rule.fromDate,
        toDate: rule.toDate,
        seasonStart: rule.season?.start ?? null,
        seasonEnd: rule.season?.end ?? null,
        dailyStart: rule.daily?.start ?? null,
        dailyEnd: rule.daily?.end ?? null,
        reason,
        createdAt: now,
        liftedAt: null,
        liftReason: null,
      };
      await tx.insert(miningBans).values(row);
      const view = banView(row);
      await recordAudit(tx, caller, this.#clock, {
        action: 'mining_ban.declared',
        entityType: 'ban',
        entityId: row.id,
        after: view,
      });
      return view;
    });
  }

  async liftBan(caller: Caller, banId: string, reason: string): Promise<BanView> {
    if (caller.role !== 'supervisor') throw forbidden('only the supervisor lifts mining bans');
    const why = reason.trim();
    if (!why) throw invalid('reason', 'must not be empty');
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(miningBans)
        .where(eq(miningBans.id, banId))
        .for('update');
      if (!row) throw new AppError('NOT_FOUND', `no mining ban ${banId}`);
      if (row.liftedAt)
        throw new AppError('INVALID_STATE_TRANSITION', `ban ${banId} was already lifted`);
      const before = banView(row);
      await tx
        .update(miningBans)
        .set({ liftedAt: now, liftReason: why })
        .where(eq(miningBans.id, banId));
      const after = banView({ ...row, liftedAt: now, liftReason: why });
      await recordAudit(tx, caller, this.#clock, {
        action: 'mining_ban.lifted',
        entityType: 'ban',
        entityId: banId,
        before,
        after,
      });
      return after;
    });
  }

  async listBans(regionCode?: string): Promise<BanView[]> {
    const rows = await this.#db.orm
      .select()
      .from(miningBans)
      .where(regionCode ? eq(miningBans.regionCode, regionCode) : undefined)
      .orderBy(asc(miningBans.regionCode), asc(miningBans.fromDate));
    return rows.map(banView);
  }

  /** Is region R banned at time T? With the bans in force and the region's local time then. */
  async isBanned(
    regionCode: string,
    at: Date,
    orm: Orm = this.#db.orm,
  ): Promise<{
    banned: boolean;
    bans: BanView[];
    regionCode: string;
    timeZone: string;
    localDate: string;
    localTime: string;
  }> {
    const region = await this.#registry.getRegion(regionCode, orm);
    const rows = await orm
      .select()
      .from(miningBans)
      .where(and(eq(miningBans.regionCode, regionCode), isNull(miningBans.liftedAt)));
    const inForce = bansInForce(rows.map(banView), at, region.timeZone);
    const local = localTime(at, region.timeZone);
    return {
      banned: inForce.length > 0,
      bans: inForce,
      regionCode,
      timeZone: region.timeZone,
      localDate: local.date,
      localTime: local.time,
    };
  }

  // ------------------------------------------------------------------ attribution and provenance (chain consumer)

  /**
   * The chain consumer: attribution of coinbase outputs to registered payout addresses (with ban
   * violations) and the provenance tracer, in one consumer so that they see blocks in one order.
   * Runs inside the watcher's cursor transaction; idempotent by block hash (a block already
   * recorded in mining_blocks is skipped); a disconnected block's rows are deleted by cascade.
   */
  chainConsumer(options: { prevouts: PrevoutLookup; name?: string }): MiningChainConsumer {
    return {
      name: options.name ?? 'mining',
      blockConnected: (block, tx) => this.#connect(block, tx, options.prevouts),
      blockDisconnected: (block, tx) => this.#disconnect(block, tx),
    };
  }

  async #connect(block: MiningBlock, tx: Orm, prevouts: PrevoutLookup): Promise<void> {
    const blockTime = new Date(block.time * 1000);
    const inserted = await tx
      .insert(miningBlocks)
      .values({ hash: block.hash, height: block.height, time: blockTime })
      .onConflictDoNothing()
      .returning({ hash: miningBlocks.hash });
    if (inserted.length === 0) return;
    const now = this.#clock.now();

    // 1. Attribution: coinbase outputs paying registered payout addresses.
    const coinbase = block.transactions.find((t) => t.coinbase);
    if (coinbase) {
      const scripts = coinbase.outputs.map((o) => toHex(o.script));
      const payouts = scripts.length
        ? await tx
            .select()
            .from(miningPayoutAddresses)
            .where(inArray(miningPayoutAddresses.scriptHex, scripts))
        : [];
      const byScript = new Map(payouts.map((p) => [p.scriptHex, p]));
      for (const output of coinbase.outputs) {
        const payout = byScript.get(toHex(output.script));
        if (!payout) continue;
        const [site] = await tx.select().from(miningSites).where(eq(miningSites.id, payout.siteId));
        if (!site) continue;
        const attribution = {
          id: newId('attribution', now, this.#random),
          blockHash: block.hash,
          height: block.height,
          blockTime,
          txid: coinbase.txid,
          vout: output.vout,
          valueSats: output.valueSats,
          address: payout.address,
          minerId: payout.minerId,
          siteId: site.id,
          regionCode: site.regionCode,
          payoutKind: payout.kind,
          poolName: payout.poolName,
        };
        await tx.insert(miningAttributions).values(attribution);
        // Provenance starts here: the coinbase output is wholly of this origin.
        if (output.valueSats > 0n) {
          await tx
            .insert(provenanceOutputs)
            .values({
              txid: coinbase.txid,
              vout: output.vout,
              blockHash: block.hash,
              height: block.height,
              valueSats: output.valueSats,
              coinbase: 1,
            })
            .onConflictDoNothing();
          await tx.insert(provenanceTags).values({
            txid: coinbase.txid,
            vout: output.vout,
            originId: attribution.id,
            sats: output.valueSats,
            blockHash: block.hash,
          });
        }
        const ban = await this.isBanned(site.regionCode, blockTime, tx);
        const first = ban.bans[0];
        if (first) {
          await tx.insert(miningViolations).values({
            attributionId: attribution.id,
            code: MINING_BAN_VIOLATION,
            banId: first.id,
            minerId: payout.minerId,
            siteId: site.id,
            regionCode: site.regionCode,
            blockHash: block.hash,
            height: block.height,
            blockTime,
            valueSats: output.valueSats,
            status: 'open',
            alertId: null,
            note: null,
            createdAt: now,
            updatedAt: now,
          });
          await recordAudit(tx, systemCaller('mining-attributor'), this.#clock, {
            action: 'mining_violation.detected',
            entityType: 'attribution',
            entityId: attribution.id,
            after: {
              code: MINING_BAN_VIOLATION,
              banId: first.id,
              minerId: payout.minerId,
              siteId: site.id,
              blockHash: block.hash,
            },
          });
        }
      }
    }

    // 2. Provenance: spends of tagged outputs pass their tags on by the haircut rule.
    const inBlock = new Map<string, MiningBlock['transactions'][number]>();
    for (const transaction of block.transactions) {
      inBlock.set(transaction.txid, transaction);
      if (transaction.coinbase || transaction.inputs.length === 0) continue;
      const keys = transaction.inputs.map((input) => sql`(${input.txid}, ${input.vout})`);
      const tagRows = await tx
        .select()
        .from(provenanceTags)
        .where(
          sql`(${provenanceTags.txid}, ${provenanceTags.vout}) in (${sql.join(keys, sql`, `)})`,
        );
      if (tagRows.length === 0) continue;
      const valueRows = await tx
        .select()
        .from(provenanceOutputs)
        .where(
          sql`(${provenanceOutputs.txid}, ${provenanceOutputs.vout}) in (${sql.join(keys, sql`, `)})`,
        );
      const known = new Map(valueRows.map((row) => [`${row.txid}:${row.vout}`, row.valueSats]));
      const inputs: { value: bigint; tags: ProvenanceShare[] }[] = [];
      for (const input of transaction.inputs) {
        const key = `${input.txid}:${input.vout}`;
        let value = known.get(key);
        if (value === undefined) {
          const parent = inBlock.get(input.txid)?.outputs.find((o) => o.vout === input.vout);
          value = parent ? parent.valueSats : await prevouts(input.txid, input.vout);
        }
        const tags = tagRows
          .filter((row) => row.txid === input.txid && row.vout === input.vout)
          .map((row) => ({ origin: row.originId, sats: row.sats }));
        inputs.push({ value, tags });
      }
      const shares = haircut(
        inputs,
        transaction.outputs.map((o) => o.valueSats),
      );
      for (const [index, input] of transaction.inputs.entries()) {
        await tx.insert(provenanceInputs).values({
          spendingTxid: transaction.txid,
          inputIndex: index,
          blockHash: block.hash,
          prevTxid: input.txid,
          prevVout: input.vout,
          valueSats: inputs[index]?.value ?? 0n,
        });
        if ((inputs[index]?.tags.length ?? 0) > 0) {
          await tx
            .update(provenanceOutputs)
            .set({ spentByTxid: transaction.txid, spentInBlock: block.hash })
            .where(
              and(eq(provenanceOutputs.txid, input.txid), eq(provenanceOutputs.vout, input.vout)),
            );
        }
      }
      for (const [index, output] of transaction.outputs.entries()) {
        const outputShares = shares[index] ?? [];
        if (outputShares.length === 0) continue;
        await tx.insert(provenanceOutputs).values({
          txid: transaction.txid,
          vout: output.vout,
          blockHash: block.hash,
          height: block.height,
          valueSats: output.valueSats,
          coinbase: 0,
        });
        await tx.insert(provenanceTags).values(
          outputShares.map((share) => ({
            txid: transaction.txid,
            vout: output.vout,
            originId: share.origin,
            sats: share.sats,
            blockHash: block.hash,
          })),
        );
      }
    }
  }

  async #disconnect(block: MiningBlock, tx: Orm): Promise<void> {
    // Outputs this block's transactions spent are unspent again; everything the block added
    // (attributions with their violations, provenance outputs, tags and inputs) goes by cascade.
    await tx
      .update(provenanceOutputs)
      .set({ spentByTxid: null, spentInBlock: null })
      .where(eq(provenanceOutputs.spentInBlock, block.hash));
    const removed = await tx
      .delete(miningViolations)
      .where(eq(miningViolations.blockHash, block.hash))
      .returning({ attributionId: miningViolations.attributionId });
    await tx.delete(miningBlocks).where(eq(miningBlocks.hash, block.hash));
    for (const violation of removed) {
      await recordAudit(tx, systemCaller('mining-attributor'), this.#clock, {
        action: 'mining_violation.withdrawn',
        entityType: 'attribution',
        entityId: violation.attributionId,
        after: {
          reason: `block ${block.hash} at height ${block.height} was disconnected by a reorganization`,
        },
      });
    }
  }

  /** A page of the attributions visible to the caller, newest block first (keyset on block_time, id). */
  async listAttributions(
    caller: Caller,
    filter: { minerId?: string | undefined; regionCode?: string | undefined } = {},
    page: PageRequest = {},
  ): Promise<Page<AttributionView>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: miningAttributions.blockTime, id: miningAttributions.id },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(miningAttributions)
      .where(
        and(
          filter.minerId ? eq(miningAttributions.minerId, filter.minerId) : undefined,
          filter.regionCode ? eq(miningAttributions.regionCode, filter.regionCode) : undefined,
          scopeTo(caller, { participant: miningAttributions.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(attributionView),
      (row) => ({ createdAt: row.blockTime, id: row.id }),
    );
  }

  /**
   * A page of the ban violations visible to the caller, newest block first (keyset on block_time,
   * attribution id).
   */
  async listViolations(
    caller: Caller,
    filter: {
      status?: ViolationStatus | undefined;
      minerId?: string | undefined;
      regionCode?: string | undefined;
    } = {},
    page: PageRequest = {},
  ): Promise<Page<ViolationView>> {
    const { after, orderBy, read, limit } = keyset(
      { createdAt: miningViolations.blockTime, id: miningViolations.attributionId },
      page,
    );
    const rows = await this.#db.orm
      .select()
      .from(miningViolations)
      .where(
        and(
          filter.status ? eq(miningViolations.status, filter.status) : undefined,
          filter.minerId ? eq(miningViolations.minerId, filter.minerId) : undefined,
          filter.regionCode ? eq(miningViolations.regionCode, filter.regionCode) : undefined,
          scopeTo(caller, { participant: miningViolations.minerId }),
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(
      rows,
      limit,
      (shown) => shown.map(violationView),
      (row) => ({ createdAt: row.blockTime, id: row.attributionId }),
    );
  }

  /** The supervisor (or compliance, with the alert it opened) moves a violation along. */
  async updateViolation(
    caller: Caller,
    attributionId: string,
    input: {
      status: ViolationStatus;
      alertId?: string | null | undefined;
      note?: string | null | undefined;
    },
  ): Promise<ViolationView> {
    if (caller.role !== 'supervisor')
      throw forbidden('only the supervisor updates mining violations');
    if (!(VIOLATION_STATUSES as readonly string[]).includes(input.status)) {
      throw invalid(
        'status',
        `must be one of ${VIOLATION_STATUSES.join(', ')}, got "${input.status}"`,
      );
    }
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const [row] = await tx
        .select()
        .from(miningViolations)
        .where(eq(miningViolations.attributionId, attributionId))
        .for('update');
      if (!row)
        throw new AppError('NOT_FOUND', `no mining violation for attribution ${attributionId}`);
      const after = {
        ...row,
        status: input.status,
        alertId: input.alertId === undefined ? row.alertId : input.alertId,
        note: input.note === undefined ? row.note : input.note,
        updatedAt: now,
      };
      await tx
        .update(miningViolations)
        .set(after)
        .where(eq(miningViolations.attributionId, attributionId));
      await recordAudit(tx, caller, this.#clock, {
        action: `mining_violation.${input.status}`,
        entityType: 'attribution',
        entityId: attributionId,
        before: violationView(row),
        after: violationView(after),
      });
      return violationView(after);
    });
  }

  // ------------------------------------------------------------------ provenance queries

  /** The provenance of an output and its path back to the coinbases it came from. */
  async provenance(caller: Caller, txid: string, vout: number): Promise<ProvenanceReport> {
    if (caller.role === 'company' || caller.role === 'miner') {
      throw forbidden('provenance is for the supervisor, auditors and platforms');
    }
    if (!/^[0-9a-f]{64}$/.test(txid))
      throw invalid('txid', `must be 64 lower-case hex characters, got "${txid}"`);
    if (!Number.isInteger(vout) || vout < 0)
      throw invalid('vout', `must be a non-negative integer, got ${vout}`);
    const orm = this.#db.orm;
    const [output] = await orm
      .select()
      .from(provenanceOutputs)
      .where(and(eq(provenanceOutputs.txid, txid), eq(provenanceOutputs.vout, vout)));
    if (!output)
      throw new AppError(
        'NOT_FOUND',
        `output ${txid}:${vout} carries no provenance (no traced mined coins)`,
      );
    const tags = await orm
      .select({ tag: provenanceTags, origin: miningAttributions })
      .from(provenanceTags)
      .innerJoin(miningAttributions, eq(provenanceTags.originId, miningAttributions.id))
      .where(and(eq(provenanceTags.txid, txid), eq(provenanceTags.vout, vout)))
      .orderBy(asc(miningAttributions.height), asc(provenanceTags.originId));
    const provenance = tags.map(({ tag, origin }) => ({
      origin: {
        attributionId: origin.id,
        minerId: origin.minerId,
        siteId: origin.siteId,
        regionCode: origin.regionCode,
        blockHash: origin.blockHash,
        height: origin.height,
        txid: origin.txid,
        vout: origin.vout,
      },
      sats: tag.sats,
    }));
    const budget = { nodes: 0 };
    const path = await this.#pathNode(orm, output, 0, budget);
    return {
      txid,
      vout,
      valueSats: output.valueSats,
      blockHash: output.blockHash,
      height: output.height,
      taggedSats: provenance.reduce((sum, p) => sum + p.sats, 0n),
      provenance,
      path,
    };
  }

  async #pathNode(
    orm: Orm,
    output: typeof provenanceOutputs.$inferSelect,
    depth: number,
    budget: { nodes: number },
  ): Promise<ProvenanceNode> {
    budget.nodes++;
    const tags = await orm
      .select()
      .from(provenanceTags)
      .where(and(eq(provenanceTags.txid, output.txid), eq(provenanceTags.vout, output.vout)))
      .orderBy(asc(provenanceTags.originId));
    const node: ProvenanceNode = {
      txid: output.txid,
      vout: output.vout,
      valueSats: output.valueSats,
      blockHash: output.blockHash,
      height: output.height,
      coinbase: output.coinbase === 1,
      provenance: tags.map((t) => ({ originId: t.originId, sats: t.sats })),
      from: [],
      truncated: false,
    };
    if (node.coinbase) return node;
    if (depth >= MAX_PATH_DEPTH || budget.nodes >= MAX_PATH_NODES) {
      node.truncated = true;
      return node;
    }
    const inputs = await orm
      .select()
      .from(provenanceInputs)
      .where(eq(provenanceInputs.spendingTxid, output.txid))
      .orderBy(asc(provenanceInputs.inputIndex));
    for (const input of inputs) {
      const [parent] = await orm
        .select()
        .from(provenanceOutputs)
        .where(
          and(
            eq(provenanceOutputs.txid, input.prevTxid),
            eq(provenanceOutputs.vout, input.prevVout),
          ),
        );
      if (!parent) continue;
      if (budget.nodes >= MAX_PATH_NODES) {
        node.truncated = true;
        break;
      }
      node.from.push(await this.#pathNode(orm, parent, depth + 1, budget));
    }
    return node;
  }

  // ------------------------------------------------------------------ statistics

  /**
   * Output per miner, site, region and month (UTC), in sats and in `currency` at each output's
   * day's rate (UTC date of the block), each output converted half-even to the minor unit and
   * then summed. A miner sees its own output only.
   */
  async statistics(
    caller: Caller,
    options: { currency: string; from?: Date | undefined; to?: Date | undefined },
  ): Promise<OutputStatistics> {
    const code = parseCurrency(options.currency);
    if (caller.role === 'company' || caller.role === 'platform') {
      throw forbidden('mining statistics are for the supervisor, auditors and miners');
    }
    const rows = await this.#db.orm
      .select()
      .from(miningAttributions)
      .where(
        and(
          options.from ? gte(miningAttributions.blockTime, options.from) : undefined,
          options.to ? lt(miningAttributions.blockTime, options.to) : undefined,
          scopeTo(caller, { participant: miningAttributions.minerId }),
        ),
      )
      .orderBy(asc(miningAttributions.blockTime));
    const missing = new Set<string>();
    const rateCache = new Map<string, Rate | null>();
    const groups = new Map<string, OutputStatisticsRow & { blockHashes: Set<string> }>();
    const roll = <K extends string>(
      map: Map<string, { sats: bigint; fiat: Money | null } & Record<K, string>>,
      keyName: K,
      key: string,
      sats: bigint,
      fiat: Money | null,
    ) => {
      const entry =
        map.get(key) ??
        ({ [keyName]: key, sats: 0n, fiat: money(0n, code) } as {
          sats: bigint;
          fiat: Money | null;
        } & Record<K, string>);
      entry.sats += sats;
      entry.fiat = entry.fiat && fiat ? addMoney(entry.fiat, fiat) : null;
      map.set(key, entry);
    };
    const byMiner = new Map<string, { minerId: string; sats: bigint; fiat: Money | null }>();
    const bySite = new Map<string, { siteId: string; sats: bigint; fiat: Money | null }>();
    const byRegion = new Map<string, { regionCode: string; sats: bigint; fiat: Money | null }>();
    const byMonth = new Map<string, { month: string; sats: bigint; fiat: Money | null }>();
    for (const row of rows) {
      const day = row.blockTime.toISOString().slice(0, 10);
      if (!rateCache.has(day))
        rateCache.set(day, this.#rates ? await this.#rates(code, day) : null);
      const rate = rateCache.get(day) ?? null;
      if (!rate) missing.add(day);
      const fiat = rate ? satsToFiat(row.valueSats, rate, 'halfEven') : null;
      const month = day.slice(0, 7);
      const key = `${row.minerId}|${row.siteId}|${row.regionCode}|${month}`;
      const group = groups.get(key) ?? {
        minerId: row.minerId,
        siteId: row.siteId,
        regionCode: row.regionCode,
        month,
        blocks: 0,
        sats: 0n,
        fiat: money(0n, code),
        blockHashes: new Set<string>(),
      };
      group.blockHashes.add(row.blockHash);
      group.blocks = group.blockHashes.size;
      group.sats += row.valueSats;
      group.fiat = group.fiat && fiat ? addMoney(group.fiat, fiat) : null;
      groups.set(key, group);
      roll(byMiner, 'minerId', row.minerId, row.valueSats, fiat);
      roll(bySite, 'siteId', row.siteId, row.valueSats, fiat);
      roll(byRegion, 'regionCode', row.regionCode, row.valueSats, fiat);
      roll(byMonth, 'month', month, row.valueSats, fiat);
    }
    return {
      currency: code,
      rows: [...groups.values()].map(({ blockHashes: _hashes, ...row }) => row),
      byMiner: [...byMiner.values()],
      bySite: [...bySite.values()],
      byRegion: [...byRegion.values()],
      byMonth: [...byMonth.values()],
      missingRateDays: [...missing].sort(),
    };
  }
}

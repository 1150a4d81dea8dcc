import type { ChainBlock } from '../chain';
import type { Database, Orm } from '../db';
import type { Money, NetworkName, Clock, Random } from '../kernel';
import type { RegistryService } from '../registry';
import type { BanRule } from './calendar';
import type { RateLookup } from './ports';

/** The code every ban violation record carries (compliance links these into alerts). */
export const MINING_BAN_VIOLATION = 'MINING_BAN_VIOLATION';
/** A chain consumer (the watcher's ChainConsumer shape) of the chain module's one block type. */
export interface MiningChainConsumer {
  readonly name: string;
  blockConnected(block: ChainBlock, tx: Orm): Promise<void>;
  blockDisconnected(block: ChainBlock, tx: Orm): Promise<void>;
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
  /** The coinbase output mined under the ban (the attribution's outpoint). */
  txid: string;
  vout: number;
  /** Names for the screens; null where the caller may not see the name. */
  minerName: string | null;
  siteName: string | null;
  regionName: string | null;
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
  minerName: string | null;
  siteName: string | null;
  regionName: string | null;
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

/** Shares of mined origins carried by an output (attribution id and sats). */
export type OriginShares = { originId: string; sats: bigint }[];

/**
 * A transaction as the provenance tracer recorded it: a coinbase with its attributed outputs, or
 * a spend of traced coins with every input (and the origins each carried) and the outputs that
 * received a share. Outputs that received none are not recorded, so are not listed.
 */
export interface TransactionView {
  txid: string;
  blockHash: string;
  height: number;
  blockTime: Date | null;
  coinbase: boolean;
  inputs: {
    index: number;
    prevTxid: string;
    prevVout: number;
    valueSats: bigint;
    /** Whether the spent output carried mined coins (then its origins are listed). */
    traced: boolean;
    coinbase: boolean;
    provenance: OriginShares;
  }[];
  outputs: {
    vout: number;
    valueSats: bigint;
    taggedSats: bigint;
    provenance: OriginShares;
    spentByTxid: string | null;
  }[];
  /** Every origin named above, with its names. */
  origins: ProvenanceOrigin[];
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

/** The totals of every row the filter keeps (not only a page's). */
export interface OutputStatisticsTotals {
  byMiner: { minerId: string; sats: bigint; fiat: Money | null }[];
  bySite: { siteId: string; sats: bigint; fiat: Money | null }[];
  byRegion: { regionCode: string; sats: bigint; fiat: Money | null }[];
  byMonth: { month: string; sats: bigint; fiat: Money | null }[];
  /** Days with no rate: no fixing published and no rate stored by the day's end. */
  missingRateDays: string[];
}

/**
 * A page of the rows; the first page (no cursor) with the totals of every row the filter keeps,
 * a later page with `totals` null (they are the same for every page of one query).
 */
export interface OutputStatistics {
  currency: string;
  items: OutputStatisticsRow[];
  nextCursor: string | null;
  totals: OutputStatisticsTotals | null;
}

export interface MiningServiceDeps {
  db: Database;
  clock: Clock;
  random?: Random;
  network: NetworkName;
  registry: RegistryService;
  rates?: RateLookup;
}

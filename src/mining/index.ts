/**
 * mining/: sites, pools and payout addresses, the regional ban calendar, attribution of coinbase
 * outputs to miners (with MINING_BAN_VIOLATION records), provenance of mined coins by the
 * haircut rule, and output statistics.
 *
 * Public surface:
 * - `MiningService`: registerSite, listSites, listSiteRegions, getSite, registerPayoutAddress, listPayoutAddresses,
 *   declareBan, liftBan, listBans, isBanned(region, at), listAttributions, listViolations,
 *   updateViolation (compliance links a violation to its alert), provenance(caller, txid, vout),
 *   statistics(caller, { currency, from, to }), and chainConsumer() — the consumer to register
 *   with the chain watcher (`watcher.registerConsumer(mining.chainConsumer())`); it reads the
 *   chain's ChainBlock, whose inputs carry the outputs they spend (no chain calls).
 * - Ports: `RateLookup` (the day's BTC rate; `fixedRateLookup` for tests and the demo).
 * - Pure logic: `normalizeBan`, `bansInForce`, `localTime`, `firstOverlap` (ban calendar) and
 *   `haircut` (provenance of a transaction's outputs).
 * - `MINING_BAN_VIOLATION`: the code every violation record carries.
 * - Block reads for the consumers registered after mining's (clearing): `blockAttributions`,
 *   `blockProvenance` (what the block's attribution and tracing wrote, through the block's tx).
 */
export { MiningService } from './service';
export { MINING_BAN_VIOLATION, VIOLATION_STATUSES } from './types';
export { fixedRateLookup } from './ports';
export type {
  AttributionView,
  BanView,
  MiningChainConsumer,
  MiningServiceDeps,
  OutputStatistics,
  OriginShares,
  OutputStatisticsRow,
  OutputStatisticsTotals,
  PayoutAddressView,
  ProvenanceEntry,
  ProvenanceNode,
  ProvenanceOrigin,
  ProvenanceReport,
  TransactionView,
  RegisterSiteInput,
  SiteView,
  ViolationStatus,
  ViolationView,
} from './types';
export type { RateLookup } from './ports';
export {
  assertNoOverlap,
  banCovers,
  bansInForce,
  describeBan,
  firstOverlap,
  localTime,
  normalizeBan,
} from './calendar';
export type { BanInput, BanKind, BanRule, LocalTime } from './calendar';
export { haircut } from './haircut';
export { blockAttributions, blockProvenance } from './reads';
export type { BlockAttribution, BlockProvenanceTag } from './reads';
export type { HaircutInput, ProvenanceShare } from './haircut';
// Published read models: views other modules' SQL reads instead of this module's tables.
export {
  miningBanFacts,
  miningBlockFacts,
  miningOutputFacts,
  miningSiteNames,
  miningViolationFacts,
} from './read-models';

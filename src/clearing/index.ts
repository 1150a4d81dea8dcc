/**
 * clearing/: regulatory clearing of mined coins, and the multilateral netting later settlement
 * windows build on.
 *
 * Public surface:
 * - `ClearingService`: loop (the loop report of a period), listLots (paged), getLot, release (supervisor), clearedShare(txid, vout),
 *   rule / setRule (the versioned cleared-origin rule), and chainConsumer() — register it with
 *   the chain watcher after mining's consumer. It is trade's `CoinOrigins` port (ruleAt,
 *   coinOrigins) for coin selection.
 * - Events (audit actions): `CLEARING_EVENTS`.
 * - Netting (pure): `netPositions`, `settlementInstructions`, `bilateralTransfers`,
 *   `settleWithTakeOut`, `checkObligation`.
 *
 * - The domestic market for cleared coins (market/): `MarketService` (the markets' directory, settings, offers with
 *   their escrow deposit, bids, matching, the fiat leg's confirmation with delivery versus
 *   payment, `tick` for the job `market.tick`), the `SettlementBank` port with `SimulatedBank`
 *   and the bank-file adapter `parseBankConfirmations`, the `ObligationSink` port, and the deal
 *   lifecycle `DEAL_TRANSITIONS`.
 *
 * Tables (clearing/schema.ts) are not exported: clearing_blocks, clearing_lots, clearing_outputs,
 * clearing_holdings, clearing_rule_versions; nor the market's (clearing/market/schema.ts):
 * market_settings, market_offers, market_escrow_coins, market_bids, market_deals,
 * market_bank_inbox.
 */
export {
  ClearingService,
  LOT_STATUSES,
  QUARANTINE_REASONS,
  type ClearedShareView,
  type ClearingChainConsumer,
  type ClearingServiceDeps,
  type LotClearance,
  type LotStatus,
  type LotView,
  type QuarantineReason,
} from './service';
export { CLEARED_ORIGIN_RULE, type RuleInput, type RuleState, type RuleVersionView } from './rule';
export { SITE_REGISTRATION_TOLERANCE_MS, type ClearingBlock } from './follow';
export type {
  LoopAmount,
  LoopCurrency,
  LoopDealGroup,
  LoopFixing,
  LoopReport,
  LoopRoute,
  LoopStageValue,
  LoopStuck,
  LoopTrace,
  LoopValuation,
  LoopValuedStage,
  LoopWindow,
  LoopWindowAsset,
} from './loop';
export { LOOP_VALUED_STAGES } from './loop';

/** The audit actions clearing records (entity type `lot`, or `clearing_rule`). */
export const CLEARING_EVENTS = {
  quarantined: 'clearing_lot.quarantined',
  released: 'clearing_lot.released',
  withdrawn: 'clearing_lot.withdrawn',
  ruleSet: 'clearing_rule.set',
} as const;

export {
  BTC,
  bilateralTransfers,
  checkObligation,
  netPositions,
  settlementInstructions,
  settleWithTakeOut,
} from './netting';
export type {
  ClearingTransfer,
  NetPositions,
  Obligation,
  SettlementInstructions,
  WindowOutcome,
} from './netting';

// Settlement windows between platforms (clearing/windows).
export {
  FROZEN_PAY_IN_RULE,
  HELD_PAY_IN_RULE,
  SETTLEMENT_ADDRESS_REFUSED_RULE,
  settlementAddressStatement,
  SETTLEMENT_STATEMENT_VALID_DAYS,
  HELD_REASONS,
  PAY_IN_REFUSALS,
  PAY_IN_STATUSES,
  NETWORK_FEE,
  SETTLEMENT_PAY_OUT_EVENTS,
  MISSING_INPUT_ATTEMPTS,
  PAY_IN_OUTPOINT_MISSING,
  REPLACED_TRANSACTION_MINED,
  PAY_OUT_HELD_RULE,
  PAY_OUT_REJECTED,
  SETTLEMENT_WINDOW_EVENTS,
  SettlementWindowService,
  feeShares,
  simnetClearingDescriptor,
  simnetClearingSigner,
  clearingSigner,
  WINDOW_STATUSES,
  nextCutoff,
  valueNets,
} from './windows';
export type {
  PayOutAlerts,
  AccountBalanceView,
  FiatPayIn,
  HeldDecision,
  HeldReason,
  ObligationView,
  PayInDecisionView,
  PayInHoldView,
  ObligationInput,
  ObligationSink,
  PayOutBatchView,
  PayOutRun,
  PayOutTransactionView,
  LicenceCheck,
  SettlementAddressView,
  PayInRefusalReason,
  PayInRefusalView,
  PayInView,
  PayOutView,
  PositionView,
  ReconcileView,
  ScheduleInput,
  ScheduleState,
  ScheduleVersionView,
  SettlementWindowDeps,
  WindowStatus,
  WindowValuationPort,
  WindowValuationView,
  WindowView,
} from './windows';
export * from './market';
// Published read models: views other modules' SQL reads instead of this module's tables.
export { clearingDealFacts, clearingLotFacts } from './read-models';

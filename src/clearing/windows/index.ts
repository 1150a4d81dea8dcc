/**
 * clearing/windows: settlement windows between platforms with multilateral netting (issue 13).
 *
 * Public surface: `SettlementWindowService` (the `ObligationSink` other modules record into;
 * schedule, the `clearing.windows` job's `runDue`, closing, pay-ins on-chain through
 * `chainConsumer()` and by bank through `confirmFiatPayIn`, the supervisor's decision on a held
 * pay-in `decideHeldPayIn`, paged reads (obligations, positions, pay-ins, pay-outs), `reconcile`), its views,
 * `nextCutoff`, `SETTLEMENT_WINDOW_EVENTS`; platforms' settlement addresses
 * (four eyes: `proposeSettlementAddress` with a BIP322 proof, `approveSettlementAddress`,
 * `rejectSettlementAddress`, `listSettlementAddresses`) and the signed, broadcast pay-out
 * transaction of a settled window (`runDue` → `runPayOuts`, `SETTLEMENT_PAY_OUT_EVENTS`).
 *
 * Tables (windows/schema.ts, not exported): clearing_window_schedules, clearing_windows,
 * clearing_obligations, clearing_positions, clearing_pay_ins, clearing_pay_in_refusals,
 * clearing_pay_outs, clearing_window_postings, clearing_pay_out_transactions,
 * clearing_settlement_addresses.
 */
export { SettlementWindowService, type ReconcileView, type SettlementWindowDeps } from './service';
export { simnetClearingDescriptor, simnetClearingSigner, clearingSigner } from './clearing-keys';
export type { ObligationInput, ObligationSink } from './obligations';
export type { PayOutBatchView, PayOutTransactionView } from './pay-out-batch';
export {
  nextCutoff,
  type ScheduleInput,
  type ScheduleState,
  type ScheduleVersionView,
} from './schedule';
export {
  HELD_PAY_IN_RULE,
  HELD_REASONS,
  PAY_IN_REFUSALS,
  type HeldReason,
  type PayInRefusalReason,
} from './pay-ins';
export { FROZEN_PAY_IN_RULE, type HeldDecision } from './held-pay-ins';
export type { PayerScreening } from './lifecycle';
export type { FiatPayIn } from './fiat';
export type { AccountBalanceView } from './books';
export { NETWORK_FEE, SETTLEMENT_PAY_OUT_EVENTS, feeShares, type PayOutRun } from './pay-outs';
export { SETTLEMENT_ADDRESS_REFUSED_RULE, type LicenceCheck } from './settlement-addresses';
export {
  settlementAddressStatement,
  SETTLEMENT_STATEMENT_VALID_DAYS,
} from './settlement-address-statement';
export {
  MISSING_INPUT_ATTEMPTS,
  PAY_IN_OUTPOINT_MISSING,
  PAY_OUT_REJECTED,
  REPLACED_TRANSACTION_MINED,
} from './pay-out-broadcast';
export { PAY_OUT_HELD_RULE, type PayOutAlerts } from './pay-out-alerts';
export {
  PAY_IN_STATUSES,
  WINDOW_STATUSES,
  type ObligationView,
  type PayInDecisionView,
  type PayInHoldView,
  type PayInRefusalView,
  type PayInStatus,
  type PendingConfirmation,
  type PayInView,
  type PayOutView,
  type SettlementAddressView,
  type PositionView,
  type WindowStatus,
  type WindowValuationView,
  type WindowView,
} from './views';
export { valueNets, type WindowValuationPort } from './valuation';

/** The audit actions of settlement windows (entity types `settlement_window`, `pay_in`, …). */
export const SETTLEMENT_WINDOW_EVENTS = {
  scheduleSet: 'settlement_schedule.set',
  closed: 'settlement_window.closed',
  takenOut: 'settlement_window.takenOut',
  settled: 'settlement_window.settled',
  payInSeen: 'settlement_pay_in.seen',
  payInHeld: 'settlement_pay_in.held',
  payInRecorded: 'settlement_pay_in.recorded',
  payInConfirmed: 'settlement_pay_in.confirmed',
  payInReceived: 'settlement_pay_in.received',
  payInRefused: 'settlement_pay_in.refused',
  payInAcceptProposed: 'settlement_pay_in.acceptProposed',
  payInAccepted: 'settlement_pay_in.accepted',
  payInRejected: 'settlement_pay_in.rejected',
  payInFrozen: 'settlement_pay_in.frozen',
  payInReopened: 'settlement_pay_in.reopened',
  payInReorgedAfterDecision: 'settlement_pay_in.reorgedAfterDecision',
  payInWithdrawn: 'settlement_pay_in.withdrawn',
  payInReorgedAfterSettlement: 'settlement_pay_in.reorgedAfterSettlement',
  settlementAddressProposed: 'settlement_address.proposed',
  settlementAddressSuperseded: 'settlement_address.superseded',
  settlementAddressApproved: 'settlement_address.approved',
  settlementAddressRejected: 'settlement_address.rejected',
  settlementAddressRefused: 'settlement_address.refused',
} as const;

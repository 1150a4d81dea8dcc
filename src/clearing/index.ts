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

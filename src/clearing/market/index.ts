export { MarketService, type ImportOutcome } from './service';
export { fiatPayee } from './deals';
export { MARKET_LICENCE_STATUSES, type MarketLicenceStatus, type MarketListing } from './directory';
export {
  SimulatedBank,
  checkConfirmation,
  parseBankConfirmations,
  type FiatConfirmation,
  type FiatTransfer,
  type ParsedConfirmations,
  type SettlementBank,
} from './bank';
export {
  BID_STATUSES,
  DEAL_STATUSES,
  DEAL_TRANSITIONS,
  OFFER_STATUSES,
  nextDealStatus,
  type BidStatus,
  type DealAction,
  type DealStatus,
  type OfferStatus,
} from './lifecycle';
export type {
  MarketChain,
  MarketRegistry,
  MarketServiceDeps,
  MarketObligation,
  ObligationSink,
} from './ports';
export type { MarketSettingsInput } from './orders';
export type { MarketTickResult } from './tick';
export type {
  BankConfirmationView,
  BidView,
  DealView,
  MarketSettingsView,
  OfferView,
} from './views';

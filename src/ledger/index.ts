export { LedgerService, accountId, fiatValue, translateLedgerError } from './ledger';
export type {
  AccountBalance,
  BalanceFilter,
  AccountRef,
  PostRequest,
  PostingInput,
  Statement,
  StatementLine,
} from './ledger';
export { FileRateSource, FixedRateSource, MedianRateSource, RateService } from './rates';
export { fixQuotes, medianRate, spreadBps } from './fixing-math';
export type { FixingOutcome, FixingRule, FixingSourceReport, SourceQuote } from './fixing-math';
export { FixingService, REFUSAL_RETRY_MS } from './fixings';
export type { DueFixingsResult, FixingView } from './fixings';
export { checkFixingSettings, cutoffOf, defaultFixingSettings } from './fixing-settings';
export type { FixingSettings, FixingSettingsInput } from './fixing-settings';
export {
  BITSTAMP,
  COINBASE,
  KRAKEN,
  VENUES,
  VenueRateSource,
  httpJson,
  venueSources,
} from './market-sources';
export type { JsonTransport, MarketQuote, MarketRateSource, Venue } from './market-sources';
export type { RateLogger, RateObservation, RateSource, SourceReport, StoredRate } from './rates';
export { ACCOUNT_PURPOSES } from './schema';
export type { AccountPurpose } from './schema';
// Published read models: views other modules' SQL reads instead of this module's tables.
export {
  ledgerFixingFacts,
  ledgerFixingRates,
  ledgerRateFacts,
  ledgerRateValues,
} from './read-models';

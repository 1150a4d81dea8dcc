export { LedgerService, accountId, fiatValue, translateLedgerError } from './ledger';
export type {
  AccountBalance,
  AccountRef,
  PostRequest,
  PostingInput,
  Statement,
  StatementLine,
} from './ledger';
export {
  FileRateSource,
  FixedRateSource,
  MedianRateSource,
  RateService,
  medianRate,
  spreadBps,
} from './rates';
export type { RateLogger, RateObservation, RateSource, SourceReport, StoredRate } from './rates';
export {
  ACCOUNT_PURPOSES,
  exchangeRates,
  ledgerAccounts,
  ledgerPostings,
  ledgerSettledOutputs,
  ledgerTransactions,
} from './schema';
export type { AccountPurpose } from './schema';

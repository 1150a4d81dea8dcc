/**
 * Sanctions screening: list importers, name normalization and matching, name and address
 * indexes. Pure logic, no I/O: callers read the files and pass their bytes.
 */
export type {
  AliasStrength,
  EntryKind,
  ImportOptions,
  ListAlias,
  ListCounts,
  ListedAddress,
  ListEntry,
  ListSnapshot,
  ListSource,
  ProgressCallback,
} from './types';
export { importOfacSdnCsv, extractDigitalCurrencyAddresses, type OfacSdnFiles } from './ofac-csv';
export { importUnConsolidatedXml } from './un-xml';
export { importEuFsfXml } from './eu-fsf';
export { importAddressList, type AddressListOptions } from './address-list';
export { normalizeName, normalizeText, type NameToken, type NormalizedName } from './normalize';
export { transliterateWord } from './transliterate';
export { jaroWinkler, nameSimilarity, tokenSimilarity } from './similarity';
export { MATCH_THRESHOLD, REVIEW_THRESHOLD, outcomeOf, type ScreeningOutcome } from './thresholds';
export { ScreeningIndex, type NameMatch, type ScreenNameOptions } from './name-index';
export { AddressIndex, canonicalAddress, type AddressMatch } from './address-index';

/**
 * The closed list of error codes. Every user-facing failure is an AppError with one of these
 * codes; the HTTP error handler maps each code to a status in exactly one place
 * (src/http/errors.ts), and a test fails if a code has no status or no description.
 *
 * Add a code here together with its description; the typechecker then asks for its status.
 */
export const ERROR_CODES = {
  VALIDATION_FAILED: 'The input was malformed; the message names the field.',
  CONFIG_INVALID: 'A configuration value is missing or malformed.',
  UNAUTHENTICATED: 'No valid credentials were presented.',
  FORBIDDEN: 'The caller is authenticated but its role may not do this.',
  NOT_FOUND: 'The resource does not exist or is not visible to the caller.',
  CONFLICT: 'The request conflicts with the current state of the resource.',
  RATE_LIMITED: 'Too many requests; retry later.',
  INTERNAL: 'An unexpected error; the request id identifies it in the logs.',
  PAYLOAD_TOO_LARGE: 'The request body is larger than the API accepts.',
  UNSUPPORTED_MEDIA_TYPE: 'The request body has a content type the endpoint does not accept.',
  NOT_READY: 'A dependency (database, migrations) is not ready.',
  AUDIT_CHAIN_BROKEN: 'The audit log hash chain does not verify.',
  // bitcoin / chain
  INVALID_ADDRESS: 'A Bitcoin address is malformed or for another network.',
  INVALID_DESCRIPTOR: 'An output descriptor or extended key is malformed.',
  INVALID_PAYMENT_URI: 'A BIP21 payment URI is malformed.',
  INVALID_PSBT: 'A PSBT is malformed or cannot be finalized.',
  INVALID_BLOCK: 'A block or transaction could not be parsed or does not verify.',
  TX_REJECTED: 'The chain refused a transaction; the message says why.',
  CHAIN_UNAVAILABLE: 'The chain source could not be reached.',
  CHAIN_UNSUPPORTED: 'The configured chain source does not offer this operation.',
  BLOCK_NOT_FOUND: 'No block with that hash or height.',
  TX_NOT_FOUND: 'No transaction with that id.',
  INSUFFICIENT_FUNDS: 'The available coins do not cover the amount and fee.',
  ORIGIN_NOT_CLEARED:
    "The company's coins whose cleared share meets the scheme's cleared-origin rule do not cover the payouts.",
  // registry
  PARTICIPANT_NOT_FOUND: 'No participant with that id visible to the caller.',
  LICENCE_NOT_ACTIVE: "The participant's licence is not active.",
  KYC_NOT_VERIFIED: 'The party has not passed KYC/KYB verification.',
  INVALID_LEI: 'An LEI failed its ISO 17442 check digits.',
  INVALID_COUNTRY: 'A country code is not an ISO 3166-1 alpha-2 code.',
  JURISDICTION_REFUSED: 'Settlement with this jurisdiction is refused at scheme level.',
  ADDRESS_ALREADY_ASSIGNED: 'The address is already registered to another party.',
  OWNERSHIP_PROOF_INVALID: 'A BIP322 ownership proof does not verify.',
  SCREENING_HIT_UNRESOLVED:
    'The party has a sanctions screening hit that is unresolved or confirmed; it cannot be verified until resolved.',
  BAN_PERIOD_INVALID: 'A mining ban period is inverted or overlaps another.',
  LOT_NOT_QUARANTINED: 'The mined lot is not quarantined, so there is nothing to release.',
  WINDOW_NOT_FOUND: 'No settlement window with that id.',
  WINDOW_ALREADY_CLOSED: 'The settlement window is already closed; its positions are fixed.',
  WINDOW_NOT_CLOSED: 'The settlement window is still open: nothing is due until it closes.',
  WINDOW_ALREADY_SETTLED: 'The settlement window has settled; nothing more is paid into it.',
  PAY_IN_NOT_FOUND: 'No pay-in is due from that platform in that asset for that window.',
  PAY_IN_WRONG_AMOUNT:
    'The pay-in is not the amount due; it was recorded as refused and does not count.',
  PAY_IN_ALREADY_RECEIVED: 'That pay-in was already received.',
  PAY_IN_NOT_HELD:
    'Only a held pay-in is accepted or rejected; this one is not held (its status is in the details).',
  PAY_IN_NOT_CLEARED:
    'The coins paid in are not wholly cleared (quarantined or undetermined sats); they do not count.',
  SETTLEMENT_ADDRESS_MISSING:
    'The platform has registered no settlement address: its bitcoin pay-out is held until it registers one.',
  PAY_OUT_BELOW_DUST:
    'The bitcoin pay-out is too small to pay once its share of the network fee is taken: it is held for the supervisor.',
  PAY_OUT_NOT_REJECTED:
    "Only a settlement window's pay-out transaction the network rejected for good, or one held because its inputs stayed missing (PAY_IN_OUTPOINT_MISSING), is rebuilt; this one is neither (its status and held code are in the details).",
  PAY_OUT_REBUILD_UNCHANGED:
    'The rebuilt pay-out transaction would be the rejected one again (the same addresses and fee rate): nothing was signed.',
  PAY_OUT_NOT_HELD_FOR_MINED:
    "Only a settlement window's pay-out transaction held because a transaction it replaced was mined after all (REPLACED_TRANSACTION_MINED) has a mined transaction to adopt; this one is not (its status and held code are in the details).",
  MINED_TRANSACTION_MISMATCH:
    "The mined transaction does not pay the settlement window's receivers as its pay-outs say (inputs, amounts or addresses differ, listed in the details): it was not adopted and the window stays held.",
  BANK_REFERENCE_REUSED:
    'That bank reference already confirmed another payment; a bank reference counts once.',
  DEPOSIT_NOT_FROM_LOT: "The escrow deposit does not spend the offered lot's coins.",
  DEPOSIT_NOT_RECORDED:
    "The offer's escrow deposit is on-chain but not reported: report it, then withdraw to have it returned to the miner's screened address.",
  // clearing: the domestic market
  LOT_QUARANTINED:
    'The mined lot is quarantined (or its coins are not wholly cleared); it cannot be sold until the supervisor releases it.',
  LOT_NOT_AVAILABLE:
    'The mined lot is spent, or its coins are already offered: the offer exceeds what the miner holds cleared.',
  IMPORT_CONTRACT_REQUIRED: 'Only a company with an active import contract bids for cleared coins.',
  ESCROW_NOT_FUNDED:
    "The miner has not deposited the offered coins into the market's escrow address.",
  FIAT_AMOUNT_MISMATCH:
    "A fiat confirmation's amount or currency differs from the deal's fiat leg; nothing was changed.",
  DEAL_ALREADY_CONFIRMED: "The deal's fiat leg is already confirmed.",
  DEAL_PAST_DEADLINE: "The deal's settlement deadline has passed; it is (or will be) unwound.",
  // trade / ledger
  CONTRACT_NOT_FOUND: 'No contract with that id visible to the caller.',
  CONTRACT_NOT_ACTIVE: 'The contract is not active.',
  AMOUNT_EXCEEDS_OPEN: "The amount exceeds the contract's open amount.",
  INVALID_STATE_TRANSITION: 'The resource cannot move to that state from its current one.',
  RATE_UNAVAILABLE: 'No exchange rate is available.',
  FIXING_NOT_FOUND: 'No rate fixing with that id.',
  FIXING_ALREADY_PUBLISHED:
    'The fixing of that currency and date is already published; correct it instead.',
  FIXING_SUPERSEDED: 'That fixing version was already corrected; correct the latest version.',
  FIXING_SOURCES_INSUFFICIENT:
    'Fewer sources than the fixing rule requires gave a usable quote; no fixing was written and the refusal was audited.',
  FIXING_SINGLE_SOURCE_NOT_EXPLICIT:
    'A fixing rule of a single source needs the supervisor’s explicit flag with a reason.',
  INVOICE_NOT_FOUND: 'No invoice with that id.',
  PAYOUT_NOT_FOUND: 'No payout with that id visible to the caller.',
  HOLD_NOT_CLEARED:
    "The held payout's checks, run again at its release, still do not pass; it stays held with the new decision's reference.",
  HOLD_NOT_RELEASABLE:
    'The payout is held for a finding (a sanctions or screening match, a monitoring alert) that only a compliance review or case clears, not a release.',
  SETTLEMENT_ADDRESS_NOT_FOUND: 'No settlement address with that id visible to the caller.',
  SELF_APPROVAL:
    'The maker of a payout cannot approve or release it, the officer who matched a market deal cannot confirm its fiat leg, and the officer who proposed a settlement address cannot approve it.',
  LEDGER_UNBALANCED: 'A ledger transaction does not balance.',
  ALREADY_SETTLED: 'That on-chain output is already settled.',
  IDEMPOTENCY_KEY_REUSED:
    'The Idempotency-Key was already used for a different request; use a new key for a new request.',
  // compliance
  LIST_IMPORT_FAILED: 'A sanctions list file could not be imported.',
  TRANSFER_BLOCKED: 'The policy gate blocked the transfer; the reasons say why.',
  TRAVEL_RULE_INCOMPLETE: 'Travel Rule data is missing or invalid.',
  CASE_NOT_FOUND: 'No case with that id visible to the caller.',
  GOAML_NOT_READY:
    'The goAML report lacks a value the FIU needs (the reporting entity id, a linked transfer); the message names it.',
  CHAIN_REORG_TOO_DEEP:
    'The chain reorganized deeper than the blocks the watcher keeps; rescan from a height.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CODES, value);
}

/** Detail about a single offending input field, for forms and API clients. */
export interface FieldIssue {
  field: string;
  message: string;
}

export class AppError extends Error {
  override readonly name = 'AppError';
  readonly code: ErrorCode;
  readonly issues: readonly FieldIssue[];
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    options: {
      issues?: readonly FieldIssue[];
      details?: Record<string, unknown>;
      cause?: unknown;
    } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.issues = options.issues ?? [];
    this.details = options.details;
  }
}

export function isAppError(error: unknown): error is AppError {
  return error instanceof AppError;
}

/** Shorthand for the most common failure: one named input is wrong. */
export function invalid(field: string, message: string): AppError {
  return new AppError('VALIDATION_FAILED', `${field}: ${message}`, {
    issues: [{ field, message }],
  });
}

import { sql } from 'drizzle-orm';
import {
  type AnyPgColumn,
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

/**
 * The double-entry ledger, in satoshis. A posting's amount is signed: positive debits the
 * account, negative credits it; the postings of one ledger transaction sum to zero, which a
 * deferred constraint trigger checks at commit (migration ledger_balanced). Beside each posting
 * is its fiat value at the settlement rate the transaction references.
 */
export const ACCOUNT_PURPOSES = [
  'clientFunds', // a company's coins held in its wallet at the platform
  'inTransit', // coins signed away in a broadcast transaction that has not settled yet
  'networkFees', // fees paid to miners, per company
  'counterpartySettled', // what a foreign counterparty has paid (credit) or received (debit)
] as const;
export type AccountPurpose = (typeof ACCOUNT_PURPOSES)[number];

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const exchangeRates = pgTable(
  'exchange_rates',
  {
    id: text('id').primaryKey(),
    quote: text('quote').notNull(),
    /** The price of 1 BTC as an exact decimal: digits × 10^-scale quote units. */
    digits: bigint('digits', { mode: 'bigint' }).notNull(),
    scale: integer('scale').notNull(),
    at: at('at').notNull(),
    /** How the value was obtained, e.g. `median(3 of 4, max spread 200 bp)`. */
    method: text('method').notNull(),
    /** Every source asked: { name, rate | null, used, reason }. */
    sources: jsonb('sources').notNull(),
    /** The published fixing this rate was taken from, when there was one for the day. */
    fixingId: text('fixing_id').references((): AnyPgColumn => rateFixings.id),
  },
  (t) => [
    index('exchange_rates_quote_at_idx').on(t.quote, t.at),
    // GET /v1/rates, newest first, of one quote or all.
    index('exchange_rates_quote_page_idx').on(t.quote, t.at, t.id),
    index('exchange_rates_page_idx').on(t.at, t.id),
    check('exchange_rates_positive', sql`${t.digits} > 0 and ${t.scale} between 0 and 12`),
  ],
);

export const ledgerAccounts = pgTable(
  'ledger_accounts',
  {
    id: text('id').primaryKey(),
    participantId: text('participant_id').notNull(),
    /** The platform the participant's funds are held at (null for scheme-level accounts). */
    platformId: text('platform_id'),
    purpose: text('purpose').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('ledger_accounts_owner_purpose_uq').on(t.participantId, t.purpose),
    check(
      'ledger_accounts_purpose',
      sql`${t.purpose} in ('clientFunds', 'inTransit', 'networkFees', 'counterpartySettled')`,
    ),
  ],
);

export const ledgerTransactions = pgTable(
  'ledger_transactions',
  {
    id: text('id').primaryKey(),
    at: at('at').notNull(),
    /** `invoice.settled`, `payout.broadcast`, `payout.completed`, `reversal`, … */
    kind: text('kind').notNull(),
    /** The trade entity the entry is for (inv_…, pay_…, bat_…). */
    reference: text('reference').notNull(),
    platformId: text('platform_id'),
    rateId: text('rate_id').references(() => exchangeRates.id),
    /** For a reversal: the transaction it undoes (each is undone at most once). */
    reverses: text('reverses').unique(),
    memo: text('memo').notNull().default(''),
  },
  (t) => [index('ledger_transactions_reference_idx').on(t.reference)],
);

export const ledgerPostings = pgTable(
  'ledger_postings',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    transactionId: text('transaction_id')
      .notNull()
      .references(() => ledgerTransactions.id),
    accountId: text('account_id')
      .notNull()
      .references(() => ledgerAccounts.id),
    amountSats: bigint('amount_sats', { mode: 'bigint' }).notNull(),
    fiatMinor: bigint('fiat_minor', { mode: 'bigint' }),
    fiatCurrency: text('fiat_currency'),
  },
  (t) => [
    index('ledger_postings_transaction_idx').on(t.transactionId),
    index('ledger_postings_account_idx').on(t.accountId),
    // A statement's lines, a page at a time by posting.
    index('ledger_postings_account_page_idx').on(t.accountId, t.id),
    check('ledger_postings_nonzero', sql`${t.amountSats} <> 0`),
    check('ledger_postings_fiat_pair', sql`(${t.fiatMinor} is null) = (${t.fiatCurrency} is null)`),
  ],
);

/**
 * One row per on-chain output a settlement consumed. The partial unique index refuses a second
 * live settlement of the same output; a reversal (reorg) releases the row, so the output can be
 * settled again when it re-confirms.
 */
export const ledgerSettledOutputs = pgTable(
  'ledger_settled_outputs',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    transactionId: text('transaction_id')
      .notNull()
      .references(() => ledgerTransactions.id),
    releasedBy: text('released_by').references(() => ledgerTransactions.id),
  },
  (t) => [
    uniqueIndex('ledger_settled_outputs_live_uq')
      .on(t.txid, t.vout)
      .where(sql`${t.releasedBy} is null`),
  ],
);

/**
 * The supervisor's published reference rates (issue 13): one row per version of the fixing of
 * BTC in `quote` on `date` (UTC), taken at the day's cut-off as the median of the configured
 * sources after rejecting outliers. A correction is a new version naming the one it supersedes
 * and why; rows are never updated (the unique index makes a second version 1 a conflict).
 */
export const rateFixings = pgTable(
  'rate_fixings',
  {
    id: text('id').primaryKey(),
    quote: text('quote').notNull(),
    /** The cut-off date, YYYY-MM-DD (UTC). */
    date: text('date').notNull(),
    version: integer('version').notNull(),
    digits: bigint('digits', { mode: 'bigint' }).notNull(),
    scale: integer('scale').notNull(),
    /** e.g. `median(3 of 4, max deviation 200 bp, min 2)`. */
    method: text('method').notNull(),
    /** Every source asked: { name, rate | null, used, reason?, deviationBps?, at? }. */
    sources: jsonb('sources').notNull(),
    /** The rule it was taken under (copied from the settings version). */
    settingsVersion: integer('settings_version').notNull(),
    minSources: integer('min_sources').notNull(),
    maxDeviationBps: integer('max_deviation_bps').notNull(),
    publishedBy: text('published_by').notNull(),
    /** For a correction: the version it supersedes, and the reason given. */
    supersedes: text('supersedes'),
    reason: text('reason'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('rate_fixings_quote_date_version_uq').on(t.quote, t.date, t.version),
    uniqueIndex('rate_fixings_supersedes_uq').on(t.supersedes),
    index('rate_fixings_page_idx').on(t.createdAt, t.id),
    index('rate_fixings_quote_page_idx').on(t.quote, t.createdAt, t.id),
    check('rate_fixings_positive', sql`${t.digits} > 0 and ${t.scale} between 0 and 12`),
    check('rate_fixings_version', sql`${t.version} >= 1`),
    check(
      'rate_fixings_correction',
      sql`(${t.version} = 1) = (${t.supersedes} is null) and (${t.supersedes} is null) = (${t.reason} is null)`,
    ),
  ],
);

/**
 * The fixing rule, versioned: the supervisor's every change is a new row (and an audit event);
 * the highest version is in force. A single source is allowed only with `single_source_reason`.
 */
export const rateFixingSettings = pgTable(
  'rate_fixing_settings',
  {
    version: integer('version').primaryKey(),
    /** The daily cut-off, HH:MM (UTC). */
    cutoffTime: text('cutoff_time').notNull(),
    /** The currencies fixed at the cut-off (the scheme's currency and its trade currencies). */
    currencies: jsonb('currencies').notNull(),
    /** The names of the sources asked. */
    sources: jsonb('sources').notNull(),
    minSources: integer('min_sources').notNull(),
    maxDeviationBps: integer('max_deviation_bps').notNull(),
    singleSourceReason: text('single_source_reason'),
    setBy: text('set_by').notNull(),
    setAt: at('set_at').notNull(),
  },
  (t) => [
    check('rate_fixing_settings_min', sql`${t.minSources} >= 1`),
    check(
      'rate_fixing_settings_single',
      sql`${t.minSources} >= 2 or ${t.singleSourceReason} is not null`,
    ),
    check('rate_fixing_settings_deviation', sql`${t.maxDeviationBps} between 0 and 10000`),
  ],
);

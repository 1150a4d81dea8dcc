import { sql } from 'drizzle-orm';
import {
  bigint,
  bigserial,
  check,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

// Settlement windows between platforms (issue 13). No foreign keys to other modules' tables: a
// platform is named by its participant id, checked where an obligation enters.
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const amount = (name: string) => bigint(name, { mode: 'bigint' });

/**
 * The window schedule, versioned like the cleared-origin rule: the cut-off period (windows close
 * at every multiple of it, counted from midnight UTC) and the pay-in deadline after the cut-off.
 * Rows are never changed; the version in force is the latest whose `effective_from` has come.
 */
export const clearingWindowSchedules = pgTable(
  'clearing_window_schedules',
  {
    version: integer('version').primaryKey(),
    periodMinutes: integer('period_minutes').notNull(),
    payInMinutes: integer('pay_in_minutes').notNull(),
    effectiveFrom: at('effective_from').notNull(),
    reason: text('reason').notNull(),
    setBy: text('set_by').notNull(),
    setByPerson: text('set_by_person').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('clearing_window_schedules_effective_idx').on(t.effectiveFrom, t.version),
    check(
      'clearing_window_schedules_period_check',
      sql`${t.periodMinutes} between 1 and 1440 and 1440 % ${t.periodMinutes} = 0 and ${t.payInMinutes} between 1 and 1440`,
    ),
  ],
);

/**
 * A settlement window: `open` (obligations accumulate), `closed` (positions fixed, pay-ins
 * awaited until `pay_in_deadline`), `settled`. At most one window is open at a time.
 */
export const clearingWindows = pgTable(
  'clearing_windows',
  {
    id: text('id').primaryKey(),
    sequence: integer('sequence').notNull(),
    status: text('status').notNull(),
    opensAt: at('opens_at').notNull(),
    /** The scheduled cut-off; null while no schedule is in force. */
    closesAt: at('closes_at'),
    closedAt: at('closed_at'),
    payInDeadline: at('pay_in_deadline'),
    settledAt: at('settled_at'),
    scheduleVersion: integer('schedule_version'),
    /**
     * The valuation of the net positions at close (valuation.ts): the local currency, the rate
     * stored for it (the ledger's `exchange_rates` row), the fixing that rate was taken from
     * (null: the live source's) and the rate as a decimal; or, when no rate could be had, all
     * null but `valuation_reason`. All null while open.
     */
    valuationCurrency: text('valuation_currency'),
    valuationRateId: text('valuation_rate_id'),
    valuationFixingId: text('valuation_fixing_id'),
    valuationRate: text('valuation_rate'),
    valuationReason: text('valuation_reason'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('clearing_windows_sequence_idx').on(t.sequence),
    uniqueIndex('clearing_windows_one_open_idx')
      .on(t.status)
      .where(sql`${t.status} = 'open'`),
    index('clearing_windows_page_idx').on(t.createdAt, t.id),
    check('clearing_windows_status_check', sql`${t.status} in ('open', 'closed', 'settled')`),
  ],
);

/**
 * An obligation between two platforms, in the window it settles in (a take-out moves it to the
 * next one and counts the roll). One row per (source, source id, asset): recording is idempotent.
 */
export const clearingObligations = pgTable(
  'clearing_obligations',
  {
    id: text('id').primaryKey(),
    source: text('source').notNull(),
    sourceId: text('source_id').notNull(),
    fromPlatform: text('from_platform').notNull(),
    toPlatform: text('to_platform').notNull(),
    asset: text('asset').notNull(),
    amount: amount('amount').notNull(),
    at: at('at').notNull(),
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    firstWindowId: text('first_window_id').notNull(),
    rolls: integer('rolls').notNull().default(0),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('clearing_obligations_source_idx').on(t.source, t.sourceId, t.asset),
    index('clearing_obligations_window_idx').on(t.windowId),
    /** A window's obligations a page at a time, newest first (keyset on created_at, id). */
    index('clearing_obligations_page_idx').on(t.windowId, t.createdAt, t.id),
    check('clearing_obligations_amount_check', sql`${t.amount} > 0`),
    check('clearing_obligations_parties_check', sql`${t.fromPlatform} <> ${t.toPlatform}`),
    check('clearing_obligations_source_check', sql`${t.source} in ('deal', 'transfer')`),
  ],
);

/**
 * A platform's multilateral net position per asset in a closed window: `net_at_close` as the
 * window closed; `net_settled` what settled (differs when another platform was taken out; null
 * until settled); status `awaiting`, `settled` or `takenOut`.
 */
export const clearingPositions = pgTable(
  'clearing_positions',
  {
    id: text('id').notNull(),
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    platformId: text('platform_id').notNull(),
    asset: text('asset').notNull(),
    netAtClose: amount('net_at_close').notNull(),
    netSettled: amount('net_settled'),
    /**
     * `net_at_close` in the window's valuation currency, minor units (a bitcoin net at the
     * window's rate; a net in that currency as it is); null when the window has no valuation or
     * the asset is another currency.
     */
    valueMinor: amount('value_minor'),
    status: text('status').notNull(),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.windowId, t.platformId, t.asset] }),
    uniqueIndex('clearing_positions_id_idx').on(t.id),
    index('clearing_positions_page_idx').on(t.windowId, t.createdAt, t.id),
    check(
      'clearing_positions_status_check',
      sql`${t.status} in ('awaiting', 'settled', 'takenOut')`,
    ),
  ],
);

/**
 * What a net payer owes the clearing for a window, per asset: in bitcoin to its own deposit
 * address (derived from the clearing's descriptor at `derivation_index`), in local currency by a
 * bank transfer confirmed with its reference. Status: `awaiting`; `confirming` (bitcoin: the exact
 * amount is in block `block_hash` at `block_height`, not yet at the scheme's confirmation depth);
 * `held` (its paying addresses did not pass address screening: it does not count, and the
 * supervisor decides); `received` once the exact amount counts (a held one the supervisor
 * accepted too); `rejected` (a held one the supervisor rejected: it counts nothing and its coins
 * are to be returned to the payer); `frozen` (a held one paid from a listed address, rejected:
 * it counts nothing and its coins are frozen and reported, never returned). A rejected or frozen
 * bitcoin pay-in before the deadline opens the next `attempt` of the same due (a row of its own,
 * at a fresh deposit address); the decided one stays recorded.
 */
export const clearingPayIns = pgTable(
  'clearing_pay_ins',
  {
    id: text('id').primaryKey(),
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    platformId: text('platform_id').notNull(),
    asset: text('asset').notNull(),
    amountDue: amount('amount_due').notNull(),
    /** 1 for the pay-in due at the close; n + 1 when attempt n was rejected or frozen. */
    attempt: integer('attempt').notNull().default(1),
    address: text('address'),
    derivationIndex: integer('derivation_index'),
    status: text('status').notNull(),
    txid: text('txid'),
    vout: integer('vout'),
    blockHash: text('block_hash'),
    /** The height of `block_hash` (its depth is counted from it). */
    blockHeight: integer('block_height'),
    /** The paying transaction's input addresses (null: an input without one), as screened. */
    payers: jsonb('payers').$type<(string | null)[]>(),
    bankReference: text('bank_reference'),
    /**
     * Four eyes on a fiat pay-in: the bank transfer one person recorded (amount, reference, who,
     * when), counted only when a different person confirms the same transfer.
     */
    recordedAmount: amount('recorded_amount'),
    recordedReference: text('recorded_reference'),
    recordedByPerson: text('recorded_by_person'),
    recordedAt: at('recorded_at'),
    /**
     * The recording's random key (hex): the audit log keeps an HMAC of the recorded amount and
     * reference under it, and names it only in the confirmation's event.
     */
    recordedSalt: text('recorded_salt'),
    receivedAt: at('received_at'),
    /** The supervisor's decision on a held pay-in: accept or reject, why, by whom, when. */
    decision: text('decision'),
    decisionReason: text('decision_reason'),
    decidedByPerson: text('decided_by_person'),
    decidedAt: at('decided_at'),
    /**
     * Why a pay-in is held: `listMatch` (a paying address is on a sanctions list: its coins are
     * frozen and reported if rejected) or `unscreenable` (an address that could not be screened:
     * returned if rejected). With the screening alert it raised and that alert's case.
     */
    heldReason: text('held_reason'),
    alertId: text('alert_id'),
    caseId: text('case_id'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('clearing_pay_ins_due_idx').on(t.windowId, t.platformId, t.asset, t.attempt),
    uniqueIndex('clearing_pay_ins_address_idx').on(t.address),
    uniqueIndex('clearing_pay_ins_derivation_idx').on(t.derivationIndex),
    /** A bank transfer pays in once, whatever the window. */
    uniqueIndex('clearing_pay_ins_bank_reference_idx')
      .on(t.bankReference)
      .where(sql`${t.bankReference} is not null`),
    index('clearing_pay_ins_block_idx').on(t.blockHash),
    index('clearing_pay_ins_recorded_reference_idx').on(t.recordedReference),
    index('clearing_pay_ins_page_idx').on(t.windowId, t.createdAt, t.id),
    check('clearing_pay_ins_amount_check', sql`${t.amountDue} > 0`),
    check(
      'clearing_pay_ins_status_check',
      sql`${t.status} in ('awaiting', 'confirming', 'held', 'received', 'rejected', 'frozen')`,
    ),
    check(
      'clearing_pay_ins_held_reason_check',
      sql`${t.heldReason} is null or ${t.heldReason} in ('listMatch', 'unscreenable')`,
    ),
    check('clearing_pay_ins_attempt_check', sql`${t.attempt} >= 1`),
    check(
      'clearing_pay_ins_decision_check',
      sql`${t.decision} is null or ${t.decision} in ('accept', 'reject')`,
    ),
    check(
      'clearing_pay_ins_btc_address_check',
      sql`(${t.asset} = 'BTC') = (${t.address} is not null)`,
    ),
  ],
);

/** A pay-in that did not count (wrong amount, unknown, after settlement), kept with its reason. */
export const clearingPayInRefusals = pgTable(
  'clearing_pay_in_refusals',
  {
    id: text('id').primaryKey(),
    payInId: text('pay_in_id')
      .notNull()
      .references(() => clearingPayIns.id),
    reason: text('reason').notNull(),
    amount: amount('amount').notNull(),
    txid: text('txid'),
    vout: integer('vout'),
    blockHash: text('block_hash'),
    bankReference: text('bank_reference'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    index('clearing_pay_in_refusals_pay_in_idx').on(t.payInId),
    index('clearing_pay_in_refusals_block_idx').on(t.blockHash),
  ],
);

/**
 * The clearing's pay-outs of a settled window: to net receivers (`payOut`), and back to a payer
 * whose pay-in exceeded its settled position (`refund`). The bitcoin ones are one batched
 * transaction's outputs; the instruction is recorded here for the scheme's signer.
 */
export const clearingPayOuts = pgTable(
  'clearing_pay_outs',
  {
    id: text('id').primaryKey(),
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    platformId: text('platform_id').notNull(),
    asset: text('asset').notNull(),
    kind: text('kind').notNull(),
    amount: amount('amount').notNull(),
    /**
     * `instructed` (fiat: for the bank; bitcoin: not in a transaction yet), `held` (bitcoin: not
     * paid for `held_code`: no settlement address, an address that does not screen clear, no
     * active licence, or dust; its amount kept with the clearing as change until it clears),
     * `signed`, `broadcast`, `confirmed`.
     */
    status: text('status').notNull(),
    heldCode: text('held_code'),
    /** Bitcoin: the settlement address paid, the output, its share of the fee and what it got. */
    address: text('address'),
    txid: text('txid'),
    vout: integer('vout'),
    feeSats: amount('fee_sats'),
    paidSats: amount('paid_sats'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    uniqueIndex('clearing_pay_outs_due_idx').on(t.windowId, t.platformId, t.asset, t.kind),
    index('clearing_pay_outs_page_idx').on(t.windowId, t.createdAt, t.id),
    check('clearing_pay_outs_amount_check', sql`${t.amount} > 0`),
    check('clearing_pay_outs_kind_check', sql`${t.kind} in ('payOut', 'refund')`),
  ],
);

/**
 * The clearing's own double-entry books, per window and asset (sats or minor units): an account
 * per platform (`platform:<id>`, debit = the platform owes the clearing) and the clearing's
 * holding (`holding`). An obligation debits the debtor and credits the creditor; a pay-in debits
 * the holding and credits the payer; a pay-out or refund credits the holding and debits the
 * payee; a rolled obligation is reversed. The postings of one entry sum to zero per asset (a
 * deferred trigger checks it at commit); after settlement every account of the window is zero.
 */
export const clearingWindowPostings = pgTable(
  'clearing_window_postings',
  {
    id: bigserial('id', { mode: 'bigint' }).primaryKey(),
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    entry: text('entry').notNull(),
    kind: text('kind').notNull(),
    account: text('account').notNull(),
    asset: text('asset').notNull(),
    amount: amount('amount').notNull(),
    at: at('at').notNull(),
  },
  (t) => [
    index('clearing_window_postings_window_idx').on(t.windowId, t.account, t.asset),
    index('clearing_window_postings_entry_idx').on(t.entry),
    check('clearing_window_postings_nonzero', sql`${t.amount} <> 0`),
  ],
);

/**
 * The one signed bitcoin transaction paying a window out (its received pay-ins in, its bitcoin
 * pay-outs and refunds out), stored before it is first broadcast: a retry or a restart sends
 * these same bytes, and the primary key on the window keeps a second one from being signed.
 * Status: `signed` (not accepted by the network yet), `broadcast` (in no block, or in block
 * `block_hash` short of the scheme's confirmation depth), `confirmed` (at that depth; a reorg
 * takes it back to `broadcast`), `rejected` (refused for good: the supervisor may have it rebuilt,
 * the new one replacing it in this row), `held` (`held_code`: not sent again unless the supervisor
 * rebuilds or resumes it).
 */
export const clearingPayOutTransactions = pgTable(
  'clearing_pay_out_transactions',
  {
    windowId: text('window_id')
      .notNull()
      .references(() => clearingWindows.id),
    /**
     * 0: the window's transaction (its received pay-ins in). 1, 2, …: a later one paying receivers
     * that were held when the one before was signed, spending that one's change (`change_*`) once
     * it is confirmed; at most one is built at a time.
     */
    seq: integer('seq').notNull().default(0),
    txid: text('txid').notNull(),
    raw: text('raw').notNull(),
    feeSats: amount('fee_sats').notNull(),
    feeRateSatPerKvB: amount('fee_rate_sat_per_kvb').notNull(),
    status: text('status').notNull(),
    attempts: integer('attempts').notNull().default(0),
    lastError: text('last_error'),
    nextAttemptAt: at('next_attempt_at'),
    /**
     * Why a `held` transaction is no longer sent, for the supervisor: PAY_IN_OUTPOINT_MISSING (the
     * network reported an input it spends missing on every one of the bounded attempts) or
     * REPLACED_TRANSACTION_MINED (a transaction it replaced, in `replaced_txids`, was mined).
     */
    heldCode: text('held_code'),
    /** The txids of the rejected or held transactions of the window this one replaced (oldest first). */
    replacedTxids: jsonb('replaced_txids').$type<string[]>().notNull().default([]),
    /**
     * Held REPLACED_TRANSACTION_MINED: the replaced transaction that was mined (one of
     * `replaced_txids`) and its block (null while a reorganization has taken that block away),
     * for the supervisor to adopt as the window's pay-out.
     */
    minedTxid: text('mined_txid'),
    minedBlockHash: text('mined_block_hash'),
    minedBlockHeight: integer('mined_block_height'),
    blockHash: text('block_hash'),
    blockHeight: integer('block_height'),
    signedAt: at('signed_at').notNull(),
    broadcastAt: at('broadcast_at'),
    confirmedAt: at('confirmed_at'),
    /**
     * What the held receivers' pay-outs keep with the clearing: an output of this transaction to the
     * clearing's own change address (CLEARING_PAY_IN_DESCRIPTOR's change branch at `change_index`),
     * spent by the window's next transaction once their holds clear. Null: nothing held back.
     */
    changeVout: integer('change_vout'),
    changeSats: amount('change_sats'),
    changeIndex: integer('change_index'),
    /**
     * The outputs as signed (vout, address, value; each pay-out's id, platform and fee share, or
     * `change`), so an adoption checks a replaced transaction against its own signing. Null for
     * the rows signed before migration 0058.
     */
    signedOutputs: jsonb('signed_outputs').$type<SignedOutput[]>(),
    /** `signed_outputs` of each transaction this one replaced, by txid. */
    replacedOutputs: jsonb('replaced_outputs')
      .$type<Record<string, SignedOutput[]>>()
      .notNull()
      .default({}),
  },
  (t) => [
    primaryKey({ columns: [t.windowId, t.seq] }),
    uniqueIndex('clearing_pay_out_transactions_txid_idx').on(t.txid),
    uniqueIndex('clearing_pay_out_transactions_change_idx').on(t.changeIndex),
    index('clearing_pay_out_transactions_status_idx').on(t.status),
    index('clearing_pay_out_transactions_block_idx').on(t.blockHash),
    check(
      'clearing_pay_out_transactions_status_check',
      sql`${t.status} in ('signed', 'broadcast', 'confirmed', 'rejected', 'held')`,
    ),
  ],
);

/** One output of a pay-out transaction as it was signed (amounts in sats, as decimal strings). */
export interface SignedOutput {
  vout: number;
  address: string;
  valueSats: string;
  /** The pay-out it pays, or null for the clearing's change (`changeIndex` its derivation). */
  payOutId: string | null;
  platformId: string | null;
  feeSats: string;
  changeIndex?: number;
}

/**
 * The bitcoin address the clearing pays a platform at, registered by its officer (validated for
 * the scheme's network, screened against the sanctions address lists). Rows are never changed:
 * the newest of a platform counts, the earlier ones are its history.
 */
export const clearingSettlementAddresses = pgTable(
  'clearing_settlement_addresses',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    network: text('network').notNull(),
    address: text('address').notNull(),
    registeredBy: text('registered_by').notNull(),
    registeredByPerson: text('registered_by_person'),
    createdAt: at('created_at').notNull(),
    /**
     * Four eyes: `proposed` by one officer of the platform, `active` once another person of the
     * platform approved it (the newest active one is paid), `superseded` by a later proposal
     * while pending, or `rejected`. Every row is written with its status; the default is only
     * for the rows registered before four eyes, which were in force.
     */
    status: text('status').notNull().default('active'),
    /** The BIP322 proof of control: the signed statement and its simple signature. */
    proofMessage: text('proof_message'),
    proofSignature: text('proof_signature'),
    /** Who approved or rejected it (credential and person), and when. */
    decidedBy: text('decided_by'),
    decidedByPerson: text('decided_by_person'),
    decidedAt: at('decided_at'),
  },
  (t) => [
    index('clearing_settlement_addresses_platform_idx').on(t.platformId, t.createdAt, t.id),
    // At most one pending proposal per platform.
    uniqueIndex('clearing_settlement_addresses_one_proposed')
      .on(t.platformId)
      .where(sql`${t.status} = 'proposed'`),
  ],
);

import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
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

const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const sats = (name: string) => bigint(name, { mode: 'bigint' });

/**
 * Per-platform trade settings (one row per platform; the row `scheme` holds the supervisor's
 * contract-approval thresholds). A platform without a row uses the defaults in settings.ts.
 */
export const tradeSettings = pgTable(
  'trade_settings',
  {
    platformId: text('platform_id').primaryKey(),
    confirmations: integer('confirmations').notNull(),
    invoiceValiditySeconds: integer('invoice_validity_seconds').notNull(),
    latePaymentWindowSeconds: integer('late_payment_window_seconds').notNull(),
    toleranceBps: integer('tolerance_bps').notNull(),
    quorumThresholdSats: sats('quorum_threshold_sats').notNull(),
    approvalsAbove: integer('approvals_above').notNull(),
    approvalsBelow: integer('approvals_below').notNull(),
    batchWindowSeconds: integer('batch_window_seconds').notNull(),
    feeFloorSatPerKvB: sats('fee_floor_sat_per_kvb').notNull(),
    feeCapSatPerKvB: sats('fee_cap_sat_per_kvb').notNull(),
    feeTargetBlocks: integer('fee_target_blocks').notNull(),
    rbfAfterBlocks: integer('rbf_after_blocks').notNull(),
    /** Contracts above this need the supervisor's approval too: currency (or BTC) → minor units. */
    supervisorThresholds: jsonb('supervisor_thresholds').notNull(),
    webhookUrl: text('webhook_url'),
    webhookSecret: text('webhook_secret'),
    lastBatchAt: at('last_batch_at'),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('trade_settings_confirmations', sql`${t.confirmations} in (0, 1, 2, 6)`),
    check('trade_settings_approvals', sql`${t.approvalsAbove} >= 1 and ${t.approvalsBelow} >= 1`),
    check(
      'trade_settings_fees',
      sql`${t.feeFloorSatPerKvB} >= 1000 and ${t.feeCapSatPerKvB} >= ${t.feeFloorSatPerKvB}`,
    ),
  ],
);

/**
 * The supervisor's scheme-wide floors under every platform's settings (issue 11): one row,
 * `scheme`. Without it the defaults in settings.ts apply. A platform cannot save settings below
 * them, and loadSettings lifts a row stored before a floor was raised.
 */
export const tradeFloors = pgTable(
  'trade_floors',
  {
    id: text('id').primaryKey(),
    minApprovalsAbove: integer('min_approvals_above').notNull(),
    minApprovalsBelow: integer('min_approvals_below').notNull(),
    /** The highest quorum threshold a platform may set (so it cannot escape the higher tier). */
    maxQuorumThresholdSats: sats('max_quorum_threshold_sats').notNull(),
    minConfirmations: integer('min_confirmations').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    check('trade_floors_scheme', sql`${t.id} = 'scheme'`),
    check(
      'trade_floors_approvals',
      sql`${t.minApprovalsAbove} >= 1 and ${t.minApprovalsBelow} >= 1`,
    ),
    check('trade_floors_confirmations', sql`${t.minConfirmations} in (0, 1, 2, 6)`),
    check('trade_floors_threshold', sql`${t.maxQuorumThresholdSats} >= 0`),
  ],
);

/**
 * Confirmed coins of company wallets (the registry's wallets: outputs to the addresses they have
 * handed out), maintained by the chain consumer (undone on reorgs); a payout batch reserves the
 * coins it spends.
 */
export const tradeWalletUtxos = pgTable(
  'trade_wallet_utxos',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    companyId: text('company_id').notNull(),
    platformId: text('platform_id').notNull(),
    address: text('address').notNull(),
    valueSats: sats('value_sats').notNull(),
    blockHash: text('block_hash').notNull(),
    blockHeight: integer('block_height').notNull(),
    spentByTxid: text('spent_by_txid'),
    spentInBlock: text('spent_in_block'),
    reservedByBatch: text('reserved_by_batch'),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout] }),
    index('trade_wallet_utxos_company_idx').on(t.companyId),
    // The coins a transaction spent (the loop report's cleared share of a payout's batch).
    index('trade_wallet_utxos_spent_by_idx')
      .on(t.spentByTxid)
      .where(sql`${t.spentByTxid} is not null`),
    check('trade_wallet_utxos_value', sql`${t.valueSats} > 0`),
  ],
);

export const tradeContracts = pgTable(
  'trade_contracts',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    counterpartyId: text('counterparty_id').notNull(),
    direction: text('direction').notNull(),
    goodsDescription: text('goods_description').notNull(),
    hsCode: text('hs_code').notNull(),
    incoterm: text('incoterm').notNull(),
    currency: text('currency').notNull(),
    amountMinor: sats('amount_minor').notNull(),
    pricingMode: text('pricing_mode').notNull(),
    /** For pricing mode fixedBtc: the contract's price in sats. */
    btcAmountSats: sats('btc_amount_sats'),
    customsDeclarationRef: text('customs_declaration_ref'),
    status: text('status').notNull(),
    supervisorApproval: text('supervisor_approval').notNull(),
    /** Settled so far, in the contract's unit (sats for fixedBtc, minor units for fiat). */
    settledAmount: sats('settled_amount')
      .notNull()
      .default(sql`0`),
    createdBy: text('created_by').notNull(),
    /** The person behind the creating credential: four-eyes counts people, not keys. */
    createdByPerson: text('created_by_person').notNull(),
    /** The person who submitted it (null until submitted): the approver must be someone else. */
    submittedByPerson: text('submitted_by_person'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    // Keyset pages, newest first, for each kind of reader (company, platform, supervisor).
    index('trade_contracts_company_idx').on(t.companyId, t.createdAt, t.id),
    index('trade_contracts_platform_idx').on(t.platformId, t.createdAt, t.id),
    index('trade_contracts_page_idx').on(t.createdAt, t.id),
    // A status's pages (the pickers' active contracts), per reader.
    index('trade_contracts_company_status_idx').on(t.companyId, t.status, t.createdAt, t.id),
    index('trade_contracts_platform_status_idx').on(t.platformId, t.status, t.createdAt, t.id),
    // A picker's search: a prefix of the goods description, whatever its case (`startsWith`).
    index('trade_contracts_goods_prefix_idx').on(
      sql`lower(${t.goodsDescription}) text_pattern_ops`,
    ),
    check('trade_contracts_hs_code', sql`${t.hsCode} ~ '^[0-9]{6}$'`),
    check('trade_contracts_direction', sql`${t.direction} in ('export', 'import')`),
    check(
      'trade_contracts_status',
      sql`${t.status} in ('draft', 'submitted', 'approved', 'active', 'settled', 'cancelled', 'disputed')`,
    ),
    check(
      'trade_contracts_pricing',
      sql`(${t.pricingMode} = 'fixedBtc' and ${t.btcAmountSats} > 0) or (${t.pricingMode} = 'fiat' and ${t.btcAmountSats} is null)`,
    ),
    check('trade_contracts_amount', sql`${t.amountMinor} > 0 and ${t.settledAmount} >= 0`),
  ],
);

export const tradeContractInstalments = pgTable(
  'trade_contract_instalments',
  {
    contractId: text('contract_id')
      .notNull()
      .references(() => tradeContracts.id),
    seq: integer('seq').notNull(),
    dueDate: text('due_date').notNull(),
    /** In the contract's unit (sats for fixedBtc, minor units for fiat). */
    amount: sats('amount').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.contractId, t.seq] }),
    check('trade_instalment_amount', sql`${t.amount} > 0`),
  ],
);

export const tradeInvoices = pgTable(
  'trade_invoices',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    contractId: text('contract_id')
      .notNull()
      .references(() => tradeContracts.id),
    counterpartyId: text('counterparty_id').notNull(),
    address: text('address').notNull(),
    amountSats: sats('amount_sats').notNull(),
    /** The contract-unit amount the invoice counts against the contract. */
    contractAmount: sats('contract_amount').notNull(),
    fiatMinor: sats('fiat_minor').notNull(),
    currency: text('currency').notNull(),
    rateId: text('rate_id').notNull(),
    status: text('status').notNull(),
    paidPartial: boolean('paid_partial').notNull().default(false),
    paidOver: boolean('paid_over').notNull().default(false),
    paidLate: boolean('paid_late').notNull().default(false),
    seenSats: sats('seen_sats')
      .notNull()
      .default(sql`0`),
    confirmedSats: sats('confirmed_sats')
      .notNull()
      .default(sql`0`),
    description: text('description').notNull().default(''),
    expiresAt: at('expires_at').notNull(),
    watchUntil: at('watch_until').notNull(),
    createdBy: text('created_by').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
    settlementId: text('settlement_id'),
    /**
     * The policy gate's verdict on the invoice so far: the worst of its decisions (at creation and
     * for every payment seen). `review` holds settlement until an officer resolves it; `block`
     * makes the invoice invalid.
     */
    gateOutcome: text('gate_outcome').notNull().default('allow'),
    /** Every gate decision taken for the invoice (creation, payments), with its reasons. */
    gateDecisions: jsonb('gate_decisions')
      .notNull()
      .default(sql`'[]'::jsonb`),
    /** IVMS101 data supplied with the invoice (FATF R.16), passed to the gate for its payments. */
    travelRule: jsonb('travel_rule'),
    /**
     * The client's Idempotency-Key for the request that created this row, and a fingerprint of
     * that request (SHA-256 of its canonical JSON): a retry with the key returns this row, a
     * different request with it is refused (src/trade/idempotency.ts).
     */
    idempotencyKey: text('idempotency_key'),
    requestFingerprint: text('request_fingerprint'),
  },
  (t) => [
    uniqueIndex('trade_invoices_address_uq').on(t.address),
    uniqueIndex('trade_invoices_idempotency_uq').on(t.companyId, t.idempotencyKey),
    check('trade_invoices_gate_outcome', sql`${t.gateOutcome} in ('allow', 'review', 'block')`),
    index('trade_invoices_status_idx').on(t.status),
    // Keyset pages for each kind of reader (a company, a platform, the supervisor), newest first:
    // read backwards, which also lets (created_at, id) < (…) be one range of the index.
    index('trade_invoices_company_page_idx').on(t.companyId, t.createdAt, t.id),
    index('trade_invoices_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('trade_invoices_page_idx').on(t.createdAt, t.id),
    check(
      'trade_invoices_status',
      sql`${t.status} in ('new', 'processing', 'settled', 'expired', 'invalid')`,
    ),
    check('trade_invoices_amount', sql`${t.amountSats} > 0`),
  ],
);

export const tradeInvoicePayments = pgTable(
  'trade_invoice_payments',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    invoiceId: text('invoice_id')
      .notNull()
      .references(() => tradeInvoices.id),
    valueSats: sats('value_sats').notNull(),
    blockHash: text('block_hash'),
    blockHeight: integer('block_height'),
    signalsRbf: boolean('signals_rbf').notNull().default(false),
    seenAt: at('seen_at').notNull(),
    /** Seen after the invoice expired. */
    late: boolean('late').notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout] }),
    index('trade_invoice_payments_invoice_idx').on(t.invoiceId),
  ],
);

export const tradeBatches = pgTable(
  'trade_batches',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    status: text('status').notNull(),
    /** Unsigned PSBT (base64) while awaiting an external signer. */
    psbt: text('psbt').notNull(),
    /** The signed transaction, persisted BEFORE it is broadcast (crash safety). */
    rawTx: text('raw_tx'),
    txid: text('txid'),
    /** Earlier txids of this batch replaced by fee bumps (BIP125); any of them may confirm. */
    replacedTxids: jsonb('replaced_txids').notNull().default([]),
    feeSats: sats('fee_sats').notNull(),
    feeRateSatPerKvB: sats('fee_rate_sat_per_kvb').notNull(),
    vsize: integer('vsize').notNull(),
    broadcastHeight: integer('broadcast_height'),
    broadcastAttempts: integer('broadcast_attempts').notNull().default(0),
    lastBroadcastError: text('last_broadcast_error'),
    confirmedBlockHash: text('confirmed_block_hash'),
    confirmedHeight: integer('confirmed_height'),
    confirmedTxid: text('confirmed_txid'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('trade_batches_txid_uq').on(t.txid),
    // Keyset pages, newest first, for a platform and for the supervisor.
    index('trade_batches_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('trade_batches_page_idx').on(t.createdAt, t.id),
    check(
      'trade_batches_status',
      sql`${t.status} in ('awaitingSignature', 'signed', 'broadcast', 'confirmed', 'completed', 'abandoned')`,
    ),
  ],
);

export const tradePayouts = pgTable(
  'trade_payouts',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    contractId: text('contract_id')
      .notNull()
      .references(() => tradeContracts.id),
    counterpartyId: text('counterparty_id').notNull(),
    address: text('address').notNull(),
    amountSats: sats('amount_sats').notNull(),
    contractAmount: sats('contract_amount').notNull(),
    fiatMinor: sats('fiat_minor').notNull(),
    currency: text('currency').notNull(),
    rateId: text('rate_id').notNull(),
    status: text('status').notNull(),
    requiredApprovals: integer('required_approvals').notNull(),
    gateDecision: jsonb('gate_decision').notNull(),
    batchId: text('batch_id').references(() => tradeBatches.id),
    vout: integer('vout'),
    feeShareSats: sats('fee_share_sats')
      .notNull()
      .default(sql`0`),
    memo: text('memo').notNull().default(''),
    /** IVMS101 data supplied with the payout (FATF R.16), as passed to the gate; kept on record. */
    travelRule: jsonb('travel_rule'),
    createdBy: text('created_by').notNull(),
    /** The maker as a person (Caller.personId): never an approver, through any credential. */
    createdByPerson: text('created_by_person').notNull(),
    createdAt: at('created_at').notNull(),
    approvedAt: at('approved_at'),
    /**
     * Why the payout is held (status held): the step whose gate check failed, the decision and
     * its reasons (kept for officers; companies see a reference only).
     */
    hold: jsonb('hold'),
    /**
     * Why the last batch runs left the payout waiting: its company's coins did not meet the
     * cleared-origin rule (ORIGIN_NOT_CLEARED, with the rule version); null once batched.
     */
    originRefusal: jsonb('origin_refusal'),
    updatedAt: at('updated_at').notNull(),
    settlementId: text('settlement_id'),
    /**
     * The client's Idempotency-Key for the request that created this row, and a fingerprint of
     * that request (SHA-256 of its canonical JSON): a retry with the key returns this row, a
     * different request with it is refused (src/trade/idempotency.ts).
     */
    idempotencyKey: text('idempotency_key'),
    requestFingerprint: text('request_fingerprint'),
  },
  (t) => [
    uniqueIndex('trade_payouts_idempotency_uq').on(t.companyId, t.idempotencyKey),
    index('trade_payouts_status_idx').on(t.platformId, t.status),
    index('trade_payouts_company_page_idx').on(t.companyId, t.createdAt, t.id),
    index('trade_payouts_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('trade_payouts_page_idx').on(t.createdAt, t.id),
    check(
      'trade_payouts_status',
      sql`${t.status} in ('awaitingReview', 'awaitingApproval', 'awaitingPayment', 'inProgress', 'held', 'completed', 'cancelled')`,
    ),
    check('trade_payouts_amount', sql`${t.amountSats} > 0`),
  ],
);

export const tradePayoutApprovals = pgTable(
  'trade_payout_approvals',
  {
    payoutId: text('payout_id')
      .notNull()
      .references(() => tradePayouts.id),
    /** The credential used (for the audit trail). */
    actorId: text('actor_id').notNull(),
    /** The person approving: one approval per person, whatever credentials they hold. */
    personId: text('person_id').notNull(),
    participantId: text('participant_id').notNull(),
    at: at('at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.payoutId, t.personId] })],
);

/** Settlement records: what settled, at which rate, posted by which ledger entry. */
export const tradeSettlements = pgTable(
  'trade_settlements',
  {
    id: text('id').primaryKey(),
    kind: text('kind').notNull(), // invoice | payout
    reference: text('reference').notNull(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    contractId: text('contract_id').notNull(),
    rateId: text('rate_id').notNull(),
    amountSats: sats('amount_sats').notNull(),
    fiatMinor: sats('fiat_minor').notNull(),
    currency: text('currency').notNull(),
    txid: text('txid').notNull(),
    blockHash: text('block_hash'),
    ledgerTransactionId: text('ledger_transaction_id').notNull(),
    createdAt: at('created_at').notNull(),
    reversedAt: at('reversed_at'),
    reversalLedgerTransactionId: text('reversal_ledger_transaction_id'),
  },
  (t) => [
    index('trade_settlements_reference_idx').on(t.reference),
    // Oversight's drill-down (GET /v1/oversight/settlements), live settlements by time, amount
    // or fiat value, a page at a time.
    index('trade_settlements_time_page_idx')
      .on(t.createdAt, t.id)
      .where(sql`${t.reversedAt} is null`),
    index('trade_settlements_amount_page_idx')
      .on(t.amountSats, t.id)
      .where(sql`${t.reversedAt} is null`),
    index('trade_settlements_fiat_page_idx')
      .on(t.fiatMinor, t.id)
      .where(sql`${t.reversedAt} is null`),
  ],
);

/**
 * The webhook delivery queue: one row per announced invoice or payout change, written by trade's
 * `trade.webhooks` outbox subscriber in the relay's delivery transaction; the deliverer drains it.
 */
export const tradeWebhookOutbox = pgTable(
  'trade_webhook_outbox',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    event: text('event').notNull(),
    entityId: text('entity_id').notNull(),
    payload: jsonb('payload').notNull(),
    createdAt: at('created_at').notNull(),
    attempts: integer('attempts').notNull().default(0),
    nextAttemptAt: at('next_attempt_at').notNull(),
    deliveredAt: at('delivered_at'),
    failedAt: at('failed_at'),
    lastStatus: integer('last_status'),
    lastError: text('last_error'),
  },
  (t) => [
    index('trade_webhook_outbox_due_idx').on(t.deliveredAt, t.nextAttemptAt),
    index('trade_webhook_outbox_platform_page_idx').on(t.platformId, t.createdAt, t.id),
    index('trade_webhook_outbox_page_idx').on(t.createdAt, t.id),
  ],
);

/** A platform's local signing key, encrypted at rest (scrypt + AES-256-GCM). */
export const tradeSignerKeys = pgTable('trade_signer_keys', {
  platformId: text('platform_id').primaryKey(),
  salt: text('salt').notNull(),
  iv: text('iv').notNull(),
  tag: text('tag').notNull(),
  ciphertext: text('ciphertext').notNull(),
  scryptN: integer('scrypt_n').notNull(),
  network: text('network').notNull(),
  createdAt: at('created_at').notNull(),
});

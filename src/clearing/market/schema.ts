import { sql } from 'drizzle-orm';
import {
  bigint,
  check,
  index,
  integer,
  pgSequence,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from 'drizzle-orm/pg-core';

// The domestic market's tables (src/clearing/market). No foreign keys to other modules' tables:
// lots, participants and contracts are referenced by id and checked in the service.
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const sats = (name: string) => bigint(name, { mode: 'bigint' });

/** One market per licensed platform: its settlement currency, spread, deadline and escrow wallet. */
export const marketSettings = pgTable(
  'market_settings',
  {
    platformId: text('platform_id').primaryKey(),
    /** The local currency of the fiat leg (ISO 4217), priced at its reference-rate fixing. */
    currency: text('currency').notNull(),
    /** The platform's spread over the reference rate, in basis points. */
    spreadBasisPoints: integer('spread_basis_points').notNull(),
    /** How long a deal waits for its fiat leg before it is unwound. */
    deadlineSeconds: integer('deadline_seconds').notNull(),
    /** Watch-only descriptor of the escrow wallet the platform's signer holds (receive branch). */
    escrowDescriptor: text('escrow_descriptor').notNull(),
    nextEscrowIndex: integer('next_escrow_index').notNull(),
    version: integer('version').notNull(),
    updatedBy: text('updated_by').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    // The markets' directory (GET /v1/markets), newest first.
    index('market_settings_page_idx').on(t.createdAt, t.platformId),
    check(
      'market_settings_spread_check',
      sql`${t.spreadBasisPoints} between 0 and 2000 and ${t.deadlineSeconds} between 60 and 604800`,
    ),
  ],
);

/** A miner's offer of coins of one cleared lot, deposited into its own escrow address. */
export const marketOffers = pgTable(
  'market_offers',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    minerId: text('miner_id').notNull(),
    lotId: text('lot_id').notNull(),
    amountSats: sats('amount_sats').notNull(),
    /** What no live deal has taken yet. */
    availableSats: sats('available_sats').notNull(),
    escrowAddress: text('escrow_address').notNull(),
    escrowIndex: integer('escrow_index').notNull(),
    status: text('status').notNull(),
    depositTxid: text('deposit_txid'),
    /** The return of the escrowed coins to the miner when the offer is withdrawn (until sent). */
    withdrawalTxid: text('withdrawal_txid'),
    withdrawalTx: text('withdrawal_tx'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('market_offers_escrow_idx').on(t.platformId, t.escrowIndex),
    index('market_offers_lot_idx').on(t.lotId),
    index('market_offers_page_idx').on(t.createdAt, t.id),
    check(
      'market_offers_status_check',
      sql`${t.status} in ('awaitingDeposit', 'open', 'closed', 'withdrawn')`,
    ),
    check(
      'market_offers_amount_check',
      sql`${t.amountSats} > 0 and ${t.availableSats} between 0 and ${t.amountSats}`,
    ),
  ],
);

/** Coins in an offer's escrow address: the deposit, then the change of each delivery. */
export const marketEscrowCoins = pgTable(
  'market_escrow_coins',
  {
    txid: text('txid').notNull(),
    vout: integer('vout').notNull(),
    offerId: text('offer_id')
      .notNull()
      .references(() => marketOffers.id),
    valueSats: sats('value_sats').notNull(),
    spentByDeal: text('spent_by_deal'),
    createdAt: at('created_at').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.txid, t.vout] }),
    index('market_escrow_coins_offer_idx').on(t.offerId),
    check('market_escrow_coins_value_check', sql`${t.valueSats} > 0`),
  ],
);

/** An importer's bid for cleared coins, for one of its active import contracts. */
export const marketBids = pgTable(
  'market_bids',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    companyId: text('company_id').notNull(),
    /** The importer's own platform (custodian of its wallet); may differ from the market's. */
    companyPlatformId: text('company_platform_id').notNull(),
    contractId: text('contract_id').notNull(),
    amountSats: sats('amount_sats').notNull(),
    status: text('status').notNull(),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    index('market_bids_contract_idx').on(t.contractId),
    index('market_bids_page_idx').on(t.createdAt, t.id),
    check('market_bids_status_check', sql`${t.status} in ('open', 'matched', 'lapsed')`),
    check('market_bids_amount_check', sql`${t.amountSats} > 0`),
  ],
);

/**
 * The order deliveries are signed in: a delivery may spend the change of one signed before it
 * (an offer's escrow is one chain of coins), so they are broadcast in this order.
 */
export const marketDeliveryOrder = pgSequence('market_delivery_order');

/** A match: the coin leg (escrow → importer's wallet) against the fiat leg (bank to bank). */
export const marketDeals = pgTable(
  'market_deals',
  {
    id: text('id').primaryKey(),
    platformId: text('platform_id').notNull(),
    offerId: text('offer_id')
      .notNull()
      .references(() => marketOffers.id),
    bidId: text('bid_id')
      .notNull()
      .references(() => marketBids.id),
    minerId: text('miner_id').notNull(),
    companyId: text('company_id').notNull(),
    contractId: text('contract_id').notNull(),
    minerPlatformId: text('miner_platform_id').notNull(),
    importerPlatformId: text('importer_platform_id').notNull(),
    amountSats: sats('amount_sats').notNull(),
    currency: text('currency').notNull(),
    fiatMinor: bigint('fiat_minor', { mode: 'bigint' }).notNull(),
    /**
     * The rate the deal was valued at, as the ledger stored it (`exchange_rates`, with its
     * sources), and the reference-rate fixing it came from: the day's published fixing, or null
     * when it was the live source's before the day's cut-off (as invoices and payouts). Deals
     * matched before migration 0055 have no stored rate and always a fixing.
     */
    rateId: text('rate_id'),
    fixingId: text('fixing_id'),
    referenceRate: text('reference_rate').notNull(),
    dealRate: text('deal_rate').notNull(),
    spreadBasisPoints: integer('spread_basis_points').notNull(),
    status: text('status').notNull(),
    deadline: at('deadline').notNull(),
    /** The officer (person) who matched the deal: never the one who confirms its fiat leg. */
    matchedByPerson: text('matched_by_person'),
    bankReference: text('bank_reference'),
    confirmedAt: at('confirmed_at'),
    deliveryTxid: text('delivery_txid'),
    deliveryVout: integer('delivery_vout'),
    deliveredSats: sats('delivered_sats'),
    feeSats: sats('fee_sats'),
    /** The signed delivery transaction (hex) until it is broadcast. */
    deliveryTx: text('delivery_tx'),
    /** When the delivery was signed, from `market_delivery_order`: the broadcast order. */
    deliveryOrder: bigint('delivery_order', { mode: 'bigint' }),
    /**
     * Sends the network refused for a reason that can pass later (inputs not seen yet, fee below
     * the mempool's): how many, the last reason, and when to send again (the job's backoff).
     */
    deliveryAttempts: integer('delivery_attempts').notNull().default(0),
    deliveryLastError: text('delivery_last_error'),
    deliveryNextAttemptAt: at('delivery_next_attempt_at'),
    /** The state a `held` deal was held from (its release goes back to that path). */
    heldFrom: text('held_from'),
    /** A refund of a held deal: the escrowed coins back to the miner's address (tx until sent). */
    refundAddress: text('refund_address'),
    refundTxid: text('refund_txid'),
    refundTx: text('refund_tx'),
    /** The bank's reference of the fiat leg's return to the importer (refund), once made. */
    fiatReturnReference: text('fiat_return_reference'),
    /**
     * Four eyes on a held deal: the decision one supervisor proposed (`release` or `refund`), by
     * which person, why and when; a different person's same decision carries it out.
     */
    pendingDecision: text('pending_decision'),
    pendingDecisionByPerson: text('pending_decision_by_person'),
    pendingDecisionReason: text('pending_decision_reason'),
    pendingDecisionAt: at('pending_decision_at'),
    /**
     * A deal held because the policy gate sent its coin leg to review: that decision's id, and
     * the officer's resolution once heard (`compliance.decision.resolved`): allow delivers it,
     * block refunds it (the tick carries the refund out).
     */
    coinLegReviewId: text('coin_leg_review_id'),
    coinLegReviewOutcome: text('coin_leg_review_outcome'),
    createdAt: at('created_at').notNull(),
    updatedAt: at('updated_at').notNull(),
  },
  (t) => [
    uniqueIndex('market_deals_bank_reference_idx').on(t.platformId, t.bankReference),
    index('market_deals_status_idx').on(t.status, t.deadline),
    index('market_deals_delivery_order_idx').on(t.status, t.deliveryOrder),
    index('market_deals_page_idx').on(t.createdAt, t.id),
    check(
      'market_deals_status_check',
      sql`${t.status} in ('awaitingPayment', 'delivering', 'delivered', 'settled', 'held', 'unwound', 'refunded')`,
    ),
    check('market_deals_amount_check', sql`${t.amountSats} > 0 and ${t.fiatMinor} > 0`),
    index('market_deals_coin_leg_review_idx').on(t.coinLegReviewId),
    check(
      'market_deals_coin_leg_review_check',
      sql`${t.coinLegReviewOutcome} is null or (${t.coinLegReviewOutcome} in ('allow', 'block') and ${t.coinLegReviewId} is not null)`,
    ),
    check(
      'market_deals_pending_decision_check',
      sql`${t.pendingDecision} is null or (${t.pendingDecision} in ('release', 'refund') and ${t.pendingDecisionByPerson} is not null)`,
    ),
  ],
);

/**
 * The bank's confirmations as received (the SettlementBank hands each out once): stored on
 * receipt, unique by the bank's reference, applied each on its own and marked consumed only on a
 * final outcome (applied, or refused with a closed code); a failure to apply (signer or chain
 * down, a database error) is retried with backoff and shown with its last error.
 */
export const marketBankInbox = pgTable(
  'market_bank_inbox',
  {
    id: text('id').primaryKey(),
    bank: text('bank').notNull(),
    bankReference: text('bank_reference').notNull(),
    dealReference: text('deal_reference').notNull(),
    amountMinor: bigint('amount_minor', { mode: 'bigint' }).notNull(),
    currency: text('currency').notNull(),
    /**
     * pending (to apply), applied, refused (a final refusal: `outcome` is its code), failed (its
     * attempts ran out on errors that are not the confirmation's own: `last_error` says the last).
     */
    status: text('status').notNull(),
    outcome: text('outcome'),
    attempts: integer('attempts').notNull(),
    lastError: text('last_error'),
    nextAttemptAt: at('next_attempt_at').notNull(),
    /** When it was received (the confirmation's time against the deal's deadline). */
    createdAt: at('received_at').notNull(),
    consumedAt: at('consumed_at'),
  },
  (t) => [
    uniqueIndex('market_bank_inbox_reference_idx').on(t.bank, t.bankReference),
    index('market_bank_inbox_pending_idx').on(t.status, t.nextAttemptAt),
    index('market_bank_inbox_deal_idx').on(t.dealReference),
    index('market_bank_inbox_page_idx').on(t.createdAt, t.id),
    check(
      'market_bank_inbox_status_check',
      sql`${t.status} in ('pending', 'applied', 'refused', 'failed')`,
    ),
    check('market_bank_inbox_amount_check', sql`${t.amountMinor} > 0`),
  ],
);

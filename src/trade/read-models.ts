import { eq, isNull, sql } from 'drizzle-orm';
import { pgView } from 'drizzle-orm/pg-core';
import {
  tradeBatches,
  tradeContracts,
  tradeInvoices,
  tradePayoutApprovals,
  tradePayouts,
  tradeSettlements,
  tradeWalletUtxos,
} from './schema';

/**
 * Trade's published read models: PostgreSQL views over trade's tables, each with only the
 * columns a reader in another module uses (oversight's reports and home pages, clearing's loop
 * report). They are trade's surface for reads in SQL; its tables stay private. drizzle-kit
 * creates them from these declarations (drizzle.config.ts reads `src/<module>/read-models.ts`),
 * so a renamed column fails the typecheck here instead of a report at run time.
 */

/**
 * Live settlements (a settlement reversed by a reorg is not one) with what the reports group
 * by: the contract's direction, HS code and counterparty.
 */
export const tradeSettlementFacts = pgView('trade_settlement_facts').as((qb) =>
  qb
    .select({
      id: tradeSettlements.id,
      kind: tradeSettlements.kind,
      reference: tradeSettlements.reference,
      platformId: tradeSettlements.platformId,
      companyId: tradeSettlements.companyId,
      contractId: tradeSettlements.contractId,
      rateId: tradeSettlements.rateId,
      amountSats: tradeSettlements.amountSats,
      fiatMinor: tradeSettlements.fiatMinor,
      currency: tradeSettlements.currency,
      txid: tradeSettlements.txid,
      createdAt: tradeSettlements.createdAt,
      direction: tradeContracts.direction,
      hsCode: tradeContracts.hsCode,
      counterpartyId: tradeContracts.counterpartyId,
    })
    .from(tradeSettlements)
    .innerJoin(tradeContracts, eq(tradeContracts.id, tradeSettlements.contractId))
    .where(isNull(tradeSettlements.reversedAt)),
);

/** Contracts with their open balance's parts, for a company's home page. */
export const tradeContractFacts = pgView('trade_contract_facts').as((qb) =>
  qb
    .select({
      id: tradeContracts.id,
      companyId: tradeContracts.companyId,
      counterpartyId: tradeContracts.counterpartyId,
      status: tradeContracts.status,
      direction: tradeContracts.direction,
      goodsDescription: tradeContracts.goodsDescription,
      currency: tradeContracts.currency,
      amountMinor: tradeContracts.amountMinor,
      settledAmount: tradeContracts.settledAmount,
      updatedAt: tradeContracts.updatedAt,
    })
    .from(tradeContracts),
);

/** Invoices, for a company's home page. */
export const tradeInvoiceFacts = pgView('trade_invoice_facts').as((qb) =>
  qb
    .select({
      id: tradeInvoices.id,
      companyId: tradeInvoices.companyId,
      counterpartyId: tradeInvoices.counterpartyId,
      status: tradeInvoices.status,
      description: tradeInvoices.description,
      amountSats: tradeInvoices.amountSats,
      fiatMinor: tradeInvoices.fiatMinor,
      currency: tradeInvoices.currency,
      expiresAt: tradeInvoices.expiresAt,
      createdAt: tradeInvoices.createdAt,
    })
    .from(tradeInvoices),
);

/**
 * Payouts, for the home pages (with who made each, for the maker-checker queue) and the loop
 * report (by batch; `origin_refused`: refused by the cleared-origin rule at batching).
 */
export const tradePayoutFacts = pgView('trade_payout_facts').as((qb) =>
  qb
    .select({
      id: tradePayouts.id,
      platformId: tradePayouts.platformId,
      companyId: tradePayouts.companyId,
      counterpartyId: tradePayouts.counterpartyId,
      status: tradePayouts.status,
      requiredApprovals: tradePayouts.requiredApprovals,
      createdBy: tradePayouts.createdBy,
      createdByPerson: tradePayouts.createdByPerson,
      batchId: tradePayouts.batchId,
      amountSats: tradePayouts.amountSats,
      fiatMinor: tradePayouts.fiatMinor,
      currency: tradePayouts.currency,
      memo: tradePayouts.memo,
      originRefused: sql<boolean>`${tradePayouts.originRefusal} is not null`.as('origin_refused'),
      createdAt: tradePayouts.createdAt,
    })
    .from(tradePayouts),
);

/** Who approved which payout (maker-checker: an officer approves a payout once). */
export const tradePayoutApprovalFacts = pgView('trade_payout_approval_facts').as((qb) =>
  qb
    .select({ payoutId: tradePayoutApprovals.payoutId, personId: tradePayoutApprovals.personId })
    .from(tradePayoutApprovals),
);

/** Payout batches, for a platform's home page. */
export const tradeBatchFacts = pgView('trade_batch_facts').as((qb) =>
  qb
    .select({
      id: tradeBatches.id,
      platformId: tradeBatches.platformId,
      status: tradeBatches.status,
      feeSats: tradeBatches.feeSats,
      vsize: tradeBatches.vsize,
      createdAt: tradeBatches.createdAt,
    })
    .from(tradeBatches),
);

/** The company wallets' coins: spent by which transaction, reserved by which batch. */
export const tradeCoinFacts = pgView('trade_coin_facts').as((qb) =>
  qb
    .select({
      txid: tradeWalletUtxos.txid,
      vout: tradeWalletUtxos.vout,
      valueSats: tradeWalletUtxos.valueSats,
      reservedByBatch: tradeWalletUtxos.reservedByBatch,
      spentByTxid: tradeWalletUtxos.spentByTxid,
    })
    .from(tradeWalletUtxos),
);

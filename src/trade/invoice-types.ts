import type { AuditLog } from '../audit';
import { Transaction } from '@scure/btc-signer';
import type { Database } from '../db';
import type { LedgerService, RateService } from '../ledger';
import type { Clock, NetworkName, Random } from '../kernel';
import type { ContractService } from './contracts';
import type { CompanyWallets, GateDecision, TransferGate } from './ports';
import type { tradeInvoices } from './schema';

export const INVOICE_STATUSES = ['new', 'processing', 'settled', 'expired', 'invalid'] as const;
export type InvoiceStatus = (typeof INVOICE_STATUSES)[number];
export type InvoiceSubStatus = 'paidPartial' | 'paidOver' | 'paidLate';

export interface InvoiceInput {
  readonly contractId: string;
  /** For a fixedBtc contract: sats. For a fiat contract: a decimal in the contract currency. */
  readonly amount: string;
  readonly description?: string;
  /** Overrides the platform's validity window (seconds). */
  readonly validitySeconds?: number;
  /**
   * IVMS101 originator (the paying counterparty) and beneficiary (the company) data, FATF R.16:
   * required by the policy gate at or above its threshold. Kept and passed again for payments.
   */
  readonly travelRule?: unknown;
}

/** One gate decision on an invoice: at creation, or for a payment (its txid). */
export interface InvoiceGateDecision extends GateDecision {
  readonly subject: 'creation' | `payment:${string}`;
  /** An input address of the paying transaction that was screened, if any. */
  readonly payerAddress: string | null;
  readonly at: string;
  /** The officer's resolution of a review (null while waiting, or when there was no review). */
  readonly resolution: 'allow' | 'block' | null;
  /**
   * On the review a failed payer lookup holds (CHECK_FAILED): the inputs still to be looked up,
   * tried again from tick with backoff until each is found and screened, which replaces it.
   */
  readonly lookup?: PayerLookup;
}

/** An input of a paying transaction: a block's carries the output it spends, a mempool one's not. */
export type PayingInput = {
  readonly txid: string;
  readonly vout: number;
  readonly prevout?: { readonly address: string | null };
};

/** A payer lookup that failed, waiting to be tried again. */
export interface PayerLookup {
  readonly inputs: readonly { readonly txid: string; readonly vout: number }[];
  /** The payment's value in sats (decimal string), decided again with each payer found. */
  readonly valueSats: string;
  readonly attempts: number;
  readonly nextAttemptAt: string;
}

/** The payers found behind a payment's inputs, and the inputs that could not be looked up. */
export interface LookupResult {
  readonly payers: Set<string>;
  readonly unresolved: { txid: string; vout: number; why: string }[];
}

/** Backoff between lookups of a payer: one minute, doubling, at most an hour. */
export function lookupBackoffMs(attempts: number): number {
  return Math.min(60_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export interface InvoicePaymentView {
  readonly txid: string;
  readonly vout: number;
  readonly valueSats: bigint;
  readonly blockHash: string | null;
  readonly blockHeight: number | null;
  readonly signalsRbf: boolean;
  readonly late: boolean;
}

export interface InvoiceView {
  readonly id: string;
  readonly platformId: string;
  readonly companyId: string;
  readonly contractId: string;
  readonly counterpartyId: string;
  readonly status: InvoiceStatus;
  readonly additionalStatus: readonly InvoiceSubStatus[];
  readonly address: string;
  readonly amountSats: bigint;
  readonly amountBtc: string;
  readonly fiatMinor: bigint;
  readonly currency: string;
  readonly rateId: string;
  readonly paymentUri: string;
  readonly seenSats: bigint;
  readonly confirmedSats: bigint;
  readonly description: string;
  readonly expiresAt: Date;
  readonly watchUntil: Date;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  readonly settlementId: string | null;
  readonly payments: readonly InvoicePaymentView[];
  /**
   * The worst gate outcome so far: `review` holds settlement until an officer resolves it,
   * `block` makes the invoice invalid; `gateDecisions` carries every decision with its reasons.
   */
  readonly gateOutcome: 'allow' | 'review' | 'block';
  readonly gateDecisions: readonly InvoiceGateDecision[];
  /** The IVMS101 (Travel Rule) data supplied with the invoice, or null. */
  readonly travelRule: unknown;
}

const SEVERITY = { allow: 0, review: 1, block: 2 } as const;

/** What a decision means now: a resolved review is its resolution. */
function effective(d: InvoiceGateDecision): 'allow' | 'review' | 'block' {
  return d.outcome === 'review' && d.resolution ? d.resolution : d.outcome;
}

export function worstOf(decisions: readonly InvoiceGateDecision[]): 'allow' | 'review' | 'block' {
  let worst: 'allow' | 'review' | 'block' = 'allow';
  for (const d of decisions) if (SEVERITY[effective(d)] > SEVERITY[worst]) worst = effective(d);
  return worst;
}

export function decisionsOf(stored: unknown): InvoiceGateDecision[] {
  return Array.isArray(stored) ? (stored as InvoiceGateDecision[]) : [];
}

export type InvoiceRow = typeof tradeInvoices.$inferSelect;

/** BIP125: a transaction signals replaceability when an input's nSequence is below 0xfffffffe. */
export function signalsReplaceability(raw: Uint8Array): boolean {
  const tx = Transaction.fromRaw(raw, { allowUnknownOutputs: true, disableScriptCheck: true });
  for (let i = 0; i < tx.inputsLength; i++) {
    const sequence = tx.getInput(i).sequence ?? 0xffffffff;
    if (sequence < 0xfffffffe) return true;
  }
  return false;
}

/**
 * Invoices for the export side (BTCPay Server semantics): a fresh address per invoice, a BIP21
 * URI and QR code, the BTC amount fixed at the rate of creation for a validity window, statuses
 * new → processing → settled or expired / invalid with sub-statuses paidPartial, paidOver,
 * paidLate. Settlement posts to the ledger in the transaction that settles the invoice; a reorg
 * that removes a payment reverses it.

/** What the invoice functions work with (the InvoiceService's ports). */
export interface InvoiceDeps {
  readonly db: Database;
  readonly clock: Clock;
  /** The audit chain's writer, in the caller's unit of work. */
  readonly audit: AuditLog;
  readonly random: Random;
  readonly network: NetworkName;
  readonly contracts: ContractService;
  readonly wallets: CompanyWallets;
  readonly rates: RateService;
  readonly ledger: LedgerService;
  readonly gate: TransferGate;
  /**
   * The address of a previous output (an input of a paying transaction), from the chain;
   * null when the chain cannot say (no chain source, pruned, not a standard script).
   */
  readonly payerAddress: (txid: string, vout: number) => Promise<string | null>;
}

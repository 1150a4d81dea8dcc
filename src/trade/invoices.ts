import { AuditLog } from '../audit';
import type { Database, Orm, Page, PageRequest } from '../db';
import type { LedgerService, RateService } from '../ledger';
import type { Caller, Clock, NetworkName, Random } from '../kernel';
import type { ChainBlock, MempoolTransaction } from './chain';
import type { ContractService } from './contracts';
import { createInvoiceOnce } from './invoice-creation';
import {
  blockConnected,
  blockDisconnected,
  dropVanishedPayments,
  expireDue,
  mempoolTransaction,
} from './invoice-receipts';
import { applyInvoiceReview, applyInvoiceReviews } from './invoice-reviews';
import type { InvoiceDeps, InvoiceInput, InvoiceStatus, InvoiceView } from './invoice-types';
import { getInvoice, invoiceQrCode, listInvoices, publicInvoiceView } from './invoice-views';
import type { CompanyWallets, TransferGate } from './ports';

export {
  INVOICE_STATUSES,
  lookupBackoffMs,
  signalsReplaceability,
  type InvoiceGateDecision,
  type InvoiceInput,
  type InvoicePaymentView,
  type InvoiceStatus,
  type InvoiceSubStatus,
  type InvoiceView,
  type PayerLookup,
} from './invoice-types';

/**
 * Invoices for the export side (BTCPay Server semantics): a fresh address per invoice, a BIP21
 * URI and QR code, the BTC amount fixed at the rate of creation for a validity window, statuses
 * new → processing → settled or expired / invalid with sub-statuses paidPartial, paidOver,
 * paidLate. Settlement posts to the ledger in the transaction that settles the invoice; a reorg
 * that removes a payment reverses it.
 */
export class InvoiceService {
  readonly #deps: InvoiceDeps;

  constructor(ports: {
    db: Database;
    clock: Clock;
    random: Random;
    network: NetworkName;
    contracts: ContractService;
    wallets: CompanyWallets;
    rates: RateService;
    ledger: LedgerService;
    gate: TransferGate;
    /**
     * The address of a previous output (an input of a paying transaction), from the chain;
     * null when the chain cannot say (no chain source, pruned, not a standard script).
     */
    payerAddress?: (txid: string, vout: number) => Promise<string | null>;
  }) {
    this.#deps = {
      ...ports,
      audit: new AuditLog(ports),
      payerAddress: ports.payerAddress ?? (() => Promise.resolve(null)),
    };
  }

  async create(
    caller: Caller,
    input: InvoiceInput,
    options: { idempotencyKey?: string } = {},
  ): Promise<InvoiceView> {
    return (await this.createOnce(caller, input, options.idempotencyKey)).invoice;
  }

  /**
   * Issues an invoice; with an idempotency key, a retry of the same request answers the invoice
   * the first one issued (`replayed`), and nothing is written again: no second address, gate
   * decision or reservation (see idempotency.ts).
   */
  createOnce(
    caller: Caller,
    input: InvoiceInput,
    idempotencyKey?: string,
  ): Promise<{ invoice: InvoiceView; replayed: boolean }> {
    return createInvoiceOnce(this.#deps, caller, input, idempotencyKey);
  }

  /** Reviews resolved by officers (and payer lookups due) are applied; run from tick. */
  applyReviews(tipHeight: number): Promise<string[]> {
    return applyInvoiceReviews(this.#deps, tipHeight);
  }

  /** Carries officers' resolutions of an invoice's reviews inside `tx`; false when none. */
  applyReview(tx: Orm, id: string, tipHeight: number): Promise<boolean> {
    return applyInvoiceReview(this.#deps, tx, id, tipHeight);
  }

  get(caller: Caller, id: string): Promise<InvoiceView> {
    return getInvoice(this.#deps, caller, id);
  }

  /** For the public pay page: the invoice id is the capability, as in BTCPay Server. */
  publicView(id: string): Promise<InvoiceView> {
    return publicInvoiceView(this.#deps, id);
  }

  /** A page of the invoices visible to the caller, newest first. */
  list(
    caller: Caller,
    filter: { status?: InvoiceStatus; contractId?: string } = {},
    page: PageRequest = {},
  ): Promise<Page<InvoiceView>> {
    return listInvoices(this.#deps, caller, filter, page);
  }

  qrCode(id: string, format: 'png' | 'svg'): Promise<Uint8Array | string> {
    return invoiceQrCode(this.#deps, id, format);
  }

  /** A block connected: record payments to invoice addresses, then re-evaluate open invoices. */
  blockConnected(tx: Orm, block: ChainBlock): Promise<void> {
    return blockConnected(this.#deps, tx, block);
  }

  /** A block disconnected (reorg): its payments go back to unconfirmed; settlements may reverse. */
  blockDisconnected(tx: Orm, block: ChainBlock): Promise<void> {
    return blockDisconnected(this.#deps, tx, block);
  }

  /** A transaction seen in the mempool (not exactly-once; idempotent by txid and vout). */
  mempoolTransaction(
    wtx: MempoolTransaction,
    raw: Uint8Array | null,
    tipHeight: number,
  ): Promise<void> {
    return mempoolTransaction(this.#deps, wtx, raw, tipHeight);
  }

  /** Expires invoices past their window; ends the watch of those past their late-payment window. */
  expireDue(tipHeight: number): Promise<number> {
    return expireDue(this.#deps, tipHeight);
  }

  /** Unconfirmed payments that left the mempool without confirming are dropped. */
  dropVanishedPayments(
    isKnown: (txid: string) => Promise<boolean>,
    tipHeight: number,
  ): Promise<number> {
    return dropVanishedPayments(this.#deps, isKnown, tipHeight);
  }
}

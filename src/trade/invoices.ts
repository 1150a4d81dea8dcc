import { earlierCreation, idempotencyKeyOf, isKeyRace, type IdempotencyKey } from './idempotency';
import { and, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import { Transaction } from '@scure/btc-signer';
import { recordAudit } from '../audit';
import { buildPaymentUri } from '../bitcoin';
import {
  keyset,
  pageOf,
  scopeTo,
  type Database,
  type Orm,
  type Page,
  type PageRequest,
} from '../db';
import { fiatValue, type LedgerService, type RateService } from '../ledger';
import {
  AppError,
  currency as parseCurrency,
  fiatToSats,
  formatBtc,
  groupBy,
  formatRate,
  invalid,
  newId,
  sats,
  systemCaller,
  type Caller,
  type Clock,
  type NetworkName,
  type Random,
} from '../kernel';
import type { ChainBlock, MempoolTransaction } from './chain';
import { contractTotal, type ContractService } from './contracts';
import { enqueueWebhook, type WebhookEvent } from './outbox';
import { invoiceAction, LIFECYCLE_RULE, transitionInvoice } from './lifecycle';
import type { CompanyWallets, GateDecision, TransferGate } from './ports';
import { tradeContracts, tradeInvoicePayments, tradeInvoices, tradeSettlements } from './schema';
import { loadSettings } from './settings';

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
type PayingInput = {
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
interface LookupResult {
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

/**
 * An invoice the gate refused at creation is kept (invalid) and answered with TRANSFER_BLOCKED:
 * a reference, not the reasons, since the caller may be the company (no tipping-off); officers
 * read the reasons on the invoice and on compliance's decision. A replay answers the same.
 */
function refusedIfBlocked(invoice: InvoiceView): InvoiceView {
  if (invoice.gateOutcome !== 'block') return invoice;
  const creation = invoice.gateDecisions.find((d) => d.subject === 'creation');
  if (creation?.outcome !== 'block') return invoice;
  const reference = creation.decisionId ?? invoice.id;
  throw new AppError(
    'TRANSFER_BLOCKED',
    `invoice ${invoice.id} was refused by the compliance checks and kept as invalid (reference ${reference})`,
    { details: { invoiceId: invoice.id, outcome: 'block', reference } },
  );
}

const SEVERITY = { allow: 0, review: 1, block: 2 } as const;

/** What a decision means now: a resolved review is its resolution. */
function effective(d: InvoiceGateDecision): 'allow' | 'review' | 'block' {
  return d.outcome === 'review' && d.resolution ? d.resolution : d.outcome;
}

function worstOf(decisions: readonly InvoiceGateDecision[]): 'allow' | 'review' | 'block' {
  let worst: 'allow' | 'review' | 'block' = 'allow';
  for (const d of decisions) if (SEVERITY[effective(d)] > SEVERITY[worst]) worst = effective(d);
  return worst;
}

function decisionsOf(stored: unknown): InvoiceGateDecision[] {
  return Array.isArray(stored) ? (stored as InvoiceGateDecision[]) : [];
}

type InvoiceRow = typeof tradeInvoices.$inferSelect;

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
 */
export class InvoiceService {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #network: NetworkName;
  readonly #contracts: ContractService;
  readonly #wallets: CompanyWallets;
  readonly #rates: RateService;
  readonly #ledger: LedgerService;
  readonly #gate: TransferGate;
  readonly #payerAddress: (txid: string, vout: number) => Promise<string | null>;

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
    this.#gate = ports.gate;
    this.#payerAddress = ports.payerAddress ?? (() => Promise.resolve(null));
    this.#db = ports.db;
    this.#clock = ports.clock;
    this.#random = ports.random;
    this.#network = ports.network;
    this.#contracts = ports.contracts;
    this.#wallets = ports.wallets;
    this.#rates = ports.rates;
    this.#ledger = ports.ledger;
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
  async createOnce(
    caller: Caller,
    input: InvoiceInput,
    idempotencyKey?: string,
  ): Promise<{ invoice: InvoiceView; replayed: boolean }> {
    if (caller.role !== 'company' && caller.role !== 'platform') {
      throw new AppError('FORBIDDEN', 'invoices are issued by the company or its platform');
    }
    if (
      input.validitySeconds !== undefined &&
      (!Number.isInteger(input.validitySeconds) || input.validitySeconds < 60)
    ) {
      throw invalid(
        'validitySeconds',
        `must be an integer of at least 60, got ${input.validitySeconds}`,
      );
    }
    const idempotency = idempotencyKeyOf(idempotencyKey, input);
    const replay = async () => {
      if (!idempotency) return null;
      const id = await earlierCreation(this.#db.orm, tradeInvoices, caller, idempotency, 'invoice');
      return id
        ? { invoice: refusedIfBlocked(await this.#view(this.#db.orm, id)), replayed: true }
        : null;
    };
    const earlier = await replay();
    if (earlier) return earlier;
    let created: InvoiceView;
    try {
      created = await this.#issue(caller, input, idempotency);
    } catch (error) {
      // Two requests with one key at once: the one that lost the race answers the winner's invoice.
      const winner = isKeyRace(error, 'trade_invoices_idempotency_uq') ? await replay() : null;
      if (winner) return winner;
      throw error;
    }
    return { invoice: refusedIfBlocked(created), replayed: false };
  }

  async #issue(
    caller: Caller,
    input: InvoiceInput,
    idempotency: IdempotencyKey | null,
  ): Promise<InvoiceView> {
    return this.#db.transaction(async (tx) => {
      const { contract, fixedBtc, contractAmount, reservation } =
        await this.#contracts.reserveForPayment(
          tx,
          caller,
          input.contractId,
          input.amount,
          'export',
        );
      // The rate is fixed now, for the validity window; no rate, no invoice (and nothing written).
      const rate = await this.#rates.current(contract.currency, tx);
      const amountSats = fixedBtc
        ? contractAmount
        : fiatToSats(
            { minor: contractAmount, currency: parseCurrency(contract.currency) },
            rate.rate,
            'up',
          );
      const fiatMinor = fixedBtc ? fiatValue(amountSats, rate.rate) : contractAmount;
      const settings = await loadSettings(tx, contract.platformId);
      const now = this.#clock.now();
      const id = newId('invoice', now, this.#random);
      const inSats = (amount: bigint) =>
        fixedBtc || amount <= 0n
          ? amount
          : fiatToSats(
              { minor: amount, currency: parseCurrency(contract.currency) },
              rate.rate,
              'down',
            );
      // The company's wallet in the registry hands out its next receive address, for this invoice
      // only: recorded there in this transaction, never handed out again. Taken before the gate
      // decides, because the gate holds the audit head from then until commit: the wallet's lock
      // comes first in every writer (a hand-out by hand, a payout batch's change), or two of them
      // would wait for each other.
      const address = await this.#wallets.nextReceiveAddress(
        tx,
        contract.companyId,
        `invoice ${id}`,
      );
      // Inbound: what can be checked before anyone pays is the parties, the contract and the
      // Travel Rule data; the payer's addresses are screened when a payment is seen.
      const facts = {
        transferId: id,
        occurredAt: now,
        direction: 'inbound' as const,
        platformId: contract.platformId,
        companyId: contract.companyId,
        counterpartyId: contract.counterpartyId,
        contractId: contract.id,
        address: null,
        amountSats,
        fiatMinor,
        currency: contract.currency,
        rate: formatRate(rate.rate),
        openAmountSats: inSats(reservation.open),
        toleranceSats: inSats(reservation.tolerance),
        travelRule: input.travelRule ?? null,
      };
      // What the caller can mend is refused before anything is written (the reservation and the
      // address hand-out roll back with the transaction); anything else is decided and recorded.
      const refusal = await this.#gate.refusalBeforeCreation(tx, caller, facts);
      if (refusal) throw refusal;
      const decision = await this.#gate.decide(tx, caller, facts);
      const gateDecisions: InvoiceGateDecision[] = [
        {
          ...decision,
          subject: 'creation',
          payerAddress: null,
          at: now.toISOString(),
          resolution: null,
        },
      ];
      const expiresAt = new Date(
        now.getTime() + (input.validitySeconds ?? settings.invoiceValiditySeconds) * 1000,
      );
      await tx.insert(tradeInvoices).values({
        id,
        platformId: contract.platformId,
        companyId: contract.companyId,
        contractId: contract.id,
        counterpartyId: contract.counterpartyId,
        address: address.address,
        amountSats,
        contractAmount,
        fiatMinor,
        currency: contract.currency,
        rateId: rate.id,
        status: decision.outcome === 'block' ? 'invalid' : 'new',
        gateOutcome: decision.outcome,
        gateDecisions,
        travelRule: input.travelRule ?? null,
        description: input.description ?? '',
        idempotencyKey: idempotency?.key ?? null,
        requestFingerprint: idempotency?.fingerprint ?? null,
        expiresAt,
        watchUntil: new Date(expiresAt.getTime() + settings.latePaymentWindowSeconds * 1000),
        createdBy: caller.actorId,
        createdAt: now,
        updatedAt: now,
      });
      const view = await this.#view(tx, id);
      await recordAudit(tx, caller, this.#clock, {
        action: 'invoice.created',
        entityType: 'invoice',
        entityId: id,
        after: view,
      });
      await this.#event(tx, view, 'invoice.created');
      if (decision.outcome === 'block') await this.#event(tx, view, 'invoice.invalid');
      return view;
    });
  }

  /**
   * Invoices whose gate decisions were sent to review: payer lookups that failed are tried again
   * when due, and reviews an officer resolved take their resolution; the gate outcome is then
   * recomputed and the invoice re-evaluated (an allowed one may settle now, a blocked one turns
   * invalid). Run from tick.
   */
  async applyReviews(tipHeight: number): Promise<string[]> {
    const waiting = await this.#db.orm
      .select({ id: tradeInvoices.id, gateDecisions: tradeInvoices.gateDecisions })
      .from(tradeInvoices)
      .where(eq(tradeInvoices.gateOutcome, 'review'));
    const changed = await this.#retryLookups(tipHeight, waiting);
    // Only invoices with a compliance review still open can have been resolved by an officer.
    const inReview = waiting.filter((i) =>
      decisionsOf(i.gateDecisions).some(
        (d) => d.outcome === 'review' && d.resolution === null && d.decisionId,
      ),
    );
    for (const { id } of inReview) {
      if (await this.#db.transaction((tx) => this.applyReview(tx, id, tipHeight))) changed.push(id);
    }
    return changed;
  }

  /**
   * Carries officers' resolutions of an invoice's decisions in review, inside `tx`, and
   * re-evaluates it (an allowed one may settle now, a blocked one turns invalid). False when
   * none of its reviews is resolved yet.
   */
  async applyReview(tx: Orm, id: string, tipHeight: number): Promise<boolean> {
    const [row] = await tx
      .select()
      .from(tradeInvoices)
      .where(eq(tradeInvoices.id, id))
      .for('update');
    if (!row) return false;
    let resolved = false;
    const decisions: InvoiceGateDecision[] = [];
    for (const d of decisionsOf(row.gateDecisions)) {
      if (d.outcome === 'review' && d.resolution === null && d.decisionId) {
        const resolution = await this.#gate.resolution(tx, d.decisionId);
        if (resolution) {
          resolved = true;
          decisions.push({ ...d, resolution });
          continue;
        }
      }
      decisions.push(d);
    }
    if (!resolved) return false;
    const gateOutcome = worstOf(decisions);
    await tx
      .update(tradeInvoices)
      .set({ gateDecisions: decisions, gateOutcome, updatedAt: this.#clock.now() })
      .where(eq(tradeInvoices.id, id));
    await recordAudit(tx, systemCaller('trade.reviews'), this.#clock, {
      action: 'invoice.reviewResolved',
      entityType: 'invoice',
      entityId: id,
      before: { gateOutcome: row.gateOutcome },
      after: { gateOutcome },
    });
    await this.#evaluate(tx, id, tipHeight);
    return true;
  }

  async get(caller: Caller, id: string): Promise<InvoiceView> {
    const [row] = await this.#db.orm
      .select({ id: tradeInvoices.id })
      .from(tradeInvoices)
      .where(
        and(
          eq(tradeInvoices.id, id),
          scopeTo(caller, {
            participant: tradeInvoices.companyId,
            platform: tradeInvoices.platformId,
          }),
        ),
      );
    if (!row) throw new AppError('INVOICE_NOT_FOUND', `no invoice ${id} visible to you`);
    return this.#view(this.#db.orm, id);
  }

  /** For the public pay page: the invoice id is the capability, as in BTCPay Server. */
  async publicView(id: string): Promise<InvoiceView> {
    return this.#view(this.#db.orm, id);
  }

  /**
   * A page of the invoices visible to the caller, newest first (keyset on created_at, id): two
   * queries whatever the page size, the invoices then their payments.
   */
  async list(
    caller: Caller,
    filter: { status?: InvoiceStatus; contractId?: string } = {},
    page: PageRequest = {},
  ): Promise<Page<InvoiceView>> {
    const { after, orderBy, read, limit } = keyset(tradeInvoices, page);
    const rows = await this.#db.orm
      .select()
      .from(tradeInvoices)
      .where(
        and(
          scopeTo(caller, {
            participant: tradeInvoices.companyId,
            platform: tradeInvoices.platformId,
          }),
          filter.status ? eq(tradeInvoices.status, filter.status) : undefined,
          filter.contractId ? eq(tradeInvoices.contractId, filter.contractId) : undefined,
          after,
        ),
      )
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, async (shown) => {
      const payments =
        shown.length === 0
          ? []
          : await this.#db.orm
              .select()
              .from(tradeInvoicePayments)
              .where(
                inArray(
                  tradeInvoicePayments.invoiceId,
                  shown.map((r) => r.id),
                ),
              );
      const byInvoice = groupBy(payments, (p) => p.invoiceId);
      return shown.map((row) => this.#viewOf(row, byInvoice.get(row.id) ?? []));
    });
  }

  async qrCode(id: string, format: 'png' | 'svg'): Promise<Uint8Array | string> {
    const view = await this.publicView(id);
    // Loaded on the first pay page's QR code, not at start.
    const { default: QRCode } = await import('qrcode');
    if (format === 'svg')
      return QRCode.toString(view.paymentUri, {
        type: 'svg',
        errorCorrectionLevel: 'M',
        margin: 2,
      });
    return new Uint8Array(
      await QRCode.toBuffer(view.paymentUri, {
        type: 'png',
        errorCorrectionLevel: 'M',
        margin: 2,
        scale: 6,
      }),
    );
  }

  // ------------------------------------------------------------------ chain events

  /** A block connected: record payments to invoice addresses, then re-evaluate open invoices. */
  async blockConnected(tx: Orm, block: ChainBlock): Promise<void> {
    const touched = await this.#recordPayments(
      tx,
      block.transactions,
      { hash: block.hash, height: block.height },
      () => false,
    );
    // Confirmations only change for invoices that have payments and are not final yet.
    const open = await tx
      .selectDistinct({ id: tradeInvoices.id })
      .from(tradeInvoices)
      .innerJoin(tradeInvoicePayments, eq(tradeInvoicePayments.invoiceId, tradeInvoices.id))
      .where(inArray(tradeInvoices.status, ['new', 'processing', 'expired']));
    for (const id of new Set([...touched, ...open.map((o) => o.id)]))
      await this.#evaluate(tx, id, block.height);
  }

  /** A block disconnected (reorg): its payments go back to unconfirmed; settlements may reverse. */
  async blockDisconnected(tx: Orm, block: ChainBlock): Promise<void> {
    const affected = await tx
      .update(tradeInvoicePayments)
      .set({ blockHash: null, blockHeight: null })
      .where(eq(tradeInvoicePayments.blockHash, block.hash))
      .returning({ invoiceId: tradeInvoicePayments.invoiceId });
    for (const id of new Set(affected.map((a) => a.invoiceId)))
      await this.#evaluate(tx, id, block.height - 1);
  }

  /** A transaction seen in the mempool (not exactly-once; idempotent by txid and vout). */
  async mempoolTransaction(
    wtx: MempoolTransaction,
    raw: Uint8Array | null,
    tipHeight: number,
  ): Promise<void> {
    const rbf = raw ? signalsReplaceability(raw) : true;
    await this.#db.transaction(async (tx) => {
      const touched = await this.#recordPayments(tx, [wtx], null, () => rbf);
      for (const id of touched) await this.#evaluate(tx, id, tipHeight);
    });
  }

  /** Expires invoices past their window; ends the watch of those past their late-payment window. */
  async expireDue(tipHeight: number): Promise<number> {
    const now = this.#clock.now();
    return this.#db.transaction(async (tx) => {
      const due = await tx
        .select({ id: tradeInvoices.id })
        .from(tradeInvoices)
        .where(
          or(
            and(eq(tradeInvoices.status, 'new'), lte(tradeInvoices.expiresAt, now)),
            and(eq(tradeInvoices.status, 'processing'), lte(tradeInvoices.watchUntil, now)),
          ),
        );
      for (const { id } of due) await this.#evaluate(tx, id, tipHeight);
      return due.length;
    });
  }

  /**
   * Unconfirmed payments whose transaction left the mempool without confirming (replaced by a
   * double spend, evicted) are dropped, and their invoices re-evaluated: a 0-conf settlement they
   * carried is reversed. `isKnown` asks the chain source whether it still has the transaction.
   */
  async dropVanishedPayments(
    isKnown: (txid: string) => Promise<boolean>,
    tipHeight: number,
  ): Promise<number> {
    const pending = await this.#db.orm
      .selectDistinct({ txid: tradeInvoicePayments.txid })
      .from(tradeInvoicePayments)
      .where(isNull(tradeInvoicePayments.blockHash));
    let dropped = 0;
    for (const { txid } of pending) {
      if (await isKnown(txid)) continue;
      await this.#db.transaction(async (tx) => {
        const removed = await tx
          .delete(tradeInvoicePayments)
          .where(and(eq(tradeInvoicePayments.txid, txid), isNull(tradeInvoicePayments.blockHash)))
          .returning({ invoiceId: tradeInvoicePayments.invoiceId });
        for (const id of new Set(removed.map((r) => r.invoiceId))) {
          await recordAudit(tx, systemCaller('trade.invoices'), this.#clock, {
            action: 'invoice.paymentVanished',
            entityType: 'invoice',
            entityId: id,
            after: { txid },
          });
          await this.#evaluate(tx, id, tipHeight);
        }
        dropped += removed.length;
      });
    }
    return dropped;
  }

  async #recordPayments(
    tx: Orm,
    transactions: readonly MempoolTransaction[],
    block: { hash: string; height: number } | null,
    rbf: (txid: string) => boolean,
  ): Promise<Set<string>> {
    const outputs = transactions.flatMap((t) =>
      t.outputs.flatMap((o) =>
        o.address ? [{ txid: t.txid, vout: o.vout, value: o.valueSats, address: o.address }] : [],
      ),
    );
    const touched = new Set<string>();
    if (outputs.length === 0) return touched;
    const invoices = await tx
      .select({
        id: tradeInvoices.id,
        address: tradeInvoices.address,
        expiresAt: tradeInvoices.expiresAt,
        watchUntil: tradeInvoices.watchUntil,
        status: tradeInvoices.status,
      })
      .from(tradeInvoices)
      .where(inArray(tradeInvoices.address, [...new Set(outputs.map((o) => o.address))]));
    const byAddress = new Map(invoices.map((i) => [i.address, i]));
    const now = this.#clock.now();
    const known = new Set(
      (
        await tx
          .select({ txid: tradeInvoicePayments.txid, vout: tradeInvoicePayments.vout })
          .from(tradeInvoicePayments)
          .where(inArray(tradeInvoicePayments.txid, [...new Set(outputs.map((o) => o.txid))]))
      ).map((p) => `${p.txid}:${p.vout}`),
    );
    /** Payments seen for the first time, per invoice and transaction, for the gate. */
    const fresh = new Map<string, { invoiceId: string; txid: string; value: bigint }>();
    for (const output of outputs) {
      const invoice = byAddress.get(output.address);
      if (!invoice) continue;
      // After the late-payment window the address is no longer watched for new payments.
      if (invoice.status !== 'settled' && now > invoice.watchUntil && block === null) continue;
      await tx
        .insert(tradeInvoicePayments)
        .values({
          txid: output.txid,
          vout: output.vout,
          invoiceId: invoice.id,
          valueSats: output.value,
          blockHash: block?.hash ?? null,
          blockHeight: block?.height ?? null,
          signalsRbf: block ? false : rbf(output.txid),
          seenAt: now,
          late: now > invoice.expiresAt,
        })
        .onConflictDoUpdate({
          target: [tradeInvoicePayments.txid, tradeInvoicePayments.vout],
          set: block
            ? { blockHash: block.hash, blockHeight: block.height }
            : { invoiceId: invoice.id },
        });
      touched.add(invoice.id);
      if (known.has(`${output.txid}:${output.vout}`)) continue;
      const key = `${invoice.id}|${output.txid}`;
      const entry = fresh.get(key) ?? { invoiceId: invoice.id, txid: output.txid, value: 0n };
      entry.value += output.value;
      fresh.set(key, entry);
    }
    for (const payment of fresh.values()) {
      // A block's transactions carry their inputs' previous outputs (PayingInput.prevout).
      const paying = transactions.find((t) => t.txid === payment.txid);
      await this.#gatePayment(tx, payment, paying?.inputs ?? []);
    }
    return touched;
  }

  /**
   * A payment seen for the first time passes the policy gate as an inbound transfer keyed by the
   * invoice (compliance's monitoring then sees one transfer per invoice, for what it received).
   * What is checkable about the payer is the paying transaction's input addresses (resolved from
   * the previous outputs through the chain) and the amount: each distinct input address is
   * screened against the sanctions lists and monitoring (exposure, velocity, structuring) with
   * the amount received; when no input address can be resolved (coinbase, non-standard script,
   * no chain source) the payment is still judged on its parties, contract and amount. The
   * payer's identity behind an address cannot be known from the chain: that is what the Travel
   * Rule data supplied with the invoice is for.
   */
  async #gatePayment(
    tx: Orm,
    payment: { invoiceId: string; txid: string; value: bigint },
    inputs: readonly PayingInput[],
  ): Promise<void> {
    const [row] = await tx
      .select()
      .from(tradeInvoices)
      .where(eq(tradeInvoices.id, payment.invoiceId))
      .for('update');
    if (!row) return;
    const { payers, unresolved } = await this.#lookUpPayers(inputs);
    const decisions = decisionsOf(row.gateDecisions);
    decisions.push(
      ...(await this.#decidePayers(tx, row, payment, payers.size > 0 ? [...payers] : [null])),
    );
    if (unresolved.length > 0) decisions.push(this.#lookupFailed(payment, unresolved, 1));
    await this.#writeDecisions(tx, row, decisions, 'invoice.gateDecided', {
      txid: payment.txid,
      payers: [...payers],
    });
  }

  /**
   * The payers behind a paying transaction's inputs. Fail closed: an input whose previous output
   * cannot be looked up is a payer not screened; it is returned as unresolved (the payment is
   * then held for review), never judged as if that payer were not there.
   */
  async #lookUpPayers(inputs: readonly PayingInput[]): Promise<LookupResult> {
    const payers = new Set<string>();
    const unresolved: { txid: string; vout: number; why: string }[] = [];
    for (const input of inputs) {
      // A block's input carries the output it spends: no chain call (inside the block's
      // transaction); a mempool transaction's input is looked up.
      if (input.prevout) {
        if (input.prevout.address) payers.add(input.prevout.address);
        continue;
      }
      try {
        const address = await this.#payerAddress(input.txid, input.vout);
        if (address) payers.add(address);
      } catch (error) {
        const why = error instanceof AppError ? error.code : 'an unexpected error';
        unresolved.push({ txid: input.txid, vout: input.vout, why });
      }
    }
    return { payers, unresolved };
  }

  /** The gate's decision on a payment, once per payer address (null: no address to screen). */
  async #decidePayers(
    tx: Orm,
    row: InvoiceRow,
    payment: { txid: string; value: bigint },
    payers: readonly (string | null)[],
  ): Promise<InvoiceGateDecision[]> {
    const rate = await this.#rates.get(row.rateId, tx);
    const caller = systemCaller('trade.invoices');
    const now = this.#clock.now();
    // The contract's open amount (what is not settled yet; this invoice's share included) and
    // tolerance, in sats at the invoice's rate: a receipt beyond it is for an officer to review.
    const [contract] = await tx
      .select()
      .from(tradeContracts)
      .where(eq(tradeContracts.id, row.contractId));
    const settings = await loadSettings(tx, row.platformId);
    const total = contract ? contractTotal(contract) : 0n;
    const open = contract ? total - contract.settledAmount : 0n;
    const tolerance = (total * BigInt(settings.toleranceBps)) / 10_000n;
    const inSats = (amount: bigint) =>
      contract?.pricingMode === 'fixedBtc' || amount <= 0n
        ? amount
        : fiatToSats({ minor: amount, currency: parseCurrency(row.currency) }, rate.rate, 'down');
    const decisions: InvoiceGateDecision[] = [];
    for (const payer of payers) {
      const decision = await this.#gate.decide(tx, caller, {
        transferId: row.id,
        occurredAt: now,
        direction: 'inbound',
        platformId: row.platformId,
        companyId: row.companyId,
        counterpartyId: row.counterpartyId,
        contractId: row.contractId,
        address: payer,
        amountSats: payment.value,
        fiatMinor: fiatValue(payment.value, rate.rate),
        currency: row.currency,
        rate: formatRate(rate.rate),
        openAmountSats: inSats(open),
        toleranceSats: inSats(tolerance),
        travelRule: row.travelRule ?? null,
      });
      decisions.push({
        ...decision,
        subject: `payment:${payment.txid}`,
        payerAddress: payer,
        at: now.toISOString(),
        resolution: null,
      });
    }
    return decisions;
  }

  /** The review a failed payer lookup holds, with the inputs to try again. */
  #lookupFailed(
    payment: { txid: string; value: bigint },
    unresolved: readonly { txid: string; vout: number; why: string }[],
    attempts: number,
  ): InvoiceGateDecision {
    const now = this.#clock.now();
    const named = unresolved.map((u) => `${u.txid}:${u.vout} (${u.why})`).join(', ');
    return {
      outcome: 'review',
      reasons: [
        `CHECK_FAILED: the payer behind ${named} could not be looked up, so it was not screened; held for review and looked up again, never skipped`,
      ],
      decidedBy: LIFECYCLE_RULE,
      decisionId: null,
      subject: `payment:${payment.txid}`,
      payerAddress: null,
      at: now.toISOString(),
      resolution: null,
      lookup: {
        inputs: unresolved.map(({ txid, vout }) => ({ txid, vout })),
        valueSats: payment.value.toString(),
        attempts,
        nextAttemptAt: new Date(now.getTime() + lookupBackoffMs(attempts)).toISOString(),
      },
    };
  }

  /** Stores an invoice's decisions and their worst outcome, audited when the outcome moves. */
  async #writeDecisions(
    tx: Orm,
    row: InvoiceRow,
    decisions: InvoiceGateDecision[],
    action: string,
    detail: Record<string, unknown>,
  ): Promise<'allow' | 'review' | 'block'> {
    const gateOutcome = worstOf(decisions);
    await tx
      .update(tradeInvoices)
      .set({ gateDecisions: decisions, gateOutcome, updatedAt: this.#clock.now() })
      .where(eq(tradeInvoices.id, row.id));
    if (gateOutcome !== row.gateOutcome) {
      await recordAudit(tx, systemCaller('trade.invoices'), this.#clock, {
        action,
        entityType: 'invoice',
        entityId: row.id,
        before: { gateOutcome: row.gateOutcome },
        after: { gateOutcome, ...detail },
      });
    }
    return gateOutcome;
  }

  /**
   * Tries again the payer lookups that failed and are due: each payer found is screened (the
   * gate decides the payment again for it) and the held review is replaced by those decisions;
   * inputs still not found keep it, with the next attempt later. Lookups run outside any
   * transaction; the decisions are written in one per invoice, on the row as it then is.
   */
  async #retryLookups(
    tipHeight: number,
    waiting: readonly { id: string; gateDecisions: unknown }[],
  ): Promise<string[]> {
    const now = this.#clock.now();
    const retried: string[] = [];
    for (const invoice of waiting) {
      const due = decisionsOf(invoice.gateDecisions).filter(
        (d) => d.lookup && d.resolution === null && new Date(d.lookup.nextAttemptAt) <= now,
      );
      if (due.length === 0) continue;
      const found = new Map<string, LookupResult>();
      for (const d of due) found.set(d.subject, await this.#lookUpPayers(d.lookup!.inputs));
      const moved = await this.#db.transaction(async (tx) => {
        const [row] = await tx
          .select()
          .from(tradeInvoices)
          .where(eq(tradeInvoices.id, invoice.id))
          .for('update');
        if (!row) return false;
        const decisions: InvoiceGateDecision[] = [];
        const screened: string[] = [];
        for (const d of decisionsOf(row.gateDecisions)) {
          const result = d.lookup && d.resolution === null ? found.get(d.subject) : undefined;
          if (!d.lookup || !result) {
            decisions.push(d);
            continue;
          }
          const payment = {
            txid: d.subject.slice('payment:'.length),
            value: BigInt(d.lookup.valueSats),
          };
          const already = new Set(
            decisionsOf(row.gateDecisions)
              .filter((o) => o.subject === d.subject && o.payerAddress)
              .map((o) => o.payerAddress),
          );
          const payers = [...result.payers].filter((p) => !already.has(p));
          decisions.push(...(await this.#decidePayers(tx, row, payment, payers)));
          screened.push(...payers);
          if (result.unresolved.length > 0) {
            decisions.push(this.#lookupFailed(payment, result.unresolved, d.lookup.attempts + 1));
          }
        }
        const before = worstOf(decisionsOf(row.gateDecisions));
        const after = await this.#writeDecisions(tx, row, decisions, 'invoice.payerLookedUp', {
          payers: screened,
        });
        if (after !== before) await this.#evaluate(tx, row.id, tipHeight);
        return after !== before;
      });
      if (moved) retried.push(invoice.id);
    }
    return retried;
  }

  /** Recomputes an invoice's status from its payments at `tipHeight`, settling or un-settling. */
  async #evaluate(tx: Orm, id: string, tipHeight: number): Promise<void> {
    const [row] = await tx
      .select()
      .from(tradeInvoices)
      .where(eq(tradeInvoices.id, id))
      .for('update');
    if (!row) return;
    const settings = await loadSettings(tx, row.platformId);
    const payments = await tx
      .select()
      .from(tradeInvoicePayments)
      .where(eq(tradeInvoicePayments.invoiceId, id));
    const counted = payments.filter((p) =>
      p.blockHeight !== null
        ? settings.confirmations === 0 || tipHeight - p.blockHeight + 1 >= settings.confirmations
        : settings.confirmations === 0 && !p.signalsRbf,
    );
    const seen = payments.reduce((s, p) => s + p.valueSats, 0n);
    const confirmed = counted.reduce((s, p) => s + p.valueSats, 0n);
    const now = this.#clock.now();
    let status: InvoiceStatus;
    // A blocked invoice never settles (its coins stay out of the company's funds in the ledger);
    // one in review waits for the officer at processing at most. The late-payment window bounds
    // payments that never confirm, not the officer: a receipt confirmed in full and held for
    // review stays processing (and keeps its reservation on the contract) however long the
    // review takes.
    const awaitingOfficer = row.gateOutcome === 'review' && confirmed >= row.amountSats;
    if (row.gateOutcome === 'block') status = 'invalid';
    else if (confirmed >= row.amountSats && row.gateOutcome === 'allow') status = 'settled';
    else if (seen >= row.amountSats)
      status = now > row.watchUntil && !awaitingOfficer ? 'invalid' : 'processing';
    else status = now > row.expiresAt ? 'expired' : 'new';
    const patch = {
      seenSats: seen,
      confirmedSats: confirmed,
      paidPartial: seen > 0n && seen < row.amountSats,
      paidOver: seen > row.amountSats,
      paidLate: payments.some((p) => p.late),
    };
    // The table's move, if it has one (otherwise the status stays: see transitionInvoice).
    const from = row.status as InvoiceStatus;
    const next = status === from || invoiceAction(from, status) ? status : from;
    const changed =
      next !== row.status ||
      patch.seenSats !== row.seenSats ||
      patch.confirmedSats !== row.confirmedSats ||
      patch.paidPartial !== row.paidPartial ||
      patch.paidOver !== row.paidOver ||
      patch.paidLate !== row.paidLate;
    if (!changed) return;
    const caller = systemCaller('trade.invoices');
    let settlementId = row.settlementId;
    if (next === 'settled' && row.status !== 'settled') {
      settlementId = await this.#settle(tx, caller, row, counted);
    } else if (row.status === 'settled' && next !== 'settled' && row.settlementId) {
      await this.#unsettle(tx, caller, row);
      settlementId = null;
    }
    const before = { status: row.status, seenSats: row.seenSats, confirmedSats: row.confirmedSats };
    const after = { status: next, seenSats: seen, confirmedSats: confirmed };
    const action = await transitionInvoice(
      {
        clock: this.#clock,
        random: this.#random,
        payload: async (orm, invoiceId) => this.#payload(await this.#view(orm, invoiceId)),
      },
      tx,
      caller,
      row,
      next,
      { ...patch, settlementId },
      { before, after },
    );
    if (!action && seen !== row.seenSats) {
      await recordAudit(tx, caller, this.#clock, {
        action: 'invoice.paymentReceived',
        entityType: 'invoice',
        entityId: id,
        before,
        after,
      });
      await this.#event(tx, await this.#view(tx, id), 'invoice.paymentReceived');
    }
  }

  async #settle(
    tx: Orm,
    caller: Caller,
    row: InvoiceRow,
    counted: readonly (typeof tradeInvoicePayments.$inferSelect)[],
  ): Promise<string> {
    const rate = await this.#rates.get(row.rateId, tx);
    const received = counted.reduce((s, p) => s + p.valueSats, 0n);
    const ledgerId = await this.#ledger.post(tx, caller, {
      kind: 'invoice.settled',
      reference: row.id,
      platformId: row.platformId,
      rate: { id: rate.id, rate: rate.rate },
      memo: `invoice ${row.id} paid by ${row.counterpartyId}`,
      postings: [
        {
          account: {
            participantId: row.companyId,
            purpose: 'clientFunds',
            platformId: row.platformId,
          },
          amountSats: received,
        },
        {
          account: {
            participantId: row.counterpartyId,
            purpose: 'counterpartySettled',
            platformId: row.platformId,
          },
          amountSats: -received,
        },
      ],
      settles: counted.map((p) => ({ txid: p.txid, vout: p.vout })),
    });
    const now = this.#clock.now();
    const id = newId('settlement', now, this.#random);
    const last = counted[counted.length - 1];
    await tx.insert(tradeSettlements).values({
      id,
      kind: 'invoice',
      reference: row.id,
      platformId: row.platformId,
      companyId: row.companyId,
      contractId: row.contractId,
      rateId: row.rateId,
      amountSats: received,
      fiatMinor: fiatValue(received, rate.rate),
      currency: row.currency,
      txid: last?.txid ?? '',
      blockHash: last?.blockHash ?? null,
      ledgerTransactionId: ledgerId,
      createdAt: now,
    });
    await this.#contracts.applySettlement(tx, caller, row.contractId, row.contractAmount);
    return id;
  }

  async #unsettle(tx: Orm, caller: Caller, row: InvoiceRow): Promise<void> {
    const [settlement] = await tx
      .select()
      .from(tradeSettlements)
      .where(
        and(eq(tradeSettlements.id, row.settlementId ?? ''), isNull(tradeSettlements.reversedAt)),
      );
    if (!settlement) return;
    const reversal = await this.#ledger.reverse(
      tx,
      caller,
      settlement.ledgerTransactionId,
      `invoice ${row.id}: payment left the chain (reorg)`,
    );
    await tx
      .update(tradeSettlements)
      .set({ reversedAt: this.#clock.now(), reversalLedgerTransactionId: reversal })
      .where(eq(tradeSettlements.id, settlement.id));
    await this.#contracts.applySettlement(tx, caller, row.contractId, -row.contractAmount);
  }

  async #event(tx: Orm, view: InvoiceView, event: WebhookEvent): Promise<void> {
    const ports = { clock: this.#clock, random: this.#random };
    await enqueueWebhook(tx, ports, view.platformId, event, view.id, this.#payload(view));
  }

  /** An invoice's webhook payload. */
  #payload(view: InvoiceView): Record<string, unknown> {
    return {
      invoiceId: view.id,
      contractId: view.contractId,
      status: view.status,
      additionalStatus: view.additionalStatus,
      amountSats: view.amountSats,
      seenSats: view.seenSats,
      confirmedSats: view.confirmedSats,
    };
  }

  async #view(orm: Orm, id: string): Promise<InvoiceView> {
    const [row] = await orm.select().from(tradeInvoices).where(eq(tradeInvoices.id, id));
    if (!row) throw new AppError('INVOICE_NOT_FOUND', `no invoice ${id}`);
    const payments = await orm
      .select()
      .from(tradeInvoicePayments)
      .where(eq(tradeInvoicePayments.invoiceId, id));
    return this.#viewOf(row, payments);
  }

  #viewOf(
    row: InvoiceRow,
    payments: readonly (typeof tradeInvoicePayments.$inferSelect)[],
  ): InvoiceView {
    const additional: InvoiceSubStatus[] = [];
    if (row.paidPartial) additional.push('paidPartial');
    if (row.paidOver) additional.push('paidOver');
    if (row.paidLate) additional.push('paidLate');
    return {
      id: row.id,
      platformId: row.platformId,
      companyId: row.companyId,
      contractId: row.contractId,
      counterpartyId: row.counterpartyId,
      status: row.status as InvoiceStatus,
      additionalStatus: additional,
      address: row.address,
      amountSats: row.amountSats,
      amountBtc: formatBtc(row.amountSats),
      fiatMinor: row.fiatMinor,
      currency: row.currency,
      rateId: row.rateId,
      paymentUri: buildPaymentUri({
        address: row.address,
        amount: sats(row.amountSats),
        message: `Invoice ${row.id}`,
        network: this.#network,
      }),
      seenSats: row.seenSats,
      confirmedSats: row.confirmedSats,
      description: row.description,
      expiresAt: row.expiresAt,
      watchUntil: row.watchUntil,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
      settlementId: row.settlementId,
      payments: payments.map((p) => ({
        txid: p.txid,
        vout: p.vout,
        valueSats: p.valueSats,
        blockHash: p.blockHash,
        blockHeight: p.blockHeight,
        signalsRbf: p.signalsRbf,
        late: p.late,
      })),
      gateOutcome: worstOf(decisionsOf(row.gateDecisions)),
      gateDecisions: decisionsOf(row.gateDecisions),
      travelRule: row.travelRule ?? null,
    };
  }
}

import { and, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import type { Orm } from '../db';
import { fiatValue } from '../ledger';
import {
  AppError,
  currency as parseCurrency,
  fiatToSats,
  formatRate,
  systemCaller,
} from '../kernel';
import type { ChainBlock, MempoolTransaction } from './chain';
import { contractTotal } from './contracts';
import { LIFECYCLE_RULE } from './lifecycle';
import { evaluateInvoice, lockInvoiceContracts } from './invoice-settlement';
import {
  decisionsOf,
  lookupBackoffMs,
  signalsReplaceability,
  worstOf,
  type InvoiceDeps,
  type InvoiceGateDecision,
  type InvoiceRow,
  type LookupResult,
  type PayingInput,
} from './invoice-types';
import { tradeContracts, tradeInvoicePayments, tradeInvoices } from './schema';
import { loadSettings } from './settings';

/** A block connected: record payments to invoice addresses, then re-evaluate open invoices. */
export async function blockConnected(deps: InvoiceDeps, tx: Orm, block: ChainBlock): Promise<void> {
  const touched = await recordPayments(
    deps,
    tx,
    block.transactions,
    { hash: block.hash, height: block.height },
    () => false,
    // A block's inputs carry the outputs they spend: their payers are read, not looked up.
    (paying) => payersCarried(paying.inputs),
  );
  // Confirmations only change for invoices that have payments and are not final yet.
  const open = await tx
    .selectDistinct({ id: tradeInvoices.id })
    .from(tradeInvoices)
    .innerJoin(tradeInvoicePayments, eq(tradeInvoicePayments.invoiceId, tradeInvoices.id))
    .where(inArray(tradeInvoices.status, ['new', 'processing', 'expired']));
  for (const id of new Set([...touched, ...open.map((o) => o.id)]))
    await evaluateInvoice(deps, tx, id, block.height);
}

/** A block disconnected (reorg): its payments go back to unconfirmed; settlements may reverse. */
export async function blockDisconnected(
  deps: InvoiceDeps,
  tx: Orm,
  block: ChainBlock,
): Promise<void> {
  const affected = await tx
    .update(tradeInvoicePayments)
    .set({ blockHash: null, blockHeight: null })
    .where(eq(tradeInvoicePayments.blockHash, block.hash))
    .returning({ invoiceId: tradeInvoicePayments.invoiceId });
  for (const id of new Set(affected.map((a) => a.invoiceId)))
    await evaluateInvoice(deps, tx, id, block.height - 1);
}

/** A transaction seen in the mempool (not exactly-once; idempotent by txid and vout). */
export async function mempoolTransaction(
  deps: InvoiceDeps,
  wtx: MempoolTransaction,
  raw: Uint8Array | null,
  tipHeight: number,
): Promise<void> {
  const rbf = raw ? signalsReplaceability(raw) : true;
  const addresses = wtx.outputs.flatMap((o) => (o.address ? [o.address] : []));
  if (!(await paysAnInvoice(deps, addresses))) return;
  // A mempool transaction's inputs name only the outputs they spend: their payers are looked up
  // at the chain here, before the transaction opens, so no network call holds its locks (a
  // lookup that fails is kept as unresolved: the payment is held for review and tried again).
  const payers = await lookUpPayers(deps, wtx.inputs);
  await deps.db.transaction(async (tx) => {
    // The contracts first: the gate audits the payers before a settlement counts (lock order).
    await lockInvoiceContracts(tx, tradeInvoices.address, addresses);
    const touched = await recordPayments(
      deps,
      tx,
      [wtx],
      null,
      () => rbf,
      () => payers,
    );
    for (const id of touched) await evaluateInvoice(deps, tx, id, tipHeight);
  });
}

/** Whether any of `addresses` is an invoice's (read before any transaction opens). */
async function paysAnInvoice(deps: InvoiceDeps, addresses: readonly string[]): Promise<boolean> {
  if (addresses.length === 0) return false;
  const [hit] = await deps.db
    .current()
    .select({ id: tradeInvoices.id })
    .from(tradeInvoices)
    .where(inArray(tradeInvoices.address, [...new Set(addresses)]))
    .limit(1);
  return hit !== undefined;
}

/** Expires invoices past their window; ends the watch of those past their late-payment window. */
export async function expireDue(deps: InvoiceDeps, tipHeight: number): Promise<number> {
  const now = deps.clock.now();
  return deps.db.transaction(async (tx) => {
    const due = await tx
      .select({ id: tradeInvoices.id })
      .from(tradeInvoices)
      .where(
        or(
          and(eq(tradeInvoices.status, 'new'), lte(tradeInvoices.expiresAt, now)),
          and(eq(tradeInvoices.status, 'processing'), lte(tradeInvoices.watchUntil, now)),
        ),
      );
    await lockInvoiceContracts(
      tx,
      tradeInvoices.id,
      due.map((d) => d.id),
    );
    for (const { id } of due) await evaluateInvoice(deps, tx, id, tipHeight);
    return due.length;
  });
}

/**
 * Unconfirmed payments whose transaction left the mempool without confirming (replaced by a
 * double spend, evicted) are dropped, and their invoices re-evaluated: a 0-conf settlement they
 * carried is reversed. `isKnown` asks the chain source whether it still has the transaction.
 */
export async function dropVanishedPayments(
  deps: InvoiceDeps,
  isKnown: (txid: string) => Promise<boolean>,
  tipHeight: number,
): Promise<number> {
  const pending = await deps.db.orm
    .selectDistinct({ txid: tradeInvoicePayments.txid })
    .from(tradeInvoicePayments)
    .where(isNull(tradeInvoicePayments.blockHash));
  let dropped = 0;
  for (const { txid } of pending) {
    if (await isKnown(txid)) continue;
    await deps.db.transaction(async (tx) => {
      const paid = await tx
        .select({ id: tradeInvoicePayments.invoiceId })
        .from(tradeInvoicePayments)
        .where(eq(tradeInvoicePayments.txid, txid));
      await lockInvoiceContracts(
        tx,
        tradeInvoices.id,
        paid.map((p) => p.id),
      );
      const removed = await tx
        .delete(tradeInvoicePayments)
        .where(and(eq(tradeInvoicePayments.txid, txid), isNull(tradeInvoicePayments.blockHash)))
        .returning({ invoiceId: tradeInvoicePayments.invoiceId });
      for (const id of new Set(removed.map((r) => r.invoiceId))) {
        await deps.audit.record(systemCaller('trade.invoices'), {
          action: 'invoice.paymentVanished',
          entityType: 'invoice',
          entityId: id,
          after: { txid },
        });
        await evaluateInvoice(deps, tx, id, tipHeight);
      }
      dropped += removed.length;
    });
  }
  return dropped;
}

async function recordPayments(
  deps: InvoiceDeps,
  tx: Orm,
  transactions: readonly MempoolTransaction[],
  block: { hash: string; height: number } | null,
  rbf: (txid: string) => boolean,
  /** The payers behind a paying transaction, known before the transaction opened. */
  payersOf: (paying: MempoolTransaction) => LookupResult,
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
  const now = deps.clock.now();
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
    const paying = transactions.find((t) => t.txid === payment.txid);
    const payers = paying ? payersOf(paying) : { payers: new Set<string>(), unresolved: [] };
    await gatePayment(deps, tx, payment, payers);
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
async function gatePayment(
  deps: InvoiceDeps,
  tx: Orm,
  payment: { invoiceId: string; txid: string; value: bigint },
  { payers, unresolved }: LookupResult,
): Promise<void> {
  const [row] = await tx
    .select()
    .from(tradeInvoices)
    .where(eq(tradeInvoices.id, payment.invoiceId))
    .for('update');
  if (!row) return;
  const decisions = decisionsOf(row.gateDecisions);
  decisions.push(
    ...(await decidePayers(deps, tx, row, payment, payers.size > 0 ? [...payers] : [null])),
  );
  if (unresolved.length > 0) decisions.push(lookupFailed(deps, payment, unresolved, 1));
  await writeDecisions(deps, tx, row, decisions, 'invoice.gateDecided', {
    txid: payment.txid,
    payers: [...payers],
  });
}

/**
 * The payers a block's transaction names: each input carries the output it spends. An input
 * without it (a source that did not hand it) is unresolved, never a payer left out: fail closed.
 */
function payersCarried(inputs: readonly PayingInput[]): LookupResult {
  const payers = new Set<string>();
  const unresolved: { txid: string; vout: number; why: string }[] = [];
  for (const input of inputs) {
    if (!input.prevout) unresolved.push({ txid: input.txid, vout: input.vout, why: 'NO_PREVOUT' });
    else if (input.prevout.address) payers.add(input.prevout.address);
  }
  return { payers, unresolved };
}

/**
 * The payers behind a paying transaction's inputs, looked up at the chain where an input does
 * not carry its previous output; never inside a database transaction (the callers look up
 * first, then open it). Fail closed: an input whose previous output cannot be looked up is a
 * payer not screened; it is returned as unresolved (the payment is then held for review), never
 * judged as if that payer were not there.
 */
async function lookUpPayers(
  deps: InvoiceDeps,
  inputs: readonly PayingInput[],
): Promise<LookupResult> {
  const payers = new Set<string>();
  const unresolved: { txid: string; vout: number; why: string }[] = [];
  for (const input of inputs) {
    if (input.prevout) {
      if (input.prevout.address) payers.add(input.prevout.address);
      continue;
    }
    try {
      const address = await deps.payerAddress(input.txid, input.vout);
      if (address) payers.add(address);
    } catch (error) {
      const why = error instanceof AppError ? error.code : 'an unexpected error';
      unresolved.push({ txid: input.txid, vout: input.vout, why });
    }
  }
  return { payers, unresolved };
}

/** The gate's decision on a payment, once per payer address (null: no address to screen). */
async function decidePayers(
  deps: InvoiceDeps,
  tx: Orm,
  row: InvoiceRow,
  payment: { txid: string; value: bigint },
  payers: readonly (string | null)[],
): Promise<InvoiceGateDecision[]> {
  const rate = await deps.rates.get(row.rateId);
  const caller = systemCaller('trade.invoices');
  const now = deps.clock.now();
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
    const decision = await deps.gate.decide(caller, {
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
function lookupFailed(
  deps: InvoiceDeps,
  payment: { txid: string; value: bigint },
  unresolved: readonly { txid: string; vout: number; why: string }[],
  attempts: number,
): InvoiceGateDecision {
  const now = deps.clock.now();
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
async function writeDecisions(
  deps: InvoiceDeps,
  tx: Orm,
  row: InvoiceRow,
  decisions: InvoiceGateDecision[],
  action: string,
  detail: Record<string, unknown>,
): Promise<'allow' | 'review' | 'block'> {
  const gateOutcome = worstOf(decisions);
  await tx
    .update(tradeInvoices)
    .set({ gateDecisions: decisions, gateOutcome, updatedAt: deps.clock.now() })
    .where(eq(tradeInvoices.id, row.id));
  if (gateOutcome !== row.gateOutcome) {
    await deps.audit.record(systemCaller('trade.invoices'), {
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
export async function retryLookups(
  deps: InvoiceDeps,
  tipHeight: number,
  waiting: readonly { id: string; gateDecisions: unknown }[],
): Promise<string[]> {
  const now = deps.clock.now();
  const retried: string[] = [];
  for (const invoice of waiting) {
    const due = decisionsOf(invoice.gateDecisions).filter(
      (d) => d.lookup && d.resolution === null && new Date(d.lookup.nextAttemptAt) <= now,
    );
    if (due.length === 0) continue;
    const found = new Map<string, LookupResult>();
    for (const d of due) found.set(d.subject, await lookUpPayers(deps, d.lookup!.inputs));
    const moved = await deps.db.transaction(async (tx) => {
      await lockInvoiceContracts(tx, tradeInvoices.id, [invoice.id]);
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
        decisions.push(...(await decidePayers(deps, tx, row, payment, payers)));
        screened.push(...payers);
        if (result.unresolved.length > 0) {
          decisions.push(lookupFailed(deps, payment, result.unresolved, d.lookup.attempts + 1));
        }
      }
      const before = worstOf(decisionsOf(row.gateDecisions));
      const after = await writeDecisions(deps, tx, row, decisions, 'invoice.payerLookedUp', {
        payers: screened,
      });
      if (after !== before) await evaluateInvoice(deps, tx, row.id, tipHeight);
      return after !== before;
    });
    if (moved) retried.push(invoice.id);
  }
  return retried;
}

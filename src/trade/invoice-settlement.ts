import { and, eq, inArray, isNull } from 'drizzle-orm';
import type { Orm } from '../db';
import { fiatValue } from '../ledger';
import { newId, systemCaller, type Caller } from '../kernel';
import { lockContracts } from './contracts';
import { invoiceAction, transitionInvoice } from './lifecycle';
import { invoiceEvent, invoicePayload, invoiceView } from './invoice-views';
import type { InvoiceDeps, InvoiceRow, InvoiceStatus } from './invoice-types';
import { tradeInvoicePayments, tradeInvoices, tradeSettlements } from './schema';
import { loadSettings } from './settings';

/**
 * Locks the contracts of the invoices whose `column` (id or address) is among `values`, in id
 * order, before anything in `tx` is audited: the lock order of every writer is contract, then
 * wallet, then audit head (see lockContracts).
 */
export async function lockInvoiceContracts(
  tx: Orm,
  column: typeof tradeInvoices.id | typeof tradeInvoices.address,
  values: readonly string[],
): Promise<void> {
  if (values.length === 0) return;
  const rows = await tx
    .selectDistinct({ contractId: tradeInvoices.contractId })
    .from(tradeInvoices)
    .where(inArray(column, [...new Set(values)]));
  await lockContracts(
    tx,
    rows.map((r) => r.contractId),
  );
}

/** Recomputes an invoice's status from its payments at `tipHeight`, settling or un-settling. */
export async function evaluateInvoice(
  deps: InvoiceDeps,
  tx: Orm,
  id: string,
  tipHeight: number,
): Promise<void> {
  // A settlement counts against the contract: taken before the invoice (and any audit of it).
  await lockInvoiceContracts(tx, tradeInvoices.id, [id]);
  const [row] = await tx.select().from(tradeInvoices).where(eq(tradeInvoices.id, id)).for('update');
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
  const now = deps.clock.now();
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
    settlementId = await settleInvoice(deps, tx, caller, row, counted);
  } else if (row.status === 'settled' && next !== 'settled' && row.settlementId) {
    await unsettleInvoice(deps, tx, caller, row);
    settlementId = null;
  }
  const before = { status: row.status, seenSats: row.seenSats, confirmedSats: row.confirmedSats };
  const after = { status: next, seenSats: seen, confirmedSats: confirmed };
  const action = await transitionInvoice(
    {
      clock: deps.clock,
      audit: deps.audit,
      random: deps.random,
      payload: async (orm, invoiceId) =>
        invoicePayload(deps, await invoiceView(deps, orm, invoiceId)),
    },
    tx,
    caller,
    row,
    next,
    { ...patch, settlementId },
    { before, after },
  );
  if (!action && seen !== row.seenSats) {
    await deps.audit.record(caller, {
      action: 'invoice.paymentReceived',
      entityType: 'invoice',
      entityId: id,
      before,
      after,
    });
    await invoiceEvent(deps, tx, await invoiceView(deps, tx, id), 'invoice.paymentReceived');
  }
}

async function settleInvoice(
  deps: InvoiceDeps,
  tx: Orm,
  caller: Caller,
  row: InvoiceRow,
  counted: readonly (typeof tradeInvoicePayments.$inferSelect)[],
): Promise<string> {
  const rate = await deps.rates.get(row.rateId);
  const received = counted.reduce((s, p) => s + p.valueSats, 0n);
  const ledgerId = await deps.ledger.post(caller, {
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
  const now = deps.clock.now();
  const id = newId('settlement', now, deps.random);
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
  await deps.contracts.applySettlement(tx, caller, row.contractId, row.contractAmount);
  return id;
}

async function unsettleInvoice(
  deps: InvoiceDeps,
  tx: Orm,
  caller: Caller,
  row: InvoiceRow,
): Promise<void> {
  const [settlement] = await tx
    .select()
    .from(tradeSettlements)
    .where(
      and(eq(tradeSettlements.id, row.settlementId ?? ''), isNull(tradeSettlements.reversedAt)),
    );
  if (!settlement) return;
  const reversal = await deps.ledger.reverse(
    caller,
    settlement.ledgerTransactionId,
    `invoice ${row.id}: payment left the chain (reorg)`,
  );
  await tx
    .update(tradeSettlements)
    .set({ reversedAt: deps.clock.now(), reversalLedgerTransactionId: reversal })
    .where(eq(tradeSettlements.id, settlement.id));
  await deps.contracts.applySettlement(tx, caller, row.contractId, -row.contractAmount);
}

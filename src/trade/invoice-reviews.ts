import { eq } from 'drizzle-orm';
import type { Orm } from '../db';
import { systemCaller } from '../kernel';
import { evaluateInvoice, lockInvoiceContracts } from './invoice-settlement';
import { retryLookups } from './invoice-receipts';
import { decisionsOf, worstOf, type InvoiceDeps, type InvoiceGateDecision } from './invoice-types';
import { tradeInvoices } from './schema';

/**
 * Invoices whose gate decisions were sent to review: payer lookups that failed are tried again
 * when due, and reviews an officer resolved take their resolution; the gate outcome is then
 * recomputed and the invoice re-evaluated (an allowed one may settle now, a blocked one turns
 * invalid). Run from tick.
 */
export async function applyInvoiceReviews(deps: InvoiceDeps, tipHeight: number): Promise<string[]> {
  const waiting = await deps.db.orm
    .select({ id: tradeInvoices.id, gateDecisions: tradeInvoices.gateDecisions })
    .from(tradeInvoices)
    .where(eq(tradeInvoices.gateOutcome, 'review'));
  const changed = await retryLookups(deps, tipHeight, waiting);
  // Only invoices with a compliance review still open can have been resolved by an officer.
  const inReview = waiting.filter((i) =>
    decisionsOf(i.gateDecisions).some(
      (d) => d.outcome === 'review' && d.resolution === null && d.decisionId,
    ),
  );
  for (const { id } of inReview) {
    if (await deps.db.transaction((tx) => applyInvoiceReview(deps, tx, id, tipHeight)))
      changed.push(id);
  }
  return changed;
}

/**
 * Carries officers' resolutions of an invoice's decisions in review, inside `tx`, and
 * re-evaluates it (an allowed one may settle now, a blocked one turns invalid). False when
 * none of its reviews is resolved yet.
 */
export async function applyInvoiceReview(
  deps: InvoiceDeps,
  tx: Orm,
  id: string,
  tipHeight: number,
): Promise<boolean> {
  await lockInvoiceContracts(tx, tradeInvoices.id, [id]);
  const [row] = await tx.select().from(tradeInvoices).where(eq(tradeInvoices.id, id)).for('update');
  if (!row) return false;
  let resolved = false;
  const decisions: InvoiceGateDecision[] = [];
  for (const d of decisionsOf(row.gateDecisions)) {
    if (d.outcome === 'review' && d.resolution === null && d.decisionId) {
      const resolution = await deps.gate.resolution(d.decisionId);
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
    .set({ gateDecisions: decisions, gateOutcome, updatedAt: deps.clock.now() })
    .where(eq(tradeInvoices.id, id));
  await deps.audit.record(systemCaller('trade.reviews'), {
    action: 'invoice.reviewResolved',
    entityType: 'invoice',
    entityId: id,
    before: { gateOutcome: row.gateOutcome },
    after: { gateOutcome },
  });
  await evaluateInvoice(deps, tx, id, tipHeight);
  return true;
}

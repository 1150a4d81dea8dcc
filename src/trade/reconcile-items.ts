import type { InvoiceGateDecision } from './invoices';
import type { BatchFacts, LagEvidence, Payment, PayoutFacts, Tracked } from './reconcile-facts';
import { outpoint } from './reconcile-facts';
import type { ReconcileItem } from './reconcile-types';

/** The items of a reconciliation line, each a share of the difference (chain − ledger). */
/** An invoice payment the wallet holds (or held) that the ledger has not credited: why. */
export function receiptItem(
  p: Payment,
  row: Tracked,
  cursorHeight: number,
  required: number,
): ReconcileItem {
  const invoice = p.invoice;
  const confirmations = Math.max(0, cursorHeight - row.blockHeight + 1);
  const base = {
    invoiceId: invoice.id,
    outpoints: [p.outpoint],
    height: row.blockHeight,
    confirmations,
    requiredConfirmations: required,
  };
  const decisions = Array.isArray(invoice.gateDecisions)
    ? (invoice.gateDecisions as InvoiceGateDecision[])
    : [];
  if (invoice.gateOutcome === 'block') {
    return {
      category: 'blockedReceipt',
      sats: row.valueSats,
      note: `invoice ${invoice.id} was refused by the compliance checks: its coins are never credited to the company`,
      references: base,
    };
  }
  const open = decisions.find((d) => d.outcome === 'review' && d.resolution === null);
  if (invoice.gateOutcome === 'review' && open) {
    return {
      category: 'reviewHeldReceipt',
      sats: row.valueSats,
      note: open.decisionId
        ? `invoice ${invoice.id} is held for compliance review (decision ${open.decisionId}); it settles when an officer allows it`
        : `invoice ${invoice.id} is held for review: a payer could not be looked up yet (retried)`,
      references: { ...base, ...(open.decisionId ? { decisionId: open.decisionId } : {}) },
    };
  }
  let note: string;
  if (confirmations < required)
    note = `invoice ${invoice.id}: ${confirmations} of the ${required} confirmations settlement needs`;
  else if (invoice.status === 'settled')
    note = `invoice ${invoice.id} was paid again after it settled: recorded, not credited`;
  else if (invoice.seenSats < invoice.amountSats)
    note = `invoice ${invoice.id} is paid in part (${invoice.seenSats} of ${invoice.amountSats} sats): not settled`;
  else if (invoice.status === 'expired' || invoice.status === 'invalid')
    note = `invoice ${invoice.id} (${invoice.status}) was paid after its window: recorded, not credited`;
  else note = `invoice ${invoice.id} is confirmed and not settled yet`;
  return { category: 'unsettledConfirmation', sats: row.valueSats, note, references: base };
}

/**
 * A batch's share of one company's difference: its change less the inputs it spent (as tracked),
 * plus what the ledger took out at completion. In transit and not in a block: nothing (the inputs
 * are still unspent); in a block below the completion depth: −(payouts + fees); completed: nothing.
 */
export function batchItems(
  batch: BatchFacts,
  payouts: readonly PayoutFacts[],
  coins: { spent: readonly Tracked[]; change: readonly Tracked[] },
  reserved: readonly Tracked[],
  cursorHeight: number,
  required: number,
): ReconcileItem[] {
  const sum = (rows: readonly Tracked[]) => rows.reduce((s, r) => s + r.valueSats, 0n);
  const inTransit = payouts.filter((p) => p.status === 'inProgress');
  const inTransitSats = inTransit.reduce((s, p) => s + p.outgoing, 0n);
  const completedSats = payouts
    .filter((p) => p.status === 'completed')
    .reduce((s, p) => s + p.outgoing, 0n);
  const share = sum(coins.change) - sum(coins.spent) + completedSats;
  const mined = coins.spent.length > 0 || coins.change.length > 0;
  const txid = batch.confirmedTxid ?? batch.txid ?? undefined;
  const references = {
    batchId: batch.id,
    payoutIds: payouts.map((p) => p.id),
    ...(txid ? { txid } : {}),
  };
  const items: ReconcileItem[] = [];
  let expected = 0n;
  if (inTransit.length > 0) {
    const depth = Math.max(1, required);
    if (mined && batch.confirmedHeight !== null) {
      expected = -inTransitSats;
      const confirmations = Math.max(0, cursorHeight - batch.confirmedHeight + 1);
      items.push({
        category: 'inTransitBatch',
        sats: expected,
        note: `batch ${batch.id} is in block ${batch.confirmedHeight} (${confirmations} of ${depth} confirmations): its inputs are spent and its change back, the ledger keeps ${inTransitSats} sats in transit until it completes`,
        references: {
          ...references,
          outpoints: [...coins.spent, ...coins.change].map((r) => outpoint(r.txid, r.vout)),
          height: batch.confirmedHeight,
          confirmations,
          requiredConfirmations: depth,
        },
      });
    } else {
      items.push({
        category: 'inTransitBatch',
        sats: 0n,
        note: `batch ${batch.id} (${batch.status}) is not in a block: ${inTransitSats} sats in transit in the ledger, its inputs (${sum(reserved)} sats) still unspent on chain`,
        references: {
          ...references,
          outpoints: reserved.map((r) => outpoint(r.txid, r.vout)),
        },
      });
    }
  }
  if (share !== expected) {
    items.push({
      category: 'unexplained',
      sats: share - expected,
      note: `batch ${batch.id}: the coins it spent and returned differ from its payouts and fees in the ledger`,
      references: {
        ...references,
        outpoints: [...coins.spent, ...coins.change].map((r) => outpoint(r.txid, r.vout)),
      },
    });
  }
  return items;
}

/**
 * The chain's unspent coins against the tracked ones: coins created or spent in blocks above the
 * cursor are watcher lag; any other difference is unexplained.
 */
export function lagItems(input: {
  onChain: ReadonlyMap<string, { valueSats: bigint; height?: number; txid: string }>;
  unspent: ReadonlyMap<string, Tracked>;
  trackedByOutpoint: ReadonlyMap<string, Tracked>;
  lag: LagEvidence | null;
  cursorHeight: number;
  batchByTxid: ReadonlyMap<string, BatchFacts>;
  payments: ReadonlyMap<string, Payment>;
}): ReconcileItem[] {
  const { onChain, unspent, trackedByOutpoint, lag, cursorHeight, batchByTxid, payments } = input;
  const items: ReconcileItem[] = [];
  const unread =
    lag && lag.through < lag.tip
      ? ` (the watcher is ${lag.tip - cursorHeight} blocks behind; blocks above ${lag.through} were not read)`
      : '';
  /** What a coin or spend above the cursor is, when trade knows it already (mempool, batches). */
  const what = (txid: string, op?: string) => {
    const batch = batchByTxid.get(txid);
    if (batch) return { text: ` (batch ${batch.id})`, refs: { batchId: batch.id } };
    const invoiceId = op ? payments.get(op)?.invoice.id : undefined;
    if (invoiceId) return { text: ` (a payment of invoice ${invoiceId})`, refs: { invoiceId } };
    return { text: '', refs: {} };
  };
  for (const [op, coin] of onChain) {
    if (unspent.has(op)) continue;
    const tracked = trackedByOutpoint.get(op);
    const created = lag?.created.get(op);
    const height = created?.height ?? coin.height;
    if (!tracked && (created || (!lag && height !== undefined && height > cursorHeight))) {
      const w = what(coin.txid, op);
      items.push({
        category: 'watcherLag',
        sats: coin.valueSats,
        note: `a coin in block ${height}${w.text}, above the watcher's cursor (${cursorHeight}): not processed yet`,
        references: {
          outpoints: [op],
          txid: coin.txid,
          ...(height !== undefined ? { height } : {}),
          ...w.refs,
        },
      });
    } else {
      items.push({
        category: 'unexplained',
        sats: coin.valueSats,
        note: tracked
          ? `unspent on the chain, but spent by ${tracked.spentByTxid} as the watcher tracked it`
          : `a coin on the chain${height !== undefined ? ` in block ${height}` : ''} that the watcher did not track${unread}`,
        references: {
          outpoints: [op],
          txid: coin.txid,
          ...(height !== undefined ? { height } : {}),
        },
      });
    }
  }
  for (const [op, row] of unspent) {
    if (onChain.has(op)) continue;
    const spent = lag?.spent.get(op);
    if (spent) {
      const w = what(spent.txid);
      items.push({
        category: 'watcherLag',
        sats: -row.valueSats,
        note: `a coin spent by ${spent.txid}${w.text} in block ${spent.height}, above the watcher's cursor (${cursorHeight}): not processed yet`,
        references: { outpoints: [op], txid: spent.txid, height: spent.height, ...w.refs },
      });
    } else {
      items.push({
        category: 'unexplained',
        sats: -row.valueSats,
        note: `tracked as unspent, but not in the chain's UTXO set${unread}`,
        references: { outpoints: [op], txid: row.txid, height: row.blockHeight },
      });
    }
  }
  return items;
}

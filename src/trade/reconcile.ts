import { and, inArray } from 'drizzle-orm';
import { watcherCursor, type ChainTip } from '../chain';
import { MAX_PAGE_SIZE, scopeTo, type PageRequest } from '../db';
import { groupBy, type Caller } from '../kernel';
import {
  companyPage,
  loadBatches,
  loadPayments,
  loadUnknownEntries,
  onActiveChain,
  outpoint,
  readLag,
  WALLET_PURPOSES,
  type LagEvidence,
  type PayoutFacts,
  type ReconcilePorts,
  type Tracked,
} from './reconcile-facts';
import { batchItems, lagItems, receiptItem } from './reconcile-items';
import {
  RECONCILE_CATEGORIES,
  type ReconcileCategory,
  type ReconcileItem,
  type ReconcileLine,
  type ReconcilePage,
  type ReconcileReport,
  type ReconcileSources,
  type ReconcileTotals,
  type ReconcileView,
  type UtxoSource,
} from './reconcile-types';
import { tradeWalletUtxos } from './schema';
import { loadSettingsOf } from './settings';

export { MAX_LAG_BLOCKS, type ReconcilePorts } from './reconcile-facts';

/** What every page of one reconciliation shares: the chain's view and the blocks above the cursor. */
interface Comparison extends ReconcileView {
  readonly utxos: UtxoSource | null;
  readonly cursorHeight: number | null;
  readonly lag: LagEvidence | null;
}

async function comparisonOf(ports: ReconcilePorts, sources: ReconcileSources): Promise<Comparison> {
  const chain = sources.chain === undefined ? ports.chain : sources.chain;
  const cursor: ChainTip | null =
    sources.cursor === undefined ? await watcherCursor(ports.orm) : sources.cursor;
  const cursorHeight = cursor?.height ?? -1;
  const tip = chain ? await chain.getTip() : null;
  // The chain's own view, and the blocks above the cursor that explain part of it.
  const lag =
    sources.utxos &&
    chain &&
    tip &&
    tip.height > cursorHeight &&
    (await onActiveChain(chain, cursor))
      ? await readLag(ports, chain, cursorHeight, tip.height)
      : null;
  return {
    view: sources.utxos ? 'chain' : 'tracked',
    tipHeight: tip?.height ?? null,
    cursorHeight: cursor?.height ?? null,
    utxos: sources.utxos ?? null,
    lag,
  };
}

/**
 * Ledger against chain, per company: clientFunds + inTransit against the wallet's unspent coins,
 * the difference explained item by item (docs/architecture.md, "Reconciliation"). Compared with
 * the chain's own UTXO set when `sources.utxos` is given, else with the coins trade tracked.
 * Every company's line, page after page, with the totals over all of them (the CLI's report).
 */
export async function reconcile(
  ports: ReconcilePorts,
  caller: Caller,
  sources: ReconcileSources,
): Promise<ReconcileReport> {
  const comparison = await comparisonOf(ports, sources);
  const lines: ReconcileLine[] = [];
  let cursor: string | null = null;
  do {
    const page = await companyPage(ports.ledger, ports.orm, caller, {
      limit: MAX_PAGE_SIZE,
      cursor,
    });
    lines.push(...(await linesOf(ports, caller, comparison, page.items)));
    cursor = page.nextCursor;
  } while (cursor);
  return {
    ...viewOf(comparison),
    lines,
    ...totalsOf(lines, await ports.ledger.trialBalance()),
  };
}

/**
 * A page of the reconciliation's lines, by company id (what the API serves): the page's
 * companies read by keyset, and every fact about them in a fixed number of queries whatever the
 * page's size. The totals are the page's lines' (the trial balance the whole ledger's).
 */
export async function reconcilePage(
  ports: ReconcilePorts,
  caller: Caller,
  sources: ReconcileSources,
  request: PageRequest,
): Promise<ReconcilePage> {
  const page = await companyPage(ports.ledger, ports.orm, caller, request);
  const comparison = await comparisonOf(ports, sources);
  const items = await linesOf(ports, caller, comparison, page.items);
  return {
    ...viewOf(comparison),
    items,
    nextCursor: page.nextCursor,
    ...totalsOf(items, await ports.ledger.trialBalance()),
  };
}

const viewOf = (c: Comparison): ReconcileView => ({
  view: c.view,
  tipHeight: c.tipHeight,
  cursorHeight: c.cursorHeight,
});

/** The lines of the given companies (ids ascending), each read in bulk for all of them. */
async function linesOf(
  ports: ReconcilePorts,
  caller: Caller,
  comparison: Comparison,
  companyIds: readonly string[],
): Promise<ReconcileLine[]> {
  if (companyIds.length === 0) return [];
  const { orm, ledger } = ports;
  const { utxos, lag } = comparison;
  const cursorHeight = comparison.cursorHeight ?? -1;

  // ---- the ledger: clientFunds and inTransit per company.
  const ledgerByCompany = new Map<
    string,
    { platformId: string; clientFunds: bigint; inTransit: bigint }
  >();
  for (const b of await ledger.balances(caller, {
    participantIds: companyIds,
    purposes: WALLET_PURPOSES,
  })) {
    if (b.purpose !== 'clientFunds' && b.purpose !== 'inTransit') continue;
    const entry = ledgerByCompany.get(b.participantId) ?? {
      platformId: b.platformId ?? '',
      clientFunds: 0n,
      inTransit: 0n,
    };
    entry[b.purpose] += b.balanceSats;
    ledgerByCompany.set(b.participantId, entry);
  }

  // ---- what trade knows: tracked coins, invoice payments, payouts in batches.
  const trackedRows = await orm
    .select()
    .from(tradeWalletUtxos)
    .where(
      and(
        inArray(tradeWalletUtxos.companyId, [...companyIds]),
        scopeTo(caller, {
          participant: tradeWalletUtxos.companyId,
          platform: tradeWalletUtxos.platformId,
        }),
      ),
    );
  const trackedByOutpoint = new Map(trackedRows.map((r) => [outpoint(r.txid, r.vout), r]));
  const trackedOf = groupBy(trackedRows, (r) => r.companyId);
  const payments = await loadPayments(ledger, orm, caller, companyIds);
  const paymentsOf = groupBy(payments.values(), (p) => p.invoice.companyId);
  // Coins the market delivered to an importer's wallet, credited to its client funds.
  const delivered = await ledger.settledBy('market.delivery', trackedRows);
  const { payouts, batches, batchByTxid } = await loadBatches(orm, caller, companyIds);
  const payoutsOf = groupBy<PayoutFacts, string>(payouts, (p) => p.companyId);

  const companies = new Map<string, string>();
  for (const [id, e] of ledgerByCompany) companies.set(id, e.platformId);
  for (const t of trackedRows) companies.set(t.companyId, t.platformId);
  const visible = companyIds
    .filter((id) => companies.has(id))
    .map((id) => [id, companies.get(id) ?? ''] as const);
  const unknownEntries = await loadUnknownEntries(
    ledger,
    orm,
    visible.map(([id]) => id),
  );
  const unknownOf = groupBy(unknownEntries, (e) => e.companyId);
  const settingsOf = await loadSettingsOf(orm, [...new Set(visible.map(([, p]) => p))]);
  const addressesOf = utxos
    ? await ports.wallets.walletAddressesOfCompanies(visible.map(([id]) => id))
    : new Map<string, readonly string[]>();

  const lines: ReconcileLine[] = [];
  for (const [companyId, platformId] of visible) {
    const items: ReconcileItem[] = [];
    const rows = trackedOf.get(companyId) ?? [];
    const unspent = new Map(
      rows.filter((r) => r.spentByTxid === null).map((r) => [outpoint(r.txid, r.vout), r]),
    );
    const trackedSats = [...unspent.values()].reduce((s, r) => s + r.valueSats, 0n);
    const required = settingsOf.get(platformId)?.confirmations ?? 0;

    // The chain's UTXO set against the tracked coins: what the watcher has not processed yet.
    let chainSats: bigint | null = null;
    if (utxos) {
      chainSats = 0n;
      const onChain = new Map<string, { valueSats: bigint; height?: number; txid: string }>();
      for (const address of addressesOf.get(companyId) ?? [])
        for (const u of await utxos.unspent(address)) {
          onChain.set(outpoint(u.txid, u.vout), {
            valueSats: u.valueSats,
            txid: u.txid,
            ...(u.height !== undefined ? { height: u.height } : {}),
          });
          chainSats += u.valueSats;
        }
      items.push(
        ...lagItems({
          onChain,
          unspent,
          trackedByOutpoint,
          lag,
          cursorHeight,
          batchByTxid,
          payments,
        }),
      );
    }

    // The tracked coins against the ledger: receipts not credited, batches in transit, strays.
    const buckets = new Map<string, { spent: Tracked[]; change: Tracked[] }>();
    const bucket = (batchId: string) => {
      let b = buckets.get(batchId);
      if (!b) buckets.set(batchId, (b = { spent: [], change: [] }));
      return b;
    };
    for (const r of rows) {
      const op = outpoint(r.txid, r.vout);
      const payment = payments.get(op);
      const changeOf = batchByTxid.get(r.txid);
      if (payment) {
        if (!payment.credited) items.push(receiptItem(payment, r, cursorHeight, required));
      } else if (changeOf) {
        bucket(changeOf.id).change.push(r);
      } else if (!delivered.has(op)) {
        items.push({
          category: 'unexplained',
          sats: r.valueSats,
          note: `a coin to the company's wallet (${r.address}) that is neither an invoice payment nor a payout batch's change`,
          references: { outpoints: [op], txid: r.txid, height: r.blockHeight },
        });
      }
      if (r.spentByTxid !== null) {
        const spender = batchByTxid.get(r.spentByTxid);
        if (spender) bucket(spender.id).spent.push(r);
        else
          items.push({
            category: 'unexplained',
            sats: -r.valueSats,
            note: `a wallet coin spent by ${r.spentByTxid}, which is no payout batch`,
            references: { outpoints: [op], txid: r.spentByTxid },
          });
      }
    }
    for (const p of paymentsOf.get(companyId) ?? []) {
      if (!p.credited || trackedByOutpoint.has(p.outpoint)) continue;
      items.push(
        p.blockHeight === null
          ? {
              category: 'unconfirmedSettlement',
              sats: -p.valueSats,
              note: `invoice ${p.invoice.id} settled at zero confirmations; its payment is not in a block yet`,
              references: { invoiceId: p.invoice.id, outpoints: [p.outpoint] },
            }
          : {
              category: 'unexplained',
              sats: -p.valueSats,
              note: `invoice ${p.invoice.id} credited a coin the wallet's tracked coins do not hold`,
              references: {
                invoiceId: p.invoice.id,
                outpoints: [p.outpoint],
                height: p.blockHeight,
              },
            },
      );
    }
    const own = payoutsOf.get(companyId) ?? [];
    const batchIds = new Set([...buckets.keys(), ...own.map((p) => p.batchId)]);
    for (const batchId of [...batchIds].sort()) {
      const batch = batches.get(batchId);
      if (!batch) continue;
      items.push(
        ...batchItems(
          batch,
          own.filter((p) => p.batchId === batchId),
          buckets.get(batchId) ?? { spent: [], change: [] },
          rows.filter((r) => r.reservedByBatch === batchId && r.spentByTxid === null),
          cursorHeight,
          required,
        ),
      );
    }

    // What is left is the ledger's: entries trade did not post, or amounts no coin accounts for.
    const balance = ledgerByCompany.get(companyId) ?? { clientFunds: 0n, inTransit: 0n };
    const ledgerSats = balance.clientFunds + balance.inTransit;
    const differenceSats = (chainSats ?? trackedSats) - ledgerSats;
    const remainder = differenceSats - items.reduce((s, i) => s + i.sats, 0n);
    const strangers = unknownOf.get(companyId) ?? [];
    if (remainder !== 0n || strangers.length > 0) {
      items.push({
        category: 'unexplained',
        sats: remainder,
        note:
          strangers.length > 0
            ? `ledger entries no invoice or payout posted: ${strangers.map((e) => `${e.id} (${e.kind}, ${e.reference}, ${e.sats} sats)`).join(', ')}`
            : 'a difference in the ledger that no coin, invoice or payout accounts for',
        references:
          strangers.length > 0 ? { ledgerTransactionIds: strangers.map((e) => e.id) } : {},
      });
    }
    const explainedSats = items
      .filter((i) => i.category !== 'unexplained')
      .reduce((s, i) => s + i.sats, 0n);
    lines.push({
      companyId,
      platformId,
      clientFundsSats: balance.clientFunds,
      inTransitSats: balance.inTransit,
      ledgerSats,
      trackedSats,
      chainSats,
      differenceSats,
      items: items.sort(
        (a, b) =>
          RECONCILE_CATEGORIES.indexOf(a.category) - RECONCILE_CATEGORIES.indexOf(b.category),
      ),
      explainedSats,
      unexplainedSats: differenceSats - explainedSats,
      explained: !items.some((i) => i.category === 'unexplained'),
    });
  }

  return lines;
}

/** The totals over some lines, and the verdict: every difference explained, the trial balance zero. */
function totalsOf(lines: readonly ReconcileLine[], trialBalanceSats: bigint): ReconcileTotals {
  const byCategory = Object.fromEntries(RECONCILE_CATEGORIES.map((c) => [c, 0n])) as Record<
    ReconcileCategory,
    bigint
  >;
  for (const l of lines) for (const i of l.items) byCategory[i.category] += i.sats;
  const abs = (n: bigint) => (n < 0n ? -n : n);
  return {
    totalDifferenceSats: lines.reduce((s, l) => s + abs(l.differenceSats), 0n),
    unexplainedSats: lines.reduce(
      (s, l) =>
        s +
        l.items.filter((i) => i.category === 'unexplained').reduce((t, i) => t + abs(i.sats), 0n),
      0n,
    ),
    byCategory,
    trialBalanceSats,
    reconciled: trialBalanceSats === 0n && lines.every((l) => l.explained),
  };
}

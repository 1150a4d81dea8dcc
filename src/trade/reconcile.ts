import { watcherCursor } from '../chain';
import { scopeTo } from '../db';
import { seesEverything, type Caller } from '../kernel';
import {
  loadBatches,
  loadPayments,
  loadUnknownEntries,
  onActiveChain,
  outpoint,
  readLag,
  type ReconcilePorts,
  type Tracked,
} from './reconcile-facts';
import { batchItems, lagItems, receiptItem } from './reconcile-items';
import {
  RECONCILE_CATEGORIES,
  type ReconcileCategory,
  type ReconcileItem,
  type ReconcileLine,
  type ReconcileReport,
  type ReconcileSources,
} from './reconcile-types';
import { tradeWalletUtxos } from './schema';
import { loadSettings } from './settings';

export { MAX_LAG_BLOCKS, type ReconcilePorts } from './reconcile-facts';

/**
 * Ledger against chain, per company: clientFunds + inTransit against the wallet's unspent coins,
 * the difference explained item by item (docs/architecture.md, "Reconciliation"). Compared with
 * the chain's own UTXO set when `sources.utxos` is given, else with the coins trade tracked.
 */
export async function reconcile(
  ports: ReconcilePorts,
  caller: Caller,
  sources: ReconcileSources,
): Promise<ReconcileReport> {
  const { orm, ledger } = ports;
  const chain = sources.chain === undefined ? ports.chain : sources.chain;
  const cursor = sources.cursor === undefined ? await watcherCursor(orm) : sources.cursor;
  const cursorHeight = cursor?.height ?? -1;
  const tip = chain ? await chain.getTip() : null;

  // ---- the ledger: clientFunds and inTransit per company.
  const ledgerByCompany = new Map<
    string,
    { platformId: string; clientFunds: bigint; inTransit: bigint }
  >();
  for (const b of await ledger.balances(caller, {})) {
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
      scopeTo(caller, {
        participant: tradeWalletUtxos.companyId,
        platform: tradeWalletUtxos.platformId,
      }),
    );
  const trackedByOutpoint = new Map(trackedRows.map((r) => [outpoint(r.txid, r.vout), r]));
  const payments = await loadPayments(ledger, orm, caller);
  // Coins the market delivered to an importer's wallet, credited to its client funds.
  const delivered = await ledger.settledBy('market.delivery', trackedRows);
  const { payouts, batches, batchByTxid } = await loadBatches(orm, caller);

  const companies = new Map<string, string>();
  for (const [id, e] of ledgerByCompany) companies.set(id, e.platformId);
  for (const t of trackedRows) companies.set(t.companyId, t.platformId);
  const visible = [...companies]
    .filter(
      ([companyId, platformId]) =>
        seesEverything(caller) ||
        caller.participantId === platformId ||
        caller.participantId === companyId,
    )
    .sort(([a], [b]) => a.localeCompare(b));
  const unknownEntries = await loadUnknownEntries(
    ledger,
    orm,
    visible.map(([id]) => id),
  );
  const confirmationsOf = new Map<string, number>();
  for (const platformId of new Set(visible.map(([, p]) => p)))
    confirmationsOf.set(platformId, (await loadSettings(orm, platformId)).confirmations);

  // ---- the chain's own view, and the blocks above the cursor that explain part of it.
  const lag =
    sources.utxos &&
    chain &&
    tip &&
    tip.height > cursorHeight &&
    (await onActiveChain(chain, cursor))
      ? await readLag(ports, chain, cursorHeight, tip.height)
      : null;

  const lines: ReconcileLine[] = [];
  for (const [companyId, platformId] of visible) {
    const items: ReconcileItem[] = [];
    const rows = trackedRows.filter((r) => r.companyId === companyId);
    const unspent = new Map(
      rows.filter((r) => r.spentByTxid === null).map((r) => [outpoint(r.txid, r.vout), r]),
    );
    const trackedSats = [...unspent.values()].reduce((s, r) => s + r.valueSats, 0n);
    const required = confirmationsOf.get(platformId) ?? 0;

    // The chain's UTXO set against the tracked coins: what the watcher has not processed yet.
    let chainSats: bigint | null = null;
    if (sources.utxos) {
      chainSats = 0n;
      const onChain = new Map<string, { valueSats: bigint; height?: number; txid: string }>();
      for (const address of await ports.wallets.walletAddressesOf(companyId))
        for (const u of await sources.utxos.unspent(address)) {
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
    for (const p of payments.values()) {
      if (p.invoice.companyId !== companyId || !p.credited || trackedByOutpoint.has(p.outpoint))
        continue;
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
    const batchIds = new Set([
      ...buckets.keys(),
      ...payouts.filter((p) => p.companyId === companyId).map((p) => p.batchId),
    ]);
    for (const batchId of [...batchIds].sort()) {
      const batch = batches.get(batchId);
      if (!batch) continue;
      items.push(
        ...batchItems(
          batch,
          payouts.filter((p) => p.companyId === companyId && p.batchId === batchId),
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
    const strangers = unknownEntries.filter((e) => e.companyId === companyId);
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

  const byCategory = Object.fromEntries(RECONCILE_CATEGORIES.map((c) => [c, 0n])) as Record<
    ReconcileCategory,
    bigint
  >;
  for (const l of lines) for (const i of l.items) byCategory[i.category] += i.sats;
  const abs = (n: bigint) => (n < 0n ? -n : n);
  const trialBalanceSats = await ledger.trialBalance();
  return {
    view: sources.utxos ? 'chain' : 'tracked',
    tipHeight: tip?.height ?? null,
    cursorHeight: cursor?.height ?? null,
    lines,
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

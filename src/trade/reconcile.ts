import { and, eq, inArray, isNotNull, isNull, notInArray, or } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { decodeWatchedBlock, watcherCursor, type ChainSource, type ChainTip } from '../chain';
import { scopeTo, type Orm } from '../db';
import { seesEverything, type Caller, type NetworkName } from '../kernel';
import {
  ledgerAccounts,
  ledgerPostings,
  ledgerSettledOutputs,
  ledgerTransactions,
  type LedgerService,
} from '../ledger';
import type { InvoiceGateDecision } from './invoices';
import type { CompanyWallets } from './ports';
import {
  RECONCILE_CATEGORIES,
  type ReconcileCategory,
  type ReconcileItem,
  type ReconcileLine,
  type ReconcileReport,
  type ReconcileSources,
} from './reconcile-types';
import {
  tradeBatches,
  tradeInvoicePayments,
  tradeInvoices,
  tradePayouts,
  tradeWalletUtxos,
} from './schema';
import { loadSettings } from './settings';

/** The ledger kinds trade posts to a company's clientFunds and inTransit (and their reversals). */
const TRADE_KINDS = [
  'invoice.settled',
  'payout.signed',
  'payout.feeBumped',
  'payout.released',
  'payout.completed',
];

/** At most this many blocks above the cursor are read to tell watcher lag apart. */
export const MAX_LAG_BLOCKS = 1_000;

type Tracked = typeof tradeWalletUtxos.$inferSelect;

interface Payment {
  readonly outpoint: string;
  readonly valueSats: bigint;
  readonly blockHeight: number | null;
  readonly credited: boolean;
  readonly invoice: {
    readonly id: string;
    readonly companyId: string;
    readonly platformId: string;
    readonly status: string;
    readonly gateOutcome: string;
    readonly gateDecisions: unknown;
    readonly amountSats: bigint;
    readonly seenSats: bigint;
  };
}

interface BatchFacts {
  readonly id: string;
  readonly status: string;
  readonly txid: string | null;
  readonly confirmedTxid: string | null;
  readonly confirmedHeight: number | null;
  readonly txids: readonly string[];
}

interface PayoutFacts {
  readonly id: string;
  readonly companyId: string;
  readonly status: string;
  readonly outgoing: bigint;
  readonly batchId: string;
}

/** Coins created and spent in the blocks above the cursor, as the chain has them. */
interface LagEvidence {
  readonly created: Map<string, { valueSats: bigint; height: number; txid: string }>;
  readonly spent: Map<string, { height: number; txid: string }>;
  /** Blocks above the cursor that were read (the rest, if any, were not). */
  readonly through: number;
}

export interface ReconcilePorts {
  readonly orm: Orm;
  readonly ledger: LedgerService;
  readonly wallets: CompanyWallets;
  readonly chain: ChainSource | null;
  readonly network: NetworkName;
}

const outpoint = (txid: string, vout: number) => `${txid}:${vout}`;

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
  for (const b of await ledger.balances(caller, {}, orm)) {
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
  const payments = await loadPayments(orm, caller);
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
      for (const address of await ports.wallets.walletAddressesOf(companyId, orm))
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
      } else {
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
  const trialBalanceSats = await ledger.trialBalance(orm);
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

/** An invoice payment the wallet holds (or held) that the ledger has not credited: why. */
function receiptItem(
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
function batchItems(
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
function lagItems(input: {
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
          : `a coin on the chain${height !== undefined ? ` in block ${height}` : ''} that the watcher did not track`,
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
        note: `tracked as unspent, but not in the chain's UTXO set`,
        references: { outpoints: [op], txid: row.txid, height: row.blockHeight },
      });
    }
  }
  return items;
}

/** False when the cursor's block left the active chain (a reorg the watcher has not processed). */
async function onActiveChain(chain: ChainSource, cursor: ChainTip | null): Promise<boolean> {
  if (!cursor) return true;
  return (await chain.getBlockHash(cursor.height)) === cursor.hash;
}

/** Reads the blocks above the cursor (at most MAX_LAG_BLOCKS): the wallet coins they create and spend. */
async function readLag(
  ports: ReconcilePorts,
  chain: ChainSource,
  cursorHeight: number,
  tipHeight: number,
): Promise<LagEvidence> {
  const created = new Map<string, { valueSats: bigint; height: number; txid: string }>();
  const spent = new Map<string, { height: number; txid: string }>();
  const through = Math.min(tipHeight, cursorHeight + MAX_LAG_BLOCKS);
  const outputs: {
    op: string;
    address: string;
    valueSats: bigint;
    height: number;
    txid: string;
  }[] = [];
  for (let height = Math.max(0, cursorHeight + 1); height <= through; height++) {
    const hash = await chain.getBlockHash(height);
    const block = decodeWatchedBlock(await chain.getBlock(hash), hash, height, ports.network);
    for (const t of block.transactions) {
      for (const i of t.inputs) spent.set(outpoint(i.txid, i.vout), { height, txid: t.txid });
      for (const o of t.outputs)
        if (o.address && o.valueSats > 0n)
          outputs.push({
            op: outpoint(t.txid, o.vout),
            address: o.address,
            valueSats: o.valueSats,
            height,
            txid: t.txid,
          });
    }
  }
  const owners = await ports.wallets.walletAddressOwners(
    [...new Set(outputs.map((o) => o.address))],
    ports.orm,
  );
  for (const o of outputs)
    if (owners.has(o.address))
      created.set(o.op, { valueSats: o.valueSats, height: o.height, txid: o.txid });
  return { created, spent, through };
}

/** Every invoice payment visible to the caller, with whether a live settlement credited it. */
async function loadPayments(orm: Orm, caller: Caller): Promise<Map<string, Payment>> {
  const rows = await orm
    .select({
      txid: tradeInvoicePayments.txid,
      vout: tradeInvoicePayments.vout,
      valueSats: tradeInvoicePayments.valueSats,
      blockHeight: tradeInvoicePayments.blockHeight,
      id: tradeInvoices.id,
      companyId: tradeInvoices.companyId,
      platformId: tradeInvoices.platformId,
      status: tradeInvoices.status,
      gateOutcome: tradeInvoices.gateOutcome,
      gateDecisions: tradeInvoices.gateDecisions,
      amountSats: tradeInvoices.amountSats,
      seenSats: tradeInvoices.seenSats,
    })
    .from(tradeInvoicePayments)
    .innerJoin(tradeInvoices, eq(tradeInvoices.id, tradeInvoicePayments.invoiceId))
    .where(
      scopeTo(caller, { participant: tradeInvoices.companyId, platform: tradeInvoices.platformId }),
    );
  const credited =
    rows.length === 0
      ? new Set<string>()
      : new Set(
          (
            await orm
              .select({ txid: ledgerSettledOutputs.txid, vout: ledgerSettledOutputs.vout })
              .from(ledgerSettledOutputs)
              .innerJoin(
                ledgerTransactions,
                eq(ledgerTransactions.id, ledgerSettledOutputs.transactionId),
              )
              .innerJoin(tradeInvoices, eq(tradeInvoices.id, ledgerTransactions.reference))
              .where(
                and(
                  isNull(ledgerSettledOutputs.releasedBy),
                  eq(ledgerTransactions.kind, 'invoice.settled'),
                  scopeTo(caller, {
                    participant: tradeInvoices.companyId,
                    platform: tradeInvoices.platformId,
                  }),
                ),
              )
          ).map((r) => outpoint(r.txid, r.vout)),
        );
  return new Map(
    rows.map((r) => {
      const op = outpoint(r.txid, r.vout);
      return [
        op,
        {
          outpoint: op,
          valueSats: r.valueSats,
          blockHeight: r.blockHeight,
          credited: credited.has(op),
          invoice: {
            id: r.id,
            companyId: r.companyId,
            platformId: r.platformId,
            status: r.status,
            gateOutcome: r.gateOutcome,
            gateDecisions: r.gateDecisions,
            amountSats: r.amountSats,
            seenSats: r.seenSats,
          },
        },
      ];
    }),
  );
}

/** The payouts in batches visible to the caller, their batches, and each batch by its txids. */
async function loadBatches(orm: Orm, caller: Caller) {
  const payoutRows = await orm
    .select({
      id: tradePayouts.id,
      companyId: tradePayouts.companyId,
      status: tradePayouts.status,
      amountSats: tradePayouts.amountSats,
      feeShareSats: tradePayouts.feeShareSats,
      batchId: tradePayouts.batchId,
    })
    .from(tradePayouts)
    .where(
      and(
        isNotNull(tradePayouts.batchId),
        scopeTo(caller, { participant: tradePayouts.companyId, platform: tradePayouts.platformId }),
      ),
    );
  const payouts: PayoutFacts[] = payoutRows.map((p) => ({
    id: p.id,
    companyId: p.companyId,
    status: p.status,
    outgoing: p.amountSats + p.feeShareSats,
    batchId: p.batchId ?? '',
  }));
  const ids = [...new Set(payouts.map((p) => p.batchId))];
  const batchRows =
    ids.length === 0
      ? []
      : await orm
          .select({
            id: tradeBatches.id,
            status: tradeBatches.status,
            txid: tradeBatches.txid,
            confirmedTxid: tradeBatches.confirmedTxid,
            confirmedHeight: tradeBatches.confirmedHeight,
            replacedTxids: tradeBatches.replacedTxids,
          })
          .from(tradeBatches)
          .where(inArray(tradeBatches.id, ids));
  const batches = new Map<string, BatchFacts>();
  const batchByTxid = new Map<string, BatchFacts>();
  for (const b of batchRows) {
    const replaced = Array.isArray(b.replacedTxids) ? (b.replacedTxids as string[]) : [];
    const txids = [b.txid, b.confirmedTxid, ...replaced].filter((t): t is string => !!t);
    const facts: BatchFacts = {
      id: b.id,
      status: b.status,
      txid: b.txid,
      confirmedTxid: b.confirmedTxid,
      confirmedHeight: b.confirmedHeight,
      txids,
    };
    batches.set(b.id, facts);
    for (const t of txids) batchByTxid.set(t, facts);
  }
  return { payouts, batches, batchByTxid };
}

/**
 * Ledger entries on the companies' clientFunds and inTransit that trade did not post (neither an
 * invoice's nor a payout's, nor a reversal of one), with their effect on clientFunds + inTransit.
 */
async function loadUnknownEntries(
  orm: Orm,
  companyIds: readonly string[],
): Promise<{ id: string; kind: string; reference: string; companyId: string; sats: bigint }[]> {
  if (companyIds.length === 0) return [];
  const reversed = alias(ledgerTransactions, 'reversed');
  const rows = await orm
    .select({
      id: ledgerTransactions.id,
      kind: ledgerTransactions.kind,
      reference: ledgerTransactions.reference,
      companyId: ledgerAccounts.participantId,
      amountSats: ledgerPostings.amountSats,
    })
    .from(ledgerPostings)
    .innerJoin(ledgerTransactions, eq(ledgerTransactions.id, ledgerPostings.transactionId))
    .innerJoin(ledgerAccounts, eq(ledgerAccounts.id, ledgerPostings.accountId))
    .leftJoin(reversed, eq(reversed.id, ledgerTransactions.reverses))
    .where(
      and(
        inArray(ledgerAccounts.participantId, [...companyIds]),
        inArray(ledgerAccounts.purpose, ['clientFunds', 'inTransit']),
        notInArray(ledgerTransactions.kind, TRADE_KINDS),
        or(isNull(reversed.kind), notInArray(reversed.kind, TRADE_KINDS)),
      ),
    );
  const byEntry = new Map<
    string,
    { id: string; kind: string; reference: string; companyId: string; sats: bigint }
  >();
  for (const r of rows) {
    const key = `${r.id}|${r.companyId}`;
    const entry = byEntry.get(key) ?? { ...r, sats: 0n };
    entry.sats += r.amountSats;
    byEntry.set(key, entry);
  }
  return [...byEntry.values()];
}

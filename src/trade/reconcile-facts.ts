import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { ChainSource, ChainTip } from '../chain';
import { scopeTo, type Orm } from '../db';
import type { Caller, NetworkName } from '../kernel';
import type { LedgerService } from '../ledger';
import type { CompanyWallets } from './ports';
import type { tradeWalletUtxos } from './schema';
import { tradeBatches, tradeInvoicePayments, tradeInvoices, tradePayouts } from './schema';

/*
 * What reconcile reads: trade's coins, payments and batches, the ledger entries trade did not
 * post, and the blocks above the watcher's cursor.
 */

/** The ledger kinds trade posts to a company's clientFunds and inTransit (and their reversals). */
const TRADE_KINDS = [
  // The market's delivery of bought coins to an importer's wallet: explained by the coin it
  // credits, as an invoice payment is.
  'market.delivery',
  'invoice.settled',
  'payout.signed',
  'payout.feeBumped',
  'payout.released',
  'payout.completed',
];

/** At most this many blocks above the cursor are read to tell watcher lag apart. */
export const MAX_LAG_BLOCKS = 1_000;

export type Tracked = typeof tradeWalletUtxos.$inferSelect;

export interface Payment {
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

export interface BatchFacts {
  readonly id: string;
  readonly status: string;
  readonly txid: string | null;
  readonly confirmedTxid: string | null;
  readonly confirmedHeight: number | null;
  readonly txids: readonly string[];
}

export interface PayoutFacts {
  readonly id: string;
  readonly companyId: string;
  readonly status: string;
  readonly outgoing: bigint;
  readonly batchId: string;
}

/** Coins created and spent in the blocks above the cursor, as the chain has them. */
export interface LagEvidence {
  readonly created: Map<string, { valueSats: bigint; height: number; txid: string }>;
  readonly spent: Map<string, { height: number; txid: string }>;
  /** Blocks above the cursor were read up to this height (the rest, up to `tip`, were not). */
  readonly through: number;
  readonly tip: number;
}

export interface ReconcilePorts {
  readonly orm: Orm;
  readonly ledger: LedgerService;
  readonly wallets: CompanyWallets;
  readonly chain: ChainSource | null;
  readonly network: NetworkName;
}

export const outpoint = (txid: string, vout: number) => `${txid}:${vout}`;
/** False when the cursor's block left the active chain (a reorg the watcher has not processed). */
export async function onActiveChain(chain: ChainSource, cursor: ChainTip | null): Promise<boolean> {
  if (!cursor) return true;
  return (await chain.getBlockHash(cursor.height)) === cursor.hash;
}

/** Reads the blocks above the cursor (at most MAX_LAG_BLOCKS): the wallet coins they create and spend. */
export async function readLag(
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
    const block = await chain.getChainBlock(hash);
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
  const owners = await ports.wallets.walletAddressOwners([
    ...new Set(outputs.map((o) => o.address)),
  ]);
  for (const o of outputs)
    if (owners.has(o.address))
      created.set(o.op, { valueSats: o.valueSats, height: o.height, txid: o.txid });
  return { created, spent, through, tip: tipHeight };
}

/** Every invoice payment visible to the caller, with whether a live settlement credited it. */
export async function loadPayments(
  ledger: LedgerService,
  orm: Orm,
  caller: Caller,
): Promise<Map<string, Payment>> {
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
  const credited = await ledger.settledBy('invoice.settled', rows);
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
export async function loadBatches(orm: Orm, caller: Caller) {
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
export async function loadUnknownEntries(
  ledger: LedgerService,
  orm: Orm,
  companyIds: readonly string[],
): Promise<{ id: string; kind: string; reference: string; companyId: string; sats: bigint }[]> {
  const entries = await ledger.entriesExcept({
    participantIds: companyIds,
    purposes: ['clientFunds', 'inTransit'],
    exceptKinds: TRADE_KINDS,
  });
  return entries.map(({ participantId, ...entry }) => ({ ...entry, companyId: participantId }));
}

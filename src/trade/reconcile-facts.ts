import { and, eq, inArray, isNotNull } from 'drizzle-orm';
import type { ChainSource, ChainTip } from '../chain';
import { keysetOn, scopeTo, type Orm, type Page, type PageRequest } from '../db';
import type { Caller, NetworkName } from '../kernel';
import type { LedgerService } from '../ledger';
import type { CompanyWallets } from './ports';
import {
  tradeBatches,
  tradeInvoicePayments,
  tradeInvoices,
  tradePayouts,
  tradeWalletUtxos,
} from './schema';

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

/** The ledger purposes a reconciliation compares with the wallet's coins. */
export const WALLET_PURPOSES = ['clientFunds', 'inTransit'] as const;

/**
 * A page of the companies a reconciliation covers, by id: those with a clientFunds or inTransit
 * account and those with a tracked coin. Each is read as the next `limit + 1` distinct ids after
 * the cursor (the ledger through its accounts' (participant, purpose) index, trade's coins through
 * their company index) and the two merged, so that a page costs the same whatever its depth and
 * however many coins a company has. Participant ids are ASCII (`par_` and a ULID), which the
 * database and the merge here order alike.
 */
export async function companyPage(
  ledger: LedgerService,
  orm: Orm,
  caller: Caller,
  request: PageRequest,
): Promise<Page<string>> {
  const coinsKey = keysetOn<{ id: string }>(
    [{ column: tradeWalletUtxos.companyId, kind: 'text', value: (r) => r.id }],
    'asc',
    request,
  );
  const holders = await ledger.accountHolders(caller, {
    purposes: WALLET_PURPOSES,
    after: coinsKey.position?.[0] ?? null,
    limit: coinsKey.read,
  });
  const coins = await orm
    .selectDistinct({ id: tradeWalletUtxos.companyId })
    .from(tradeWalletUtxos)
    .where(
      and(
        scopeTo(caller, {
          participant: tradeWalletUtxos.companyId,
          platform: tradeWalletUtxos.platformId,
        }),
        coinsKey.after,
      ),
    )
    .orderBy(...coinsKey.orderBy)
    .limit(coinsKey.read);
  const ids = [...new Set([...holders, ...coins.map((c) => c.id)])]
    .sort((x, y) => (x < y ? -1 : x > y ? 1 : 0))
    .slice(0, coinsKey.read);
  return coinsKey.page(
    ids.map((id) => ({ id })),
    (shown) => shown.map((r) => r.id),
  );
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

/**
 * The payments of the companies' invoices visible to the caller (through the invoices' company
 * index), with whether a live settlement credited each.
 */
export async function loadPayments(
  ledger: LedgerService,
  orm: Orm,
  caller: Caller,
  companyIds: readonly string[],
): Promise<Map<string, Payment>> {
  if (companyIds.length === 0) return new Map();
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
      and(
        inArray(tradeInvoices.companyId, [...companyIds]),
        scopeTo(caller, {
          participant: tradeInvoices.companyId,
          platform: tradeInvoices.platformId,
        }),
      ),
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

/**
 * The companies' payouts in batches visible to the caller (through the payouts' company index),
 * their batches, and each batch by its txids.
 */
export async function loadBatches(orm: Orm, caller: Caller, companyIds: readonly string[]) {
  const payoutRows =
    companyIds.length === 0
      ? []
      : await orm
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
              inArray(tradePayouts.companyId, [...companyIds]),
              isNotNull(tradePayouts.batchId),
              scopeTo(caller, {
                participant: tradePayouts.companyId,
                platform: tradePayouts.platformId,
              }),
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

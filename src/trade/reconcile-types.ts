import type { ChainSource, ChainTip } from '../chain';

/**
 * Why the ledger and the chain may differ for a company, each by design and each temporary or
 * bounded, and `unexplained` for whatever none of them accounts for. Every item's `sats` is its
 * share of the difference (chain − ledger): positive when the chain holds more than the ledger.
 */
export const RECONCILE_CATEGORIES = [
  /** Coins received for an invoice held for compliance review: not credited until an officer resolves it. */
  'reviewHeldReceipt',
  /** Coins received for an invoice the policy gate refused: never credited to the company. */
  'blockedReceipt',
  /** Coins of an invoice payment below the confirmations settlement needs, or received and not settled. */
  'unsettledConfirmation',
  /** An invoice settled at zero confirmations whose payment is not in a block yet. */
  'unconfirmedSettlement',
  /** A payout batch signed and in transit in the ledger, not yet completed on chain. */
  'inTransitBatch',
  /** Coins created or spent in blocks above the watcher's cursor (not processed yet). */
  'watcherLag',
  /** Whatever the above do not account for, with the coins or ledger entries involved. */
  'unexplained',
] as const;
export type ReconcileCategory = (typeof RECONCILE_CATEGORIES)[number];

/** What an item is about; only the fields that apply are present. */
export interface ReconcileReferences {
  readonly invoiceId?: string;
  /** The compliance decision a held receipt waits on. */
  readonly decisionId?: string;
  readonly batchId?: string;
  readonly payoutIds?: readonly string[];
  readonly txid?: string;
  /** `txid:vout` of the coins involved. */
  readonly outpoints?: readonly string[];
  /** The block the coins were created (or spent) in. */
  readonly height?: number;
  readonly confirmations?: number;
  readonly requiredConfirmations?: number;
  readonly ledgerTransactionIds?: readonly string[];
}

export interface ReconcileItem {
  readonly category: ReconcileCategory;
  /** Its share of the difference (chain − ledger), in sats. */
  readonly sats: bigint;
  /** One sentence for a person. */
  readonly note: string;
  readonly references: ReconcileReferences;
}

export interface ReconcileLine {
  readonly companyId: string;
  readonly platformId: string;
  readonly clientFundsSats: bigint;
  readonly inTransitSats: bigint;
  /** clientFunds + inTransit: what the ledger says the company's wallet holds on chain. */
  readonly ledgerSats: bigint;
  /** Confirmed unspent coins the chain consumer tracked for the wallet (up to the watcher's cursor). */
  readonly trackedSats: bigint;
  /** Unspent coins the chain itself reports for the wallet's addresses (null without a UtxoSource). */
  readonly chainSats: bigint | null;
  /** chain (or tracked) − ledger. */
  readonly differenceSats: bigint;
  /** The difference, item by item: explained parts and unexplained ones. */
  readonly items: readonly ReconcileItem[];
  /** The sum of the items that are not `unexplained`. */
  readonly explainedSats: bigint;
  /** difference − explained. */
  readonly unexplainedSats: bigint;
  /** True when no item is `unexplained`. */
  readonly explained: boolean;
}

/** What a reconciliation compared with, and when. */
export interface ReconcileView {
  /** `chain`: compared with the chain's own UTXO set; `tracked`: with the coins trade tracked. */
  readonly view: 'chain' | 'tracked';
  /** The chain's tip when a chain source was at hand. */
  readonly tipHeight: number | null;
  /** The watcher's cursor: the newest block trade has processed. */
  readonly cursorHeight: number | null;
}

/** The totals of some lines (a page's, or the whole report's). */
export interface ReconcileTotals {
  /** Σ |difference| over the lines. */
  readonly totalDifferenceSats: bigint;
  /** Σ |unexplained item| over the lines. */
  readonly unexplainedSats: bigint;
  /** Σ over the explained items by category. */
  readonly byCategory: Readonly<Record<ReconcileCategory, bigint>>;
  /** The whole ledger's trial balance (every posting), whatever the lines. */
  readonly trialBalanceSats: bigint;
  /** Every difference of the lines explained and the trial balance zero. */
  readonly reconciled: boolean;
}

/** Every company's line (what the CLI prints and judges), with the totals over all of them. */
export interface ReconcileReport extends ReconcileView, ReconcileTotals {
  readonly lines: readonly ReconcileLine[];
}

/**
 * A page of the lines by company id, with the totals over the page's lines (the trial balance is
 * the whole ledger's): the report is reconciled when every page is.
 */
export interface ReconcilePage extends ReconcileView, ReconcileTotals {
  readonly items: readonly ReconcileLine[];
  readonly nextCursor: string | null;
}

/** The chain's own view of unspent outputs (simnet's listUnspent, Core's scantxoutset). */
export interface UtxoSource {
  unspent(address: string): Promise<
    readonly {
      txid: string;
      vout: number;
      valueSats: bigint;
      /** The block the coin was created in, when the source says (tells watcher lag apart). */
      height?: number;
    }[]
  >;
}

/** What reconcile compares with: all optional. */
export interface ReconcileSources {
  /** The chain's own UTXO set; without it, the coins trade's chain consumer tracked. */
  readonly utxos?: UtxoSource;
  /** The chain to read blocks above the watcher's cursor from (default: trade's chain port). */
  readonly chain?: ChainSource | null;
  /** The watcher's cursor (default: the `default` watcher's, read from the database). */
  readonly cursor?: ChainTip | null;
}

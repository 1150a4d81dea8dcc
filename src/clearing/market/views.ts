import { seesEverything, type Caller } from '../../kernel';
import type { BidStatus, DealStatus, OfferStatus } from './lifecycle';
import type {
  marketBankInbox,
  marketBids,
  marketDeals,
  marketOffers,
  marketSettings,
} from './schema';

export interface MarketSettingsView {
  platformId: string;
  currency: string;
  spreadBasisPoints: number;
  deadlineSeconds: number;
  /** Null for callers other than the platform itself, the supervisor and auditors. */
  escrowDescriptor: string | null;
  version: number;
  updatedBy: string;
  updatedAt: Date;
}

export interface OfferView {
  id: string;
  platformId: string;
  minerId: string;
  lotId: string;
  amountSats: bigint;
  availableSats: bigint;
  escrowAddress: string;
  status: OfferStatus;
  depositTxid: string | null;
  /** The escrow's return to the miner when the offer was withdrawn. */
  withdrawalTxid: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface BidView {
  id: string;
  platformId: string;
  companyId: string;
  companyPlatformId: string;
  contractId: string;
  amountSats: bigint;
  status: BidStatus;
  createdAt: Date;
  updatedAt: Date;
}

export interface DealView {
  id: string;
  platformId: string;
  offerId: string;
  bidId: string;
  minerId: string;
  companyId: string;
  contractId: string;
  minerPlatformId: string;
  importerPlatformId: string;
  amountSats: bigint;
  currency: string;
  fiatMinor: bigint;
  /** The rate the deal was valued at, as the ledger stored it (null for deals before 0055). */
  rateId: string | null;
  /** The day's reference-rate fixing it came from; null: the live source's, before the cut-off. */
  fixingId: string | null;
  referenceRate: string;
  dealRate: string;
  spreadBasisPoints: number;
  status: DealStatus;
  deadline: Date;
  bankReference: string | null;
  confirmedAt: Date | null;
  deliveryTxid: string | null;
  deliveryVout: number | null;
  deliveredSats: bigint | null;
  feeSats: bigint | null;
  /** Sends the network refused for a passing reason, the last one, and the next attempt. */
  deliveryAttempts: number;
  deliveryLastError: string | null;
  deliveryNextAttemptAt: Date | null;
  /** The state a held deal was held from (`awaitingPayment`: screening; `delivering`: rejected). */
  heldFrom: string | null;
  refundAddress: string | null;
  refundTxid: string | null;
  fiatReturnReference: string | null;
  /**
   * A held deal's decision one supervisor proposed, awaiting a second person's (four eyes). Who
   * proposed it and why are in the audit log, for the supervisor.
   */
  pendingDecision: { action: 'release' | 'refund'; proposedAt: Date } | null;
  createdAt: Date;
  updatedAt: Date;
}

export function settingsView(row: typeof marketSettings.$inferSelect): MarketSettingsView {
  return {
    platformId: row.platformId,
    currency: row.currency,
    spreadBasisPoints: row.spreadBasisPoints,
    deadlineSeconds: row.deadlineSeconds,
    escrowDescriptor: row.escrowDescriptor,
    version: row.version,
    updatedBy: row.updatedBy,
    updatedAt: row.updatedAt,
  };
}

export function offerView(row: typeof marketOffers.$inferSelect): OfferView {
  const { escrowIndex: _index, withdrawalTx: _tx, ...rest } = row;
  return { ...rest, status: row.status as OfferStatus };
}

export function bidView(row: typeof marketBids.$inferSelect): BidView {
  return { ...row, status: row.status as BidStatus };
}

export function dealView(row: typeof marketDeals.$inferSelect): DealView {
  const {
    deliveryTx: _tx,
    deliveryOrder: _order,
    refundTx: _refund,
    pendingDecision,
    pendingDecisionByPerson: _by,
    pendingDecisionReason: _reason,
    pendingDecisionAt,
    coinLegReviewId: _review,
    coinLegReviewOutcome: _reviewOutcome,
    ...rest
  } = row;
  return {
    ...rest,
    status: row.status as DealStatus,
    pendingDecision:
      (pendingDecision === 'release' || pendingDecision === 'refund') && pendingDecisionAt
        ? { action: pendingDecision, proposedAt: pendingDecisionAt }
        : null,
  };
}

/**
 * A deal as `caller` may read it: a held deal's pending release or refund (one supervisor's
 * proposal awaiting a second) only to those who oversee the market, not to its miner, importer
 * or platform before it is decided.
 */
export function dealViewFor(caller: Caller, row: typeof marketDeals.$inferSelect): DealView {
  const view = dealView(row);
  return seesEverything(caller) ? view : { ...view, pendingDecision: null };
}

export interface BankConfirmationView {
  id: string;
  bank: string;
  bankReference: string;
  dealReference: string;
  amountMinor: bigint;
  currency: string;
  /** pending (to apply; retried with backoff), applied, refused (`outcome` is the code). */
  status: string;
  outcome: string | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date;
  receivedAt: Date;
  consumedAt: Date | null;
}

export function bankConfirmationView(
  row: typeof marketBankInbox.$inferSelect,
): BankConfirmationView {
  const { createdAt, ...rest } = row;
  return { ...rest, receivedAt: createdAt };
}

import { seesEverything, type Caller } from '../../kernel';
import type { HeldReason } from './pay-ins';
import type {
  clearingObligations,
  clearingPayInRefusals,
  clearingPayIns,
  clearingPayOuts,
  clearingPositions,
  clearingWindows,
} from './schema';

export const WINDOW_STATUSES = ['open', 'closed', 'settled'] as const;
export type WindowStatus = (typeof WINDOW_STATUSES)[number];

export interface WindowView {
  id: string;
  sequence: number;
  status: WindowStatus;
  opensAt: Date;
  closesAt: Date | null;
  closedAt: Date | null;
  payInDeadline: Date | null;
  settledAt: Date | null;
  scheduleVersion: number | null;
  /** The valuation of its net positions at close (valuation.ts); null while open. */
  valuation: WindowValuationView | null;
  createdAt: Date;
}

/**
 * The rate a closed window's nets were valued at: the local currency, the stored rate and the
 * fixing it came from (null: the live source's, before the day's fixing was published); or, when
 * there was none, every field null but `unavailableReason` (the window netted in its assets all
 * the same).
 */
export interface WindowValuationView {
  currency: string | null;
  /** The rate (local currency per BTC) as a decimal string. */
  rate: string | null;
  rateId: string | null;
  fixingId: string | null;
  unavailableReason: string | null;
}

export interface PositionView {
  id: string;
  windowId: string;
  platformId: string;
  asset: string;
  /** Positive: the clearing pays the platform; negative: the platform pays in. */
  netAtClose: bigint;
  /** What settled (null until the window settles; 0 for a platform taken out). */
  netSettled: bigint | null;
  /**
   * `netAtClose` in the window's valuation currency (minor units): a bitcoin net at the window's
   * rate (half-even; the largest takes the rounding residue, so an asset's values sum to zero),
   * a net in that currency as it is; null without a valuation or for another currency.
   */
  valueMinor: bigint | null;
  status: 'awaiting' | 'settled' | 'takenOut';
  createdAt: Date;
}

export interface PayInRefusalView {
  id: string;
  reason: string;
  amount: bigint;
  txid: string | null;
  vout: number | null;
  bankReference: string | null;
  createdAt: Date;
}

export interface PayInView {
  id: string;
  windowId: string;
  platformId: string;
  asset: string;
  amountDue: bigint;
  /** The clearing's deposit address for this window and platform (bitcoin pay-ins). */
  address: string | null;
  /**
   * `confirming`: the exact amount is in a block, short of the scheme's confirmation depth;
   * `held`: it did not pass address screening and does not count (the supervisor decides);
   * `rejected`: held, and the supervisor rejected it: it counts nothing and is to be returned;
   * `frozen`: held for a sanctions list match and rejected: it counts nothing, and its coins are
   * frozen and reported, never returned.
   */
  status: PayInStatus;
  /** 1 at the close; the next attempt of the same due after a rejected or frozen one. */
  attempt: number;
  txid: string | null;
  vout: number | null;
  bankReference: string | null;
  /**
   * A fiat pay-in one person recorded, awaiting a different person's confirmation of the same
   * transfer before it counts (four eyes). That a record exists, when, and (to the supervisor and
   * auditors) who made it is shown to every reader; the amount and bank reference only to the
   * person who recorded them, so that the confirmer types them from the bank independently
   * rather than copying them.
   */
  pendingConfirmation: PendingConfirmation | null;
  /**
   * The supervisor's decision on a held pay-in, with its reason (supervisor and auditors only:
   * a platform sees the status alone, never why its pay-in was held).
   */
  decision: PayInDecisionView | null;
  /**
   * Why it was held and the screening alert and case it raised (supervisor and auditors only:
   * the platform learns the status alone, never the list entry nor the reason).
   */
  hold: PayInHoldView | null;
  receivedAt: Date | null;
  refusals: PayInRefusalView[];
  createdAt: Date;
}

export const PAY_IN_STATUSES = [
  'awaiting',
  'confirming',
  'held',
  'received',
  'rejected',
  'frozen',
] as const;
export type PayInStatus = (typeof PAY_IN_STATUSES)[number];

export interface PendingConfirmation {
  recordedAt: Date;
  /** The person who recorded it (null to a platform). */
  recordedBy: string | null;
  /** The recorded amount and reference: null to everyone but the person who recorded them. */
  amount: bigint | null;
  bankReference: string | null;
}

export interface PayInDecisionView {
  decision: 'accept' | 'reject';
  reason: string;
  decidedBy: string;
  decidedAt: Date;
  /** The compliance case the held alert sits in, where the decision is noted. */
  caseId: string | null;
}

export interface PayInHoldView {
  reason: HeldReason;
  alertId: string | null;
  caseId: string | null;
}

/** An obligation between two platforms in the window it settles in. */
export interface ObligationView {
  id: string;
  windowId: string;
  source: 'deal' | 'transfer';
  sourceId: string;
  /** The platform that owes, and the one owed. */
  fromPlatform: string;
  toPlatform: string;
  asset: string;
  amount: bigint;
  at: Date;
  /** The window it was first recorded in, and how often it rolled on (a take-out). */
  firstWindowId: string;
  rolls: number;
  createdAt: Date;
}

export interface PayOutView {
  id: string;
  windowId: string;
  platformId: string;
  asset: string;
  kind: 'payOut' | 'refund';
  amount: bigint;
  /**
   * `instructed` (fiat: for the bank; bitcoin: not in a transaction yet), `held` (bitcoin: no
   * settlement address registered, `heldCode`), `signed`, `broadcast`, `confirmed`.
   */
  status: string;
  heldCode: string | null;
  /** Bitcoin: the settlement address paid, the transaction and output, the fee share borne. */
  address: string | null;
  txid: string | null;
  vout: number | null;
  feeSats: bigint | null;
  /** What reached the address: the amount less its share of the network fee. */
  paidSats: bigint | null;
  createdAt: Date;
}

/**
 * Four eyes: proposed by one officer, active once another person of the platform approved it,
 * superseded by a later proposal while pending, or rejected.
 */
export type SettlementAddressStatus = 'proposed' | 'active' | 'superseded' | 'rejected';

export interface SettlementAddressView {
  id: string;
  platformId: string;
  network: string;
  address: string;
  status: SettlementAddressStatus;
  /** The newest of the platform's active addresses: the one the clearing pays. */
  current: boolean;
  /** The officer (credential) who proposed it. */
  registeredBy: string;
  /** Who approved, rejected or superseded it, and when; null while pending. */
  decidedBy: string | null;
  decidedAt: Date | null;
  createdAt: Date;
}

export function windowView(row: typeof clearingWindows.$inferSelect): WindowView {
  const {
    valuationCurrency: currency,
    valuationRate: rate,
    valuationRateId: rateId,
    valuationFixingId: fixingId,
    valuationReason: unavailableReason,
    ...rest
  } = row;
  return {
    ...rest,
    status: row.status as WindowStatus,
    valuation:
      row.status === 'open' || (rate === null && unavailableReason === null)
        ? null
        : { currency, rate, rateId, fixingId, unavailableReason },
  };
}

export function positionView(row: typeof clearingPositions.$inferSelect): PositionView {
  return { ...row, status: row.status as PositionView['status'] };
}

/**
 * A pay-in as `viewer` may see it: the recorded amount and reference of a fiat pay-in awaiting
 * its second person only to the person who recorded them; the supervisor's decision on a held
 * one only to the supervisor and auditors.
 */
export function payInView(
  row: typeof clearingPayIns.$inferSelect,
  refusals: readonly (typeof clearingPayInRefusals.$inferSelect)[],
  viewer: Caller,
): PayInView {
  const {
    derivationIndex: _index,
    blockHash: _block,
    blockHeight: _height,
    payers: _payers,
    recordedAmount,
    recordedReference,
    recordedByPerson,
    recordedAt,
    decision,
    decisionReason,
    decidedByPerson,
    decidedAt,
    recordedSalt: _salt,
    heldReason,
    alertId,
    caseId,
    ...rest
  } = row;
  const recorder = recordedByPerson !== null && recordedByPerson === viewer.personId;
  const everything = seesEverything(viewer);
  return {
    ...rest,
    pendingConfirmation:
      recordedAmount !== null && recordedReference !== null && recordedAt !== null
        ? {
            recordedAt,
            recordedBy: everything ? recordedByPerson : null,
            amount: recorder ? recordedAmount : null,
            bankReference: recorder ? recordedReference : null,
          }
        : null,
    decision:
      everything &&
      (decision === 'accept' || decision === 'reject') &&
      decisionReason !== null &&
      decidedByPerson !== null &&
      decidedAt !== null
        ? { decision, reason: decisionReason, decidedBy: decidedByPerson, decidedAt, caseId }
        : null,
    hold:
      everything && (heldReason === 'listMatch' || heldReason === 'unscreenable')
        ? { reason: heldReason, alertId, caseId }
        : null,
    // A frozen pay-in is a list match: its platform sees it rejected, like a pay-in returned, and
    // learns neither the match nor the report (no tipping off).
    status: (!everything && row.status === 'frozen' ? 'rejected' : row.status) as PayInStatus,
    refusals: refusals.map((r) => ({
      id: r.id,
      reason: r.reason,
      amount: r.amount,
      txid: r.txid,
      vout: r.vout,
      bankReference: r.bankReference,
      createdAt: r.createdAt,
    })),
  };
}

export function payOutView(row: typeof clearingPayOuts.$inferSelect): PayOutView {
  return { ...row, kind: row.kind as PayOutView['kind'] };
}

export function obligationView(row: typeof clearingObligations.$inferSelect): ObligationView {
  return { ...row, source: row.source as ObligationView['source'] };
}

import type {
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
  createdAt: Date;
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
   * `held`: it did not pass address screening and does not count (the supervisor decides).
   */
  status: 'awaiting' | 'confirming' | 'held' | 'received';
  txid: string | null;
  vout: number | null;
  bankReference: string | null;
  /**
   * A fiat pay-in one person recorded, awaiting a different person's confirmation of the same
   * transfer before it counts (four eyes; who recorded it is in the audit log).
   */
  pendingConfirmation: { amount: bigint; bankReference: string; recordedAt: Date } | null;
  receivedAt: Date | null;
  refusals: PayInRefusalView[];
  createdAt: Date;
}

export interface PayOutView {
  id: string;
  windowId: string;
  platformId: string;
  asset: string;
  kind: 'payOut' | 'refund';
  amount: bigint;
  /** `instructed`: recorded for the scheme's signer (bitcoin: one batched transaction). */
  status: string;
  createdAt: Date;
}

export function windowView(row: typeof clearingWindows.$inferSelect): WindowView {
  return { ...row, status: row.status as WindowStatus };
}

export function positionView(row: typeof clearingPositions.$inferSelect): PositionView {
  return { ...row, status: row.status as PositionView['status'] };
}

export function payInView(
  row: typeof clearingPayIns.$inferSelect,
  refusals: readonly (typeof clearingPayInRefusals.$inferSelect)[] = [],
): PayInView {
  const {
    derivationIndex: _index,
    blockHash: _block,
    blockHeight: _height,
    payers: _payers,
    recordedAmount,
    recordedReference,
    recordedByPerson: _by,
    recordedAt,
    ...rest
  } = row;
  return {
    ...rest,
    pendingConfirmation:
      recordedAmount !== null && recordedReference !== null && recordedAt !== null
        ? { amount: recordedAmount, bankReference: recordedReference, recordedAt }
        : null,
    status: row.status as PayInView['status'],
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

import { and, asc, eq } from 'drizzle-orm';
import type { Orm } from '../../db';
import { BTC } from '../netting';
import type { WindowRow } from './lifecycle';
import type { PayOutTransactionRow } from './pay-outs';
import { clearingPayIns, clearingPayOutTransactions, clearingPayOuts } from './schema';

/** A window's stored pay-out transaction, as the supervisor and auditors read it. */
export interface PayOutTransactionView {
  /** 0: the window's transaction; 1, 2, …: a later one paying receivers held at the one before. */
  seq: number;
  txid: string;
  /**
   * `signed` (stored, not accepted by the network yet), `broadcast` (in no block, or in
   * `blockHash` short of the scheme's confirmation depth), `confirmed` (at that depth), `rejected`,
   * `held` (not sent any more, for the supervisor: `heldCode`).
   */
  status: string;
  /** Why a held transaction is not sent: PAY_IN_OUTPOINT_MISSING, REPLACED_TRANSACTION_MINED. */
  heldCode: string | null;
  /** The rejected or held transactions of the window this one replaced, oldest first. */
  replacedTxids: string[];
  /**
   * Held REPLACED_TRANSACTION_MINED: the replaced transaction mined after all, the one the
   * supervisor may adopt, and its block (null while a reorganization has taken it away).
   */
  mined: { txid: string; blockHash: string | null; blockHeight: number | null } | null;
  feeSats: bigint;
  feeRateSatPerKvB: bigint;
  /** What it keeps with the clearing for held receivers (its change output), or null. */
  kept: { vout: number; sats: bigint } | null;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  blockHash: string | null;
  blockHeight: number | null;
  signedAt: Date;
  broadcastAt: Date | null;
  confirmedAt: Date | null;
}

const transactionView = (row: PayOutTransactionRow): PayOutTransactionView => ({
  seq: row.seq,
  txid: row.txid,
  status: row.status,
  heldCode: row.heldCode,
  replacedTxids: row.replacedTxids,
  mined: row.minedTxid
    ? { txid: row.minedTxid, blockHash: row.minedBlockHash, blockHeight: row.minedBlockHeight }
    : null,
  feeSats: row.feeSats,
  feeRateSatPerKvB: row.feeRateSatPerKvB,
  kept:
    row.changeVout !== null && row.changeSats !== null
      ? { vout: row.changeVout, sats: row.changeSats }
      : null,
  attempts: row.attempts,
  lastError: row.lastError,
  nextAttemptAt: row.nextAttemptAt,
  blockHash: row.blockHash,
  blockHeight: row.blockHeight,
  signedAt: row.signedAt,
  broadcastAt: row.broadcastAt,
  confirmedAt: row.confirmedAt,
});

/** The instruction for the one batched bitcoin transaction that pays a window out. */
export interface PayOutBatchView {
  windowId: string;
  status: string;
  /** Received bitcoin pay-ins, each at its derivation index on the clearing's descriptor. */
  inputs: {
    payInId: string;
    platformId: string;
    txid: string;
    vout: number;
    valueSats: bigint;
    derivationIndex: number;
  }[];
  /** Pay-outs to net receivers and refunds (empty until the window settles). */
  outputs: {
    payOutId: string;
    platformId: string;
    kind: 'payOut' | 'refund';
    valueSats: bigint;
    status: string;
    heldCode: string | null;
    address: string | null;
    vout: number | null;
    feeSats: bigint | null;
    paidSats: bigint | null;
  }[];
  /** The signed transaction stored for the window (null until it is built). */
  transaction: PayOutTransactionView | null;
  /** The later ones, each paying receivers held at the one before, in order. */
  laterTransactions: PayOutTransactionView[];
}

/** A window's received bitcoin pay-ins, by derivation index: what its pay-out transaction spends. */
export function receivedBtcPayIns(orm: Orm, windowId: string) {
  return orm
    .select()
    .from(clearingPayIns)
    .where(
      and(
        eq(clearingPayIns.windowId, windowId),
        eq(clearingPayIns.asset, BTC),
        eq(clearingPayIns.status, 'received'),
      ),
    )
    .orderBy(asc(clearingPayIns.derivationIndex));
}

/** The pay-out batch of a window (the service checks the caller and reads the window). */
export async function payOutBatch(
  orm: Orm,
  window: WindowRow,
  windowId: string,
): Promise<PayOutBatchView> {
  const inputs = await receivedBtcPayIns(orm, windowId);
  const outputs = await orm
    .select()
    .from(clearingPayOuts)
    .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
    .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind));
  const [stored, ...later] = await orm
    .select()
    .from(clearingPayOutTransactions)
    .where(eq(clearingPayOutTransactions.windowId, windowId))
    .orderBy(asc(clearingPayOutTransactions.seq));
  return {
    windowId,
    status: window.status,
    transaction: stored ? transactionView(stored) : null,
    laterTransactions: later.map(transactionView),
    inputs: inputs.map((p) => ({
      payInId: p.id,
      platformId: p.platformId,
      txid: p.txid ?? '',
      vout: p.vout ?? 0,
      valueSats: p.amountDue,
      derivationIndex: p.derivationIndex ?? 0,
    })),
    outputs: outputs.map((o) => ({
      payOutId: o.id,
      platformId: o.platformId,
      kind: o.kind as 'payOut' | 'refund',
      valueSats: o.amount,
      status: o.status,
      heldCode: o.heldCode,
      address: o.address,
      vout: o.vout,
      feeSats: o.feeSats,
      paidSats: o.paidSats,
    })),
  };
}

import { and, asc, eq } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError, type Caller } from '../../kernel';
import { BTC } from '../netting';
import {
  latestTransaction,
  PAY_IN_OUTPOINT_MISSING,
  SETTLEMENT_PAY_OUT_EVENTS,
  type PayOutTransactionRow,
} from './pay-out-broadcast';
import { alertPayOutHold } from './pay-out-alerts';
import {
  checkReceivers,
  clampFeeRate,
  firstHold,
  signPayOut,
  type HeldCode,
  type PayOutSource,
  type PayOutDeps,
  type PayOutRow,
} from './pay-outs';
import { clearingPayOutTransactions, clearingPayOuts, clearingWindows } from './schema';

/** Why a rebuild is refused at the receivers' checks: the code and message the caller is told. */
const REFUSALS: Record<HeldCode, string> = {
  SETTLEMENT_ADDRESS_MISSING: 'has no settlement address',
  TRANSFER_BLOCKED: 'has a settlement address that does not screen clear now',
  LICENCE_NOT_ACTIVE: 'holds no active licence now',
  PAY_OUT_BELOW_DUST: 'would receive an output below the dust limit once its fee share is taken',
};

/**
 * The supervisor's rebuild of a window's pay-out transaction the network rejected for good, or
 * held because its inputs stayed missing (PAY_IN_OUTPOINT_MISSING): a new one spending the same
 * received pay-ins to the same pay-outs, built and signed as at signing (the settlement addresses
 * current now, screened again, the receivers' licences active, the chain's fee rate now), stored
 * in the window's row in place of the old one (its txid kept in `replacedTxids`) before the job
 * sends it, audited `settlement_pay_out.rebuilt` by the caller with the old and new txids. All in
 * one transaction under the window's lock: only a `rejected` or such a `held` transaction is
 * rebuilt (PAY_OUT_NOT_REJECTED otherwise, a transaction held because one it replaced was mined
 * included); a receiver failing a check refuses the rebuild with that check's code and writes
 * nothing of it. A transaction that would come out the same as the stored one is, when rejected,
 * refused (PAY_OUT_REBUILD_UNCHANGED); when held, put back to `signed` with its attempts cleared
 * for the job to send again (audited `resumed` by the caller; no second fee entry). Every refusal
 * is audited (`rebuildRefused` with its code, by the caller, in a transaction of its own; an
 * alert for the supervisor but for a missing address or an unchanged transaction). The rebuilt
 * one's fee entry takes the place of the old one's, which is reversed. No signer: CONFIG_INVALID.
 */
export async function rebuildPayOut(
  deps: PayOutDeps,
  caller: Caller,
  windowId: string,
): Promise<void> {
  if (caller.role !== 'supervisor')
    throw new AppError('FORBIDDEN', 'only the supervisor rebuilds a pay-out transaction');
  if (!deps.signer || !deps.descriptor)
    throw new AppError('CONFIG_INVALID', 'no clearing signer is configured: nothing can be signed');
  // Asked before the transaction opens: no network call inside one.
  const feeRate = clampFeeRate(
    deps.chain ? await deps.chain.estimateFeeRateSatPerKvB(6).catch(() => null) : null,
  );
  try {
    await deps.db.transaction(async (tx) => {
      const [window] = await tx
        .select({ id: clearingWindows.id })
        .from(clearingWindows)
        .where(eq(clearingWindows.id, windowId))
        .for('update');
      if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${windowId}`);
      // Locked: the chain consumer may be moving the row (the old transaction mined after all).
      const stored = await latestTransaction(tx, windowId, true);
      if (!stored || !rebuildable(stored)) throw new NotRebuildable(stored);
      // The same pay-outs: those it pays, and those it keeps with the clearing for their holds.
      const payOuts = await tx
        .select()
        .from(clearingPayOuts)
        .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
        .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind));
      const paying = payOuts.filter((p) => p.txid === stored.txid && p.status !== 'held');
      const keeping = payOuts.filter((p) => p.status === 'held');
      const checks = await checkReceivers(deps, tx, paying);
      const hold = firstHold(checks, paying);
      if (hold) throw new Refused(stored, hold.code, hold.held);
      const signed = await signPayOut(
        deps,
        tx,
        windowId,
        await sourceOf(tx, stored),
        paying,
        keeping,
        checks.addresses,
        feeRate,
        { row: stored, caller },
      );
      if (signed === false)
        throw new AppError(
          'CONFIG_INVALID',
          'no clearing signer is configured: nothing was signed',
        );
      if (signed === 'unchanged') {
        if (stored.status === 'held') return resume(deps, tx, stored, caller);
        throw new Refused(stored, 'PAY_OUT_REBUILD_UNCHANGED', []);
      }
      if (signed !== true) throw new Refused(stored, 'PAY_OUT_BELOW_DUST', signed.belowDust);
    });
  } catch (error) {
    if (error instanceof NotRebuildable) {
      await auditNotRebuildable(deps, caller, windowId, error.stored);
      throw notRebuildable(windowId, error.stored);
    }
    if (!(error instanceof Refused)) throw error;
    // Rolled back: the refusal is recorded in a transaction of its own, then answered. One the
    // supervisor has to look into (all but a missing address or an unchanged one) is an alert.
    const { code, held, stored } = error;
    const alerted = code !== 'SETTLEMENT_ADDRESS_MISSING' && code !== 'PAY_OUT_REBUILD_UNCHANGED';
    await deps.db.transaction(async () => {
      const alertIds = alerted ? await refusalAlerts(deps, caller, windowId, code, held) : [];
      await deps.ctx.audit.record(caller, {
        action: SETTLEMENT_PAY_OUT_EVENTS.rebuildRefused,
        entityType: 'settlement_window',
        entityId: windowId,
        before: { status: stored.status, txid: stored.txid },
        after: {
          code,
          payOuts: held.map((p) => ({ payOutId: p.id, platformId: p.platformId })),
          ...(alerted ? { alert: 'supervisor', alertIds } : {}),
        },
      });
    });
    if (code !== 'PAY_OUT_REBUILD_UNCHANGED') throw refusal(windowId, code, held);
    throw new AppError(
      'PAY_OUT_REBUILD_UNCHANGED',
      `the rebuilt pay-out transaction of settlement window ${windowId} is ${stored.txid} again, the one rejected: register a new settlement address or wait for another fee rate`,
    );
  }
}

/**
 * The supervisor's alerts of a refused rebuild (its own transaction, with the refusal's audit):
 * one per refused receiver for its checks, one for the window's dust, each once while open.
 */
async function refusalAlerts(
  deps: PayOutDeps,
  caller: Caller,
  windowId: string,
  code: HeldCode,
  held: readonly PayOutRow[],
): Promise<string[]> {
  const platforms =
    code === 'PAY_OUT_BELOW_DUST' ? [null] : [...new Set(held.map((p) => p.platformId))];
  const ids: string[] = [];
  for (const platformId of platforms) {
    const alert = await alertPayOutHold(deps.ctx, caller, {
      windowId,
      code,
      platformId,
      detail: `A rebuild by ${caller.actorId} was refused for it; the transaction stays as it was.`,
    });
    if (alert) ids.push(alert.alertId);
  }
  return ids;
}

/** A transaction in a state no rebuild takes (audited after the rollback, then answered). */
class NotRebuildable extends Error {
  constructor(readonly stored: PayOutTransactionRow | undefined) {
    super('the pay-out transaction is not rebuildable');
  }
}

/**
 * PAY_OUT_NOT_REJECTED, audited `rebuildRefused` with its code by the caller in a transaction of
 * its own, as every other refusal of a rebuild (no alert: nothing is held by it).
 */
async function auditNotRebuildable(
  deps: PayOutDeps,
  caller: Caller,
  windowId: string,
  stored: PayOutTransactionRow | undefined,
): Promise<void> {
  await deps.db.transaction(() =>
    deps.ctx.audit.record(caller, {
      action: SETTLEMENT_PAY_OUT_EVENTS.rebuildRefused,
      entityType: 'settlement_window',
      entityId: windowId,
      before: {
        status: stored?.status ?? null,
        txid: stored?.txid ?? null,
        heldCode: stored?.heldCode ?? null,
      },
      after: { code: 'PAY_OUT_NOT_REJECTED', payOuts: [] },
    }),
  );
}

function notRebuildable(windowId: string, stored: PayOutTransactionRow | undefined): AppError {
  return new AppError(
    'PAY_OUT_NOT_REJECTED',
    `the pay-out transaction of settlement window ${windowId} is ${stored?.status ?? 'not built'}${stored?.heldCode ? ` (${stored.heldCode})` : ''}; only a rejected one, or one held for missing inputs, is rebuilt`,
    { details: { status: stored?.status ?? null, heldCode: stored?.heldCode ?? null } },
  );
}

/** What a stored transaction spends: the window's pay-ins (its first), else the change before it. */
async function sourceOf(tx: Orm, stored: PayOutTransactionRow): Promise<PayOutSource> {
  if (stored.seq === 0) return { payIns: true };
  const [prev] = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, stored.windowId),
        eq(clearingPayOutTransactions.seq, stored.seq - 1),
      ),
    );
  if (!prev) throw new AppError('INTERNAL', `no transaction before ${stored.txid}`);
  return { change: prev };
}

/** A rejected transaction, or one held because its inputs stayed missing. */
const rebuildable = (row: PayOutTransactionRow) =>
  row.status === 'rejected' || (row.status === 'held' && row.heldCode === PAY_IN_OUTPOINT_MISSING);

/** A rebuild refused with its code (recorded after the rollback, then answered). */
class Refused extends Error {
  constructor(
    readonly stored: PayOutTransactionRow,
    readonly code: HeldCode | 'PAY_OUT_REBUILD_UNCHANGED',
    readonly held: readonly PayOutRow[],
  ) {
    super(`the rebuild is refused: ${code}`);
  }
}

/**
 * A held transaction the rebuild would sign again unchanged: the supervisor's word to send it
 * again, `signed` with its attempts cleared (the job sends it on its next run), audited `resumed`.
 * Its pay-outs and fee entry stay as they are.
 */
async function resume(
  deps: PayOutDeps,
  tx: Orm,
  stored: PayOutTransactionRow,
  caller: Caller,
): Promise<void> {
  const resumed = await tx
    .update(clearingPayOutTransactions)
    .set({ status: 'signed', heldCode: null, attempts: 0, lastError: null, nextAttemptAt: null })
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, stored.windowId),
        eq(clearingPayOutTransactions.seq, stored.seq),
        eq(clearingPayOutTransactions.txid, stored.txid),
        eq(clearingPayOutTransactions.status, 'held'),
      ),
    )
    .returning({ txid: clearingPayOutTransactions.txid });
  if (resumed.length === 0)
    throw new AppError(
      'PAY_OUT_NOT_REJECTED',
      `the pay-out transaction of settlement window ${stored.windowId} changed while it was rebuilt; only a rejected or held one is rebuilt`,
    );
  await deps.ctx.audit.record(caller, {
    action: SETTLEMENT_PAY_OUT_EVENTS.resumed,
    entityType: 'settlement_window',
    entityId: stored.windowId,
    before: {
      status: 'held',
      code: stored.heldCode,
      txid: stored.txid,
      attempts: stored.attempts,
      reason: stored.lastError,
    },
    after: { status: 'signed', txid: stored.txid, attempts: 0 },
  });
}

function refusal(windowId: string, code: HeldCode, held: readonly PayOutRow[]): AppError {
  const platforms = [...new Set(held.map((p) => p.platformId))];
  return new AppError(
    code,
    `the pay-out transaction of settlement window ${windowId} cannot be rebuilt: ${platforms.join(', ')} ${REFUSALS[code]}`,
    { details: { platformIds: platforms } },
  );
}

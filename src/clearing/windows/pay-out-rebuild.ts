import { and, asc, eq } from 'drizzle-orm';
import { AppError, type Caller } from '../../kernel';
import { BTC } from '../netting';
import {
  checkReceivers,
  clampFeeRate,
  signPayOut,
  type HeldCode,
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
 * The supervisor's rebuild of a window's pay-out transaction the network rejected for good: a new
 * one spending the same received pay-ins to the same pay-outs, built and signed as at signing
 * (the settlement addresses current now, screened again, the receivers' licences active, the
 * chain's fee rate now), stored in the window's row in place of the rejected one (its txid kept
 * in `replacedTxids`) before the job sends it, audited `settlement_pay_out.rebuilt` by the caller
 * with the old and new txids. All in one transaction under the window's lock: only a `rejected`
 * transaction is rebuilt (PAY_OUT_NOT_REJECTED otherwise); a receiver failing a check refuses the
 * rebuild with that check's code and writes nothing, as does a transaction that would come out
 * the same as the rejected one (PAY_OUT_REBUILD_UNCHANGED). No signer: CONFIG_INVALID.
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
  await deps.db.transaction(async (tx) => {
    const [window] = await tx
      .select({ id: clearingWindows.id })
      .from(clearingWindows)
      .where(eq(clearingWindows.id, windowId))
      .for('update');
    if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${windowId}`);
    // Locked: the chain consumer may be moving the row (the rejected transaction mined after all).
    const [stored] = await tx
      .select()
      .from(clearingPayOutTransactions)
      .where(eq(clearingPayOutTransactions.windowId, windowId))
      .for('update');
    if (stored?.status !== 'rejected')
      throw new AppError(
        'PAY_OUT_NOT_REJECTED',
        `the pay-out transaction of settlement window ${windowId} is ${stored?.status ?? 'not built'}; only a rejected one is rebuilt`,
        { details: { status: stored?.status ?? null } },
      );
    const payOuts = await tx
      .select()
      .from(clearingPayOuts)
      .where(and(eq(clearingPayOuts.windowId, windowId), eq(clearingPayOuts.asset, BTC)))
      .orderBy(asc(clearingPayOuts.platformId), asc(clearingPayOuts.kind));
    const checked = await checkReceivers(deps, tx, payOuts);
    if ('code' in checked) throw refusal(windowId, checked.code, checked.held);
    const signed = await signPayOut(deps, tx, windowId, payOuts, checked.addresses, feeRate, {
      row: stored,
      caller,
    });
    if (signed === false)
      throw new AppError('CONFIG_INVALID', 'no clearing signer is configured: nothing was signed');
    if (signed !== true) throw refusal(windowId, 'PAY_OUT_BELOW_DUST', signed.belowDust);
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

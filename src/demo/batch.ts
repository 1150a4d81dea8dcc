import { isAppError, type Caller } from '../kernel';
import type { TradeService } from '../trade';

/**
 * A platform's batch run in the demo. Payouts only spend coins the ledger credited (settled
 * receipts and the platform's own change), so a company whose receipts are still short of their
 * confirmations cannot pay yet: its payouts wait for the next run, as on a real platform.
 */
export async function runBatchWhenFunded(
  trade: TradeService,
  caller: Caller,
  platformId: string,
): ReturnType<TradeService['payouts']['runBatch']> {
  try {
    return await trade.payouts.runBatch(caller, platformId, { force: true });
  } catch (error) {
    if (isAppError(error) && error.code === 'INSUFFICIENT_FUNDS') return null;
    throw error;
  }
}

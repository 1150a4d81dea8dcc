import { AppError } from '../kernel';
import type { ChainSource } from './source';

/**
 * Whether the chain has a transaction (in its mempool or on its active chain), asked with
 * `getRawTransaction`: true when it answers with it, false when it says it has none
 * (TX_NOT_FOUND). Any other failure (the source unreachable, an odd answer) is `unsure`, which
 * each caller chooses to fail closed its own way: a broadcaster deciding whether a transaction is
 * already out takes it as not out (it sends again, or classifies the refusal); a tick deciding
 * whether a seen payment vanished takes it as still there (nothing is dropped on a hiccup).
 */
export async function chainHasTransaction(
  chain: Pick<ChainSource, 'getRawTransaction'>,
  txid: string,
  unsure = false,
): Promise<boolean> {
  try {
    await chain.getRawTransaction(txid);
    return true;
  } catch (error) {
    if (error instanceof AppError && error.code === 'TX_NOT_FOUND') return false;
    return unsure;
  }
}

import { and, eq, sql } from 'drizzle-orm';
import type { Orm } from '../../db';
import { BTC } from '../netting';
import { platformAccount, postEntry, reverseEntries } from './books';
import { clearingWindowPostings } from './schema';

/**
 * The network fee of a window's pay-out transaction in the clearing's books (issue 13). The
 * outputs bear it pro rata to their amounts (`feeShares`); it goes through the `network-fee`
 * account: paid to the network out of each receiver's pay-out (the receiver credited its share,
 * `network-fee` debited), then charged to that receiver by this rule (the receiver debited,
 * `network-fee` credited), so every account stays at zero. Only the fee of the window's one
 * transaction is in the books: when another takes its place (the supervisor's rebuild, or the
 * adoption of a replaced one mined after all), the earlier fee entry is reversed.
 */

/** The clearing's account for the network fee of its pay-out transactions. */
export const NETWORK_FEE = 'network-fee';
/** The kind of a pay-out transaction's fee entry (its reversal: `payOut.networkFee.reversed`). */
export const FEE_ENTRY = 'payOut.networkFee';
/**
 * The kind of the fee entry of a window's later transaction (one paying receivers held when the
 * window's was signed): its own fee, beside the window's, never reversed by a rebuild of that one.
 */
export const LATER_FEE_ENTRY = 'payOut.laterNetworkFee';

/** Each amount's share of `fee`, pro rata (floored), the remainder on the largest amount. */
export function feeShares(amounts: readonly bigint[], fee: bigint): bigint[] {
  const total = amounts.reduce((sum, a) => sum + a, 0n);
  if (total <= 0n) return amounts.map(() => 0n);
  const shares = amounts.map((a) => (fee * a) / total);
  const remainder = fee - shares.reduce((sum, s) => sum + s, 0n);
  let largest = 0;
  amounts.forEach((a, i) => {
    if (a > (amounts[largest] ?? 0n)) largest = i;
  });
  shares[largest] = (shares[largest] ?? 0n) + remainder;
  return shares;
}

/**
 * Posts the fee entry of the window's transaction `txid` (each receiver's share), reversing first
 * every earlier fee entry of the window not reversed yet (each once: `reverseEntries`), so the
 * books show only the fee of the transaction now the window's. Under the window's lock. The first
 * entry of a window is `pay-out-fee:<window>`, a later one `pay-out-fee:<window>:<txid>` (with a
 * count should that transaction's fee be posted again). Returns the entries reversed. A later
 * transaction's (`seq` above 0) is `pay-out-fee:<window>:<seq>`, kind LATER_FEE_ENTRY, and
 * reverses the earlier fee entries of that `seq` only (a rebuild or an adoption of that later
 * transaction), never the window's first transaction's nor another later one's; a second entry of
 * the same `seq` is `pay-out-fee:<window>:<seq>:<txid>:<count>`.
 */
export async function postFeeEntry(
  tx: Orm,
  windowId: string,
  txid: string,
  shares: readonly { platformId: string; share: bigint }[],
  at: Date,
  seq = 0,
): Promise<string[]> {
  if (seq > 0) {
    const base = `pay-out-fee:${windowId}:${seq}`;
    const ofSeq = (entry: string) => entry === base || entry.startsWith(`${base}:`);
    const reversed = await reverseEntries(tx, windowId, LATER_FEE_ENTRY, at, ofSeq);
    const earlier = await tx
      .selectDistinct({ entry: clearingWindowPostings.entry })
      .from(clearingWindowPostings)
      .where(
        and(
          eq(clearingWindowPostings.windowId, windowId),
          eq(clearingWindowPostings.kind, LATER_FEE_ENTRY),
        ),
      );
    const count = earlier.filter((e) => ofSeq(e.entry)).length;
    const entry = count === 0 ? base : `${base}:${txid}:${count}`;
    await postEntry(tx, { windowId, entry, kind: LATER_FEE_ENTRY, at }, feePostings(shares));
    return reversed;
  }
  const reversed = await reverseEntries(tx, windowId, FEE_ENTRY, at);
  const [{ entries } = { entries: 0 }] = await tx
    .select({ entries: sql<number>`count(distinct ${clearingWindowPostings.entry})::int` })
    .from(clearingWindowPostings)
    .where(
      and(
        eq(clearingWindowPostings.windowId, windowId),
        eq(clearingWindowPostings.kind, FEE_ENTRY),
      ),
    );
  const [{ taken } = { taken: 0 }] = await tx
    .select({ taken: sql<number>`count(*)::int` })
    .from(clearingWindowPostings)
    .where(eq(clearingWindowPostings.entry, `pay-out-fee:${windowId}:${txid}`));
  const entry =
    entries === 0
      ? `pay-out-fee:${windowId}`
      : `pay-out-fee:${windowId}:${txid}${taken > 0 ? `:${entries}` : ''}`;
  await postEntry(tx, { windowId, entry, kind: FEE_ENTRY, at }, feePostings(shares));
  return reversed;
}

/** Each receiver's share paid to the network out of its pay-out, then charged to it. */
function feePostings(shares: readonly { platformId: string; share: bigint }[]) {
  return shares.flatMap(({ platformId, share }) => [
    // Paid to the network out of the receiver's pay-out …
    { account: NETWORK_FEE, asset: BTC, amount: share },
    { account: platformAccount(platformId), asset: BTC, amount: -share },
    // … and charged to the receiver: the outputs bear the fee pro rata.
    { account: platformAccount(platformId), asset: BTC, amount: share },
    { account: NETWORK_FEE, asset: BTC, amount: -share },
  ]);
}

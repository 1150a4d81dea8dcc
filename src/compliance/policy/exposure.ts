import type { Orm } from '../../db';
import type { MonitoredTransfer, MonitoringFacts } from '../monitoring/rules';
import type { LoadedLists } from '../screening/service';
import { searchExposure, transferNodes, type ExposureEntry, type StoredTransfer } from './store';

const sameNodes = (a: StoredTransfer, b: MonitoredTransfer) =>
  transferNodes(a).join('\n') === transferNodes(b).join('\n');

/**
 * The nearest sanctioned address reachable from this transfer in the scheme's transfer graph
 * (breadth-first over transfers not blocked: one hop is one earlier transfer sharing a party or
 * an address with what has been reached so far, starting from this transfer's company,
 * counterparty and address). From the exposure table's entries for the transfer's nodes when
 * it is current (`entries`), else searched for in full — also when this transfer was decided
 * before with other parties or another address, since its own earlier row must not count.
 * The lists name the nearest one that is listed.
 */
export async function nearestListedAddress(
  tx: Orm,
  current: MonitoredTransfer,
  nodes: readonly string[],
  from: {
    lists: LoadedLists;
    maxHops: number;
    entries: readonly ExposureEntry[] | null;
    previous: StoredTransfer | null;
  },
): Promise<MonitoringFacts['exposure']> {
  const { previous } = from;
  const ownAddress = current.counterpartyAddress;
  const mine = new Set(nodes);
  const entries = from.entries?.filter((e) => mine.has(e.node)) ?? null;
  // No entry for any of its nodes: nothing listed within reach (leaving out this transfer's
  // own earlier row could only take things further away).
  if (entries && entries.length === 0) return null;
  let reached: Array<{ address: string; hops: number }>;
  if (entries && !(previous && previous.outcome !== 'block' && !sameNodes(previous, current))) {
    const nearest = new Map<string, number>();
    for (const e of entries) {
      if (e.address === ownAddress) continue;
      nearest.set(e.address, Math.min(nearest.get(e.address) ?? Infinity, e.hops));
    }
    reached = [...nearest]
      .map(([address, hops]) => ({ address, hops }))
      .filter((r) => r.hops > 0 && r.hops <= from.maxHops)
      .sort(
        (a, b) => a.hops - b.hops || (a.address < b.address ? -1 : a.address > b.address ? 1 : 0),
      );
  } else {
    reached = await searchExposure(
      tx,
      { transferId: current.transferId, nodes: [...nodes] },
      from.maxHops,
    );
  }
  for (const { address, hops } of reached) {
    const listed = from.lists.addresses.screenAddress(address)[0];
    if (listed) return { hops, address, listEntryId: listed.listEntryId };
  }
  return null;
}

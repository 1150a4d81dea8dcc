import { eq, inArray, sql } from 'drizzle-orm';
import type { AuditLog } from '../audit';
import type { Orm } from '../db';
import { newId, systemCaller, type Clock, type Random } from '../kernel';
import { blockAttributions, blockProvenance } from '../mining';
import type { ChainBlock } from '../trade';
import { clearingBlocks, clearingHoldings, clearingLots, clearingOutputs } from './schema';

/**
 * The clearing consumer's work on one block, inside the chain watcher's block transaction and
 * after mining's consumer (whose attributions and provenance tags it reads):
 *
 * 1. every attributed coinbase output becomes a lot: `quarantined` when mined inside a ban of its
 *    region (MINED_IN_BAN) or before its site was registered (SITE_NOT_REGISTERED), else `cleared`;
 * 2. every output created in the block that carries provenance (by the haircut rule, mining's
 *    tags) or pays a company wallet gets its stored clearance: cleared, quarantined and
 *    undetermined sats, and the quarantined lots' sats one row each (for a release);
 * 3. lots and watched outputs the block spends are marked spent.
 *
 * A disconnected block undoes exactly that: spends are unmarked and its rows go by cascade.
 */

/**
 * The chain module's one block type (through trade, which clearing may import): what the chain
 * watcher delivers, every input with the output it spends.
 */
export type ClearingBlock = ChainBlock;

/** Whose company wallet an address is (the registry's walletAddressOwners, in the caller's unit). */
export type WalletLookup = (addresses: readonly string[]) => Promise<ReadonlyMap<string, unknown>>;

/**
 * A block's time may run up to two hours ahead of the clock that registered the site (consensus
 * accepts headers up to two hours in the future): only a block older than the registration by
 * more than that was mined at a site the scheme did not know.
 */
export const SITE_REGISTRATION_TOLERANCE_MS = 2 * 60 * 60 * 1000;

const CLEARING = systemCaller('clearing');
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

export async function connectBlock(
  tx: Orm,
  block: ClearingBlock,
  deps: { clock: Clock; audit: AuditLog; random: Random; wallets: WalletLookup },
): Promise<void> {
  const inserted = await tx
    .insert(clearingBlocks)
    .values({ hash: block.hash, height: block.height })
    .onConflictDoNothing()
    .returning({ hash: clearingBlocks.hash });
  if (inserted.length === 0) return; // delivered again (a rescan): already done
  const now = deps.clock.now();

  // 1. Lots.
  const attributions = await blockAttributions(tx, block.hash);
  const quarantinedLots: { id: string; reason: string }[] = [];
  for (const a of attributions) {
    const reason = a.banId
      ? 'MINED_IN_BAN'
      : a.blockTime.getTime() + SITE_REGISTRATION_TOLERANCE_MS < a.siteRegisteredAt.getTime()
        ? 'SITE_NOT_REGISTERED'
        : null;
    const clearance = reason ? 'quarantined' : 'cleared';
    const id = newId('lot', now, deps.random);
    await tx.insert(clearingLots).values({
      id,
      attributionId: a.attributionId,
      blockHash: block.hash,
      height: block.height,
      blockTime: a.blockTime,
      txid: a.txid,
      vout: a.vout,
      valueSats: a.valueSats,
      minerId: a.minerId,
      siteId: a.siteId,
      regionCode: a.regionCode,
      status: clearance,
      clearance,
      quarantineReason: reason,
      banId: reason === 'MINED_IN_BAN' ? a.banId : null,
      createdAt: now,
      updatedAt: now,
    });
    if (reason) quarantinedLots.push({ id, reason });
  }

  // 2. The clearance of the outputs created in this block.
  const values = new Map<string, bigint>();
  const addresses = new Map<string, string>();
  for (const t of block.transactions) {
    for (const o of t.outputs) {
      values.set(`${t.txid}:${o.vout}`, o.valueSats);
      if (o.address) addresses.set(`${t.txid}:${o.vout}`, o.address);
    }
  }
  const tags = await blockProvenance(tx, block.hash);
  const origins = [...new Set(tags.map((t) => t.originId))];
  // The lots of the origins, read FOR SHARE: a release committing meanwhile is waited for and
  // then seen, so no output is stored with a clearance the release already changed.
  const lots = new Map<string, { id: string; clearance: string }>();
  for (const part of chunks(origins)) {
    const rows = await tx
      .select({
        id: clearingLots.id,
        attributionId: clearingLots.attributionId,
        clearance: clearingLots.clearance,
      })
      .from(clearingLots)
      .where(inArray(clearingLots.attributionId, part))
      .for('share');
    for (const row of rows) lots.set(row.attributionId, row);
  }
  interface Clearance {
    cleared: bigint;
    quarantined: bigint;
    undetermined: bigint;
    holdings: Map<string, bigint>;
  }
  const clearances = new Map<string, Clearance>();
  const empty = (): Clearance => ({
    cleared: 0n,
    quarantined: 0n,
    undetermined: 0n,
    holdings: new Map(),
  });
  for (const tag of tags) {
    const key = `${tag.txid}:${tag.vout}`;
    const c = clearances.get(key) ?? empty();
    const lot = lots.get(tag.originId);
    if (!lot) c.undetermined += tag.sats;
    else if (lot.clearance === 'quarantined') {
      c.quarantined += tag.sats;
      c.holdings.set(lot.id, (c.holdings.get(lot.id) ?? 0n) + tag.sats);
    } else c.cleared += tag.sats;
    clearances.set(key, c);
  }
  // Company wallet coins are watched whatever they carry (nothing mined: a cleared share of 0).
  const owners = await deps.wallets([...new Set(addresses.values())]);
  for (const [key, address] of addresses) {
    if (owners.has(address) && !clearances.has(key)) clearances.set(key, empty());
  }
  const outputRows = [];
  const holdingRows = [];
  for (const [key, c] of clearances) {
    const valueSats = values.get(key) ?? 0n;
    if (valueSats <= 0n) continue;
    const [txid = '', vout = '0'] = key.split(':');
    outputRows.push({
      txid,
      vout: Number(vout),
      blockHash: block.hash,
      height: block.height,
      valueSats,
      clearedSats: c.cleared,
      quarantinedSats: c.quarantined,
      undeterminedSats: c.undetermined,
    });
    for (const [lotId, sats] of c.holdings)
      holdingRows.push({ txid, vout: Number(vout), lotId, sats, blockHash: block.hash });
  }
  for (const part of chunks(outputRows)) await tx.insert(clearingOutputs).values(part);
  for (const part of chunks(holdingRows)) await tx.insert(clearingHoldings).values(part);

  // 3. Spends: one statement per table and chunk of the block's inputs.
  const spends = block.transactions.flatMap((t) =>
    t.coinbase ? [] : t.inputs.map((i) => ({ txid: i.txid, vout: i.vout, by: t.txid })),
  );
  for (const part of chunks(spends)) {
    const spent = sql`(values ${sql.join(
      part.map((s) => sql`(${s.txid}, ${s.vout}::integer, ${s.by})`),
      sql`, `,
    )}) as spent(txid, vout, by_txid)`;
    await tx.execute(sql`update clearing_lots set status = 'spent', spent_by_txid = spent.by_txid,
      spent_in_block = ${block.hash}, updated_at = ${now.toISOString()}::timestamptz
      from ${spent} where clearing_lots.txid = spent.txid and clearing_lots.vout = spent.vout`);
    await tx.execute(sql`update clearing_outputs set spent_by_txid = spent.by_txid,
      spent_in_block = ${block.hash}
      from ${spent} where clearing_outputs.txid = spent.txid and clearing_outputs.vout = spent.vout`);
  }

  // Quarantines are on record (the supervisor releases them, audited); cleared lots are not
  // audited one by one (they are the normal case, and every block has them).
  for (const lot of quarantinedLots) {
    await deps.audit.record(CLEARING, {
      action: 'clearing_lot.quarantined',
      entityType: 'lot',
      entityId: lot.id,
      after: { reason: lot.reason, blockHash: block.hash, height: block.height },
    });
  }
}

export async function disconnectBlock(
  tx: Orm,
  block: { hash: string; height: number },
  deps: { clock: Clock; audit: AuditLog },
): Promise<void> {
  const now = deps.clock.now();
  // What this block spent is unspent again; a lot goes back to its clearance.
  await tx
    .update(clearingLots)
    .set({
      status: sql`${clearingLots.clearance}`,
      spentByTxid: null,
      spentInBlock: null,
      updatedAt: now,
    })
    .where(eq(clearingLots.spentInBlock, block.hash));
  await tx
    .update(clearingOutputs)
    .set({ spentByTxid: null, spentInBlock: null })
    .where(eq(clearingOutputs.spentInBlock, block.hash));
  // What it created goes by cascade (lots, outputs, holdings); withdrawn quarantines are audited.
  const removed = await tx
    .select({ id: clearingLots.id, clearance: clearingLots.clearance })
    .from(clearingLots)
    .where(eq(clearingLots.blockHash, block.hash));
  await tx.delete(clearingBlocks).where(eq(clearingBlocks.hash, block.hash));
  for (const lot of removed) {
    if (lot.clearance === 'cleared') continue;
    await deps.audit.record(CLEARING, {
      action: 'clearing_lot.withdrawn',
      entityType: 'lot',
      entityId: lot.id,
      after: {
        reason: `block ${block.hash} at height ${block.height} was disconnected by a reorganization`,
      },
    });
  }
}

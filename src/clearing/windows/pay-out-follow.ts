import { and, eq, gt, inArray, isNotNull, lte, ne, sql } from 'drizzle-orm';
import type { Orm } from '../../db';
import { WINDOWS_CALLER, type WindowContext } from './lifecycle';
import { alertPayOutHold } from './pay-out-alerts';
import {
  payOutsSent,
  REPLACED_TRANSACTION_MINED,
  SETTLEMENT_PAY_OUT_EVENTS,
  type PayOutTransactionRow,
} from './pay-out-broadcast';
import type { PayInBlock } from './pay-ins';
import { clearingPayOutTransactions, clearingPayOuts } from './schema';

/**
 * A settled window's stored pay-out transaction followed on the chain by the windows' chain
 * consumer, in each block's transaction (issue 13): into a block, `confirmed` at the scheme's
 * confirmation depth (the depth pay-ins count at), undone when a reorganization takes that depth
 * or its block away; and a transaction it replaced, mined after all, holds it for the supervisor.
 */

const CHUNK = 500;

/** A stored transaction's row: its window and its rank in it. */
const rowKey = (row: PayOutTransactionRow) =>
  and(
    eq(clearingPayOutTransactions.windowId, row.windowId),
    eq(clearingPayOutTransactions.seq, row.seq),
  );

/**
 * In the block's transaction: a stored pay-out transaction in the block is out (`broadcast`, in
 * that block: the block proves it went out even if its sending was never recorded), one a
 * transaction in the block had replaced is held (`replacedMined`), and every one in a block that
 * has reached the scheme's confirmation depth at this block is `confirmed`, its pay-outs with it.
 */
export async function payOutsConnected(
  tx: Orm,
  ctx: WindowContext,
  block: PayInBlock,
): Promise<void> {
  const txids = block.transactions.map((t) => t.txid);
  for (let i = 0; i < txids.length; i += CHUNK) {
    const found = await tx
      .select()
      .from(clearingPayOutTransactions)
      .where(
        and(
          inArray(clearingPayOutTransactions.txid, txids.slice(i, i + CHUNK)),
          inArray(clearingPayOutTransactions.status, ['signed', 'broadcast', 'rejected', 'held']),
        ),
      )
      // Locked: a rebuild or an adoption committing meanwhile is waited for, and read as it is.
      .for('update');
    for (const row of found) {
      await tx
        .update(clearingPayOutTransactions)
        .set({
          status: 'broadcast',
          blockHash: block.hash,
          blockHeight: block.height,
          broadcastAt: row.broadcastAt ?? ctx.clock.now(),
          heldCode: null,
          nextAttemptAt: null,
          minedTxid: null,
          minedBlockHash: null,
          minedBlockHeight: null,
        })
        .where(rowKey(row));
      await payOutsSent(tx, ctx, row);
      if (row.status !== 'broadcast')
        await ctx.audit.record(WINDOWS_CALLER, {
          action: SETTLEMENT_PAY_OUT_EVENTS.broadcast,
          entityType: 'settlement_window',
          entityId: row.windowId,
          before: { status: row.status },
          after: { status: 'broadcast', txid: row.txid, seenIn: block.hash, height: block.height },
        });
    }
    await replacedMined(tx, ctx, block, txids.slice(i, i + CHUNK));
  }
  const depth = Math.max(1, await ctx.confirmationDepth(tx));
  const deep = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(
      and(
        eq(clearingPayOutTransactions.status, 'broadcast'),
        isNotNull(clearingPayOutTransactions.blockHash),
        lte(clearingPayOutTransactions.blockHeight, block.height - depth + 1),
      ),
    );
  for (const row of deep) {
    await tx
      .update(clearingPayOutTransactions)
      .set({ status: 'confirmed', confirmedAt: ctx.clock.now() })
      .where(rowKey(row));
    await tx
      .update(clearingPayOuts)
      .set({ status: 'confirmed' })
      .where(and(eq(clearingPayOuts.windowId, row.windowId), eq(clearingPayOuts.txid, row.txid)));
    await ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.confirmed,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: 'broadcast' },
      after: {
        status: 'confirmed',
        txid: row.txid,
        blockHash: row.blockHash,
        height: row.blockHeight,
        confirmations: block.height - (row.blockHeight ?? block.height) + 1,
      },
    });
  }
}

/**
 * A transaction the supervisor's rebuild replaced (in `replacedTxids`), mined after all: it spends
 * the pay-ins the stored one spends, which can then never be mined, and it paid what it paid (to
 * the addresses of its signing). Fail closed: the stored transaction is `held`
 * (REPLACED_TRANSACTION_MINED), no longer sent and not rebuilt, the mined txid and its block kept
 * (`minedTxid`, `minedBlockHash`), audited with them for the supervisor (alert), once; its
 * pay-outs are left naming the stored one until the supervisor adopts the mined one
 * (pay-out-adopt.ts). Mined again after a reorganization, its new block is recorded.
 */
async function replacedMined(
  tx: Orm,
  ctx: WindowContext,
  block: PayInBlock,
  txids: readonly string[],
): Promise<void> {
  if (txids.length === 0) return;
  const found = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(
      sql`${clearingPayOutTransactions.replacedTxids} ?| array(select jsonb_array_elements_text(${JSON.stringify(txids)}::jsonb))`,
    )
    // Locked, as above: read before an adoption committed, the row would be held again for the
    // transaction the supervisor has just adopted.
    .for('update');
  for (const row of found) {
    const mined = row.replacedTxids.find((t) => txids.includes(t)) ?? '';
    const already = row.status === 'held' && row.heldCode === REPLACED_TRANSACTION_MINED;
    if (already && row.minedTxid === mined && row.minedBlockHash === block.hash) continue;
    const lastError = `replaced transaction ${mined} mined in block ${block.hash} at height ${block.height}`;
    await tx
      .update(clearingPayOutTransactions)
      .set({
        status: 'held',
        heldCode: REPLACED_TRANSACTION_MINED,
        lastError,
        nextAttemptAt: null,
        blockHash: null,
        blockHeight: null,
        confirmedAt: null,
        minedTxid: mined,
        minedBlockHash: block.hash,
        minedBlockHeight: block.height,
      })
      .where(rowKey(row));
    if (already && row.minedTxid === mined) continue;
    const alert = await alertPayOutHold(ctx, WINDOWS_CALLER, {
      windowId: row.windowId,
      code: REPLACED_TRANSACTION_MINED,
      platformId: null,
      detail: `Transaction ${mined} (replaced by ${row.txid}) is in block ${block.hash} at height ${block.height}: adopt it if it pays the receivers (POST /v1/settlement-windows/${row.windowId}/pay-out/adopt-mined).`,
    });
    await ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.transactionHeld,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: row.status, txid: row.txid, code: row.heldCode },
      after: {
        status: 'held',
        code: REPLACED_TRANSACTION_MINED,
        txid: row.txid,
        minedTxid: mined,
        blockHash: block.hash,
        height: block.height,
        alert: 'supervisor',
        alertId: alert?.alertId ?? null,
      },
    });
  }
}

/**
 * In the block's transaction: a pay-out transaction in the disconnected block is out of every
 * block again (`broadcast`, sent again by the job while no block has it), and a confirmed one
 * below the scheme's depth at the new tip (the block's parent) is `broadcast` in its block until
 * the depth is reached again; its pay-outs with it, audited `unconfirmed`. A transaction held
 * because a replaced one was mined in that block stays held, that block forgotten (`minedBlockHash`
 * null: adopted now, the mined one would be sent again and followed into its next block).
 */
export async function payOutsDisconnected(
  tx: Orm,
  ctx: WindowContext,
  block: PayInBlock,
): Promise<void> {
  const inBlock = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(eq(clearingPayOutTransactions.blockHash, block.hash));
  for (const row of inBlock) {
    await tx
      .update(clearingPayOutTransactions)
      .set({ status: 'broadcast', blockHash: null, blockHeight: null, confirmedAt: null })
      .where(rowKey(row));
    await unconfirmed(tx, ctx, row, block, 'its block was disconnected');
  }
  await tx
    .update(clearingPayOutTransactions)
    .set({ minedBlockHash: null, minedBlockHeight: null })
    .where(eq(clearingPayOutTransactions.minedBlockHash, block.hash));
  const depth = Math.max(1, await ctx.confirmationDepth(tx));
  const shallow = await tx
    .select()
    .from(clearingPayOutTransactions)
    .where(
      and(
        eq(clearingPayOutTransactions.status, 'confirmed'),
        ne(clearingPayOutTransactions.blockHash, block.hash),
        gt(clearingPayOutTransactions.blockHeight, block.height - depth),
      ),
    );
  for (const row of shallow) {
    await tx
      .update(clearingPayOutTransactions)
      .set({ status: 'broadcast', confirmedAt: null })
      .where(rowKey(row));
    await unconfirmed(tx, ctx, row, block, 'below the confirmation depth');
  }
}

async function unconfirmed(
  tx: Orm,
  ctx: WindowContext,
  row: PayOutTransactionRow,
  block: PayInBlock,
  why: string,
): Promise<void> {
  await tx
    .update(clearingPayOuts)
    .set({ status: 'broadcast' })
    .where(and(eq(clearingPayOuts.windowId, row.windowId), eq(clearingPayOuts.txid, row.txid)));
  await ctx.audit.record(WINDOWS_CALLER, {
    action: SETTLEMENT_PAY_OUT_EVENTS.unconfirmed,
    entityType: 'settlement_window',
    entityId: row.windowId,
    before: { status: row.status, blockHash: row.blockHash, height: row.blockHeight },
    after: { status: 'broadcast', txid: row.txid, disconnected: block.hash, why },
  });
}

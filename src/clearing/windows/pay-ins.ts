import { and, eq, inArray } from 'drizzle-orm';
import { recordAudit } from '../../audit';
import type { Orm } from '../../db';
import { newId, type Caller } from '../../kernel';
import { HOLDING, platformAccount, postEntry } from './books';
import { WINDOWS_CALLER, settleWindow, type WindowContext } from './lifecycle';
import { clearingPayInRefusals, clearingPayIns, clearingWindows } from './schema';

export const PAY_IN_REFUSALS = [
  'PAY_IN_WRONG_AMOUNT',
  'PAY_IN_ALREADY_RECEIVED',
  'WINDOW_ALREADY_SETTLED',
] as const;
export type PayInRefusalReason = (typeof PAY_IN_REFUSALS)[number];

type PayInRow = typeof clearingPayIns.$inferSelect;

/** What arrived: an on-chain output, or a bank transfer with its reference. */
export interface Arrival {
  readonly amount: bigint;
  readonly txid?: string;
  readonly vout?: number;
  readonly blockHash?: string;
  readonly bankReference?: string;
}

/** The chain watcher's block, structurally (what pay-in detection reads). */
export interface PayInBlock {
  readonly hash: string;
  readonly transactions: readonly {
    readonly txid: string;
    readonly outputs: readonly {
      readonly vout: number;
      readonly valueSats: bigint;
      readonly address: string | null;
    }[];
  }[];
}

/**
 * Judges one arrival against the pay-in it was made for, inside the caller's transaction: the
 * exact amount, once, into a window not settled yet, is received (the clearing's holding debited,
 * the payer credited, audited) and the window settles if it was the last one awaited; anything
 * else is recorded as a refusal with its closed reason (audited) and does not count.
 */
export async function applyArrival(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  payIn: PayInRow,
  arrival: Arrival,
): Promise<
  { received: true } | { received: false; reason: PayInRefusalReason; refusalId: string }
> {
  const now = ctx.clock.now();
  const [window] = await tx
    .select({ status: clearingWindows.status })
    .from(clearingWindows)
    .where(eq(clearingWindows.id, payIn.windowId))
    .for('update');
  const [current] = await tx
    .select()
    .from(clearingPayIns)
    .where(eq(clearingPayIns.id, payIn.id))
    .for('update');
  const reason: PayInRefusalReason | null =
    current?.status === 'received'
      ? 'PAY_IN_ALREADY_RECEIVED'
      : window?.status === 'settled'
        ? 'WINDOW_ALREADY_SETTLED'
        : arrival.amount !== payIn.amountDue
          ? 'PAY_IN_WRONG_AMOUNT'
          : null;
  const detail = {
    windowId: payIn.windowId,
    platformId: payIn.platformId,
    asset: payIn.asset,
    amountDue: payIn.amountDue.toString(),
    amount: arrival.amount.toString(),
    txid: arrival.txid ?? null,
    vout: arrival.vout ?? null,
    bankReference: arrival.bankReference ?? null,
  };
  if (reason) {
    const refusalId = newId('payInRefusal', now, ctx.random);
    await tx.insert(clearingPayInRefusals).values({
      id: refusalId,
      payInId: payIn.id,
      reason,
      amount: arrival.amount,
      txid: arrival.txid ?? null,
      vout: arrival.vout ?? null,
      blockHash: arrival.blockHash ?? null,
      bankReference: arrival.bankReference ?? null,
      createdAt: now,
    });
    await recordAudit(tx, caller, ctx.clock, {
      action: 'settlement_pay_in.refused',
      entityType: 'pay_in',
      entityId: payIn.id,
      after: { ...detail, reason, refusalId },
    });
    return { received: false, reason, refusalId };
  }
  await tx
    .update(clearingPayIns)
    .set({
      status: 'received',
      txid: arrival.txid ?? null,
      vout: arrival.vout ?? null,
      blockHash: arrival.blockHash ?? null,
      bankReference: arrival.bankReference ?? null,
      receivedAt: now,
    })
    .where(eq(clearingPayIns.id, payIn.id));
  await postEntry(
    tx,
    { windowId: payIn.windowId, entry: `pay-in:${payIn.id}`, kind: 'payIn.received', at: now },
    [
      { account: HOLDING, asset: payIn.asset, amount: arrival.amount },
      { account: platformAccount(payIn.platformId), asset: payIn.asset, amount: -arrival.amount },
    ],
  );
  await recordAudit(tx, caller, ctx.clock, {
    action: 'settlement_pay_in.received',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: { status: 'awaiting' },
    after: { ...detail, status: 'received' },
  });
  await settleWindow(tx, ctx, payIn.windowId);
  return { received: true };
}

/** Bitcoin pay-ins in a connected block: every output paying a pay-in's deposit address. */
export async function payInsConnected(
  tx: Orm,
  ctx: WindowContext,
  block: PayInBlock,
): Promise<void> {
  const outputs = block.transactions.flatMap((t) =>
    t.outputs.flatMap((o) => (o.address ? [{ txid: t.txid, ...o, address: o.address }] : [])),
  );
  if (outputs.length === 0) return;
  const addresses = [...new Set(outputs.map((o) => o.address))];
  const due = new Map<string, PayInRow>();
  for (let i = 0; i < addresses.length; i += 500) {
    const rows = await tx
      .select()
      .from(clearingPayIns)
      .where(inArray(clearingPayIns.address, addresses.slice(i, i + 500)));
    for (const row of rows) if (row.address) due.set(row.address, row);
  }
  if (due.size === 0) return;
  for (const output of outputs) {
    const payIn = due.get(output.address);
    if (!payIn) continue;
    await applyArrival(tx, ctx, WINDOWS_CALLER, payIn, {
      amount: output.valueSats,
      txid: output.txid,
      vout: output.vout,
      blockHash: block.hash,
    });
  }
}

/**
 * A disconnected block takes its pay-ins back: a received pay-in of a window not settled yet
 * awaits again (its ledger entry reversed, audited); its refusals go. A pay-in of a window that
 * already settled is not undone here: the event is audited for the clearing operator.
 */
export async function payInsDisconnected(
  tx: Orm,
  ctx: WindowContext,
  block: { readonly hash: string },
): Promise<void> {
  const now = ctx.clock.now();
  await tx.delete(clearingPayInRefusals).where(eq(clearingPayInRefusals.blockHash, block.hash));
  // The windows first, locked (the order `applyArrival` and `settleWindow` take): a window
  // settling at this moment either settles before (and the reorg is only audited) or after
  // (and sees the pay-in awaiting again), never in between.
  const windowIds = (
    await tx
      .selectDistinct({ id: clearingPayIns.windowId })
      .from(clearingPayIns)
      .where(and(eq(clearingPayIns.blockHash, block.hash), eq(clearingPayIns.status, 'received')))
  ).map((r) => r.id);
  if (windowIds.length > 0)
    await tx
      .select({ id: clearingWindows.id })
      .from(clearingWindows)
      .where(inArray(clearingWindows.id, windowIds))
      .orderBy(clearingWindows.id)
      .for('update');
  const rows = await tx
    .select({ payIn: clearingPayIns, windowStatus: clearingWindows.status })
    .from(clearingPayIns)
    .innerJoin(clearingWindows, eq(clearingWindows.id, clearingPayIns.windowId))
    .where(and(eq(clearingPayIns.blockHash, block.hash), eq(clearingPayIns.status, 'received')));
  for (const { payIn, windowStatus } of rows) {
    if (windowStatus === 'settled') {
      await recordAudit(tx, WINDOWS_CALLER, ctx.clock, {
        action: 'settlement_pay_in.reorgedAfterSettlement',
        entityType: 'pay_in',
        entityId: payIn.id,
        after: { blockHash: block.hash, txid: payIn.txid, windowId: payIn.windowId },
      });
      continue;
    }
    await tx
      .update(clearingPayIns)
      .set({ status: 'awaiting', txid: null, vout: null, blockHash: null, receivedAt: null })
      .where(eq(clearingPayIns.id, payIn.id));
    await postEntry(
      tx,
      {
        windowId: payIn.windowId,
        entry: `pay-in-withdrawn:${payIn.id}:${block.hash}`,
        kind: 'payIn.withdrawn',
        at: now,
      },
      [
        { account: HOLDING, asset: payIn.asset, amount: -payIn.amountDue },
        { account: platformAccount(payIn.platformId), asset: payIn.asset, amount: payIn.amountDue },
      ],
    );
    await recordAudit(tx, WINDOWS_CALLER, ctx.clock, {
      action: 'settlement_pay_in.withdrawn',
      entityType: 'pay_in',
      entityId: payIn.id,
      before: { status: 'received', txid: payIn.txid },
      after: { status: 'awaiting', blockHash: block.hash },
    });
  }
}

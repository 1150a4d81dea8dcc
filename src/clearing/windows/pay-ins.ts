import { and, desc, eq, gt, inArray, lte, ne } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError, newId, type Caller } from '../../kernel';
import { HOLDING, platformAccount, postEntry } from './books';
import { WINDOWS_CALLER, settleWindow, type WindowContext } from './lifecycle';
import { clearingPayInRefusals, clearingPayIns, clearingWindows } from './schema';

export const PAY_IN_REFUSALS = [
  'PAY_IN_WRONG_AMOUNT',
  'PAY_IN_ALREADY_RECEIVED',
  'WINDOW_ALREADY_SETTLED',
] as const;
export type PayInRefusalReason = (typeof PAY_IN_REFUSALS)[number];

export type PayInRow = typeof clearingPayIns.$inferSelect;

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
  readonly height: number;
  readonly transactions: readonly {
    readonly txid: string;
    /** Each input with the output it spends (null address: a script without an address form). */
    readonly inputs: readonly { readonly prevout: { readonly address: string | null } }[];
    readonly outputs: readonly {
      readonly vout: number;
      readonly valueSats: bigint;
      readonly address: string | null;
    }[];
  }[];
}

const detailOf = (payIn: PayInRow, arrival: Arrival) => ({
  windowId: payIn.windowId,
  platformId: payIn.platformId,
  asset: payIn.asset,
  amountDue: payIn.amountDue.toString(),
  amount: arrival.amount.toString(),
  txid: arrival.txid ?? null,
  vout: arrival.vout ?? null,
  bankReference: arrival.bankReference ?? null,
});

/**
 * Why an arrival cannot count against its pay-in (null: it can), with the window and the pay-in
 * locked in that order (the order `settleWindow` and a reorg take). `counting`: the pay-in's own
 * arrival coming to count (a bitcoin pay-in that was confirming), not another one.
 */
async function refusalOf(
  tx: Orm,
  payIn: PayInRow,
  arrival: Arrival,
  counting = false,
): Promise<PayInRefusalReason | null> {
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
  const taken = current?.status === 'received' || (!counting && current?.status !== 'awaiting');
  return taken
    ? 'PAY_IN_ALREADY_RECEIVED'
    : window?.status === 'settled'
      ? 'WINDOW_ALREADY_SETTLED'
      : arrival.amount !== payIn.amountDue
        ? 'PAY_IN_WRONG_AMOUNT'
        : null;
}

/** Records an arrival that does not count, with its closed reason (audited). */
async function refuse(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  payIn: PayInRow,
  arrival: Arrival,
  reason: PayInRefusalReason,
): Promise<string> {
  const refusalId = newId('payInRefusal', ctx.clock.now(), ctx.random);
  await tx.insert(clearingPayInRefusals).values({
    id: refusalId,
    payInId: payIn.id,
    reason,
    amount: arrival.amount,
    txid: arrival.txid ?? null,
    vout: arrival.vout ?? null,
    blockHash: arrival.blockHash ?? null,
    bankReference: arrival.bankReference ?? null,
    createdAt: ctx.clock.now(),
  });
  await ctx.audit.record(caller, {
    action: 'settlement_pay_in.refused',
    entityType: 'pay_in',
    entityId: payIn.id,
    after: { ...detailOf(payIn, arrival), reason, refusalId },
  });
  return refusalId;
}

/** The exact amount counts: the clearing's holding debited, the payer credited (audited). */
export async function receive(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  payIn: PayInRow,
  arrival: Arrival,
): Promise<void> {
  const now = ctx.clock.now();
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
  await ctx.audit.record(caller, {
    action: 'settlement_pay_in.received',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: { status: payIn.status },
    after: { ...detailOf(payIn, arrival), status: 'received' },
  });
  await settleWindow(tx, ctx, payIn.windowId);
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
  const reason = await refusalOf(tx, payIn, arrival);
  if (reason)
    return {
      received: false,
      reason,
      refusalId: await refuse(tx, ctx, caller, payIn, arrival, reason),
    };
  await receive(tx, ctx, caller, payIn, arrival);
  return { received: true };
}

/**
 * Bitcoin pay-ins in a connected block. An output paying a pay-in's deposit address with the
 * exact amount makes the pay-in `confirming` (its paying addresses kept); any other is refused at
 * once. Then every confirming pay-in that has reached the scheme's confirmation depth at this
 * block is judged: its paying addresses screened (each must be clear; an input without an address
 * cannot be screened), and it counts, or it is `held` (audited; it does not count, and its
 * platform is taken out at the deadline unless it pays in otherwise).
 */
export async function payInsConnected(
  tx: Orm,
  ctx: WindowContext,
  block: PayInBlock,
): Promise<void> {
  await arrivalsIn(tx, ctx, block);
  const confirming = await tx
    .select()
    .from(clearingPayIns)
    .where(
      and(eq(clearingPayIns.status, 'confirming'), lte(clearingPayIns.blockHeight, block.height)),
    )
    .orderBy(clearingPayIns.id);
  if (confirming.length === 0) return;
  const depth = Math.max(1, await ctx.confirmationDepth(tx));
  for (const payIn of confirming)
    if (block.height - (payIn.blockHeight ?? block.height) + 1 >= depth)
      await judgeConfirmed(tx, ctx, payIn, depth);
}

async function arrivalsIn(tx: Orm, ctx: WindowContext, block: PayInBlock): Promise<void> {
  const outputs = block.transactions.flatMap((t) =>
    t.outputs.flatMap((o) => (o.address ? [{ tx: t, ...o, address: o.address }] : [])),
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
  for (const output of outputs) {
    const payIn = due.get(output.address);
    if (!payIn) continue;
    const arrival = {
      amount: output.valueSats,
      txid: output.tx.txid,
      vout: output.vout,
      blockHash: block.hash,
    };
    const reason = await refusalOf(tx, payIn, arrival);
    if (reason) {
      await refuse(tx, ctx, WINDOWS_CALLER, payIn, arrival, reason);
      continue;
    }
    const payers = output.tx.inputs.map((i) => i.prevout.address);
    await tx
      .update(clearingPayIns)
      .set({
        status: 'confirming',
        txid: arrival.txid,
        vout: arrival.vout,
        blockHash: block.hash,
        blockHeight: block.height,
        payers,
      })
      .where(eq(clearingPayIns.id, payIn.id));
    await ctx.audit.record(WINDOWS_CALLER, {
      action: 'settlement_pay_in.seen',
      entityType: 'pay_in',
      entityId: payIn.id,
      before: { status: 'awaiting' },
      after: { ...detailOf(payIn, arrival), status: 'confirming', height: block.height },
    });
  }
}

/** A confirming pay-in at the scheme's depth: screened, then counted or held. */
async function judgeConfirmed(
  tx: Orm,
  ctx: WindowContext,
  payIn: PayInRow,
  depth: number,
): Promise<void> {
  const arrival = {
    amount: payIn.amountDue,
    txid: payIn.txid ?? '',
    vout: payIn.vout ?? 0,
    blockHash: payIn.blockHash ?? '',
  };
  const reason = await refusalOf(tx, payIn, arrival, true);
  if (reason) {
    // The window settled meanwhile (at its deadline, without this platform): it stays a record.
    await tx
      .update(clearingPayIns)
      .set({ status: 'awaiting', txid: null, vout: null, blockHash: null, blockHeight: null })
      .where(eq(clearingPayIns.id, payIn.id));
    await refuse(tx, ctx, WINDOWS_CALLER, payIn, arrival, reason);
    return;
  }
  const failed = await payersFailing(tx, ctx, payIn.payers ?? []);
  if (failed.length === 0) {
    await receive(tx, ctx, WINDOWS_CALLER, payIn, arrival);
    return;
  }
  const heldReason: HeldReason = failed.some((f) => f.outcome === 'match')
    ? 'listMatch'
    : 'unscreenable';
  // The supervisor's alert, in this transaction: which addresses failed and how (the list entry
  // is the screening's own record). Alerts and cases are the supervisor's and auditors' only, so
  // nothing of the screening reaches the platform through them (no tipping-off).
  const alert = ctx.screening
    ? await ctx.screening.raiseAddressAlert(WINDOWS_CALLER, {
        partyId: payIn.platformId,
        platformId: payIn.platformId,
        rule: HELD_PAY_IN_RULE,
        message: `Settlement pay-in ${payIn.id} (window ${payIn.windowId}, ${payIn.amountDue} sats, transaction ${payIn.txid ?? '?'}) is held: ${failed
          .map((f) =>
            f.address === null
              ? 'an input without an address (cannot be screened)'
              : `${f.address} (${f.outcome})`,
          )
          .join(', ')}. Decide it: accept (it counts) or reject (${
          heldReason === 'listMatch'
            ? 'a listed address paid it: its coins are frozen and reported, never returned'
            : 'returned to the payer'
        }).`,
      })
    : null;
  await tx
    .update(clearingPayIns)
    .set({
      status: 'held',
      heldReason,
      alertId: alert?.alertId ?? null,
      caseId: alert?.caseId ?? null,
    })
    .where(eq(clearingPayIns.id, payIn.id));
  // The supervisor's record: which addresses paid, not which list entry matched (that is the
  // screening's own record), so nothing of the screening reaches the platform through it.
  await ctx.audit.record(WINDOWS_CALLER, {
    action: 'settlement_pay_in.held',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: { status: 'confirming' },
    after: {
      ...detailOf(payIn, arrival),
      status: 'held',
      heldReason,
      reason: ctx.screening
        ? 'the paying addresses did not pass address screening'
        : 'no address screening is wired: the paying addresses cannot be screened',
      payers: payIn.payers ?? [],
      failed,
      confirmations: depth,
      alertId: alert?.alertId ?? null,
      caseId: alert?.caseId ?? null,
    },
  });
}

/** The rule a held pay-in's alert names (alerts' rules are versioned ids). */
export const HELD_PAY_IN_RULE = 'clearing.pay-in-held@1';

/**
 * Why a pay-in is held. `listMatch`: a paying address is on a sanctions list; its coins may not
 * be returned to the listed payer (they are frozen and reported: UN Security Council resolution
 * 1373 and FATF Recommendation 6, freezing without delay). `unscreenable`: an address could not
 * be screened (no address form, none wired, or refused by the screening); nothing is known
 * against the payer, so a rejected one is returned.
 */
export const HELD_REASONS = ['listMatch', 'unscreenable'] as const;
export type HeldReason = (typeof HELD_REASONS)[number];

/**
 * The paying addresses that did not screen clear (fail closed: with no screening every one
 * fails; an input without an address cannot be screened). Empty: every one is clear.
 */
async function payersFailing(
  tx: Orm,
  ctx: WindowContext,
  payers: readonly (string | null)[],
): Promise<{ address: string | null; outcome: string }[]> {
  if (payers.length === 0) return [{ address: null, outcome: 'none' }];
  const failed: { address: string | null; outcome: string }[] = [];
  for (const address of new Set(payers)) {
    if (address === null || !ctx.screening) {
      failed.push({ address, outcome: address === null ? 'unscreenable' : 'unscreened' });
      continue;
    }
    // An address the screening refuses to read (INVALID_ADDRESS, thrown before any query) could
    // not be screened; any other failure fails the block's transaction, to be retried.
    const result = await ctx.screening
      .screenAddress(WINDOWS_CALLER, address)
      .catch((error: unknown) => {
        if (error instanceof AppError && error.code === 'INVALID_ADDRESS')
          return { outcome: 'unscreenable' };
        throw error;
      });
    if (result.outcome !== 'clear') failed.push({ address, outcome: result.outcome });
  }
  return failed;
}

/** Whether a later attempt of the same due exists (the pay-in was rejected or frozen, then reopened). */
async function superseded(tx: Orm, payIn: PayInRow): Promise<boolean> {
  const [later] = await tx
    .select({ id: clearingPayIns.id })
    .from(clearingPayIns)
    .where(
      and(
        eq(clearingPayIns.windowId, payIn.windowId),
        eq(clearingPayIns.platformId, payIn.platformId),
        eq(clearingPayIns.asset, payIn.asset),
        gt(clearingPayIns.attempt, payIn.attempt),
      ),
    )
    .orderBy(desc(clearingPayIns.attempt))
    .limit(1);
  return later !== undefined;
}

/**
 * A disconnected block takes its pay-ins back: one received, confirming or held in it of a window
 * not settled yet awaits again (a received one's ledger entry reversed; audited), and a received
 * one that no longer has the scheme's depth at the new tip confirms again; its refusals go. A
 * pay-in of a window that already settled is not undone here, nor a rejected or frozen one whose
 * due was reopened: the event is audited for the clearing operator.
 */
export async function payInsDisconnected(
  tx: Orm,
  ctx: WindowContext,
  block: { readonly hash: string; readonly height: number },
): Promise<void> {
  await tx.delete(clearingPayInRefusals).where(eq(clearingPayInRefusals.blockHash, block.hash));
  const depth = Math.max(1, await ctx.confirmationDepth(tx));
  const inBlock = and(
    eq(clearingPayIns.blockHash, block.hash),
    // A decided one too: the transaction the decision was about is no longer in the chain.
    inArray(clearingPayIns.status, ['received', 'confirming', 'held', 'rejected', 'frozen']),
  );
  // Received below the depth the new tip (height − 1) gives: counted too early now.
  const shallow = and(
    ne(clearingPayIns.blockHash, block.hash),
    eq(clearingPayIns.status, 'received'),
    gt(clearingPayIns.blockHeight, block.height - depth),
  );
  // The windows first, locked (the order `applyArrival` and `settleWindow` take): a window
  // settling at this moment either settles before (and the reorg is only audited) or after
  // (and sees the pay-in awaiting again), never in between.
  for (const where of [inBlock, shallow]) {
    const windowIds = (
      await tx.selectDistinct({ id: clearingPayIns.windowId }).from(clearingPayIns).where(where)
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
      .where(where);
    for (const { payIn, windowStatus } of rows)
      await takeBack(tx, ctx, payIn, windowStatus, block.hash, where === inBlock);
  }
}

async function takeBack(
  tx: Orm,
  ctx: WindowContext,
  payIn: PayInRow,
  windowStatus: string,
  blockHash: string,
  inBlock: boolean,
): Promise<void> {
  if (windowStatus === 'settled') {
    if (payIn.status !== 'received') return;
    await ctx.audit.record(WINDOWS_CALLER, {
      action: 'settlement_pay_in.reorgedAfterSettlement',
      entityType: 'pay_in',
      entityId: payIn.id,
      after: { blockHash, txid: payIn.txid, windowId: payIn.windowId },
    });
    return;
  }
  if ((payIn.status === 'rejected' || payIn.status === 'frozen') && (await superseded(tx, payIn))) {
    // Its due was reopened at a fresh address: the decision stays a record of what was paid
    // and decided, and the attempt does not await again beside the open one.
    await ctx.audit.record(WINDOWS_CALLER, {
      action: 'settlement_pay_in.reorgedAfterDecision',
      entityType: 'pay_in',
      entityId: payIn.id,
      after: { blockHash, txid: payIn.txid, windowId: payIn.windowId, status: payIn.status },
    });
    return;
  }
  const status = inBlock ? 'awaiting' : 'confirming';
  await tx
    .update(clearingPayIns)
    .set(
      inBlock
        ? {
            status,
            txid: null,
            vout: null,
            blockHash: null,
            blockHeight: null,
            payers: null,
            receivedAt: null,
            decision: null,
            decisionReason: null,
            decidedByPerson: null,
            decidedAt: null,
            heldReason: null,
            alertId: null,
            caseId: null,
          }
        : { status, receivedAt: null },
    )
    .where(eq(clearingPayIns.id, payIn.id));
  if (payIn.status === 'received')
    await postEntry(
      tx,
      {
        windowId: payIn.windowId,
        entry: `pay-in-withdrawn:${payIn.id}:${blockHash}`,
        kind: 'payIn.withdrawn',
        at: ctx.clock.now(),
      },
      [
        { account: HOLDING, asset: payIn.asset, amount: -payIn.amountDue },
        { account: platformAccount(payIn.platformId), asset: payIn.asset, amount: payIn.amountDue },
      ],
    );
  await ctx.audit.record(WINDOWS_CALLER, {
    action: 'settlement_pay_in.withdrawn',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: { status: payIn.status, txid: payIn.txid },
    after: { status, blockHash },
  });
}

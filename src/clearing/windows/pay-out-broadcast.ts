import { and, asc, desc, eq, inArray, isNull, lte, or } from 'drizzle-orm';
import { fromHex } from '../../bitcoin';
import {
  broadcastRejection,
  chainHasTransaction,
  type BroadcastRejection,
  type ChainSource,
} from '../../chain';
import type { Database, Orm } from '../../db';
import { backoffMs } from '../../jobs';
import { WINDOWS_CALLER, type WindowContext } from './lifecycle';
import { alertPayOutHold, closeClearedHolds } from './pay-out-alerts';
import { clearingPayOutTransactions, clearingPayOuts } from './schema';

/**
 * A settled window's stored pay-out transaction after it is signed (issue 13): sent by the
 * `clearing.windows` job until the network has it, sent again while it is out of every block (a
 * reorganization took its block away, or a mempool dropped it); the windows' chain consumer
 * follows it into blocks (pay-out-follow.ts).
 */

export const SETTLEMENT_PAY_OUT_EVENTS = {
  held: 'settlement_pay_out.held',
  transactionHeld: 'settlement_pay_out.transactionHeld',
  signed: 'settlement_pay_out.signed',
  rebuilt: 'settlement_pay_out.rebuilt',
  resumed: 'settlement_pay_out.resumed',
  rebuildRefused: 'settlement_pay_out.rebuildRefused',
  adopted: 'settlement_pay_out.adopted',
  adoptRefused: 'settlement_pay_out.adoptRefused',
  broadcast: 'settlement_pay_out.broadcast',
  broadcastRetrying: 'settlement_pay_out.broadcastRetrying',
  resent: 'settlement_pay_out.resent',
  rejected: 'settlement_pay_out.rejected',
  confirmed: 'settlement_pay_out.confirmed',
  unconfirmed: 'settlement_pay_out.unconfirmed',
} as const;

/** The job's period (app.ts), from which a retried broadcast's backoff doubles up to an hour. */
const JOB_PERIOD_MS = 30_000;
const RETRY_CAP_MS = 60 * 60_000;
/**
 * How many sends refused for a missing input (an outpoint of a pay-in it spends, not in the
 * node's UTXO set nor its mempool) before the transaction is held for the supervisor: from the
 * job's period the backoff doubles to its hour's cap, so the eighth refusal comes some two hours
 * after the first, long after a passing reorganization or a lagging node would have healed.
 */
export const MISSING_INPUT_ATTEMPTS = 8;
/** The closed reason a transaction whose inputs stayed missing is held with. */
export const PAY_IN_OUTPOINT_MISSING = 'PAY_IN_OUTPOINT_MISSING';
/** The code of the supervisor's alert for a transaction the network refused for good. */
export const PAY_OUT_REJECTED = 'PAY_OUT_REJECTED';
/** The closed reason a transaction is held with when one it replaced was mined after all. */
export const REPLACED_TRANSACTION_MINED = 'REPLACED_TRANSACTION_MINED';

export type PayOutTransactionRow = typeof clearingPayOutTransactions.$inferSelect;

/**
 * A window's latest pay-out transaction (its first, or the later one paying receivers held at the
 * one before), locked with `forUpdate`: the one the supervisor's rebuild and adoption act on.
 */
export async function latestTransaction(
  tx: Orm,
  windowId: string,
  forUpdate = false,
): Promise<PayOutTransactionRow | undefined> {
  const query = tx
    .select()
    .from(clearingPayOutTransactions)
    .where(eq(clearingPayOutTransactions.windowId, windowId))
    .orderBy(desc(clearingPayOutTransactions.seq))
    .limit(1);
  const [row] = forUpdate ? await query.for('update') : await query;
  return row;
}

export interface SendDeps {
  readonly db: Database;
  readonly ctx: WindowContext;
  readonly chain: ChainSource | null;
}

export interface SendRun {
  /** Windows whose pay-out transaction the network accepted for the first time in this run. */
  broadcast: string[];
  /** Windows whose broadcast transaction, out of every block, was sent again in this run. */
  resent: string[];
}

/** `accepted`: the network took it now; `known`: it had it already (in its mempool, or mined). */
type Outcome = 'accepted' | 'known' | 'retrying' | 'rejected' | null;

/**
 * Sends every stored transaction whose (next) attempt is due: the `signed` ones the network has
 * not accepted yet, and the `broadcast` ones in no block (a reorganization took their block away,
 * or a mempool evicted them: sending the same bytes again is harmless, a node that has them says
 * so).
 */
export async function sendStored(deps: SendDeps, run: SendRun): Promise<void> {
  const now = deps.ctx.clock.now();
  const due = await deps.db.orm
    .select()
    .from(clearingPayOutTransactions)
    .where(
      and(
        or(
          eq(clearingPayOutTransactions.status, 'signed'),
          and(
            eq(clearingPayOutTransactions.status, 'broadcast'),
            isNull(clearingPayOutTransactions.blockHash),
          ),
        ),
        or(
          isNull(clearingPayOutTransactions.nextAttemptAt),
          lte(clearingPayOutTransactions.nextAttemptAt, now),
        ),
      ),
    )
    .orderBy(asc(clearingPayOutTransactions.signedAt));
  for (const row of due) {
    const outcome = await send(deps, row);
    if (outcome !== 'accepted' && outcome !== 'known') continue;
    if (row.status === 'signed') {
      if (await markBroadcast(deps, row)) run.broadcast.push(row.windowId);
    } else if (outcome === 'accepted' || row.lastError !== null || row.nextAttemptAt !== null) {
      if ((await markResent(deps, row)) && outcome === 'accepted') run.resent.push(row.windowId);
    }
  }
}

/**
 * Sends a stored transaction (the same bytes every time), classified by the chain's typed
 * rejection as the market's deliveries are: accepted, or already known to the network (sent
 * before, in its mempool, or mined), is `accepted`; refused for a passing reason (inputs not seen
 * yet, fee too low now, not final) keeps its status with the error and the next attempt after a
 * backoff; refused for good (consensus, script, double-spend) makes it `rejected`, audited for the
 * supervisor and no longer sent. An unreachable chain says nothing: it is left for the next run.
 */
async function send(deps: SendDeps, row: PayOutTransactionRow): Promise<Outcome> {
  const chain = deps.chain;
  if (!chain) return null;
  const has = () => chainHasTransaction(chain, row.txid);
  // Sent before: a node that still has it (a node accepts its own mempool's transaction again
  // without a word) is left alone; one that lost it is sent the same bytes.
  if (row.status === 'broadcast' && (await has())) return 'known';
  try {
    await chain.broadcast(fromHex(row.raw));
    return 'accepted';
  } catch (error) {
    const rejection = broadcastRejection(error);
    if (!rejection) return null;
    if (rejection.kind === 'alreadyKnown') return 'known';
    // A node may word "I have it" as a refusal it does not type as such: asked before giving up.
    if (await has()) return 'known';
    if (rejection.retryable) {
      await retryPayOut(deps, row, rejection);
      return 'retrying';
    }
    await rejectPayOut(deps, row, error instanceof Error ? error.message : rejection.kind);
    return 'rejected';
  }
}

/** Updates a window's stored transaction only while it is still as read (another run may have moved it). */
function whileAsRead(tx: Orm, row: PayOutTransactionRow, set: Partial<PayOutTransactionRow>) {
  return tx
    .update(clearingPayOutTransactions)
    .set(set)
    .where(
      and(
        eq(clearingPayOutTransactions.windowId, row.windowId),
        eq(clearingPayOutTransactions.seq, row.seq),
        eq(clearingPayOutTransactions.txid, row.txid),
        eq(clearingPayOutTransactions.status, row.status),
        row.status === 'broadcast' ? isNull(clearingPayOutTransactions.blockHash) : undefined,
      ),
    )
    .returning();
}

async function markBroadcast(deps: SendDeps, row: PayOutTransactionRow): Promise<boolean> {
  return deps.db.transaction(async (tx) => {
    const now = deps.ctx.clock.now();
    const updated = await whileAsRead(tx, row, {
      status: 'broadcast',
      broadcastAt: now,
      attempts: 0,
      lastError: null,
      nextAttemptAt: null,
    });
    if (updated.length === 0) return false;
    await payOutsSent(tx, deps.ctx, row);
    await deps.ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.broadcast,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: 'signed' },
      after: { status: 'broadcast', txid: row.txid, attempts: row.attempts + 1 },
    });
    return true;
  });
}

/**
 * A transaction's pay-outs out (`broadcast`), and the holds that sending clears closed in
 * compliance's queue (pay-out-alerts.ts), in the caller's transaction.
 */
export async function payOutsSent(
  tx: Orm,
  ctx: WindowContext,
  row: PayOutTransactionRow,
): Promise<void> {
  const sent = await tx
    .update(clearingPayOuts)
    .set({ status: 'broadcast' })
    .where(
      and(
        eq(clearingPayOuts.windowId, row.windowId),
        eq(clearingPayOuts.txid, row.txid),
        inArray(clearingPayOuts.status, ['signed', 'broadcast']),
      ),
    )
    .returning({ platformId: clearingPayOuts.platformId });
  const [dust] = await tx
    .select({ id: clearingPayOuts.id })
    .from(clearingPayOuts)
    .where(
      and(
        eq(clearingPayOuts.windowId, row.windowId),
        eq(clearingPayOuts.status, 'held'),
        eq(clearingPayOuts.heldCode, 'PAY_OUT_BELOW_DUST'),
      ),
    )
    .limit(1);
  await closeClearedHolds(ctx, {
    windowId: row.windowId,
    txid: row.txid,
    platformIds: sent.map((p) => p.platformId),
    dustHeld: dust !== undefined,
  });
}

/**
 * A broadcast transaction out of every block, sent again: audited when the network took it anew
 * (it had lost it) or after failed attempts; a node that still has it, every run, records nothing.
 */
async function markResent(deps: SendDeps, row: PayOutTransactionRow): Promise<boolean> {
  return deps.db.transaction(async (tx) => {
    const updated = await whileAsRead(tx, row, {
      attempts: 0,
      nextAttemptAt: null,
      lastError: null,
    });
    if (updated.length === 0) return false;
    await deps.ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.resent,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: 'broadcast', attempts: row.attempts, lastError: row.lastError },
      after: { status: 'broadcast', txid: row.txid },
    });
    return true;
  });
}

async function retryPayOut(
  deps: SendDeps,
  row: PayOutTransactionRow,
  rejection: BroadcastRejection,
): Promise<void> {
  // Consecutive refusals of one kind: a refusal of another kind (a fee too low, then inputs
  // missing after a reorg) starts the count again, so only inputs missing on every attempt hold
  // the transaction. Accepted by the network, the count is cleared (markBroadcast, markResent).
  const sameKind = row.lastError?.startsWith(`${rejection.kind}:`) ?? false;
  const attempts = sameKind ? row.attempts + 1 : 1;
  const jitter = () => (deps.ctx.random.bytes(1)[0] ?? 0) / 256;
  const nextAttemptAt = new Date(
    deps.ctx.clock.now().getTime() + backoffMs(JOB_PERIOD_MS, attempts, RETRY_CAP_MS, jitter),
  );
  const lastError = `${rejection.kind}: ${rejection.reason ?? 'no reason given'}`.slice(0, 500);
  if (rejection.kind === 'missingInputs' && attempts >= MISSING_INPUT_ATTEMPTS) {
    await holdTransaction(deps, row, attempts, lastError);
    return;
  }
  await deps.db.transaction(async (tx) => {
    const updated = await whileAsRead(tx, row, { attempts, lastError, nextAttemptAt });
    if (updated.length === 0) return;
    await deps.ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.broadcastRetrying,
      entityType: 'settlement_window',
      entityId: row.windowId,
      after: {
        status: row.status,
        txid: row.txid,
        attempts,
        kind: rejection.kind,
        reason: rejection.reason,
        nextAttemptAt: nextAttemptAt.toISOString(),
      },
    });
  });
}

/**
 * A transaction whose inputs the network reported missing on every one of its bounded attempts
 * is `held` (PAY_IN_OUTPOINT_MISSING), no longer sent, for the supervisor (audited with an alert),
 * who may rebuild it or send it again (pay-out-rebuild.ts). Should it be mined after all, the
 * chain consumer follows it as any other.
 */
async function holdTransaction(
  deps: SendDeps,
  row: PayOutTransactionRow,
  attempts: number,
  lastError: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const updated = await whileAsRead(tx, row, {
      status: 'held',
      heldCode: PAY_IN_OUTPOINT_MISSING,
      attempts,
      lastError,
      nextAttemptAt: null,
    });
    if (updated.length === 0) return;
    const alert = await alertPayOutHold(deps.ctx, WINDOWS_CALLER, {
      windowId: row.windowId,
      code: PAY_IN_OUTPOINT_MISSING,
      platformId: null,
      detail: `Transaction ${row.txid}, ${attempts} attempts (${lastError}): rebuild it, or send it again (POST /v1/settlement-windows/${row.windowId}/pay-out/rebuild).`,
    });
    await deps.ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.transactionHeld,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: row.status, attempts: row.attempts },
      after: {
        status: 'held',
        code: PAY_IN_OUTPOINT_MISSING,
        txid: row.txid,
        attempts,
        lastError,
        alert: 'supervisor',
        alertId: alert?.alertId ?? null,
      },
    });
  });
}

async function rejectPayOut(
  deps: SendDeps,
  row: PayOutTransactionRow,
  reason: string,
): Promise<void> {
  await deps.db.transaction(async (tx) => {
    const updated = await whileAsRead(tx, row, {
      status: 'rejected',
      attempts: row.attempts + 1,
      lastError: reason.slice(0, 500),
      nextAttemptAt: null,
    });
    if (updated.length === 0) return;
    const alert = await alertPayOutHold(deps.ctx, WINDOWS_CALLER, {
      windowId: row.windowId,
      code: PAY_OUT_REJECTED,
      platformId: null,
      detail: `Transaction ${row.txid}: ${reason.slice(0, 200)}. Rebuild it (POST /v1/settlement-windows/${row.windowId}/pay-out/rebuild).`,
    });
    await deps.ctx.audit.record(WINDOWS_CALLER, {
      action: SETTLEMENT_PAY_OUT_EVENTS.rejected,
      entityType: 'settlement_window',
      entityId: row.windowId,
      before: { status: row.status },
      after: {
        status: 'rejected',
        txid: row.txid,
        reason: reason.slice(0, 500),
        alert: 'supervisor',
        alertId: alert?.alertId ?? null,
      },
    });
  });
}

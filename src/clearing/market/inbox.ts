import { and, asc, eq, lte } from 'drizzle-orm';
import { AppError, newId, type Caller } from '../../kernel';
import type { FiatConfirmation } from './bank';
import { MARKET, isMarketOfficer, notFound, type MarketContext } from './context';
import { heldForConfirmation, holdForFailedConfirmation } from './deals';
import { NO_PENDING_DECISION } from './four-eyes';
import { nextDealStatus } from './lifecycle';
import { confirmFiat } from './delivery';
import { marketBankInbox, marketDeals } from './schema';

/**
 * The bank's confirmations go through an inbox: the SettlementBank hands each out once, so each is
 * stored first (unique by bank and bank reference: a repeat is ignored), then applied on its own.
 * A deal confirmed by it and the row marked `applied` commit in one transaction; a closed refusal
 * of the confirmation itself (wrong amount, unknown deal, confirmed twice…) marks it `refused` with
 * its code. Anything else (the signer or the chain unavailable, a database error) leaves it
 * `pending` with the error and its next attempt after a backoff: nothing is lost, nothing applied
 * twice. After `MAX_ATTEMPTS` such failures it is `failed` (audited
 * `market_bank_confirmation.abandoned`): no longer retried, listed with that status to the market's
 * platform and the supervisor (`listBankConfirmations`); its deal, still awaiting its fiat leg,
 * is held for the supervisors (`market_deal.confirmationFailed`) instead of unwinding at its
 * deadline. An officer of the market or a supervisor requeues it (`requeue`): pending again with
 * fresh attempts, its deal back to `awaitingPayment`, and the tick applies it as any other.
 */

/** Refusals that are the confirmation's own final outcome (retrying cannot change them). */
const FINAL_REFUSALS = new Set([
  'VALIDATION_FAILED',
  'NOT_FOUND',
  'FORBIDDEN',
  'FIAT_AMOUNT_MISMATCH',
  'DEAL_ALREADY_CONFIRMED',
  'DEAL_PAST_DEADLINE',
  'BANK_REFERENCE_REUSED',
  'INVALID_STATE_TRANSITION',
  'SELF_APPROVAL',
]);
const FIRST_BACKOFF_MS = 30_000;
/** Attempts before a confirmation that keeps failing is given up (`failed`): 30 s, 1, 2, 4 min. */
export const MAX_ATTEMPTS = 5;
const MAX_BACKOFF_MS = 60 * 60_000;

export type InboxRow = typeof marketBankInbox.$inferSelect;

/** The delay before attempt `attempts + 1`: 30 s doubling, at most an hour. */
export function backoffMs(attempts: number): number {
  return Math.min(FIRST_BACKOFF_MS * 2 ** Math.max(attempts - 1, 0), MAX_BACKOFF_MS);
}

/** Stores what the bank handed out (before anything is applied). */
export async function receive(
  ctx: MarketContext,
  bank: string,
  confirmations: readonly FiatConfirmation[],
): Promise<void> {
  if (confirmations.length === 0) return;
  const now = ctx.clock.now();
  await ctx.db.transaction(async (tx) => {
    for (const c of confirmations) {
      await tx
        .insert(marketBankInbox)
        .values({
          id: newId('bankConfirmation', now, ctx.random),
          bank,
          bankReference: c.bankReference,
          dealReference: c.dealReference,
          amountMinor: c.amountMinor,
          currency: c.currency,
          status: 'pending',
          outcome: null,
          attempts: 0,
          lastError: null,
          nextAttemptAt: now,
          createdAt: now,
          consumedAt: null,
        })
        .onConflictDoNothing({ target: [marketBankInbox.bank, marketBankInbox.bankReference] });
    }
  });
}

export type InboxOutcome =
  | { readonly kind: 'applied'; readonly row: InboxRow }
  | { readonly kind: 'refused'; readonly row: InboxRow; readonly code: string }
  | { readonly kind: 'retrying'; readonly row: InboxRow; readonly error: string }
  | { readonly kind: 'failed'; readonly row: InboxRow; readonly error: string };

/** Applies every pending confirmation whose attempt is due, each on its own. */
export async function applyDue(ctx: MarketContext): Promise<InboxOutcome[]> {
  const due = await ctx.db.orm
    .select()
    .from(marketBankInbox)
    .where(
      and(
        eq(marketBankInbox.status, 'pending'),
        lte(marketBankInbox.nextAttemptAt, ctx.clock.now()),
      ),
    )
    .orderBy(asc(marketBankInbox.createdAt), asc(marketBankInbox.id));
  const outcomes: InboxOutcome[] = [];
  for (const row of due) outcomes.push(await applyOne(ctx, row));
  return outcomes;
}

async function applyOne(ctx: MarketContext, row: InboxRow): Promise<InboxOutcome> {
  const confirmation = {
    dealReference: row.dealReference,
    amountMinor: row.amountMinor,
    currency: row.currency,
    bankReference: row.bankReference,
  };
  try {
    await confirmFiat(ctx, MARKET, confirmation, {
      receivedAt: row.createdAt,
      consume: async (tx) => {
        const consumed = await tx
          .update(marketBankInbox)
          .set({ status: 'applied', outcome: 'confirmed', consumedAt: ctx.clock.now() })
          .where(and(eq(marketBankInbox.id, row.id), eq(marketBankInbox.status, 'pending')))
          .returning({ id: marketBankInbox.id });
        // Another tick applied it meanwhile: this transaction must not apply it a second time.
        if (consumed.length === 0)
          throw new AppError('CONFLICT', `bank confirmation ${row.id} was applied meanwhile`);
      },
    });
    return { kind: 'applied', row };
  } catch (error) {
    if (error instanceof AppError && FINAL_REFUSALS.has(error.code)) {
      await settle(ctx, row, 'refused', error.code);
      return { kind: 'refused', row, code: error.code };
    }
    const message =
      error instanceof AppError ? `${error.code}: ${error.message}` : 'unexpected error';
    const failed = await retryLater(ctx, row, message);
    return { kind: failed ? 'failed' : 'retrying', row, error: message };
  }
}

async function settle(ctx: MarketContext, row: InboxRow, status: 'refused', code: string) {
  await ctx.db.transaction(async (tx) => {
    const settled = await tx
      .update(marketBankInbox)
      .set({ status, outcome: code, consumedAt: ctx.clock.now() })
      .where(and(eq(marketBankInbox.id, row.id), eq(marketBankInbox.status, 'pending')))
      .returning({ id: marketBankInbox.id });
    // Another tick applied it meanwhile (the refusal was its "already confirmed"): nothing to say.
    if (settled.length === 0) return;
    await ctx.audit.record(MARKET, {
      action: 'market_bank_confirmation.refused',
      entityType: 'market_bank_confirmation',
      entityId: row.id,
      after: { dealReference: row.dealReference, bankReference: row.bankReference, code },
    });
  });
}

/** Counts a failed attempt: the next after a backoff, or `failed` at the last (true). */
async function retryLater(ctx: MarketContext, row: InboxRow, message: string): Promise<boolean> {
  const attempts = row.attempts + 1;
  const exhausted = attempts >= MAX_ATTEMPTS;
  const error = message.slice(0, 500);
  return ctx.db.transaction(async (tx) => {
    const updated = await tx
      .update(marketBankInbox)
      .set({
        attempts,
        lastError: error,
        nextAttemptAt: new Date(ctx.clock.now().getTime() + backoffMs(attempts)),
        ...(exhausted
          ? { status: 'failed', outcome: 'ATTEMPTS_EXHAUSTED', consumedAt: ctx.clock.now() }
          : {}),
      })
      .where(and(eq(marketBankInbox.id, row.id), eq(marketBankInbox.status, 'pending')))
      .returning({ id: marketBankInbox.id });
    // Another tick applied or settled it meanwhile: its outcome is that tick's.
    if (updated.length === 0) return false;
    // Given up: the importer paid, so its deal is held for the supervisors (their queue is the
    // alert) instead of unwinding at its deadline; requeuing the confirmation resumes it.
    const held = exhausted
      ? await holdForFailedConfirmation(ctx, tx, {
          id: row.id,
          dealReference: row.dealReference,
          bankReference: row.bankReference,
          receivedAt: row.createdAt,
        })
      : false;
    await ctx.audit.record(MARKET, {
      action: exhausted ? 'market_bank_confirmation.abandoned' : 'market_bank_confirmation.failed',
      entityType: 'market_bank_confirmation',
      entityId: row.id,
      after: {
        dealReference: row.dealReference,
        bankReference: row.bankReference,
        attempts,
        error,
        ...(exhausted
          ? { status: 'failed', maxAttempts: MAX_ATTEMPTS, dealHeld: held, alert: 'supervisor' }
          : {}),
      },
    });
    return exhausted;
  });
}

/**
 * Queues a `failed` confirmation again (an officer of the market's platform, or a supervisor):
 * pending with fresh attempts, due now; a deal held for it goes back to `awaitingPayment` (its
 * deadline still held against the time of receipt), and the tick applies it as any other.
 * Audited; anything but a failed confirmation is INVALID_STATE_TRANSITION.
 */
export async function requeue(ctx: MarketContext, caller: Caller, id: string): Promise<InboxRow> {
  if (caller.role !== 'platform' && caller.role !== 'supervisor')
    throw new AppError(
      'FORBIDDEN',
      'the market platform or the supervisor requeues a confirmation',
    );
  return ctx.db.transaction(async (tx) => {
    const [row] = await tx
      .select()
      .from(marketBankInbox)
      .where(eq(marketBankInbox.id, id))
      .for('update');
    const [deal] = row
      ? await tx.select().from(marketDeals).where(eq(marketDeals.id, row.dealReference))
      : [];
    const sees =
      caller.role === 'supervisor' ||
      (deal !== undefined && isMarketOfficer(caller, deal.platformId));
    if (!row || !sees) throw notFound('bank confirmation', id);
    if (row.status !== 'failed')
      throw new AppError(
        'INVALID_STATE_TRANSITION',
        `bank confirmation ${id} is ${row.status}; only a failed one is queued again`,
        { details: { status: row.status } },
      );
    const now = ctx.clock.now();
    const after: InboxRow = {
      ...row,
      status: 'pending',
      outcome: null,
      attempts: 0,
      nextAttemptAt: now,
      consumedAt: null,
    };
    await tx.update(marketBankInbox).set(after).where(eq(marketBankInbox.id, id));
    await ctx.audit.record(caller, {
      action: 'market_bank_confirmation.requeued',
      entityType: 'market_bank_confirmation',
      entityId: id,
      before: { status: row.status, attempts: row.attempts, lastError: row.lastError },
      after: { status: 'pending', dealReference: row.dealReference },
    });
    if (deal && heldForConfirmation(deal)) {
      const to = nextDealStatus(deal.id, deal.status, 'requeued');
      await tx
        .update(marketDeals)
        .set({ ...NO_PENDING_DECISION, status: to, heldFrom: null, updatedAt: now })
        .where(eq(marketDeals.id, deal.id));
      await ctx.audit.record(caller, {
        action: 'market_deal.requeued',
        entityType: 'market_deal',
        entityId: deal.id,
        before: { status: deal.status, heldFrom: deal.heldFrom },
        after: { status: to, bankConfirmationId: id },
      });
    }
    return after;
  });
}

import { createHmac } from 'node:crypto';
import { and, desc, eq, ne, or } from 'drizzle-orm';
import type { Database, Orm } from '../../db';
import { toHex } from '../../bitcoin';
import { AppError, countsAsPerson, invalid, type Caller } from '../../kernel';
import { BTC } from '../netting';
import type { WindowContext } from './lifecycle';
import { applyArrival, type PayInRefusalReason } from './pay-ins';
import { clearingPayIns, clearingWindows } from './schema';

export interface FiatPayIn {
  amount: bigint;
  currency: string;
  bankReference: string;
}

type PayInRow = typeof clearingPayIns.$inferSelect;

/** The outcome of one person's word on a fiat pay-in. */
export type FiatOutcome =
  | { readonly kind: 'recorded'; readonly payIn: PayInRow }
  | { readonly kind: 'received'; readonly payIn: PayInRow }
  | {
      readonly kind: 'refused';
      readonly payIn: PayInRow;
      readonly reason: PayInRefusalReason;
      readonly refusalId: string;
    };

const NOT_RECORDED = {
  recordedAmount: null,
  recordedReference: null,
  recordedByPerson: null,
  recordedAt: null,
  recordedSalt: null,
} as const;

function checkPayment(caller: Caller, payment: FiatPayIn): string {
  if (caller.role !== 'supervisor')
    throw new AppError(
      'FORBIDDEN',
      'only the supervisor or the clearing operator confirms pay-ins',
    );
  if (!/^[A-Z]{3}$/.test(payment.currency) || payment.currency === BTC)
    throw invalid('currency', `must be an ISO 4217 code, got "${payment.currency}"`);
  if (payment.amount <= 0n) throw invalid('amount', 'must be a positive number of minor units');
  const reference = payment.bankReference.trim();
  if (!reference || reference.length > 140)
    throw invalid('bankReference', 'must be 1 to 140 characters');
  return reference;
}

/** The pay-in due from `platformId` in `currency`, locked; the closed refusals otherwise. */
async function lockPayIn(
  tx: Orm,
  windowId: string,
  platformId: string,
  currency: string,
): Promise<PayInRow> {
  const [window] = await tx.select().from(clearingWindows).where(eq(clearingWindows.id, windowId));
  if (!window) throw new AppError('WINDOW_NOT_FOUND', `no settlement window ${windowId}`);
  if (window.status === 'open')
    throw new AppError('WINDOW_NOT_CLOSED', `settlement window ${windowId} is still open`);
  const [payIn] = await tx
    .select()
    .from(clearingPayIns)
    .where(
      and(
        eq(clearingPayIns.windowId, windowId),
        eq(clearingPayIns.platformId, platformId),
        eq(clearingPayIns.asset, currency),
      ),
    )
    .orderBy(desc(clearingPayIns.attempt))
    .limit(1);
  if (!payIn)
    throw new AppError(
      'PAY_IN_NOT_FOUND',
      `no ${currency} pay-in is due from ${platformId} in window ${windowId}`,
    );
  return payIn;
}

/** A bank transfer pays in once, across every window, recorded or received (also an index). */
async function refuseReusedReference(tx: Orm, payIn: PayInRow, reference: string): Promise<void> {
  const [reused] = await tx
    .select({ id: clearingPayIns.id, windowId: clearingPayIns.windowId })
    .from(clearingPayIns)
    .where(
      and(
        ne(clearingPayIns.id, payIn.id),
        or(
          eq(clearingPayIns.bankReference, reference),
          eq(clearingPayIns.recordedReference, reference),
        ),
      ),
    );
  if (reused)
    throw new AppError(
      'BANK_REFERENCE_REUSED',
      `bank reference ${reference} already paid in ${reused.id} (window ${reused.windowId})`,
      { details: { payInId: reused.id } },
    );
}

/**
 * A fiat pay-in as the clearing's bank reported it, with four eyes counted by person (as
 * contracts' approval counts them): the first person's word is recorded (audited) and does not
 * count; a different person confirming the same transfer (amount and reference) makes it count
 * as `applyArrival` judges it; the same person again, with any credential, is SELF_APPROVAL.
 * Another transfer than the one recorded replaces the record (audited), to be confirmed by
 * another person. A wrong amount is refused at once, by one person: it counts nothing.
 */
export async function confirmFiat(
  db: Database,
  ctx: WindowContext,
  caller: Caller,
  target: { windowId: string; platformId: string },
  payment: FiatPayIn,
): Promise<FiatOutcome> {
  const reference = checkPayment(caller, payment);
  return db.transaction(async (tx) => {
    const due = await lockPayIn(tx, target.windowId, target.platformId, payment.currency);
    // Two confirmations of one pay-in take turns (the window first, as arrivals lock).
    const [window] = await tx
      .select({ status: clearingWindows.status })
      .from(clearingWindows)
      .where(eq(clearingWindows.id, due.windowId))
      .for('update');
    const [payIn] = await tx
      .select()
      .from(clearingPayIns)
      .where(eq(clearingPayIns.id, due.id))
      .for('update');
    if (!payIn) throw new AppError('PAY_IN_NOT_FOUND', `no pay-in ${due.id}`);
    await refuseReusedReference(tx, payIn, reference);
    const arrival = { amount: payment.amount, bankReference: reference };
    const same =
      payIn.recordedByPerson !== null &&
      payIn.recordedAmount === payment.amount &&
      payIn.recordedReference === reference;
    if (!countsAsPerson(caller))
      throw new AppError(
        'FORBIDDEN',
        'a fiat pay-in is recorded and confirmed by two named persons; the operator channel is not one',
      );
    if (same && payIn.recordedByPerson === caller.personId)
      throw new AppError(
        'SELF_APPROVAL',
        `you recorded this pay-in (bank reference ${reference}); another person must confirm it, with any credential`,
      );
    const recordable =
      payment.amount === payIn.amountDue &&
      payIn.status === 'awaiting' &&
      window?.status === 'closed';
    if (!same && recordable)
      return { kind: 'recorded', payIn: await record(tx, ctx, caller, payIn, payment, reference) };
    const result = await applyArrival(tx, ctx, caller, payIn, arrival);
    if (!result.received) return { kind: 'refused', payIn, ...result };
    await tx.update(clearingPayIns).set(NOT_RECORDED).where(eq(clearingPayIns.id, payIn.id));
    await ctx.audit.record(caller, {
      action: 'settlement_pay_in.confirmed',
      entityType: 'pay_in',
      entityId: payIn.id,
      after: {
        amount: payment.amount.toString(),
        bankReference: reference,
        // The recording's key, named now that the values are in this event: an auditor
        // recomputes the `recorded` digest of the `settlement_pay_in.recorded` event from them.
        recorded:
          payIn.recordedSalt !== null
            ? recordedDigest(payIn.id, payment.amount, reference, payIn.recordedSalt)
            : null,
        recordedSalt: payIn.recordedSalt,
        recordedBy: payIn.recordedByPerson,
        confirmedBy: caller.personId,
      },
    });
    return { kind: 'received', payIn };
  });
}

/**
 * The recorded transfer as the audit log keeps it until a second person confirms it: not the
 * values, so that the confirmer cannot copy them from the audit log, but an HMAC-SHA256 (RFC
 * 2104) of the amount and reference (bound to the pay-in) under a 256-bit key drawn at random
 * for this recording and kept in the pay-in's row only. A plain hash could be inverted offline:
 * the amount is the known amount due, and a bank reference is short and patterned, so a reader
 * of the audit log (supervisors, auditors) could try every reference. A per-recording random
 * key rather than an HMAC under a server secret: the confirmation's event names the amount, the
 * reference and this key, so an auditor verifies afterwards from the audit log alone (a server
 * secret would have to be given to auditors, or kept and rotated for every past digest), and it
 * works on every chain without a setting to configure. A record replaced by another transfer
 * keeps its key unnamed: it counted nothing and its values are never revealed.
 */
export function recordedDigest(
  payInId: string,
  amount: bigint,
  reference: string,
  saltHex: string,
): string {
  return createHmac('sha256', Buffer.from(saltHex, 'hex'))
    .update(`${payInId}\n${amount}\n${reference}`)
    .digest('hex');
}

async function record(
  tx: Orm,
  ctx: WindowContext,
  caller: Caller,
  payIn: PayInRow,
  payment: FiatPayIn,
  reference: string,
): Promise<PayInRow> {
  const recorded = {
    recordedAmount: payment.amount,
    recordedReference: reference,
    recordedByPerson: caller.personId,
    recordedAt: ctx.clock.now(),
    recordedSalt: toHex(ctx.random.bytes(32)),
  };
  await tx.update(clearingPayIns).set(recorded).where(eq(clearingPayIns.id, payIn.id));
  await ctx.audit.record(caller, {
    action: 'settlement_pay_in.recorded',
    entityType: 'pay_in',
    entityId: payIn.id,
    before: {
      recorded:
        payIn.recordedAmount !== null &&
        payIn.recordedReference !== null &&
        payIn.recordedSalt !== null
          ? recordedDigest(
              payIn.id,
              payIn.recordedAmount,
              payIn.recordedReference,
              payIn.recordedSalt,
            )
          : null,
      recordedBy: payIn.recordedByPerson,
    },
    after: {
      windowId: payIn.windowId,
      platformId: payIn.platformId,
      asset: payIn.asset,
      recorded: recordedDigest(payIn.id, payment.amount, reference, recorded.recordedSalt),
      recordedBy: caller.personId,
    },
  });
  return { ...payIn, ...recorded };
}

import { and, asc, eq, inArray, isNull, type SQL } from 'drizzle-orm';
import { LIST_ACTIVATED } from '../compliance';
import type { Orm } from '../db';
import { systemCaller } from '../kernel';
import { LICENCE_CHANGED, type LicenceChanged } from '../registry';
import type { Subscriber } from '../events';
import { hold, type GateCheck } from './lifecycle';
import type { PayoutContext } from './payout-context';
import { releaseLicenceHoldsIn } from './payout-release';
import { tradeBatches, tradePayouts } from './schema';

/**
 * What makes the gate refuse a payout it allowed at approval, heard through the outbox, stops the
 * payouts approved and not yet broadcast at once instead of at their next step (batching,
 * signing, the broadcast's check): each is decided again by the gate, on the facts as they are
 * now, at the step it waits for, and one the gate no longer allows is held (with the gate's
 * reasons and decision); a batch not sent that holds one is abandoned (the others queued again,
 * funds back from in transit).
 * - `trade.licences` (`registry.licence.changed`): a platform's licence that stops being active
 *   (suspended, revoked, expired) rechecks that platform's payouts (`LICENCE_NOT_ACTIVE`); one
 *   active again releases the held payouts whose only reason was an inactive licence
 *   (`releaseLicenceHoldsIn`: decided again by the gate, released or held with the new check).
 * - `trade.lists` (`compliance.list.activated`): a list snapshot that becomes active rechecks
 *   every platform's, screened again against it (a listed supplier's address or name).
 * The gate reads the licence and the lists itself, so a licence reinstated (or a list replaced)
 * before the event is handled holds nothing: the event alone is no reason to hold one.
 *
 * A batch signed and already handed to the network once (`broadcastAttempts > 0`) may be out and
 * is left to the broadcaster, whose check before the next send asks the chain first (a
 * transaction that is out cannot be called back); nothing here may call out, being inside the
 * delivery's transaction.
 */
export function payoutRecheckSubscribers(ctx: PayoutContext): Subscriber<undefined>[] {
  return [
    {
      name: 'trade.licences',
      topics: [LICENCE_CHANGED],
      handle: async (event, tx) => {
        const changed = event.payload as unknown as LicenceChanged;
        // Active again: the payouts its inactivity alone held are decided again and released.
        if (changed.toStatus === 'active') {
          await releaseLicenceHoldsIn(ctx, tx, changed.participantId);
          return;
        }
        await recheckPayouts(ctx, tx, 'trade.licences', changed.participantId);
      },
    },
    {
      name: 'trade.lists',
      topics: [LIST_ACTIVATED],
      handle: async (_event, tx) => {
        await recheckPayouts(ctx, tx, 'trade.lists', null);
      },
    },
  ];
}

/**
 * Decides again every payout approved and not broadcast, of `platformId` (null: of every
 * platform); holds those the gate no longer allows. Answers the ids held. Inside `tx` (the
 * delivery's unit of work), as `actor`.
 */
export async function recheckPayouts(
  ctx: PayoutContext,
  tx: Orm,
  actor: string,
  platformId: string | null,
): Promise<string[]> {
  const caller = systemCaller(actor);
  const ofPayout: SQL | undefined = platformId
    ? eq(tradePayouts.platformId, platformId)
    : undefined;
  const ofBatch: SQL | undefined = platformId ? eq(tradeBatches.platformId, platformId) : undefined;
  // Every row locked before the first check (which records a decision, taking the audit head):
  // the batcher locks its waiting payouts, and the broadcaster a batch then its payouts, before
  // theirs; locking one after the audit head would deadlock against them. A batch's payouts are
  // locked after the batch row, which serializes this with the broadcaster and the signer.
  const waiting = await tx
    .select()
    .from(tradePayouts)
    .where(and(ofPayout, eq(tradePayouts.status, 'awaitingPayment'), isNull(tradePayouts.batchId)))
    // In the batcher's order: two lockers of the same rows in different orders deadlock.
    .orderBy(asc(tradePayouts.approvedAt), asc(tradePayouts.id))
    .for('update');
  const batches = await tx
    .select()
    .from(tradeBatches)
    .where(and(ofBatch, inArray(tradeBatches.status, ['awaitingSignature', 'signed'])))
    .orderBy(asc(tradeBatches.id))
    .for('update');
  const unsent = batches.filter(
    (b) => b.status === 'awaitingSignature' || (b.broadcastAttempts === 0 && !b.broadcastHeight),
  );
  const inBatches = unsent.length
    ? await tx
        .select()
        .from(tradePayouts)
        .where(
          inArray(
            tradePayouts.batchId,
            unsent.map((b) => b.id),
          ),
        )
        .orderBy(asc(tradePayouts.id))
        .for('update')
    : [];
  const held: string[] = [];
  for (const batch of unsent) {
    const payouts = inBatches.filter((p) => p.batchId === batch.id);
    const step = batch.status === 'signed' ? 'broadcast' : 'signing';
    const { failed } = await ctx.checkBatch(caller, payouts, step);
    if (failed.size === 0) continue;
    await ctx.abandonBatch(tx, caller, batch, failed);
    held.push(...failed.keys());
  }
  for (const p of waiting) {
    const check: GateCheck = await ctx.check(caller, p, 'batching');
    if (check.outcome === 'allow') continue;
    await hold(ctx.transitions, tx, caller, p, check);
    held.push(p.id);
  }
  return held;
}

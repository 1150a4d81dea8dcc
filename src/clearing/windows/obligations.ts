import type { Orm } from '../../db';
import { invalid, newId } from '../../kernel';
import { BTC } from '../netting';
import { obligationPostings, postEntry } from './books';
import { openWindow, type WindowContext } from './lifecycle';
import { clearingObligations } from './schema';

/** An obligation between two platforms, as the market and transfers report it. */
export interface ObligationInput {
  source: 'deal' | 'transfer';
  sourceId: string;
  /** The platform (participant id) that owes. */
  from: string;
  /** The platform owed. */
  to: string;
  /** 'BTC' (sats) or an ISO 4217 code (minor units). */
  asset: string;
  amount: bigint;
  at: Date;
}

/**
 * Where domestic obligations between platforms go: into the open settlement window, inside the
 * caller's transaction. Idempotent on (source, sourceId, asset).
 */
export interface ObligationSink {
  record(o: ObligationInput, tx: Orm): Promise<void>;
}

const checkObligation = (o: ObligationInput): void => {
  if (o.source !== 'deal' && o.source !== 'transfer')
    throw invalid('source', `must be deal or transfer, got "${String(o.source)}"`);
  if (!o.sourceId || o.sourceId.length > 100)
    throw invalid('sourceId', 'must be 1 to 100 characters');
  if (!/^par_[0-9A-Z]{26}$/.test(o.from))
    throw invalid('from', `must be a platform id, got "${o.from}"`);
  if (!/^par_[0-9A-Z]{26}$/.test(o.to)) throw invalid('to', `must be a platform id, got "${o.to}"`);
  if (o.from === o.to) throw invalid('to', 'a platform cannot owe itself');
  if (o.asset !== BTC && !/^[A-Z]{3}$/.test(o.asset))
    throw invalid('asset', `must be BTC or an ISO 4217 code, got "${o.asset}"`);
  if (typeof o.amount !== 'bigint' || o.amount <= 0n)
    throw invalid(
      'amount',
      `must be a positive whole number of sats or minor units, got ${String(o.amount)}`,
    );
  if (!(o.at instanceof Date) || Number.isNaN(o.at.getTime()))
    throw invalid('at', 'must be a valid time');
};

/** Into the open window, in the caller's transaction; idempotent (the `ObligationSink`'s `record`). */
export async function recordObligation(
  tx: Orm,
  ctx: WindowContext,
  o: ObligationInput,
): Promise<void> {
  checkObligation(o);
  const now = ctx.clock.now();
  const window = await openWindow(tx, ctx, now);
  const [inserted] = await tx
    .insert(clearingObligations)
    .values({
      id: newId('obligation', now, ctx.random),
      source: o.source,
      sourceId: o.sourceId,
      fromPlatform: o.from,
      toPlatform: o.to,
      asset: o.asset,
      amount: o.amount,
      at: o.at,
      windowId: window.id,
      firstWindowId: window.id,
      createdAt: now,
    })
    .onConflictDoNothing({
      target: [clearingObligations.source, clearingObligations.sourceId, clearingObligations.asset],
    })
    .returning();
  if (!inserted) return;
  await postEntry(
    tx,
    {
      windowId: window.id,
      entry: `obligation:${inserted.id}`,
      kind: 'obligation.recorded',
      at: now,
    },
    obligationPostings(inserted),
  );
}

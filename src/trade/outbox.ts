import type { Orm } from '../db';
import { newId, type Clock, type Random } from '../kernel';
import { tradeWebhookOutbox } from './schema';

/** Webhook event names (BTCPay-like): invoice and payout state changes. */
export type WebhookEvent =
  | 'invoice.created'
  | 'invoice.processing'
  | 'invoice.settled'
  | 'invoice.expired'
  | 'invoice.invalid'
  | 'invoice.reopened'
  | 'invoice.paymentReceived'
  | 'payout.created'
  | 'payout.approved'
  | 'payout.inProgress'
  | 'payout.completed'
  | 'payout.cancelled'
  | 'payout.reopened'
  /** A later gate check did not allow it: held for compliance, never broadcast. */
  | 'payout.held'
  /** Its batch was abandoned before broadcast (another payout in it was held): queued again. */
  | 'payout.requeued';

/** Writes an event to the outbox inside the state change's transaction. */
export async function enqueueWebhook(
  tx: Orm,
  ports: { clock: Clock; random: Random },
  platformId: string,
  event: WebhookEvent,
  entityId: string,
  data: Record<string, unknown>,
): Promise<void> {
  const now = ports.clock.now();
  const id = newId('delivery', now, ports.random);
  await tx.insert(tradeWebhookOutbox).values({
    id,
    platformId,
    event,
    entityId,
    payload: { id, type: event, createdAt: now.toISOString(), platformId, data: jsonSafe(data) },
    createdAt: now,
    nextAttemptAt: now,
  });
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v,
    ),
  );
}

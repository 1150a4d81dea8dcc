import type { Orm } from '../db';
import { publish, type OutboxEvent, type Subscriber } from '../events';
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
  /** An officer released it from a hold whose condition cleared (every check run again). */
  | 'payout.released'
  /** Its batch was abandoned before broadcast (another payout in it was held): queued again. */
  | 'payout.requeued';

/** Announced at every webhook-worthy change of an invoice (payload `TradeEntityChanged`). */
export const INVOICE_CHANGED = 'trade.invoice.changed';
/** Announced at every webhook-worthy change of a payout (payload `TradeEntityChanged`). */
export const PAYOUT_CHANGED = 'trade.payout.changed';
/**
 * Announced when money moved for good: an invoice settled (paid in full, confirmed, allowed) or a
 * payout completed (its transaction confirmed). Payload `PaymentSettled`.
 */
export const PAYMENT_SETTLED = 'trade.payment.settled';

export interface TradeEntityChanged {
  /** The webhook event it becomes (`invoice.settled`, `payout.held`…). */
  event: WebhookEvent;
  platformId: string;
  /** The invoice or payout id. */
  entityId: string;
  /** What the webhook carries as `data` (JSON-safe: amounts as decimal strings). */
  data: Record<string, unknown>;
}

export interface PaymentSettled {
  kind: 'invoice' | 'payout';
  /** The invoice or payout id. */
  id: string;
  platformId: string;
  contractId: string | null;
  /** Satoshis, as a decimal string. */
  amountSats: string | null;
}

/**
 * Announces an invoice or payout change inside the state change's transaction: one outbox event
 * (`trade.invoice.changed` / `trade.payout.changed`) that trade's `trade.webhooks` subscriber
 * turns into a webhook delivery, and for a settlement also `trade.payment.settled`.
 */
export async function announce(
  tx: Orm,
  ports: { clock: Clock },
  platformId: string,
  event: WebhookEvent,
  entityId: string,
  data: Record<string, unknown>,
): Promise<void> {
  const safe = jsonSafe(data) as Record<string, unknown>;
  const invoice = event.startsWith('invoice.');
  const changed: TradeEntityChanged = { event, platformId, entityId, data: safe };
  await publish(tx, ports.clock, {
    topic: invoice ? INVOICE_CHANGED : PAYOUT_CHANGED,
    key: entityId,
    payload: { ...changed },
  });
  if (event === 'invoice.settled' || event === 'payout.completed') {
    const settled: PaymentSettled = {
      kind: invoice ? 'invoice' : 'payout',
      id: entityId,
      platformId,
      contractId: typeof safe.contractId === 'string' ? safe.contractId : null,
      amountSats: typeof safe.amountSats === 'string' ? safe.amountSats : null,
    };
    await publish(tx, ports.clock, {
      topic: PAYMENT_SETTLED,
      key: entityId,
      payload: { ...settled },
    });
  }
}

/**
 * Trade's webhook subscriber: each announced invoice or payout change becomes one row of
 * `trade_webhook_outbox`, the delivery queue `WebhookDeliverer.drain` POSTs from. The relay hands
 * each event once and the row commits with "handled", so one event is one delivery id, whatever
 * crashes; the POST itself stays at least once (the receiver dedups on `x-tradeclear-delivery`).
 */
export function webhookSubscriber(random: Random): Subscriber<undefined> {
  return {
    name: 'trade.webhooks',
    topics: [INVOICE_CHANGED, PAYOUT_CHANGED],
    handle: async (event: OutboxEvent, tx: Orm) => {
      const {
        event: type,
        platformId,
        entityId,
        data,
      } = event.payload as unknown as TradeEntityChanged;
      const at = event.createdAt;
      const id = newId('delivery', at, random);
      await tx.insert(tradeWebhookOutbox).values({
        id,
        platformId,
        event: type,
        entityId,
        payload: { id, type, createdAt: at.toISOString(), platformId, data },
        createdAt: at,
        nextAttemptAt: at,
      });
    },
  };
}

function jsonSafe(value: unknown): unknown {
  return JSON.parse(
    JSON.stringify(value, (_k, v: unknown) =>
      typeof v === 'bigint' ? v.toString() : v instanceof Date ? v.toISOString() : v,
    ),
  );
}

import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { and, asc, eq, isNull, lte } from 'drizzle-orm';
import { keyset, pageOf, scopeTo, type Database, type Page, type PageRequest } from '../db';
import { EventRelay } from '../events';
import { AppError, type Caller, type Clock, type Random } from '../kernel';
import { webhookSubscriber } from './outbox';
import { tradeWebhookOutbox } from './schema';
import type { SecretBox } from './secrets';
import { loadSettings, openWebhookSecret } from './settings';
import {
  checkWebhookUrl,
  resolveWebhookTarget,
  systemResolver,
  type HostResolver,
  type WebhookTarget,
  type WebhookTargetPolicy,
} from './webhook-target';

/**
 * The HTTP POST port, so tests and the deliverer need no network. `address` is where the
 * connection must go: the address resolveWebhookTarget checked for the URL's host.
 */
export type WebhookPoster = (
  url: string,
  init: { headers: Record<string, string>; body: string; address: string; family: 4 | 6 },
) => Promise<{ status: number }>;

const POST_TIMEOUT_MS = 10_000;

/**
 * POSTs over node's http/https with the connection pinned to the checked address (the host
 * name still goes in the Host header and TLS server name, so the certificate is verified for
 * it). Redirects are not followed: a public endpoint cannot bounce the request inward.
 */
export const pinnedPoster: WebhookPoster = (url, init) => {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  const pinned: LookupFunction = (_hostname, options, callback) => {
    if (options.all) callback(null, [{ address: init.address, family: init.family }]);
    else callback(null, init.address, init.family);
  };
  return new Promise((resolve, reject) => {
    const outgoing = request(
      target,
      {
        method: 'POST',
        headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) },
        lookup: pinned,
        timeout: POST_TIMEOUT_MS,
      },
      (response) => {
        // Only the status is used; the body is drained and dropped.
        response.resume();
        resolve({ status: response.statusCode ?? 0 });
      },
    );
    outgoing.on('timeout', () =>
      outgoing.destroy(new Error('the endpoint did not answer in time')),
    );
    outgoing.on('error', (error: NodeJS.ErrnoException) =>
      // The error code only: a message may name addresses and ports.
      reject(new Error(`request failed${error.code ? ` (${error.code})` : ''}`)),
    );
    outgoing.end(init.body);
  });
};

export const SIGNATURE_HEADER = 'x-tradeclear-signature';
/** The reason a delivery to a refused URL fails with (the same for every refused address). */
export const WEBHOOK_TARGET_REFUSED =
  'refused: the webhook URL must be https and resolve to public addresses only; set a public endpoint';
export const MAX_ATTEMPTS = 8;

/**
 * HMAC-SHA256 over `${timestamp}.${body}` with the platform's secret, sent as
 * `t=<unix seconds>,v1=<hex>` (the timestamp in the MAC stops replays of old bodies).
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
  return `t=${timestamp},v1=${mac}`;
}

/** Retry delay after `attempts` failures: 30 s doubling, at most 6 h. */
export function backoffSeconds(attempts: number): number {
  return Math.min(30 * 2 ** Math.max(0, attempts - 1), 6 * 3600);
}

export interface DeliveryView {
  readonly id: string;
  readonly event: string;
  readonly entityId: string;
  readonly attempts: number;
  readonly status: 'pending' | 'delivered' | 'failed';
  readonly lastStatus: number | null;
  readonly lastError: string | null;
  readonly createdAt: Date;
  readonly nextAttemptAt: Date;
}

/** Where the deliverer reports what an operator must fix (pino's `error(object, message)`). */
export interface DeliveryLogger {
  error(details: Record<string, unknown>, message: string): void;
}

const stderrLogger: DeliveryLogger = {
  error: (details, message) => console.error(message, details),
};

/**
 * Delivers webhooks: `drain` first lets trade's `trade.webhooks` subscriber turn the invoice and
 * payout events announced in the outbox into rows of the delivery queue (`trade_webhook_outbox`),
 * then POSTs due rows to their platform's endpoint, with retries and a log.
 */
export class WebhookDeliverer {
  readonly #feed: EventRelay;

  constructor(
    readonly ports: {
      db: Database;
      clock: Clock;
      /** For delivery ids. */
      random: Random;
      poster: WebhookPoster;
      /** Opens the platforms' sealed webhook secrets. */
      secrets: SecretBox;
      logger?: DeliveryLogger;
      /** Resolves webhook hosts (the system resolver by default). */
      resolve?: HostResolver;
      /** Plain http endpoints allowed (regtest only; see WebhookTargetPolicy). */
      allowPlainHttp?: boolean;
      /** Loopback endpoints allowed (regtest only; see WebhookTargetPolicy). */
      allowLoopback?: boolean;
    },
  ) {
    // Its own relay with only the webhook subscriber, so the tick delivers what was announced
    // without waiting for the server's `events.relay` job; the server's relay carries the same
    // subscriber (`TradeService.subscribers()`), and a second relay on one subscriber is safe:
    // each event is handled once, whichever relay claims it first.
    this.#feed = new EventRelay({ db: ports.db, clock: ports.clock });
    this.#feed.subscribe(webhookSubscriber(ports.random));
  }

  /** The subscriber that fills the delivery queue from the outbox. */
  subscriber() {
    return webhookSubscriber(this.ports.random);
  }

  get #policy(): WebhookTargetPolicy {
    return {
      allowPlainHttp: this.ports.allowPlainHttp ?? false,
      allowLoopback: this.ports.allowLoopback ?? false,
      resolve: this.ports.resolve ?? systemResolver,
    };
  }

  /**
   * Refuses (VALIDATION_FAILED naming webhookUrl) a URL deliveries may not go to: not https,
   * or a host that is or resolves to a non-public address. The settings route calls it.
   */
  checkUrl(url: string): Promise<void> {
    return checkWebhookUrl(url, this.#policy);
  }

  async drain(limit = 100): Promise<{ delivered: number; failed: number; pending: number }> {
    await this.#feed.run();
    const { db, clock, poster, secrets } = this.ports;
    const now = clock.now();
    const due = await db.orm
      .select()
      .from(tradeWebhookOutbox)
      .where(
        and(
          isNull(tradeWebhookOutbox.deliveredAt),
          isNull(tradeWebhookOutbox.failedAt),
          lte(tradeWebhookOutbox.nextAttemptAt, now),
        ),
      )
      .orderBy(asc(tradeWebhookOutbox.createdAt), asc(tradeWebhookOutbox.id))
      .limit(limit);
    let delivered = 0;
    let failed = 0;
    let pending = 0;
    for (const row of due) {
      const settings = await loadSettings(db.orm, row.platformId);
      if (!settings.webhookUrl || !settings.webhookSecret) {
        // No endpoint yet: keep the event and look again later.
        await db.orm
          .update(tradeWebhookOutbox)
          .set({
            nextAttemptAt: new Date(now.getTime() + 3600_000),
            lastError: 'no webhook endpoint configured',
          })
          .where(eq(tradeWebhookOutbox.id, row.id));
        pending++;
        continue;
      }
      let secret: string;
      try {
        secret = openWebhookSecret(secrets, row.platformId, settings.webhookSecret);
      } catch (caught) {
        // A wrong or missing key must not sign with garbage, nor stop the other platforms'
        // deliveries: this one fails with the reason, which the delivery log shows.
        const reason = caught instanceof Error ? caught.message : 'the secret does not open';
        (this.ports.logger ?? stderrLogger).error(
          { platformId: row.platformId, deliveryId: row.id, event: row.event },
          `webhook delivery failed: ${reason}`,
        );
        await db.orm
          .update(tradeWebhookOutbox)
          .set({ failedAt: now, lastStatus: null, lastError: reason })
          .where(eq(tradeWebhookOutbox.id, row.id));
        failed++;
        continue;
      }
      // Checked again now, on what DNS says now: the URL was checked when it was set, but a
      // name can since point elsewhere, and rows written before the check existed were not.
      let target: WebhookTarget | null = null;
      let error: string | null = null;
      try {
        target = await resolveWebhookTarget(settings.webhookUrl, this.#policy);
      } catch (caught) {
        if (caught instanceof AppError) {
          // Refused: the same words whatever the address was, so the log tells nothing about
          // the network behind the server. Not retried.
          (this.ports.logger ?? stderrLogger).error(
            { platformId: row.platformId, deliveryId: row.id, event: row.event },
            'webhook delivery refused: the URL does not resolve to a public address',
          );
          await db.orm
            .update(tradeWebhookOutbox)
            .set({ failedAt: now, lastStatus: null, lastError: WEBHOOK_TARGET_REFUSED })
            .where(eq(tradeWebhookOutbox.id, row.id));
          failed++;
          continue;
        }
        error = 'the webhook host does not resolve';
      }
      const body = JSON.stringify(row.payload);
      const timestamp = Math.floor(now.getTime() / 1000);
      let status: number | null = null;
      try {
        if (!target) throw new Error(error ?? 'the webhook host does not resolve');
        status = (
          await poster(target.url.href, {
            address: target.address,
            family: target.family,
            headers: {
              'content-type': 'application/json',
              [SIGNATURE_HEADER]: signWebhook(secret, timestamp, body),
              'x-tradeclear-event': row.event,
              'x-tradeclear-delivery': row.id,
            },
            body,
          })
        ).status;
        if (status < 200 || status >= 300) error = `endpoint answered HTTP ${status}`;
      } catch (caught) {
        error = caught instanceof Error ? caught.message : 'request failed';
      }
      const attempts = row.attempts + 1;
      if (error === null) {
        await db.orm
          .update(tradeWebhookOutbox)
          .set({ attempts, deliveredAt: now, lastStatus: status, lastError: null })
          .where(eq(tradeWebhookOutbox.id, row.id));
        delivered++;
      } else if (attempts >= MAX_ATTEMPTS) {
        await db.orm
          .update(tradeWebhookOutbox)
          .set({ attempts, failedAt: now, lastStatus: status, lastError: error })
          .where(eq(tradeWebhookOutbox.id, row.id));
        failed++;
      } else {
        await db.orm
          .update(tradeWebhookOutbox)
          .set({
            attempts,
            lastStatus: status,
            lastError: error,
            nextAttemptAt: new Date(now.getTime() + backoffSeconds(attempts) * 1000),
          })
          .where(eq(tradeWebhookOutbox.id, row.id));
        pending++;
      }
    }
    return { delivered, failed, pending };
  }

  /** The delivery log of the platforms the caller may see. */
  /** A page of the caller's platform's deliveries (all, for the supervisor), newest first. */
  async log(caller: Caller, request: PageRequest = {}): Promise<Page<DeliveryView>> {
    const { after, orderBy, read, limit } = keyset(tradeWebhookOutbox, request);
    const rows = await this.ports.db.orm
      .select()
      .from(tradeWebhookOutbox)
      .where(and(scopeTo(caller, { platform: tradeWebhookOutbox.platformId }), after))
      .orderBy(...orderBy)
      .limit(read);
    return pageOf(rows, limit, (shown) =>
      shown.map((r) => ({
        id: r.id,
        event: r.event,
        entityId: r.entityId,
        attempts: r.attempts,
        status: r.deliveredAt ? 'delivered' : r.failedAt ? 'failed' : 'pending',
        lastStatus: r.lastStatus,
        lastError: r.lastError,
        createdAt: r.createdAt,
        nextAttemptAt: r.nextAttemptAt,
      })),
    );
  }
}

import { and, asc, eq, inArray, isNull, notExists, sql } from 'drizzle-orm';
import type { Database, Orm } from '../db';
import type { Clock } from '../kernel';
import { outboxDeliveries, outboxEvents } from './schema';

/**
 * The outbox: modules announce what happened (a decision resolved, a payout completed) by
 * writing an event in the same transaction as the change, and subscribers hear of it after the
 * commit, exactly once each, instead of polling another module's tables.
 *
 * Delivery is per subscriber and per event, not by a cursor: a cursor over `seq` would skip an
 * event whose transaction took a lower number but committed after a higher one. The relay reads
 * the events of the subscriber's topics that have no handled delivery row, and handles each in a
 * transaction that also writes that row, so the handler's writes and "handled" commit together;
 * a crash before the commit leaves the event to the next run. A handler that throws is retried
 * with backoff (1 s doubling to 5 min); the error is kept on the delivery row.
 */

export interface OutboxEvent<P = Record<string, unknown>> {
  seq: bigint;
  topic: string;
  key: string;
  payload: P;
  createdAt: Date;
}

/** Writes an event inside the caller's transaction (it commits or rolls back with the change). */
export async function publish(
  tx: Orm,
  clock: Clock,
  event: { topic: string; key: string; payload: Record<string, unknown> },
): Promise<void> {
  await tx.insert(outboxEvents).values({ ...event, createdAt: clock.now() });
}

export interface Subscriber<C = unknown> {
  /** Stable name: deliveries are recorded under it. */
  readonly name: string;
  readonly topics: readonly string[];
  /**
   * Outside any transaction, once per run that has events for it: what the handler needs from
   * elsewhere (the chain's tip), since nothing may call out while a delivery's transaction is open.
   */
  prepare?(): Promise<C>;
  /** Runs inside the delivery's transaction: what it writes commits with "handled". */
  handle(event: OutboxEvent, tx: Orm, prepared: C): Promise<void>;
}

export interface RelayRun {
  handled: number;
  failed: number;
}

const BATCH = 100;
const MAX_BACKOFF_MS = 5 * 60_000;

export class EventRelay {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #subscribers: Subscriber[] = [];

  constructor(deps: { db: Database; clock: Clock }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
  }

  subscribe<C>(subscriber: Subscriber<C>): void {
    if (this.#subscribers.some((s) => s.name === subscriber.name))
      throw new Error(`a subscriber named ${subscriber.name} is already registered`);
    this.#subscribers.push(subscriber);
  }

  /** Hands every pending event to its subscribers (the `events.relay` job). */
  async run(): Promise<RelayRun> {
    const total: RelayRun = { handled: 0, failed: 0 };
    for (const subscriber of this.#subscribers) {
      let prepared: { value: unknown } | null = null;
      for (;;) {
        const pending = await this.#pending(subscriber);
        if (pending.length > 0 && !prepared)
          prepared = { value: subscriber.prepare ? await subscriber.prepare() : undefined };
        for (const event of pending) {
          const outcome = await this.#deliver(subscriber, event, prepared?.value);
          if (outcome !== 'already') total[outcome] += 1;
        }
        if (pending.length < BATCH) break;
      }
    }
    return total;
  }

  /** Events of the subscriber's topics not yet handled by it and due, oldest first. */
  async #pending(subscriber: Subscriber): Promise<OutboxEvent[]> {
    const now = this.#clock.now();
    const rows = await this.#db.orm
      .select()
      .from(outboxEvents)
      .where(
        and(
          inArray(outboxEvents.topic, [...subscriber.topics]),
          notExists(
            this.#db.orm
              .select({ one: sql`1` })
              .from(outboxDeliveries)
              .where(
                and(
                  eq(outboxDeliveries.subscriber, subscriber.name),
                  eq(outboxDeliveries.seq, outboxEvents.seq),
                  sql`(${outboxDeliveries.handledAt} is not null or ${outboxDeliveries.nextAttemptAt} > ${now})`,
                ),
              ),
          ),
        ),
      )
      .orderBy(asc(outboxEvents.seq))
      .limit(BATCH);
    return rows.map((row) => ({ ...row, payload: row.payload as Record<string, unknown> }));
  }

  /** Handles one event exactly once: the handler and the delivery row commit together. */
  async #deliver(
    subscriber: Subscriber,
    event: OutboxEvent,
    prepared: unknown,
  ): Promise<'handled' | 'already' | 'failed'> {
    try {
      return await this.#db.transaction(async (tx) => {
        // Claims the event for this subscriber; another relay holding the claim makes this wait,
        // then see it handled.
        await tx
          .insert(outboxDeliveries)
          .values({ subscriber: subscriber.name, seq: event.seq })
          .onConflictDoNothing();
        const [claim] = await tx
          .select({ handledAt: outboxDeliveries.handledAt })
          .from(outboxDeliveries)
          .where(
            and(
              eq(outboxDeliveries.subscriber, subscriber.name),
              eq(outboxDeliveries.seq, event.seq),
            ),
          )
          .for('update');
        if (claim?.handledAt) return 'already'; // another relay handled it meanwhile
        await subscriber.handle(event, tx, prepared);
        await tx
          .update(outboxDeliveries)
          .set({ handledAt: this.#clock.now(), lastError: null, nextAttemptAt: null })
          .where(
            and(
              eq(outboxDeliveries.subscriber, subscriber.name),
              eq(outboxDeliveries.seq, event.seq),
            ),
          );
        return 'handled';
      });
    } catch (error) {
      await this.#failed(subscriber, event, error);
      return 'failed';
    }
  }

  async #failed(subscriber: Subscriber, event: OutboxEvent, error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error);
    await this.#db.transaction(async (tx) => {
      await tx
        .insert(outboxDeliveries)
        .values({ subscriber: subscriber.name, seq: event.seq })
        .onConflictDoNothing();
      const [row] = await tx
        .select({ attempts: outboxDeliveries.attempts })
        .from(outboxDeliveries)
        .where(
          and(
            eq(outboxDeliveries.subscriber, subscriber.name),
            eq(outboxDeliveries.seq, event.seq),
            isNull(outboxDeliveries.handledAt),
          ),
        )
        .for('update');
      if (!row) return;
      const attempts = row.attempts + 1;
      const backoff = Math.min(1000 * 2 ** (attempts - 1), MAX_BACKOFF_MS);
      await tx
        .update(outboxDeliveries)
        .set({
          attempts,
          lastError: message.slice(0, 2000),
          nextAttemptAt: new Date(this.#clock.now().getTime() + backoff),
        })
        .where(
          and(
            eq(outboxDeliveries.subscriber, subscriber.name),
            eq(outboxDeliveries.seq, event.seq),
          ),
        );
    });
  }
}

import {
  and,
  asc,
  eq,
  gte,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  min,
  notExists,
  sql,
  type SQL,
} from 'drizzle-orm';
import { rowsOf, type Database, type Orm } from '../db';
import type { Clock } from '../kernel';
import { DEFAULT_PRUNE_BOUNDS, pruneEvents, type OutboxRetention, type PruneBounds } from './prune';
import { outboxDeliveries, outboxEvents, outboxMarks } from './schema';

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
 *
 * So that this read does not grow with history, each subscriber keeps a low-water mark below
 * which every event is handled (`outbox_marks`); the relay reads from the mark and prunes the
 * delivery rows under it. The mark only passes a number once no transaction that could still
 * commit an event with that number is running (see `#advance`).
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
  // The transaction id first, then the number: every event's transaction then has an id below
  // the snapshot's xmax taken after its number was handed out, which the low-water mark relies on.
  await tx.execute(sql`select pg_current_xact_id()`);
  await tx.insert(outboxEvents).values({ ...event, createdAt: clock.now() });
}

/**
 * `publish` for a writer that makes its change in one statement (the audit log): the body of a
 * data-modifying common table expression of that statement (`name as (${publishWith(…)})`)
 * writing `events`, numbered in the order given. `written` names a table expression of the same
 * statement whose rows exist only once the change is written (an `insert … returning`): the
 * events are numbered after it has a row, so, as `publish` ensures, the transaction id is taken
 * before the numbers.
 */
export function publishWith(
  written: SQL,
  events: ReadonlyArray<{
    topic: string;
    key: string;
    payload: Record<string, unknown>;
    createdAt: Date;
  }>,
): SQL {
  const rows = events.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() }));
  return sql`insert into outbox_events (topic, key, payload, created_at)
    select e->>'topic', e->>'key', e->'payload', (e->>'createdAt')::timestamptz
      from jsonb_array_elements(${JSON.stringify(rows)}::jsonb) with ordinality as x(e, ord)
     where exists (select 1 from ${written})
     order by x.ord`;
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
const HOUR_MS = 3_600_000;

/** A week for what subscribers heard; an hour for what only the live feed reads. */
export const DEFAULT_RETENTION: OutboxRetention = { heardMs: 7 * 24 * HOUR_MS, unheardMs: HOUR_MS };

export class EventRelay {
  readonly #db: Database;
  readonly #clock: Clock;
  readonly #subscribers: Subscriber[] = [];
  readonly #retention: OutboxRetention;

  constructor(deps: { db: Database; clock: Clock; retention?: OutboxRetention }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#retention = deps.retention ?? DEFAULT_RETENTION;
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
      // On the pool, on purpose: the relay serves every subscriber and never runs in a caller's
      // unit of work (each delivery is a transaction of its own); a mark read stale here only
      // makes the run read a few handled events again, which the delivery's check skips.
      const below = await this.#mark(subscriber, this.#db.orm);
      for (;;) {
        const pending = await this.#pending(subscriber, below);
        if (pending.length > 0 && !prepared)
          prepared = { value: subscriber.prepare ? await subscriber.prepare() : undefined };
        for (const event of pending) {
          const outcome = await this.#deliver(subscriber, event, prepared?.value);
          if (outcome !== 'already') total[outcome] += 1;
        }
        if (pending.length < BATCH) break;
      }
      await this.#advance(subscriber);
    }
    return total;
  }

  /**
   * Deletes the events every subscriber of this relay is done with, past the retention, in
   * bounded batches (the `events.prune` job; see prune.ts). Only a relay carrying every subscriber
   * of the deployment may prune (the server's, composed in services.ts): a topic it does not hear
   * counts as read by the live feed alone. On the pool, on purpose: each batch commits on its own
   * and serves no caller's unit.
   */
  prune(bounds: PruneBounds = DEFAULT_PRUNE_BOUNDS): Promise<number> {
    const now = this.#clock.now().getTime();
    return pruneEvents(
      this.#db.orm,
      this.#subscribers,
      {
        heardBefore: new Date(now - this.#retention.heardMs),
        unheardBefore: new Date(now - this.#retention.unheardMs),
      },
      bounds,
    );
  }

  /**
   * The subscriber's low-water mark, read through `orm` (named by every caller: the pool for a
   * run, the delivery's transaction for its check): every event below it is handled.
   */
  async #mark(subscriber: Subscriber, orm: Orm): Promise<bigint> {
    const [mark] = await orm
      .select({ belowSeq: outboxMarks.belowSeq })
      .from(outboxMarks)
      .where(eq(outboxMarks.subscriber, subscriber.name));
    return mark?.belowSeq ?? 0n;
  }

  /**
   * Moves the low-water mark in two steps, because a number handed out is not yet a committed
   * event. Each run records a candidate: the sequence's last number, then the snapshot's xmax
   * (publish takes its transaction id before its number, so every event numbered up to the
   * candidate belongs to a transaction with an id below that xmax). A later run whose snapshot
   * xmin has reached that xmax knows every such transaction has ended, so every event up to the
   * candidate is visible or never will be; the mark moves to the first of them not yet handled
   * (or past the candidate), and the delivery rows under it are pruned.
   */
  async #advance(subscriber: Subscriber): Promise<void> {
    // On the pool, on purpose: the snapshot's bounds must be a fresh snapshot's, not those of a
    // transaction already open (whose xmin would hold the mark back).
    const orm = this.#db.orm;
    const [mark] = await orm
      .select()
      .from(outboxMarks)
      .where(eq(outboxMarks.subscriber, subscriber.name));
    const below = mark?.belowSeq ?? 0n;
    let next = below;
    const { xmin } = await snapshotBounds(orm);
    if (mark?.candidateSeq != null && mark.candidateXmax != null && xmin >= mark.candidateXmax) {
      const [gap] = await orm
        .select({ seq: min(outboxEvents.seq) })
        .from(outboxEvents)
        .where(
          and(
            inArray(outboxEvents.topic, [...subscriber.topics]),
            gte(outboxEvents.seq, below),
            lte(outboxEvents.seq, mark.candidateSeq),
            notExists(this.#handledDelivery(subscriber)),
          ),
        );
      next = gap?.seq != null ? BigInt(gap.seq) : mark.candidateSeq + 1n;
      if (next < below) next = below;
    }
    const candidateSeq = await lastNumber(orm);
    const { xmax: candidateXmax } = await snapshotBounds(orm);
    if (mark && next === below && mark.candidateSeq === candidateSeq) return; // nothing new
    await this.#db.transaction(async (tx) => {
      await tx
        .insert(outboxMarks)
        .values({ subscriber: subscriber.name, belowSeq: next, candidateSeq, candidateXmax })
        .onConflictDoUpdate({
          target: outboxMarks.subscriber,
          set: {
            belowSeq: sql`greatest(${outboxMarks.belowSeq}, ${next})`,
            candidateSeq,
            candidateXmax,
          },
        });
      await tx
        .delete(outboxDeliveries)
        .where(
          and(
            eq(outboxDeliveries.subscriber, subscriber.name),
            lt(outboxDeliveries.seq, next),
            isNotNull(outboxDeliveries.handledAt),
          ),
        );
    });
  }

  /** The subscriber's handled delivery of the outer query's event. */
  #handledDelivery(subscriber: Subscriber) {
    return this.#db.orm
      .select({ one: sql`1` })
      .from(outboxDeliveries)
      .where(
        and(
          eq(outboxDeliveries.subscriber, subscriber.name),
          eq(outboxDeliveries.seq, outboxEvents.seq),
          isNotNull(outboxDeliveries.handledAt),
        ),
      );
  }

  /** Events of the subscriber's topics not yet handled by it and due, oldest first. */
  async #pending(subscriber: Subscriber, below: bigint): Promise<OutboxEvent[]> {
    const now = this.#clock.now();
    const rows = await this.#db.orm
      .select()
      .from(outboxEvents)
      .where(
        and(
          inArray(outboxEvents.topic, [...subscriber.topics]),
          gte(outboxEvents.seq, below),
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
        if (event.seq < (await this.#mark(subscriber, tx))) {
          // Handled, and its delivery row pruned under the mark since this run read it.
          await tx
            .delete(outboxDeliveries)
            .where(
              and(
                eq(outboxDeliveries.subscriber, subscriber.name),
                eq(outboxDeliveries.seq, event.seq),
              ),
            );
          return 'already';
        }
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

/** The last number the event sequence handed out (0 before the first). */
async function lastNumber(orm: Orm): Promise<bigint> {
  const [row] = rowsOf(
    await orm.execute(sql`select last_value::text as last, is_called from outbox_events_seq_seq`),
  );
  if (!row) return 0n;
  const last = BigInt(String(row.last));
  return row.is_called === true || row.is_called === 't' ? last : last - 1n;
}

/** The current snapshot's xmin (oldest transaction still running) and xmax (first unassigned). */
async function snapshotBounds(orm: Orm): Promise<{ xmin: bigint; xmax: bigint }> {
  const [row] = rowsOf(
    await orm.execute(
      sql`select pg_snapshot_xmin(pg_current_snapshot())::text as xmin,
                 pg_snapshot_xmax(pg_current_snapshot())::text as xmax`,
    ),
  );
  return { xmin: BigInt(String(row?.xmin)), xmax: BigInt(String(row?.xmax)) };
}

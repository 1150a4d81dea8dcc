import { sql, type SQL } from 'drizzle-orm';
import { rowsOf, type Orm } from '../db';

/**
 * How long the outbox keeps an event. An event a relay subscriber hears is kept `heardMs` once
 * every subscriber of its topic has handled it (its low-water mark passed it); an event of a topic
 * no subscriber hears (the audit log's `entity.changed`, read by the live feed within seconds of
 * its commit) is kept `unheardMs`. The audit log itself is never pruned: it is the
 * tamper-evident record, and an `entity.changed` event is only its announcement.
 */
export interface OutboxRetention {
  readonly heardMs: number;
  readonly unheardMs: number;
}

/** Rows deleted per statement, and statements per run: a run stays short, the next goes on. */
export interface PruneBounds {
  readonly batch: number;
  readonly maxBatches: number;
}

export const DEFAULT_PRUNE_BOUNDS: PruneBounds = { batch: 1_000, maxBatches: 20 };

/**
 * Deletes, oldest first, the events every subscriber named in `subscribers` is done with and the
 * retention lets go: of a heard topic, below the mark of each of its subscribers (a subscriber
 * with no mark yet keeps all of its topics) and older than `heardBefore`; of an unheard topic,
 * older than `unheardBefore`; never one with a delivery not handled (a failed attempt waiting
 * for its retry). `subscribers` must be every subscriber of the deployment: a topic missing from
 * it counts as unheard. Each batch is one statement on `orm` (committing on its own); answers the
 * number deleted.
 */
export async function pruneEvents(
  orm: Orm,
  subscribers: ReadonlyArray<{ readonly name: string; readonly topics: readonly string[] }>,
  cutoffs: { heardBefore: Date; unheardBefore: Date },
  bounds: PruneBounds = DEFAULT_PRUNE_BOUNDS,
): Promise<number> {
  const prunable = prunableCondition(subscribers, cutoffs);
  let total = 0;
  for (let i = 0; i < bounds.maxBatches; i += 1) {
    const [row] = rowsOf(
      await orm.execute(sql`
        with gone as (
          delete from outbox_events where seq in (
            select e.seq from outbox_events e
             where ${prunable}
               and not exists (select 1 from outbox_deliveries d
                                where d.seq = e.seq and d.handled_at is null)
             order by e.seq
             limit ${bounds.batch})
          returning 1)
        select count(*)::int as n from gone`),
    );
    const deleted = Number(row?.n ?? 0);
    total += deleted;
    if (deleted < bounds.batch) break;
  }
  return total;
}

/** The `where` of an event (`e`) the subscribers are done with and the retention lets go. */
function prunableCondition(
  subscribers: ReadonlyArray<{ readonly name: string; readonly topics: readonly string[] }>,
  cutoffs: { heardBefore: Date; unheardBefore: Date },
): SQL {
  const heard = [...new Set(subscribers.flatMap((s) => s.topics))];
  const unheardBefore = sql`e.created_at < ${cutoffs.unheardBefore.toISOString()}::timestamptz`;
  if (heard.length === 0) return unheardBefore;
  const inList = (topics: readonly string[]) =>
    sql`e.topic in (${sql.join(
      topics.map((t) => sql`${t}`),
      sql`, `,
    )})`;
  // Below every mark of the event's topic: a subscriber of other topics does not hold it.
  const belowMarks = subscribers
    .filter((s) => s.topics.length > 0)
    .map(
      (s) =>
        sql`(not ${inList(s.topics)} or e.seq < coalesce(
          (select m.below_seq from outbox_marks m where m.subscriber = ${s.name}), 0))`,
    );
  return sql`(
    (${inList(heard)} and e.created_at < ${cutoffs.heardBefore.toISOString()}::timestamptz
      and ${sql.join(belowMarks, sql` and `)})
    or (not ${inList(heard)} and ${unheardBefore}))`;
}

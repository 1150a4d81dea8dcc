/**
 * events/: the outbox modules announce what happened through, and the relay that hands each
 * event to its subscribers exactly once (see outbox.ts).
 *
 * Public surface: `publish(tx, clock, event)` inside the announcing change's transaction, or
 * `publishWith(written, events)` inside its one statement; `EventRelay` (subscribe, run — the
 * `events.relay` job; prune — the `events.prune` job, under an `OutboxRetention`, default
 * `DEFAULT_RETENTION`); `latestEventSeq` and `eventsAfter`, a best-effort reader following a topic
 * by number (the live feed, follow.ts); the types `OutboxEvent`, `Subscriber`.
 * Topics are declared by the announcing module (e.g. compliance's `DECISION_RESOLVED`).
 * Tables (events/schema.ts) are not exported: outbox_events, outbox_deliveries.
 */
export { eventsAfter, latestEventSeq } from './follow';
export { DEFAULT_RETENTION, EventRelay, publish, publishWith } from './outbox';
export type { OutboxEvent, RelayRun, Subscriber } from './outbox';
export type { OutboxRetention, PruneBounds } from './prune';

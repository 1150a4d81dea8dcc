/**
 * events/: the outbox modules announce what happened through, and the relay that hands each
 * event to its subscribers exactly once (see outbox.ts).
 *
 * Public surface: `publish(tx, clock, event)` inside the announcing change's transaction;
 * `EventRelay` (subscribe, run — the `events.relay` job); the types `OutboxEvent`, `Subscriber`.
 * Topics are declared by the announcing module (e.g. compliance's `DECISION_RESOLVED`).
 * Tables (events/schema.ts) are not exported: outbox_events, outbox_deliveries.
 */
export { EventRelay, publish } from './outbox';
export type { OutboxEvent, RelayRun, Subscriber } from './outbox';

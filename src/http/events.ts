import { mayNotice, withoutDetail } from '../compliance';
import { seesEverything, type Caller } from '../kernel';

/**
 * Live updates for the web app. An in-process publish/subscribe bus per server, fed from the
 * shared outbox (src/http/routes/events.ts reads it, so every server hears every server's
 * changes), carried to that server's browsers as server-sent events by `GET /v1/events`.
 */
export interface LiveEvent {
  /** What changed, coarse: `audit`, `invoice`, `payout`, `alert`… */
  topic: string;
  /** When it was published (ISO 8601). */
  at: string;
  /** Who may receive it: the participant the event belongs to (null: supervisor and auditor only). */
  participantId: string | null;
  /** For a company's event, its platform, which may see it too. */
  platformId: string | null;
  payload: Record<string, unknown>;
}

export type LiveListener = (event: LiveEvent) => void;

/** Whether a caller may receive an event: the same rule as `scopeTo` in src/db. */
export function visibleTo(caller: Caller, event: LiveEvent): boolean {
  if (seesEverything(caller)) return true;
  if (event.participantId !== null && event.participantId === caller.participantId) return true;
  return (
    caller.role === 'platform' &&
    event.platformId !== null &&
    event.platformId === caller.participantId
  );
}

/**
 * The event as the caller may receive it, or null: out of scope (`visibleTo`), or compliance's own
 * work on the caller (an alert raised, a case opened, a screening hit: telling a company so is a
 * tip-off, FATF R.21), and without any compliance detail in its payload for a caller who may not
 * read it (src/compliance/disclosure.ts).
 */
export function disclosedTo(caller: Caller, event: LiveEvent): LiveEvent | null {
  if (!visibleTo(caller, event)) return null;
  const owner = { platformId: event.platformId ?? event.participantId };
  if (!mayNotice(caller, { ...event.payload, topic: event.topic }, owner)) return null;
  return { ...event, payload: withoutDetail(caller, event.payload, owner) };
}

export class EventBus {
  readonly #listeners = new Set<LiveListener>();
  readonly #now: () => Date;

  constructor(now: () => Date = () => new Date()) {
    this.#now = now;
  }

  get subscribers(): number {
    return this.#listeners.size;
  }

  /** Registers a listener; returns the function that removes it. */
  subscribe(listener: LiveListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  publish(
    topic: string,
    payload: Record<string, unknown>,
    scope: { participantId?: string | null; platformId?: string | null } = {},
  ): void {
    const event: LiveEvent = {
      topic,
      at: this.#now().toISOString(),
      participantId: scope.participantId ?? null,
      platformId: scope.platformId ?? null,
      payload,
    };
    for (const listener of this.#listeners) {
      // One failing subscriber (a closed socket) must not stop delivery to the others.
      try {
        listener(event);
      } catch {
        this.#listeners.delete(listener);
      }
    }
  }
}

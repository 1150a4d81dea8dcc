import type { ServerResponse } from 'node:http';
import { ENTITY_CHANGED } from '../../audit';
import { eventsAfter, latestEventSeq } from '../../events';
import { AppError } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { disclosedTo, EventBus, type LiveEvent } from '../events';
import { commonErrors } from '../schemas';

declare module 'fastify' {
  interface FastifyInstance {
    /** The in-process bus whose events `GET /v1/events` streams to this server's browsers. */
    events: EventBus;
  }
}

/** How often the outbox is read for new events while someone listens to this server. */
export const FEED_POLL_MS = 1000;
/** Events read per poll; more wait for the next one. */
const FEED_BATCH = 500;
/**
 * Live streams one person may hold open at once (issue 11: 2,000 from one key were accepted).
 * A few browser tabs and a script; every credential of the person counts together.
 */
export const MAX_STREAMS_PER_PERSON = 8;
/** A comment line this often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;

function writeEvent(raw: ServerResponse, event: LiveEvent): void {
  // Server-sent events (WHATWG HTML §9.2): `event:` names the topic, `data:` one JSON line.
  raw.write(`event: ${event.topic}\ndata: ${JSON.stringify(event)}\n\n`);
}

/** A string field of an outbox payload, or null. */
const text = (value: unknown): string | null => (typeof value === 'string' ? value : null);

/**
 * `GET /v1/events`: server-sent events of the caller's scope, read from the outbox. Every audited
 * change is announced there as `entity.changed` (the audit log writes it in the change's
 * transaction), and while someone listens each server reads the new ones by number once a second
 * and streams each as topic `audit` with its action, entity type and id, which the web app uses to
 * refetch what it shows. Every server reads the shared table, so a change made through any of them
 * reaches the browsers of all; none is told by another.
 */
export function registerEventRoutes(app: TypedApp, deps: AppDeps): EventBus {
  const bus = new EventBus(() => deps.clock.now());
  app.decorate('events', bus);
  const streams = new Set<ServerResponse>();
  const streamsPerPerson = new Map<string, number>();

  let lastSeq: bigint | null = null;
  let timer: ReturnType<typeof setInterval> | null = null;
  let polling = false;

  async function poll(): Promise<void> {
    if (polling) return;
    polling = true;
    try {
      if (lastSeq === null) {
        // Start from the newest event: a new listener wants what happens from now on.
        lastSeq = await latestEventSeq(deps.db.orm, ENTITY_CHANGED);
        return;
      }
      const events = await eventsAfter(deps.db.orm, ENTITY_CHANGED, lastSeq, FEED_BATCH);
      for (const event of events) {
        lastSeq = event.seq;
        const p = event.payload;
        bus.publish(
          'audit',
          {
            seq: event.seq.toString(),
            action: text(p.action),
            entityType: text(p.entityType),
            entityId: text(p.entityId),
            actorRole: text(p.actorRole),
          },
          { participantId: text(p.participantId), platformId: text(p.platformId) },
        );
      }
    } catch (error) {
      app.log.warn({ err: error }, 'live events: reading the outbox failed');
    } finally {
      polling = false;
    }
  }

  function startPolling(): void {
    if (timer) return;
    void poll();
    timer = setInterval(() => void poll(), FEED_POLL_MS);
    timer.unref();
  }

  function stopPollingWhenIdle(): void {
    if (streams.size > 0 || !timer) return;
    clearInterval(timer);
    timer = null;
    lastSeq = null;
  }

  app.addHook('preClose', (done) => {
    for (const raw of streams) raw.end();
    streams.clear();
    stopPollingWhenIdle();
    done();
  });

  app.get(
    '/v1/events',
    {
      schema: {
        tags: ['events'],
        summary:
          'Live updates of the caller’s scope as server-sent events (text/event-stream): topic `audit` carries each new audit event’s action, entity type and id',
        description:
          "A server-sent event stream (text/event-stream) of changes in the caller's scope: topic `audit` carries each new audit event's action, entity type and id. A person may hold a few streams at once; the stream does not count against the rate limit more than once.",
        response: { ...commonErrors },
      },
      // One long request; it must not count against the per-minute budget more than once.
      config: { roles: 'any', rateLimit: false },
    },
    (request, reply) => {
      const caller = callerOf(request);
      const open = streamsPerPerson.get(caller.personId) ?? 0;
      if (open >= MAX_STREAMS_PER_PERSON) {
        throw new AppError(
          'RATE_LIMITED',
          `at most ${MAX_STREAMS_PER_PERSON} live event streams at once; close one first`,
        );
      }
      streamsPerPerson.set(caller.personId, open + 1);
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': String(request.id),
      });
      raw.write(`retry: 3000\n: connected ${String(request.id)}\n\n`);
      streams.add(raw);
      const unsubscribe = bus.subscribe((event) => {
        const shown = disclosedTo(caller, event);
        if (shown) writeEvent(raw, shown);
      });
      const heartbeat = setInterval(() => raw.write(': heartbeat\n\n'), HEARTBEAT_MS);
      heartbeat.unref();
      startPolling();
      request.raw.on('close', () => {
        const left = (streamsPerPerson.get(caller.personId) ?? 1) - 1;
        if (left > 0) streamsPerPerson.set(caller.personId, left);
        else streamsPerPerson.delete(caller.personId);
        clearInterval(heartbeat);
        unsubscribe();
        streams.delete(raw);
        stopPollingWhenIdle();
      });
    },
  );
  return bus;
}

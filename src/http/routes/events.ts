import type { ServerResponse } from 'node:http';
import { auditEventsAfter, latestAuditSeq } from '../../audit';
import { AppError } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { disclosedTo, EventBus, type LiveEvent } from '../events';
import { commonErrors } from '../schemas';

declare module 'fastify' {
  interface FastifyInstance {
    /** The in-process bus whose events `GET /v1/events` streams to browsers. */
    events: EventBus;
  }
}

/** How often the audit table is polled for new events while someone listens. */
export const AUDIT_POLL_MS = 1000;
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

/**
 * `GET /v1/events`: server-sent events of the caller's scope. Until the services publish on the
 * bus themselves, the audit log is the source: every state change writes an audit event, so
 * polling it (only while someone listens) tells each browser what changed, as topic `audit`
 * with the entity type and id, which the web app uses to refetch what it shows.
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
        lastSeq = await latestAuditSeq(deps.db.orm);
        return;
      }
      const rows = await auditEventsAfter(deps.db.orm, lastSeq, 500);
      for (const row of rows) {
        lastSeq = row.seq;
        bus.publish(
          'audit',
          {
            seq: row.seq.toString(),
            action: row.action,
            entityType: row.entityType,
            entityId: row.entityId,
            actorRole: row.actorRole,
          },
          { participantId: row.participantId },
        );
      }
    } catch (error) {
      app.log.warn({ err: error }, 'live events: polling the audit log failed');
    } finally {
      polling = false;
    }
  }

  function startPolling(): void {
    if (timer) return;
    void poll();
    timer = setInterval(() => void poll(), AUDIT_POLL_MS);
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

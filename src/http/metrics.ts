import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { PolicyDecision } from '../compliance';
import type { JobQueueDepth } from '../jobs';
import { AppError } from '../kernel';

/** What the running server adds once its background work has started (src/cli/commands/serve.ts). */
export interface RuntimeGauges {
  jobs(): Promise<JobQueueDepth[]>;
  /** Blocks between the chain's tip and the watcher's cursor (null: no cursor yet). */
  watcherLag(): Promise<number | null>;
}

/**
 * The server's figures in Prometheus's text format at `GET /metrics`: requests and their
 * latencies by route (the route's pattern, never its ids), gate decisions by outcome, job runs
 * and their durations, job queue depth, the watcher's lag behind the chain, and the process's own
 * (memory, CPU, event loop). Counters count since this process started, as Prometheus expects;
 * several servers are told apart by their scrape target.
 */
export class ServerMetrics {
  readonly registry = new Registry();
  readonly #requests: Counter<'method' | 'route' | 'status'>;
  readonly #latency: Histogram<'method' | 'route'>;
  readonly #decisions: Counter<'outcome'>;
  readonly #jobRuns: Counter<'job' | 'result'>;
  readonly #jobSeconds: Histogram<'job'>;
  #runtime: RuntimeGauges | null = null;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'tradeclear_' });
    this.#requests = new Counter({
      name: 'tradeclear_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status',
      labelNames: ['method', 'route', 'status'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'tradeclear_http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by method and route pattern',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#decisions = new Counter({
      name: 'tradeclear_gate_decisions_total',
      help: 'Transfer decisions the policy gate wrote, by outcome',
      labelNames: ['outcome'],
      registers,
    });
    this.#jobRuns = new Counter({
      name: 'tradeclear_job_runs_total',
      help: 'Background job runs on this server, by job and result (ok or failed)',
      labelNames: ['job', 'result'],
      registers,
    });
    this.#jobSeconds = new Histogram({
      name: 'tradeclear_job_run_duration_seconds',
      help: 'Duration of background job runs on this server',
      labelNames: ['job'],
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 30, 120],
      registers,
    });
    const runtime = () => this.#runtime;
    new Gauge({
      name: 'tradeclear_job_queue_depth',
      help: 'Background job runs waiting (state=queued) or under way on any server (state=active)',
      labelNames: ['job', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const queue of (await runtime()?.jobs()) ?? []) {
          this.set({ job: queue.name, state: 'queued' }, queue.queued);
          this.set({ job: queue.name, state: 'active' }, queue.active);
        }
      },
    });
    new Gauge({
      name: 'tradeclear_watcher_lag_blocks',
      help: "Blocks between the chain's tip and the last block the watcher processed",
      registers,
      async collect() {
        this.reset();
        const lag = await runtime()?.watcherLag();
        if (lag !== null && lag !== undefined) this.set(lag);
      },
    });
  }

  attachRuntime(runtime: RuntimeGauges): void {
    this.#runtime = runtime;
  }

  decided(decision: PolicyDecision): void {
    this.#decisions.inc({ outcome: decision.outcome });
  }

  jobRan(job: string, ms: number, ok: boolean): void {
    this.#jobRuns.inc({ job, result: ok ? 'ok' : 'failed' });
    this.#jobSeconds.observe({ job }, ms / 1000);
  }

  /** Counts every answered request and serves `/metrics` (see `metricsAllowed`). */
  register(app: FastifyInstance, token: string | undefined): void {
    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      if (route === '/metrics') return;
      const labels = { method: request.method, route };
      this.#requests.inc({ ...labels, status: String(reply.statusCode) });
      this.#latency.observe(labels, reply.elapsedTime / 1000);
    });
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      if (!metricsAllowed(request, token))
        throw new AppError(
          'FORBIDDEN',
          'metrics are served to the loopback interface, or with the bearer METRICS_TOKEN',
        );
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }
}

/**
 * A scrape is allowed with `Authorization: Bearer <METRICS_TOKEN>` when one is configured, and
 * otherwise only from the loopback interface (a Prometheus beside the server), never through a
 * proxy (a request carrying X-Forwarded-For or Forwarded).
 */
export function metricsAllowed(request: FastifyRequest, token: string | undefined): boolean {
  const header = request.headers.authorization;
  if (token) {
    const expected = Buffer.from(`Bearer ${token}`);
    const given = Buffer.from(header ?? '');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
  // A request a proxy forwarded arrives from loopback too: it is not a local scrape.
  if (request.headers['x-forwarded-for'] !== undefined || request.headers.forwarded !== undefined)
    return false;
  const ip = request.socket.remoteAddress ?? '';
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

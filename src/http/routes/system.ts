import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';

export function registerSystemRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/healthz',
    {
      config: { roles: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Liveness: the process answers',
        description:
          'For load balancers and orchestrators: 200 as long as the process serves requests. It checks nothing else; use /readyz for the database.',
        security: [],
        response: { 200: z.object({ status: z.literal('ok') }).meta({ id: 'Health' }) },
      },
    },
    () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { roles: 'public' },
      schema: {
        tags: ['system'],
        summary: 'Readiness: the database answers and every migration is applied',
        description:
          '200 when the database answers and every migration is applied; 503 with the reason otherwise, so that traffic waits until the server can serve it.',
        security: [],
        response: {
          200: z.object({ status: z.literal('ready'), database: z.string() }).meta({ id: 'Ready' }),
          503: z
            .object({
              status: z.literal('not-ready'),
              database: z.string(),
              reason: z.string(),
            })
            .meta({ id: 'NotReady' }),
        },
      },
    },
    async (_request, reply) => {
      const state = await deps.db.ready();
      if (state.reachable && state.migrationsApplied) {
        return { status: 'ready' as const, database: deps.db.kind };
      }
      return reply.status(503).send({
        status: 'not-ready' as const,
        database: deps.db.kind,
        reason: state.reachable
          ? 'migrations are not applied (run `tradeclear migrate`)'
          : 'the database is unreachable',
      });
    },
  );
}

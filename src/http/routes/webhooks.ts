import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

/** The webhook delivery log (the outbox); the endpoint and secret are trade settings. */
export function registerWebhooksRoutes(app: TypedApp, deps: AppDeps): void {
  const webhooks = deps.services.trade.webhooks;

  app.get(
    '/v1/webhooks/deliveries',
    {
      schema: {
        tags: ['trade'],
        summary: 'Webhook deliveries of the caller’s platform, newest first',
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(500).default(100) }),
        response: {
          200: z.object({
            deliveries: z.array(
              z.object({
                id: z.string(),
                event: z.string(),
                entityId: z.string(),
                attempts: z.number(),
                status: z.enum(['pending', 'delivered', 'failed']),
                lastStatus: z.number().nullable(),
                lastError: z.string().nullable(),
                createdAt: z.string(),
                nextAttemptAt: z.string(),
              }),
            ),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const log = await webhooks.log(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        request.query.limit,
      );
      return {
        deliveries: log.map((d) => ({
          ...d,
          createdAt: d.createdAt.toISOString(),
          nextAttemptAt: d.nextAttemptAt.toISOString(),
        })),
      };
    },
  );
}

import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

const deliverySchema = z
  .object({
    id: z.string(),
    event: z.string(),
    entityId: z.string(),
    attempts: z.number(),
    status: z.enum(['pending', 'delivered', 'failed']),
    lastStatus: z.number().nullable(),
    lastError: z.string().nullable(),
    createdAt: z.string(),
    nextAttemptAt: z.string(),
  })
  .meta({ id: 'WebhookDelivery' });

/** The webhook delivery log (the outbox); the endpoint and secret are trade settings. */
export function registerWebhooksRoutes(app: TypedApp, deps: AppDeps): void {
  const webhooks = deps.services.trade.webhooks;

  app.get(
    '/v1/webhooks/deliveries',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags: ['trade'],
        summary: 'Webhook deliveries of the caller’s platform, newest first',
        querystring: z.object(pageQuery),
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        response: {
          200: pageSchema(deliverySchema),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await webhooks.log(callerOf(request, ['platform', 'supervisor', 'auditor']), {
        limit,
        cursor: cursor ?? null,
      });
      return {
        ...page,
        items: page.items.map((d) => ({
          ...d,
          createdAt: d.createdAt.toISOString(),
          nextAttemptAt: d.nextAttemptAt.toISOString(),
        })),
      };
    },
  );
}

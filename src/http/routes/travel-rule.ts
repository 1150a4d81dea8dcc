import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

const messageSchema = z
  .object({
    id: z.string(),
    transferId: z.string(),
    decisionId: z.string(),
    fromPlatformId: z.string(),
    toPlatformId: z.string(),
    /** The IVMS101 payload as the originating platform sent it (validated by the gate). */
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .meta({ id: 'TravelRuleMessage' });

export function registerTravelRuleRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/travel-rule/inbox',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          'IVMS101 Travel Rule data other platforms of the scheme sent to the calling beneficiary platform (the supervisor and auditor see all)',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(messageSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await deps.services.compliance.decisions.travelRuleInbox(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: page.items.map((m) => ({
          ...m,
          payload: { ...m.payload },
          createdAt: m.createdAt.toISOString(),
        })),
      };
    },
  );
}

import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

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
      schema: {
        tags: ['compliance'],
        summary:
          'IVMS101 Travel Rule data other platforms of the scheme sent to the calling beneficiary platform (the supervisor and auditor see all)',
        response: { 200: z.object({ messages: z.array(messageSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const messages = await deps.services.compliance.decisions.travelRuleInbox(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
      );
      return {
        messages: messages.map((m) => ({
          ...m,
          payload: { ...m.payload },
          createdAt: m.createdAt.toISOString(),
        })),
      };
    },
  );
}

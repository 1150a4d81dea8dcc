import { z } from 'zod';
import { disclosureFor } from '../../compliance';
import { AppError } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

const matchSchema = z
  .object({
    score: z.number(),
    outcome: z.enum(['match', 'review', 'clear']),
    source: z.string(),
    listEntryId: z.string(),
    listSnapshotId: z.string(),
    primaryName: z.string(),
    matchedAlias: z.string().nullable(),
    kind: z.string(),
    entryHash: z.string(),
  })
  .meta({ id: 'ScreeningMatch' });

const resultSchema = z
  .object({
    query: z.string(),
    outcome: z.enum(['match', 'review', 'clear']),
    matches: z.array(matchSchema),
    listSnapshotIds: z.array(z.string()),
  })
  .meta({ id: 'ScreeningResult' });

export function registerScreeningRoutes(app: TypedApp, deps: AppDeps): void {
  app.post(
    '/v1/screenings',
    {
      schema: {
        tags: ['compliance'],
        summary:
          'Screen a name or an address against the active sanctions lists (compliance officers: platform, supervisor, auditor)',
        body: z.union([
          z
            .object({
              name: z.string().trim().min(1).max(300),
              type: z.enum(['person', 'organization']).optional(),
              limit: z.number().int().min(1).max(50).optional(),
            })
            .strict(),
          z.object({ address: z.string().trim().min(14).max(120) }).strict(),
        ]),
        response: { 200: resultSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      // A party must not probe the lists for the spelling that passes (no tipping-off): only
      // those who may read compliance detail screen.
      if (disclosureFor(caller) !== 'detail')
        throw new AppError(
          'FORBIDDEN',
          `screening is for compliance officers (platform, supervisor, auditor); the caller's role is ${caller.role}`,
        );
      const body = request.body;
      if ('address' in body)
        return deps.services.compliance.screening.screenAddress(caller, body.address);
      return deps.services.compliance.screening.screenName(caller, body.name, {
        ...(body.type ? { type: body.type } : {}),
        ...(body.limit ? { limit: body.limit } : {}),
      });
    },
  );

  app.post(
    '/v1/screenings/clearances',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Clear a (party, list entry) pair as a false positive, with the reason',
        body: z
          .object({
            partyId: z.string().min(1).max(64),
            source: z.enum(['ofac-sdn', 'un', 'eu-fsf']),
            listEntryId: z.string().min(1).max(100),
            reason: z.string().trim().min(10).max(2000),
          })
          .strict(),
        response: {
          201: z.object({
            id: z.string(),
            partyId: z.string(),
            source: z.string(),
            listEntryId: z.string(),
            entryHash: z.string(),
            reason: z.string(),
            clearedBy: z.string(),
            clearedAt: z.string(),
          }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const cleared = await deps.services.compliance.screening.clear(
        callerOf(request, ['supervisor']),
        request.body,
      );
      return reply.status(201).send({ ...cleared, clearedAt: cleared.clearedAt.toISOString() });
    },
  );
}

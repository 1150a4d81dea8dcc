import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

const snapshotSchema = z
  .object({
    id: z.string(),
    listKey: z.string(),
    source: z.string(),
    publicationDate: z.string().nullable(),
    contentHash: z.string(),
    counts: z.record(z.string(), z.number()),
    importedAt: z.string(),
    importedBy: z.string(),
    active: z.boolean(),
  })
  .meta({ id: 'ListSnapshot' });

export function registerListRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/lists',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Sanctions list snapshots (active ones, or all with ?all=true)',
        querystring: z.object({ all: z.enum(['true', 'false']).optional() }),
        response: { 200: z.object({ snapshots: z.array(snapshotSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const snapshots = await deps.services.compliance.screening.listSnapshots(callerOf(request), {
        all: request.query.all === 'true',
      });
      return {
        snapshots: snapshots.map((s) => ({
          ...s,
          counts: { ...s.counts },
          importedAt: s.importedAt.toISOString(),
        })),
      };
    },
  );
}

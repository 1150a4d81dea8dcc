import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

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
      config: { roles: 'any' },
      schema: {
        tags: ['compliance'],
        summary:
          'Sanctions list snapshots, newest import first (active ones, or all with ?all=true; of one list with listKey)',
        querystring: z.object({
          all: z.enum(['true', 'false']).optional(),
          listKey: z.string().min(1).max(64).optional(),
          ...pageQuery,
        }),
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        response: { 200: pageSchema(snapshotSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { all, listKey, limit, cursor } = request.query;
      const page = await deps.services.compliance.screening.listSnapshots(
        callerOf(request),
        { all: all === 'true', listKey },
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: page.items.map((s) => ({
          ...s,
          counts: { ...s.counts },
          importedAt: s.importedAt.toISOString(),
        })),
      };
    },
  );
}

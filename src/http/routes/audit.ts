import { z } from 'zod';
import { listAuditEvents, verifyAuditChain } from '../../audit';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

const auditEventSchema = z
  .object({
    seq: z.string(),
    id: z.string(),
    at: z.string(),
    actor: z.string(),
    actorRole: z.string(),
    participantId: z.string().nullable(),
    action: z.string(),
    entityType: z.string(),
    entityId: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    requestId: z.string().nullable(),
    prevHash: z.string(),
    hash: z.string(),
  })
  .meta({ id: 'AuditEvent' });

export function registerAuditRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/audit/verify',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['audit'],
        summary: 'Recompute the audit hash chain and name the first broken event',
        description:
          "Walks the whole audit log and recomputes each event's hash from its predecessor. `ok: false` names the first event whose hash does not match: the log was altered from there on.",
        response: {
          200: z
            .object({
              ok: z.boolean(),
              events: z.number().int(),
              headHash: z.string().optional(),
              brokenEvent: z.object({ seq: z.string(), id: z.string() }).nullable().optional(),
              reason: z.string().optional(),
            })
            .meta({ id: 'AuditVerification' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request, ['supervisor', 'auditor']);
      return verifyAuditChain(deps.db.orm);
    },
  );

  app.get(
    '/v1/audit',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['audit'],
        summary: 'Audit events, newest first',
        querystring: z.object({
          entityType: z.string().max(64).optional(),
          entityId: z.string().max(64).optional(),
          action: z.string().max(64).optional(),
          actor: z.string().max(64).optional(),
          ...pageQuery,
        }),
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        response: { 200: pageSchema(auditEventSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request, ['supervisor', 'auditor']);
      const { limit, cursor, ...filter } = request.query;
      const page = await listAuditEvents(deps.db.orm, filter, { limit, cursor: cursor ?? null });
      return {
        ...page,
        items: page.items.map((row) => ({
          ...row,
          seq: row.seq.toString(),
          at: row.at.toISOString(),
        })),
      };
    },
  );
}

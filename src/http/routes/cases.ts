import { z } from 'zod';
import { ALERT_SEVERITIES, CASE_OUTCOMES, CASE_STATES, type CaseView } from '../../compliance';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { nameField, namesOf } from '../names';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

const caseSchema = z
  .object({
    id: z.string(),
    partyId: z.string(),
    partyName: nameField,
    platformId: z.string().nullable(),
    state: z.enum(CASE_STATES),
    outcome: z.enum(CASE_OUTCOMES).nullable(),
    assignee: z.string().nullable(),
    notes: z.array(z.object({ at: z.string(), by: z.string(), text: z.string() })),
    openedAt: z.string(),
    closedAt: z.string().nullable(),
  })
  .meta({ id: 'Case' });

const present = (c: CaseView) => ({
  ...c,
  openedAt: c.openedAt.toISOString(),
  closedAt: c.closedAt?.toISOString() ?? null,
});

export function registerCaseRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/cases',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Cases (supervisor and auditor)',
        description:
          'Newest opened first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          state: z.enum(CASE_STATES).optional(),
          partyId: z.string().max(64).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(caseSchema), ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await deps.services.compliance.cases.list(
        callerOf(request, ['supervisor', 'auditor']),
        {
          ...(q.state ? { state: q.state } : {}),
          ...(q.partyId ? { partyId: q.partyId } : {}),
        },
        { limit: q.limit, cursor: q.cursor ?? null },
      );
      const name = await namesOf(
        deps,
        page.items.map((c) => c.partyId),
      );
      return {
        ...page,
        items: page.items.map((c) => ({ ...present(c), partyName: name(c.partyId) })),
      };
    },
  );

  app.get(
    '/v1/cases/:id',
    {
      schema: {
        tags: ['compliance'],
        summary: 'One case with its alerts and linked transfers',
        params: idParam('cas'),
        response: {
          200: caseSchema.extend({
            alerts: z.array(
              z.object({
                id: z.string(),
                kind: z.string(),
                rule: z.string(),
                score: z.number(),
                severity: z.enum(ALERT_SEVERITIES),
                message: z.string(),
                transferId: z.string().nullable(),
                decisionId: z.string().nullable(),
                createdAt: z.string(),
              }),
            ),
            transferIds: z.array(z.string()),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const detail = await deps.services.compliance.cases.get(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
      );
      return {
        ...present(detail),
        alerts: detail.alerts.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })),
        transferIds: detail.transferIds,
      };
    },
  );

  app.patch(
    '/v1/cases/:id',
    {
      schema: {
        tags: ['compliance'],
        summary:
          'Move a case on (open → investigating → closed), assign it, add a note, link transfers',
        params: idParam('cas'),
        body: z
          .object({
            state: z.enum(CASE_STATES).optional(),
            outcome: z.enum(CASE_OUTCOMES).optional(),
            assignee: z.string().max(100).nullable().optional(),
            note: z.string().trim().min(1).max(4000).optional(),
            linkTransferIds: z.array(z.string().min(1).max(100)).max(500).optional(),
          })
          .strict(),
        response: { 200: caseSchema, ...commonErrors },
      },
    },
    async (request) => {
      const b = request.body;
      return present(
        await deps.services.compliance.cases.update(
          callerOf(request, ['supervisor']),
          request.params.id,
          {
            ...(b.state ? { state: b.state } : {}),
            ...(b.outcome ? { outcome: b.outcome } : {}),
            ...(b.assignee !== undefined ? { assignee: b.assignee } : {}),
            ...(b.note ? { note: b.note } : {}),
            ...(b.linkTransferIds ? { linkTransferIds: b.linkTransferIds } : {}),
          },
        ),
      );
    },
  );

  app.get(
    '/v1/cases/:id/goaml',
    {
      schema: {
        tags: ['compliance'],
        summary: 'The goAML suspicious transaction report (XML) of a closed, reported case',
        params: idParam('cas'),
      },
    },
    async (request, reply) => {
      const xml = await deps.services.compliance.cases.exportGoaml(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
      );
      return reply.type('application/xml; charset=utf-8').send(xml);
    },
  );
}

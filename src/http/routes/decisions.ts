import { z } from 'zod';
import type { DecisionView } from '../../compliance';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam } from '../schemas';

const decisionSchema = z
  .object({
    id: z.string(),
    transferId: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    counterpartyId: z.string(),
    direction: z.string(),
    outcome: z.enum(['allow', 'review', 'block']),
    finalOutcome: z.enum(['allow', 'block']).nullable(),
    reviewedBy: z.string().nullable(),
    reviewedAt: z.string().nullable(),
    reviewNote: z.string().nullable(),
    reasons: z.array(
      z.object({
        code: z.string(),
        rule: z.string(),
        message: z.string(),
        field: z.string().optional(),
        outcome: z.enum(['allow', 'review', 'block']),
      }),
    ),
    listSnapshotIds: z.array(z.string()),
    ruleVersions: z.array(z.string()),
    monitoringScore: z.number(),
    decidedAt: z.string(),
  })
  .meta({ id: 'Decision' });

function present(d: DecisionView) {
  return {
    ...d,
    reviewedAt: d.reviewedAt?.toISOString() ?? null,
    decidedAt: d.decidedAt.toISOString(),
  };
}

export function registerDecisionRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/decisions',
    {
      schema: {
        tags: ['compliance'],
        summary: 'Policy gate decisions visible to the caller',
        querystring: z.object({
          outcome: z.enum(['allow', 'review', 'block']).optional(),
          pendingReview: z.enum(['true', 'false']).optional(),
          transferId: z.string().max(100).optional(),
        }),
        response: { 200: z.object({ decisions: z.array(decisionSchema) }), ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const list = await deps.services.compliance.decisions.list(callerOf(request), {
        ...(q.outcome ? { outcome: q.outcome } : {}),
        ...(q.transferId ? { transferId: q.transferId } : {}),
        pendingReview: q.pendingReview === 'true',
      });
      return { decisions: list.map(present) };
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      schema: {
        tags: ['compliance'],
        summary: 'One decision with every reason',
        params: idParam('dec'),
        response: { 200: decisionSchema, ...commonErrors },
      },
    },
    async (request) =>
      present(await deps.services.compliance.decisions.get(callerOf(request), request.params.id)),
  );

  app.post(
    '/v1/decisions/:id/review',
    {
      schema: {
        tags: ['compliance'],
        summary: "An officer's decision on a transfer sent to review (blocks cannot be released)",
        params: idParam('dec'),
        body: z
          .object({
            outcome: z.enum(['allow', 'block']),
            note: z.string().trim().min(10).max(2000),
          })
          .strict(),
        response: { 200: decisionSchema, ...commonErrors },
      },
    },
    async (request) =>
      present(
        await deps.services.compliance.decisions.resolveReview(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body,
        ),
      ),
  );
}

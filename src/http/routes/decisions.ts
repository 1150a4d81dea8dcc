import { z } from 'zod';
import { COMPLIANCE_STATUSES, disclose, type DecisionView } from '../../compliance';
import type { Caller } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

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
    monitoringScore: z.number().nullable(),
    decidedAt: z.string(),
    disclosure: z.enum(['detail', 'outcome']).meta({
      description:
        'detail: every reason, rule, score and list snapshot (platform officers of the client, supervisor, auditor); outcome: the status and reference only, the detail fields empty (the company: no tipping-off, FATF R.21)',
    }),
    status: z.enum(COMPLIANCE_STATUSES),
    reference: z.string().meta({ description: 'what to quote to the platform about it' }),
  })
  .meta({ id: 'Decision' });

/** A decision as the caller may read it (src/compliance/disclosure.ts decides what that is). */
function present(caller: Caller, decision: DecisionView) {
  const d = disclose(caller, decision);
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
      config: { roles: 'any' },
      schema: {
        tags: ['compliance'],
        summary: 'Policy gate decisions visible to the caller',
        querystring: z.object({
          outcome: z.enum(['allow', 'review', 'block']).optional(),
          pendingReview: z.enum(['true', 'false']).optional(),
          attention: z.enum(['true', 'false']).optional().meta({
            description:
              'true: only the transfers that were stopped, blocked or held for review (and those a review blocked)',
          }),
          transferId: z.string().max(100).optional(),
          ...pageQuery,
        }),
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        response: { 200: pageSchema(decisionSchema), ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const caller = callerOf(request);
      const page = await deps.services.compliance.decisions.list(
        caller,
        {
          ...(q.outcome ? { outcome: q.outcome } : {}),
          ...(q.transferId ? { transferId: q.transferId } : {}),
          pendingReview: q.pendingReview === 'true',
          attention: q.attention === 'true',
        },
        { limit: q.limit, cursor: q.cursor ?? null },
      );
      return { ...page, items: page.items.map((d) => present(caller, d)) };
    },
  );

  app.get(
    '/v1/decisions/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['compliance'],
        summary: 'One decision with every reason',
        description:
          'One compliance gate decision with every reason (rule, score, list entry) that led to it.',
        params: idParam('dec'),
        response: { 200: decisionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return present(
        caller,
        await deps.services.compliance.decisions.get(caller, request.params.id),
      );
    },
  );

  app.post(
    '/v1/decisions/:id/review',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['compliance'],
        summary: "An officer's decision on a transfer sent to review (blocks cannot be released)",
        description:
          "An officer's decision on a transfer the gate sent to review: release it or block it, with a reason. A block cannot be released afterwards.",
        params: idParam('dec'),
        body: z
          .object({
            outcome: z.enum(['allow', 'block']),
            note: z.string().trim().min(10).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                outcome: 'allow',
                note: 'Travel Rule data received from the VASP; counterparty verified',
              },
            ],
          }),
        response: { 200: decisionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['supervisor']);
      return present(
        caller,
        await deps.services.compliance.decisions.resolveReview(
          caller,
          request.params.id,
          request.body,
        ),
      );
    },
  );
}

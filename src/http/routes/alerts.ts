import { z } from 'zod';
import { ALERT_SEVERITIES, CASE_STATES, type AlertView } from '../../compliance';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

const alertSchema = z
  .object({
    id: z.string(),
    partyId: z.string(),
    platformId: z.string().nullable(),
    caseId: z.string(),
    caseState: z.enum(CASE_STATES),
    kind: z.string(),
    rule: z.string(),
    score: z.number(),
    severity: z.enum(ALERT_SEVERITIES),
    message: z.string(),
    transferId: z.string().nullable(),
    decisionId: z.string().nullable(),
    amount: z
      .object({ minor: z.string(), currency: z.string() })
      .nullable()
      .meta({ description: "the fiat value of the alert's transfer as the gate valued it" }),
    createdAt: z.string(),
  })
  .meta({ id: 'Alert' });

export function registerAlertRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/alerts',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          'Monitoring and screening alerts, newest first (supervisor and auditor): filter by the state of their case, rule, severity, party',
        querystring: z
          .object({
            state: z.enum(CASE_STATES).optional(),
            rule: z
              .string()
              .regex(/^[a-z][a-z0-9.-]*@\d+$/, 'must be a versioned rule id like rule.velocity@1')
              .optional(),
            severity: z.enum(ALERT_SEVERITIES).optional(),
            partyId: z.string().min(1).max(64).optional(),
            ...pageQuery,
          })
          .strict(),
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        response: { 200: pageSchema(alertSchema), ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await deps.services.compliance.cases.alerts(
        callerOf(request, ['supervisor', 'auditor']),
        {
          ...(q.state ? { state: q.state } : {}),
          ...(q.rule ? { rule: q.rule } : {}),
          ...(q.severity ? { severity: q.severity } : {}),
          ...(q.partyId ? { partyId: q.partyId } : {}),
        },
        { limit: q.limit, cursor: q.cursor ?? null },
      );
      return { ...page, items: page.items.map(presentAlert) };
    },
  );

  app.get(
    '/v1/cases/:id/alerts',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary: "A case's alerts, newest first (supervisor and auditor)",
        description:
          "The alerts a case holds, a page at a time (the case's view carries their count): pass `nextCursor` as `cursor` for the next.",
        params: idParam('cas'),
        querystring: z.object(pageQuery).strict(),
        response: { 200: pageSchema(alertSchema), ...commonErrors },
      },
    },
    async (request) => {
      const page = await deps.services.compliance.cases.caseAlerts(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
        { limit: request.query.limit, cursor: request.query.cursor ?? null },
      );
      return { ...page, items: page.items.map(presentAlert) };
    },
  );
}

function presentAlert(a: AlertView) {
  return {
    ...a,
    amount: a.amount ? { minor: a.amount.minor.toString(), currency: a.amount.currency } : null,
    createdAt: a.createdAt.toISOString(),
  };
}

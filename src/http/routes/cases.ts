import { z } from 'zod';
import {
  ALERT_SEVERITIES,
  CASE_OUTCOMES,
  CASE_STATES,
  type CaseSummary,
  type CaseView,
  type GoamlPreview,
} from '../../compliance';
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

const amountSchema = z
  .object({
    minor: z.string().meta({ description: 'in minor units of the currency (cents)' }),
    currency: z.string(),
  })
  .meta({ id: 'FiatAmount' });

/** What a case is triaged by, beside the case itself. */
const summaryFields = {
  severity: z.enum(ALERT_SEVERITIES).nullable().meta({
    description: "the worst severity among the case's alerts (null: no alert)",
  }),
  alertCount: z.number().int(),
  exposure: z.array(amountSchema).meta({
    description:
      "the value of the transfers the case's evidence names (linked and alerted), per currency",
  }),
};

const caseListItemSchema = caseSchema.extend(summaryFields).meta({ id: 'CaseListItem' });

const present = (c: CaseView) => ({
  ...c,
  openedAt: c.openedAt.toISOString(),
  closedAt: c.closedAt?.toISOString() ?? null,
});

const presentAmount = (a: { minor: bigint; currency: string }) => ({
  minor: a.minor.toString(),
  currency: a.currency,
});

const presentListItem = (c: CaseView & CaseSummary) => ({
  ...present(c),
  severity: c.severity,
  alertCount: c.alertCount,
  exposure: c.exposure.map(presentAmount),
});

const partySchema = z.object({ id: z.string(), legalName: z.string(), country: z.string() });

const previewSchema = z
  .object({
    xml: z.string().meta({ description: 'the goAML STR as it would be filed now' }),
    problems: z.array(z.string()).meta({
      description: 'what stops filing (empty: the report can be filed)',
    }),
    reportingEntityId: z.string().nullable(),
    schemeCountry: z.string().nullable(),
    currency: z.string(),
    reason: z.string(),
    action: z.string(),
    indicators: z.array(z.string()),
    transactions: z.array(
      z.object({
        transferId: z.string(),
        direction: z.enum(['inbound', 'outbound']),
        occurredAt: z.string(),
        amountSats: z.string(),
        amount: amountSchema,
        counterpartyAddress: z.string(),
        company: partySchema,
        counterparty: partySchema,
      }),
    ),
  })
  .meta({ id: 'GoamlPreview' });

const presentPreview = (p: GoamlPreview) => ({
  ...p,
  transactions: p.transactions.map((t) => ({
    transferId: t.transferId,
    direction: t.direction,
    occurredAt: t.occurredAt.toISOString(),
    amountSats: t.amountSats.toString(),
    amount: { minor: t.fiatMinor.toString(), currency: t.fiatCurrency },
    counterpartyAddress: t.counterpartyAddress,
    company: t.company,
    counterparty: t.counterparty,
  })),
});

export function registerCaseRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/cases',
    {
      config: { roles: ['supervisor', 'auditor'] },
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
        response: { 200: pageSchema(caseListItemSchema), ...commonErrors },
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
        items: page.items.map((c) => ({ ...presentListItem(c), partyName: name(c.partyId) })),
      };
    },
  );

  app.get(
    '/v1/cases/:id',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary: 'One case with its alert count and linked transfer count',
        description:
          'One case with its notes, assignee, how many transfers are linked and what it is triaged by (worst severity, alert count, exposure); its alerts are paged at `/v1/cases/{id}/alerts`, its linked transfers at `/v1/cases/{id}/transfers`.',
        params: idParam('cas'),
        response: {
          200: caseSchema
            .extend({
              ...summaryFields,
              transferCount: z.number().int(),
            })
            .meta({ id: 'CaseDetail' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const detail = await deps.services.compliance.cases.get(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
      );
      return { ...presentListItem(detail), transferCount: detail.transferCount };
    },
  );

  app.get(
    '/v1/cases/:id/transfers',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary: 'The transfers linked to a case, by transfer id (supervisor and auditor)',
        description:
          "The transfers linked to a case, a page at a time by transfer id (the case's view carries their count): pass `nextCursor` as `cursor` for the next.",
        params: idParam('cas'),
        querystring: z.object(pageQuery).strict(),
        response: {
          200: pageSchema(z.object({ transferId: z.string() }).meta({ id: 'CaseTransfer' })),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      deps.services.compliance.cases.caseTransfers(
        callerOf(request, ['supervisor', 'auditor']),
        request.params.id,
        { limit: request.query.limit, cursor: request.query.cursor ?? null },
      ),
  );

  app.patch(
    '/v1/cases/:id',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['compliance'],
        summary:
          'Move a case on (open → investigating → closed), assign it, add a note, link transfers',
        description:
          'Moves a case on (open → investigating → closed with an outcome), assigns it, adds a note or links transfers. Each change is audited.',
        params: idParam('cas'),
        body: z
          .object({
            state: z.enum(CASE_STATES).optional(),
            outcome: z.enum(CASE_OUTCOMES).optional(),
            assignee: z.string().max(100).nullable().optional(),
            note: z.string().trim().min(1).max(4000).optional(),
            linkTransferIds: z.array(z.string().min(1).max(100)).max(500).optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                state: 'investigating',
                assignee: 'usr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                note: 'requested the shipping documents from the platform',
              },
            ],
          }),
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
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary: 'The goAML suspicious transaction report (XML) of a closed, reported case',
        description:
          'The goAML suspicious transaction report (XML) of a case closed as reported, for filing with the financial intelligence unit.',
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

  app.get(
    '/v1/cases/:id/goaml/preview',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          'The goAML STR the case would file now, with what stops filing (supervisor and auditor; any state of the case)',
        description:
          'The goAML report the case would file now, in any state, with what still stops filing (missing fields, open state).',
        params: idParam('cas'),
        response: { 200: previewSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentPreview(
        await deps.services.compliance.cases.previewGoaml(
          callerOf(request, ['supervisor', 'auditor']),
          request.params.id,
        ),
      ),
  );

  app.get(
    '/v1/cases/assignees',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          "The people a case may be assigned to: the supervisor's staff (supervisor and auditor)",
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({ ...pageQuery }),
        response: {
          200: pageSchema(
            z
              .object({ id: z.string(), displayName: z.string(), username: z.string() })
              .meta({ id: 'CaseAssignee' }),
          ),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request, ['supervisor', 'auditor']);
      return deps.services.users.staff('supervisor', {
        limit: request.query.limit,
        cursor: request.query.cursor ?? null,
      });
    },
  );
}

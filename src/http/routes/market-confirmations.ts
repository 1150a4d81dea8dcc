import { z } from 'zod';
import type { BankConfirmationView } from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';
import { conflicts, tags } from './market-schemas';

/** The bank's confirmations of deals' fiat legs: the market's inbox, and a confirmation file imported. */

const BANK_CONFIRMATION_STATUSES = ['pending', 'applied', 'refused', 'failed'] as const;
const bankConfirmationSchema = z
  .object({
    id: z.string(),
    bank: z.string(),
    bankReference: z.string(),
    dealReference: z.string(),
    amountMinor: z.string(),
    currency: z.string(),
    status: z.enum(BANK_CONFIRMATION_STATUSES),
    outcome: z.string().nullable().meta({ description: "`confirmed`, or the refusal's code" }),
    attempts: z.number(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string(),
    receivedAt: z.string(),
    consumedAt: z.string().nullable(),
  })
  .meta({ id: 'MarketBankConfirmation' });
const presentBankConfirmation = (c: BankConfirmationView) => ({
  ...c,
  status: c.status as (typeof BANK_CONFIRMATION_STATUSES)[number],
  amountMinor: c.amountMinor.toString(),
  nextAttemptAt: c.nextAttemptAt.toISOString(),
  receivedAt: c.receivedAt.toISOString(),
  consumedAt: c.consumedAt?.toISOString() ?? null,
});

export function registerConfirmationRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;

  app.get(
    '/v1/market/confirmations',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags,
        summary:
          "The bank's confirmations as received: pending ones (retried with backoff, with their last error), applied, refused, failed (given up after five attempts)",
        description:
          "The bank's confirmations of fiat legs as the market received them (its inbox), newest first: each is applied on its own, and a pending one is retried with backoff with its last error shown. After five failed attempts on errors that are not the confirmation's own it is `failed` (outcome ATTEMPTS_EXHAUSTED): no longer retried, and its deal, still awaiting its fiat leg, is held for the supervisors instead of unwinding at its deadline; list `status=failed` to see them, and requeue one (`POST /v1/market/confirmations/{id}/requeue`).",
        querystring: z.object({
          status: z.enum(BANK_CONFIRMATION_STATUSES).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(bankConfirmationSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listBankConfirmations(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        { status },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentBankConfirmation) };
    },
  );

  app.post(
    '/v1/market/confirmations/:id/requeue',
    {
      config: { roles: ['platform', 'supervisor'] },
      schema: {
        tags,
        summary:
          'Queue a failed bank confirmation again: the tick applies it as any other, and its held deal awaits it again',
        description:
          "A confirmation given up after five failed attempts (`failed`) is queued again by an officer of the market's platform or a supervisor: pending with fresh attempts, due at once, and a deal held for it goes back to awaitingPayment (its deadline still held against the time the bank's confirmation was received). Audited. A confirmation that is not failed is INVALID_STATE_TRANSITION (409).",
        params: idParam('bkc'),
        response: { 200: bankConfirmationSchema, ...conflicts },
      },
    },
    async (request) =>
      presentBankConfirmation(
        await market.requeueBankConfirmation(
          callerOf(request, ['platform', 'supervisor']),
          request.params.id,
        ),
      ),
  );

  app.post(
    '/v1/market/confirmations',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Import a bank's confirmation file (JSON or CSV lines), each line on its own",
        description:
          "Imports a bank's confirmation file (JSON or CSV lines); each line confirms one deal's fiat leg on its own, and the answer says for each whether it applied.",
        body: z
          .object({ content: z.string().min(1).max(1_000_000) })
          .strict()
          .meta({
            examples: [
              {
                content:
                  '{"dealId":"del_01JD8Z6Q3M4N5P6R7S8T9V0W1X","amountMinor":"1937500","currency":"USD","bankReference":"BCR-2026-000812"}',
              },
            ],
          }),
        response: {
          200: z
            .object({
              outcomes: z.array(
                z.object({
                  line: z.number(),
                  dealReference: z.string(),
                  bankReference: z.string(),
                  outcome: z.string(),
                  status: z.string().nullable(),
                }),
              ),
              issues: z.array(z.object({ field: z.string(), message: z.string() })),
            })
            .meta({ id: 'MarketConfirmationImport' }),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      market.importConfirmations(callerOf(request, ['platform']), request.body.content),
  );
}

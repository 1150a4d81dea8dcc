import { z } from 'zod';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, idParam } from '../schemas';
import { payInSchema, presentPayIn } from './settlement-windows-schemas';

/**
 * Settlement pay-ins written by the supervisor: a platform's fiat pay-in as the bank reported it
 * (four eyes), and the decision on a held bitcoin pay-in. Registered by settlement-windows.ts.
 */

export function registerPayInWrites(app: TypedApp, deps: AppDeps): void {
  const windows = deps.services.settlementWindows;

  app.post(
    '/v1/settlement-windows/:id/fiat-pay-ins',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          "Record or confirm a platform's fiat pay-in from the bank (two persons): the exact amount due counts once a second person confirms it; another amount is recorded as refused (422)",
        description:
          "Four eyes: the first person's call records the bank transfer (the pay-in's `pendingConfirmation`; it does not count yet); a different person confirming the same transfer (amount and bank reference) makes it count. The same person confirming their own record, with any credential, is SELF_APPROVAL (403); another transfer than the one recorded replaces the record, to be confirmed by another person. Only the exact amount due counts; another amount is recorded as refused at once (422).",
        params: idParam('swn'),
        body: z
          .object({
            platformId: z.string().regex(/^par_[0-9A-HJKMNP-TV-Z]{26}$/),
            amount: z.string().regex(/^[1-9]\d{0,17}$/, 'minor units, a positive whole number'),
            currency: z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code'),
            bankReference: z.string().trim().min(1).max(140),
          })
          .strict()
          .meta({
            examples: [
              {
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                amount: '1250000',
                currency: 'USD',
                bankReference: 'BCR-2026-000731',
              },
            ],
          }),
        response: {
          200: payInSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request) => {
      const body = request.body;
      return presentPayIn(
        await windows.confirmFiatPayIn(
          callerOf(request, ['supervisor']),
          request.params.id,
          body.platformId,
          {
            amount: BigInt(body.amount),
            currency: body.currency,
            bankReference: body.bankReference,
          },
        ),
      );
    },
  );

  app.post(
    '/v1/settlement-windows/:id/pay-ins/:payInId/decision',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['settlement windows'],
        summary:
          'Decide a held bitcoin pay-in (supervisor): accept (it counts, as received) or reject (it counts nothing: returned to the payer, or frozen after a sanctions list match); audited and noted on the case',
        description:
          'A bitcoin pay-in is held when the addresses paying it did not pass address screening or cannot be screened; it counts nothing and raised a screening alert. Named persons of the supervisor decide it, with a reason: `accept` takes two (the first proposes and the pay-in stays held; a second person accepting makes it count as received, and the window settles if it was the last awaited; the same person again is SELF_APPROVAL), `reject` (one person) counts nothing: held because an address could not be screened, it is recorded to be returned to the payer (`rejected`); held for a sanctions list match, its coins are frozen and reported, never returned (`frozen`, with a critical alert for the report). Before the pay-in deadline a reject reopens the due as its next attempt at a fresh deposit address, so that the platform can pay in again. Each decision is noted on the case of the held alert (`decision.caseId`). Only a held pay-in is decided (PAY_IN_NOT_HELD, 409); once its window settled without it, it can only be rejected (WINDOW_ALREADY_SETTLED, 409). The platform sees the new status, never the reason.',
        params: idParam('swn').extend({
          payInId: z.string().regex(/^pin_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be an id like pin_01J…'),
        }),
        body: z
          .object({
            decision: z.enum(['accept', 'reject']),
            reason: z.string().trim().min(10).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                decision: 'accept',
                reason:
                  'the match is a namesake address reused after the listing; cleared with the analytics provider',
              },
            ],
          }),
        response: { 200: payInSchema, ...commonErrors, 409: errorResponseSchema },
      },
    },
    async (request) =>
      presentPayIn(
        await windows.decideHeldPayIn(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.params.payInId,
          request.body,
        ),
      ),
  );
}

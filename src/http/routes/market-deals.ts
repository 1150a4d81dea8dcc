import { z } from 'zod';
import { DEAL_STATUSES, type DealView } from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';
import { conflicts, sats, tags } from './market-schemas';

/**
 * The market's deals: a bid matched against an offer by the platform, its fiat leg confirmed
 * (delivery versus payment), and a held deal released or refunded by the supervisor.
 */

const dealSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    offerId: z.string(),
    bidId: z.string(),
    minerId: z.string(),
    companyId: z.string(),
    contractId: z.string(),
    minerPlatformId: z.string(),
    importerPlatformId: z.string(),
    amountSats: sats,
    currency: z.string(),
    fiatMinor: z.string().meta({ description: "the fiat leg in the currency's minor units" }),
    rateId: z.string().nullable().meta({
      description:
        'the stored rate the deal was valued at (null for deals matched before it was kept)',
    }),
    fixingId: z.string().nullable().meta({
      description:
        "the day's reference-rate fixing the deal was valued at; null: the live source's rate, before the day's fixing was published",
    }),
    referenceRate: z.string(),
    dealRate: z.string(),
    spreadBasisPoints: z.number(),
    status: z.enum(DEAL_STATUSES),
    deadline: z.string(),
    bankReference: z.string().nullable(),
    confirmedAt: z.string().nullable(),
    deliveryTxid: z.string().nullable(),
    deliveryVout: z.number().nullable(),
    deliveredSats: sats.nullable(),
    feeSats: sats.nullable(),
    deliveryAttempts: z.number().meta({
      description:
        'sends of the delivery the network refused for a reason that can pass (inputs not seen yet, fee too low); retried with backoff',
    }),
    deliveryLastError: z.string().nullable(),
    deliveryNextAttemptAt: z.string().nullable(),
    heldFrom: z.string().nullable().meta({
      description:
        'for a held deal: awaitingPayment (its screening at confirmation) or delivering (the network refused its delivery)',
    }),
    refundAddress: z.string().nullable(),
    refundTxid: z.string().nullable(),
    fiatReturnReference: z
      .string()
      .nullable()
      .meta({ description: "the bank's reference of the fiat leg's return on a refund" }),
    pendingDecision: z
      .object({ action: z.enum(['release', 'refund']), proposedAt: z.string() })
      .nullable()
      .meta({
        description:
          "a held deal's release or refund one supervisor proposed, awaiting a second supervisor (another person)",
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketDeal' });
const presentDeal = (d: DealView) => ({
  ...d,
  amountSats: d.amountSats.toString(),
  fiatMinor: d.fiatMinor.toString(),
  deadline: d.deadline.toISOString(),
  confirmedAt: d.confirmedAt?.toISOString() ?? null,
  deliveredSats: d.deliveredSats?.toString() ?? null,
  feeSats: d.feeSats?.toString() ?? null,
  deliveryNextAttemptAt: d.deliveryNextAttemptAt?.toISOString() ?? null,
  pendingDecision: d.pendingDecision
    ? { action: d.pendingDecision.action, proposedAt: d.pendingDecision.proposedAt.toISOString() }
    : null,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

const decisionBody = z
  .object({ reason: z.string().min(3).max(500) })
  .strict()
  .meta({
    examples: [{ reason: 'Screening hit on the importer cleared by the compliance officer' }],
  });

export function registerDealRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;

  app.get(
    '/v1/market/deals',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: 'Deals the caller is party to (miner, importer, platform); supervisor all',
        description:
          'Deals the caller is party to (miner, importer, platform); the supervisor and auditor see all.',
        querystring: z.object({ status: z.enum(DEAL_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(dealSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listDeals(
        callerOf(request),
        { status },
        {
          limit,
          cursor: cursor ?? null,
        },
      );
      return { ...page, items: page.items.map(presentDeal) };
    },
  );

  app.get(
    '/v1/market/deals/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: 'One deal with its legs',
        description: 'One deal with its coin and fiat legs.',
        params: idParam('del'),
        response: { 200: dealSchema, ...commonErrors },
      },
    },
    async (request) => presentDeal(await market.getDeal(callerOf(request), request.params.id)),
  );

  app.post(
    '/v1/market/deals',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: 'The market platform matches an open bid against a funded offer (a deal)',
        description:
          "The market platform matches an open bid against a funded offer; the escrowed coins stay held until the deal's fiat leg is confirmed.",
        body: z
          .object({ offerId: z.string().max(40), bidId: z.string().max(40) })
          .strict()
          .meta({
            examples: [
              {
                offerId: 'ofr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                bidId: 'bid_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
              },
            ],
          }),
        response: { 201: dealSchema, ...conflicts },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentDeal(await market.match(callerOf(request, ['platform']), request.body))),
  );

  app.post(
    '/v1/market/deals/:id/confirm',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Confirm a deal's fiat leg: the escrowed coins go to the importer (DvP)",
        description:
          "Confirms the deal's fiat leg as paid: the escrowed coins go to the importer (delivery versus payment). The officer who matched the deal cannot confirm it.",
        params: idParam('del'),
        body: z
          .object({
            amountMinor: z.string().regex(/^[1-9]\d{0,17}$/),
            currency: z.string().regex(/^[A-Z]{3}$/),
            bankReference: z.string().min(1).max(64),
          })
          .strict()
          .meta({
            examples: [
              { amountMinor: '1937500', currency: 'USD', bankReference: 'BCR-2026-000812' },
            ],
          }),
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.confirm(callerOf(request, ['platform']), request.params.id, request.body),
      ),
  );

  app.post(
    '/v1/market/deals/:id/release',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags,
        summary:
          'Propose or approve the release of a held deal (two supervisors): its checks run again and, only if they pass, the delivery goes',
        description:
          "Four eyes: the first supervisor's call records the release as pending (the deal's `pendingDecision`; nothing runs yet); a second supervisor, another person whatever credential, carries it out: the coin leg is screened again and the delivery signed and sent only if every check passes; otherwise TRANSFER_BLOCKED (without saying which check) and the deal stays held with the release pending. The same person approving their own proposal is SELF_APPROVAL (403). Both reasons are audited.",
        params: idParam('del'),
        body: decisionBody,
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.release(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );

  app.post(
    '/v1/market/deals/:id/refund',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags,
        summary:
          "Propose or approve the refund of a held deal (two supervisors): its escrowed coins to the miner's screened address, the fiat leg returned",
        description:
          "Four eyes: the first supervisor's call records the refund as pending (the deal's `pendingDecision`; nothing is screened or sent yet); a second supervisor, another person whatever credential, carries it out: the escrowed coins go back to the address the miner's lot was mined to, screened afresh, and the importer's fiat is returned through the settlement bank; the bid lapses. The same person approving their own proposal is SELF_APPROVAL (403). Both reasons are audited.",
        params: idParam('del'),
        body: decisionBody,
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.refund(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );
}

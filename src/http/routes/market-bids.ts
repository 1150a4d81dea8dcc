import { z } from 'zod';
import { BID_STATUSES, type BidView } from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema, satsString } from '../schemas';
import { conflicts, participantId, sats, tags } from './market-schemas';

/** The market's bids: an importer's bid for cleared coins to pay an active import contract. */

const bidSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    companyPlatformId: z.string(),
    contractId: z.string(),
    amountSats: sats,
    status: z.enum(BID_STATUSES),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketBid' });
const presentBid = (b: BidView) => ({
  ...b,
  amountSats: b.amountSats.toString(),
  createdAt: b.createdAt.toISOString(),
  updatedAt: b.updatedAt.toISOString(),
});

export function registerBidRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;

  app.get(
    '/v1/market/bids',
    {
      config: { roles: ['supervisor', 'auditor', 'platform', 'company'] },
      schema: {
        tags,
        summary: "Bids: a company's own, a platform's market's and its importers'",
        description:
          "Bids for coins, newest first: a company's own, a platform's market's and its importers'.",
        querystring: z.object({ status: z.enum(BID_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(bidSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listBids(
        callerOf(request, ['supervisor', 'auditor', 'platform', 'company']),
        { status },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentBid) };
    },
  );

  app.post(
    '/v1/market/bids',
    {
      config: { roles: ['company'] },
      schema: {
        tags,
        summary: 'An importer bids for cleared coins for one of its active import contracts',
        description:
          'An importer bids for cleared coins to pay one of its active import contracts.',
        body: z
          .object({
            platformId: participantId,
            contractId: z.string().max(40),
            amountSats: satsString,
          })
          .strict()
          .meta({
            examples: [
              {
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                contractId: 'ctr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                amountSats: '20000000',
              },
            ],
          }),
        response: { 201: bidSchema, ...conflicts },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentBid(await market.createBid(callerOf(request, ['company']), request.body))),
  );
}

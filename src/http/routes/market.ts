import { z } from 'zod';
import {
  MARKET_LICENCE_STATUSES,
  type MarketListing,
  type MarketSettingsView,
} from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema, searchQuery } from '../schemas';
import { registerBidRoutes } from './market-bids';
import { registerConfirmationRoutes } from './market-confirmations';
import { registerDealRoutes } from './market-deals';
import { registerOfferRoutes } from './market-offers';
import { conflicts, participantId, tags } from './market-schemas';

/**
 * The domestic market for cleared coins: the platform's settings here; miners' offers (with
 * their escrow deposit) in market-offers.ts, importers' bids in market-bids.ts, deals matched by
 * the platform in market-deals.ts, and the confirmation of their fiat leg (one at a time, or a
 * bank's confirmation file) in market-confirmations.ts.
 */

const settingsSchema = z
  .object({
    platformId: z.string(),
    currency: z.string(),
    spreadBasisPoints: z.number(),
    deadlineSeconds: z.number(),
    escrowDescriptor: z
      .string()
      .nullable()
      .meta({ description: 'the platform itself, the supervisor and auditors only' }),
    version: z.number(),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketSettings' });
const presentSettings = (s: MarketSettingsView) => ({ ...s, updatedAt: s.updatedAt.toISOString() });

const listingSchema = z
  .object({
    platformId: z.string(),
    name: z.string().nullable(),
    currency: z.string(),
    spreadBasisPoints: z.number(),
    deadlineSeconds: z.number(),
    licenceStatus: z.enum(MARKET_LICENCE_STATUSES).meta({
      description:
        'active when one of its licences is in force now, else suspended, expired or revoked (none without a licence)',
    }),
    createdAt: z.string(),
  })
  .meta({ id: 'MarketListing' });
const presentListing = (m: MarketListing) => ({ ...m, createdAt: m.createdAt.toISOString() });

export function registerMarketRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;

  app.get(
    '/v1/markets',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: 'The platforms that run a market: names, terms and licence status',
        description:
          "Every platform that runs a coin market, newest first, a page at a time (pass `nextCursor` as `cursor` for the next), with its name, its terms (currency, spread, deadline) and its licence status: public facts of a licensed platform, readable by every role so that a miner or an importer can pick a market. `q` keeps the platforms whose name starts with it, whatever its case. Never a market's escrow, offers or bids.",
        querystring: z.object({
          q: searchQuery.describe("the start of the platform's name"),
          ...pageQuery,
        }),
        response: { 200: pageSchema(listingSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { q, limit, cursor } = request.query;
      const page = await market.markets(
        callerOf(request),
        { q },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentListing) };
    },
  );

  app.get(
    '/v1/market/settings/:platformId',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: "A platform's market: currency, spread over the reference rate, deadline, escrow",
        description:
          "A platform's coin market: its fiat currency, spread over the reference rate, payment deadline and escrow settings. 404 when the platform runs no market.",
        params: z.object({ platformId: participantId }),
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentSettings(await market.settings(callerOf(request), request.params.platformId)),
  );

  app.put(
    '/v1/market/settings',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Open or change the calling platform's market (audited)",
        description: "Opens the calling platform's market or changes its settings. Audited.",
        body: z
          .object({
            currency: z.string().regex(/^[A-Z]{3}$/),
            spreadBasisPoints: z.number().int().min(0).max(2000),
            deadlineSeconds: z.number().int().min(60).max(604_800),
            escrowDescriptor: z.string().min(1).max(1000),
          })
          .strict()
          .meta({
            examples: [
              {
                currency: 'USD',
                spreadBasisPoints: 150,
                deadlineSeconds: 86400,
                escrowDescriptor:
                  'wpkh([d34db33f/84h/1h/1h]tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*)',
              },
            ],
          }),
        response: { 200: settingsSchema, ...conflicts },
      },
    },
    async (request) =>
      presentSettings(await market.setSettings(callerOf(request, ['platform']), request.body)),
  );

  registerOfferRoutes(app, deps);
  registerBidRoutes(app, deps);
  registerDealRoutes(app, deps);
  registerConfirmationRoutes(app, deps);
}

import { z } from 'zod';
import type { SiteView } from '../../mining';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { nameField, namesOf } from '../names';
import { commonErrors, idListQuery, idParam, pageQuery, pageSchema, searchQuery } from '../schemas';

/** Mining sites and the payout addresses that attribute mined coins to them. */

const text = (max: number) => z.string().max(max);

const siteSchema = z
  .object({
    id: z.string(),
    minerId: z.string(),
    minerName: nameField,
    regionCode: z.string(),
    name: z.string(),
    gridConnection: z.string(),
    powerCapacityMw: z.string(),
    declaredHashrateThs: z.string(),
    commissioningDate: z.string(),
    poolName: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'MiningSite' });
const presentSite = (s: SiteView) => ({
  ...s,
  declaredHashrateThs: s.declaredHashrateThs.toString(),
  createdAt: s.createdAt.toISOString(),
});

export function registerSiteRoutes(app: TypedApp, deps: AppDeps): void {
  const mining = deps.services.mining;

  app.post(
    '/v1/mining/sites',
    {
      config: { roles: ['supervisor', 'miner'] },
      schema: {
        tags: ['mining'],
        summary: 'Register a mining site (the miner, or the supervisor for a miner)',
        description:
          "Registers a mining site in a region, for the calling miner (or, by the supervisor, for a miner). Ban checks use the site's region.",
        body: z
          .object({
            minerId: text(40).optional(),
            regionCode: text(40),
            name: text(200),
            gridConnection: text(200),
            powerCapacityMw: text(20),
            declaredHashrateThs: text(20),
            commissioningDate: text(10),
            poolName: text(100).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                regionCode: 'SV-SA',
                name: 'Volcano Ridge 1',
                gridConnection: 'geothermal, 115 kV',
                powerCapacityMw: '12.5',
                declaredHashrateThs: '350000',
                commissioningDate: '2025-09-01',
                poolName: null,
              },
            ],
          }),
        response: { 201: siteSchema, ...commonErrors },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(
          presentSite(
            await mining.registerSite(callerOf(request, ['supervisor', 'miner']), request.body),
          ),
        ),
  );

  app.get(
    '/v1/mining/sites',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'Mining sites visible to the caller, newest first',
        description:
          "A page at a time: pass `nextCursor` as `cursor` for the next. `q` keeps the sites whose name starts with it (a picker's search); `ids` keeps the listed sites the caller may see (name lookups).",
        querystring: z.object({
          minerId: text(40).optional(),
          regionCode: text(40).optional(),
          ids: idListQuery(
            'sit',
            'site ids separated by commas (at most 500): a name lookup; sites the caller may not see are left out',
          ),
          q: searchQuery.describe(
            "a prefix of the site's name, whatever its case: a picker's search",
          ),
          ...pageQuery,
        }),
        response: { 200: pageSchema(siteSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await mining.listSites(callerOf(request), filter, {
        limit,
        cursor: cursor ?? null,
      });
      const name = await namesOf(
        deps,
        page.items.map((s) => s.minerId),
      );
      return {
        ...page,
        items: page.items.map((s) => ({ ...presentSite(s), minerName: name(s.minerId) })),
      };
    },
  );

  app.get(
    '/v1/mining/site-regions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'The regions of the sites visible to the caller, with how many sites each',
        description:
          "The regions where the caller's visible sites are (a miner's own; the supervisor and auditors every site's), by region code, a page at a time: pass `nextCursor` as `cursor` for the next. What a miner's ban calendar draws, whatever the sites a page has loaded.",
        querystring: z.object({ minerId: text(40).optional(), ...pageQuery }),
        response: {
          200: pageSchema(
            z
              .object({ regionCode: z.string(), sites: z.number() })
              .meta({ id: 'MiningSiteRegion' }),
          ),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { limit, cursor, minerId } = request.query;
      return mining.listSiteRegions(
        callerOf(request),
        { minerId },
        { limit, cursor: cursor ?? null },
      );
    },
  );

  const payoutSchema = z
    .object({
      id: z.string(),
      minerId: z.string(),
      siteId: z.string(),
      kind: z.enum(['pool', 'solo']),
      poolName: z.string().nullable(),
      address: z.string(),
      createdAt: z.string(),
    })
    .meta({ id: 'MiningPayoutAddress' });

  app.post(
    '/v1/mining/sites/:id/payout-addresses',
    {
      config: { roles: ['supervisor', 'miner'] },
      schema: {
        tags: ['mining'],
        summary: "Register a site's pool payout address or solo coinbase address",
        description:
          "Registers the address where a site's pool payouts or solo coinbase outputs arrive, so that mined coins can be attributed to the site.",
        params: idParam('sit'),
        body: z
          .object({
            address: text(120),
            kind: z.enum(['pool', 'solo']),
            poolName: text(100).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                address: 'tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx',
                kind: 'solo',
                poolName: null,
              },
            ],
          }),
        response: { 201: payoutSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const view = await mining.registerPayoutAddress(
        callerOf(request, ['supervisor', 'miner']),
        request.params.id,
        request.body,
      );
      return reply.status(201).send({ ...view, createdAt: view.createdAt.toISOString() });
    },
  );

  app.get(
    '/v1/mining/payout-addresses',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'Payout addresses visible to the caller, newest first',
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({ siteId: text(40).optional(), ...pageQuery }),
        response: { 200: pageSchema(payoutSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { siteId, limit, cursor } = request.query;
      const page = await mining.listPayoutAddresses(callerOf(request), siteId, {
        limit,
        cursor: cursor ?? null,
      });
      return {
        ...page,
        items: page.items.map((a) => ({ ...a, createdAt: a.createdAt.toISOString() })),
      };
    },
  );
}

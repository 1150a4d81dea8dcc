import { z } from 'zod';
import { formatBtc, formatMoney, type Money } from '../../kernel';
import {
  VIOLATION_STATUSES,
  type AttributionView,
  type BanView,
  type SiteView,
  type ViolationView,
} from '../../mining';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { nameField, namesOf } from '../names';
import { registerExplorerRoutes } from './mining-explorer';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

/** Mining routes: sites, payout addresses, the ban calendar, attributions, violations, statistics (provenance and transactions: mining-explorer.ts). */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });

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

const banSchema = z
  .object({
    id: z.string(),
    regionCode: z.string(),
    kind: z.enum(['full', 'seasonal', 'curtailment']),
    fromDate: z.string(),
    toDate: z.string(),
    season: z.object({ start: z.string(), end: z.string() }).nullable(),
    daily: z.object({ start: z.string(), end: z.string() }).nullable(),
    reason: z.string(),
    description: z.string(),
    createdAt: z.string(),
    liftedAt: z.string().nullable(),
    liftReason: z.string().nullable(),
  })
  .meta({ id: 'MiningBan' });
const presentBan = (b: BanView) => ({
  ...b,
  createdAt: b.createdAt.toISOString(),
  liftedAt: b.liftedAt?.toISOString() ?? null,
});

const attributionSchema = z
  .object({
    id: z.string(),
    blockHash: z.string(),
    height: z.number(),
    blockTime: z.string(),
    txid: z.string(),
    vout: z.number(),
    valueSats: sats,
    valueBtc: z.string(),
    address: z.string(),
    minerId: z.string(),
    siteId: z.string(),
    regionCode: z.string(),
    payoutKind: z.enum(['pool', 'solo']),
    poolName: z.string().nullable(),
  })
  .meta({ id: 'MiningAttribution' });
const presentAttribution = (a: AttributionView) => ({
  ...a,
  blockTime: a.blockTime.toISOString(),
  valueSats: a.valueSats.toString(),
  valueBtc: formatBtc(a.valueSats),
});

const violationSchema = z
  .object({
    attributionId: z.string(),
    code: z.literal('MINING_BAN_VIOLATION'),
    banId: z.string(),
    minerId: z.string(),
    siteId: z.string(),
    regionCode: z.string(),
    blockHash: z.string(),
    height: z.number(),
    blockTime: z.string(),
    valueSats: sats,
    status: z.enum(VIOLATION_STATUSES),
    alertId: z.string().nullable(),
    note: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
    txid: z.string().meta({ description: 'the coinbase transaction mined under the ban' }),
    vout: z.number(),
    minerName: z.string().nullable(),
    siteName: z.string().nullable(),
    regionName: z.string().nullable(),
  })
  .meta({ id: 'MiningViolation' });
const presentViolation = (v: ViolationView) => ({
  ...v,
  blockTime: v.blockTime.toISOString(),
  valueSats: v.valueSats.toString(),
  createdAt: v.createdAt.toISOString(),
  updatedAt: v.updatedAt.toISOString(),
});

const fiat = (m: Money | null) => (m ? formatMoney(m) : null);
const text = (max: number) => z.string().max(max);

export function registerMiningRoutes(app: TypedApp, deps: AppDeps): void {
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
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          minerId: text(40).optional(),
          regionCode: text(40).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(siteSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { minerId, regionCode, limit, cursor } = request.query;
      const page = await mining.listSites(
        callerOf(request),
        { minerId, regionCode },
        { limit, cursor: cursor ?? null },
      );
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

  app.post(
    '/v1/mining/bans',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['mining'],
        summary:
          'Declare a regional mining ban: full, seasonal or peak-hour curtailment (supervisor)',
        description:
          'Declares a ban on mining in a region: full, seasonal, or peak-hour curtailment, from a time. Blocks mined by sites in the region while it applies count as violations.',
        body: z
          .discriminatedUnion('kind', [
            z
              .object({
                kind: z.literal('full'),
                regionCode: text(40),
                from: text(10),
                to: text(10),
                reason: text(500),
              })
              .strict(),
            z
              .object({
                kind: z.literal('seasonal'),
                regionCode: text(40),
                seasonStart: text(5),
                seasonEnd: text(5),
                startYear: z.number().int(),
                endYear: z.number().int(),
                reason: text(500),
              })
              .strict(),
            z
              .object({
                kind: z.literal('curtailment'),
                regionCode: text(40),
                from: text(10),
                to: text(10),
                dailyStart: text(5),
                dailyEnd: text(5),
                seasonStart: text(5).optional(),
                seasonEnd: text(5).optional(),
                reason: text(500),
              })
              .strict(),
          ])
          .meta({
            examples: [
              {
                kind: 'full',
                regionCode: 'SV-SA',
                from: '2026-03-01',
                to: '2026-06-30',
                reason: 'grid stability during the dry season',
              },
            ],
          }),
        response: { 201: banSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const { regionCode, ...ban } = request.body;
      return reply
        .status(201)
        .send(
          presentBan(await mining.declareBan(callerOf(request, ['supervisor']), regionCode, ban)),
        );
    },
  );

  app.post(
    '/v1/mining/bans/:id/lift',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['mining'],
        summary: 'Lift a ban (supervisor)',
        description: 'Lifts a ban from now on; violations already recorded stay.',
        params: idParam('ban'),
        body: z
          .object({ reason: text(500) })
          .strict()
          .meta({ examples: [{ reason: 'the reservoirs are full again' }] }),
        response: { 200: banSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentBan(
        await mining.liftBan(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );

  app.get(
    '/v1/mining/bans',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'The ban calendar (of one region), the latest declared first',
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({ regionCode: text(40).optional(), ...pageQuery }),
        response: { 200: pageSchema(banSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { regionCode, limit, cursor } = request.query;
      const page = await mining.listBans(regionCode, { limit, cursor: cursor ?? null });
      return { ...page, items: page.items.map(presentBan) };
    },
  );

  app.get(
    '/v1/mining/regions/:code/ban-status',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'Is region R banned at time T?',
        description:
          'Whether mining in the region is banned at the given time (now by default), and by which ban.',
        params: z.object({ code: text(40) }),
        querystring: z.object({ at: z.iso.datetime({ offset: true }) }),
        response: {
          200: z
            .object({
              regionCode: z.string(),
              at: z.string(),
              banned: z.boolean(),
              timeZone: z.string(),
              localDate: z.string(),
              localTime: z.string(),
              bans: z.array(banSchema),
            })
            .meta({ id: 'BanStatus' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request);
      const at = new Date(request.query.at);
      const status = await mining.isBanned(request.params.code, at);
      return { ...status, at: at.toISOString(), bans: status.bans.map(presentBan) };
    },
  );

  app.get(
    '/v1/mining/attributions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'Coinbase outputs attributed to miners',
        description:
          'Newest block first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          minerId: text(40).optional(),
          regionCode: text(40).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(attributionSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await mining.listAttributions(callerOf(request), filter, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(presentAttribution) };
    },
  );

  app.get(
    '/v1/mining/violations',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: 'Output mined in a region under a ban (MINING_BAN_VIOLATION)',
        description:
          'Newest block first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          status: z.enum(VIOLATION_STATUSES).optional(),
          minerId: text(40).optional(),
          regionCode: text(40).optional(),
          from: z.iso
            .datetime({ offset: true })
            .optional()
            .meta({ description: 'mined at or after this time' }),
          to: z.iso
            .datetime({ offset: true })
            .optional()
            .meta({ description: 'mined before this time' }),
          ...pageQuery,
        }),
        response: { 200: pageSchema(violationSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, from, to, ...filter } = request.query;
      const range = {
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      };
      const page = await mining.listViolations(
        callerOf(request),
        { ...filter, ...range },
        {
          limit,
          cursor: cursor ?? null,
        },
      );
      return { ...page, items: page.items.map(presentViolation) };
    },
  );

  app.post(
    '/v1/mining/violations/:id',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['mining'],
        summary: 'Update a violation (supervisor): link an alert, confirm or dismiss',
        description:
          'Moves a ban violation on: link it to an alert, confirm it or dismiss it, with a note. Audited.',
        params: idParam('att'),
        body: z
          .object({
            status: z.enum(VIOLATION_STATUSES),
            alertId: text(40).nullable().optional(),
            note: text(2000).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                status: 'confirmed',
                alertId: null,
                note: 'site ran during the curtailment hours on 3 days',
              },
            ],
          }),
        response: { 200: violationSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentViolation(
        await mining.updateViolation(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body,
        ),
      ),
  );

  const totals = z.object({ key: z.string(), sats, btc: z.string(), fiat: z.string().nullable() });
  app.get(
    '/v1/mining/statistics',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['mining'],
        summary: "Output per miner, site, region and month, in BTC and in fiat at the day's rate",
        description:
          "Mined output per miner, site, region and month, in BTC and in fiat at the day's fixing. Miners see their own.",
        querystring: z.object({
          currency: text(3).default('USD'),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
        }),
        response: {
          200: z
            .object({
              currency: z.string(),
              rows: z.array(
                z.object({
                  minerId: z.string(),
                  siteId: z.string(),
                  regionCode: z.string(),
                  month: z.string(),
                  blocks: z.number(),
                  sats,
                  btc: z.string(),
                  fiat: z.string().nullable(),
                }),
              ),
              byMiner: z.array(totals),
              bySite: z.array(totals),
              byRegion: z.array(totals),
              byMonth: z.array(totals),
              missingRateDays: z.array(z.string()),
            })
            .meta({ id: 'MiningStatistics' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { currency, from, to } = request.query;
      const stats = await mining.statistics(callerOf(request), {
        currency,
        from: from ? new Date(from) : undefined,
        to: to ? new Date(to) : undefined,
      });
      const total = (key: string, entry: { sats: bigint; fiat: Money | null }) => ({
        key,
        sats: entry.sats.toString(),
        btc: formatBtc(entry.sats),
        fiat: fiat(entry.fiat),
      });
      return {
        currency: stats.currency,
        rows: stats.rows.map((r) => ({
          ...r,
          sats: r.sats.toString(),
          btc: formatBtc(r.sats),
          fiat: fiat(r.fiat),
        })),
        byMiner: stats.byMiner.map((e) => total(e.minerId, e)),
        bySite: stats.bySite.map((e) => total(e.siteId, e)),
        byRegion: stats.byRegion.map((e) => total(e.regionCode, e)),
        byMonth: stats.byMonth.map((e) => total(e.month, e)),
        missingRateDays: stats.missingRateDays,
      };
    },
  );

  registerExplorerRoutes(app, deps);
}

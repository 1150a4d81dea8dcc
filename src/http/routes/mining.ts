import { z } from 'zod';
import { formatBtc, formatMoney, type Money } from '../../kernel';
import { VIOLATION_STATUSES, type AttributionView, type ViolationView } from '../../mining';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { registerBanRoutes } from './mining-bans';
import { registerExplorerRoutes } from './mining-explorer';
import { registerSiteRoutes } from './mining-sites';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

/**
 * Mining routes: attributions, violations and statistics here; sites and payout addresses
 * (mining-sites.ts), the ban calendar (mining-bans.ts), provenance and transactions
 * (mining-explorer.ts).
 */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });

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
  registerSiteRoutes(app, deps);
  registerBanRoutes(app, deps);

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
          "Mined output per miner, site, region and month, in BTC and in fiat at the day's fixing (before it is published, the latest rate stored by the day's end), a page of rows at a time (oldest month first: pass `nextCursor` as `cursor` for the next), with the totals per miner, site, region and month of every row the filters keep on the first page (no cursor; `totals` is null on a later page, the same for every page of one query). Miners see their own.",
        querystring: z.object({
          currency: text(3).default('USD'),
          from: z.iso.datetime({ offset: true }).optional(),
          to: z.iso.datetime({ offset: true }).optional(),
          minerId: text(40).optional(),
          regionCode: text(40).optional(),
          ...pageQuery,
        }),
        response: {
          200: z
            .object({
              currency: z.string(),
              items: z.array(
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
              nextCursor: z.string().nullable(),
              totals: z
                .object({
                  byMiner: z.array(totals),
                  bySite: z.array(totals),
                  byRegion: z.array(totals),
                  byMonth: z.array(totals),
                  missingRateDays: z.array(z.string()),
                })
                .nullable()
                .meta({
                  description:
                    'the totals of every row the filters keep: on the first page (no cursor) only, null on a later page',
                }),
            })
            .meta({ id: 'MiningStatistics' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const { currency, from, to, minerId, regionCode, limit, cursor } = request.query;
      const stats = await mining.statistics(
        callerOf(request),
        {
          currency,
          from: from ? new Date(from) : undefined,
          to: to ? new Date(to) : undefined,
          minerId,
          regionCode,
        },
        { limit, cursor: cursor ?? null },
      );
      const total = (key: string, entry: { sats: bigint; fiat: Money | null }) => ({
        key,
        sats: entry.sats.toString(),
        btc: formatBtc(entry.sats),
        fiat: fiat(entry.fiat),
      });
      return {
        currency: stats.currency,
        items: stats.items.map((r) => ({
          ...r,
          sats: r.sats.toString(),
          btc: formatBtc(r.sats),
          fiat: fiat(r.fiat),
        })),
        nextCursor: stats.nextCursor,
        totals: stats.totals && {
          byMiner: stats.totals.byMiner.map((e) => total(e.minerId, e)),
          bySite: stats.totals.bySite.map((e) => total(e.siteId, e)),
          byRegion: stats.totals.byRegion.map((e) => total(e.regionCode, e)),
          byMonth: stats.totals.byMonth.map((e) => total(e.month, e)),
          missingRateDays: stats.totals.missingRateDays,
        },
      };
    },
  );

  registerExplorerRoutes(app, deps);
}

import { z } from 'zod';
import type { BanView } from '../../mining';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

/** The ban calendar: regional mining bans declared and lifted by the supervisor, and a region's status at a time. */

const text = (max: number) => z.string().max(max);

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

export function registerBanRoutes(app: TypedApp, deps: AppDeps): void {
  const mining = deps.services.mining;

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
        description:
          'A page at a time: pass `nextCursor` as `cursor` for the next. `from` and `to` (together) keep the bans whose dates overlap those days (a calendar shows a month).',
        querystring: z.object({
          regionCode: text(40).optional(),
          from: z.iso
            .date()
            .optional()
            .describe('the first day shown (YYYY-MM-DD), with to: the bans ending on it or later'),
          to: z.iso
            .date()
            .optional()
            .describe(
              'the last day shown (YYYY-MM-DD), with from: the bans starting on it or earlier',
            ),
          ...pageQuery,
        }),
        response: { 200: pageSchema(banSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { regionCode, from, to, limit, cursor } = request.query;
      const page = await mining.listBans(
        regionCode,
        { limit, cursor: cursor ?? null },
        { from, to },
      );
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
          'Whether mining in the region is banned at the given time, and a page of the bans in force then (the latest declared first; `nextCursor` for the next).',
        params: z.object({ code: text(40) }),
        querystring: z.object({ at: z.iso.datetime({ offset: true }), ...pageQuery }),
        response: {
          200: z
            .object({
              regionCode: z.string(),
              at: z.string(),
              banned: z.boolean(),
              timeZone: z.string(),
              localDate: z.string(),
              localTime: z.string(),
              items: z.array(banSchema),
              nextCursor: z.string().nullable(),
            })
            .meta({ id: 'BanStatus' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request);
      const { limit, cursor } = request.query;
      const at = new Date(request.query.at);
      const { bans, ...status } = await mining.isBanned(request.params.code, at, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...status, at: at.toISOString(), items: bans.map(presentBan) };
    },
  );
}

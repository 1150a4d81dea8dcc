import { z } from 'zod';
import {
  LOT_STATUSES,
  QUARANTINE_REASONS,
  type ClearedShareView,
  type LotView,
  type RuleVersionView,
} from '../../clearing';
import { formatBtc } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, dateTime, idParam, pageQuery, pageSchema, searchQuery } from '../schemas';

/** Clearing routes: mined lots (list, release), the cleared share of an output, the cleared-origin rule. */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });

const lotSchema = z
  .object({
    id: z.string(),
    attributionId: z.string(),
    minerId: z.string(),
    siteId: z.string(),
    regionCode: z.string(),
    blockHash: z.string(),
    height: z.number(),
    blockTime: z.string(),
    txid: z.string(),
    vout: z.number(),
    valueSats: sats,
    valueBtc: z.string(),
    status: z.enum(LOT_STATUSES),
    clearance: z.enum(['cleared', 'quarantined', 'released']),
    quarantineReason: z.enum(QUARANTINE_REASONS).nullable(),
    banId: z.string().nullable(),
    releasedAt: z.string().nullable(),
    releasedBy: z.string().nullable(),
    releaseReason: z.string().nullable(),
    spentByTxid: z.string().nullable(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'ClearingLot' });
const presentLot = (lot: LotView) => ({
  ...lot,
  blockTime: lot.blockTime.toISOString(),
  valueSats: lot.valueSats.toString(),
  valueBtc: formatBtc(lot.valueSats),
  releasedAt: lot.releasedAt?.toISOString() ?? null,
  createdAt: lot.createdAt.toISOString(),
  updatedAt: lot.updatedAt.toISOString(),
});

const shareSchema = z
  .object({
    txid: z.string(),
    vout: z.number(),
    height: z.number(),
    blockHash: z.string(),
    valueSats: sats,
    clearedSats: sats,
    quarantinedSats: sats,
    undeterminedSats: sats,
    clearedShareBasisPoints: z.number().meta({ description: 'cleared ÷ value, 0–10000' }),
    spentByTxid: z.string().nullable(),
  })
  .meta({ id: 'ClearedShare' });
const presentShare = (share: ClearedShareView) => ({
  ...share,
  valueSats: share.valueSats.toString(),
  clearedSats: share.clearedSats.toString(),
  quarantinedSats: share.quarantinedSats.toString(),
  undeterminedSats: share.undeterminedSats.toString(),
});

const ruleVersionSchema = z
  .object({
    version: z.number(),
    id: z.string(),
    thresholdBasisPoints: z.number().nullable(),
    effectiveFrom: z.string(),
    reason: z.string(),
    setBy: z.string(),
    createdAt: z.string(),
  })
  .meta({ id: 'ClearedOriginRuleVersion' });
const presentVersion = (v: RuleVersionView) => ({
  ...v,
  effectiveFrom: v.effectiveFrom.toISOString(),
  createdAt: v.createdAt.toISOString(),
});

export function registerClearingRoutes(app: TypedApp, deps: AppDeps): void {
  const clearing = deps.services.clearing;

  app.get(
    '/v1/clearing/lots',
    {
      config: { roles: ['supervisor', 'auditor', 'miner'] },
      schema: {
        tags: ['clearing'],
        summary: 'Lots of mined coins: the supervisor and auditors see all, a miner its own',
        description:
          "Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. `status` takes one status or several separated by commas (`cleared,released`: the lots a miner may offer); `siteId` keeps the lots of one site; `q` is a block height (digits: the lots mined in that block) or the start of a lot's id (any case).",
        querystring: z.object({
          status: z
            .string()
            .max(100)
            .transform((value, context) => {
              const statuses = [...new Set(value.split(','))];
              const known = LOT_STATUSES as readonly string[];
              if (statuses.some((s) => !known.includes(s))) {
                context.addIssue({
                  code: 'custom',
                  message: `must be one or more of ${LOT_STATUSES.join(', ')}, separated by commas`,
                });
                return z.NEVER;
              }
              return statuses as (typeof LOT_STATUSES)[number][];
            })
            .optional()
            .describe('one status or several separated by commas (cleared,released)'),
          minerId: z.string().max(40).optional(),
          siteId: z.string().max(40).optional().describe("a site's id: the lots mined there"),
          q: searchQuery.describe("a block height (digits), or the start of a lot's id"),
          ...pageQuery,
        }),
        response: { 200: pageSchema(lotSchema), ...commonErrors },
      },
    },
    async (request) => {
      const q = request.query;
      const page = await clearing.listLots(
        callerOf(request, ['supervisor', 'auditor', 'miner']),
        { status: q.status, minerId: q.minerId, siteId: q.siteId, q: q.q },
        { limit: q.limit, cursor: q.cursor ?? null },
      );
      return { ...page, items: page.items.map(presentLot) };
    },
  );

  app.get(
    '/v1/clearing/lots/:id',
    {
      config: { roles: ['supervisor', 'auditor', 'miner'] },
      schema: {
        tags: ['clearing'],
        summary: 'One lot with its origin and clearance',
        description:
          'One lot of mined coins with its origin (site, region, ban status at mining time) and whether it is cleared, quarantined or released.',
        params: idParam('lot'),
        response: { 200: lotSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentLot(
        await clearing.getLot(
          callerOf(request, ['supervisor', 'auditor', 'miner']),
          request.params.id,
        ),
      ),
  );

  app.post(
    '/v1/clearing/lots/:id/release',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['clearing'],
        summary: 'Release a quarantined lot (supervisor), with the reason; audited',
        description: 'Releases a quarantined lot so that it may be sold, with the reason. Audited.',
        params: idParam('lot'),
        body: z
          .object({ reason: z.string().trim().min(10).max(2000) })
          .strict()
          .meta({
            examples: [{ reason: 'mined before the ban took effect (block time checked)' }],
          }),
        response: { 200: lotSchema, ...commonErrors, 409: errorResponseSchema },
      },
    },
    async (request) =>
      presentLot(
        await clearing.release(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );

  app.get(
    '/v1/clearing/outputs/:outpoint',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['clearing'],
        summary: 'The stored cleared share of a watched output (TXID:VOUT)',
        description:
          'The stored cleared share of a watched output: how many of its sats come from cleared origins.',
        params: z.object({
          outpoint: z
            .string()
            .regex(
              /^[0-9a-f]{64}:\d{1,6}$/,
              'must be TXID:VOUT (64 lower-case hex, colon, output index)',
            ),
        }),
        response: { 200: shareSchema, ...commonErrors },
      },
    },
    async (request) => {
      const [txid = '', vout = '0'] = request.params.outpoint.split(':');
      return presentShare(
        await clearing.clearedShare(
          callerOf(request, ['supervisor', 'auditor']),
          txid,
          Number(vout),
        ),
      );
    },
  );

  const ruleSchema = z
    .object({
      inForce: ruleVersionSchema.nullable(),
      items: z.array(ruleVersionSchema),
      nextCursor: z.string().nullable(),
    })
    .meta({ id: 'ClearedOriginRule' });

  app.get(
    '/v1/clearing/rule',
    {
      config: { roles: ['supervisor', 'auditor', 'platform'] },
      schema: {
        tags: ['clearing'],
        summary: 'The cleared-origin rule: the version in force and a page of every version',
        description:
          'The cleared-origin rule: the share of cleared origin an output needs before it counts as cleared, the version in force, and a page of every version, newest first (`nextCursor` for the next).',
        querystring: z.object(pageQuery),
        response: { 200: ruleSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const state = await clearing.rule(callerOf(request, ['supervisor', 'auditor', 'platform']), {
        limit,
        cursor: cursor ?? null,
      });
      return {
        inForce: state.inForce ? presentVersion(state.inForce) : null,
        items: state.items.map(presentVersion),
        nextCursor: state.nextCursor,
      };
    },
  );

  app.post(
    '/v1/clearing/rule',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['clearing'],
        summary:
          'Set a new version of the cleared-origin rule (supervisor): the threshold, or null to turn it off, from a time',
        description:
          'Sets a new version of the cleared-origin rule from a given time: a threshold, or null to turn the rule off. Earlier versions stay for history.',
        body: z
          .object({
            thresholdBasisPoints: z.number().int().min(0).max(10_000).nullable(),
            effectiveFrom: dateTime.optional(),
            reason: z.string().trim().min(1).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                thresholdBasisPoints: 9000,
                effectiveFrom: '2026-02-01T00:00:00Z',
                reason: 'at least 90 % of an output must come from cleared origins',
              },
            ],
          }),
        response: { 201: ruleVersionSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const version = await clearing.setRule(callerOf(request, ['supervisor']), {
        thresholdBasisPoints: body.thresholdBasisPoints,
        effectiveFrom: body.effectiveFrom ? new Date(body.effectiveFrom) : undefined,
        reason: body.reason,
      });
      return reply.status(201).send(presentVersion(version));
    },
  );
}

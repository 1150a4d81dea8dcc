import { z } from 'zod';
import { RISK_LEVELS } from '../../registry';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

/** Registry routes: the scheme's jurisdiction, foreign jurisdictions' risk, regions. */

const text = (max: number) => z.string().max(max);

export function registerJurisdictionRoutes(app: TypedApp, deps: AppDeps): void {
  const registry = deps.services.registry;

  const jurisdictionSchema = z
    .object({
      country: z.string(),
      riskLevel: z.enum(RISK_LEVELS),
      refused: z.boolean(),
      reason: z.string().nullable(),
      updatedAt: z.string(),
    })
    .meta({ id: 'Jurisdiction' });
  const regionSchema = z
    .object({ code: z.string(), name: z.string(), timeZone: z.string() })
    .meta({ id: 'Region' });

  app.put(
    '/v1/jurisdictions/scheme',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: "Set the scheme's own jurisdiction (supervisor)",
        description:
          'Sets the country the scheme itself operates in; balance-of-payments reports and cross-border checks are relative to it.',
        body: z
          .object({ country: text(10), name: text(200) })
          .strict()
          .meta({ examples: [{ country: 'SV', name: 'El Salvador' }] }),
        response: {
          200: z
            .object({ country: z.string(), name: z.string() })
            .meta({ id: 'SchemeJurisdiction' }),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      registry.setSchemeJurisdiction(callerOf(request, ['supervisor']), request.body),
  );

  app.put(
    '/v1/jurisdictions/:country',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary:
          "Set a foreign country's risk level and whether settlement with it is refused (supervisor)",
        description:
          "Sets a foreign country's risk level, and whether settlement with parties there is refused. The compliance gate applies it to every later transfer.",
        params: z.object({ country: text(10) }),
        body: z
          .object({
            riskLevel: z.enum(RISK_LEVELS),
            refused: z.boolean(),
            reason: text(500).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [{ riskLevel: 'high', refused: false, reason: 'FATF increased monitoring' }],
          }),
        response: { 200: jurisdictionSchema, ...commonErrors },
      },
    },
    async (request) => {
      const view = await registry.setJurisdiction(callerOf(request, ['supervisor']), {
        country: request.params.country,
        ...request.body,
      });
      return { ...view, updatedAt: view.updatedAt.toISOString() };
    },
  );

  app.get(
    '/v1/jurisdictions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary:
          'The foreign jurisdictions list, by country code (only the refused ones, or the others, with refused)',
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z
          .object({ refused: z.enum(['true', 'false']).optional(), ...pageQuery })
          .strict(),
        response: { 200: pageSchema(jurisdictionSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { refused, limit, cursor } = request.query;
      const page = await registry.listJurisdictions(
        { refused: refused === undefined ? undefined : refused === 'true' },
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: page.items.map((j) => ({ ...j, updatedAt: j.updatedAt.toISOString() })),
      };
    },
  );

  app.get(
    '/v1/jurisdictions/scheme',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: "The scheme's own jurisdiction (null until the supervisor sets it)",
        description: "The scheme's own jurisdiction, or null until the supervisor sets it.",
        response: {
          200: z
            .object({
              scheme: z.object({ country: z.string(), name: z.string() }).nullable(),
            })
            .meta({ id: 'SchemeJurisdictionSetting' }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      callerOf(request);
      return { scheme: await registry.getSchemeJurisdiction() };
    },
  );

  app.get(
    '/v1/regions',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: "The scheme jurisdiction's regions, by code",
        description: 'A page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery).strict(),
        response: { 200: pageSchema(regionSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { limit, cursor } = request.query;
      return registry.listRegions({ limit, cursor: cursor ?? null });
    },
  );

  app.post(
    '/v1/regions',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary: 'Create a region of the scheme jurisdiction, with its IANA time zone (supervisor)',
        description:
          "Creates a region of the scheme's jurisdiction with its IANA time zone; mining sites are placed in regions, and mining bans apply per region in its local time.",
        body: z
          .object({ code: text(40), name: text(200), timeZone: text(64) })
          .strict()
          .meta({
            examples: [{ code: 'SV-SA', name: 'Santa Ana', timeZone: 'America/El_Salvador' }],
          }),
        response: {
          201: z
            .object({ code: z.string(), name: z.string(), timeZone: z.string() })
            .meta({ id: 'NewRegion' }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(await registry.createRegion(callerOf(request, ['supervisor']), request.body)),
  );
}

import { z } from 'zod';
import { AppError, type Caller } from '../../kernel';
import {
  PARTICIPANT_KINDS,
  PERSON_TYPES,
  VASP_LICENCE_STATUSES,
  type VaspView,
  type ParticipantView,
} from '../../registry';
import type { ScreeningFlag } from '../../compliance';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { nameField, namesOf } from '../names';
import { MAX_PAGE_SIZE } from '../../db';
import { commonErrors, idParam, pageQuery, pageSchema, searchQuery } from '../schemas';
import { registerJurisdictionRoutes } from './jurisdictions';
import { registerLicenceRoutes } from './licences';
import { registerWalletRoutes } from './wallets';

/** A participant id in a name lookup (`ids`): its prefix, then at most 60 letters, digits or _. */
const PARTICIPANT_ID = /^par_[A-Za-z0-9_]{1,60}$/;

/**
 * Registry routes: participants and foreign VASPs here; licences and KYC/KYB (licences.ts),
 * jurisdictions and regions (jurisdictions.ts), wallets and counterparty addresses (wallets.ts).
 */

const screeningFlagSchema = z
  .object({
    status: z.enum(['clear', 'review', 'blocked']).meta({
      description:
        '`review`: an open sanctions screening hit; `blocked`: a confirmed hit, or ownership by listed persons of 50 % or more (OFAC 50 % rule); both block KYC verification until resolved (GET /v1/screenings/hits?partyId=…)',
    }),
    openHits: z.number(),
  })
  .nullable()
  .meta({
    id: 'ScreeningFlag',
    description:
      "the party's screening flag, for platform officers, the supervisor and the auditor; null for other roles",
  });

/** Roles that see screening flags (a company or miner never learns of a hit: no tipping-off). */
const SEES_SCREENING = new Set(['platform', 'supervisor', 'auditor']);

const participantSchema = z
  .object({
    id: z.string(),
    kind: z.enum(PARTICIPANT_KINDS),
    personType: z.enum(PERSON_TYPES),
    legalName: z.string(),
    otherNames: z.array(z.string()),
    country: z.string(),
    registrationNumber: z.string().nullable(),
    lei: z.string().nullable(),
    addresses: z.array(
      z.object({
        lines: z.array(z.string()),
        city: z.string(),
        postalCode: z.string().optional(),
        country: z.string(),
      }),
    ),
    contacts: z.array(
      z.object({
        name: z.string(),
        email: z.string().optional(),
        phone: z.string().optional(),
        role: z.string().optional(),
      }),
    ),
    platformId: z.string().nullable(),
    platformName: nameField,
    createdAt: z.string(),
    screening: screeningFlagSchema,
  })
  .meta({ id: 'Participant' });

const text = (max: number) => z.string().max(max);

export function registerParticipantRoutes(app: TypedApp, deps: AppDeps): void {
  const registry = deps.services.registry;
  const screening = deps.services.compliance.screening;

  /** Participants as shown, each with its screening flag for the roles that may see it. */
  const present = async (caller: Caller, views: readonly ParticipantView[]) => {
    const flags = SEES_SCREENING.has(caller.role)
      ? await screening.flags(views.map((v) => v.id))
      : new Map<string, ScreeningFlag>();
    const name = await namesOf(
      deps,
      views.map((v) => v.platformId),
    );
    return views.map(({ updatedAt: _updated, ...p }) => ({
      ...p,
      platformName: name(p.platformId),
      createdAt: p.createdAt.toISOString(),
      screening: SEES_SCREENING.has(caller.role)
        ? (flags.get(p.id) ?? { status: 'clear' as const, openHits: 0 })
        : null,
    }));
  };
  const presentOne = async (caller: Caller, view: ParticipantView) => {
    const [shown] = await present(caller, [view]);
    if (!shown) throw new AppError('INTERNAL', 'participant view lost');
    return shown;
  };

  app.post(
    '/v1/participants',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          'Register a platform or miner (supervisor), or a company or counterparty (its platform)',
        description:
          'Registers a participant: platforms and miners by the supervisor; companies and counterparties by their platform. The names are screened against the sanctions lists at once; a hit flags the party for review.',
        body: z
          .object({
            kind: z.enum(PARTICIPANT_KINDS),
            personType: z
              .enum(PERSON_TYPES)
              .optional()
              .describe(
                'counterparties only: `natural` for a sole trader, screened against listed individuals (default `legal`)',
              ),
            legalName: text(300),
            otherNames: z.array(text(300)).max(20).optional(),
            country: text(10),
            registrationNumber: text(100).nullable().optional(),
            lei: text(40).nullable().optional(),
            addresses: z
              .array(
                z
                  .object({
                    lines: z.array(text(200)).max(5),
                    city: text(100),
                    postalCode: text(20).optional(),
                    country: text(10),
                  })
                  .strict(),
              )
              .max(10)
              .optional(),
            contacts: z
              .array(
                z
                  .object({
                    name: text(200),
                    email: text(200).optional(),
                    phone: text(50).optional(),
                    role: text(100).optional(),
                  })
                  .strict(),
              )
              .max(10)
              .optional(),
            platformId: text(40).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                kind: 'company',
                personType: 'legal',
                legalName: 'Acme Coffee Exporters Ltda',
                otherNames: ['Acme Coffee'],
                country: 'BR',
                registrationNumber: '12.345.678/0001-90',
                lei: null,
                addresses: [
                  {
                    lines: ['Rua das Flores 100'],
                    city: 'Santos',
                    postalCode: '11010-000',
                    country: 'BR',
                  },
                ],
                contacts: [{ name: 'Ana Souza', email: 'ana@acme.example', role: 'treasurer' }],
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
              },
            ],
          }),
        response: { 201: participantSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor', 'platform']);
      const created = await registry.registerParticipant(caller, request.body);
      return reply.status(201).send(await presentOne(caller, created));
    },
  );

  app.get(
    '/v1/participants',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'Participants visible to the caller',
        description:
          "Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. `q` keeps the participants whose legal name starts with it (pickers search rather than read every page); `ids` keeps the listed ones the caller may see (name lookups). Each page's screening flags are read in one query.",
        querystring: z.object({
          kind: z.enum(PARTICIPANT_KINDS).optional(),
          platformId: text(40).optional(),
          q: text(100)
            .optional()
            .describe("a prefix of the legal name, whatever its case: a picker's search"),
          ids: z
            .string()
            .max(MAX_PAGE_SIZE * 65)
            .transform((value, context) => {
              const ids = [...new Set(value.split(','))];
              if (ids.length > MAX_PAGE_SIZE || ids.some((id) => !PARTICIPANT_ID.test(id))) {
                context.addIssue({
                  code: 'custom',
                  message: `must be at most ${MAX_PAGE_SIZE} participant ids (par_…), separated by commas`,
                });
                return z.NEVER;
              }
              return ids;
            })
            .optional()
            .describe(
              'participant ids separated by commas (at most 500): a name lookup; ids the caller may not see are left out',
            ),
          ...pageQuery,
        }),
        response: { 200: pageSchema(participantSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { limit, cursor, ...filter } = request.query;
      const page = await registry.listParticipants(caller, filter, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: await present(caller, page.items) };
    },
  );

  app.get(
    '/v1/participants/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'One participant',
        description:
          'One participant visible to the caller, with its addresses, contacts and (for compliance roles) its screening flag.',
        params: idParam('par'),
        response: { 200: participantSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      return presentOne(caller, await registry.getParticipant(caller, request.params.id));
    },
  );

  app.patch(
    '/v1/participants/:id',
    {
      config: { roles: ['supervisor', 'platform'] },
      schema: {
        tags: ['registry'],
        summary:
          "Change a company's or counterparty's legal name or other names (its platform, or the supervisor); the new names are screened at once",
        description:
          "Changes a company's or counterparty's legal name or other names. The new names are screened at once; the change is audited.",
        params: idParam('par'),
        body: z
          .object({
            legalName: text(300).optional(),
            otherNames: z.array(text(300)).max(20).optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                legalName: 'Acme Coffee Exporters S.A.',
                otherNames: ['Acme Coffee', 'Acme Exporters'],
              },
            ],
          }),
        response: { 200: participantSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['supervisor', 'platform']);
      return presentOne(
        caller,
        await registry.updateParticipantNames(caller, request.params.id, request.body),
      );
    },
  );

  const vaspSchema = z
    .object({
      id: z.string(),
      name: z.string(),
      otherNames: z.array(z.string()),
      lei: z.string(),
      jurisdiction: z.string(),
      licence: z.object({
        authority: z.string(),
        number: z.string(),
        status: z.enum(VASP_LICENCE_STATUSES),
      }),
      createdAt: z.string(),
      screening: screeningFlagSchema,
    })
    .meta({ id: 'Vasp' });

  const presentVasps = async (caller: Caller, views: readonly VaspView[]) => {
    const flags = SEES_SCREENING.has(caller.role)
      ? await screening.flags(views.map((v) => v.id))
      : new Map<string, ScreeningFlag>();
    return views.map((v) => ({
      ...v,
      createdAt: v.createdAt.toISOString(),
      screening: SEES_SCREENING.has(caller.role)
        ? (flags.get(v.id) ?? { status: 'clear' as const, openHits: 0 })
        : null,
    }));
  };

  app.post(
    '/v1/vasps',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['registry'],
        summary:
          'Register a foreign VASP (supervisor): name, LEI (ISO 17442), jurisdiction and licence; screened at once like any party',
        description:
          'Registers a foreign virtual asset service provider, so that hosted counterparty addresses can name it. It is screened at once like any party.',
        body: z
          .object({
            name: text(300),
            otherNames: z.array(text(300)).max(20).optional(),
            lei: text(40),
            jurisdiction: text(10),
            licence: z
              .object({
                authority: text(200),
                number: text(100),
                status: z.enum(VASP_LICENCE_STATUSES).optional(),
              })
              .strict(),
          })
          .strict()
          .meta({
            examples: [
              {
                name: 'Northbridge Custody GmbH',
                otherNames: ['Northbridge'],
                lei: '5299000J2N45DDNE4Y28',
                jurisdiction: 'DE',
                licence: { authority: 'BaFin', number: 'KRY-2021-0042', status: 'active' },
              },
            ],
          }),
        response: { 201: vaspSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor']);
      const created = await registry.registerVasp(caller, request.body);
      const [shown] = await presentVasps(caller, [created]);
      if (!shown) throw new AppError('INTERNAL', 'VASP view lost');
      return reply.status(201).send(shown);
    },
  );

  app.get(
    '/v1/vasps',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['registry'],
        summary: 'The foreign VASPs of the registry (a hosted counterparty address names one)',
        description:
          'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. `q` keeps the VASPs whose name starts with it (pickers search rather than read every page).',
        querystring: z.object({
          q: searchQuery.describe("a prefix of the name, whatever its case: a picker's search"),
          ...pageQuery,
        }),
        response: { 200: pageSchema(vaspSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { q, limit, cursor } = request.query;
      const page = await registry.listVasps(q ? { q } : {}, { limit, cursor: cursor ?? null });
      return { ...page, items: await presentVasps(caller, page.items) };
    },
  );

  registerLicenceRoutes(app, deps);
  registerJurisdictionRoutes(app, deps);
  registerWalletRoutes(app, deps);
}

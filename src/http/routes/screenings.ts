import { z } from 'zod';
import {
  disclosureFor,
  HIT_REVIEW_DECISIONS,
  HIT_REVIEW_STATES,
  type PartyHitView,
} from '../../compliance';
import { AppError } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

const hitSchema = z
  .object({
    id: z.string(),
    partyId: z.string(),
    platformId: z.string().nullable(),
    subject: z.string().meta({
      description: '`name`, `owner:<name>`, `ownership` (OFAC 50 % rule) or `address:<address>`',
    }),
    reason: z.enum(['name', 'beneficial_owner', 'ownership_50_percent', 'address']),
    source: z.string(),
    listEntryId: z.string(),
    snapshotId: z.string(),
    score: z.number(),
    matchedName: z.string().nullable(),
    status: z.enum(['listed', 'delisted']),
    delistedReason: z.string().nullable(),
    review: z.enum(HIT_REVIEW_STATES),
    reviews: z.array(
      z.object({
        at: z.string(),
        actor: z.string(),
        role: z.string(),
        decision: z.enum(HIT_REVIEW_DECISIONS),
        reason: z.string(),
      }),
    ),
    blocking: z.boolean().meta({
      description: 'whether the hit blocks KYC verification and transfers now',
    }),
    listedAt: z.string(),
  })
  .meta({ id: 'ScreeningHit' });

const presentHit = (h: PartyHitView) => ({ ...h, listedAt: h.listedAt.toISOString() });

const matchSchema = z
  .object({
    score: z.number(),
    outcome: z.enum(['match', 'review', 'clear']),
    source: z.string(),
    listEntryId: z.string(),
    listSnapshotId: z.string(),
    primaryName: z.string(),
    matchedAlias: z.string().nullable(),
    kind: z.string(),
    entryHash: z.string(),
    entry: z
      .object({
        programs: z.array(z.string()).meta({ description: 'the sanctions programmes (regimes)' }),
        countries: z.array(z.string()),
        entryKind: z.enum(['person', 'organization', 'vessel', 'aircraft', 'other']),
        aliases: z.array(z.string()),
      })
      .nullable()
      .meta({ description: 'the list entry as the snapshot holds it (null: not stored)' }),
  })
  .meta({ id: 'ScreeningMatch' });

const resultSchema = z
  .object({
    query: z.string(),
    outcome: z.enum(['match', 'review', 'clear']),
    matches: z.array(matchSchema),
    listSnapshotIds: z.array(z.string()),
  })
  .meta({ id: 'ScreeningResult' });

/** Who may screen: the compliance officers, who may read screening detail (disclosureFor). */
const SCREENERS = ['platform', 'supervisor', 'auditor'] as const;

export function registerScreeningRoutes(app: TypedApp, deps: AppDeps): void {
  app.post(
    '/v1/screenings',
    {
      config: { roles: SCREENERS },
      schema: {
        tags: ['compliance'],
        summary:
          'Screen a name or an address against the active sanctions lists (compliance officers: platform, supervisor, auditor)',
        description:
          'Screens a name or an address against the active sanctions lists and answers the best matches with scores, the list entry and the matched alias. Compliance officers only (platform, supervisor, auditor); other roles are refused.',
        body: z
          .union([
            z
              .object({
                name: z.string().trim().min(1).max(300),
                type: z.enum(['person', 'organization']).optional(),
                limit: z.number().int().min(1).max(50).optional(),
              })
              .strict(),
            z.object({ address: z.string().trim().min(14).max(120) }).strict(),
          ])
          .meta({ examples: [{ name: 'Acme Coffee Exporters', type: 'organization', limit: 5 }] }),
        response: { 200: resultSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request, SCREENERS);
      // A party must not probe the lists for the spelling that passes (no tipping-off): only
      // those who may read compliance detail screen (the roles above; kept as a second check).
      if (disclosureFor(caller) !== 'detail')
        throw new AppError(
          'FORBIDDEN',
          `screening is for compliance officers (platform, supervisor, auditor); the caller's role is ${caller.role}`,
        );
      const body = request.body;
      const screening = deps.services.compliance.screening;
      const result =
        'address' in body
          ? await screening.screenAddress(caller, body.address)
          : await screening.screenName(caller, body.name, {
              ...(body.type ? { type: body.type } : {}),
              ...(body.limit ? { limit: body.limit } : {}),
            });
      const entries = await screening.entryDetails(result.matches);
      return {
        ...result,
        matches: result.matches.map((m) => ({
          ...m,
          entry: entries.get(`${m.listSnapshotId}|${m.listEntryId}`) ?? null,
        })),
      };
    },
  );

  app.post(
    '/v1/screenings/clearances',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['compliance'],
        summary: 'Clear a (party, list entry) pair as a false positive, with the reason',
        description:
          'Clears a (party, list entry) pair as a false positive, with the reason, so that later screenings of the party do not raise it again. Audited.',
        body: z
          .object({
            partyId: z.string().min(1).max(64),
            source: z.enum(['ofac-sdn', 'un', 'eu-fsf']),
            listEntryId: z.string().min(1).max(100),
            reason: z.string().trim().min(10).max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                partyId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                source: 'ofac-sdn',
                listEntryId: '36123',
                reason: 'different company: other country and registration number',
              },
            ],
          }),
        response: {
          201: z
            .object({
              id: z.string(),
              partyId: z.string(),
              source: z.string(),
              listEntryId: z.string(),
              entryHash: z.string(),
              reason: z.string(),
              clearedBy: z.string(),
              clearedAt: z.string(),
            })
            .meta({ id: 'ScreeningClearance' }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const cleared = await deps.services.compliance.screening.clear(
        callerOf(request, ['supervisor']),
        request.body,
      );
      return reply.status(201).send({ ...cleared, clearedAt: cleared.clearedAt.toISOString() });
    },
  );

  app.get(
    '/v1/screenings/hits',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          "Screening hits on parties (platform officers: their own parties'; supervisor and auditor: all)",
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          partyId: z.string().max(40).optional(),
          review: z.enum(HIT_REVIEW_STATES).optional(),
          status: z.enum(['listed', 'delisted']).optional().meta({
            description: 'listed: the entry is still on its list; delisted: it was dropped',
          }),
          ...pageQuery,
        }),
        response: { 200: pageSchema(hitSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      const page = await deps.services.compliance.screening.listHits(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        filter,
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentHit) };
    },
  );

  app.post(
    '/v1/screenings/hits/:id/resolution',
    {
      config: { roles: ['platform', 'supervisor'] },
      schema: {
        tags: ['compliance'],
        summary:
          "Resolve a screening hit: first an officer of the party's platform (false_positive or confirmed), then the supervisor for a confirmed hit (blocked or released)",
        description:
          "Resolves a screening hit in two steps: an officer of the party's platform marks it a false positive or confirmed; the supervisor then blocks or releases a confirmed hit.",
        params: idParam('scr'),
        body: z
          .object({
            decision: z.enum(HIT_REVIEW_DECISIONS),
            reason: z.string().max(2000),
          })
          .strict()
          .meta({
            examples: [
              {
                decision: 'false_positive',
                reason: 'date of birth and nationality differ from the listed person',
              },
            ],
          }),
        response: { 200: hitSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentHit(
        await deps.services.compliance.screening.resolveHit(
          callerOf(request, ['platform', 'supervisor']),
          request.params.id,
          request.body,
        ),
      ),
  );
}

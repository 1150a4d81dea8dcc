import { z } from 'zod';
import { ROLES } from '../../kernel';
import type { ApiKeyView } from '../../access';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, WRITERS } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

const keySchema = z
  .object({
    id: z.string(),
    personId: z.string(),
    participantId: z.string(),
    platformId: z.string().nullable(),
    role: z.enum(ROLES),
    name: z.string(),
    createdAt: z.string(),
    createdBy: z.string(),
    revokedAt: z.string().nullable(),
  })
  .meta({ id: 'ApiKey' });

function present(key: ApiKeyView) {
  return {
    ...key,
    createdAt: key.createdAt.toISOString(),
    revokedAt: key.revokedAt?.toISOString() ?? null,
  };
}

const participantRef = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'must be a participant id');

export function registerKeyRoutes(app: TypedApp, deps: AppDeps): void {
  app.post(
    '/v1/keys',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['access'],
        summary:
          'Create an API key for a person (the token is shown once): yourself, or, by the supervisor, a participant’s administrator, a named person of it (personId) or a new one (personName)',
        description:
          "Creates an API key and answers its token once (only a hash is stored). Who may create a key for whom is fixed: anyone for themselves in their own role and participant; the supervisor also for a participant's administrator, a named person of it (`personId`) or a new person (`personName`).",
        body: z
          .object({
            role: z.enum(ROLES),
            participantId: participantRef,
            platformId: participantRef.nullable().optional(),
            name: z.string().trim().min(1).max(100),
            personId: z
              .string()
              .regex(/^usr_[0-9A-Z]{26}$/, 'must be a person (user) id')
              .optional(),
            personName: z.string().trim().min(1).max(200).optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                role: 'company',
                participantId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                name: 'ERP integration',
                personName: 'Ana Souza',
              },
            ],
          }),
        response: {
          201: keySchema.extend({ token: z.string() }).meta({ id: 'CreatedApiKey' }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      // Who may create a key for whom is the access module's table (keyCreationRefusal).
      const caller = callerOf(request);
      const created = await deps.services.keys.create(caller, request.body);
      return reply.status(201).send({ ...present(created), token: created.token });
    },
  );

  app.get(
    '/v1/keys',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['access'],
        summary: 'API keys visible to the caller',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(keySchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await deps.services.keys.list(callerOf(request), {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(present) };
    },
  );

  app.get(
    '/v1/keys/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['access'],
        summary: 'One API key',
        description:
          'One API key visible to the caller (its own, or the keys its role oversees), without the token.',
        params: idParam('key'),
        response: { 200: keySchema, ...commonErrors },
      },
    },
    async (request) => present(await deps.services.keys.get(callerOf(request), request.params.id)),
  );

  app.delete(
    '/v1/keys/:id',
    {
      config: { roles: WRITERS },
      schema: {
        tags: ['access'],
        summary: 'Revoke an API key',
        description:
          'Revokes an API key at once: later requests with it answer 401. Audited. The auditor reads only and cannot revoke.',
        params: idParam('key'),
        response: { 200: keySchema, ...commonErrors },
      },
    },
    async (request) =>
      present(await deps.services.keys.revoke(callerOf(request, WRITERS), request.params.id)),
  );

  app.get(
    '/v1/me',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['access'],
        summary: 'Who the presented credentials belong to',
        description:
          'Who the presented credentials belong to: the person, the role, the participant and platform of the key or session. A quick way to check a key.',
        response: {
          200: z
            .object({
              role: z.enum(ROLES),
              participantId: z.string(),
              platformId: z.string().nullable(),
              actorId: z.string(),
              personId: z.string(),
            })
            .meta({ id: 'Me' }),
          ...commonErrors,
        },
      },
    },
    (request) => {
      const { role, participantId, platformId, actorId, personId } = callerOf(request);
      return { role, participantId, platformId, actorId, personId };
    },
  );
}

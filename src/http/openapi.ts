import { jsonSchemaTransform } from 'fastify-type-provider-zod';
import { ROLES } from '../kernel';
import type { RouteRoles } from './auth';

/**
 * What each operation of the OpenAPI document says beyond its zod schemas, derived from the route
 * itself so that it cannot drift: `x-roles` and a "Roles:" sentence from the roles the route
 * declares (`config.roles`, which guardRoute enforces), and a description for every response
 * status (never "Default Response").
 */

/** What each status means across the API; the error codes are in docs/errors.md. */
const RESPONSE_DESCRIPTIONS: Record<string, string> = {
  200: 'Success: the body is the result',
  201: 'Created: the body is the new resource',
  202: 'Accepted: the work is queued',
  204: 'Success, with no body',
  400: 'Invalid input: `VALIDATION_FAILED` (with `issues` naming each field) or another 400 code of the error docs',
  401: 'Unauthenticated: no, an unknown, a revoked or an expired API key or session (`UNAUTHENTICATED`)',
  403: "Forbidden: the caller's role or scope may not do this, or a session's cross-site state change (`FORBIDDEN`)",
  404: 'Not found, or not visible to the caller (`NOT_FOUND`)',
  409: "Conflict with the resource's current state (`CONFLICT` or a more specific code)",
  413: 'The body is larger than the API accepts (`PAYLOAD_TOO_LARGE`)',
  415: 'The body is not JSON (`UNSUPPORTED_MEDIA_TYPE`)',
  422: 'Refused by a rule of the scheme (the code says which, e.g. `IDEMPOTENCY_KEY_REUSED`)',
  429: 'Rate limited (`RATE_LIMITED`): retry after the time the message names',
  500: 'An unexpected error (`INTERNAL`); the request id identifies it in the logs',
  503: 'A dependency is not ready (`NOT_READY`, `CHAIN_UNAVAILABLE`)',
};

/** The roles an operation's `x-roles` lists: none for a public route. */
export function rolesOf(roles: RouteRoles | undefined): readonly string[] {
  if (roles === undefined || roles === 'public') return [];
  return roles === 'any' ? ROLES : roles;
}

/** The sentence every operation's description ends with. */
export function rolesSentence(roles: RouteRoles | undefined): string {
  if (roles === undefined || roles === 'public') {
    return '**Roles:** none; this endpoint needs no API key or session.';
  }
  if (roles === 'any') {
    return `**Roles:** any authenticated caller (${ROLES.join(', ')}); each sees and acts within its own scope.`;
  }
  return `**Roles:** ${roles.join(', ')}. Other roles get 403 \`FORBIDDEN\`.`;
}

type JsonSchema = Record<string, unknown>;

function describedResponses(responses: unknown): Record<string, JsonSchema> | undefined {
  if (responses === null || typeof responses !== 'object') return undefined;
  return Object.fromEntries(
    Object.entries(responses as Record<string, JsonSchema>).map(([status, schema]) => [
      status,
      {
        ...schema,
        description:
          (typeof schema.description === 'string' ? schema.description : undefined) ??
          RESPONSE_DESCRIPTIONS[status] ??
          `HTTP ${status}`,
      },
    ]),
  );
}

/** The zod transform of @fastify/swagger, plus roles and response descriptions. */
export const documentRoute: typeof jsonSchemaTransform = (input) => {
  const transformed = jsonSchemaTransform(input);
  const schema = transformed.schema as JsonSchema;
  if (schema.hide) return transformed;
  const roles = input.route.config?.roles;
  const description = typeof schema.description === 'string' ? schema.description : '';
  return {
    url: transformed.url,
    schema: {
      ...schema,
      description: [description, rolesSentence(roles)].filter(Boolean).join('\n\n'),
      'x-roles': rolesOf(roles),
      ...(roles === 'public' && !schema.security ? { security: [] } : {}),
      // A route without response schemas (a file, a stream) still gets a described 200.
      response: describedResponses(schema.response ?? { 200: { type: 'null' } }),
    },
  };
};

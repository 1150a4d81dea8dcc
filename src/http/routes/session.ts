import { z } from 'zod';
import { AppError, ROLES } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, SESSION_COOKIE } from '../auth';
import { commonErrors } from '../schemas';

const userSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    role: z.enum(ROLES),
    participantId: z.string(),
    platformId: z.string().nullable(),
    totpEnabled: z.boolean(),
  })
  .meta({ id: 'User' });

export function registerSessionRoutes(app: TypedApp, deps: AppDeps): void {
  const secure = deps.config.NODE_ENV === 'production';

  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['access'],
        summary:
          'Log in (username, password and, when enabled, a TOTP code); sets the session cookie',
        security: [],
        body: z
          .object({
            username: z.string().trim().min(1).max(100),
            password: z.string().min(1).max(200),
            totpCode: z
              .string()
              .regex(/^\d{6}$/, 'must be 6 digits')
              .optional(),
          })
          .strict(),
        response: { 200: z.object({ user: userSchema, expiresAt: z.string() }), ...commonErrors },
      },
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
    },
    async (request, reply) => {
      const { token, user, expiresAt } = await deps.services.users.login(request.body);
      void reply.setCookie(SESSION_COOKIE, token, {
        path: '/',
        httpOnly: true,
        sameSite: 'strict',
        secure,
        expires: expiresAt,
      });
      return { user, expiresAt: expiresAt.toISOString() };
    },
  );

  app.get(
    '/v1/session',
    {
      schema: {
        tags: ['access'],
        summary: 'The logged-in user',
        response: { 200: z.object({ user: userSchema }), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const token = request.cookies[SESSION_COOKIE];
      const session = token
        ? await deps.services.users.authenticateSession(token, String(request.id))
        : null;
      if (!session) throw new AppError('UNAUTHENTICATED', 'no browser session');
      return { user: session.user };
    },
  );

  app.delete(
    '/v1/session',
    {
      schema: {
        tags: ['access'],
        summary: 'Log out',
        response: { 200: z.object({ ok: z.literal(true) }), ...commonErrors },
      },
    },
    async (request, reply) => {
      const token = request.cookies[SESSION_COOKIE];
      if (token) await deps.services.users.logout(token);
      void reply.clearCookie(SESSION_COOKIE, { path: '/' });
      return { ok: true as const };
    },
  );
}

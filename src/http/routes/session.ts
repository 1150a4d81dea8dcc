import { z } from 'zod';
import { AppError, ROLES } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, SESSION_COOKIE } from '../auth';
import { FailureLimiter } from '../limits';
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
  // Password guessing (issue 11): failed logins are counted per address and per account. An
  // account is locked after 5 failures (30 s, doubling with each further failure, up to 15 min),
  // an address after 20 failures a quarter hour; a successful login clears its account.
  const failedByAddress = new FailureLimiter(deps.clock, {
    max: 20,
    windowMs: 15 * 60_000,
    lockoutMs: 60_000,
    maxLockoutMs: 15 * 60_000,
    what: 'logins from this address',
  });
  const failedByAccount = new FailureLimiter(deps.clock, {
    max: 5,
    windowMs: 15 * 60_000,
    lockoutMs: 30_000,
    maxLockoutMs: 15 * 60_000,
    what: 'logins to this account',
  });

  app.post(
    '/v1/session',
    {
      schema: {
        tags: ['access'],
        summary:
          'Log in (username, password and, when enabled, a TOTP code); sets the session cookie',
        description:
          'Logs a person in with username and password (and the 6-digit TOTP code when two-factor is enabled) and sets the `tc_session` cookie (HttpOnly, SameSite=Strict) for 12 hours. Repeated failures per address and per account are locked out for a while.',
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
          .strict()
          .meta({
            examples: [
              {
                username: 'supervisor',
                password: 'correct horse battery staple',
                totpCode: '123456',
              },
            ],
          }),
        response: {
          200: z.object({ user: userSchema, expiresAt: z.string() }).meta({ id: 'NewSession' }),
          ...commonErrors,
        },
      },
      // Per address, whatever credentials ride along (not per API key).
      config: {
        roles: 'public',
        rateLimit: { max: 20, timeWindow: '1 minute', keyGenerator: (request) => request.ip },
      },
    },
    async (request, reply) => {
      const account = request.body.username.toLowerCase();
      failedByAddress.check(request.ip);
      failedByAccount.check(account);
      let session: Awaited<ReturnType<typeof deps.services.users.login>>;
      try {
        session = await deps.services.users.login(request.body);
      } catch (error) {
        if (error instanceof AppError && error.code === 'UNAUTHENTICATED') {
          failedByAddress.fail(request.ip);
          failedByAccount.fail(account);
        }
        throw error;
      }
      failedByAccount.succeed(account);
      const { token, user, expiresAt } = session;
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
      config: { roles: 'any' },
      schema: {
        tags: ['access'],
        summary: 'The logged-in user',
        description:
          'The person of the current session cookie, or 401 when there is none or it expired.',
        response: { 200: z.object({ user: userSchema }).meta({ id: 'Session' }), ...commonErrors },
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
      config: { roles: 'public' },
      schema: {
        tags: ['access'],
        summary: 'Log out',
        description: 'Ends the current session (if any) and clears the session cookie.',
        response: {
          200: z.object({ ok: z.literal(true) }).meta({ id: 'LoggedOut' }),
          ...commonErrors,
        },
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

import type { FastifyRequest } from 'fastify';
import { AppError, type Caller, type Role } from '../kernel';
import type { Services } from '../services';
import { authenticateOperator, isOperatorToken } from './operator';

/**
 * Who may call a route, declared once in its options (`config: { roles }`): the roles listed,
 * `any` authenticated caller, or anyone (`public`). The app enforces it before the handler runs
 * (guardRoute) and the API docs state it (openapi.ts), so what the docs say is what is enforced.
 */
export type RouteRoles = readonly Role[] | 'any' | 'public';

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller | null;
  }
  interface FastifyContextConfig {
    roles?: RouteRoles;
  }
}

export const SESSION_COOKIE = 'tc_session';

/**
 * Resolves the caller: machines send `Authorization: Bearer tck_…`, people carry a session
 * cookie from `POST /v1/session`. Absent credentials leave the caller null (public routes).
 */
export async function authenticate(
  request: FastifyRequest,
  services: Pick<Services, 'keys' | 'users'>,
  operatorToken?: string,
): Promise<void> {
  request.caller = null;
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw new AppError('UNAUTHENTICATED', 'the Authorization header must be "Bearer <api key>"');
    if (isOperatorToken(match[1])) {
      request.caller = authenticateOperator(request, match[1], operatorToken);
      return;
    }
    request.caller = await services.keys.authenticate(match[1], String(request.id));
    return;
  }
  const token = request.cookies[SESSION_COOKIE];
  if (token) {
    const session = await services.users.authenticateSession(token, String(request.id));
    if (!session) throw new AppError('UNAUTHENTICATED', 'the session has expired; log in again');
    // A cookie rides along on cross-site requests; a state change must come as JSON from our own
    // pages (SameSite=Strict already stops most; this closes form-post CSRF for older browsers).
    if (!['GET', 'HEAD', 'OPTIONS'].includes(request.method)) {
      refuseCrossSite(request);
      const type = request.headers['content-type'] ?? '';
      const hasBody =
        request.headers['content-length'] !== undefined &&
        request.headers['content-length'] !== '0';
      if (hasBody && !type.startsWith('application/json')) {
        throw new AppError(
          'FORBIDDEN',
          'state-changing requests from a browser session must be JSON',
        );
      }
    }
    request.caller = session.caller;
  }
}

/**
 * Refuses a cookie-authenticated state change another site started (CSRF, issue 11): a body-less
 * POST needs no JSON, so the content-type check alone does not stop it. Browsers say where a
 * request comes from: `Sec-Fetch-Site` (Fetch Metadata) when they send it, else `Origin`, which
 * must name this server's own host. A request with neither is not from a browser page (or from
 * one too old to send them, which SameSite=Strict already covers). Bearer keys are unaffected.
 */
function refuseCrossSite(request: FastifyRequest): void {
  // Fetch Metadata first: browsers set Sec-Fetch-Site themselves (pages cannot forge it), and it
  // stays exact where Origin does not: under our Referrer-Policy no-referrer, Chromium sends
  // `Origin: null` on a same-origin form navigation. Without it (older browsers), Origin decides.
  const site = request.headers['sec-fetch-site'];
  if (site === 'same-origin' || site === 'none') return;
  if (site !== undefined) {
    throw new AppError('FORBIDDEN', `a session may not change state from a ${site} page`);
  }
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let ours: boolean;
  try {
    // The Host header read with the Origin's scheme, so that default ports compare equal.
    const from = new URL(origin);
    ours = from.host === new URL(`${from.protocol}//${request.headers.host ?? ''}`).host;
  } catch {
    ours = false; // "null" (a sandboxed or file page) or garbage: not ours
  }
  if (!ours) {
    throw new AppError('FORBIDDEN', 'a session may not change state from another origin');
  }
}

/**
 * The caller of an authenticated route; refuses anonymous requests and roles not listed. Roles
 * passed here must be the ones the route declares (`config.roles`): a handler that guards other
 * roles than the documented ones is a programming error, not a refusal.
 */
export function callerOf(request: FastifyRequest, roles?: readonly Role[]): Caller {
  if (roles) assertDeclared(request, roles);
  const caller = request.caller;
  if (!caller)
    throw new AppError(
      'UNAUTHENTICATED',
      'this endpoint needs an API key (Authorization: Bearer …) or a session',
    );
  if (roles && !roles.includes(caller.role)) {
    throw new AppError(
      'FORBIDDEN',
      `this endpoint is for ${roles.join(', ')}; the caller's role is ${caller.role}`,
    );
  }
  return caller;
}

/** The API's own routes: each must declare its roles (`config.roles`); see apiRouteDeclaresRoles. */
export const API_PREFIX = '/v1/';

/**
 * Enforces the route's declared roles, before the body is validated (a preValidation hook of
 * every route), so an anonymous or wrong-role caller learns nothing of the route's input. Fails
 * closed: an API route that declares no roles is refused (registration refuses such a route too;
 * this covers one added in a way that hook does not see). Routes outside the API (the web app's
 * files, the API docs) declare none and are public.
 */
export function guardRoute(request: FastifyRequest): void {
  const roles = request.routeOptions.config.roles;
  if (roles === undefined) {
    // No route matched (the not-found handler): answered 404 whoever asks, with nothing to guard.
    const url = request.routeOptions.url;
    if (url !== undefined && url.startsWith(API_PREFIX))
      throw new AppError('FORBIDDEN', 'this endpoint declares no roles and is refused to everyone');
    return;
  }
  if (roles === 'public') return;
  callerOf(request, roles === 'any' ? undefined : roles);
}

function assertDeclared(request: FastifyRequest, roles: readonly Role[]): void {
  const declared = request.routeOptions.config.roles;
  const listed: readonly Role[] | null = typeof declared === 'object' ? declared : null;
  const same =
    listed !== null &&
    listed.length === new Set(roles).size &&
    listed.every((role) => roles.includes(role));
  if (!same) {
    throw new Error(
      `${request.method} ${request.routeOptions.url ?? request.url} guards ${roles.join(', ')} ` +
        `but declares ${String(declared)} in config.roles`,
    );
  }
}

/** Roles that may change state (the auditor reads only). */
export const WRITERS: readonly Role[] = ['supervisor', 'platform', 'company', 'miner'];

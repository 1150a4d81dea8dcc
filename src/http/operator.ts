import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { base32nopad } from '@scure/base';
import { AppError, OPERATOR_ACTOR, systemCaller, type Caller } from '../kernel';

/**
 * The local operator: the CLI on the server's own machine, while the server holds the embedded
 * database. Whoever can read the data directory already has the whole database, so the server
 * writes a random token into a file there (mode 0600, beside the database) and accepts it as the
 * scheme's operator: a supervisor recorded in the audit log as `operator:cli`. Only that token,
 * only over the loopback interface, never through a proxy.
 */
export const OPERATOR_TOKEN_PREFIX = 'tco_';
export { OPERATOR_ACTOR };

export function newOperatorToken(): string {
  return `${OPERATOR_TOKEN_PREFIX}${base32nopad.encode(randomBytes(32)).toLowerCase()}`;
}

export function isOperatorToken(token: string): boolean {
  return token.startsWith(OPERATOR_TOKEN_PREFIX);
}

/** Headers a reverse proxy adds: a request carrying one came from elsewhere through loopback. */
const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip'];

/**
 * The caller an operator token stands for, or UNAUTHENTICATED. `expected` is the token this
 * server wrote at start (absent: no operator channel, e.g. on PostgreSQL or a non-loopback host).
 */
export function authenticateOperator(
  request: FastifyRequest,
  presented: string,
  expected: string | undefined,
): Caller {
  const refused = new AppError('UNAUTHENTICATED', 'the operator token is unknown to this server');
  if (!expected) throw refused;
  if (!isLoopback(request.socket.remoteAddress)) {
    throw new AppError(
      'UNAUTHENTICATED',
      'the operator token is accepted only from this machine (the loopback interface)',
    );
  }
  if (FORWARDING_HEADERS.some((name) => request.headers[name] !== undefined)) {
    throw new AppError('UNAUTHENTICATED', 'the operator token is not accepted through a proxy');
  }
  const a = Buffer.from(presented);
  const b = Buffer.from(expected);
  // Lengths are not secret (every token has the same); the bytes are compared in constant time.
  if (a.length !== b.length || !timingSafeEqual(a, b)) throw refused;
  return systemCaller(OPERATOR_ACTOR, String(request.id));
}

function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(v4) === 4) return v4.startsWith('127.');
  return address === '::1';
}

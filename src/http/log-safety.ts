import { AppError } from '../kernel';
import { describeDatabaseError, redactDatabaseText } from '../db';

/**
 * What the logs may say about an error. A database error carries the statement and its
 * parameters (key hashes, password hashes, sealed secrets, people's names), and PostgreSQL's own
 * message and detail may quote values, so a database error is logged by its SQLSTATE and
 * constraint only. Every other error keeps its type, code, message (scrubbed) and stack frames
 * (without the message lines, which repeat the message); causes are followed a few levels.
 */
export interface LoggedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

export function safeErrorForLog(error: unknown, depth = 0): LoggedError {
  if (!(error instanceof Error)) {
    return { type: typeof error, message: redactLogText(String(error)), stack: '' };
  }
  // An AppError's message is ours; a database error under it is described as its cause.
  const database = error instanceof AppError ? null : describeDatabaseError(error);
  const frames = (error.stack ?? '')
    .split('\n')
    .filter((line) => line.startsWith('    at '))
    .join('\n');
  const summary: LoggedError = {
    type: error.constructor.name || error.name,
    ...(error instanceof AppError ? { code: error.code } : {}),
    message: database ? 'database query failed' : redactLogText(error.message),
    ...(database ?? {}),
    stack: frames,
  };
  // A database error's cause is the driver's error, which quotes values: its SQLSTATE is enough.
  if (!database && error.cause !== undefined && depth < 3) {
    summary.cause = safeErrorForLog(error.cause, depth + 1);
  }
  return summary;
}

/** Credentials and secrets by their shape, as they may appear inside any logged text. */
const SECRET_SHAPES: readonly [RegExp, string][] = [
  // API keys: tck_<key id>_<secret>.
  [/tck_[A-Za-z0-9_]+/g, 'tck_[redacted]'],
  // Password hashes (src/access/users.ts).
  [/scrypt\$[0-9]+\$[0-9]+\$[0-9]+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+/g, '[redacted]'],
  // Secrets sealed at rest (src/trade/secrets.ts): v1:<iv>:<ciphertext+tag>.
  [/v1:[A-Za-z0-9+/]{16}:[A-Za-z0-9+/]{22,}={0,2}/g, '[redacted]'],
  // Bearer credentials of any kind.
  [/Bearer\s+[^\s"',;]+/gi, 'Bearer [redacted]'],
];

/** Scrubs SQL and secrets from a text headed for the logs. */
export function redactLogText(text: string): string {
  let out = redactDatabaseText(text);
  for (const [pattern, replacement] of SECRET_SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/**
 * The last net, over every serialized log line: a statement or a secret that reached a log
 * call some other way (an error message copied into a string field) is cut out of the JSON
 * text. The statement pattern stops at the end of the JSON string it is in.
 */
export function redactLogLine(line: string): string {
  let out = line.replace(/Failed query:(?:[^"\\]|\\.)*/g, '[database query redacted]');
  for (const [pattern, replacement] of SECRET_SHAPES) out = out.replace(pattern, replacement);
  return out;
}

/** Headers and fields the logs never show (pino redaction paths). */
export const REDACTED_LOG_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  'headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.passwordHash',
  '*.token',
  '*.secret',
  '*.secretHash',
  '*.webhookSecret',
  '*.totpSecret',
];

/**
 * Pino options that keep SQL and secrets out of the logs: redaction of credential headers and
 * fields, an error serializer that never prints a statement or its parameters, and a scrub of
 * every line written. Kept apart from the rest of buildApp's options.
 */
export function safeLoggerOptions() {
  return {
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
    serializers: {
      err: (error: unknown) => safeErrorForLog(error),
      error: (error: unknown): unknown => (error instanceof Error ? safeErrorForLog(error) : error),
    },
    hooks: { streamWrite: redactLogLine },
  };
}

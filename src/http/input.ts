import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, type FieldIssue } from '../kernel';

/**
 * Characters no text field of the API accepts, whatever the route:
 * - U+0000: PostgreSQL text cannot hold it (the driver fails the whole statement);
 * - an unpaired UTF-16 surrogate: not a character at all, so not valid UTF-8 once stored;
 * - the bidirectional embedding, override and isolate controls (U+202A–U+202E, U+2066–U+2069):
 *   they reorder how a name or reference is displayed ("Trojan Source", CVE-2021-42574), so a
 *   counterparty name or a payment reference could read differently from what was screened.
 * The pattern works on UTF-16 code units (no `u` flag) so that lone surrogates are visible to it.
 */
const FORBIDDEN_TEXT =
  // eslint-disable-next-line no-control-regex -- matching U+0000 is the point
  /\u0000|[\u202A-\u202E\u2066-\u2069]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What a refused string contained, for the message (the value itself is never echoed). */
export function forbiddenTextReason(text: string): string | null {
  const match = FORBIDDEN_TEXT.exec(text);
  if (!match) return null;
  const unit = match[0].charCodeAt(0);
  if (unit === 0) return 'must not contain a NUL character (U+0000)';
  if (unit >= 0xd800 && unit <= 0xdfff) return 'must not contain an unpaired UTF-16 surrogate';
  return `must not contain the bidirectional control character U+${unit.toString(16).toUpperCase()}`;
}

/**
 * Deeper JSON than any route takes: refused before validation, so neither the schema validator
 * nor a stored JSON value recurses without bound.
 */
export const MAX_INPUT_DEPTH = 32;

/** The JSON body limit in bytes; a larger body is refused with 413 PAYLOAD_TOO_LARGE. */
export const BODY_LIMIT_BYTES = 1_048_576;

/**
 * Every string (values and object keys) of `value`, walked iteratively, with the field path as
 * the error handler names fields (`body.parties.0.name`). Returns the first issue found.
 */
export function checkInputText(value: unknown, root: string): FieldIssue | null {
  const stack: { value: unknown; path: string; depth: number }[] = [
    { value, path: root, depth: 0 },
  ];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (typeof item.value === 'string') {
      const reason = forbiddenTextReason(item.value);
      if (reason) return { field: item.path, message: reason };
      continue;
    }
    if (item.value === null || typeof item.value !== 'object') continue;
    if (item.depth >= MAX_INPUT_DEPTH) {
      return { field: item.path, message: `is nested deeper than ${MAX_INPUT_DEPTH} levels` };
    }
    if (Array.isArray(item.value)) {
      item.value.forEach((element, index) =>
        stack.push({ value: element, path: `${item.path}.${index}`, depth: item.depth + 1 }),
      );
      continue;
    }
    // Raw bodies (Buffers) are bytes, not text fields. Parsed query strings and params are
    // objects without Object.prototype, so anything else is walked.
    if (ArrayBuffer.isView(item.value) || item.value instanceof ArrayBuffer) continue;
    for (const [key, element] of Object.entries(item.value)) {
      const reason = forbiddenTextReason(key);
      if (reason) return { field: item.path, message: `keys ${reason}` };
      stack.push({ value: element, path: `${item.path}.${key}`, depth: item.depth + 1 });
    }
  }
  return null;
}

function refuseBadText(request: FastifyRequest): void {
  const parts: [string, unknown][] = [
    ['params', request.params],
    ['querystring', request.query],
    ['body', request.body],
  ];
  for (const [root, value] of parts) {
    const issue = checkInputText(value, root);
    if (issue) {
      throw new AppError('VALIDATION_FAILED', `${issue.field}: ${issue.message}`, {
        issues: [issue],
      });
    }
  }
}

/**
 * The input checks every route gets, in one place so that no route can forget them: the parsed
 * body, query string and path parameters are walked before the route's own schema runs. Kept in
 * its own function so the rest of buildApp can change without touching it.
 */
export function registerInputChecks(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    try {
      refuseBadText(request);
      done();
    } catch (error) {
      done(error as Error);
    }
  });
}

/** Translating driver errors into domain errors (stores decide which AppError they mean). */

/** The SQLSTATE of a PostgreSQL error, whichever driver raised it. */
export function sqlState(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    if (
      'code' in current &&
      typeof current.code === 'string' &&
      /^[0-9A-Z]{5}$/.test(current.code)
    ) {
      return current.code;
    }
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

/** The violated constraint's name, when the driver reports it. */
export function violatedConstraint(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    if ('constraint' in current && typeof current.constraint === 'string')
      return current.constraint;
    current = 'cause' in current ? current.cause : undefined;
  }
  return undefined;
}

export const UNIQUE_VIOLATION = '23505';
export const FOREIGN_KEY_VIOLATION = '23503';
export const CHECK_VIOLATION = '23514';
export const SERIALIZATION_FAILURE = '40001';
export const RAISE_EXCEPTION = 'P0001';

/**
 * A loggable summary of a database error: its SQLSTATE and the constraint, table and column
 * PostgreSQL names, never the statement, its parameters, nor the server's message or detail
 * (which quote values: key hashes, password hashes, sealed secrets, personal data). Null when
 * `error` did not come from the database.
 */
export function describeDatabaseError(error: unknown): Record<string, string> | null {
  let current: unknown = error;
  let fromDatabase = false;
  const summary: Record<string, string> = {};
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    // drizzle wraps every failed statement in a DrizzleQueryError carrying `query` and `params`.
    if ('query' in current && 'params' in current) fromDatabase = true;
    if (
      'code' in current &&
      typeof current.code === 'string' &&
      /^[0-9A-Z]{5}$/.test(current.code) &&
      // Node's errno codes (EPIPE, EPERM) look alike; no SQLSTATE class starts with E.
      !current.code.startsWith('E')
    ) {
      fromDatabase = true;
      summary.sqlState ??= current.code;
    }
    for (const key of ['constraint', 'table', 'column'] as const) {
      const value: unknown = (current as Record<string, unknown>)[key];
      if (typeof value === 'string' && /^[A-Za-z0-9_.]{1,128}$/.test(value)) summary[key] ??= value;
    }
    current = 'cause' in current ? current.cause : undefined;
  }
  return fromDatabase ? summary : null;
}

/** Cuts a drizzle "Failed query: <statement> params: <values>" out of a text. */
export function redactDatabaseText(text: string): string {
  return text.replace(/Failed query:[\s\S]*/, '[database query redacted]');
}

import createClient from 'openapi-fetch';
import type { paths } from './schema';

/**
 * The API client, typed from the server's OpenAPI document (`npm run gen:api` regenerates
 * schema.d.ts from /openapi.json). Requests carry the session cookie.
 */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });

export interface ApiErrorBody {
  code: string;
  message: string;
  requestId: string;
  issues?: { field: string; message: string }[];
  /** What the error is about, by code (e.g. the party to verify, the Travel Rule threshold). */
  details?: Record<string, unknown>;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.message);
  }

  /** The message for one form field, from the server's `issues` (field names like `body.name`). */
  fieldError(field: string): string | undefined {
    return this.body.issues?.find((i) => i.field === field || i.field === `body.${field}`)?.message;
  }
}

/** Unwraps an openapi-fetch result: the data, or an ApiError carrying the server's error body. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.error !== undefined || result.data === undefined) {
    const body = (result.error ?? {}) as Partial<ApiErrorBody>;
    throw new ApiError(result.response.status, {
      code: body.code ?? 'INTERNAL',
      message: body.message ?? `request failed with ${result.response.status}`,
      requestId: body.requestId ?? '',
      ...(body.issues ? { issues: body.issues } : {}),
      ...(body.details ? { details: body.details } : {}),
    });
  }
  return result.data;
}

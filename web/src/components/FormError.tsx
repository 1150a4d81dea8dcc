import { ApiError } from '../api/client';
import { ErrorState } from './States';

/** The error of a form submission not already shown at a field. */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.body.issues?.length) return null;
  return <ErrorState error={error} />;
}

export function fieldErrorOf(error: unknown, field: string): string | undefined {
  return error instanceof ApiError ? error.fieldError(field) : undefined;
}

/** The field an error belongs to: the server's issue, or the field its code is about. */
export function errorAt(
  error: unknown,
  field: string,
  codes: readonly string[] = [],
): string | undefined {
  const issue = fieldErrorOf(error, field);
  if (issue) return issue;
  return error instanceof ApiError && codes.includes(error.body.code)
    ? error.body.message
    : undefined;
}

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

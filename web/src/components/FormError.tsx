import type { ReactNode } from 'react';
import { Alert, Anchor, Stack, Text } from '@mantine/core';
import { Link } from 'react-router';
import { ApiError } from '../api/client';
import { ErrorState } from './States';

/**
 * The error of a form submission not already shown at a field. An error whose code the app knows
 * is told in words naming the party, with a link to the screen that fixes it; any other is shown
 * as the server said it.
 */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  if (error instanceof ApiError && error.body.issues?.length) return null;
  const known = error instanceof ApiError ? knownError(error) : null;
  if (!known) return <ErrorState error={error} />;
  return (
    <Alert color="red" title={known.title} role="alert" data-testid="form-error">
      <Stack gap="xs">
        <Text size="sm">{known.message}</Text>
        {known.fix}
      </Stack>
    </Alert>
  );
}

const text = (v: unknown): string => (typeof v === 'string' ? v : '');

interface KnownError {
  title: string;
  message: string;
  fix?: ReactNode;
}

/** The errors a form can explain, by code, from the server's `details`. */
export function knownError(error: ApiError): KnownError | null {
  const details = error.body.details ?? {};
  switch (error.body.code) {
    case 'KYC_NOT_VERIFIED': {
      const id = text(details.participantId);
      const name = text(details.participantName) || id;
      if (!id) return null;
      const company = details.party === 'company';
      return {
        title: `${name} is not verified`,
        message: `${name} has not passed ${company ? 'KYB' : 'KYC'} verification${details.kycStatus ? ` (${text(details.kycStatus)})` : ''}. A payment needs both parties verified.`,
        fix: (
          <Anchor component={Link} to={`/registry/participants?id=${id}`}>
            Open {name} in the registry
          </Anchor>
        ),
      };
    }
    case 'TRAVEL_RULE_INCOMPLETE': {
      const threshold = details.travelRuleThreshold as { formatted?: unknown } | undefined;
      return {
        title: 'Travel Rule data needed',
        message: error.body.message,
        fix: (
          <Text size="sm">
            Turn on “Attach Travel Rule data” and use “Fill from the registry”
            {threshold?.formatted ? ` (required at or above ${text(threshold.formatted)})` : ''}.
          </Text>
        ),
      };
    }
    case 'AMOUNT_EXCEEDS_OPEN':
      return { title: 'Amount above what is open', message: error.body.message };
    case 'CONTRACT_NOT_ACTIVE':
      return {
        title: 'Contract not active',
        message: error.body.message,
        fix: (
          <Anchor component={Link} to="/trade/contracts">
            Open the contracts
          </Anchor>
        ),
      };
    default:
      return null;
  }
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

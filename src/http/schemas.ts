import { z } from 'zod';
import { MAX_MONEY } from '../kernel';
import { errorResponseSchema } from './errors';

/** Error responses every authenticated route can give, for the OpenAPI document. */
export const commonErrors = {
  400: errorResponseSchema,
  401: errorResponseSchema,
  403: errorResponseSchema,
  404: errorResponseSchema,
  429: errorResponseSchema,
} as const;

export const idParam = (prefix: string) =>
  z.object({
    id: z
      .string()
      .regex(new RegExp(`^${prefix}_[0-9A-HJKMNP-TV-Z]{26}$`), `must be an id like ${prefix}_01J…`),
  });

export const dateTime = z.iso.datetime();

/** A stored JSON value as a response object: the object itself, or null for anything else. */
export function jsonObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? { ...(value as Record<string, unknown>) }
    : null;
}

/**
 * An amount of sats (or a fee rate in sat/kvB) as a decimal string, at most the 21 million BTC
 * supply: a larger value is no amount, and one past 2^63 would not even fit the bigint column.
 */
export const satsString = z
  .string()
  .regex(/^\d{1,16}$/, 'must be an integer number of sats as a string')
  // zod runs every check even after the pattern failed: only digits are parsed here.
  .refine((value) => !/^\d{1,16}$/.test(value) || BigInt(value) <= MAX_MONEY, {
    message: `must be at most ${MAX_MONEY} sats (the 21 million BTC supply)`,
  });

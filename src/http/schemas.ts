import { z } from 'zod';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, MAX_SEARCH_LENGTH } from '../db';
import { ivms101Schema, MAX_MONEY } from '../kernel';
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

/**
 * A list's search (`q`): what a picker typed, 1 to MAX_SEARCH_LENGTH characters; the list keeps
 * the rows whose name (or description) starts with it, whatever its case.
 */
export const searchQuery = z
  .string()
  .min(1, 'must not be empty (leave q out to list everything)')
  .max(MAX_SEARCH_LENGTH, `must be at most ${MAX_SEARCH_LENGTH} characters`)
  .optional();

/**
 * A name lookup (`ids`, `participantIds`): at most MAX_PAGE_SIZE ids of one kind (`prefix_`, then
 * at most 60 letters, digits or _), separated by commas; the list keeps those the caller may see.
 */
export function idListQuery(prefix: string, description: string) {
  const pattern = new RegExp(`^${prefix}_[A-Za-z0-9_]{1,60}$`);
  return z
    .string()
    .max(MAX_PAGE_SIZE * (prefix.length + 62))
    .transform((value, context) => {
      const ids = [...new Set(value.split(','))];
      if (ids.length > MAX_PAGE_SIZE || ids.some((id) => !pattern.test(id))) {
        context.addIssue({
          code: 'custom',
          message: `must be at most ${MAX_PAGE_SIZE} ids (${prefix}_…), separated by commas`,
        });
        return z.NEVER;
      }
      return ids;
    })
    .optional()
    .describe(description);
}

/** The query of a paged list: `limit` rows (default 50, at most 500) after `cursor`. */
export const pageQuery = {
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(MAX_PAGE_SIZE)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `rows per page, 1 to ${MAX_PAGE_SIZE} (default ${DEFAULT_PAGE_SIZE})` }),
  cursor: z
    .string()
    .max(200)
    .optional()
    .meta({ description: "the previous page's nextCursor, unchanged; absent for the first page" }),
};

const pages = new WeakMap<z.ZodType, z.ZodType>();

/**
 * A page of a list, newest first; `nextCursor` is null on the last page. A named item makes a
 * named page (`Alert` → `AlertPage`) in the API docs; each item has one page schema.
 */
export function pageSchema<T extends z.ZodType>(item: T) {
  const known = pages.get(item);
  if (known) return known as ReturnType<typeof newPageSchema<T>>;
  const page = newPageSchema(item);
  pages.set(item, page);
  return page;
}

function newPageSchema<T extends z.ZodType>(item: T) {
  const id = z.globalRegistry.get(item)?.id;
  const page = z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .meta({ description: 'pass as `cursor` for the next page; null when this is the last' }),
  });
  return id ? page.meta({ id: `${id}Page`, description: `A page of ${id} items` }) : page;
}

/**
 * The `Idempotency-Key` header of a creating POST (Stripe's convention): a retry with the same
 * key and body answers 200 with what the first request created (`Idempotent-Replayed: true`)
 * and creates nothing; the same key with another body is refused (422 IDEMPOTENCY_KEY_REUSED).
 */
export const idempotencyHeaders = z.object({
  'idempotency-key': z.string().optional().meta({
    description:
      'A unique key per request (e.g. a UUID, 1–255 printable characters). Retries with the same key and body return the first response and create nothing; the same key with another body is refused (422 IDEMPOTENCY_KEY_REUSED).',
  }),
});

/** The IVMS101 payload as a named schema of the API docs (what `travelRule` refers to). */
export const IVMS101_COMPONENT = ivms101Schema.meta({
  id: 'Ivms101Payload',
  description:
    'An IVMS101 (interVASP Messaging Standard, 2020) payload: originator, beneficiary, the originating and beneficiary VASPs',
});

/**
 * A Travel Rule payload. The API takes any JSON object and stores it as sent; the compliance gate
 * checks it against IVMS101 (structure and constraints C1–C12), and one that fails does not count
 * as Travel Rule data. The docs show the IVMS101 schema it should satisfy.
 */
export function travelRuleObject(description: string) {
  return z.record(z.string(), z.unknown()).meta({
    allOf: [{ $ref: '#/components/schemas/Ivms101Payload' }],
    description: `${description}: an IVMS101 payload (Ivms101Payload); the compliance gate checks it against IVMS101 (structure and constraints C1–C12), and one that fails does not count as Travel Rule data`,
  });
}

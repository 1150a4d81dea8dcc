import { z } from 'zod';
import { formatRate } from '../../kernel';
import type { FixingSettings, FixingView } from '../../ledger';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';

const currencyCode = z.string().regex(/^[A-Z]{3}$/, 'must be an ISO 4217 code like "USD"');
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be YYYY-MM-DD');

const fixingSchema = z
  .object({
    id: z.string(),
    quote: z.string(),
    date: z.string().meta({ description: 'the cut-off date (UTC)' }),
    version: z.number().int().meta({ description: '1, then one more for each correction' }),
    rate: z.string().meta({ description: 'price of 1 BTC in the quote currency, exact decimal' }),
    method: z.string(),
    sources: z.array(
      z.object({
        name: z.string(),
        rate: z.string().nullable(),
        used: z.boolean(),
        reason: z
          .string()
          .optional()
          .meta({ description: 'why not used: no quote, failed, or an outlier' }),
        deviationBps: z.number().int().optional(),
        at: z.string().optional(),
      }),
    ),
    settingsVersion: z.number().int(),
    minSources: z.number().int(),
    maxDeviationBps: z.number().int(),
    publishedBy: z.string(),
    publishedAt: z.string(),
    supersedes: z.string().nullable(),
    reason: z.string().nullable(),
    supersededBy: z.string().nullable(),
  })
  .meta({ id: 'RateFixing' });

const settingsSchema = z
  .object({
    version: z.number().int().meta({ description: '0 until the supervisor first sets the rule' }),
    cutoffTime: z.string(),
    currencies: z.array(z.string()),
    sources: z.array(z.string()),
    minSources: z.number().int(),
    maxDeviationBps: z.number().int(),
    singleSourceReason: z.string().nullable(),
    setBy: z.string().nullable(),
    setAt: z.string().nullable(),
    available: z
      .array(z.string())
      .meta({ description: 'the sources this deployment can ask (the manual desk among them)' }),
  })
  .meta({ id: 'RateFixingSettings' });

function presentFixing(f: FixingView): z.infer<typeof fixingSchema> {
  return {
    ...f,
    rate: formatRate(f.rate),
    sources: f.sources.map((s) => ({ ...s })),
    publishedAt: f.publishedAt.toISOString(),
  };
}

function presentSettings(
  s: FixingSettings,
  available: readonly string[],
): z.infer<typeof settingsSchema> {
  return {
    ...s,
    currencies: [...s.currencies],
    sources: [...s.sources],
    setAt: s.setAt?.toISOString() ?? null,
    available: [...available],
  };
}

/**
 * The reference rate (issue 13): fixings everyone authenticated reads; the supervisor publishes,
 * corrects and sets the rule.
 */
export function registerFixingRoutes(app: TypedApp, deps: AppDeps): void {
  const fixings = deps.services.rates.fixings;
  if (!fixings) return;

  app.get(
    '/v1/rates/fixings',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['rates'],
        summary: 'Published fixings of the reference rate, every version',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          quote: currencyCode.optional(),
          date: isoDate.optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(fixingSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { quote, date, limit, cursor } = request.query;
      const page = await fixings.list(
        { ...(quote ? { quote } : {}), ...(date ? { date } : {}) },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentFixing) };
    },
  );

  app.get(
    '/v1/rates/fixings/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['rates'],
        summary: 'One fixing with every source’s value and whether it was used',
        description: "One daily fixing with every source's value and whether it was used.",
        params: idParam('fix'),
        response: { 200: fixingSchema, ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      return presentFixing(await fixings.get(request.params.id));
    },
  );

  app.post(
    '/v1/rates/fixings',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['rates'],
        summary: "Publish today's fixing of a currency now (supervisor)",
        description:
          'The median of the configured sources after rejecting outliers. 409 ' +
          'FIXING_ALREADY_PUBLISHED when it exists; 422 FIXING_SOURCES_INSUFFICIENT (the attempt ' +
          'audited, no fixing written) when too few sources gave a usable quote.',
        body: z
          .object({
            quote: currencyCode,
            date: isoDate.optional().meta({ description: "today's date (UTC), the default" }),
          })
          .strict()
          .meta({ examples: [{ quote: 'USD', date: '2026-01-15' }] }),
        response: {
          201: fixingSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor']);
      return reply.status(201).send(presentFixing(await fixings.publish(caller, request.body)));
    },
  );

  app.post(
    '/v1/rates/fixings/:id/corrections',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['rates'],
        summary: 'Correct a fixing: a new version taken from the sources, with a reason',
        description:
          'Corrects a fixing: a new version taken from the sources again, with a reason. The earlier version stays for history.',
        params: idParam('fix'),
        body: z
          .object({ reason: z.string().min(10).max(500) })
          .strict()
          .meta({ examples: [{ reason: 'one source published a stale price at the cut-off' }] }),
        response: {
          201: fixingSchema,
          ...commonErrors,
          409: errorResponseSchema,
          422: errorResponseSchema,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['supervisor']);
      const corrected = await fixings.correct(caller, request.params.id, request.body);
      return reply.status(201).send(presentFixing(corrected));
    },
  );

  app.get(
    '/v1/rates/fixing-settings',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['rates'],
        summary: 'The fixing rule in force and the sources available',
        description:
          'The fixing rule in force (time of day, sources, minimum number) and the sources available.',
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      return presentSettings(await fixings.settings(), fixings.available);
    },
  );

  app.put(
    '/v1/rates/fixing-settings',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['rates'],
        summary: 'Set the fixing rule (supervisor): a new version, audited',
        description:
          'A rule of one usable source (minSources 1) needs `singleSource` with a reason, else ' +
          '422 FIXING_SINGLE_SOURCE_NOT_EXPLICIT.',
        body: z
          .object({
            cutoffTime: z
              .string()
              .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM')
              .meta({ description: 'the daily cut-off, UTC' }),
            currencies: z.array(currencyCode).max(20),
            sources: z.array(z.string().min(1).max(40)).min(1).max(20),
            minSources: z.number().int().min(1).max(20),
            maxDeviationBps: z.number().int().min(0).max(10_000),
            singleSource: z
              .object({ reason: z.string().min(10).max(500) })
              .strict()
              .nullable()
              .optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                cutoffTime: '16:00',
                currencies: ['USD', 'EUR'],
                sources: ['kraken', 'bitstamp', 'coinbase'],
                minSources: 2,
                maxDeviationBps: 200,
                singleSource: null,
              },
            ],
          }),
        response: { 200: settingsSchema, ...commonErrors, 422: errorResponseSchema },
      },
    },
    async (request) => {
      const caller = callerOf(request, ['supervisor']);
      return presentSettings(await fixings.setSettings(caller, request.body), fixings.available);
    },
  );
}

/**
 * The fixing each stored rate was taken from, as already read, per rate service (one per
 * database). A stored rate is never updated (its fixing is set when it is stored), so what was
 * read stays true; a rate not found is not remembered. Bounded: cleared when full.
 */
const knownFixingIds = new WeakMap<object, Map<string, string | null>>();
const MAX_KNOWN_RATES = 100_000;

/**
 * Views that carry a stored rate's id, each with the fixing that rate was taken from (null: the
 * live source): the rates not seen before are read in one query for the whole page, the others
 * are remembered (a page of invoices mostly shares a few rates; issue 12).
 */
export async function withFixingIds<T extends { readonly rateId: string }>(
  deps: AppDeps,
  items: readonly T[],
): Promise<(T & { fixingId: string | null })[]> {
  const rates = deps.services.rates;
  let known = knownFixingIds.get(rates);
  if (!known) knownFixingIds.set(rates, (known = new Map<string, string | null>()));
  const unknown = items.map((i) => i.rateId).filter((id) => !known.has(id));
  if (unknown.length > 0) {
    const read = await rates.fixingIdsOf(unknown);
    if (known.size + read.size > MAX_KNOWN_RATES) known.clear();
    for (const [id, fixingId] of read) known.set(id, fixingId);
  }
  return items.map((i) => ({ ...i, fixingId: known.get(i.rateId) ?? null }));
}

/** One view with its fixing id (see `withFixingIds`). */
export async function withFixingId<T extends { readonly rateId: string }>(
  deps: AppDeps,
  item: T,
): Promise<T & { fixingId: string | null }> {
  const [one] = await withFixingIds(deps, [item]);
  return one!;
}

import { z } from 'zod';
import { AppError, formatRate, parseRate } from '../../kernel';
import { FixedRateSource, type StoredRate } from '../../ledger';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema } from '../schemas';
import { registerFixingRoutes } from './fixings';

const rateSchema = z
  .object({
    id: z.string(),
    quote: z.string(),
    rate: z.string().meta({ description: 'price of 1 BTC in the quote currency, exact decimal' }),
    at: z.string(),
    method: z.string(),
    sources: z.array(
      z.object({
        name: z.string(),
        rate: z.string().nullable(),
        used: z.boolean(),
        reason: z.string().optional(),
      }),
    ),
    fixingId: z
      .string()
      .nullable()
      .meta({ description: 'the published fixing the rate was taken from; null: the live source' }),
  })
  .meta({ id: 'ExchangeRate' });

function presentRate(r: StoredRate): z.infer<typeof rateSchema> {
  return {
    id: r.id,
    quote: r.rate.quote,
    rate: formatRate(r.rate),
    at: r.at.toISOString(),
    method: r.method,
    sources: r.sources.map((s) => ({ ...s })),
    fixingId: r.fixingId,
  };
}

export function registerRatesRoutes(app: TypedApp, deps: AppDeps): void {
  const rates = deps.services.rates;
  registerFixingRoutes(app, deps);

  app.get(
    '/v1/rates',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['rates'],
        summary: 'Rates used so far (every rate used is stored with its sources)',
        querystring: z.object({ quote: z.string().length(3).optional(), ...pageQuery }),
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        response: { 200: pageSchema(rateSchema), ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      const { quote, limit, cursor } = request.query;
      const page = await rates.list(quote, { limit, cursor: cursor ?? null });
      return { ...page, items: page.items.map(presentRate) };
    },
  );

  app.get(
    '/v1/rates/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['rates'],
        summary: 'One stored rate with its sources',
        description: 'One stored rate with its sources.',
        params: idParam('rat'),
        response: { 200: rateSchema, ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      return presentRate(await rates.get(request.params.id));
    },
  );

  app.put(
    '/v1/rates/manual/:quote',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['rates'],
        summary:
          "Set (or clear, with null) the manual desk's rate, for demos and simnet (supervisor)",
        description:
          "Sets (or clears, with null) the manual desk's rate for a quote currency. Meant for demos and simnet.",
        params: z.object({ quote: z.string().length(3) }),
        body: z
          .object({ rate: z.string().max(40).nullable() })
          .strict()
          .meta({ examples: [{ rate: '97250.00' }] }),
        response: { 204: z.null(), ...commonErrors },
      },
    },
    async (request, reply) => {
      callerOf(request, ['supervisor']);
      if (!(rates.source instanceof FixedRateSource)) {
        throw new AppError('CONFLICT', 'the configured rate source is not the manual desk');
      }
      if (request.body.rate !== null) parseRate(request.body.rate, request.params.quote, 'rate');
      rates.source.set(request.params.quote, request.body.rate);
      return reply.status(204).send(null);
    },
  );
}

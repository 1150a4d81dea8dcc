import { z } from 'zod';
import { ROLES } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

const homeSchema = z
  .object({
    role: z.enum(ROLES),
    generatedAt: z.string(),
    figures: z.array(
      z.object({
        key: z.string(),
        label: z.string(),
        value: z.string(),
        unit: z.enum(['count', 'sats', 'fiat', 'text']),
        currency: z.string().nullable(),
        attention: z.boolean(),
        href: z.string().nullable(),
      }),
    ),
    queues: z.array(
      z.object({
        key: z.string(),
        title: z.string(),
        total: z.number().int(),
        href: z.string(),
        empty: z.string(),
        items: z.array(
          z.object({
            id: z.string(),
            title: z.string(),
            detail: z.string(),
            at: z.string().nullable(),
            sats: z.string().nullable(),
            fiatMinor: z.string().nullable(),
            currency: z.string().nullable(),
            badge: z.string().nullable(),
            href: z.string(),
          }),
        ),
      }),
    ),
  })
  .meta({ id: 'Home' });

export function registerHomeRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/home',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['oversight'],
        summary:
          "The caller's home page: figures and short work queues of its role, within its tenancy",
        description:
          'Every role has one: the supervisor (today’s blocks, gate refusals, open cases by severity and age, ban violations, licences expiring), a platform officer (payouts awaiting the caller’s approval, KYC reviews due, screening hits, batches in flight), a company (invoices and payouts by state, contract balances), a miner (output by month, lots, violations), an auditor (the audit chain’s head, recent supervisor actions). Each queue holds its first few items; `total` counts them all and `href` opens the full list.',
        response: { 200: homeSchema, ...commonErrors },
      },
    },
    async (request) => deps.services.oversight.home(callerOf(request)),
  );
}

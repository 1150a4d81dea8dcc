import { z } from 'zod';
import { formatMoneyForPeople, money } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, pageQuery, pageSchema } from '../schemas';

const messageSchema = z
  .object({
    id: z.string(),
    transferId: z.string(),
    decisionId: z.string(),
    fromPlatformId: z.string(),
    toPlatformId: z.string(),
    /** The IVMS101 payload as the originating platform sent it (validated by the gate). */
    payload: z.record(z.string(), z.unknown()),
    createdAt: z.string(),
  })
  .meta({ id: 'TravelRuleMessage' });

const thresholdSchema = z
  .object({
    minor: z.string().meta({ description: 'in minor units of the currency (cents); "0": always' }),
    currency: z.string().meta({ description: 'ISO 4217' }),
    formatted: z.string().meta({ description: 'for people, e.g. "USD 1,000.00"' }),
  })
  .meta({ id: 'TravelRuleThreshold' });

/** Who makes or oversees transfers: the roles whose forms show the Travel Rule section. */
const THRESHOLD_READERS = ['supervisor', 'platform', 'company', 'auditor'] as const;

export function registerTravelRuleRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/travel-rule/threshold',
    {
      config: { roles: [...THRESHOLD_READERS] },
      schema: {
        tags: ['compliance'],
        summary: 'The Travel Rule threshold: IVMS101 data is required at or above it (FATF R.16)',
        description:
          "The value at or above which an invoice or payout must carry IVMS101 originator and beneficiary data (FATF Recommendation 16). A transfer in another currency than the threshold's needs the data at any amount. Forms read it to ask for the data before sending; the policy gate decides all the same.",
        response: { 200: thresholdSchema, ...commonErrors },
      },
    },
    (request) => {
      callerOf(request, [...THRESHOLD_READERS]);
      const threshold = deps.services.compliance.gate.travelRuleThreshold;
      const value = money(threshold.minor, threshold.currency);
      return {
        minor: value.minor.toString(),
        currency: value.currency,
        formatted: formatMoneyForPeople(value),
      };
    },
  );

  app.get(
    '/v1/travel-rule/inbox',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags: ['compliance'],
        summary:
          'IVMS101 Travel Rule data other platforms of the scheme sent to the calling beneficiary platform (the supervisor and auditor see all)',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object(pageQuery),
        response: { 200: pageSchema(messageSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query;
      const page = await deps.services.compliance.decisions.travelRuleInbox(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: page.items.map((m) => ({
          ...m,
          payload: { ...m.payload },
          createdAt: m.createdAt.toISOString(),
        })),
      };
    },
  );
}

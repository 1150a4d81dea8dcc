import { z } from 'zod';
import { LOOP_VALUED_STAGES, type LoopReport } from '../../clearing';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors } from '../schemas';

/** The loop report: mined → cleared → sold → netted → paid abroad over a period. */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });
const minor = z.string().meta({ description: 'minor units of the currency, as a decimal string' });
const moment = z
  .union([z.iso.date(), z.iso.datetime({ offset: true })])
  .meta({ description: 'a date (YYYY-MM-DD, midnight UTC) or an ISO 8601 date-time' });

const amount = z.object({ count: z.number(), sats });
const dealGroup = { deals: z.number(), sats };
const partnerFigures = {
  payouts: z.number(),
  sats,
  clearedSats: sats.meta({
    description: 'of sats, paid with coins of cleared or released mined lots (pro rata per batch)',
  }),
  clearedShareBasisPoints: z.number(),
};

const windowSchema = z
  .object({
    id: z.string(),
    sequence: z.number(),
    status: z.string(),
    opensAt: z.string(),
    closedAt: z.string().nullable(),
    payInDeadline: z.string().nullable(),
    settledAt: z.string().nullable(),
    valuation: z
      .object({
        currency: z.string().nullable(),
        rate: z.string().nullable(),
        fixingId: z.string().nullable().meta({
          description: "null: the live source's rate, before the cut-off day's fixing",
        }),
        unavailableReason: z.string().nullable(),
      })
      .nullable()
      .meta({ description: 'the rate the nets were valued at when the window closed' }),
    assets: z.array(
      z.object({
        asset: z.string(),
        obligations: z.number(),
        dealObligations: z.number(),
        gross: z.string().meta({ description: 'sats or minor units' }),
        net: z.string(),
        netValueMinor: z.string().nullable().meta({
          description: "net in the window's valuation currency, minor units (null: none)",
        }),
        unpaid: z.string(),
        unpaidPayIns: z.number(),
        paidIn: z.string(),
        paidOut: z.string(),
        takenOut: z.number(),
      }),
    ),
  })
  .meta({ id: 'LoopWindow' });

const traceSchema = z
  .object({
    dealId: z.string(),
    status: z.string(),
    createdAt: z.string(),
    offerId: z.string(),
    lotId: z.string(),
    lotHeight: z.number().nullable(),
    lotClearance: z.string().nullable(),
    minerId: z.string(),
    companyId: z.string(),
    contractId: z.string(),
    minerPlatformId: z.string(),
    importerPlatformId: z.string(),
    amountSats: sats,
    deliveredSats: sats.nullable(),
    currency: z.string(),
    fiatMinor: minor,
    fixingId: z.string().nullable(),
    dealRate: z.string(),
    deliveryTxid: z.string().nullable(),
    deliveryVout: z.number().nullable(),
    windowIds: z.array(z.string()),
    batchId: z.string().nullable(),
    spentByTxid: z.string().nullable(),
    payoutIds: z.array(z.string()),
  })
  .meta({ id: 'LoopTrace' });

const loopSchema = z
  .object({
    from: z.string(),
    to: z.string(),
    mined: z.object({
      lots: z.number(),
      sats,
      miners: z.number(),
      byMonthRegion: z.array(
        z.object({
          month: z.string().meta({ description: 'YYYY-MM (UTC) of the blocks' }),
          regionCode: z.string(),
          lots: z.number(),
          sats,
          cleared: amount,
          quarantined: amount,
          released: amount,
        }),
      ),
    }),
    clearance: z.object({
      cleared: amount,
      quarantined: amount,
      released: amount,
      offers: z.number(),
      offeredSats: sats,
    }),
    sold: z.object({
      deals: z.number(),
      sats,
      deliveredSats: sats,
      feeSats: sats,
      byStatus: z.array(z.object({ status: z.string(), ...dealGroup })),
      routes: z.array(
        z.object({
          minerPlatformId: z.string(),
          importerPlatformId: z.string(),
          crossPlatform: z.boolean(),
          ...dealGroup,
        }),
      ),
      fixings: z.array(
        z.object({
          fixingId: z.string().nullable().meta({
            description: "null: deals valued at the live source's rate, before the day's fixing",
          }),
          quote: z.string().nullable(),
          date: z.string().nullable(),
          version: z.number().nullable(),
          referenceRate: z.string(),
          ...dealGroup,
        }),
      ),
      currencies: z.array(z.object({ currency: z.string(), deals: z.number(), fiatMinor: minor })),
    }),
    netted: z.object({
      windows: z.array(windowSchema),
      totals: z.array(
        z.object({ asset: z.string(), gross: z.string(), net: z.string(), unpaid: z.string() }),
      ),
    }),
    paidAbroad: z.object({
      deliveredCoins: z.number(),
      deliveredSats: sats,
      spentSats: sats,
      reservedSats: sats,
      unspentSats: sats,
      payouts: z.number(),
      payoutSats: sats,
      completedPayouts: z.number(),
      completedSats: sats,
      originRefusedPayouts: z.number(),
      rule: z
        .object({ version: z.number(), thresholdBasisPoints: z.number().nullable() })
        .nullable(),
      byPartner: z.array(
        z.object({
          country: z.string().meta({ description: "the supplier's country (ISO 3166-1 alpha-2)" }),
          hsChapter: z.string().meta({ description: "the contract's HS chapter (two digits)" }),
          ...partnerFigures,
        }),
      ),
      settled: z.object(partnerFigures),
    }),
    trace: z.array(traceSchema),
    traceTruncated: z.boolean(),
    stuck: z.object({
      quarantinedLots: z.number(),
      heldDeals: z.number(),
      unsettledDeals: z.number(),
      unpaidWindows: z.number(),
      items: z.array(
        z.object({
          kind: z.enum(['quarantinedLot', 'deal', 'heldPayIn']).meta({
            description:
              'heldPayIn: a settlement window bitcoin pay-in held by address screening (the party is the paying platform)',
          }),
          id: z.string(),
          partyId: z.string(),
          sats,
          detail: z.string(),
          at: z.string(),
        }),
      ),
    }),
    valuations: z
      .array(
        z.object({
          currency: z.string(),
          stages: z.array(
            z.object({
              stage: z.enum(LOOP_VALUED_STAGES),
              sats,
              valuedSats: sats.meta({ description: 'of sats, on days with a fixing' }),
              valueMinor: minor,
              unvaluedDays: z.array(z.string()).meta({
                description: 'days (UTC) without a fixing of the currency: their sats unvalued',
              }),
              fixingIds: z.array(z.string()),
            }),
          ),
        }),
      )
      .meta({
        description:
          "the mined lots by clearance and the deals' sats at the fixing of their day (UTC), in every currency fixed on those days",
      }),
    fixings: z
      .array(
        z.object({
          fixingId: z.string(),
          quote: z.string(),
          date: z.string(),
          version: z.number(),
          usedBy: z.array(z.enum(['deals', 'windows', 'stages'])),
        }),
      )
      .meta({
        description: "every published fixing the deals, windows and stages' valuations used",
      }),
    names: z.record(z.string(), z.string()),
  })
  .meta({ id: 'ClearingLoop' });

/** Every bigint as a decimal string, every date as ISO 8601, recursively. */
function jsonOf(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(jsonOf);
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, jsonOf(v)]));
  return value;
}

/** The report as JSON (the API's response and the CLI's `--json`). */
export function presentLoop(report: LoopReport): z.infer<typeof loopSchema> {
  return jsonOf(report) as z.infer<typeof loopSchema>;
}

export type LoopJson = z.infer<typeof loopSchema>;

export function registerClearingLoopRoutes(app: TypedApp, deps: AppDeps): void {
  app.get(
    '/v1/clearing/loop',
    {
      config: { roles: ['supervisor', 'auditor'] },
      schema: {
        tags: ['clearing'],
        summary:
          'The loop of mined coins over a period (supervisor, auditors): mined → cleared → sold → netted → paid abroad',
        description:
          'Lots by block time (also by month and region), deals by match time, the windows the period overlaps, the payouts spending the coins the deals delivered, and every payout abroad settled in the period by partner country and HS chapter with the cleared share of its coins; each deal traced (newest 100), and what is stuck where. `to` is exclusive.',
        querystring: z.object({ from: moment, to: moment }),
        response: { 200: loopSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentLoop(
        await deps.services.clearing.loop(callerOf(request, ['supervisor', 'auditor']), {
          from: new Date(request.query.from),
          to: new Date(request.query.to),
        }),
      ),
  );
}

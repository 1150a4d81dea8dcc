import { z } from 'zod';
import {
  CONTRACT_STATUSES,
  INCOTERMS,
  type ContractView,
  type FloorsPatch,
  type SettingsFloors,
  type SettingsPatch,
  type TradeSettings,
} from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { callerOf, WRITERS } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema, satsString, searchQuery } from '../schemas';

/** Trade contracts (draft → submitted → approved → active → settled / cancelled / disputed) and trade settings. */

const contractSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    counterpartyId: z.string(),
    direction: z.enum(['export', 'import']),
    goodsDescription: z.string(),
    hsCode: z.string(),
    incoterm: z.string(),
    currency: z.string(),
    amount: z.string(),
    pricingMode: z.enum(['fixedBtc', 'fiat']),
    btcAmountSats: z.string().nullable(),
    customsDeclarationRef: z.string().nullable(),
    status: z.enum(CONTRACT_STATUSES),
    supervisorApproval: z.enum(['notRequired', 'pending', 'granted']),
    unit: z.string().meta({
      description: "'BTC' (amounts in sats) for fixedBtc, else the currency (minor units)",
    }),
    totalAmount: z.string(),
    settledAmount: z.string(),
    reservedAmount: z.string(),
    openAmount: z.string(),
    schedule: z.array(z.object({ seq: z.number(), dueDate: z.string(), amount: z.string() })),
    createdBy: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Contract' });

export function presentContract(c: ContractView): z.infer<typeof contractSchema> {
  return {
    ...c,
    btcAmountSats: c.btcAmountSats?.toString() ?? null,
    totalAmount: c.totalAmount.toString(),
    settledAmount: c.settledAmount.toString(),
    reservedAmount: c.reservedAmount.toString(),
    openAmount: c.openAmount.toString(),
    schedule: c.schedule.map((s) => ({ ...s, amount: s.amount.toString() })),
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  };
}

const settingsSchema = z
  .object({
    confirmations: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(6)]),
    invoiceValiditySeconds: z.number().int(),
    latePaymentWindowSeconds: z.number().int(),
    toleranceBps: z.number().int(),
    quorumThresholdSats: satsString,
    approvalsAbove: z.number().int(),
    approvalsBelow: z.number().int(),
    batchWindowSeconds: z.number().int(),
    feeFloorSatPerKvB: satsString,
    feeCapSatPerKvB: satsString,
    feeTargetBlocks: z.number().int(),
    rbfAfterBlocks: z.number().int(),
    supervisorThresholds: z.record(z.string(), satsString),
    webhookUrl: z.string().nullable(),
    webhookSecretSet: z.boolean(),
  })
  .meta({ id: 'TradeSettings' });

function presentSettings(s: TradeSettings): z.infer<typeof settingsSchema> {
  return {
    confirmations: s.confirmations,
    invoiceValiditySeconds: s.invoiceValiditySeconds,
    latePaymentWindowSeconds: s.latePaymentWindowSeconds,
    toleranceBps: s.toleranceBps,
    quorumThresholdSats: s.quorumThresholdSats.toString(),
    approvalsAbove: s.approvalsAbove,
    approvalsBelow: s.approvalsBelow,
    batchWindowSeconds: s.batchWindowSeconds,
    feeFloorSatPerKvB: s.feeFloorSatPerKvB.toString(),
    feeCapSatPerKvB: s.feeCapSatPerKvB.toString(),
    feeTargetBlocks: s.feeTargetBlocks,
    rbfAfterBlocks: s.rbfAfterBlocks,
    supervisorThresholds: Object.fromEntries(
      Object.entries(s.supervisorThresholds).map(([k, v]) => [k, v.toString()]),
    ),
    webhookUrl: s.webhookUrl,
    webhookSecretSet: s.webhookSecret !== null,
  };
}

const floorsSchema = z
  .object({
    minApprovalsAbove: z.number().int(),
    minApprovalsBelow: z.number().int(),
    maxQuorumThresholdSats: satsString,
    minConfirmations: z.union([z.literal(0), z.literal(1), z.literal(2), z.literal(6)]),
  })
  .meta({ id: 'TradeSettingsFloors' });

function presentFloors(f: SettingsFloors): z.infer<typeof floorsSchema> {
  return { ...f, maxQuorumThresholdSats: f.maxQuorumThresholdSats.toString() };
}

const platformParam = z.object({
  platformId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});

const CONTRACT_ACTIONS = ['submit', 'approve', 'activate', 'cancel', 'dispute', 'resume'] as const;

const ACTION_DESCRIPTIONS: Record<(typeof CONTRACT_ACTIONS)[number], string> = {
  submit:
    'Submits a draft contract for approval (draft → submitted); the compliance gate screens it.',
  approve:
    "Approves a submitted contract (submitted → approved): a person who neither created nor submitted it (four eyes). Above the scheme's threshold the supervisor approves as well.",
  activate:
    "Activates an approved contract (approved → active), above the threshold only after the supervisor's approval. Invoices (export) or payouts (import) can then be made against it.",
  cancel:
    'Cancels a draft, submitted, approved or active contract; an active one only while no payment is in flight or settled (dispute it instead).',
  dispute: 'Marks an active contract as disputed (active → disputed).',
  resume: 'Resumes a disputed contract (disputed → active).',
};

export function registerContractsRoutes(app: TypedApp, deps: AppDeps): void {
  const trade = deps.services.trade;

  app.post(
    '/v1/contracts',
    {
      config: { roles: ['company', 'platform'] },
      schema: {
        tags: ['trade'],
        summary: 'Register a foreign-trade contract (draft)',
        description:
          'Registers a foreign-trade contract as a draft: direction, counterparty, goods (HS code), incoterm, amount and currency. Invoices and payouts are made against it once active.',
        body: z
          .object({
            companyId: z.string().min(1).max(64).optional(),
            counterpartyId: z.string().min(1).max(64),
            direction: z.enum(['export', 'import']),
            goodsDescription: z.string().trim().min(1).max(2000),
            hsCode: z.string().regex(/^\d{6}$/, 'must be a 6-digit HS code'),
            incoterm: z.enum(INCOTERMS),
            currency: z.string().length(3),
            amount: z.string().max(40),
            pricingMode: z.enum(['fixedBtc', 'fiat']),
            btcAmountSats: satsString.optional(),
            schedule: z
              .array(z.object({ dueDate: z.string(), amount: z.string().max(40) }).strict())
              .min(1)
              .max(120),
            customsDeclarationRef: z.string().max(100).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                counterpartyId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Z',
                direction: 'export',
                goodsDescription: 'green coffee beans, 20 t',
                hsCode: '090111',
                incoterm: 'FOB',
                currency: 'USD',
                amount: '84000.00',
                pricingMode: 'fiat',
                schedule: [
                  { dueDate: '2026-03-31', amount: '42000.00' },
                  { dueDate: '2026-06-30', amount: '42000.00' },
                ],
                customsDeclarationRef: null,
              },
            ],
          }),
        response: { 201: contractSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const created = await trade.contracts.create(
        callerOf(request, ['company', 'platform']),
        request.body,
      );
      return reply.status(201).send(presentContract(created));
    },
  );

  app.get(
    '/v1/contracts',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'Contracts visible to the caller',
        querystring: z.object({
          status: z.enum(CONTRACT_STATUSES).optional(),
          companyId: z.string().max(64).optional(),
          direction: z.enum(['export', 'import']).optional(),
          q: searchQuery.describe(
            "a prefix of the goods description, whatever its case: a picker's search",
          ),
          ...pageQuery,
        }),
        description:
          'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next. `q` keeps the contracts whose goods description starts with it (pickers search rather than read every page).',
        response: { 200: pageSchema(contractSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, companyId, direction, q, limit, cursor } = request.query;
      const filter = {
        ...(status ? { status } : {}),
        ...(companyId ? { companyId } : {}),
        ...(direction ? { direction } : {}),
        ...(q ? { q } : {}),
      };
      const page = await trade.contracts.list(callerOf(request), filter, {
        limit,
        cursor: cursor ?? null,
      });
      return { ...page, items: page.items.map(presentContract) };
    },
  );

  app.get(
    '/v1/contracts/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'One contract, with its open amount',
        description:
          'One contract with its state, history and the amount still open for invoices or payouts.',
        params: idParam('ctr'),
        response: { 200: contractSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentContract(await trade.contracts.get(callerOf(request), request.params.id)),
  );

  for (const action of CONTRACT_ACTIONS) {
    app.post(
      `/v1/contracts/:id/${action}`,
      {
        config: { roles: WRITERS },
        schema: {
          tags: ['trade'],
          summary:
            action === 'approve'
              ? "Approve a contract (its platform; the supervisor above the scheme's threshold)"
              : `${action[0]!.toUpperCase()}${action.slice(1)} a contract`,
          description: ACTION_DESCRIPTIONS[action],
          params: idParam('ctr'),
          response: { 200: contractSchema, ...commonErrors },
        },
      },
      async (request) =>
        presentContract(
          await trade.contracts.transition(callerOf(request, WRITERS), request.params.id, action),
        ),
    );
  }

  app.get(
    '/v1/trade/settings/:platformId',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: "A platform's trade settings",
        description:
          "A platform's trade settings: confirmations required, approval quorum, batching, fees and webhook.",
        params: platformParam,
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentSettings(await trade.settings(callerOf(request), request.params.platformId)),
  );

  app.put(
    '/v1/trade/settings/:platformId',
    {
      config: { roles: WRITERS },
      schema: {
        tags: ['trade'],
        summary:
          "Change a platform's trade settings (confirmations, quorum, batching, fees, webhook)",
        description:
          "Changes a platform's trade settings. None may go below the scheme's floors. Audited.",
        params: platformParam,
        body: z
          .object({
            confirmations: z
              .union([z.literal(0), z.literal(1), z.literal(2), z.literal(6)])
              .optional(),
            invoiceValiditySeconds: z.number().int().min(60).optional(),
            latePaymentWindowSeconds: z.number().int().min(0).optional(),
            toleranceBps: z.number().int().min(0).max(10_000).optional(),
            quorumThresholdSats: satsString.optional(),
            approvalsAbove: z.number().int().min(1).max(20).optional(),
            approvalsBelow: z.number().int().min(1).max(20).optional(),
            batchWindowSeconds: z.number().int().min(0).optional(),
            feeFloorSatPerKvB: satsString.optional(),
            feeCapSatPerKvB: satsString.optional(),
            feeTargetBlocks: z.number().int().min(1).max(1008).optional(),
            rbfAfterBlocks: z.number().int().min(1).optional(),
            supervisorThresholds: z.record(z.string(), satsString).optional(),
            webhookUrl: z.url().nullable().optional(),
            webhookSecret: z.string().min(16).max(200).nullable().optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                confirmations: 2,
                approvalsAbove: 2,
                approvalsBelow: 1,
                quorumThresholdSats: '10000000',
                batchWindowSeconds: 600,
              },
            ],
          }),
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) => {
      const {
        quorumThresholdSats: _threshold,
        feeFloorSatPerKvB: _floor,
        feeCapSatPerKvB: _cap,
        supervisorThresholds: _thresholds,
        ...b
      } = request.body;
      const body = request.body;
      const patch: SettingsPatch = {
        ...b,
        ...(body.quorumThresholdSats !== undefined
          ? { quorumThresholdSats: BigInt(body.quorumThresholdSats) }
          : {}),
        ...(body.feeFloorSatPerKvB !== undefined
          ? { feeFloorSatPerKvB: BigInt(body.feeFloorSatPerKvB) }
          : {}),
        ...(body.feeCapSatPerKvB !== undefined
          ? { feeCapSatPerKvB: BigInt(body.feeCapSatPerKvB) }
          : {}),
        ...(body.supervisorThresholds !== undefined
          ? {
              supervisorThresholds: Object.fromEntries(
                Object.entries(body.supervisorThresholds).map(([k, v]) => [k, BigInt(v)]),
              ),
            }
          : {}),
      };
      const caller = callerOf(request, WRITERS);
      // Webhooks go to public https endpoints only (SSRF); checked again at each delivery.
      if (body.webhookUrl) await trade.webhooks.checkUrl(body.webhookUrl);
      return presentSettings(await trade.updateSettings(caller, request.params.platformId, patch));
    },
  );

  app.get(
    '/v1/trade/floors',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary:
          "The scheme's floors under every platform's trade settings (minimum approvals, maximum quorum threshold, minimum confirmations)",
        description:
          "The scheme's floors under every platform's trade settings: minimum approvals, maximum quorum threshold, minimum confirmations.",
        response: { 200: floorsSchema, ...commonErrors },
      },
    },
    async (request) => {
      callerOf(request);
      return presentFloors(await trade.floors());
    },
  );

  app.put(
    '/v1/trade/floors',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags: ['trade'],
        summary:
          "Change the scheme's floors (the supervisor only): platforms cannot set their settings below them",
        description:
          "Changes the scheme's floors; platforms cannot set their trade settings below them.",
        body: z
          .object({
            minApprovalsAbove: z.number().int().min(1).max(20).optional(),
            minApprovalsBelow: z.number().int().min(1).max(20).optional(),
            maxQuorumThresholdSats: satsString.optional(),
            minConfirmations: z
              .union([z.literal(0), z.literal(1), z.literal(2), z.literal(6)])
              .optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                minApprovalsAbove: 2,
                minApprovalsBelow: 1,
                maxQuorumThresholdSats: '100000000',
                minConfirmations: 1,
              },
            ],
          }),
        response: { 200: floorsSchema, ...commonErrors },
      },
    },
    async (request) => {
      const { maxQuorumThresholdSats, ...rest } = request.body;
      const patch: FloorsPatch = {
        ...rest,
        ...(maxQuorumThresholdSats !== undefined
          ? { maxQuorumThresholdSats: BigInt(maxQuorumThresholdSats) }
          : {}),
      };
      return presentFloors(await trade.updateFloors(callerOf(request, ['supervisor']), patch));
    },
  );
}

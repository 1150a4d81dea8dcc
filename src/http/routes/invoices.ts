import { z } from 'zod';
import { COMPLIANCE_STATUSES, discloseGate } from '../../compliance';
import type { Caller } from '../../kernel';
import { INVOICE_STATUSES, type InvoiceView } from '../../trade';
import type { AppDeps, TypedApp } from '../app';
import { withFixingId } from './fixings';
import { callerOf } from '../auth';
import { nameField, presentTransfers } from '../names';
import {
  commonErrors,
  idParam,
  jsonObject,
  pageQuery,
  pageSchema,
  idempotencyHeaders,
  travelRuleObject,
} from '../schemas';

/** Invoices (export side): BTCPay-like statuses, a fresh address, BIP21 URI and QR per invoice. */

export const invoiceSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    companyName: nameField,
    contractId: z.string(),
    counterpartyId: z.string(),
    counterpartyName: nameField,
    status: z.enum(INVOICE_STATUSES),
    additionalStatus: z.array(z.enum(['paidPartial', 'paidOver', 'paidLate'])),
    address: z.string(),
    amountSats: z.string(),
    amountBtc: z.string(),
    fiatMinor: z.string(),
    currency: z.string(),
    rateId: z.string(),
    fixingId: z
      .string()
      .nullable()
      .meta({ description: 'the published fixing the rate was taken from; null: the live source' }),
    paymentUri: z.string(),
    seenSats: z.string(),
    confirmedSats: z.string(),
    description: z.string(),
    expiresAt: z.string(),
    watchUntil: z.string(),
    createdAt: z.string(),
    updatedAt: z.string(),
    settlementId: z.string().nullable(),
    gateOutcome: z.enum(['allow', 'review', 'block']),
    gateDecisions: z.array(
      z.object({
        subject: z.string(),
        outcome: z.enum(['allow', 'review', 'block']),
        reasons: z.array(z.string()),
        decidedBy: z.string(),
        decisionId: z.string().nullable(),
        payerAddress: z.string().nullable(),
        at: z.string(),
        resolution: z.enum(['allow', 'block']).nullable(),
        disclosure: z.enum(['detail', 'outcome']).meta({
          description:
            'outcome: reasons empty and decidedBy "compliance" (the company: no tipping-off, FATF R.21)',
        }),
        status: z.enum(COMPLIANCE_STATUSES),
        reference: z.string().meta({ description: 'what to quote to the platform about it' }),
      }),
    ),
    payments: z.array(
      z.object({
        txid: z.string(),
        vout: z.number(),
        valueSats: z.string(),
        blockHash: z.string().nullable(),
        blockHeight: z.number().nullable(),
        signalsRbf: z.boolean(),
        late: z.boolean(),
      }),
    ),
    travelRule: travelRuleObject('the Travel Rule data supplied with it').nullable(),
  })
  .meta({ id: 'Invoice' });

/** An invoice as the caller may read it: its gate decisions through compliance's disclosure rule. */
export function presentInvoice(
  caller: Caller,
  i: InvoiceView & { fixingId: string | null },
): z.infer<typeof invoiceSchema> {
  return {
    ...i,
    additionalStatus: [...i.additionalStatus],
    amountSats: i.amountSats.toString(),
    fiatMinor: i.fiatMinor.toString(),
    seenSats: i.seenSats.toString(),
    confirmedSats: i.confirmedSats.toString(),
    expiresAt: i.expiresAt.toISOString(),
    watchUntil: i.watchUntil.toISOString(),
    createdAt: i.createdAt.toISOString(),
    updatedAt: i.updatedAt.toISOString(),
    payments: i.payments.map((p) => ({ ...p, valueSats: p.valueSats.toString() })),
    gateDecisions: i.gateDecisions.map((d) => discloseGate(caller, i, d, i.id)),
    travelRule: jsonObject(i.travelRule),
  };
}

export function registerInvoicesRoutes(app: TypedApp, deps: AppDeps): void {
  const invoices = deps.services.trade.invoices;

  app.post(
    '/v1/invoices',
    {
      config: { roles: ['company', 'platform'] },
      schema: {
        tags: ['trade'],
        summary:
          'Issue an invoice against an active export contract (RATE_UNAVAILABLE when no rate)',
        description:
          "Issues an invoice against an active export contract: a receive address of the company's wallet and the amount in sats at the current rate (RATE_UNAVAILABLE without one). Takes an Idempotency-Key.",
        body: z
          .object({
            contractId: z.string().regex(/^ctr_[0-9A-HJKMNP-TV-Z]{26}$/),
            amount: z.string().max(40).meta({
              description: 'sats for a fixedBtc contract, else a decimal in the contract currency',
            }),
            description: z.string().max(500).optional(),
            validitySeconds: z
              .number()
              .int()
              .min(60)
              .max(7 * 86_400)
              .optional(),
            travelRule: travelRuleObject('The originator and beneficiary (Travel Rule)').optional(),
          })
          .strict()
          .meta({
            examples: [
              {
                contractId: 'ctr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                amount: '42000.00',
                description: 'first instalment, B/L HLCU1234567',
                validitySeconds: 3600,
              },
            ],
          }),
        headers: idempotencyHeaders,
        response: { 200: invoiceSchema, 201: invoiceSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request, ['company', 'platform']);
      const { invoice, replayed } = await invoices.createOnce(
        caller,
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) void reply.header('idempotent-replayed', 'true');
      return reply
        .status(replayed ? 200 : 201)
        .send(presentInvoice(caller, await withFixingId(deps, invoice)));
    },
  );

  app.get(
    '/v1/invoices',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'Invoices visible to the caller',
        description: 'Newest first, a page at a time: pass `nextCursor` as `cursor` for the next.',
        querystring: z.object({
          status: z.enum(INVOICE_STATUSES).optional(),
          contractId: z.string().max(64).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(invoiceSchema), ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const { status, contractId, limit, cursor } = request.query;
      const page = await invoices.list(
        caller,
        { ...(status ? { status } : {}), ...(contractId ? { contractId } : {}) },
        { limit, cursor: cursor ?? null },
      );
      return {
        ...page,
        items: await presentTransfers(deps, page.items, (i) => presentInvoice(caller, i)),
      };
    },
  );

  app.get(
    '/v1/invoices/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags: ['trade'],
        summary: 'One invoice with its payments',
        description: 'One invoice with its payments and settlement state.',
        params: idParam('inv'),
        response: { 200: invoiceSchema, ...commonErrors },
      },
    },
    async (request) => {
      const caller = callerOf(request);
      const invoice = await invoices.get(caller, request.params.id);
      const [one] = await presentTransfers(deps, [invoice], (i) => presentInvoice(caller, i));
      return one!;
    },
  );
}

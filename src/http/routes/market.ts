import { z } from 'zod';
import {
  BID_STATUSES,
  DEAL_STATUSES,
  OFFER_STATUSES,
  type BankConfirmationView,
  type BidView,
  type DealView,
  type MarketSettingsView,
  type OfferView,
} from '../../clearing';
import { formatBtc } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { errorResponseSchema } from '../errors';
import { commonErrors, idParam, pageQuery, pageSchema, satsString } from '../schemas';

/**
 * The domestic market for cleared coins: the platform's settings, miners' offers (with their
 * escrow deposit), importers' bids, deals matched by the platform and the confirmation of their
 * fiat leg (one at a time, or a bank's confirmation file).
 */

const sats = z.string().meta({ description: 'satoshis, as a decimal string' });
const participantId = z.string().regex(/^par_[0-9A-HJKMNP-TV-Z]{26}$/, 'must be a participant id');
const conflicts = { ...commonErrors, 409: errorResponseSchema, 422: errorResponseSchema };

const settingsSchema = z
  .object({
    platformId: z.string(),
    currency: z.string(),
    spreadBasisPoints: z.number(),
    deadlineSeconds: z.number(),
    escrowDescriptor: z
      .string()
      .nullable()
      .meta({ description: 'the platform itself, the supervisor and auditors only' }),
    version: z.number(),
    updatedBy: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketSettings' });
const presentSettings = (s: MarketSettingsView) => ({ ...s, updatedAt: s.updatedAt.toISOString() });

const offerSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    minerId: z.string(),
    lotId: z.string(),
    amountSats: sats,
    amountBtc: z.string(),
    availableSats: sats,
    escrowAddress: z.string(),
    status: z.enum(OFFER_STATUSES),
    depositTxid: z.string().nullable(),
    withdrawalTxid: z
      .string()
      .nullable()
      .meta({ description: "the escrow's return to the miner when the offer was withdrawn" }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketOffer' });
const presentOffer = (o: OfferView) => ({
  ...o,
  amountSats: o.amountSats.toString(),
  amountBtc: formatBtc(o.amountSats),
  availableSats: o.availableSats.toString(),
  createdAt: o.createdAt.toISOString(),
  updatedAt: o.updatedAt.toISOString(),
});

const bidSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    companyId: z.string(),
    companyPlatformId: z.string(),
    contractId: z.string(),
    amountSats: sats,
    status: z.enum(BID_STATUSES),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketBid' });
const presentBid = (b: BidView) => ({
  ...b,
  amountSats: b.amountSats.toString(),
  createdAt: b.createdAt.toISOString(),
  updatedAt: b.updatedAt.toISOString(),
});

const dealSchema = z
  .object({
    id: z.string(),
    platformId: z.string(),
    offerId: z.string(),
    bidId: z.string(),
    minerId: z.string(),
    companyId: z.string(),
    contractId: z.string(),
    minerPlatformId: z.string(),
    importerPlatformId: z.string(),
    amountSats: sats,
    currency: z.string(),
    fiatMinor: z.string().meta({ description: "the fiat leg in the currency's minor units" }),
    fixingId: z.string(),
    referenceRate: z.string(),
    dealRate: z.string(),
    spreadBasisPoints: z.number(),
    status: z.enum(DEAL_STATUSES),
    deadline: z.string(),
    bankReference: z.string().nullable(),
    confirmedAt: z.string().nullable(),
    deliveryTxid: z.string().nullable(),
    deliveryVout: z.number().nullable(),
    deliveredSats: sats.nullable(),
    feeSats: sats.nullable(),
    deliveryAttempts: z.number().meta({
      description:
        'sends of the delivery the network refused for a reason that can pass (inputs not seen yet, fee too low); retried with backoff',
    }),
    deliveryLastError: z.string().nullable(),
    deliveryNextAttemptAt: z.string().nullable(),
    heldFrom: z.string().nullable().meta({
      description:
        'for a held deal: awaitingPayment (its screening at confirmation) or delivering (the network refused its delivery)',
    }),
    refundAddress: z.string().nullable(),
    refundTxid: z.string().nullable(),
    fiatReturnReference: z
      .string()
      .nullable()
      .meta({ description: "the bank's reference of the fiat leg's return on a refund" }),
    pendingDecision: z
      .object({ action: z.enum(['release', 'refund']), proposedAt: z.string() })
      .nullable()
      .meta({
        description:
          "a held deal's release or refund one supervisor proposed, awaiting a second supervisor (another person)",
      }),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'MarketDeal' });
const presentDeal = (d: DealView) => ({
  ...d,
  amountSats: d.amountSats.toString(),
  fiatMinor: d.fiatMinor.toString(),
  deadline: d.deadline.toISOString(),
  confirmedAt: d.confirmedAt?.toISOString() ?? null,
  deliveredSats: d.deliveredSats?.toString() ?? null,
  feeSats: d.feeSats?.toString() ?? null,
  deliveryNextAttemptAt: d.deliveryNextAttemptAt?.toISOString() ?? null,
  pendingDecision: d.pendingDecision
    ? { action: d.pendingDecision.action, proposedAt: d.pendingDecision.proposedAt.toISOString() }
    : null,
  createdAt: d.createdAt.toISOString(),
  updatedAt: d.updatedAt.toISOString(),
});

const BANK_CONFIRMATION_STATUSES = ['pending', 'applied', 'refused'] as const;
const bankConfirmationSchema = z
  .object({
    id: z.string(),
    bank: z.string(),
    bankReference: z.string(),
    dealReference: z.string(),
    amountMinor: z.string(),
    currency: z.string(),
    status: z.enum(BANK_CONFIRMATION_STATUSES),
    outcome: z.string().nullable().meta({ description: "`confirmed`, or the refusal's code" }),
    attempts: z.number(),
    lastError: z.string().nullable(),
    nextAttemptAt: z.string(),
    receivedAt: z.string(),
    consumedAt: z.string().nullable(),
  })
  .meta({ id: 'MarketBankConfirmation' });
const presentBankConfirmation = (c: BankConfirmationView) => ({
  ...c,
  status: c.status as (typeof BANK_CONFIRMATION_STATUSES)[number],
  amountMinor: c.amountMinor.toString(),
  nextAttemptAt: c.nextAttemptAt.toISOString(),
  receivedAt: c.receivedAt.toISOString(),
  consumedAt: c.consumedAt?.toISOString() ?? null,
});
const decisionBody = z
  .object({ reason: z.string().min(3).max(500) })
  .strict()
  .meta({
    examples: [{ reason: 'Screening hit on the importer cleared by the compliance officer' }],
  });

export function registerMarketRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;
  const tags = ['market'];

  app.get(
    '/v1/market/settings/:platformId',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: "A platform's market: currency, spread over the reference rate, deadline, escrow",
        description:
          "A platform's coin market: its fiat currency, spread over the reference rate, payment deadline and escrow settings. 404 when the platform runs no market.",
        params: z.object({ platformId: participantId }),
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentSettings(await market.settings(callerOf(request), request.params.platformId)),
  );

  app.put(
    '/v1/market/settings',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Open or change the calling platform's market (audited)",
        description: "Opens the calling platform's market or changes its settings. Audited.",
        body: z
          .object({
            currency: z.string().regex(/^[A-Z]{3}$/),
            spreadBasisPoints: z.number().int().min(0).max(2000),
            deadlineSeconds: z.number().int().min(60).max(604_800),
            escrowDescriptor: z.string().min(1).max(1000),
          })
          .strict()
          .meta({
            examples: [
              {
                currency: 'USD',
                spreadBasisPoints: 150,
                deadlineSeconds: 86400,
                escrowDescriptor:
                  'wpkh([d34db33f/84h/1h/1h]tpubDC8msFGeGuwnKG9Upg7DM2b4DaRqg3CUZa5g8v2SRQ6K4NSkxUgd7HsL2XVWbVm39yBA4LAxysQAm397zwQSQoQgewGiYZqrA9DsP4zbQ1M/<0;1>/*)',
              },
            ],
          }),
        response: { 200: settingsSchema, ...conflicts },
      },
    },
    async (request) =>
      presentSettings(await market.setSettings(callerOf(request, ['platform']), request.body)),
  );

  app.get(
    '/v1/market/offers',
    {
      config: { roles: ['supervisor', 'auditor', 'platform', 'miner'] },
      schema: {
        tags,
        summary: "Offers: a miner's own, a platform's market's; supervisor and auditors all",
        description:
          "Coin offers, newest first: a miner's own, a platform's market's; the supervisor and auditor see all.",
        querystring: z.object({ status: z.enum(OFFER_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(offerSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listOffers(
        callerOf(request, ['supervisor', 'auditor', 'platform', 'miner']),
        { status },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentOffer) };
    },
  );

  app.get(
    '/v1/market/offers/:id',
    {
      config: { roles: ['supervisor', 'auditor', 'platform', 'miner'] },
      schema: {
        tags,
        summary: 'One offer with its escrow address',
        description: 'One offer with its escrow address and state.',
        params: idParam('ofr'),
        response: { 200: offerSchema, ...commonErrors },
      },
    },
    async (request) =>
      presentOffer(
        await market.getOffer(
          callerOf(request, ['supervisor', 'auditor', 'platform', 'miner']),
          request.params.id,
        ),
      ),
  );

  app.post(
    '/v1/market/offers',
    {
      config: { roles: ['miner'] },
      schema: {
        tags,
        summary: 'A miner offers coins of one of its cleared lots; the answer names the escrow',
        description:
          "A miner offers coins of one of its cleared lots for sale at the market's price. The answer names the escrow address to deposit them to.",
        body: z
          .object({ platformId: participantId, lotId: z.string().max(40), amountSats: satsString })
          .strict()
          .meta({
            examples: [
              {
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                lotId: 'lot_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                amountSats: '25000000',
              },
            ],
          }),
        response: { 201: offerSchema, ...conflicts },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentOffer(await market.createOffer(callerOf(request, ['miner']), request.body))),
  );

  app.post(
    '/v1/market/offers/:id/deposit',
    {
      config: { roles: ['miner', 'platform'] },
      schema: {
        tags,
        summary: "Report the confirmed deposit of the offered coins into the offer's escrow",
        description:
          "Reports the confirmed deposit of the offered coins into the offer's escrow (the outpoint); the offer becomes funded once the deposit is checked.",
        params: idParam('ofr'),
        body: z
          .object({ txid: z.string().regex(/^[0-9a-f]{64}$/) })
          .strict()
          .meta({
            examples: [
              { txid: '4a5e1e4baab89f3a32518a88c31bc87f618f76673e2cc77ab2127b7afdeda33b' },
            ],
          }),
        response: { 200: offerSchema, ...conflicts },
      },
    },
    async (request) =>
      presentOffer(
        await market.recordDeposit(
          callerOf(request, ['miner', 'platform']),
          request.params.id,
          request.body.txid,
        ),
      ),
  );

  app.get(
    '/v1/market/bids',
    {
      config: { roles: ['supervisor', 'auditor', 'platform', 'company'] },
      schema: {
        tags,
        summary: "Bids: a company's own, a platform's market's and its importers'",
        description:
          "Bids for coins, newest first: a company's own, a platform's market's and its importers'.",
        querystring: z.object({ status: z.enum(BID_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(bidSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listBids(
        callerOf(request, ['supervisor', 'auditor', 'platform', 'company']),
        { status },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentBid) };
    },
  );

  app.post(
    '/v1/market/bids',
    {
      config: { roles: ['company'] },
      schema: {
        tags,
        summary: 'An importer bids for cleared coins for one of its active import contracts',
        description:
          'An importer bids for cleared coins to pay one of its active import contracts.',
        body: z
          .object({
            platformId: participantId,
            contractId: z.string().max(40),
            amountSats: satsString,
          })
          .strict()
          .meta({
            examples: [
              {
                platformId: 'par_01JD8Z6Q3M4N5P6R7S8T9V0W1Y',
                contractId: 'ctr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                amountSats: '20000000',
              },
            ],
          }),
        response: { 201: bidSchema, ...conflicts },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentBid(await market.createBid(callerOf(request, ['company']), request.body))),
  );

  app.get(
    '/v1/market/deals',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: 'Deals the caller is party to (miner, importer, platform); supervisor all',
        description:
          'Deals the caller is party to (miner, importer, platform); the supervisor and auditor see all.',
        querystring: z.object({ status: z.enum(DEAL_STATUSES).optional(), ...pageQuery }),
        response: { 200: pageSchema(dealSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listDeals(
        callerOf(request),
        { status },
        {
          limit,
          cursor: cursor ?? null,
        },
      );
      return { ...page, items: page.items.map(presentDeal) };
    },
  );

  app.get(
    '/v1/market/deals/:id',
    {
      config: { roles: 'any' },
      schema: {
        tags,
        summary: 'One deal with its legs',
        description: 'One deal with its coin and fiat legs.',
        params: idParam('del'),
        response: { 200: dealSchema, ...commonErrors },
      },
    },
    async (request) => presentDeal(await market.getDeal(callerOf(request), request.params.id)),
  );

  app.post(
    '/v1/market/deals',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: 'The market platform matches an open bid against a funded offer (a deal)',
        description:
          "The market platform matches an open bid against a funded offer; the escrowed coins stay held until the deal's fiat leg is confirmed.",
        body: z
          .object({ offerId: z.string().max(40), bidId: z.string().max(40) })
          .strict()
          .meta({
            examples: [
              {
                offerId: 'ofr_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
                bidId: 'bid_01JD8Z6Q3M4N5P6R7S8T9V0W1X',
              },
            ],
          }),
        response: { 201: dealSchema, ...conflicts },
      },
    },
    async (request, reply) =>
      reply
        .status(201)
        .send(presentDeal(await market.match(callerOf(request, ['platform']), request.body))),
  );

  app.post(
    '/v1/market/deals/:id/confirm',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Confirm a deal's fiat leg: the escrowed coins go to the importer (DvP)",
        description:
          "Confirms the deal's fiat leg as paid: the escrowed coins go to the importer (delivery versus payment). The officer who matched the deal cannot confirm it.",
        params: idParam('del'),
        body: z
          .object({
            amountMinor: z.string().regex(/^[1-9]\d{0,17}$/),
            currency: z.string().regex(/^[A-Z]{3}$/),
            bankReference: z.string().min(1).max(64),
          })
          .strict()
          .meta({
            examples: [
              { amountMinor: '1937500', currency: 'USD', bankReference: 'BCR-2026-000812' },
            ],
          }),
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.confirm(callerOf(request, ['platform']), request.params.id, request.body),
      ),
  );

  app.post(
    '/v1/market/deals/:id/release',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags,
        summary:
          'Propose or approve the release of a held deal (two supervisors): its checks run again and, only if they pass, the delivery goes',
        description:
          "Four eyes: the first supervisor's call records the release as pending (the deal's `pendingDecision`; nothing runs yet); a second supervisor, another person whatever credential, carries it out: the coin leg is screened again and the delivery signed and sent only if every check passes; otherwise TRANSFER_BLOCKED (without saying which check) and the deal stays held with the release pending. The same person approving their own proposal is SELF_APPROVAL (403). Both reasons are audited.",
        params: idParam('del'),
        body: decisionBody,
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.release(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );

  app.post(
    '/v1/market/deals/:id/refund',
    {
      config: { roles: ['supervisor'] },
      schema: {
        tags,
        summary:
          "Propose or approve the refund of a held deal (two supervisors): its escrowed coins to the miner's screened address, the fiat leg returned",
        description:
          "Four eyes: the first supervisor's call records the refund as pending (the deal's `pendingDecision`; nothing is screened or sent yet); a second supervisor, another person whatever credential, carries it out: the escrowed coins go back to the address the miner's lot was mined to, screened afresh, and the importer's fiat is returned through the settlement bank; the bid lapses. The same person approving their own proposal is SELF_APPROVAL (403). Both reasons are audited.",
        params: idParam('del'),
        body: decisionBody,
        response: { 200: dealSchema, ...conflicts },
      },
    },
    async (request) =>
      presentDeal(
        await market.refund(
          callerOf(request, ['supervisor']),
          request.params.id,
          request.body.reason,
        ),
      ),
  );

  app.post(
    '/v1/market/offers/:id/withdraw',
    {
      config: { roles: ['miner'] },
      schema: {
        tags,
        summary:
          "Withdraw an offer no live deal holds: its escrow goes back to the miner's address",
        description:
          "Withdraws the miner's own offer while no live deal holds it: what the escrow holds goes back to the address its lot was mined to, screened afresh, and the offer becomes withdrawn. An unfunded offer whose deposit is already on-chain (the lot's coins paid into its escrow in a block the scheme followed) but not reported is refused with DEPOSIT_NOT_RECORDED (409), so that the coins are not stranded in escrow: report the deposit first, then withdraw, and the escrow is returned through the same screened path (or ask the market platform for a refund if the deposit cannot be recorded).",
        params: idParam('ofr'),
        response: { 200: offerSchema, ...conflicts },
      },
    },
    async (request) =>
      presentOffer(await market.withdrawOffer(callerOf(request, ['miner']), request.params.id)),
  );

  app.get(
    '/v1/market/confirmations',
    {
      config: { roles: ['platform', 'supervisor', 'auditor'] },
      schema: {
        tags,
        summary:
          "The bank's confirmations as received: pending ones (retried with backoff, with their last error), applied, refused",
        description:
          "The bank's confirmations of fiat legs as the market received them (its inbox), newest first: each is applied on its own, and a pending one is retried with backoff with its last error shown.",
        querystring: z.object({
          status: z.enum(BANK_CONFIRMATION_STATUSES).optional(),
          ...pageQuery,
        }),
        response: { 200: pageSchema(bankConfirmationSchema), ...commonErrors },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      const page = await market.listBankConfirmations(
        callerOf(request, ['platform', 'supervisor', 'auditor']),
        { status },
        { limit, cursor: cursor ?? null },
      );
      return { ...page, items: page.items.map(presentBankConfirmation) };
    },
  );

  app.post(
    '/v1/market/confirmations',
    {
      config: { roles: ['platform'] },
      schema: {
        tags,
        summary: "Import a bank's confirmation file (JSON or CSV lines), each line on its own",
        description:
          "Imports a bank's confirmation file (JSON or CSV lines); each line confirms one deal's fiat leg on its own, and the answer says for each whether it applied.",
        body: z
          .object({ content: z.string().min(1).max(1_000_000) })
          .strict()
          .meta({
            examples: [
              {
                content:
                  '{"dealId":"del_01JD8Z6Q3M4N5P6R7S8T9V0W1X","amountMinor":"1937500","currency":"USD","bankReference":"BCR-2026-000812"}',
              },
            ],
          }),
        response: {
          200: z
            .object({
              outcomes: z.array(
                z.object({
                  line: z.number(),
                  dealReference: z.string(),
                  bankReference: z.string(),
                  outcome: z.string(),
                  status: z.string().nullable(),
                }),
              ),
              issues: z.array(z.object({ field: z.string(), message: z.string() })),
            })
            .meta({ id: 'MarketConfirmationImport' }),
          ...commonErrors,
        },
      },
    },
    async (request) =>
      market.importConfirmations(callerOf(request, ['platform']), request.body.content),
  );
}

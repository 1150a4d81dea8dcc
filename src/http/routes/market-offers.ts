import { z } from 'zod';
import { OFFER_STATUSES, type OfferView } from '../../clearing';
import { formatBtc } from '../../kernel';
import type { AppDeps, TypedApp } from '../app';
import { callerOf } from '../auth';
import { commonErrors, idParam, pageQuery, pageSchema, satsString } from '../schemas';
import { conflicts, participantId, sats, tags } from './market-schemas';

/** The market's offers: a miner's coins of a cleared lot for sale, their escrow and withdrawal. */

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

export function registerOfferRoutes(app: TypedApp, deps: AppDeps): void {
  const market = deps.services.market;

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

  app.post(
    '/v1/market/offers/:id/withdraw',
    {
      config: { roles: ['miner'] },
      schema: {
        tags,
        summary:
          "Withdraw an offer no live deal holds: its escrow goes back to the miner's address",
        description:
          "Withdraws the miner's own offer while no live deal holds it: what the escrow holds goes back to the address its lot was mined to, screened afresh, and the offer becomes withdrawn. An unfunded offer whose deposit is already on-chain (the lot's coins paid into its escrow in a block the scheme followed) or in the mempool (a transaction paying its escrow address, not mined yet; `details.confirmed` false) but not reported is refused with DEPOSIT_NOT_RECORDED (409), so that the coins are not stranded in escrow: report the deposit first (once mined), then withdraw, and the escrow is returned through the same screened path (or ask the market platform for a refund if the deposit cannot be recorded).",
        params: idParam('ofr'),
        response: { 200: offerSchema, ...conflicts },
      },
    },
    async (request) =>
      presentOffer(await market.withdrawOffer(callerOf(request, ['miner']), request.params.id)),
  );
}

import { pgView } from 'drizzle-orm/pg-core';
import { marketDeals } from './market/schema';
import { clearingLots } from './schema';

/**
 * Clearing's published read models, for oversight's home pages: views over clearing's tables
 * with only the columns read there. drizzle-kit creates the views from these declarations, so
 * a renamed column fails the typecheck here.
 */

/** Lots of mined coin: whose, which output, where mined, cleared or not. */
export const clearingLotFacts = pgView('clearing_lot_facts').as((qb) =>
  qb
    .select({
      id: clearingLots.id,
      minerId: clearingLots.minerId,
      siteId: clearingLots.siteId,
      regionCode: clearingLots.regionCode,
      height: clearingLots.height,
      vout: clearingLots.vout,
      blockTime: clearingLots.blockTime,
      valueSats: clearingLots.valueSats,
      clearance: clearingLots.clearance,
      createdAt: clearingLots.createdAt,
    })
    .from(clearingLots),
);

/** The domestic market's deals: between whom, how much, in which state (held: from where). */
export const clearingDealFacts = pgView('clearing_deal_facts').as((qb) =>
  qb
    .select({
      id: marketDeals.id,
      minerId: marketDeals.minerId,
      companyId: marketDeals.companyId,
      status: marketDeals.status,
      heldFrom: marketDeals.heldFrom,
      amountSats: marketDeals.amountSats,
      fiatMinor: marketDeals.fiatMinor,
      currency: marketDeals.currency,
      updatedAt: marketDeals.updatedAt,
    })
    .from(marketDeals),
);

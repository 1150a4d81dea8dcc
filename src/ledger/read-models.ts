import { pgView } from 'drizzle-orm/pg-core';
import { exchangeRates, rateFixings } from './schema';

/**
 * The ledger's published read models: PostgreSQL views over its tables with only the columns
 * oversight's reports and clearing's loop report read. drizzle-kit creates the views from these
 * declarations, so a renamed column fails the typecheck here.
 */

/** Each stored rate and the published fixing it was taken from (null: a live source's). */
export const ledgerRateFacts = pgView('ledger_rate_facts').as((qb) =>
  qb.select({ id: exchangeRates.id, fixingId: exchangeRates.fixingId }).from(exchangeRates),
);

/** Published fixings: which currency, which cut-off date, which version. */
export const ledgerFixingFacts = pgView('ledger_fixing_facts').as((qb) =>
  qb
    .select({
      id: rateFixings.id,
      quote: rateFixings.quote,
      date: rateFixings.date,
      version: rateFixings.version,
    })
    .from(rateFixings),
);

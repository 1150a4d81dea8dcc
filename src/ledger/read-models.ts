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

/**
 * Each published fixing's rate (every version; the latest of a currency and date is in force):
 * what mining's statistics value each output at, in SQL.
 */
export const ledgerFixingRates = pgView('ledger_fixing_rates').as((qb) =>
  qb
    .select({
      quote: rateFixings.quote,
      date: rateFixings.date,
      version: rateFixings.version,
      digits: rateFixings.digits,
      scale: rateFixings.scale,
    })
    .from(rateFixings),
);

/**
 * Each stored rate's value and time: before a day's fixing is published, a day is valued at the
 * latest rate stored by its end (as `RateService.onDay`), in SQL.
 */
export const ledgerRateValues = pgView('ledger_rate_values').as((qb) =>
  qb
    .select({
      id: exchangeRates.id,
      quote: exchangeRates.quote,
      at: exchangeRates.at,
      digits: exchangeRates.digits,
      scale: exchangeRates.scale,
    })
    .from(exchangeRates),
);

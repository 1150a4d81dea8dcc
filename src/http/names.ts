import { z } from 'zod';
import { participantNames } from '../registry';
import type { AppDeps } from './app';
import { withFixingIds } from './routes/fixings';

/**
 * Participant names beside the ids of the rows a response already holds: one query for the
 * whole page (`participantNames`), a lookup function for the presenters.
 */
export async function namesOf(
  deps: AppDeps,
  ids: Iterable<string | null | undefined>,
): Promise<(id: string | null | undefined) => string | null> {
  const names = await participantNames(deps.db, ids);
  return (id) => (id ? (names.get(id) ?? null) : null);
}

/** A participant's legal name shown beside its id (null: not a registered participant). */
export const nameField = z
  .string()
  .nullable()
  .optional()
  .meta({ description: "the participant's legal name (null when the id names no participant)" });

/** Rows with a company and a counterparty, named (one query for all of them). */
export async function named<T extends { companyId: string; counterpartyId: string }>(
  deps: AppDeps,
  rows: readonly T[],
): Promise<(T & { companyName: string | null; counterpartyName: string | null })[]> {
  const name = await namesOf(
    deps,
    rows.flatMap((r) => [r.companyId, r.counterpartyId]),
  );
  return rows.map((r) => ({
    ...r,
    companyName: name(r.companyId),
    counterpartyName: name(r.counterpartyId),
  }));
}

/**
 * Invoices or payouts as a response: each view with the fixing its rate came from and its
 * parties' names, in two queries whatever the number of views (lists and single reads alike).
 */
export async function presentTransfers<
  T extends { readonly rateId: string },
  V extends { companyId: string; counterpartyId: string },
>(deps: AppDeps, views: readonly T[], present: (view: T & { fixingId: string | null }) => V) {
  return named(deps, (await withFixingIds(deps, views)).map(present));
}

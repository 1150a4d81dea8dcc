import { and, eq, inArray, sql } from 'drizzle-orm';
import { keysetOn, scopeTo, type Orm, type Page, type PageRequest } from '../db';
import { AppError, type Caller } from '../kernel';
import { ACCOUNT_PURPOSES, ledgerAccounts, ledgerPostings, type AccountPurpose } from './schema';

export interface BalanceFilter {
  readonly participantId?: string;
  readonly platformId?: string;
  readonly purpose?: AccountPurpose;
}

export interface AccountBalance {
  readonly accountId: string;
  readonly participantId: string;
  readonly platformId: string | null;
  readonly purpose: AccountPurpose;
  readonly balanceSats: bigint;
}

type AccountRow = typeof ledgerAccounts.$inferSelect;

export function toPurpose(value: string): AccountPurpose {
  const found = ACCOUNT_PURPOSES.find((p) => p === value);
  if (!found) throw new AppError('INTERNAL', `unknown ledger account purpose "${value}"`);
  return found;
}

/**
 * A page of the ledger accounts the caller sees, by account id, each with its balance: two
 * queries whatever the page size, the accounts (keyset on the primary key) and then the sums of
 * their postings (through the postings' account index), never the whole ledger at once.
 */
export async function balancePage(
  orm: Orm,
  caller: Caller,
  filter: BalanceFilter,
  request: PageRequest,
): Promise<Page<AccountBalance>> {
  const { after, orderBy, read, page } = keysetOn<AccountRow>(
    [{ column: ledgerAccounts.id, kind: 'text', value: (r) => r.id }],
    'asc',
    request,
  );
  const rows = await orm
    .select()
    .from(ledgerAccounts)
    .where(
      and(
        scopeTo(caller, {
          participant: ledgerAccounts.participantId,
          platform: ledgerAccounts.platformId,
        }),
        filter.participantId ? eq(ledgerAccounts.participantId, filter.participantId) : undefined,
        filter.platformId ? eq(ledgerAccounts.platformId, filter.platformId) : undefined,
        filter.purpose ? eq(ledgerAccounts.purpose, filter.purpose) : undefined,
        after,
      ),
    )
    .orderBy(...orderBy)
    .limit(read);
  return page(rows, async (shown) => {
    const sums = await balancesOf(
      orm,
      shown.map((r) => r.id),
    );
    return shown.map((row) => ({
      accountId: row.id,
      participantId: row.participantId,
      platformId: row.platformId,
      purpose: toPurpose(row.purpose),
      balanceSats: sums.get(row.id) ?? 0n,
    }));
  });
}

/** The balances of the given accounts, in one query (an account with no postings is absent). */
async function balancesOf(orm: Orm, ids: readonly string[]): Promise<Map<string, bigint>> {
  if (ids.length === 0) return new Map();
  const sums = await orm
    .select({
      accountId: ledgerPostings.accountId,
      balance: sql<string>`sum(${ledgerPostings.amountSats})`,
    })
    .from(ledgerPostings)
    .where(inArray(ledgerPostings.accountId, [...ids]))
    .groupBy(ledgerPostings.accountId);
  return new Map(sums.map((s) => [s.accountId, BigInt(s.balance)]));
}

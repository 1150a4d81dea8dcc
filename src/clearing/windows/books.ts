import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import type { Orm } from '../../db';
import { AppError } from '../../kernel';
import { clearingWindowPostings } from './schema';

/**
 * The clearing's books per window (see `clearingWindowPostings`): an account per platform and
 * the clearing's holding, per asset. Debit positive: a platform account's balance is what the
 * platform owes the clearing (negative: what the clearing owes it).
 */
export const HOLDING = 'holding';
export const platformAccount = (platformId: string) => `platform:${platformId}`;

export interface BookPosting {
  readonly account: string;
  readonly asset: string;
  /** Positive debits, negative credits. */
  readonly amount: bigint;
}

export interface AccountBalanceView {
  account: string;
  asset: string;
  balance: bigint;
}

/** Posts one balanced entry (checked here, and by the deferred trigger at commit). */
export async function postEntry(
  tx: Orm,
  entry: { windowId: string; entry: string; kind: string; at: Date },
  postings: readonly BookPosting[],
): Promise<void> {
  const totals = new Map<string, bigint>();
  for (const p of postings) totals.set(p.asset, (totals.get(p.asset) ?? 0n) + p.amount);
  for (const [asset, total] of totals) {
    if (total !== 0n)
      throw new AppError(
        'LEDGER_UNBALANCED',
        `clearing entry ${entry.entry} does not balance in ${asset}: postings sum to ${total}`,
      );
  }
  const rows = postings
    .filter((p) => p.amount !== 0n)
    .map((p) => ({ ...entry, account: p.account, asset: p.asset, amount: p.amount }));
  if (rows.length > 0) await tx.insert(clearingWindowPostings).values(rows);
}

/** The kind of the entries reversing entries of `kind`. */
export const reversalKind = (kind: string) => `${kind}.reversed`;

/**
 * Reverses, each exactly once, the window's entries of `kind` not reversed yet: each by an entry
 * `reversal:<entry>` (kind `<kind>.reversed`) posting its postings negated, at `at`. Nothing is
 * deleted, and an entry already reversed is left alone, so a retry reverses nothing twice (call
 * it under the window's lock). Returns the entries reversed.
 */
export async function reverseEntries(
  tx: Orm,
  windowId: string,
  kind: string,
  at: Date,
  /** Only the entries this names (default: every entry of `kind`). */
  only: (entry: string) => boolean = () => true,
): Promise<string[]> {
  const rows = await tx
    .select({
      entry: clearingWindowPostings.entry,
      kind: clearingWindowPostings.kind,
      account: clearingWindowPostings.account,
      asset: clearingWindowPostings.asset,
      amount: clearingWindowPostings.amount,
    })
    .from(clearingWindowPostings)
    .where(
      and(
        eq(clearingWindowPostings.windowId, windowId),
        inArray(clearingWindowPostings.kind, [kind, reversalKind(kind)]),
      ),
    )
    .orderBy(asc(clearingWindowPostings.id));
  const reversed = new Set(
    rows.filter((r) => r.kind !== kind).map((r) => r.entry.replace(/^reversal:/, '')),
  );
  const live = new Map<string, BookPosting[]>();
  for (const r of rows)
    if (r.kind === kind && !reversed.has(r.entry) && only(r.entry))
      live.set(r.entry, [...(live.get(r.entry) ?? []), r]);
  for (const [entry, postings] of live)
    await postEntry(
      tx,
      { windowId, entry: `reversal:${entry}`, kind: reversalKind(kind), at },
      postings.map((p) => ({ account: p.account, asset: p.asset, amount: -p.amount })),
    );
  return [...live.keys()];
}

/** The obligation's entry: the debtor owes the clearing, the clearing owes the creditor. */
export function obligationPostings(
  o: { fromPlatform: string; toPlatform: string; asset: string; amount: bigint },
  sign: 1n | -1n = 1n,
): BookPosting[] {
  return [
    { account: platformAccount(o.fromPlatform), asset: o.asset, amount: sign * o.amount },
    { account: platformAccount(o.toPlatform), asset: o.asset, amount: -sign * o.amount },
  ];
}

/** Every account's balance in a window, per asset (accounts at zero included). */
export async function windowBalances(orm: Orm, windowId: string): Promise<AccountBalanceView[]> {
  const rows = await orm
    .select({
      account: clearingWindowPostings.account,
      asset: clearingWindowPostings.asset,
      balance: sql<string>`sum(${clearingWindowPostings.amount})::text`,
    })
    .from(clearingWindowPostings)
    .where(eq(clearingWindowPostings.windowId, windowId))
    .groupBy(clearingWindowPostings.account, clearingWindowPostings.asset)
    .orderBy(clearingWindowPostings.asset, clearingWindowPostings.account);
  return rows.map((r) => ({ account: r.account, asset: r.asset, balance: BigInt(r.balance) }));
}

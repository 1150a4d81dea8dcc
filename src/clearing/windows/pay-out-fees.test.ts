import { and, eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../db';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';
import { FEE_ENTRY, LATER_FEE_ENTRY, NETWORK_FEE, postFeeEntry } from './pay-out-fees';
import { platformAccount } from './books';
import { clearingWindowPostings, clearingWindows } from './schema';

/**
 * A window's pay-out fees in the clearing's books, on a database: each transaction that takes
 * another's place (a rebuild, an adoption) reverses the fee entry of the one it replaces, of its
 * own `seq` only, so the books show one live fee per transaction sent, whichever it is.
 */
describe.each(TEST_DRIVERS)('pay-out fee entries on %s', (driver) => {
  let db: Database;
  const windowId = 'win_FEES';
  const at = new Date('2026-07-01T12:00:00Z');
  const shares = (a: bigint, b: bigint) => [
    { platformId: 'plt_A', share: a },
    { platformId: 'plt_B', share: b },
  ];

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    await db.orm.insert(clearingWindows).values({
      id: windowId,
      sequence: 1,
      status: 'settled',
      opensAt: at,
      createdAt: at,
    });
  });
  afterAll(() => db.close());

  /** The live fee entries of `kind` (posted and not reversed), by name. */
  const live = async (kind: string) => {
    const rows = await db.orm
      .selectDistinct({ entry: clearingWindowPostings.entry, kind: clearingWindowPostings.kind })
      .from(clearingWindowPostings)
      .where(eq(clearingWindowPostings.windowId, windowId));
    const reversed = new Set(
      rows
        .filter((r) => r.kind === `${kind}.reversed`)
        .map((r) => r.entry.slice('reversal:'.length)),
    );
    return rows
      .filter((r) => r.kind === kind && !reversed.has(r.entry))
      .map((r) => r.entry)
      .sort();
  };
  const balanceOf = async (account: string) => {
    const [row] = await db.orm
      .select({ total: sql<string>`coalesce(sum(${clearingWindowPostings.amount}), 0)::text` })
      .from(clearingWindowPostings)
      .where(
        and(
          eq(clearingWindowPostings.windowId, windowId),
          eq(clearingWindowPostings.account, account),
        ),
      );
    return BigInt(row?.total ?? '0');
  };

  it('keeps one live fee per transaction: a later one rebuilt or adopted replaces its own', async () => {
    await db.transaction(async (tx) => {
      expect(await postFeeEntry(tx, windowId, 'tx0', shares(300n, 200n), at)).toEqual([]);
      // Two later transactions, each paying a receiver held at first.
      expect(await postFeeEntry(tx, windowId, 'tx1', shares(0n, 150n), at, 1)).toEqual([]);
      expect(await postFeeEntry(tx, windowId, 'tx2', shares(120n, 0n), at, 2)).toEqual([]);
    });
    expect(await live(FEE_ENTRY)).toEqual([`pay-out-fee:${windowId}`]);
    expect(await live(LATER_FEE_ENTRY)).toEqual([
      `pay-out-fee:${windowId}:1`,
      `pay-out-fee:${windowId}:2`,
    ]);

    // The first later transaction rebuilt, then its replaced version adopted: each time only the
    // fee of seq 1 is reversed, never seq 2's nor the window's first transaction's.
    const rebuilt = await db.transaction((tx) =>
      postFeeEntry(tx, windowId, 'tx1b', shares(0n, 180n), at, 1),
    );
    expect(rebuilt).toEqual([`pay-out-fee:${windowId}:1`]);
    const adopted = await db.transaction((tx) =>
      postFeeEntry(tx, windowId, 'tx1', shares(0n, 150n), at, 1),
    );
    expect(adopted).toEqual([`pay-out-fee:${windowId}:1:tx1b:1`]);
    expect(await live(FEE_ENTRY)).toEqual([`pay-out-fee:${windowId}`]);
    expect(await live(LATER_FEE_ENTRY)).toEqual([
      `pay-out-fee:${windowId}:1:tx1:2`,
      `pay-out-fee:${windowId}:2`,
    ]);
    // Every account of the window still at zero.
    for (const account of [NETWORK_FEE, platformAccount('plt_A'), platformAccount('plt_B')])
      expect(await balanceOf(account)).toBe(0n);
  });
});

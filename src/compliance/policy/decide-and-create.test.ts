/**
 * `decideAndCreate`: the caller's work (locks, `before`, `after`) runs in the group commit's batch
 * transaction, so each decision commits with what it decides; one request whose work fails fails
 * alone, its decision undone, and the others of its batch commit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { AppError, ManualClock, SeededRandom, systemCaller } from '../../kernel';
import { rowsOf, type Database } from '../../db';
import { verifyAuditChain } from '../../audit';
import { createCompliance, type Compliance } from '../service';
import type { CommitWork, TransferFacts } from './types';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';

let n = 0;
function transfer(clock: ManualClock, company: string): TransferFacts {
  n++;
  return {
    transferId: `inv_made${n}`,
    direction: 'inbound',
    occurredAt: clock.now(),
    amountSats: 800_000n + BigInt(n),
    // Below the Travel Rule threshold and every amount rule: allowed.
    fiatValue: { minor: 51_234n + BigInt(n), currency: 'USD', rate: '63415.60' },
    platform: { id: 'par_platform1', licenceStatus: 'active' },
    company: { id: company, legalName: `Company ${company}`, country: 'XA', kycStatus: 'verified' },
    counterparty: {
      id: 'par_buyer1',
      legalName: 'Buyer One',
      otherNames: [],
      country: 'DE',
      kind: 'organization',
      kycStatus: 'verified',
      countryRiskLevel: 'low',
    },
    counterpartyAddress: { address: '', asset: 'XBT', ownership: 'unknown' },
    schemeCountry: 'XA',
    refusedJurisdictions: [],
    contract: { id: 'ctr_1', openAmountSats: 1_000_000_000n, toleranceSats: 0n },
    travelRule: null,
  };
}

describe.each(TEST_DRIVERS)(
  'decideAndCreate: the decision and its row in one unit, on %s',
  (driver) => {
    let db: Database;
    let compliance: Compliance;
    const clock = new ManualClock('2026-07-01T09:00:00Z');
    const supervisor = systemCaller('test');
    const taken: string[] = [];

    /** Work that locks a contract and a wallet (noted, not real rows) and writes one row. */
    const work = (
      facts: TransferFacts,
      locks: Array<['contract' | 'wallet', string]>,
      fail = false,
    ): CommitWork<string> => ({
      locks: locks.map(([lock, key]) => ({
        lock,
        key,
        take: () => {
          db.currentUnit('test lock');
          taken.push(`${lock}:${key}`);
          return Promise.resolve();
        },
      })),
      before: async () => {
        await db
          .currentUnit('test work')
          .execute(sql`insert into test_made (id) values (${facts.transferId})`);
        if (fail) throw new AppError('CONFLICT', `${facts.transferId} no longer fits`);
      },
      after: async (decision) => {
        // The decision is written by now, in the same unit.
        const [row] = rowsOf(
          await db
            .currentUnit('test work')
            .execute(
              sql`select count(*)::int as n from compliance_decisions where id = ${decision.decisionId}`,
            ),
        );
        return `${facts.transferId} made after ${String(row?.n)} decision`;
      },
    });

    const xmins = async (
      table: 'test_made' | 'compliance_decisions',
      column: string,
      ids: string[],
    ) =>
      rowsOf(
        await db.orm.execute(
          sql`select ${sql.raw(column)} as id, xmin::text as x from ${sql.raw(table)}
            where ${sql.raw(column)} in ${sql`(${sql.join(
              ids.map((id) => sql`${id}`),
              sql`, `,
            )})`}`,
        ),
      ).reduce((m, r) => m.set(String(r.id), String(r.x)), new Map<string, string>());

    beforeAll(async () => {
      db = await openTestDatabase(driver);
      compliance = createCompliance({ db, clock, random: new SeededRandom(7) });
      await db.orm.execute(sql`create table test_made (id text primary key)`);
    }, 120_000);
    afterAll(async () => db?.close());

    it('commits a batch of creations in one transaction with their decisions, locks in order', async () => {
      const facts = [
        transfer(clock, 'par_c2'),
        transfer(clock, 'par_c1'),
        transfer(clock, 'par_c2'),
      ];
      taken.length = 0;
      const results = await Promise.all([
        compliance.gate.decideAndCreate(
          supervisor,
          facts[0]!,
          work(facts[0]!, [
            ['wallet', 'w2'],
            ['contract', 'k2'],
          ]),
        ),
        compliance.gate.decideAndCreate(
          supervisor,
          facts[1]!,
          work(facts[1]!, [
            ['wallet', 'w1'],
            ['contract', 'k1'],
          ]),
        ),
        compliance.gate.decideAndCreate(
          supervisor,
          facts[2]!,
          work(facts[2]!, [
            ['contract', 'k2'],
            ['wallet', 'w2'],
          ]),
        ),
      ]);
      expect(results.map((r) => r.created)).toEqual(
        facts.map((f) => `${f.transferId} made after 1 decision`),
      );
      // Every contract before every wallet, each by key and once: the order of every writer.
      expect(taken).toEqual(['contract:k1', 'contract:k2', 'wallet:w1', 'wallet:w2']);
      const ids = facts.map((f) => f.transferId);
      const made = await xmins('test_made', 'id', ids);
      const decided = await xmins('compliance_decisions', 'transfer_id', ids);
      // One transaction: the rows and the decisions of the batch.
      expect(new Set([...made.values(), ...decided.values()]).size).toBe(1);
      expect(made.size).toBe(3);
      expect(decided.size).toBe(3);
    });

    it('fails a request whose work fails alone: its decision undone, the others committed', async () => {
      const facts = [
        transfer(clock, 'par_c1'),
        transfer(clock, 'par_c2'),
        transfer(clock, 'par_c3'),
      ];
      const answers = await Promise.allSettled(
        facts.map((f, i) =>
          compliance.gate.decideAndCreate(supervisor, f, work(f, [['contract', `k${i}`]], i === 1)),
        ),
      );
      expect(answers.map((a) => a.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const failed = answers[1];
      expect(failed?.status === 'rejected' && failed.reason).toMatchObject({ code: 'CONFLICT' });
      const ids = facts.map((f) => f.transferId);
      const made = await xmins('test_made', 'id', ids);
      const decided = await xmins('compliance_decisions', 'transfer_id', ids);
      expect([...made.keys()].sort()).toEqual([ids[0], ids[2]]);
      expect([...decided.keys()].sort()).toEqual([ids[0], ids[2]]);
      // Each committed with its own decision (run one at a time after the batch failed).
      for (const id of [ids[0]!, ids[2]!]) expect(made.get(id)).toBe(decided.get(id));
      const events = rowsOf(
        await db.orm.execute(
          sql`select count(*)::int as n from audit_events where after->>'transferId' = ${ids[1]!}`,
        ),
      );
      expect(events[0]!.n).toBe(0);
      expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
    });

    it('is refused inside a transaction (the batch could not share its connection)', async () => {
      const facts = transfer(clock, 'par_c1');
      await expect(
        db.transaction(() => compliance.gate.decideAndCreate(supervisor, facts, work(facts, []))),
      ).rejects.toThrow(/inside a transaction/);
    });
  },
);

/**
 * The gate's group commit (`decideCommitted`) on a real database: a decision is answered only
 * once it and its audit event are committed, batches decide in order (monitoring counts the
 * batch's earlier transfers, as if decided one by one), a request failing in the database
 * (here: at commit, by a deferred constraint) fails alone and leaves nothing behind, a new list
 * snapshot applies to the next batch, and the audit chain verifies throughout.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { AppError, ManualClock, SeededRandom, systemCaller, type Caller } from '../../kernel';
import { rowsOf, type Database } from '../../db';
import { listAuditEvents, lockAuditHead, verifyAuditChain } from '../../audit';
import { createCompliance, type Compliance } from '../service';
import { readVector } from '../../../test/support/screening-lists';
import { legalPersonsPayload } from '../travel-rule/builders';
import type { PolicyDecision, TransferFacts } from './types';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';

/** Line 7 of the OFAC XBT address list (September 2024). */
const SANCTIONED = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';
const CLEAN = 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4';

let n = 0;
function transfer(clock: ManualClock, overrides: Partial<TransferFacts> = {}): TransferFacts {
  n++;
  return {
    transferId: `pay_group${String(n).padStart(4, '0')}`,
    direction: 'outbound',
    occurredAt: new Date(clock.now().getTime() + n * 1_000),
    amountSats: 700_000n + BigInt(n),
    fiatValue: { minor: 441_234n + BigInt(n), currency: 'USD', rate: '63415.60' },
    platform: { id: 'par_platform1', licenceStatus: 'active' },
    company: {
      id: 'par_company1',
      legalName: 'Nordwind Export Ltd',
      country: 'XA',
      kycStatus: 'verified',
    },
    counterparty: {
      id: 'par_counter1',
      legalName: 'Harbour Line Trading GmbH',
      otherNames: [],
      country: 'DE',
      kind: 'organization',
      kycStatus: 'verified',
      countryRiskLevel: 'low',
    },
    counterpartyAddress: { address: CLEAN, asset: 'XBT', ownership: 'hosted' },
    schemeCountry: 'XA',
    refusedJurisdictions: ['KP'],
    contract: { id: 'ctr_1', openAmountSats: 1_000_000_000n, toleranceSats: 0n },
    travelRule: legalPersonsPayload({
      originator: 'Nordwind Export Ltd',
      originatorCustomerNumber: 'C-1001',
      beneficiary: 'Harbour Line Trading GmbH',
      originatingVasp: { name: 'Alpine Crypto Custody AG', lei: '5493001KJTIIGC8Y1R12' },
      beneficiaryVasp: { name: 'Harbour Digital Exchange Ltd' },
    }),
    ...overrides,
  };
}

const hit = (d: PolicyDecision, rule: string) =>
  d.reasons.some((r) => r.rule === rule && r.code === 'MONITORING_HIT');

async function count(db: Database, query: ReturnType<typeof sql>): Promise<number> {
  const [row] = rowsOf(await db.orm.execute(query));
  return Number(row?.n ?? -1);
}

describe.each(TEST_DRIVERS)('the gate’s group commit on %s', (driver) => {
  let db: Database;
  let compliance: Compliance;
  let clock: ManualClock;
  const supervisor = systemCaller('test');

  async function open(gateMaxBatch?: number): Promise<void> {
    db = await openTestDatabase(driver);
    clock = new ManualClock('2026-07-01T09:00:00Z');
    compliance = createCompliance(
      { db, clock, random: new SeededRandom(11) },
      gateMaxBatch === undefined ? {} : { gateMaxBatch },
    );
  }
  afterEach(async () => db?.close());

  it('answers once the decision and its audit event are committed, several to a transaction', async () => {
    await open();
    const requests = Array.from({ length: 30 }, (_, i) =>
      transfer(clock, {
        company: {
          id: `par_company${i % 3}`,
          legalName: 'Nordwind Export Ltd',
          country: 'XA',
          kycStatus: 'verified',
        },
      }),
    );
    const decided = await Promise.all(
      requests.map(async (facts) => {
        const decision = await compliance.gate.decideCommitted(supervisor, facts);
        // Answered: the decision and its audit event are there for any reader.
        const stored = await compliance.decisions.get(supervisor, decision.decisionId);
        const [event] = (
          await listAuditEvents(db.orm, { entityId: decision.decisionId }, { limit: 1 })
        ).items;
        return { decision, stored, event };
      }),
    );
    for (const [i, { decision, stored, event }] of decided.entries()) {
      expect(decision.transferId).toBe(requests[i]?.transferId);
      expect(decision.outcome).toBe('allow');
      expect(stored.reasons).toEqual(decision.reasons);
      expect(stored.listSnapshotIds).toEqual(decision.listSnapshotIds);
      expect(event?.action).toBe('decision.made');
    }
    // Rows written by one transaction share its id (xmin): the 30 went in fewer transactions.
    const transactions = await count(
      db,
      sql`select count(distinct xmin::text) as n from compliance_decisions`,
    );
    expect(transactions).toBeLessThan(30);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 30 });
  });

  it.each([
    ['in one batch', undefined],
    // Batches of 5: each prepared while the one before commits, counting its transfers.
    ['in batches prepared while the one before commits', 5],
  ])('decides in order %s: monitoring counts the earlier transfers', async (_, maxBatch) => {
    await open(maxBatch);
    // 23 transfers of one company asked for at once: velocity (20 in 24 h) is exceeded from the
    // 21st on; three just under 10,000 USD are structuring at the third.
    const requests = Array.from({ length: 23 }, (_, i) =>
      transfer(
        clock,
        i >= 20 ? { fiatValue: { minor: 950_000n + BigInt(i), currency: 'USD', rate: '1' } } : {},
      ),
    );
    const decided = await Promise.all(
      requests.map((facts) => compliance.gate.decideCommitted(supervisor, facts)),
    );
    expect(decided.map((d) => hit(d, 'rule.velocity@1'))).toEqual(requests.map((_, i) => i >= 20));
    expect(decided.map((d) => hit(d, 'rule.structuring@1'))).toEqual(
      requests.map((_, i) => i === 22),
    );
    // Structuring (60) sends the third to review and raises an alert into a case, whose audit
    // events come before the decision's own.
    const third = decided[22];
    expect(third?.outcome).toBe('review');
    const events = (await listAuditEvents(db.orm, {}, { limit: 10 })).items.reverse();
    expect(events.slice(-4).map((e) => e.action)).toEqual([
      'case.opened',
      'alert.raised',
      'alert.raised',
      'decision.made',
    ]);
    expect(events.at(-1)?.entityId).toBe(third?.decisionId);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 26 });

    // The same transfers decided one by one, each in its own transaction, decide the same.
    await db.close();
    await open();
    const oneByOne: PolicyDecision[] = [];
    for (const facts of requests) {
      oneByOne.push(await db.transaction(() => compliance.gate.decide(supervisor, facts)));
    }
    expect(oneByOne.map((d) => [d.outcome, d.monitoringScore, d.reasons])).toEqual(
      decided.map((d) => [d.outcome, d.monitoringScore, d.reasons]),
    );
  });

  it.runIf(driver === 'postgres')(
    'counts the batch still committing when deciding the next one (its rows not visible yet)',
    async () => {
      await open(5);
      // Another writer holds the audit head: the first batch's commit waits for it, while the
      // next batch is read and decided — without the first batch's rows in the database.
      let release = () => {};
      const held = new Promise<void>((resolve) => (release = resolve));
      let locked = () => {};
      const lockTaken = new Promise<void>((resolve) => (locked = resolve));
      const holder = db.transaction(async (tx) => {
        await lockAuditHead(tx);
        locked();
        await held;
      });
      await lockTaken;
      // Transfers 3, 4 and 5 are just under 10,000 USD: structuring (3 in 72 h) at the 5th,
      // the first of the second batch.
      const requests = Array.from({ length: 10 }, (_, i) =>
        transfer(
          clock,
          i >= 3 && i <= 5
            ? { fiatValue: { minor: 950_000n + BigInt(i), currency: 'USD', rate: '1' } }
            : {},
        ),
      );
      const pending = Promise.all(
        requests.map((facts) => compliance.gate.decideCommitted(supervisor, facts)),
      );
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await count(db, sql`select count(*) as n from compliance_decisions`)).toBe(0);
      release();
      await holder;
      const decided = await pending;
      expect(decided.map((d) => hit(d, 'rule.structuring@1'))).toEqual(
        requests.map((_, i) => i === 5),
      );
      expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
    },
  );

  it('fails a request that fails in the database alone, having written nothing of it', async () => {
    await open();
    // A check the database makes at commit: this transfer id is refused then.
    await db.orm.execute(sql`
      create function test_refuse_at_commit() returns trigger language plpgsql as $$
      begin
        if new.transfer_id = 'pay_refused' then
          raise exception 'refused at commit';
        end if;
        return null;
      end $$`);
    await db.orm.execute(sql`
      create constraint trigger test_refuse_at_commit after insert on compliance_decisions
      deferrable initially deferred for each row execute function test_refuse_at_commit()`);
    const requests = Array.from({ length: 9 }, (_, i) =>
      transfer(clock, i === 4 ? { transferId: 'pay_refused' } : {}),
    );
    const settled = await Promise.allSettled(
      requests.map((facts) => compliance.gate.decideCommitted(supervisor, facts)),
    );
    expect(settled.map((s) => s.status)).toEqual(
      requests.map((_, i) => (i === 4 ? 'rejected' : 'fulfilled')),
    );
    // (The driver may wrap the database's error; the reason is in the chain of causes.)
    const messages = (e: unknown): string =>
      e instanceof Error ? `${e.message} ${messages(e.cause)}` : '';
    expect(messages((settled[4] as PromiseRejectedResult).reason)).toMatch(/refused at commit/);
    expect(
      await count(
        db,
        sql`select count(*) as n from compliance_decisions where transfer_id = 'pay_refused'`,
      ),
    ).toBe(0);
    expect(
      await count(
        db,
        sql`select count(*) as n from compliance_transfers where transfer_id = 'pay_refused'`,
      ),
    ).toBe(0);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true, events: 8 });
  });

  it('refuses, before queueing, what the caller may not ask', async () => {
    await open();
    const auditor: Caller = {
      role: 'auditor',
      participantId: 'par_auditor',
      platformId: null,
      actorId: 'usr_auditor',
      personId: 'usr_auditor',
      requestId: null,
    };
    const otherCompany: Caller = {
      role: 'company',
      participantId: 'par_company9',
      platformId: 'par_platform1',
      actorId: 'usr_company9',
      personId: 'usr_company9',
      requestId: null,
    };
    const code = (promise: Promise<unknown>) =>
      promise.then(
        () => 'decided',
        (error: unknown) => (error instanceof AppError ? error.code : String(error)),
      );
    expect(await code(compliance.gate.decideCommitted(auditor, transfer(clock)))).toBe('FORBIDDEN');
    expect(await code(compliance.gate.decideCommitted(otherCompany, transfer(clock)))).toBe(
      'NOT_FOUND',
    );
    expect(
      await code(compliance.gate.decideCommitted(supervisor, transfer(clock, { amountSats: 0n }))),
    ).toBe('VALIDATION_FAILED');
    expect(await count(db, sql`select count(*) as n from compliance_decisions`)).toBe(0);
  });

  it('screens the next batch against a list snapshot loaded meanwhile', async () => {
    await open();
    const before = await compliance.gate.decideCommitted(
      supervisor,
      transfer(clock, {
        counterpartyAddress: { address: SANCTIONED, asset: 'XBT', ownership: 'hosted' },
      }),
    );
    expect(before.outcome).toBe('allow');
    const { snapshot } = await compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: readVector('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
    });
    const after = await compliance.gate.decideCommitted(
      supervisor,
      transfer(clock, {
        counterpartyAddress: { address: SANCTIONED, asset: 'XBT', ownership: 'hosted' },
      }),
    );
    expect(after.outcome).toBe('block');
    expect(after.listSnapshotIds).toContain(snapshot.id);
    expect(after.reasons.map((r) => r.code)).toContain('SANCTIONS_ADDRESS_MATCH');
  });

  it('screens against a list snapshot another process loaded, at once', async () => {
    await open();
    const toListed = () =>
      transfer(clock, {
        counterpartyAddress: { address: SANCTIONED, asset: 'XBT', ownership: 'hosted' },
      });
    expect((await compliance.gate.decideCommitted(supervisor, toListed())).outcome).toBe('allow');
    // Another server on the same database imports the list; this one's clock has not moved,
    // so its own periodic check of the active lists is not due.
    const other = createCompliance({ db, clock, random: new SeededRandom(12) });
    const { snapshot } = await other.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: readVector('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
    });
    const committed = await compliance.gate.decideCommitted(supervisor, toListed());
    const inTransaction = await db.transaction(() =>
      compliance.gate.decide(supervisor, toListed()),
    );
    for (const decision of [committed, inTransaction]) {
      expect(decision.outcome).toBe('block');
      expect(decision.listSnapshotIds).toEqual([snapshot.id]);
    }
  });
});

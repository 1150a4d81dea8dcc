import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit';
import { systemCaller, systemClock } from '../../src/kernel';
import { openTwoTenants, type TwoTenants } from '../support/two-tenants';

/**
 * The lock order of every writer: a company's wallet row first, then the audit head (which the
 * policy gate takes when it records a decision). An invoice takes its address before the gate
 * decides; a payout batch must likewise lock the wallets it will take change addresses from
 * before it asks the gate again, or a batch and an invoice of one company, each holding one lock,
 * wait for each other (on PostgreSQL one of them is then aborted as a deadlock). Shown here
 * without a race: while another transaction holds the wallet, a batch run must wait for it
 * holding nothing else, so that any other writer can still append to the audit log.
 */
describe.runIf(process.env.TEST_DATABASE_URL)('lock order on PostgreSQL', () => {
  let t: TwoTenants;
  beforeAll(async () => {
    t = await openTwoTenants('postgres');
  }, 300_000);
  afterAll(() => t?.close());

  it('a payout batch waits for the wallet before it takes the audit head', async () => {
    await t.payout(true);
    let locked!: () => void;
    let release!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    const holder = t.db.transaction(async (tx) => {
      await tx.execute(sql`select id from wallets where company_id = ${t.B.companyId} for update`);
      locked();
      await released;
    });
    await isLocked;
    const batch = t.app.inject({
      method: 'POST',
      url: '/v1/payout-batches',
      headers: t.B.officer,
      payload: { platformId: t.B.platformId },
    });
    // Long enough for the batch to reach the wallet lock (it reads, then asks the gate).
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const probe = await t.db
      .transaction(async (tx) => {
        await tx.execute(sql`set local lock_timeout = '3s'`);
        await new AuditLog({ db: t.db, clock: systemClock }).record(
          systemCaller('test.lock-order'),
          {
            action: 'test.probe',
            entityType: 'test',
            entityId: 'probe',
            after: {},
          },
        );
      })
      .then(
        () => 'appended',
        (error: unknown) => `waited: ${error instanceof Error ? error.message : String(error)}`,
      );
    release();
    await holder;
    const ran = await batch;
    expect(probe).toBe('appended');
    expect(ran.statusCode, ran.body).toBe(200);
    expect(ran.json<{ batch: { payoutIds: string[] } | null }>().batch?.payoutIds.length).toBe(1);
  });
});

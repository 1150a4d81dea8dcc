import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit';
import { rowsOf } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

/**
 * Idempotency-Key on the creating POSTs of invoices and payouts: a retry answers what the first
 * request created and writes nothing (no second row, gate decision, address or reservation); the
 * key with another body is refused and writes nothing; two requests racing with one key create
 * one row; keys are per company; creations at once each get their one decision, none without its
 * row, and the audit chain verifies.
 */
describe.each(TEST_DRIVERS)('idempotent invoice and payout creation on %s', (driver) => {
  let t: TwoTenants;
  let exportContract: string;
  let importContract: string;

  beforeAll(async () => {
    t = await openTwoTenants(driver);
    exportContract = await t.contract('active', 'export');
    importContract = await t.contract('active', 'import');
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (url: string, who: Auth, body: object, key?: string) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { ...who, ...(key === undefined ? {} : { 'idempotency-key': key }) },
      payload: body,
    });

  const decisionsFor = async (transferId: string) =>
    Number(
      rowsOf(
        await t.db.orm.execute(
          sql`select count(*)::int as n from compliance_decisions where transfer_id = ${transferId}`,
        ),
      )[0]!.n,
    );

  it('answers a retried invoice request with the first invoice and writes nothing', async () => {
    const body = { contractId: exportContract, amount: '250.00', description: 'Lot 12' };
    const first = await post('/v1/invoices', t.B.company, body, 'order-12-attempt');
    expect(first.statusCode).toBe(201);
    const invoice = first.json<{ id: string; address: string }>();
    const before = await t.snapshot();

    // The same body with its keys in another order is the same request.
    const retry = await post(
      '/v1/invoices',
      t.B.company,
      { description: 'Lot 12', amount: '250.00', contractId: exportContract },
      'order-12-attempt',
    );
    expect(retry.statusCode).toBe(200);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    expect(retry.json()).toMatchObject({ id: invoice.id, address: invoice.address });
    expect(await t.snapshot()).toEqual(before);
    expect(await decisionsFor(invoice.id)).toBe(1);

    // The key with another request is refused, and nothing is written.
    const other = await post(
      '/v1/invoices',
      t.B.company,
      { ...body, amount: '251.00' },
      'order-12-attempt',
    );
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
    expect(other.json<{ message: string }>().message).toContain(invoice.id);
    expect(await t.snapshot()).toEqual(before);

    // Keys belong to a company: another tenant's company may use the same one.
    const elsewhere = await post(
      '/v1/invoices',
      t.A.company,
      { contractId: await t.contract('active', 'export', t.A), amount: '250.00' },
      'order-12-attempt',
    );
    expect(elsewhere.statusCode).toBe(201);
    expect(elsewhere.json<{ id: string }>().id).not.toBe(invoice.id);
  });

  it('refuses a malformed key before anything is written', async () => {
    const before = await t.snapshot();
    for (const key of ['', 'x'.repeat(256), 'has space', 'ключ']) {
      const response = await post(
        '/v1/invoices',
        t.B.company,
        { contractId: exportContract, amount: '10.00' },
        key,
      );
      expect(response.statusCode, JSON.stringify(key)).toBe(400);
      expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    }
    expect(await t.snapshot()).toEqual(before);
  });

  it('answers a retried payout request with the first payout: one gate decision', async () => {
    const body = { contractId: importContract, amount: '100000', address: t.B.supplierAddress };
    const first = await post('/v1/payouts', t.B.officer, body, 'payout-7');
    expect(first.statusCode).toBe(201);
    const payout = first.json<{ id: string }>();
    const before = await t.snapshot();
    const retry = await post('/v1/payouts', t.B.officer, body, 'payout-7');
    expect(retry.statusCode).toBe(200);
    expect(retry.json()).toMatchObject({ id: payout.id });
    expect(await t.snapshot()).toEqual(before);
    expect(await decisionsFor(payout.id)).toBe(1);
    const other = await post('/v1/payouts', t.B.officer, { ...body, amount: '100001' }, 'payout-7');
    expect(other.json()).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('gives each of many creations at once its one decision, and no decision without its row', async () => {
    const invoices = Array.from({ length: 8 }, (_, i) =>
      post(
        '/v1/invoices',
        t.B.company,
        { contractId: exportContract, amount: `3${i}.00` },
        `burst-${i}`,
      ),
    );
    const unkeyed = Array.from({ length: 4 }, (_, i) =>
      post('/v1/invoices', t.B.company, { contractId: exportContract, amount: `4${i}.00` }),
    );
    const payouts = Array.from({ length: 4 }, (_, i) =>
      post(
        '/v1/payouts',
        t.B.officer,
        { contractId: importContract, amount: `${20_000 + i}`, address: t.B.supplierAddress },
        `burst-payout-${i}`,
      ),
    );
    const answers = await Promise.all([...invoices, ...unkeyed, ...payouts]);
    expect(answers.map((a) => a.statusCode)).toEqual(answers.map(() => 201));
    const ids = answers.map((a) => a.json<{ id: string }>().id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(await decisionsFor(id), id).toBe(1);
    // Every decision of the scheme is a row's: none is left for a transfer never created.
    const orphans = rowsOf(
      await t.db.orm.execute(sql`
        select d.transfer_id from compliance_decisions d
        where not exists (select 1 from trade_invoices i where i.id = d.transfer_id)
          and not exists (select 1 from trade_payouts p where p.id = d.transfer_id)`),
    );
    expect(orphans).toEqual([]);
    expect(await verifyAuditChain(t.db.orm)).toMatchObject({ ok: true });
  });

  it('creates one invoice when two requests with one key race', async () => {
    const body = { contractId: exportContract, amount: '75.00' };
    const answers = await Promise.all(
      [0, 1, 2].map(() => post('/v1/invoices', t.B.company, body, 'race-1')),
    );
    expect(answers.map((a) => a.statusCode).sort()).toEqual([200, 200, 201]);
    const ids = new Set(answers.map((a) => a.json<{ id: string }>().id));
    expect(ids.size).toBe(1);
    const [id] = [...ids];
    expect(await decisionsFor(id!)).toBe(1);
    const stored = rowsOf(
      await t.db.orm.execute(
        sql`select count(*)::int as n from trade_invoices where idempotency_key = 'race-1'`,
      ),
    );
    expect(stored[0]!.n).toBe(1);
  });
});

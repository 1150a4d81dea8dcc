import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../../src/audit';
import { rowsOf } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { openTwoTenants, type Auth, type Tenant, type TwoTenants } from '../support/two-tenants';

/**
 * POST /v1/invoices through the policy gate's group commit: creations of several companies at
 * once share transactions, each invoice committed with its decision, its address, its audit event
 * and its announcement (one transaction id for all of them); a creation that no longer fits its
 * contract when its batch commits fails alone, leaving no decision, and the others commit.
 */
describe.each(TEST_DRIVERS)('invoice creation in group commit on %s', (driver) => {
  let t: TwoTenants;

  beforeAll(async () => {
    t = await openTwoTenants(driver);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (who: Auth, body: object) =>
    t.app.inject({ method: 'POST', url: '/v1/invoices', headers: who, payload: body });

  const call = async (method: 'POST', url: string, who: Auth, body: object = {}) => {
    const response = await t.app.inject({ method, url, headers: who, payload: body });
    expect(response.statusCode, response.body).toBeLessThan(300);
    return response.json<{ id: string }>();
  };

  /** An active export contract of `of` for `amount` USD (four eyes: maker, then checker). */
  const smallContract = async (of: Tenant, amount: string) => {
    const { id } = await call('POST', '/v1/contracts', of.officer, {
      companyId: of.companyId,
      counterpartyId: of.buyerId,
      direction: 'export',
      goodsDescription: 'Green coffee, 1 t',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount,
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount }],
    });
    await call('POST', `/v1/contracts/${id}/submit`, of.officer);
    await call('POST', `/v1/contracts/${id}/approve`, of.checker);
    await call('POST', `/v1/contracts/${id}/activate`, of.checker);
    return id;
  };

  /** Per invoice: the transaction ids of its row, its decision, its address and its audit event. */
  const units = async (ids: string[]) =>
    rowsOf(
      await t.db.orm.execute(sql`
        select i.id, i.company_id, i.xmin::text as row, d.xmin::text as decision,
          a.xmin::text as address, e.xmin::text as audit, count(d.id) over (partition by i.id) as n
        from trade_invoices i
        left join compliance_decisions d on d.transfer_id = i.id
        left join wallet_addresses a on a.address = i.address
        left join audit_events e on e.entity_id = i.id and e.action = 'invoice.created'
        where i.id in (${sql.join(
          ids.map((id) => sql`${id}`),
          sql`, `,
        )})`),
    ).map((r) => ({
      id: String(r.id),
      company: String(r.company_id),
      row: String(r.row),
      decision: String(r.decision),
      address: String(r.address),
      audit: String(r.audit),
      n: Number(r.n),
    }));

  const noOrphanDecisions = async () =>
    rowsOf(
      await t.db.orm.execute(sql`
        select d.transfer_id from compliance_decisions d
        where d.transfer_id like 'inv_%'
          and not exists (select 1 from trade_invoices i where i.id = d.transfer_id)`),
    );

  it('commits creations of two companies at once together, each with its decision', async () => {
    const a = await t.contract('active', 'export', t.A);
    const b = await t.contract('active', 'export', t.B);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        post(i % 2 ? t.A.company : t.B.company, {
          contractId: i % 2 ? a : b,
          amount: `${10 + i}.00`,
        }),
      ),
    );
    expect(answers.map((r) => r.statusCode)).toEqual(answers.map(() => 201));
    const ids = answers.map((r) => r.json<{ id: string }>().id);
    const stored = await units(ids);
    expect(stored).toHaveLength(12);
    for (const s of stored) {
      // The row, its one decision, its address and its audit event: one committed unit.
      expect(s.n, s.id).toBe(1);
      expect([s.decision, s.address, s.audit], s.id).toEqual([s.row, s.row, s.row]);
    }
    // Fewer transactions than creations, and one of them holds both companies' invoices.
    const byUnit = new Map<string, typeof stored>();
    for (const s of stored) byUnit.set(s.row, [...(byUnit.get(s.row) ?? []), s]);
    expect(byUnit.size).toBeLessThan(12);
    expect(
      [...byUnit.values()].some((group) => new Set(group.map((s) => s.company)).size === 2),
    ).toBe(true);
    expect(await noOrphanDecisions()).toEqual([]);
    expect(await verifyAuditChain(t.db.orm)).toMatchObject({ ok: true });
  });

  it('fails alone a creation that no longer fits its contract; the others commit', async () => {
    const small = await smallContract(t.B, '1500.00');
    const other = await t.contract('active', 'export', t.A);
    const before = Number(
      rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from compliance_decisions`))[0]!
        .n,
    );
    // Each of the two fits the contract alone, not both: decided together, one must fail.
    const answers = await Promise.all([
      post(t.B.company, { contractId: small, amount: '900.00' }),
      post(t.A.company, { contractId: other, amount: '11.00' }),
      post(t.B.company, { contractId: small, amount: '900.00' }),
      post(t.A.company, { contractId: other, amount: '12.00' }),
    ]);
    const codes = answers.map((r) => r.statusCode);
    expect([codes[0], codes[2]].sort()).toEqual([201, 422]);
    expect([codes[1], codes[3]]).toEqual([201, 201]);
    const refused = answers.find((r) => r.statusCode === 422)!;
    expect(refused.json()).toMatchObject({ code: 'AMOUNT_EXCEEDS_OPEN' });
    const created = answers
      .filter((r) => r.statusCode === 201)
      .map((r) => r.json<{ id: string }>().id);
    for (const s of await units(created)) expect([s.n, s.decision], s.id).toEqual([1, s.row]);
    // Three decisions, the refused request's none.
    const after = Number(
      rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from compliance_decisions`))[0]!
        .n,
    );
    expect(after - before).toBe(3);
    expect(await noOrphanDecisions()).toEqual([]);
    expect(await verifyAuditChain(t.db.orm)).toMatchObject({ ok: true });
  });
});

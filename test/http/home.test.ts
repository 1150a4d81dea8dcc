import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../../src/db';
import { TEST_DRIVERS } from '../support/db';
import { openTwoTenants, type Auth, type TwoTenants } from '../support/two-tenants';

interface Home {
  role: string;
  figures: { key: string; value: string; href: string | null }[];
  queues: {
    key: string;
    total: number;
    items: { id: string; title: string; detail: string; href: string; sats: string | null }[];
  }[];
}

/**
 * GET /v1/home: every role's figures and queues, checked against the database, within the
 * caller's tenancy (tenant A's callers see nothing of B's), maker-checker in the officer's
 * approval queue, names instead of ids, and two queries whatever the data.
 */
describe.each(TEST_DRIVERS)('home pages on %s', (driver) => {
  let t: TwoTenants;
  let recorded: string[] = [];
  let recording = false;

  beforeAll(async () => {
    t = await openTwoTenants(driver, {
      onQuery: (query) => {
        if (recording) recorded.push(query);
      },
    });
  }, 300_000);
  afterAll(async () => t?.close());

  const home = async (auth: Auth): Promise<Home> => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/home', headers: auth });
    expect(response.statusCode, response.body).toBe(200);
    return response.json<Home>();
  };
  const figure = (h: Home, key: string) => h.figures.find((f) => f.key === key)?.value;
  const queue = (h: Home, key: string) => {
    const found = h.queues.find((q) => q.key === key);
    if (!found) throw new Error(`no queue ${key} in ${h.role}'s home`);
    return found;
  };
  const scalar = async (query: ReturnType<typeof sql>) =>
    String(Object.values(rowsOf(await t.db.orm.execute(query))[0] ?? {})[0]);
  const legalName = (id: string) =>
    scalar(sql`select legal_name from participants where id = ${id}`);

  it('shows a payout to the checker, not to its maker, nor to another platform', async () => {
    const payoutId = await t.payout();
    const checker = await home(t.B.checker);
    const approvals = queue(checker, 'approvals');
    expect(approvals.items.map((i) => i.id)).toContain(payoutId);
    const item = approvals.items.find((i) => i.id === payoutId)!;
    expect(item.href).toBe(`/trade/payouts/${payoutId}`);
    // Names, not ids: the company and the supplier.
    expect(item.title).toBe(
      `${await legalName(t.B.companyId)} → ${await legalName(t.B.supplierId)}`,
    );
    expect(figure(checker, 'approvals')).toBe(
      await scalar(sql`select count(*) from trade_payouts
        where platform_id = ${t.B.platformId} and status = 'awaitingApproval'`),
    );
    // The maker never approves their own payout; the other platform never sees it.
    expect(queue(await home(t.B.officer), 'approvals').items.map((i) => i.id)).not.toContain(
      payoutId,
    );
    const foreign = await t.app.inject({ method: 'GET', url: '/v1/home', headers: t.A.officer });
    expect(foreign.body).not.toContain(payoutId);
    expect(foreign.body).not.toContain(t.B.companyId);
    // Approved by the checker: gone from the checker's queue too.
    const approved = await t.app.inject({
      method: 'POST',
      url: `/v1/payouts/${payoutId}/approve`,
      headers: t.B.checker,
    });
    expect(approved.statusCode, approved.body).toBe(200);
    expect(queue(await home(t.B.checker), 'approvals').items.map((i) => i.id)).not.toContain(
      payoutId,
    );
    expect(figure(await home(t.B.officer), 'batches.inFlight')).toBe(
      await scalar(sql`select count(*) from trade_batches where platform_id = ${t.B.platformId}
        and status in ('awaitingSignature', 'signed', 'broadcast')`),
    );
    expect(figure(await home(t.A.officer), 'batches.inFlight')).toBe('0');
  });

  it("gives a company its invoices by state and contract balances, another company's never", async () => {
    const invoiceId = await t.invoice();
    const company = await home(t.B.company);
    expect(company.role).toBe('company');
    expect(figure(company, 'invoices.new')).toBe(
      await scalar(
        sql`select count(*) from trade_invoices where company_id = ${t.B.companyId} and status = 'new'`,
      ),
    );
    const invoice = queue(company, 'invoices').items.find((i) => i.id === invoiceId);
    expect(invoice?.href).toBe(`/trade/invoices/${invoiceId}`);
    expect(invoice?.title).toBe(await legalName(t.B.buyerId));
    const open =
      await scalar(sql`select sum(amount_minor - settled_amount)::text from trade_contracts
      where company_id = ${t.B.companyId} and status in ('approved', 'active') and currency = 'USD'`);
    expect(figure(company, 'contracts.open.USD')).toBe(open);
    const other = await t.app.inject({ method: 'GET', url: '/v1/home', headers: t.A.company });
    expect(other.body).not.toContain(invoiceId);
    expect(other.body).not.toContain(t.B.buyerId);
  });

  it("shows the supervisor today's refusals, open cases and expiring licences by name", async () => {
    // A's licence now ends in ten days.
    await t.db.orm.execute(sql`update licences set valid_to = timestamptz '2026-07-11T00:00:00Z'
      where id = ${t.A.licenceId}`);
    const supervisor = await home(t.supervisor);
    expect(figure(supervisor, 'licences.expiring')).toBe('1');
    expect(queue(supervisor, 'licences').items).toEqual([
      expect.objectContaining({
        id: t.A.licenceId,
        title: await legalName(t.A.platformId),
        href: `/registry/licences?id=${t.A.licenceId}`,
      }),
    ]);
    expect(figure(supervisor, 'refusals.today')).toBe(
      await scalar(sql`select count(*) from compliance_decisions
        where outcome = 'block' and decided_at >= timestamptz '2026-07-01T00:00:00Z'`),
    );
    expect(queue(supervisor, 'cases').total).toBe(
      Number(await scalar(sql`select count(*) from compliance_cases where state <> 'closed'`)),
    );
  });

  it('gives a miner its own output and violations, and the auditor the audit head', async () => {
    const miner = await home(t.miners.own.key);
    expect(figure(miner, 'outputs')).toBe(
      await scalar(
        sql`select count(*) from mining_attributions where miner_id = ${t.miners.own.id}`,
      ),
    );
    const response = await t.app.inject({
      method: 'GET',
      url: '/v1/home',
      headers: t.miners.own.key,
    });
    expect(response.body).not.toContain(t.miners.other.siteId);
    const auditor = await home(t.auditor);
    expect(figure(auditor, 'audit.events')).toBe(
      await scalar(sql`select count::text from audit_head`),
    );
    const actions = queue(auditor, 'actions').items;
    expect(actions.length).toBeGreaterThan(0);
    for (const action of actions) expect(action.href).toMatch(/^\/audit\?entityId=/);
  });

  it('answers every role in the same two queries whatever the data', async () => {
    const queriesOf = async (auth: Auth) => {
      recorded = [];
      recording = true;
      try {
        await home(auth);
      } finally {
        recording = false;
      }
      // The key lookup and its last-used stamp are the authentication's, not the page's.
      return recorded.filter((q) => /^\s*select/i.test(q) && !q.includes('"api_keys"'));
    };
    const callers = [t.supervisor, t.auditor, t.B.checker, t.B.company, t.miners.own.key];
    const before = [];
    for (const c of callers) before.push((await queriesOf(c)).length);
    for (let i = 0; i < 5; i++) {
      await t.invoice();
      await t.payout();
    }
    const after = [];
    for (const c of callers) after.push((await queriesOf(c)).length);
    expect(after).toEqual(before);
    console.info(`home queries per role: ${after.join(', ')}`);
    expect(after).toEqual(callers.map(() => 2));
  });

  it('refuses an anonymous caller', async () => {
    const response = await t.app.inject({ method: 'GET', url: '/v1/home' });
    expect(response.statusCode).toBe(401);
  });
});

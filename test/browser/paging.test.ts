import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  screenshot,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { systemCaller, type Caller } from '../../src/kernel';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

/** More contracts (and counterparties, and licences) than one page holds (the API's default page is 50). */
const CONTRACTS = 61;

// The web app pages through a paged list: the first 50 rows, then "Load more" for the rest.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: paged tables', () => {
  let t: BrowserApp;

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, trade } = t.services;
    const platform = await registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Andes Exchange',
      country: 'CO',
    });
    const licence = await registry.grantLicence(supervisor, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const register = (kind: 'company' | 'counterparty', legalName: string) =>
      registry.registerParticipant(supervisor, {
        kind,
        legalName,
        country: kind === 'counterparty' ? 'DE' : 'CO',
        platformId: platform.id,
      });
    const company = await register('company', 'Andes Coffee SA');
    const buyer = await register('counterparty', 'Hamburg Roasters GmbH');
    const officer: Caller = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:officer',
      personId: 'browser-test:officer',
      requestId: null,
    };
    // One draft contract made by the service, then copies of it (fresh ids, a minute apart).
    const made = await trade.contracts.create(officer, {
      companyId: company.id,
      counterpartyId: buyer.id,
      direction: 'export',
      goodsDescription: 'Green coffee, lot 1',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '1000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-12-15', amount: '1000.00' }],
    });
    await t.db.orm.execute(
      sql.raw(`insert into trade_contracts
        select (json_populate_record(null::trade_contracts, (to_jsonb(c) || jsonb_build_object(
          'id', 'ctr_PAGE' || lpad(n::text, 22, '0'),
          'goods_description', 'Green coffee, lot ' || (n + 1),
          'created_at', c.created_at - n * interval '1 minute'))::json)).*
        from trade_contracts c, generate_series(1, ${CONTRACTS - 1}) n
        where c.id = '${made.id}'`),
    );
    // Copies of the buyer, older than it; and of the licence: newer active ones, and one older
    // suspended, so that the suspended one is behind more than a page of active ones.
    await t.db.orm.execute(
      sql.raw(`insert into participants
        select (json_populate_record(null::participants, (to_jsonb(p) || jsonb_build_object(
          'id', 'par_PAGE' || lpad(n::text, 22, '0'),
          'legal_name', 'Hamburg Roasters ' || n,
          'created_at', p.created_at - n * interval '1 minute'))::json)).*
        from participants p, generate_series(1, ${CONTRACTS - 1}) n
        where p.id = '${buyer.id}'`),
    );
    await t.db.orm.execute(
      sql.raw(`insert into licences
        select (json_populate_record(null::licences, (to_jsonb(l) || jsonb_build_object(
          'id', 'lic_PAGE' || lpad(n::text, 22, '0'),
          'scope', 'copy ' || n,
          'status', case when n = 0 then 'suspended' else 'active' end,
          'status_reason', case when n = 0 then 'held back for the test' end,
          'created_at', l.created_at + (n - 1) * interval '1 minute'))::json)).*
        from licences l, generate_series(0, ${CONTRACTS - 1}) n
        where l.id = '${licence.id}'`),
    );
    // Superseded snapshots of a list, one a minute: more than a page of them.
    await t.db.orm.execute(
      sql.raw(`insert into compliance_list_snapshots (id, list_key, source, publication_date,
          content_hash, counts, imported_at, imported_by, active)
        select 'snp_PAGE' || lpad(n::text, 22, '0'), 'page-copy', 'ofac-sdn', null,
          'page-copy-' || n, '{}'::jsonb,
          timestamptz '2026-01-01T00:00:00Z' + n * interval '1 minute', 'test', false
        from generate_series(1, ${CONTRACTS}) n`),
    );
    await t.user({ username: 'sofia', role: 'supervisor', participantId: 'scheme' });
  }, 240_000);
  afterAll(() => t?.close());

  it('shows the first page of contracts, then loads the rest on request', async () => {
    const page = await t.page('sofia');
    await page.goto(`${t.baseUrl}/trade/contracts`);
    const filter = page.getByLabel('Filter Contracts');
    const row = (lot: number) =>
      // The goods name the contract (its id on hover and behind a copy button).
      page.locator('td').getByText(`Green coffee, lot ${lot}`, { exact: true });
    await expect.poll(() => page.getByText('50 loaded, newest first').count()).toBe(1);
    // The first page holds the 50 newest (lot 1 was made last): lot 50 is in it, lot 51 not.
    await filter.fill('lot 50');
    await expect.poll(() => row(50).count()).toBe(1);
    await filter.fill('lot 51');
    await expect.poll(() => page.getByText('No rows match the filter.').count()).toBe(1);
    await screenshot(page, 'paging-contracts-first-page');
    await page.getByRole('button', { name: 'Load more' }).click();
    // The last page is in: nothing more to load, and the oldest rows are there.
    await expect.poll(() => row(51).count()).toBe(1);
    await filter.fill('lot 61');
    await expect.poll(() => row(61).count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
  });

  it('pages through participants, and filters licences by status on the server', async () => {
    const page = await t.page('sofia');
    await page.goto(`${t.baseUrl}/registry/participants`);
    await expect.poll(() => page.getByText('50 loaded, newest first').count()).toBe(1);
    const filter = page.getByLabel('Filter Participants');
    const row = (name: string) => page.getByRole('cell', { name, exact: true });
    await filter.fill('Hamburg Roasters 60');
    await expect.poll(() => page.getByText('No rows match the filter.').count()).toBe(1);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => row('Hamburg Roasters 60').count()).toBe(1);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    // The suspended licence is older than 60 active ones: the server's filter finds it at once.
    await page.goto(`${t.baseUrl}/registry/licences?status=suspended`);
    await expect
      .poll(() => page.getByRole('cell', { name: 'copy 0', exact: true }).count())
      .toBe(1);
    expect(await page.getByRole('cell', { name: 'copy 1', exact: true }).count()).toBe(0);
    await page.goto(`${t.baseUrl}/registry/licences`);
    await expect.poll(() => page.getByText('50 loaded, newest first').count()).toBe(1);
  });

  it('pages through the sanctions list snapshots', async () => {
    const page = await t.page('sofia');
    await page.goto(`${t.baseUrl}/compliance/lists`);
    await page.getByRole('button', { name: 'Show all' }).click();
    await expect.poll(() => page.getByText('50 loaded, newest first').count()).toBe(1);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    // Every copy is in, the oldest too.
    await page.getByLabel('Filter List snapshots').fill('page-copy');
    await expect.poll(() => page.getByText(`${CONTRACTS} rows`, { exact: false }).count()).toBe(1);
  });
});

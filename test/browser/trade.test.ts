import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { LocalKeySigner } from '../../src/bitcoin';
import { systemCaller, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';
import { testVasp } from '../support/vasp';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// A regtest P2WPKH address (BIP173's test program with the regtest prefix).
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

// Trade journeys in a real Chromium against the real server: a company registers a contract
// and invoices its buyer, who opens the public pay page; two officers take a payout through
// maker-checker; the supervisor closes a case; a company cannot reach others' data by URL; an
// officer finds a company's statement by typing part of its name.
// Here the platform officer registers the contract for the company, and the company invoices on
// it (a company registering its own contract with its platform's counterparty is in
// registry.test.ts).
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: trade, payouts, cases, tenancy', () => {
  let t: BrowserApp;
  let companyId: string;
  let buyerId: string;
  let platformId: string;
  let invoiceId = '';
  let licenceId = '';

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, trade, rates } = t.services;
    const register = (
      kind: 'platform' | 'company' | 'counterparty',
      legalName: string,
      platformId?: string,
    ) =>
      registry.registerParticipant(supervisor, {
        kind,
        legalName,
        country: kind === 'counterparty' ? 'DE' : 'CO',
        ...(platformId ? { platformId } : {}),
      });
    const verify = (id: string) =>
      registry.setKyc(supervisor, id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [
          {
            type: 'certificate of incorporation',
            number: `REG-${id.slice(-8)}`,
            issuer: 'registry',
          },
        ],
      });
    // The compliance gate needs the scheme's jurisdiction to decide any transfer.
    await registry.setSchemeJurisdiction(supervisor, {
      country: 'CO',
      name: 'Republic of Colombia (browser test scheme)',
    });
    const platform = await register('platform', 'Andes Exchange');
    licenceId = (
      await registry.grantLicence(supervisor, {
        participantId: platform.id,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
      })
    ).id;
    const company = await register('company', 'Andes Coffee SA', platform.id);
    const other = await register('company', 'Quito Cacao SA', platform.id);
    const buyer = await register('counterparty', 'Hamburg Roasters GmbH', platform.id);
    const supplier = await register('counterparty', 'Osaka Machinery KK', platform.id);
    for (const p of [company, other, buyer, supplier]) await verify(p.id);
    await registry.registerCounterpartyAddress(supervisor, supplier.id, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'JP Licensed Exchange'),
    });
    companyId = company.id;
    buyerId = buyer.id;
    platformId = platform.id;
    const officer: Caller = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    await registry.registerWallet(officer, {
      companyId: company.id,
      descriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
    });
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');
    // An active import contract for the payout journey.
    const imported = await trade.contracts.create(officer, {
      companyId: company.id,
      counterpartyId: supplier.id,
      direction: 'import',
      goodsDescription: 'Roasting machine',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '6000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '10000000',
      schedule: [{ dueDate: '2026-12-15', amount: '10000000' }],
    });
    // Four eyes: another officer of the platform approves.
    for (const action of ['submit', 'approve', 'activate'] as const)
      await trade.contracts.transition(
        action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
        imported.id,
        action,
      );

    await t.user({
      username: 'sofia',
      displayName: 'Sofia Supervisor',
      role: 'supervisor',
      participantId: 'scheme',
    });
    for (const [username, displayName] of [
      ['olga', 'Olga Officer'],
      ['otto', 'Otto Officer'],
    ] as const)
      await t.user({
        username,
        displayName,
        role: 'platform',
        participantId: platform.id,
        platformId: platform.id,
      });
    await t.user({
      username: 'carl',
      displayName: 'Carl of Andes Coffee',
      role: 'company',
      participantId: company.id,
      platformId: platform.id,
    });
    await t.user({
      username: 'cora',
      displayName: 'Cora of Quito Cacao',
      role: 'company',
      participantId: other.id,
      platformId: platform.id,
    });

    // A transfer above the contract's open amount: the monitoring rule sends it to review and
    // opens a case on the company, which the supervisor works below.
    const legal = (name: string) => ({
      legalPerson: {
        name: {
          nameIdentifier: [
            { legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' as const },
          ],
        },
      },
    });
    await t.db.transaction(() =>
      t.services.compliance.gate.decide(officer, {
        transferId: 'browser-transfer-1',
        direction: 'inbound',
        occurredAt: new Date(),
        amountSats: 50_000_000n,
        fiatValue: { minor: 3_000_000n, currency: 'USD', rate: '60000.00' },
        platform: { id: platform.id, licenceStatus: 'active' },
        company: {
          id: company.id,
          legalName: 'Andes Coffee SA',
          country: 'CO',
          kycStatus: 'verified',
        },
        counterparty: {
          id: buyer.id,
          legalName: 'Hamburg Roasters GmbH',
          otherNames: [],
          country: 'DE',
          kind: 'organization',
          kycStatus: 'verified',
          countryRiskLevel: 'low',
        },
        counterpartyAddress: { address: SUPPLIER_ADDRESS, asset: 'XBT', ownership: 'hosted' },
        schemeCountry: 'CO',
        refusedJurisdictions: [],
        contract: { id: imported.id, openAmountSats: 1_000_000n, toleranceSats: 0n },
        travelRule: {
          originator: { originatorPersons: [legal('Hamburg Roasters GmbH')] },
          beneficiary: { beneficiaryPersons: [legal('Andes Coffee SA')] },
          originatingVASP: { originatingVASP: legal('DE Licensed Exchange') },
          beneficiaryVASP: { beneficiaryVASP: legal('Andes Exchange') },
        },
      }),
    );
  });

  afterAll(async () => {
    await t?.close();
  });

  it('the platform registers a contract for the company (field errors shown), the company invoices and the pay page shows the QR', async () => {
    const officer = await t.page('olga');
    await officer
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Contracts' })
      .click();
    await officer.getByRole('button', { name: 'New contract' }).click();
    await choose(officer, 'Company', /Andes Coffee/);
    // The picker searches the registry by the name's prefix (one page of matches).
    await officer.getByLabel('Counterparty', { exact: true }).first().fill('hamb');
    await officer
      .getByRole('option', { name: /Hamburg Roasters/ })
      .first()
      .click();
    await officer.getByLabel('Goods').fill('Green coffee, 18 t');
    await officer.getByLabel('HS code').fill('0901');
    await officer.getByLabel('Amount', { exact: true }).fill('30000.00');
    await officer.getByLabel('Due date').fill('2026-12-01');
    await officer.getByRole('button', { name: 'Register contract' }).click();
    await expect
      .poll(() => officer.locator('[id$="-error"]').first().textContent())
      .toContain('must be a 6-digit HS code');
    expect(await seriousAxeViolations(officer)).toEqual([]);
    await screenshot(officer, 'platform-contract-field-error');
    await officer.getByLabel('HS code').fill('090111');
    await officer.getByRole('button', { name: 'Register contract' }).click();
    await officer.getByRole('cell', { name: 'Green coffee, 18 t' }).waitFor();
    await officer.getByRole('button', { name: /^Submit contract/ }).click();
    // Four eyes: the officer who registered and submitted it cannot approve it.
    await officer.getByRole('button', { name: /^Approve contract/ }).click();
    await expect
      .poll(() => officer.getByRole('alert').textContent())
      .toContain('another person must approve it');
    const checker = await t.page('otto');
    await checker
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Contracts' })
      .click();
    await checker.getByRole('button', { name: /^Approve contract/ }).click();
    await checker.getByRole('cell', { name: 'approved', exact: true }).waitFor();
    await officer.reload();
    await officer.getByRole('button', { name: /^Activate contract/ }).click();
    await expect
      .poll(() => officer.getByRole('cell', { name: 'active', exact: true }).count())
      .toBe(2);
    expect(await seriousAxeViolations(officer)).toEqual([]);
    await screenshot(officer, 'platform-contracts');

    const page = await t.page('carl');
    await page.getByRole('heading', { level: 1 }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-overview');
    // The company's own contract form offers its platform's counterparties.
    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Contracts' })
      .click();
    await page.getByRole('cell', { name: 'Green coffee, 18 t' }).waitFor();
    await page.getByRole('button', { name: 'New contract' }).click();
    await page.getByLabel('Counterparty', { exact: true }).first().click();
    await page.getByRole('option', { name: /Hamburg Roasters/ }).waitFor();
    await page.keyboard.press('Escape');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Invoices' }).click();
    await choose(page, 'Export contract', /Green coffee/);
    await page.getByLabel('Amount', { exact: true }).fill('900.00');
    await page.getByRole('button', { name: 'Issue invoice' }).click();
    await page.getByTestId('invoice-created').getByRole('link').click();
    await page.getByRole('heading', { name: /^Invoice inv_/ }).waitFor();
    invoiceId = page.url().split('/').pop() ?? '';
    const qr = page.getByTestId('invoice-qr');
    const uri = (await qr.getAttribute('alt')) ?? '';
    // 900.00 USD at 60,000 USD/BTC = 0.015 BTC (BIP21 amounts are in BTC). Below 1,000 USD, so
    // the gate asks for no Travel Rule data (FATF R.16 threshold).
    expect(uri).toMatch(/^bitcoin:bcrt1[a-z0-9]+\?amount=0\.015&message=Invoice%20inv_/);
    await expect
      .poll(() => qr.evaluate((img: { naturalWidth: number }) => img.naturalWidth))
      .toBeGreaterThan(0);
    expect(await page.getByText('0.01500000 BTC').count()).toBeGreaterThan(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-invoice-detail');

    // The buyer opens the pay page with no login.
    const buyer = await t.page();
    await buyer.goto(`/pay/${invoiceId}`);
    const payQr = buyer.getByRole('img');
    expect(await payQr.getAttribute('alt')).toBe(uri);
    await expect
      .poll(() => payQr.evaluate((img: { naturalWidth: number }) => img.naturalWidth))
      .toBeGreaterThan(0);
    expect(await buyer.getByTestId('amount').textContent()).toBe('0.01500000 BTC');
    expect(await buyer.getByRole('status').textContent()).toContain('Waiting for payment');
    await buyer.getByRole('button', { name: 'Copy address' }).waitFor();
    // The seller by name, the fiat in the browser's locale, a running countdown, a test-network
    // banner on regtest.
    expect(await buyer.getByTestId('seller').textContent()).toBeTruthy();
    expect(await buyer.getByTestId('fiat').textContent()).toBe('$900.00');
    expect(await buyer.getByTestId('network-banner').textContent()).toContain('regtest');
    const first = await buyer.getByTestId('countdown').textContent();
    expect(first).toMatch(/^\d+:\d\d$/);
    await expect.poll(() => buyer.getByTestId('countdown').textContent()).not.toBe(first);
    expect(await seriousAxeViolations(buyer)).toEqual([]);
    await screenshot(buyer, 'pay-page');
  }, 180_000);

  it('two officers take a payout through maker-checker: the maker cannot approve, the second officer can', async () => {
    const maker = await t.page('olga');
    await maker.goto('/trade/payouts');
    await choose(maker, 'Import contract', /Roasting machine/);
    // A fixed-BTC contract: the amount in BTC (1,000,000 sats).
    await maker.getByLabel('Amount', { exact: true }).fill('0.01');
    await maker.getByRole('combobox', { name: 'Supplier address' }).fill(SUPPLIER_ADDRESS);
    await maker.getByRole('button', { name: 'Request payout' }).click();
    await maker.getByRole('cell', { name: 'awaitingApproval' }).waitFor();
    await maker.getByRole('button', { name: /^Approve payout/ }).click();
    await expect
      .poll(() => maker.getByRole('alert').textContent())
      .toContain('cannot approve it, with any credential; another officer must');
    expect(await seriousAxeViolations(maker)).toEqual([]);
    await screenshot(maker, 'payout-maker-refused');

    const checker = await t.page('otto');
    await checker.goto('/trade/payouts');
    await checker.getByRole('button', { name: /^Approve payout/ }).click();
    await checker.getByRole('cell', { name: 'awaitingPayment' }).waitFor();
    expect(await checker.getByRole('cell', { name: '1/1' }).count()).toBe(1);
    expect(await seriousAxeViolations(checker)).toEqual([]);
    await screenshot(checker, 'payout-approved-by-checker');
  });

  it('the supervisor assigns, notes and closes a case with an outcome', async () => {
    const page = await t.page('sofia');
    await page.goto('/compliance/cases');
    // The party by its name, never its id.
    await page.getByRole('cell', { name: 'Andes Coffee SA' }).first().click();
    await page.getByRole('heading', { name: 'Case: Andes Coffee SA' }).waitFor();
    expect(await page.locator('main').textContent()).not.toContain(companyId);
    // The alerts come a page at a time from their own route; the view carries their count.
    await page.getByText(/^Alerts of the case \(\d+\)$/).waitFor();
    // The assignee is picked among the supervisor's staff, by name.
    await choose(page, 'Assignee', 'Sofia Supervisor');
    await page.getByRole('button', { name: 'Assign', exact: true }).click();
    const timeline = page.getByLabel('Case timeline');
    await timeline.getByText(/assigned to Sofia Supervisor/).waitFor();
    await page
      .getByLabel('Note or reason')
      .fill('Receipt above the contract; asked for the amended contract.');
    await page.getByRole('button', { name: 'Add note' }).click();
    await timeline.getByText(/asked for the amended contract/).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-case-open');
    await page.getByText('Confirmed', { exact: true }).click();
    await page.getByLabel('Note or reason').fill('Amended contract received and checked.');
    await page.getByRole('button', { name: 'Close without a report' }).click();
    await timeline.getByText(/closed as confirmed/).waitFor();
    await page.goto('/compliance/cases');
    await page.getByRole('cell', { name: 'closed' }).waitFor();
    expect(await page.getByRole('cell', { name: 'confirmed' }).count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-case-closed');
  });

  it('a company cannot reach supervisor pages or another company’s invoice by URL', async () => {
    expect(invoiceId).toMatch(/^inv_/);
    const page = await t.page('cora');
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Participants',
      'Wallets',
      'Contracts',
      'Invoices',
      'Payouts',
      'Settlements',
      'Bids',
      'Deals',
      'Reference rate',
      'API keys',
      'My account',
    ]);
    await page.goto('/compliance/cases');
    expect(await page.getByTestId('not-available').textContent()).toBe(
      'Cases is not available for your role (Company).',
    );
    await page.goto(`/trade/invoices/${invoiceId}`);
    await page.getByTestId('not-available').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-other-invoice-not-available');
    expect((await page.request.get(`/v1/invoices/${invoiceId}`)).status()).toBe(404);
    expect((await page.request.get('/v1/cases')).status()).toBe(403);
    await page.goto('/trade/invoices');
    await page.getByText('No invoices yet.').waitFor();
    await page.goto('/trade/settlements');
    await page.getByRole('heading', { name: 'Settlements' }).waitFor();
    // Nothing of Quito Cacao's has settled: the page says so rather than showing an error.
    await page.getByTestId('statement-empty').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-settlements');
  });

  it('an officer picks the company of a statement by typing part of its name: one page of matches, never every page', async () => {
    // A receipt settled to Andes Coffee's client funds, so its statement has a line.
    await t.db.transaction(() =>
      t.services.ledger.post(systemCaller('browser-test'), {
        kind: 'test.receipt',
        reference: 'browser-test:receipt-1',
        platformId,
        rate: null,
        postings: [
          {
            account: { participantId: companyId, purpose: 'clientFunds', platformId },
            amountSats: 150_000n,
          },
          {
            account: { participantId: buyerId, purpose: 'counterpartySettled', platformId },
            amountSats: -150_000n,
          },
        ],
      }),
    );
    const page = await t.page('olga');
    const lookups: URL[] = [];
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (url.pathname === '/v1/participants') lookups.push(url);
    });
    await page.goto('/trade/settlements');
    await page.getByRole('heading', { name: 'Settlements' }).waitFor();
    await page.getByText('Choose a company.').waitFor();
    await page.getByLabel('Company', { exact: true }).first().fill('andes');
    // The server offers the companies whose name starts with what was typed: not Quito Cacao,
    // not the platform Andes Exchange.
    await expect
      .poll(() => page.getByRole('option').allTextContents())
      .toEqual(['Andes Coffee SA (CO)']);
    expect(
      lookups.some(
        (url) =>
          url.searchParams.get('q') === 'andes' && url.searchParams.get('kind') === 'company',
      ),
    ).toBe(true);
    await page.getByRole('option', { name: 'Andes Coffee SA (CO)' }).click();
    const totals = page.getByTestId('statement-totals');
    await expect.poll(() => totals.textContent()).toContain('Closing 0.00150000 BTC');
    expect(await totals.textContent()).toContain('Debits 0.00150000 BTC');
    await page.getByRole('cell', { name: 'browser-test:receipt-1' }).waitFor();
    // No participant lookup walked the registry page after page or asked for more than a page.
    for (const url of lookups) {
      expect(url.searchParams.get('cursor')).toBeNull();
      expect(Number(url.searchParams.get('limit'))).toBeLessThanOrEqual(100);
    }
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-statement-company-search');
  });

  // Last: the suspension's hold raises nothing the journeys above look at.
  it('an officer releases a payout held while the licence was suspended; its maker cannot', async () => {
    const { registry } = t.services;
    const supervisor = systemCaller('browser-test');
    const maker = await t.page('olga');
    await maker.goto('/trade/payouts');
    await choose(maker, 'Import contract', /Roasting machine/);
    await maker.getByLabel('Amount', { exact: true }).fill('0.02');
    await maker.getByRole('combobox', { name: 'Supplier address' }).fill(SUPPLIER_ADDRESS);
    await maker.getByRole('button', { name: 'Request payout' }).click();
    await maker.getByRole('cell', { name: 'awaitingApproval', exact: true }).waitFor();
    // Suspended before the approval: the approval's check holds it.
    await registry.changeLicenceStatus(supervisor, licenceId, 'suspended', 'inspection findings');
    const checker = await t.page('otto');
    await checker.goto('/trade/payouts');
    await checker.getByRole('button', { name: /^Approve payout/ }).click();
    await checker.getByRole('cell', { name: 'held', exact: true }).waitFor();
    await registry.changeLicenceStatus(supervisor, licenceId, 'active', null);
    await maker.reload();
    await maker.getByRole('button', { name: /^Release payout/ }).click();
    await expect
      .poll(() => maker.getByRole('alert').textContent())
      .toContain('cannot release it, with any credential; another officer must');
    await checker.reload();
    await checker.getByRole('button', { name: /^Release payout/ }).click();
    // Held before its quorum: back to approval, every check run again.
    await checker.getByRole('cell', { name: 'awaitingApproval', exact: true }).waitFor();
    expect(await checker.getByRole('button', { name: /^Release payout/ }).count()).toBe(0);
    expect(await seriousAxeViolations(checker)).toEqual([]);
    await screenshot(checker, 'payout-released');
  });
});

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
import { systemCaller, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';
import { testVasp } from '../support/vasp';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// A regtest P2WPKH address (BIP173's test program with the regtest prefix).
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** The error shown under the input labelled `label` (Mantine links it by aria-describedby). */
async function fieldErrorAt(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true }).first();
  const described = (await input.getAttribute('aria-describedby')) ?? '';
  const id = described.split(/\s+/).find((part) => part.endsWith('-error'));
  return id ? ((await page.locator(`[id="${id}"]`).textContent()) ?? '') : '';
}

/** axe clean, and nothing wider than the viewport. */
async function clean(page: Page): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  expect(overflow, `the page is ${overflow}px wider than the viewport`).toBeLessThanOrEqual(0);
}

// The payout form as an officer uses it: contracts picked by supplier name, the address picked
// from the supplier's registered ones, the Travel Rule data filled from the registry, the amount
// in USD with BTC beside; a refusal says what is missing in the currency's own terms and leaves
// nothing behind, the retry clears it, and a supplier whose verification lapsed is named with a
// link to its record in the registry.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: the payout form', () => {
  let t: BrowserApp;
  let officer: Caller;
  let lapsedId = '';

  beforeAll(async () => {
    t = await startBrowserApp();
    const root = systemCaller('browser-test');
    const { registry, trade, rates } = t.services;
    const verify = (id: string, status: 'verified' | 'pending' = 'verified') =>
      registry.setKyc(root, id, {
        status,
        riskRating: 'low',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
      });
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: 'Andes Exchange',
      country: 'CO',
      lei: '5493001KJTIIGC8Y1R12',
    });
    await registry.grantLicence(root, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const register = async (kind: 'company' | 'counterparty', legalName: string) => {
      const p = await registry.registerParticipant(root, {
        kind,
        legalName,
        country: kind === 'company' ? 'CO' : 'JP',
        platformId: platform.id,
        addresses: [{ lines: ['Calle 93 #11-20'], city: 'Bogota', country: 'CO' }],
      });
      await verify(p.id);
      return p.id;
    };
    const companyId = await register('company', 'Andes Coffee SA');
    const supplierId = await register('counterparty', 'Osaka Machinery KK');
    lapsedId = await register('counterparty', 'Nagoya Tools KK');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    officer = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    for (const counterpartyId of [supplierId, lapsedId]) {
      const contract = await trade.contracts.create(officer, {
        companyId,
        counterpartyId,
        direction: 'import',
        goodsDescription: 'Roasting machines',
        hsCode: '841981',
        incoterm: 'CIF',
        currency: 'USD',
        amount: '9000.00',
        pricingMode: 'fiat',
        schedule: [{ dueDate: '2026-12-15', amount: '9000.00' }],
      });
      for (const action of ['submit', 'approve', 'activate'] as const)
        await trade.contracts.transition(
          action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
          contract.id,
          action,
        );
    }
    // Its KYC is up for renewal since its contract was activated.
    await verify(lapsedId, 'pending');
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');
    // The rate the API shows (GET /v1/rates) once one was used.
    await rates.current('USD');
    await t.user({
      username: 'olga',
      displayName: 'Olga Officer',
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  const payoutCount = async () => (await t.services.trade.payouts.list(officer)).items.length;

  for (const viewport of VIEWPORTS) {
    it(`requests a payout filled from the registry, refused then mended, at ${viewport.width}×${viewport.height}`, async () => {
      const page = await t.page('olga');
      await page.setViewportSize({ width: viewport.width, height: viewport.height });
      await page.goto('/trade/payouts');
      const before = await payoutCount();

      // No typed ids: the contract by its supplier's name, the address from the registered ones.
      await choose(page, 'Import contract', /^Osaka Machinery KK · Roasting machines · open/);
      await page.getByLabel('Amount', { exact: true }).fill('2000.00');
      await expect
        .poll(() => page.getByTestId('amount-beside').textContent())
        .toContain('0.03333334 BTC');
      await page.getByRole('combobox', { name: 'Supplier address' }).click();
      await page.getByRole('option', { name: SUPPLIER_ADDRESS }).click();
      // Every required Travel Rule field is filled from the registry, the platform as the
      // originating VASP and the supplier's VASP from its hosted address.
      await expect
        .poll(() => page.getByLabel('Originating VASP: name').inputValue())
        .toBe('Andes Exchange');
      await expect
        .poll(() => page.getByLabel('Beneficiary VASP: name').inputValue())
        .toBe('Osaka Exchange KK');
      expect(await page.getByLabel('Originator: legal name').inputValue()).toBe('Andes Coffee SA');
      expect(await page.getByLabel('Beneficiary: legal name').inputValue()).toBe(
        'Osaka Machinery KK',
      );
      await clean(page);

      // 2,000 USD reaches the Travel Rule threshold: the form says so before anything is sent,
      // and the data cannot be left out (the section is on, its switch disabled).
      const attach = page.getByRole('switch', { name: /Attach Travel Rule data/ });
      const required = page.getByTestId('travel-rule-required');
      await expect.poll(() => required.textContent()).toContain('USD 1,000.00');
      expect(await required.textContent()).not.toContain('minor units');
      expect(await attach.isChecked()).toBe(true);
      expect(await attach.isDisabled()).toBe(true);
      // Below the threshold it is optional again; in BTC, converted at the rate shown, the same.
      const amount = page.getByLabel('Amount', { exact: true });
      await amount.fill('999.99');
      await expect.poll(() => required.count()).toBe(0);
      expect(await attach.isDisabled()).toBe(false);
      const unit = (name: string) =>
        page.getByLabel('Amount unit').locator('label', { hasText: new RegExp(`^${name}$`) });
      await unit('BTC').click();
      await amount.fill('0.02');
      await required.waitFor();
      await unit('USD').click();
      await amount.fill('2000.00');
      await required.waitFor();

      // A required field left empty is found in the browser: nothing is sent, nothing created.
      await page.getByLabel('Originating VASP: name').fill('');
      await page.getByRole('button', { name: 'Request payout' }).click();
      await expect.poll(() => fieldErrorAt(page, 'Originating VASP: name')).not.toBe('');
      expect(await page.getByTestId('form-error').count()).toBe(0);
      expect(await payoutCount()).toBe(before);
      await clean(page);
      await screenshot(page, `payout-form-travel-rule-${viewport.name}`);

      // Mended: the payout is created.
      await page.getByLabel('Originating VASP: name').fill('Andes Exchange');
      await page.getByRole('button', { name: 'Request payout' }).click();
      await page.getByTestId('payout-created').waitFor();
      expect(await page.getByTestId('form-error').count()).toBe(0);
      expect(await payoutCount()).toBe(before + 1);

      // The lapsed supplier: named, with a link to its record in the registry.
      const alert = page.getByTestId('form-error');
      await choose(page, 'Import contract', /^Nagoya Tools KK · Roasting machines/);
      await page.getByLabel('Amount', { exact: true }).fill('500.00');
      await page.getByRole('combobox', { name: 'Supplier address' }).fill(SUPPLIER_ADDRESS);
      await page.getByRole('button', { name: 'Request payout' }).click();
      await expect.poll(() => alert.textContent()).toContain('Nagoya Tools KK has not passed KYC');
      expect(await payoutCount()).toBe(before + 1);
      await clean(page);
      await screenshot(page, `payout-form-unverified-${viewport.name}`);
      await page.getByRole('link', { name: 'Open Nagoya Tools KK in the registry' }).click();
      await page.waitForURL(`**/registry/participants?id=${lapsedId}`);
      await page.getByRole('dialog', { name: 'Nagoya Tools KK' }).waitFor();
      await clean(page);
      // Links of the old form (`?participant=`) are redirected to `?id=` and open the same party.
      await page.goto(`/registry/participants?participant=${lapsedId}`);
      await page.waitForURL(`**/registry/participants?id=${lapsedId}`);
      await page.getByRole('dialog', { name: 'Nagoya Tools KK' }).waitFor();
    }, 240_000);
  }
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  pickCountry,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { systemCaller, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';
import { testVasp } from '../support/vasp';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// A regtest P2WPKH address (BIP173's test program with the regtest prefix), hosted by a VASP.
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** The error shown under the input labelled `label` (Mantine links it by aria-describedby). */
async function errorAt(page: Page, label: string): Promise<string> {
  const input = page.getByLabel(label, { exact: true }).first();
  const described = (await input.getAttribute('aria-describedby')) ?? '';
  const id = described.split(/\s+/).find((part) => part.endsWith('-error'));
  return id ? ((await page.locator(`[id="${id}"]`).textContent()) ?? '') : '';
}

/** Waits until no CSS transition runs (a modal fading in is checked by axe once it is opaque). */
async function settled(page: Page): Promise<void> {
  // Evaluated as a string: this file is compiled for Node, without the DOM's types.
  await expect.poll(() => page.evaluate<number>('document.getAnimations().length')).toBe(0);
}

// A platform officer registers a foreign sole trader as a natural person from the participants
// page, and the company's payout to it carries an IVMS101 naturalPerson (last name, first names,
// country of residence, passport), checked in the browser before it is sent.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: a natural-person counterparty', () => {
  let t: BrowserApp;
  const ids = { platform: '', company: '', soleTrader: '' };
  let officer: Caller;

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, rates } = t.services;
    await registry.setSchemeJurisdiction(supervisor, {
      country: 'CO',
      name: 'Republic of Colombia (browser test scheme)',
    });
    ids.platform = (
      await registry.registerParticipant(supervisor, {
        kind: 'platform',
        legalName: 'Andes Exchange',
        country: 'CO',
      })
    ).id;
    await registry.grantLicence(supervisor, {
      participantId: ids.platform,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
    });
    ids.company = (
      await registry.registerParticipant(supervisor, {
        kind: 'company',
        legalName: 'Andes Coffee SA',
        country: 'CO',
        platformId: ids.platform,
        addresses: [{ lines: ['Carrera 43A 1-50'], city: 'Medellín', country: 'CO' }],
      })
    ).id;
    await registry.setKyc(supervisor, ids.company, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2030-01-01',
      beneficialOwners: [],
      documents: [{ type: 'certificate of incorporation', number: 'MED-2011-88', issuer: 'CCM' }],
    });
    officer = {
      role: 'platform',
      participantId: ids.platform,
      platformId: ids.platform,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');
    await t.user({
      username: 'olga',
      displayName: 'Olga Officer',
      role: 'platform',
      participantId: ids.platform,
      platformId: ids.platform,
    });
    await t.user({
      username: 'carl',
      displayName: 'Carl of Andes Coffee',
      role: 'company',
      participantId: ids.company,
      platformId: ids.platform,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('an officer registers a sole trader as a natural person and sees the badge', async () => {
    const page = await t.page('olga');
    await page.goto('/registry/participants');
    await page.getByRole('button', { name: 'Register a participant' }).click();
    const form = page.getByRole('form', { name: 'Register a participant' });
    // Legal person by default, with the line that says why the choice matters.
    expect(await form.getByRole('radio', { name: 'Legal person (company)' }).isChecked()).toBe(
      true,
    );
    await form.getByText(/screening compares the name with listed individuals/).waitFor();
    // A company first, as before: a legal person.
    await form.getByLabel('Legal name').fill('Soieries du Rhône SARL');
    // The country is searched for by name among the ISO 3166-1 countries, and sent as its code.
    const country = form.getByLabel('Country', { exact: true });
    await country.click();
    await country.fill('fran');
    await page.getByRole('option', { name: 'France (FR)' }).click();
    expect(await country.inputValue()).toBe('France (FR)');
    await form.getByRole('button', { name: 'Register participant' }).click();
    await page
      .getByTestId('participant-registered')
      .getByText('legal person', { exact: true })
      .waitFor();
    const all = (await (await page.request.get('/v1/participants?limit=500')).json()) as {
      items: { legalName: string; country: string }[];
    };
    expect(all.items.find((p) => p.legalName === 'Soieries du Rhône SARL')?.country).toBe('FR');

    await page.getByRole('button', { name: 'Register a participant' }).click();
    await form.getByRole('radio', { name: 'Natural person (sole trader)' }).check();
    await form.getByLabel('First names').fill('Camille');
    await pickCountry(form, 'Country of residence', 'FR');
    await form.getByRole('button', { name: 'Register participant' }).click();
    await expect.poll(() => errorAt(page, 'Last name')).toBe('the last name is required');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-register-natural-person');
    await form.getByLabel('Last name').fill('Moreau');
    await form.getByLabel('Address line').fill('12 rue des Tanneurs');
    await form.getByLabel('Postcode').fill('69001');
    await form.getByLabel('City').fill('Lyon');
    await form.getByRole('button', { name: 'Register participant' }).click();
    const registered = page.getByTestId('participant-registered');
    await registered.getByText('natural person', { exact: true }).waitFor();
    expect(await registered.textContent()).toContain('Camille Moreau');

    // The table says which is which; the detail says why it matters.
    const row = page.getByRole('row', { name: /Camille Moreau/ });
    await row.getByText('natural person', { exact: true }).waitFor();
    expect(await page.getByRole('row', { name: /Soieries du Rhône SARL/ }).textContent()).toContain(
      'legal person',
    );
    await row.getByRole('cell', { name: 'Camille Moreau' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('natural person', { exact: true }).waitFor();
    await dialog.getByText(/screened against listed individuals/).waitFor();
    await settled(page);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-natural-person-detail');

    // What the server registered, through the API the page uses.
    const response = await page.request.get('/v1/participants?kind=counterparty');
    expect(response.status()).toBe(200);
    const { items: participants } = (await response.json()) as {
      items: Array<{
        id: string;
        legalName: string;
        personType: string;
        country: string;
        addresses: unknown[];
      }>;
    };
    const soleTrader = participants.find((p) => p.legalName === 'Camille Moreau');
    expect(soleTrader).toMatchObject({
      personType: 'natural',
      country: 'FR',
      addresses: [
        { lines: ['12 rue des Tanneurs'], city: 'Lyon', postalCode: '69001', country: 'FR' },
      ],
    });
    expect(participants.find((p) => p.legalName === 'Soieries du Rhône SARL')?.personType).toBe(
      'legal',
    );
    ids.soleTrader = soleTrader?.id ?? '';
  });

  it('a payout to the sole trader carries an IVMS101 naturalPerson, checked in the browser first', async () => {
    expect(ids.soleTrader).not.toBe('');
    const { registry, trade } = t.services;
    const supervisor = systemCaller('browser-test');
    await registry.setKyc(supervisor, ids.soleTrader, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2030-01-01',
      beneficialOwners: [],
      documents: [{ type: 'passport', number: '12AB34567', issuer: 'République française' }],
    });
    await registry.registerCounterpartyAddress(supervisor, ids.soleTrader, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'FR Licensed Exchange'),
    });
    const contract = await trade.contracts.create(officer, {
      companyId: ids.company,
      counterpartyId: ids.soleTrader,
      direction: 'import',
      goodsDescription: 'Hand-made roasting drums, 4 units',
      hsCode: '841981',
      incoterm: 'DAP',
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
        contract.id,
        action,
      );

    const page = await t.page('carl');
    await page.goto('/trade/payouts');
    await choose(page, 'Import contract', /roasting drums/);
    // 0.05 BTC at 60,000 USD/BTC is 3,000 USD: above the Travel Rule threshold (1,000 USD).
    await page.getByLabel('Amount', { exact: true }).fill('0.05');
    await page.getByRole('combobox', { name: 'Supplier address' }).fill(SUPPLIER_ADDRESS);
    await page.getByRole('switch', { name: /Attach Travel Rule data/ }).check();
    // The beneficiary comes from the registry as a natural person, its name split in two.
    expect(
      await page.getByRole('radio', { name: 'Natural person (sole trader)' }).isChecked(),
    ).toBe(true);
    expect(await page.getByLabel('Beneficiary: last name').inputValue()).toBe('Moreau');
    expect(await page.getByLabel('Beneficiary: first names').inputValue()).toBe('Camille');
    expect(
      await page
        .getByLabel('Beneficiary: country of residence', { exact: true })
        .first()
        .inputValue(),
    ).toBe('France (FR)');
    expect(await page.getByLabel('Beneficiary: town').inputValue()).toBe('Lyon');
    expect(await page.getByLabel('Originator: legal name').inputValue()).toBe('Andes Coffee SA');
    await page.getByLabel('Beneficiary: passport number').fill('12AB34567');
    // The issuing country is picked from the ISO 3166-1 list: a code that is none is not offered.
    await page.getByLabel('Beneficiary: issuing country', { exact: true }).first().fill('ZZ');
    await page.getByText('No country by that name or code').waitFor();
    await page.getByLabel('Beneficiary: issuing country', { exact: true }).first().press('Escape');
    await page.getByLabel('Beneficiary: date of birth').fill('2099-03-09');
    await page.getByLabel('Beneficiary: place of birth').fill('Lyon');
    await page.getByLabel('Originating VASP: name').fill('Andes Exchange');
    await page.getByLabel('Beneficiary VASP: name').fill('FR Licensed Exchange');
    await page.getByRole('button', { name: 'Request payout' }).click();
    // The gate's own checks, made in the browser: nothing is sent.
    await expect
      .poll(() => errorAt(page, 'Beneficiary: date of birth'))
      .toContain('IVMS101 C2 DateInPast');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-payout-natural-person-form');
    expect((await t.services.trade.payouts.list(systemCaller('check'))).items).toEqual([]);

    await pickCountry(page, 'Beneficiary: issuing country', 'FR');
    await page.getByLabel('Beneficiary: date of birth').fill('1984-03-09');
    await page.getByRole('button', { name: 'Request payout' }).click();
    await page.getByTestId('payout-created').getByRole('link').click();
    await page.getByRole('heading', { name: /^Payout pay_/ }).waitFor();
    await page.getByText('awaitingApproval').first().waitFor();
    const beneficiary = page
      .getByTestId('travel-rule')
      .getByRole('row', { name: /^Beneficiary / })
      .first();
    const shown = await beneficiary.textContent();
    for (const part of [
      'natural person',
      'Camille Moreau',
      'last name Moreau · first names Camille',
      'FR (residence)',
      'CCPT 12AB34567, issued by FR',
      'born 1984-03-09, Lyon',
      '12 rue des Tanneurs, 69001 Lyon, FR',
    ])
      expect(shown).toContain(part);
    expect(await page.getByRole('row', { name: /^Supplier/ }).textContent()).toContain(
      'natural person',
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-payout-natural-person-detail');

    // The API answers with the naturalPerson the form built, and the gate found nothing wrong.
    const payoutId = page.url().split('/').pop() ?? '';
    const response = await page.request.get(`/v1/payouts/${payoutId}`);
    expect(response.status()).toBe(200);
    const payout = (await response.json()) as {
      status: string;
      gate: { reasons: string[] };
      travelRule: {
        beneficiary: { beneficiaryPersons: unknown[] };
        originator: { originatorPersons: unknown[] };
      };
    };
    expect(payout.status).toBe('awaitingApproval');
    expect(payout.gate.reasons.filter((r) => r.includes('TRAVEL_RULE'))).toEqual([]);
    expect(payout.travelRule.beneficiary.beneficiaryPersons).toEqual([
      {
        naturalPerson: {
          name: [
            {
              nameIdentifier: [
                {
                  primaryIdentifier: 'Moreau',
                  secondaryIdentifier: 'Camille',
                  nameIdentifierType: 'LEGL',
                },
              ],
            },
          ],
          geographicAddress: [
            {
              addressType: 'GEOG',
              addressLine: ['12 rue des Tanneurs'],
              postcode: '69001',
              townName: 'Lyon',
              country: 'FR',
            },
          ],
          nationalIdentification: {
            nationalIdentifier: '12AB34567',
            nationalIdentifierType: 'CCPT',
            countryOfIssue: 'FR',
          },
          dateAndPlaceOfBirth: { dateOfBirth: '1984-03-09', placeOfBirth: 'Lyon' },
          countryOfResidence: 'FR',
        },
      },
    ]);
    expect(payout.travelRule.originator.originatorPersons).toMatchObject([
      { legalPerson: { countryOfRegistration: 'CO', customerNumber: ids.company } },
    ]);
  });

  it('an invoice to the sole trader makes it the natural-person originator, and IVMS101 C1 is asked in the browser', async () => {
    const { trade } = t.services;
    const contract = await trade.contracts.create(officer, {
      companyId: ids.company,
      counterpartyId: ids.soleTrader,
      direction: 'export',
      goodsDescription: 'Specialty coffee, 60 kg',
      hsCode: '090111',
      incoterm: 'EXW',
      currency: 'USD',
      amount: '2400.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-12-01', amount: '2400.00' }],
    });
    // Four eyes: another officer of the platform approves.
    for (const action of ['submit', 'approve', 'activate'] as const)
      await trade.contracts.transition(
        action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
        contract.id,
        action,
      );
    const page = await t.page('carl');
    await page.goto('/trade/invoices');
    await choose(page, 'Export contract', /Specialty coffee/);
    await page.getByLabel('Amount', { exact: true }).fill('1200.00');
    await page.getByRole('switch', { name: /Attach Travel Rule data/ }).check();
    expect(
      await page.getByRole('radio', { name: 'Natural person (sole trader)' }).isChecked(),
    ).toBe(true);
    expect(await page.getByLabel('Originator: last name').inputValue()).toBe('Moreau');
    expect(await page.getByLabel('Beneficiary: legal name').inputValue()).toBe('Andes Coffee SA');
    // Without the registered address, the buyer as originator has nothing but a name: C1.
    for (const field of ['street', 'postcode', 'town'])
      await page.getByLabel(`Originator: ${field}`).fill('');
    await page.getByLabel('Originating VASP: name').fill('FR Licensed Exchange');
    await page.getByRole('button', { name: 'Issue invoice' }).click();
    await expect.poll(() => errorAt(page, 'Originator: passport number')).toContain('IVMS101 C1');
    expect(await seriousAxeViolations(page)).toEqual([]);
    // Nothing was sent.
    expect((await t.services.trade.invoices.list(systemCaller('check'))).items).toEqual([]);
    await screenshot(page, 'company-invoice-natural-person-c1');
  });
});

import { readFileSync } from 'node:fs';
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
import { AppError, systemCaller, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';
import { testVasp } from '../support/vasp';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// Regtest P2WPKH addresses (BIP173's test programs with the regtest prefix).
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const LISTED_ADDRESS = 'bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry';
// UN consolidated list 2026-02-27, entity KPe.016, as the list spells it.
const LIST_ENTRY_NAME = 'KOREA RYONHA MACHINERY JOINT VENTURE CORPORATION';

/** What the company's pages must never show (rule, threshold, window, score, list entry). */
const LEAKS = [
  /structuring/i,
  /rule\.[a-z-]+@\d/,
  /10\s?000\.00|10,000/,
  /72 ?h/,
  /score \d/,
  /SANCTIONS_|MONITORING_/,
  /KPe\.016/,
  new RegExp(LIST_ENTRY_NAME),
  /lst_[0-9A-Z]{26}/,
];

const legal = (name: string, customerNumber?: string) => ({
  legalPerson: {
    name: {
      nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' as const }],
    },
    ...(customerNumber ? { customerNumber } : {}),
  },
});
const outbound = (beneficiary: string, vasp: string) => ({
  originator: { originatorPersons: [legal('Andes Coffee SA', 'CUST-0007')] },
  beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
  originatingVASP: { originatingVASP: legal('Andes Exchange') },
  beneficiaryVASP: { beneficiaryVASP: legal(vasp) },
});

const mainText = async (page: Page) => (await page.locator('main').textContent()) ?? '';

// No tipping-off (FATF R.21), in a real Chromium: the company reads "held for compliance review"
// and "refused" with a reference to quote; its platform's officer reads the rule and the list
// entry behind them; the foreign buyer of a refused invoice reads only that it cannot be paid.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: no tipping-off', () => {
  let t: BrowserApp;
  let heldId = '';
  let refusedId = '';
  let refusedInvoiceId = '';

  beforeAll(async () => {
    t = await startBrowserApp();
    const root = systemCaller('browser-test');
    const { registry, trade, rates, compliance } = t.services;
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia (test scheme)' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: 'Andes Exchange',
      country: 'CO',
    });
    await registry.grantLicence(root, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const party = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
      const p = await registry.registerParticipant(root, {
        kind,
        legalName,
        country,
        platformId: platform.id,
      });
      await registry.setKyc(root, p.id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [
          {
            type: 'certificate of incorporation',
            number: `REG-${p.id.slice(-8)}`,
            issuer: 'registry',
          },
        ],
      });
      return p.id;
    };
    const companyId = await party('company', 'Andes Coffee SA', 'CO');
    const supplierId = await party('counterparty', 'Osaka Machinery KK', 'JP');
    const listedId = await party('counterparty', 'Korea Ryonha Machinery Joint Venture Corp', 'CN');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    await registry.registerCounterpartyAddress(root, listedId, {
      address: LISTED_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Dalian Exchange'),
    });
    const officer: Caller = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    const company: Caller = {
      role: 'company',
      participantId: companyId,
      platformId: platform.id,
      actorId: 'browser-test:company',
      personId: 'browser-test:company',
      requestId: null,
    };
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    await registry.registerWallet(officer, {
      companyId,
      descriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
    });
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');
    const contract = async (counterpartyId: string, direction: 'import' | 'export') => {
      const created = await trade.contracts.create(officer, {
        companyId,
        counterpartyId,
        direction,
        goodsDescription: direction === 'import' ? 'Roasting machines' : 'Green coffee',
        hsCode: direction === 'import' ? '841981' : '090111',
        incoterm: 'CIF',
        currency: 'USD',
        amount: '90000.00',
        pricingMode: 'fixedBtc',
        btcAmountSats: '150000000',
        schedule: [{ dueDate: '2026-12-15', amount: '150000000' }],
      });
      // Four eyes: another officer (another person) approves.
      for (const action of ['submit', 'approve', 'activate'] as const)
        await trade.contracts.transition(
          action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
          created.id,
          action,
        );
      return created.id;
    };
    const supplierContract = await contract(supplierId, 'import');
    const listedImport = await contract(listedId, 'import');
    const listedExport = await contract(listedId, 'export');
    await compliance.screening.importList(root, {
      format: 'un-xml',
      bytes: new Uint8Array(
        readFileSync(
          new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url),
        ),
      ),
    });

    // Structuring: three payouts just under 10,000 USD; the third is held for review.
    for (let i = 0; i < 3; i++) {
      const payout = await trade.payouts.create(company, {
        contractId: supplierContract,
        amount: '15833333',
        address: SUPPLIER_ADDRESS,
        travelRule: outbound('Osaka Machinery KK', 'Osaka Exchange KK'),
      });
      heldId = payout.id;
    }
    const refused = async (create: () => Promise<unknown>, key: 'payoutId' | 'invoiceId') => {
      try {
        await create();
      } catch (error) {
        if (error instanceof AppError && error.code === 'TRANSFER_BLOCKED')
          return String(error.details?.[key]);
        throw error;
      }
      throw new Error('expected TRANSFER_BLOCKED');
    };
    refusedId = await refused(
      () =>
        trade.payouts.create(company, {
          contractId: listedImport,
          amount: '1000000',
          address: LISTED_ADDRESS,
          travelRule: outbound('Korea Ryonha Machinery Joint Venture Corp', 'Dalian Exchange'),
        }),
      'payoutId',
    );
    refusedInvoiceId = await refused(
      () => trade.invoices.create(company, { contractId: listedExport, amount: '500000' }),
      'invoiceId',
    );

    await t.user({
      username: 'carl',
      displayName: 'Carl of Andes Coffee',
      role: 'company',
      participantId: companyId,
      platformId: platform.id,
    });
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

  it('shows the company "held for compliance review" and "refused" with a reference, and no rule', async () => {
    const page = await t.page('carl');
    await page.goto(`/trade/payouts/${heldId}`);
    await page.getByText('held for compliance review').first().waitFor();
    const held = await mainText(page);
    expect(held).toMatch(/reference dec_[0-9A-Z]{26}/);
    expect(LEAKS.filter((re) => re.test(held))).toEqual([]);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-payout-held');

    await page.goto(`/trade/payouts/${refusedId}`);
    await page.getByText('refused', { exact: true }).first().waitFor();
    const refused = await mainText(page);
    expect(refused).toMatch(/reference dec_[0-9A-Z]{26}/);
    expect(LEAKS.filter((re) => re.test(refused))).toEqual([]);

    await page.goto('/trade/payouts');
    await page.getByRole('cell', { name: 'held for compliance review' }).waitFor();
    expect(await page.getByRole('cell', { name: 'refused', exact: true }).count()).toBe(1);
    const list = await mainText(page);
    expect(LEAKS.filter((re) => re.test(list))).toEqual([]);

    await page.goto(`/trade/invoices/${refusedInvoiceId}`);
    await page.getByText('refused', { exact: true }).first().waitFor();
    const invoice = await mainText(page);
    expect(invoice).toMatch(/reference dec_[0-9A-Z]{26}/);
    expect(LEAKS.filter((re) => re.test(invoice))).toEqual([]);
    await screenshot(page, 'company-invoice-refused');

    // The home feed: no alert raised or case opened on the company.
    await page.goto('/');
    await page.getByTestId('live-status').waitFor();
    expect(await mainText(page)).not.toMatch(/alert\.raised|case\.opened/);
  });

  it('shows the buyer of a refused invoice only that it cannot be paid', async () => {
    const buyer = await t.page();
    await buyer.goto(`/pay/${refusedInvoiceId}`);
    expect(await buyer.getByRole('status').textContent()).toContain('This invoice cannot be paid');
    expect(await buyer.getByRole('img').count()).toBe(0);
    const text = (await buyer.locator('body').textContent()) ?? '';
    expect(LEAKS.filter((re) => re.test(text))).toEqual([]);
    expect(await seriousAxeViolations(buyer)).toEqual([]);
    await screenshot(buyer, 'pay-page-refused');
  });

  it("shows the platform's officer the rule and the list entry behind them", async () => {
    const page = await t.page('olga');
    await page.goto(`/trade/payouts/${heldId}`);
    await page.getByText('held for compliance review').first().waitFor();
    expect(await mainText(page)).toMatch(
      /under 10000\.00 USD in 72 h \(structuring\) \(score 60\)/,
    );
    await screenshot(page, 'platform-payout-held-reasons');
    await page.goto(`/trade/payouts/${refusedId}`);
    await page.getByText('refused', { exact: true }).first().waitFor();
    const refused = await mainText(page);
    expect(refused).toContain('SANCTIONS_NAME_MATCH');
    expect(refused).toContain(LIST_ENTRY_NAME);
  });
});

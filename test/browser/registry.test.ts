import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { HDKey } from '@scure/bip32';
import { mnemonicToSeedSync } from '@scure/bip39';
import { address as bitcoinAddress, networks, payments } from 'bitcoinjs-lib';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  pickCountry,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { NETWORK, WIF } from '@scure/btc-signer';
import { signBip322Simple } from '../../src/bitcoin';
import { systemCaller, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';
import { testVasp } from '../support/vasp';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// BIP84's test vectors (mnemonic, account key, first addresses), as published.
const bip84 = JSON.parse(
  readFileSync(new URL('../vectors/bip84/vectors.json', import.meta.url), 'utf8'),
) as { mnemonic: string; addresses: { path: string; address: string }[] };
// BIP322's test vectors: a P2WPKH key's simple signatures over "" and "Hello World".
const bip322 = JSON.parse(
  readFileSync(new URL('../vectors/bip322/vectors.json', import.meta.url), 'utf8'),
) as {
  validSimpleSignatures: { address: string; message: string; signature: string }[];
  privateKeyWif: string;
};
const bip322Key = WIF(NETWORK).decode(bip322.privateKeyWif);

const seed = mnemonicToSeedSync(bip84.mnemonic);
// BIP32 testnet versions (tpub), used by testnet, signet and regtest.
const TESTNET_VERSIONS = { private: 0x04358394, public: 0x043587cf };
const mainnetRoot = HDKey.fromMasterSeed(seed);
const testnetRoot = HDKey.fromMasterSeed(seed, TESTNET_VERSIONS);
const FINGERPRINT = testnetRoot.fingerprint.toString(16).padStart(8, '0');
// The same mnemonic's BIP84 account on the test networks (coin type 1), as a platform receives it.
const testAccount = testnetRoot.derive("m/84'/1'/0'");
const DESCRIPTOR = `wpkh([${FINGERPRINT}/84h/1h/0h]${testAccount.publicExtendedKey}/<0;1>/*)`;
// The BIP84 vector's own (mainnet) account: the wrong network for the regtest scheme.
const MAINNET_XPUB = mainnetRoot.derive("m/84'/0'/0'").publicExtendedKey;

/** P2WPKH addresses computed with bitcoinjs-lib, independently of the server's derivation. */
const p2wpkh = (pubkey: Uint8Array | null, network: networks.Network) =>
  payments.p2wpkh({ pubkey: pubkey ?? new Uint8Array(), network }).address ?? '';
const receive = (account: HDKey, index: number, network: networks.Network) =>
  p2wpkh(account.deriveChild(0).deriveChild(index).publicKey, network);
const EXPECTED_REGTEST = [0, 1, 2, 3, 4, 5].map((i) => receive(testAccount, i, networks.regtest));

// The BIP322 vector key's P2WPKH address re-encoded for regtest: a signature commits to the output
// script, not to the address text, so the vector's signature over "Hello World" verifies for it
// (and proves nothing here), and the same key signs the ownership statement the server writes.
const helloWorld = bip322.validSimpleSignatures.find(
  (v) => v.message === 'Hello World' && v.address.startsWith('bc1q'),
);
if (!helloWorld) throw new Error('the BIP322 vectors have no P2WPKH "Hello World" signature');
const SELF_HOSTED = bitcoinAddress.toBech32(
  bitcoinAddress.fromBech32(helloWorld.address).data,
  0,
  'bcrt',
);
// A regtest P2WPKH address (BIP173's test program with the regtest prefix), hosted by a VASP.
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/**
 * The requests a page sends to `path` from now on: a picker's searches, to check that each asks
 * for one page of matches (`q`, no cursor) rather than walking the list.
 */
function requestsTo(page: Page, path: string): URL[] {
  const seen: URL[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.pathname === path) seen.push(url);
  });
  return seen;
}

/** Every search asked for one page (no cursor, at most a picker's page) and one asked for `q`. */
async function expectOnePageSearches(seen: URL[], query: Record<string, string>): Promise<void> {
  await expect
    .poll(
      () =>
        seen.some((url) => Object.entries(query).every(([k, v]) => url.searchParams.get(k) === v)),
      { message: seen.map(String).join('\n') },
    )
    .toBe(true);
  for (const url of seen) {
    expect(url.searchParams.get('cursor')).toBeNull();
    expect(Number(url.searchParams.get('limit'))).toBeLessThanOrEqual(100);
  }
}

async function fieldError(page: Page): Promise<string | null> {
  return page.locator('[id$="-error"]').first().textContent();
}

// Registry and Travel Rule journeys in a real Chromium against the real server: wallets from a
// descriptor with field errors, KYC/KYB with beneficial owners, counterparty addresses with their
// ownership proof, a company naming its platform's counterparty on a contract, a payout carrying
// IVMS101 data, a company kept out of another company's wallet, and the pickers searching one
// page at a time. The file runs past 600 lines: its journeys share one seeded server and browser,
// which a split would start twice.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: registry, KYC, Travel Rule', () => {
  let t: BrowserApp;
  const ids = { companyA: '', companyB: '', hamburg: '', osaka: '', walletB: '' };

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, trade, rates } = t.services;
    const register = async (
      kind: 'platform' | 'company' | 'counterparty',
      legalName: string,
      country: string,
      extra: { platformId?: string; lei?: string; city?: string; lines?: string[] } = {},
    ) =>
      (
        await registry.registerParticipant(supervisor, {
          kind,
          legalName,
          country,
          ...(extra.platformId ? { platformId: extra.platformId } : {}),
          ...(extra.lei ? { lei: extra.lei } : {}),
          ...(extra.city
            ? { addresses: [{ lines: extra.lines ?? [], city: extra.city, country }] }
            : {}),
        })
      ).id;
    const verify = (id: string) =>
      registry.setKyc(supervisor, id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [{ type: 'certificate of incorporation', number: `REG-${id}`, issuer: 'X' }],
      });
    await registry.setSchemeJurisdiction(supervisor, {
      country: 'CO',
      name: 'Republic of Colombia (browser test scheme)',
    });
    const platform = await register('platform', 'Andes Exchange', 'CO');
    const otherPlatform = await register('platform', 'Pacific Exchange', 'CO');
    for (const participantId of [platform, otherPlatform])
      await registry.grantLicence(supervisor, {
        participantId,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
      });
    ids.companyA = await register('company', 'Andes Coffee SA', 'CO', {
      platformId: platform,
      city: 'Medellín',
      lines: ['Carrera 43A 1-50'],
    });
    ids.companyB = await register('company', 'Quito Cacao SA', 'CO', { platformId: platform });
    ids.hamburg = await register('counterparty', 'Hamburg Roasters GmbH', 'DE', {
      platformId: platform,
    });
    ids.osaka = await register('counterparty', 'Osaka Machinery KK', 'JP', {
      platformId: platform,
      city: 'Osaka',
      lines: ['1-1 Umeda'],
    });
    await register('counterparty', 'Lima Traders SAC', 'PE', { platformId: otherPlatform });
    for (const id of [ids.companyA, ids.hamburg, ids.osaka]) await verify(id);
    await registry.registerCounterpartyAddress(supervisor, ids.osaka, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'JP Licensed Exchange'),
    });
    const officer: Caller = {
      role: 'platform',
      participantId: platform,
      platformId: platform,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    // Quito Cacao's wallet, which Andes Coffee must not reach.
    const other = HDKey.fromMasterSeed(new Uint8Array(32).fill(9), TESTNET_VERSIONS);
    ids.walletB = (
      await registry.registerWallet(officer, {
        companyId: ids.companyB,
        descriptor: `wpkh(${other.derive("m/84'/1'/0'").publicExtendedKey}/0/*)`,
        label: 'cacao',
      })
    ).id;
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');
    // An active import contract of Andes Coffee with Osaka Machinery, for the payout.
    const imported = await trade.contracts.create(officer, {
      companyId: ids.companyA,
      counterpartyId: ids.osaka,
      direction: 'import',
      goodsDescription: 'Coffee roaster, 120 kg batch',
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
    // An active export contract with Hamburg Roasters. Andes Coffee's wallet is registered on the
    // wallets screen by the first test below: the one wallet its invoices take addresses from.
    const exported = await trade.contracts.create(officer, {
      companyId: ids.companyA,
      counterpartyId: ids.hamburg,
      direction: 'export',
      goodsDescription: 'Washed arabica, 6 t',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '18000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-12-01', amount: '18000.00' }],
    });
    // Four eyes: another officer of the platform approves.
    for (const action of ['submit', 'approve', 'activate'] as const)
      await trade.contracts.transition(
        action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
        exported.id,
        action,
      );

    await t.user({ username: 'sofia', role: 'supervisor', participantId: 'scheme' });
    await t.user({
      username: 'olga',
      displayName: 'Olga Officer',
      role: 'platform',
      participantId: platform,
      platformId: platform,
    });
    await t.user({
      username: 'carl',
      displayName: 'Carl of Andes Coffee',
      role: 'company',
      participantId: ids.companyA,
      platformId: platform,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('an officer registers a wallet from a descriptor (field errors for a bad one) and sees its addresses', async () => {
    // The helper derives BIP84's published mainnet addresses, so its regtest ones can be trusted.
    const mainnetAccount = mainnetRoot.derive("m/84'/0'/0'");
    for (const v of bip84.addresses.filter((a) => a.path.startsWith("m/84'/0'/0'/0/"))) {
      const index = Number(v.path.split('/').pop());
      expect(receive(mainnetAccount, index, networks.bitcoin)).toBe(v.address);
    }

    const page = await t.page('olga');
    await page.getByRole('link', { name: 'Wallets' }).click();
    await page.getByRole('heading', { name: 'Wallets' }).waitFor();
    // The company is searched by the start of its name, one page of companies: not the platform
    // Andes Exchange, not Quito Cacao.
    const searches = requestsTo(page, '/v1/participants');
    await page.getByLabel('Company', { exact: true }).first().fill('andes');
    await expect
      .poll(() => page.getByRole('option').allTextContents())
      .toEqual(['Andes Coffee SA (CO)']);
    await page.getByRole('option', { name: 'Andes Coffee SA (CO)' }).click();
    await expectOnePageSearches(searches, { q: 'andes', kind: 'company' });
    const descriptor = page.getByLabel('Descriptor or xpub');
    await descriptor.fill(`${DESCRIPTOR}#aaaaaaaa`);
    await page.getByRole('button', { name: 'Register wallet' }).click();
    await expect.poll(() => fieldError(page)).toContain('does not match');
    await descriptor.fill(`wpkh(${MAINNET_XPUB}/0/*)`);
    await page.getByRole('button', { name: 'Register wallet' }).click();
    await expect.poll(() => fieldError(page)).toContain('is for mainnet, not regtest');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-wallet-field-error');

    await descriptor.fill(DESCRIPTOR);
    await page.getByRole('button', { name: 'Register wallet' }).click();
    await page.getByRole('heading', { name: 'Wallet default' }).waitFor();
    // Nothing handed out yet: the next five receive addresses, unused.
    for (const address of EXPECTED_REGTEST.slice(0, 5))
      await page.getByRole('cell', { name: address }).waitFor();
    expect(await page.getByRole('cell', { name: 'unused', exact: true }).count()).toBe(5);
    await page.getByLabel('Purpose').fill('first deposit');
    await page.getByRole('button', { name: 'Hand out the next address' }).click();
    await page.getByRole('cell', { name: 'first deposit' }).waitFor();
    expect(await page.getByRole('cell', { name: 'used', exact: true }).count()).toBe(1);
    await page.getByRole('cell', { name: EXPECTED_REGTEST[5] ?? '' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-wallet-addresses');
  });

  it('an officer verifies a company’s KYB with a beneficial owner (the 25 % rule at the field)', async () => {
    const page = await t.page('olga');
    await page.goto('/registry/participants');
    await page.getByRole('cell', { name: 'Quito Cacao SA' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('No KYC/KYB record yet').waitFor();
    await dialog.getByRole('button', { name: 'Record KYC/KYB' }).click();
    await choose(page, 'KYC status', 'verified');
    await choose(page, 'Risk rating', 'medium');
    await dialog.getByRole('button', { name: 'Add a beneficial owner' }).click();
    await dialog.getByLabel('Owner 1: name').fill('María Fernanda Ortiz');
    await pickCountry(dialog, 'Owner 1: country', 'EC');
    await dialog.getByLabel('Owner 1: share %').fill('20');
    await dialog.getByRole('button', { name: 'Add a document' }).click();
    await dialog.getByLabel('Document 1: type').fill('certificate of incorporation');
    await dialog.getByLabel('Document 1: number').fill('SC-2019-4411');
    await dialog.getByLabel('Document 1: issuer').fill('Superintendencia de Compañías');
    await dialog.getByLabel('Reason').fill('KYB review completed');
    await dialog.getByRole('button', { name: 'Save KYC/KYB' }).click();
    await expect.poll(() => fieldError(page)).toContain('at least 25 %');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-kyc-field-error');
    await dialog.getByLabel('Owner 1: share %').fill('60');
    await dialog.getByRole('button', { name: 'Save KYC/KYB' }).click();
    const record = dialog.getByTestId('kyc-record');
    await record.waitFor();
    expect(await record.textContent()).toContain('verified');
    await record.getByRole('cell', { name: 'María Fernanda Ortiz' }).waitFor();
    await record.getByRole('cell', { name: '60 %' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-kyc-verified');

    // The supervisor reads the record and its history from the audit log.
    const supervisor = await t.page('sofia');
    await supervisor.goto('/registry/participants');
    await supervisor.getByRole('cell', { name: 'Quito Cacao SA' }).click();
    const history = supervisor.getByTestId('kyc-history');
    await history.getByRole('cell', { name: 'verified' }).waitFor();
    await history.getByRole('cell', { name: 'KYB review completed' }).waitFor();
    expect(await seriousAxeViolations(supervisor)).toEqual([]);
    await screenshot(supervisor, 'supervisor-kyc-history');
    const stored = await t.services.registry.getKyc(systemCaller('check'), ids.companyB);
    expect(stored).toMatchObject({
      status: 'verified',
      riskRating: 'medium',
      beneficialOwners: [{ name: 'María Fernanda Ortiz', country: 'EC', shareBasisPoints: 6000 }],
    });
  });

  it('an officer sees how ownership of each counterparty address was shown, and registers a BIP322-proven one', async () => {
    const page = await t.page('olga');
    await page.goto('/registry/participants');
    await page.getByRole('cell', { name: 'Osaka Machinery KK' }).click();
    const dialog = page.getByRole('dialog');
    const table = dialog.getByTestId('counterparty-addresses');
    await table.getByRole('cell', { name: SUPPLIER_ADDRESS }).waitFor();
    await table.getByText('VASP-hosted').waitFor();
    await table.getByText('JP Licensed Exchange').waitFor();
    // A hosted address's VASP is searched by the start of its name, one page of VASPs.
    const vaspSearches = requestsTo(page, '/v1/vasps');
    await dialog.getByRole('button', { name: 'Register an address' }).click();
    await dialog.getByLabel('VASP', { exact: true }).fill('jp lic');
    await expectOnePageSearches(vaspSearches, { q: 'jp lic' });
    await expect.poll(() => page.getByRole('option').allTextContents()).toHaveLength(1);
    await page.getByRole('option', { name: /^JP Licensed Exchange \(JP, LEI / }).waitFor();
    await dialog.getByText('Self-hosted (BIP322 proof)').click();
    await dialog.getByLabel('Counterparty address').fill(SELF_HOSTED);
    await dialog.getByRole('button', { name: 'Get the statement' }).click();
    const statementField = dialog.getByLabel('Statement to sign');
    await expect.poll(() => statementField.inputValue()).toContain(SELF_HOSTED);
    const statement = await statementField.inputValue();
    expect(statement).toContain('Tradeclear address ownership: counterparty par_');
    // A valid BIP322 signature, but over "Hello World": refused, it proves nothing about this.
    await dialog.getByLabel('BIP322 signature').fill(helloWorld.signature);
    await dialog.getByRole('button', { name: 'Register address' }).click();
    await expect.poll(() => fieldError(page)).toContain('does not verify');
    await screenshot(page, 'platform-bip322-refused');
    await dialog.getByLabel('BIP322 signature').fill(
      signBip322Simple({
        address: SELF_HOSTED,
        message: statement,
        privateKey: bip322Key,
        network: 'regtest',
      }),
    );
    await dialog.getByRole('button', { name: 'Register address' }).click();
    await table.getByRole('cell', { name: SELF_HOSTED, exact: true }).waitFor();
    await table.getByText('self-hosted · BIP322 proof').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'platform-counterparty-addresses');
  });

  it('a company registers a contract choosing a counterparty of its platform (and only those)', async () => {
    const page = await t.page('carl');
    await page
      .getByRole('navigation', { name: 'Main navigation' })
      .getByRole('link', { name: 'Contracts' })
      .click();
    await page.getByRole('button', { name: 'New contract' }).click();
    await page.getByLabel('Counterparty', { exact: true }).first().click();
    await page.getByRole('option', { name: /Hamburg Roasters/ }).waitFor();
    expect((await page.getByRole('option').allTextContents()).sort()).toEqual([
      'Hamburg Roasters GmbH (DE)',
      'Osaka Machinery KK (JP)',
    ]);
    await page.getByRole('option', { name: /Hamburg Roasters/ }).click();
    await page.getByLabel('Goods').fill('Green coffee, 12 t');
    await page.getByLabel('HS code').fill('090111');
    await page.getByLabel('Amount', { exact: true }).fill('24000.00');
    await page.getByLabel('Due date').fill('2026-11-30');
    await page.getByRole('button', { name: 'Register contract' }).click();
    await page.getByRole('cell', { name: 'Green coffee, 12 t' }).waitFor();
    const row = page.getByRole('row', { name: /Green coffee, 12 t/ });
    expect(await row.textContent()).toContain('Hamburg Roasters GmbH');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-contract-own-counterparty');
    // The participants page shows the counterparty read-only: its KYC stays with the platform.
    await page.getByRole('link', { name: 'Participants' }).click();
    await page.getByRole('heading', { name: 'Participants' }).waitFor();
    await page.getByRole('cell', { name: 'Hamburg Roasters GmbH' }).click();
    await page.getByTestId('kept-by-platform').waitFor();
    expect(await page.getByRole('dialog').getByRole('button', { name: /KYC/ }).count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a payout with Travel Rule data shows it on the payout’s detail', async () => {
    const page = await t.page('carl');
    const contractSearches = requestsTo(page, '/v1/contracts');
    await page.goto('/trade/payouts');
    // The active import contracts are searched by the start of the goods, one page of them.
    await page.getByLabel('Import contract', { exact: true }).first().fill('coffee ro');
    await expectOnePageSearches(contractSearches, {
      q: 'coffee ro',
      status: 'active',
      direction: 'import',
    });
    await page
      .getByRole('option', { name: /Coffee roaster/ })
      .first()
      .click();
    // 0.05 BTC at 60,000 USD/BTC is 3,000 USD: above the Travel Rule threshold (1,000 USD).
    await page.getByLabel('Amount', { exact: true }).fill('0.05');
    await page.getByRole('combobox', { name: 'Supplier address' }).fill(SUPPLIER_ADDRESS);
    await page.getByRole('switch', { name: /Attach Travel Rule data/ }).check();
    // Both parties come from the registry; the company's platform record is not visible to it.
    expect(await page.getByLabel('Originator: legal name').inputValue()).toBe('Andes Coffee SA');
    expect(await page.getByLabel('Originator: customer number').inputValue()).toBe(ids.companyA);
    expect(await page.getByLabel('Beneficiary: legal name').inputValue()).toBe(
      'Osaka Machinery KK',
    );
    expect(await page.getByLabel('Beneficiary: town').inputValue()).toBe('Osaka');
    // The originating VASP is the company's own platform, named on the company's record.
    expect(await page.getByLabel('Originating VASP: name').inputValue()).not.toBe('');
    // A required field left empty is caught in the form, before anything is sent.
    await page.getByLabel('Originating VASP: name').fill('');
    await page.getByRole('button', { name: 'Request payout' }).click();
    await expect.poll(() => fieldError(page)).toContain("the originator's VASP is required");
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-payout-travel-rule-form');
    await page.getByLabel('Originating VASP: name').fill('Andes Exchange');
    await page.getByLabel('Beneficiary VASP: name').fill('JP Licensed Exchange');
    await page.getByRole('button', { name: 'Request payout' }).click();
    await page.getByTestId('payout-created').getByRole('link').click();
    await page.getByRole('heading', { name: /^Payout pay_/ }).waitFor();
    const travelRule = page.getByTestId('travel-rule');
    const rowOf = (role: string) => travelRule.getByRole('row', { name: new RegExp(`^${role}`) });
    expect(await rowOf('Originator').textContent()).toContain('Andes Coffee SA');
    expect(await rowOf('Originator').textContent()).toContain('Carrera 43A 1-50');
    expect(await rowOf('Beneficiary').first().textContent()).toContain('Osaka Machinery KK');
    expect(await rowOf('Originating VASP').textContent()).toContain('Andes Exchange');
    expect(await rowOf('Beneficiary VASP').textContent()).toContain('JP Licensed Exchange');
    await page.getByText('awaitingApproval').first().waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-payout-travel-rule-detail');
    // The server kept exactly what the form sent, as IVMS101.
    const payoutId = page.url().split('/').pop() ?? '';
    const stored = await t.services.trade.payouts.get(systemCaller('check'), payoutId);
    expect(stored.travelRule).toMatchObject({
      originator: {
        originatorPersons: [
          {
            legalPerson: {
              name: {
                nameIdentifier: [
                  { legalPersonName: 'Andes Coffee SA', legalPersonNameIdentifierType: 'LEGL' },
                ],
              },
              customerNumber: ids.companyA,
              countryOfRegistration: 'CO',
            },
          },
        ],
      },
      beneficiaryVASP: {
        beneficiaryVASP: {
          legalPerson: { name: { nameIdentifier: [{ legalPersonName: 'JP Licensed Exchange' }] } },
        },
      },
    });
  });

  it('an invoice with Travel Rule data (the buyer as originator) shows it on the invoice’s detail', async () => {
    const page = await t.page('carl');
    await page.goto('/trade/invoices');
    await choose(page, 'Export contract', /Washed arabica/);
    // 1,200 USD: above the Travel Rule threshold.
    await page.getByLabel('Amount', { exact: true }).fill('1200.00');
    await page.getByRole('switch', { name: /Attach Travel Rule data/ }).check();
    expect(await page.getByLabel('Originator: legal name').inputValue()).toBe(
      'Hamburg Roasters GmbH',
    );
    expect(await page.getByLabel('Beneficiary: legal name').inputValue()).toBe('Andes Coffee SA');
    await page.getByLabel('Originating VASP: name').fill('DE Licensed Exchange');
    // The registry holds no identifier or address of the buyer: IVMS101 C4 asks for one.
    await page.getByRole('button', { name: 'Issue invoice' }).click();
    await expect.poll(() => fieldError(page)).toContain('IVMS101 C4');
    await page.getByLabel('Originator: street').fill('Große Elbstraße');
    await page.getByLabel('Originator: building number').fill('145');
    await page.getByLabel('Originator: postcode').fill('22767');
    await page.getByLabel('Originator: town').fill('Hamburg');
    await page.getByRole('button', { name: 'Issue invoice' }).click();
    await page.getByTestId('invoice-created').getByRole('link').click();
    await page.getByRole('heading', { name: /^Invoice inv_/ }).waitFor();
    const travelRule = page.getByTestId('travel-rule');
    const originator = travelRule.getByRole('row', { name: /^Originator/ });
    expect(await originator.textContent()).toContain('Hamburg Roasters GmbH');
    expect(await originator.textContent()).toContain('Große Elbstraße 145, 22767 Hamburg, DE');
    expect(
      await travelRule
        .getByRole('row', { name: /^Beneficiary / })
        .first()
        .textContent(),
    ).toContain('Andes Coffee SA');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-invoice-travel-rule-detail');

    // The invoice's address comes from the wallet the officer registered on the wallets screen
    // (the first test): its receive index 1, index 0 having been handed out there by hand.
    const heading = await page.getByRole('heading', { name: /^Invoice inv_/ }).textContent();
    const invoiceId = heading?.replace(/^Invoice /, '') ?? '';
    const invoiceAddress = EXPECTED_REGTEST[1] ?? '';
    await page.getByText(invoiceAddress, { exact: true }).first().waitFor();
    const officer = await t.page('olga');
    const listed = (await (
      await officer.request.get(`/v1/wallets?companyId=${ids.companyA}`)
    ).json()) as { items: { id: string }[] };
    expect(listed.items).toHaveLength(1);
    await officer.goto(`/registry/wallets/${listed.items[0]?.id ?? ''}`);
    const row = officer.getByRole('row', { name: new RegExp(invoiceAddress) });
    await row.waitFor();
    expect(await row.textContent()).toContain(`invoice ${invoiceId}`);
    expect(await row.textContent()).toContain('receive');
  });

  it('a company sees its own wallets read-only and cannot open another company’s wallet by URL', async () => {
    const page = await t.page('carl');
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    await nav.getByRole('link', { name: 'Wallets' }).click();
    await page.getByRole('heading', { name: 'Wallets' }).waitFor();
    await page.getByRole('cell', { name: 'Andes Coffee SA' }).waitFor();
    expect(await page.getByRole('cell', { name: ids.walletB }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Register wallet' }).count()).toBe(0);
    await page.goto(`/registry/wallets/${ids.walletB}`);
    await page.getByTestId('not-available').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-other-wallet-not-available');
    expect((await page.request.get(`/v1/wallets/${ids.walletB}`)).status()).toBe(404);
    expect((await page.request.get(`/v1/wallets/${ids.walletB}/addresses`)).status()).toBe(404);
  });

  it('the supervisor registers a counterparty for a platform searched by the start of its name', async () => {
    const page = await t.page('sofia');
    await page.goto('/registry/participants');
    await page.getByRole('button', { name: 'Register a participant' }).click();
    const form = page.getByRole('form', { name: 'Register a participant' });
    const searches = requestsTo(page, '/v1/participants');
    await form.getByLabel('Platform', { exact: true }).fill('pac');
    await expectOnePageSearches(searches, { q: 'pac', kind: 'platform' });
    // Not Andes Exchange, not a company or counterparty whose name starts so.
    await expect
      .poll(() => page.getByRole('option').allTextContents())
      .toEqual(['Pacific Exchange (CO)']);
    await page.getByRole('option', { name: 'Pacific Exchange (CO)' }).click();
    await form.getByLabel('Legal name').fill('Callao Importers SAC');
    await pickCountry(form, 'Country', 'PE');
    await form.getByRole('button', { name: 'Register participant' }).click();
    await page.getByTestId('participant-registered').waitFor();
    const found = (await (
      await page.request.get('/v1/participants?q=callao%20importers')
    ).json()) as { items: { platformId: string | null }[] };
    const platforms = (await (
      await page.request.get('/v1/participants?kind=platform&q=pacific')
    ).json()) as { items: { id: string }[] };
    expect(found.items.map((p) => p.platformId)).toEqual([platforms.items[0]?.id]);
    expect(await seriousAxeViolations(page)).toEqual([]);
  });
});

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
import { testVasp } from '../support/vasp';
import { LocalKeySigner } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource } from '../../src/chain';
import { BuyerWallet } from '../../src/demo';
import { systemCaller, systemClock, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
/** A raw id of a participant, contract or invoice: what a table must not show where a name exists. */
const RAW_ID = /\b(par|ctr|inv)_[0-9A-HJKMNP-TV-Z]{26}\b/;
const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** An element as this Node-typed file sees it inside the page. */
type Attributed = { getAttribute(name: string): string | null };

interface Home {
  figures: { key: string; value: string }[];
  queues: { key: string; total: number; items: { id: string; title: string; href: string }[] }[];
}

// Each role's home page in a real Chromium, against data seeded through the real services: the
// figures and queues the page shows are the server's (GET /v1/home, itself checked against the
// database in test/http/home.test.ts), the seeded work is there by name, each queue item opens
// its screen; and no table on any list page of the role shows a raw participant, contract or
// invoice id where the participant has a name.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: home pages and names in tables', () => {
  let t: BrowserApp;
  const names = {
    platform: 'Andes Exchange',
    company: 'Andes Coffee SA',
    pending: 'Paramo Cacao SAS',
    buyer: 'Hamburg Roasters GmbH',
    supplier: 'Osaka Machinery KK',
  };
  let openInvoiceId = '';
  let payoutId = '';
  let licenceId = '';

  beforeAll(async () => {
    t = await startBrowserApp();
    const root = systemCaller('browser-test');
    const { registry, trade, rates } = t.services;
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Republic of Colombia' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: names.platform,
      country: 'CO',
    });
    // The platform's licence ends in ten days: on the supervisor's queue.
    licenceId = (
      await registry.grantLicence(root, {
        participantId: platform.id,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: new Date(Date.now() + 10 * 86_400_000).toISOString(),
      })
    ).id;
    const party = async (
      kind: 'company' | 'counterparty',
      legalName: string,
      country: string,
      status: 'verified' | 'pending' = 'verified',
    ) => {
      const p = await registry.registerParticipant(root, {
        kind,
        legalName,
        country,
        platformId: platform.id,
      });
      await registry.setKyc(root, p.id, {
        status,
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
    const companyId = await party('company', names.company, 'CO');
    // A company whose KYC is still pending: on the platform officer's queue.
    await party('company', names.pending, 'CO', 'pending');
    const buyerId = await party('counterparty', names.buyer, 'DE');
    const supplierId = await party('counterparty', names.supplier, 'JP');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
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
        incoterm: 'FOB',
        currency: 'USD',
        amount: '9000.00',
        pricingMode: 'fiat',
        schedule: [{ dueDate: '2026-12-15', amount: '9000.00' }],
      });
      for (const action of ['submit', 'approve', 'activate'] as const)
        await trade.contracts.transition(
          action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
          created.id,
          action,
        );
      return created.id;
    };
    const exportContract = await contract(buyerId, 'export');
    const importContract = await contract(supplierId, 'import');

    // One invoice paid and settled on simnet, one left open.
    const simnet = await Simnet.open({ db: t.db, clock: systemClock });
    const buyers = new BuyerWallet(simnet);
    await simnet.mine(101, buyers.key.script);
    const watcher = new ChainWatcher({
      source: new SimnetChainSource(simnet),
      database: t.db,
      clock: systemClock,
    });
    await watcher.registerConsumer(trade.chainConsumer());
    await watcher.syncOnce();
    expect(buyers.load()).toBeGreaterThan(0);
    const paid = await trade.invoices.create(officer, {
      contractId: exportContract,
      amount: '900.00',
    });
    await buyers.pay(paid.address, paid.amountSats);
    await simnet.mine(1, buyers.key.script);
    await watcher.syncOnce();
    openInvoiceId = (
      await trade.invoices.create(company, {
        contractId: exportContract,
        amount: '300.00',
        description: 'Green coffee, second lot',
      })
    ).id;
    // A payout the company requested (60 USD: under the Travel Rule threshold), awaiting approval.
    payoutId = (
      await trade.payouts.create(company, {
        contractId: importContract,
        amount: '60.00',
        address: SUPPLIER_ADDRESS,
      })
    ).id;

    await t.user({ username: 'sofia', role: 'supervisor', participantId: 'scheme' });
    await t.user({ username: 'ada', role: 'auditor', participantId: 'scheme' });
    await t.user({
      username: 'olga',
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
    });
    await t.user({
      username: 'carl',
      role: 'company',
      participantId: companyId,
      platformId: platform.id,
    });
    const miner = await registry.registerParticipant(root, {
      kind: 'miner',
      legalName: 'Cordillera Hash SAS',
      country: 'CO',
    });
    await t.user({ username: 'mira', role: 'miner', participantId: miner.id });
  }, 300_000);

  afterAll(async () => {
    await t?.close();
  });

  /** The home page shows exactly the server's figures and queues. */
  async function checkHome(page: Page): Promise<Home> {
    await page.getByTestId('home').waitFor();
    const response = await page.request.get('/v1/home');
    expect(response.status()).toBe(200);
    const home = (await response.json()) as Home;
    for (const f of home.figures)
      expect(
        await page.getByTestId(`figure-${f.key}`).getAttribute('data-value'),
        `figure ${f.key}`,
      ).toBe(f.value);
    for (const q of home.queues) {
      const panel = page.getByTestId(`queue-${q.key}`);
      expect(await panel.getAttribute('data-total'), `queue ${q.key}`).toBe(String(q.total));
      const shown = await panel
        .getByTestId('queue-item')
        .evaluateAll((items: Attributed[]) => items.map((i) => i.getAttribute('data-id')));
      expect(shown, `queue ${q.key}`).toEqual(q.items.map((i) => i.id));
      for (const item of q.items) {
        await panel.getByRole('link', { name: item.title }).first().waitFor();
        expect(item.title).not.toMatch(RAW_ID);
      }
    }
    return home;
  }

  const queue = (home: Home, key: string) => home.queues.find((q) => q.key === key)!;

  for (const viewport of VIEWPORTS) {
    it(`shows each role its figures and work queues (${viewport.name})`, async () => {
      const expectations: Record<string, (home: Home) => void> = {
        sofia: (home) => {
          expect(queue(home, 'licences').items.map((i) => [i.id, i.title, i.href])).toEqual([
            [licenceId, names.platform, `/registry/licences?id=${licenceId}`],
          ]);
          expect(home.figures.find((f) => f.key === 'licences.expiring')?.value).toBe('1');
        },
        olga: (home) => {
          expect(queue(home, 'approvals').items.map((i) => [i.id, i.title])).toEqual([
            [payoutId, `${names.company} → ${names.supplier}`],
          ]);
          expect(queue(home, 'kyc').items.map((i) => i.title)).toContain(names.pending);
        },
        carl: (home) => {
          expect(queue(home, 'invoices').items.map((i) => [i.id, i.title])).toEqual([
            [openInvoiceId, names.buyer],
          ]);
          expect(home.figures.find((f) => f.key === 'invoices.settled')?.value).toBe('1');
          expect(queue(home, 'payouts').items.map((i) => i.id)).toEqual([payoutId]);
        },
        mira: (home) => {
          expect(home.figures.find((f) => f.key === 'outputs')?.value).toBe('0');
        },
        ada: (home) => {
          expect(queue(home, 'actions').items.length).toBeGreaterThan(0);
        },
      };
      for (const [username, expect_] of Object.entries(expectations)) {
        const page = await t.page(username);
        await page.setViewportSize({ width: viewport.width, height: viewport.height });
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(error.message));
        await page.goto('/');
        const home = await checkHome(page);
        expect_(home);
        // The live badge never says "Offline" while the stream is merely connecting.
        await page.locator('[data-testid="live-badge"][data-status="live"]').waitFor();
        expect(await seriousAxeViolations(page), `${username} ${viewport.name}`).toEqual([]);
        await screenshot(page, `home-${username}-${viewport.name}`);
        // The first item of the first non-empty queue opens its screen.
        const first = home.queues.find((q) => q.items.length > 0)?.items[0];
        if (first && viewport.name === 'desktop') {
          await page.getByRole('link', { name: first.title }).first().click();
          await page.waitForURL((url) => `${url.pathname}${url.search}` === first.href);
          await page.getByRole('heading', { level: 1 }).waitFor();
          expect(await page.getByTestId('not-available').count()).toBe(0);
          expect(await page.getByTestId('not-found').count()).toBe(0);
        }
        expect(errors).toEqual([]);
      }
    }, 300_000);
  }

  it('shows names, not raw ids, in every table of every list page, without overflow at 1280 px', async () => {
    const found: string[] = [];
    for (const username of ['sofia', 'ada', 'olga', 'carl', 'mira']) {
      const page = await t.page(username);
      await page.setViewportSize({ width: 1280, height: 900 });
      const nav = page.getByRole('navigation', { name: 'Main navigation' });
      const paths = (
        await nav
          .getByRole('link')
          .evaluateAll((links: Attributed[]) => links.map((l) => l.getAttribute('href')))
      ).filter((p): p is string => p !== null);
      for (const path of paths) {
        // The audit log is the raw record of what was done to which entity, ids and all.
        if (path === '/audit') continue;
        await page.goto(path);
        await page.getByRole('heading', { level: 1 }).waitFor();
        await page.waitForLoadState('networkidle');
        const cells = await page
          .locator('table td')
          .evaluateAll((tds: { innerText: string }[]) => tds.map((td) => td.innerText));
        for (const cell of cells) if (RAW_ID.test(cell)) found.push(`${username} ${path}: ${cell}`);
        const overflow = await page.evaluate<number>(
          'document.documentElement.scrollWidth - document.documentElement.clientWidth',
        );
        if (overflow > 0) found.push(`${username} ${path}: ${overflow} px of horizontal overflow`);
      }
      if (username === 'sofia') {
        // The settlement drill-down names the company and the counterparty.
        await page.goto('/dashboard');
        await page.getByRole('cell', { name: 'Germany', exact: true }).click();
        const drill = page.getByTestId('drilldown');
        await drill.getByText(names.company).first().waitFor();
        await drill.getByText(names.buyer).first().waitFor();
        await screenshot(page, 'settlement-drilldown-names');
      }
    }
    expect(found).toEqual([]);
  }, 600_000);
});

/*
 * Past 600 lines: every clearing page is tested against one scheme built once (simnet blocks,
 * lots, fixings, a market with deals, a settlement window), which a split would build twice.
 */
import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Response } from 'playwright-core';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { caller, PASSPHRASE, regtest, regtestKey } from '../support/scheme';
import { LocalKeySigner, signBip322Simple } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource } from '../../src/chain';
import type { DealView, LotView } from '../../src/clearing';
import {
  currency,
  formatMoneyForPeople,
  money,
  satsToFiat,
  systemCaller,
  systemClock,
  type Caller,
} from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

const COIN = 100_000_000n;
const OFFERED = COIN; // the funded offer: 1 BTC of the first lot
const BOUGHT = 10_000_000n; // each of the three deals: 0.1 BTC
const COP_PER_BTC = 250_000_000n;
const SPREAD_BPS = 150n;
const TO_Q = 40_000_000n; // obligations in the settlement window: 0.4 BTC from P to Q…
const TO_P = 15_000_000n; // …0.15 BTC from Q to P…
const COP_TO_Q = 1_250_000_000n; // …and COP 12,500,000.00 from P to Q
const southKey = regtestKey(22);
const northKey = regtestKey(23);
const elsewhere = regtestKey(7).address;
/** P's settlement addresses: one proposed by its maker, one by the officer in the browser. */
const proposedKey = regtestKey(24);
const nextKey = regtestKey(25);
const PLATFORM_SEED = new Uint8Array(32).fill(42);

/** Sats as the web app prints them in an English locale: "0.25000000 BTC". */
const btc = (sats: bigint) =>
  `${sats < 0n ? '-' : ''}${(sats < 0n ? -sats : sats) / COIN}.${((sats < 0n ? -sats : sats) % COIN).toString().padStart(8, '0')} BTC`;
const cop = (minor: bigint) => formatMoneyForPeople(money(minor, 'COP'));
/** The deal's fiat leg: the reference rate plus the market's spread, times the coins, in cents. */
const fiatOf = (sats: bigint) =>
  (sats * COP_PER_BTC * (10_000n + SPREAD_BPS) * 100n) / (COIN * 10_000n);

function descriptorOf(seed: Uint8Array, account: number, chains: string): string {
  const signer = LocalKeySigner.fromSeed(seed, 'regtest');
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  return `wpkh([${fingerprint}/84h/1h/${account}h]${signer.accountXpub(`m/84'/1'/${account}'`)}/${chains})`;
}

/** The BIP322 simple signature of `message` by regtest key `key`'s address. */
const bip322 = (key: ReturnType<typeof regtestKey>, message: string) =>
  signBip322Simple({
    address: key.address,
    message,
    privateKey: key.key.privateKey!,
    network: 'regtest',
  });

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** The JSON body of the API's answer to the request a click makes. */
async function answerOf(page: Page, path: string, click: () => Promise<void>) {
  const [response]: [Response, void] = await Promise.all([
    page.waitForResponse((r) => r.url().includes(path) && r.request().method() === 'POST'),
    click(),
  ]);
  const body = (await response.json()) as { code?: string; message?: string; status?: string };
  return { status: response.status(), body };
}

async function accessible(page: Page, shot: string): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
  await screenshot(page, shot);
}

// The clearing pages in a real Chromium against the real server: lots mined on simnet to a
// registered miner (two cleared, one inside a ban), the day's reference-rate fixing, a market
// with a funded offer and three deals (one awaiting payment, two held by their checks), and a
// settlement window closed over obligations between two platforms. Each page is driven as the
// role its routes allow, with the figures computed from the seeded amounts.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: lots, fixings, market, settlement windows', () => {
  let t: BrowserApp;
  let simnet: Simnet;
  let watcher: ChainWatcher;
  const supervisor = systemCaller('browser-test');
  let P = '';
  let Q = '';
  let minerId = '';
  let companyId = '';
  let lots: LotView[] = [];
  let deals: DealView[] = [];
  let windowId = '';

  async function mine(count: number, address: string): Promise<void> {
    await simnet.mine(count, address);
    await watcher.syncOnce();
  }

  async function licensed(kind: 'platform' | 'miner', legalName: string): Promise<string> {
    const { registry } = t.services;
    const p = await registry.registerParticipant(supervisor, { kind, legalName, country: 'CO' });
    await registry.grantLicence(supervisor, {
      participantId: p.id,
      kind: kind === 'platform' ? 'vasp' : 'mining',
      scope: kind === 'platform' ? 'custody and transfer of bitcoin' : 'industrial mining',
      validFrom: '2026-01-01T00:00:00Z',
    });
    return p.id;
  }

  async function verified(kind: 'company' | 'counterparty', legalName: string, country: string) {
    const { registry } = t.services;
    const p = await registry.registerParticipant(supervisor, {
      kind,
      legalName,
      country,
      platformId: P,
    });
    await setKyc(p.id, 'verified');
    return p.id;
  }

  async function setKyc(id: string, status: 'verified' | 'pending'): Promise<void> {
    await t.services.registry.setKyc(supervisor, id, {
      status,
      riskRating: 'low',
      reviewDue: '2030-01-01',
      beneficialOwners: [],
      documents: [
        { type: 'certificate of incorporation', number: `REG-${id.slice(-6)}`, issuer: 'registry' },
      ],
    });
  }

  /** The miner's two sites: one in a region without a ban, one in a region banned today. */
  async function miner(): Promise<Caller> {
    const { registry, mining } = t.services;
    minerId = await licensed('miner', 'Cordillera Hash SAS');
    const minerCaller = caller('miner', minerId, 'browser-test:miner', null);
    const day = (offset: number) =>
      new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
    for (const [code, name, key] of [
      ['south', 'Southern region', southKey],
      ['north', 'Northern region', northKey],
    ] as const) {
      await registry.createRegion(supervisor, { code, name, timeZone: 'America/Bogota' });
      const site = await mining.registerSite(minerCaller, {
        regionCode: code,
        name: `${name} hydro site`,
        gridConnection: '34.5 kV feeder',
        powerCapacityMw: '8',
        declaredHashrateThs: '200000',
        commissioningDate: '2026-01-15',
      });
      await mining.registerPayoutAddress(minerCaller, site.id, {
        address: key.address,
        kind: 'solo',
      });
    }
    await mining.declareBan(supervisor, 'north', {
      kind: 'full',
      from: day(-1),
      to: day(30),
      reason: 'grid emergency in the north',
    });
    return minerCaller;
  }

  async function importContract(officer: Caller, checker: Caller): Promise<string> {
    const { trade } = t.services;
    const supplier = await verified('counterparty', 'Osaka Machinery KK', 'JP');
    const contract = await trade.contracts.create(officer, {
      companyId,
      counterpartyId: supplier,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '30000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '50000000',
      schedule: [{ dueDate: '2027-06-15', amount: '50000000' }],
    });
    for (const action of ['submit', 'approve', 'activate'] as const)
      await trade.contracts.transition(
        action === 'approve' ? checker : officer,
        contract.id,
        action,
      );
    return contract.id;
  }

  /** A funded offer of the first lot, three bids matched into deals, two of them held. */
  async function market(minerCaller: Caller, officer: Caller, checker: Caller): Promise<void> {
    const { market } = t.services;
    await market.setSettings(officer, {
      currency: 'COP',
      spreadBasisPoints: Number(SPREAD_BPS),
      deadlineSeconds: 604_800,
      escrowDescriptor: descriptorOf(PLATFORM_SEED, 7, '0/*'),
    });
    const contractId = await importContract(officer, checker);
    const lot = lots[0]!;
    const offer = await market.createOffer(minerCaller, {
      platformId: P,
      lotId: lot.id,
      amountSats: OFFERED,
    });
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: lot.txid,
      index: lot.vout,
      witnessUtxo: { script: southKey.output, value: lot.valueSats },
    });
    psbt.addOutput({ address: offer.escrowAddress, value: OFFERED });
    psbt.addOutput({ address: southKey.address, value: lot.valueSats - OFFERED - 2_000n });
    psbt.signAllInputs(southKey.key);
    psbt.finalizeAllInputs();
    const deposit = psbt.extractTransaction();
    await new SimnetChainSource(simnet).broadcast(deposit.toBuffer());
    await mine(1, elsewhere);
    await market.recordDeposit(minerCaller, offer.id, deposit.getId());
    const company = caller('company', companyId, 'browser-test:importer', P);
    for (let i = 0; i < 3; i++) {
      const bid = await market.createBid(company, {
        platformId: P,
        contractId,
        amountSats: BOUGHT,
      });
      deals.push(await market.match(officer, { offerId: offer.id, bidId: bid.id }));
    }
    // The importer's KYB lapses before the fiat legs of two deals are confirmed: both are held.
    await setKyc(companyId, 'pending');
    for (const deal of deals.slice(1))
      await market.confirm(checker, deal.id, {
        amountMinor: deal.fiatMinor.toString(),
        currency: 'COP',
        bankReference: `BANK-${deal.id.slice(-6)}`,
      });
    await setKyc(companyId, 'verified');
    deals = await Promise.all(deals.map((d) => market.getDeal(supervisor, d.id)));
  }

  /** Obligations between P and Q in the open window, closed by the supervisor. */
  async function window(): Promise<void> {
    const windows = t.services.settlementWindows;
    const obligations = [
      { from: P, to: Q, asset: 'BTC', amount: TO_Q },
      { from: Q, to: P, asset: 'BTC', amount: TO_P },
      { from: P, to: Q, asset: 'COP', amount: COP_TO_Q },
    ];
    await t.db.transaction(async (tx) => {
      for (const [i, o] of obligations.entries())
        await windows.record(
          { source: 'transfer', sourceId: `trf_browser_${i}`, at: new Date(), ...o },
          tx,
        );
    });
    await windows.setSchedule(supervisor, {
      periodMinutes: 1440,
      payInMinutes: 1440,
      reason: 'daily windows; the supervisor closes this one early',
    });
    windowId = (await windows.listWindows(supervisor)).items[0]!.id;
    await windows.closeWindow(supervisor, windowId);
  }

  beforeAll(async () => {
    t = await startBrowserApp({
      trade: async (db) => {
        simnet = await Simnet.open({ db, clock: systemClock });
        return { chain: new SimnetChainSource(simnet), signerPassphrase: () => PASSPHRASE };
      },
    });
    const { registry, trade, mining, clearing, settlementWindows, rates } = t.services;
    await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
    P = await licensed('platform', 'Bogota Digital Custody SAS');
    Q = await licensed('platform', 'Medellin Digital Custody SAS');
    companyId = await verified('company', 'Andes Coffee Importers SA', 'CO');
    const officer = caller('platform', P, 'browser-test:maker', P);
    const checker = caller('platform', P, 'browser-test:checker', P);
    await t.db.transaction((tx) =>
      trade.sealedKeys.store(tx, P, PLATFORM_SEED, 'regtest', 1 << 12),
    );
    await registry.registerWallet(officer, {
      companyId,
      descriptor: descriptorOf(PLATFORM_SEED, 0, '<0;1>/*'),
    });
    const minerCaller = await miner();

    watcher = new ChainWatcher({
      source: new SimnetChainSource(simnet),
      database: t.db,
      clock: systemClock,
    });
    for (const consumer of [
      trade.chainConsumer(),
      mining.chainConsumer(),
      clearing.chainConsumer(),
      settlementWindows.chainConsumer(),
    ])
      await watcher.registerConsumer(consumer);
    // Lots: south (cleared), north inside the ban (quarantined), south again; then maturity.
    for (const key of [southKey, northKey, southKey]) await mine(1, key.address);
    await mine(100, elsewhere);
    lots = (await clearing.listLots(supervisor, {}, { limit: 10 })).items.sort(
      (a, b) => a.height - b.height,
    );
    expect(lots.map((l) => l.status)).toEqual(['cleared', 'quarantined', 'cleared']);

    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('COP', COP_PER_BTC.toString());
    rates.source.set('USD', '60000');
    await rates.fixings!.setSettings(supervisor, {
      cutoffTime: '16:00',
      currencies: ['COP', 'USD'],
      sources: ['manual'],
      minSources: 1,
      maxDeviationBps: 200,
      singleSource: { reason: 'the browser test scheme has the manual desk only' },
    });
    await rates.fixings!.publish(supervisor, { quote: 'COP' });

    await market(minerCaller, officer, checker);
    expect(deals.map((d) => d.status)).toEqual(['awaitingPayment', 'held', 'held']);
    expect(deals.map((d) => d.fiatMinor)).toEqual(deals.map(() => fiatOf(BOUGHT)));
    // The first lot's coins went into the offer's escrow: the lots as they now stand.
    lots = await Promise.all(lots.map((l) => clearing.getLot(supervisor, l.id)));
    await window();
    // P's maker proposes a settlement address (proven by its BIP322 signature): pending until
    // another officer of P approves it.
    const { message } = settlementWindows.settlementAddressStatement(officer, {
      address: proposedKey.address,
    });
    await settlementWindows.proposeSettlementAddress(officer, {
      address: proposedKey.address,
      message,
      signature: bip322(proposedKey, message),
    });

    await t.user({
      username: 'sofia',
      displayName: 'Sofia Supervisor',
      role: 'supervisor',
      participantId: 'scheme',
    });
    await t.user({
      username: 'sven',
      displayName: 'Sven Second Supervisor',
      role: 'supervisor',
      participantId: 'scheme',
    });
    await t.user({
      username: 'mira',
      displayName: 'Mira Miner',
      role: 'miner',
      participantId: minerId,
    });
    await t.user({
      username: 'pia',
      displayName: 'Pia Platform Officer',
      role: 'platform',
      participantId: P,
      platformId: P,
    });
    await t.user({
      username: 'ivan',
      displayName: 'Ivan Importer',
      role: 'company',
      participantId: companyId,
      platformId: P,
    });
  }, 300_000);

  afterAll(async () => {
    await t?.close();
  });

  it('a miner sees its lots with their amounts and clearance', async () => {
    const page = await t.page('mira');
    await page.getByRole('link', { name: 'Lots of mined coins' }).click();
    await page.getByRole('heading', { name: 'My lots of mined coins' }).waitFor();
    const rows = page.getByRole('table', { name: 'Lots' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    for (const lot of lots) {
      const row = rows.filter({ hasText: `…${lot.id.slice(-6)}` });
      expect(await row.textContent()).toContain(btc(lot.valueSats));
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe(lot.status);
    }
    expect(await rows.filter({ hasText: 'MINED_IN_BAN' }).count()).toBe(1);
    await accessible(page, 'clearing-lots-miner');
  });

  it('the supervisor opens a quarantined lot and releases it with a reason', async () => {
    const page = await t.page('sofia');
    await page.goto('/clearing/lots');
    const quarantined = lots[1]!;
    await page.getByRole('link', { name: `Lot …${quarantined.id.slice(-6)}` }).click();
    await page.getByRole('heading', { name: `Lot ${quarantined.id}` }).waitFor();
    expect(await page.getByTestId('lot-amount').textContent()).toBe(btc(quarantined.valueSats));
    expect(await page.getByText('mined inside a ban of its region').count()).toBe(1);
    await page.getByRole('button', { name: 'Release this lot' }).click();
    await page.getByLabel('Reason').fill('the ban was declared after the block was mined');
    await page.getByRole('button', { name: 'Release', exact: true }).click();
    await page.getByTestId('release-reason').waitFor();
    expect(await page.getByTestId('release-reason').textContent()).toBe(
      'the ban was declared after the block was mined',
    );
    expect((await t.services.clearing.getLot(supervisor, quarantined.id)).status).toBe('released');
    await accessible(page, 'clearing-lot-released');
  });

  it('the supervisor reads the fixings, publishes one and sees a second one refused in the API’s words', async () => {
    const page = await t.page('sofia');
    await page.getByRole('link', { name: 'Reference rate' }).click();
    const table = page.getByRole('table', { name: 'Fixings' });
    await table.getByText('COP 250,000,000 per BTC').waitFor();
    await choose(page, 'Currency', 'USD');
    await page.getByRole('button', { name: 'Publish', exact: true }).click();
    await table.getByText('USD 60,000 per BTC').waitFor();
    await expect.poll(() => table.locator('tbody tr').count()).toBe(2);
    await choose(page, 'Currency', 'COP');
    const refused = await answerOf(page, '/v1/rates/fixings', () =>
      page.getByRole('button', { name: 'Publish', exact: true }).click(),
    );
    expect(refused).toMatchObject({ status: 409, body: { code: 'FIXING_ALREADY_PUBLISHED' } });
    await page
      .getByRole('alert')
      .filter({ hasText: refused.body.message ?? '' })
      .waitFor();
    // A correction: a new version taken from the sources again; the first is superseded.
    const desk = t.services.rates.source;
    if (!(desk instanceof FixedRateSource)) throw new Error('expected the manual rate desk');
    desk.set('COP', (COP_PER_BTC + 1_000_000n).toString());
    await page.getByRole('button', { name: /^Correct the COP fixing/ }).click();
    await page.getByLabel('Reason').fill('the desk published a stale price at the cut-off');
    await page.getByRole('button', { name: 'Correct the fixing' }).click();
    await page.getByTestId('fixing-corrected').waitFor();
    await table.getByText('COP 251,000,000 per BTC').waitFor();
    await expect.poll(() => table.getByText('by a correction').count()).toBe(1);
    await accessible(page, 'clearing-fixings');
  });

  it('a miner sees its funded offer, posts another from a lot and withdraws it', async () => {
    const page = await t.page('mira');
    await page.getByRole('link', { name: 'Offers' }).click();
    const rows = page.getByRole('table', { name: 'Offers' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(1);
    // Offered 1 BTC; three deals of 0.1 BTC hold 0.3 of it.
    expect(await rows.first().textContent()).toContain(btc(OFFERED));
    expect(await rows.first().textContent()).toContain(btc(OFFERED - 3n * BOUGHT));
    // A miner sees no other participant's licence, yet picks the market by its platform's name
    // (the markets' directory every role reads).
    const market = page.getByRole('combobox', { name: 'Market', exact: true });
    await market.fill('bogota');
    await page.getByRole('option', { name: 'Bogota Digital Custody SAS' }).click();
    // The lots offered are the sellable ones of the site picked, found by the start of its name:
    // the northern site's only lot, released by the supervisor above, and none of the south's.
    const site = page.getByRole('combobox', { name: 'Site', exact: true });
    await site.fill('north');
    await page.getByRole('option', { name: /^Northern region hydro site/ }).click();
    const blockOption = (i: number) =>
      page.getByRole('option', { name: new RegExp(`^Block ${lots[i]!.height} `) });
    await page.getByLabel('Lot', { exact: true }).first().click();
    await blockOption(1).waitFor();
    expect(await blockOption(2).count()).toBe(0);
    await page.keyboard.press('Escape');
    await site.fill('South');
    await page.getByRole('option', { name: /^Southern region hydro site/ }).click();
    // The lot is found by its block's height, typed into the picker (a search on the server).
    const lot = page.getByRole('combobox', { name: 'Lot', exact: true });
    await lot.fill(String(lots[2]!.height));
    await page.getByRole('option', { name: new RegExp(`^Block ${lots[2]!.height} `) }).click();
    expect(await lot.inputValue()).toMatch(new RegExp(`^Block ${lots[2]!.height} `));
    await page.getByLabel('Amount').fill('0.5');
    await page.getByTestId('market-terms').waitFor();
    await page.getByRole('button', { name: 'Post offer' }).click();
    await page.getByTestId('offer-posted').waitFor();
    expect(await page.getByTestId('offer-posted').textContent()).toContain(btc(COIN / 2n));
    await expect.poll(() => rows.count()).toBe(2);
    const posted = rows.filter({ has: page.locator('[data-status="awaitingDeposit"]') });
    await posted.getByRole('button', { name: /^Withdraw/ }).click();
    await page.locator('[data-status="withdrawn"]').waitFor();
    await accessible(page, 'clearing-offers-miner');
  });

  it('an importer sees its bids and places one for its import contract', async () => {
    const page = await t.page('ivan');
    await page.getByRole('link', { name: 'Bids' }).click();
    const rows = page.getByRole('table', { name: 'Bids' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    expect(await page.locator('[data-status="matched"]').count()).toBe(3);
    await choose(page, 'Import contract', /Osaka Machinery KK/);
    await page.getByLabel('Amount').fill('0.05');
    await page.getByRole('button', { name: 'Place bid' }).click();
    await page.getByTestId('bid-placed').waitFor();
    await expect.poll(() => rows.count()).toBe(4);
    expect(
      await rows.filter({ has: page.locator('[data-status="open"]') }).textContent(),
    ).toContain(btc(5_000_000n));
    await accessible(page, 'clearing-bids-importer');
  });

  it('an importer sees its deals with both legs at the reference rate plus the spread', async () => {
    const page = await t.page('ivan');
    await page.getByRole('link', { name: 'Deals' }).click();
    const rows = page.getByRole('table', { name: 'Deals' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(3);
    for (const deal of deals) {
      const row = rows.filter({ hasText: `…${deal.id.slice(-6)}` });
      const text = await row.textContent();
      expect(text).toContain(btc(BOUGHT));
      expect(text).toContain(cop(fiatOf(BOUGHT)));
      expect(await row.locator('[data-status]').getAttribute('data-status')).toBe(deal.status);
    }
    await accessible(page, 'clearing-deals-importer');
  });

  it('two supervisors release one held deal and refund the other, each seeing the API’s answer', async () => {
    const first = await t.page('sofia');
    const second = await t.page('sven');
    for (const page of [first, second])
      await page.getByRole('link', { name: 'Held deals' }).click();
    const rows = second.getByRole('table', { name: 'Held deals' }).locator('tbody tr');
    await expect.poll(() => rows.count()).toBe(2);
    const decide = async (page: typeof first, deal: { id: string }, decision: string) => {
      await page.getByRole('button', { name: `${decision} deal …${deal.id.slice(-6)}` }).click();
      await page.getByLabel('Reason').fill(`${decision}: the importer's KYB is verified again`);
      const answer = await answerOf(page, `/v1/market/deals/${deal.id}/`, () =>
        page.getByRole('button', { name: `${decision} the deal` }).click(),
      );
      expect(answer.status).toBe(200);
      const shown = page.getByTestId('decision-answer');
      await expect.poll(() => shown.getAttribute('data-status')).toBe(answer.body.status);
      expect((await t.services.market.getDeal(supervisor, deal.id)).status).toBe(
        answer.body.status,
      );
      return shown;
    };
    for (const [deal, decision] of [
      [deals[1]!, 'Release'],
      [deals[2]!, 'Refund'],
    ] as const) {
      // Four eyes: the first supervisor's decision is a proposal, and the page says so.
      const proposed = await decide(first, deal, decision);
      expect(await proposed.getAttribute('data-status')).toBe('held');
      expect(await proposed.getAttribute('data-pending')).toBe(decision.toLowerCase());
      expect(await proposed.textContent()).toContain('another supervisor');
      await second.reload();
      await decide(second, deal, decision);
    }
    const page = second;
    expect(await page.getByTestId('decision-answer').getAttribute('data-status')).toBe('refunded');
    await expect.poll(() => rows.count()).toBe(0);
    await page.getByText('No deal is held.').waitFor();
    await accessible(page, 'clearing-held-deals');
  });

  it('the supervisor opens a window: obligations netted, positions, a fiat pay-in refused then received', async () => {
    const page = await t.page('sofia');
    await page.getByRole('link', { name: 'Settlement windows' }).click();
    await page.getByRole('link', { name: 'Window 1' }).click();
    await page.getByRole('heading', { name: 'Settlement window 1' }).waitFor();
    const netting = page.getByRole('table', { name: 'Obligations and netting' });
    const btcRow = netting.locator('tbody tr').filter({ hasText: 'BTC' }).first();
    await btcRow.waitFor();
    expect(await btcRow.textContent()).toContain(btc(TO_Q + TO_P)); // gross
    expect(await btcRow.textContent()).toContain(btc(TO_Q - TO_P)); // net
    // Each obligation, a page at a time (three here: no further page to load).
    const obligations = page.getByRole('table', { name: 'Obligations', exact: true });
    for (const i of [0, 1, 2])
      await obligations
        .locator('tbody tr')
        .filter({ hasText: `trf_browser_${i}` })
        .waitFor();
    expect(await obligations.locator('tbody tr').count()).toBe(3);
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);
    const positions = page.getByRole('table', { name: 'Net positions' });
    for (const amount of [btc(-(TO_Q - TO_P)), btc(TO_Q - TO_P), cop(-COP_TO_Q), cop(COP_TO_Q)])
      await positions.getByText(amount, { exact: true }).waitFor();

    // The pay-in is picked once (picking the chosen option again would clear it).
    await choose(page, 'Pay-in due', /Bogota Digital Custody SAS/);
    const pay = async (on: typeof page, amount: string, reference: string) => {
      await on.getByLabel('Amount received').fill(amount);
      await on.getByLabel('Bank reference').fill(reference);
      return answerOf(on, '/fiat-pay-ins', () =>
        on.getByRole('button', { name: 'Confirm pay-in' }).click(),
      );
    };
    const wrong = await pay(page, '12500000.01', 'BANREP-0001');
    expect(wrong).toMatchObject({ status: 422, body: { code: 'PAY_IN_WRONG_AMOUNT' } });
    await page
      .getByRole('alert')
      .filter({ hasText: wrong.body.message ?? '' })
      .waitFor();
    // Four eyes: the first supervisor's report is recorded, and says it does not count yet.
    const recorded = await pay(page, '12500000.00', 'BANREP-0002');
    expect(recorded).toMatchObject({ status: 200, body: { status: 'awaiting' } });
    expect(await page.getByTestId('pay-in-recorded').textContent()).toContain(
      'counts once another person confirms',
    );
    // A second supervisor, another person, confirms the same transfer: it counts.
    const second = await t.page('sven');
    await second.getByRole('link', { name: 'Settlement windows' }).click();
    await second.getByRole('link', { name: 'Window 1' }).click();
    await second.getByRole('heading', { name: 'Settlement window 1' }).waitFor();
    await choose(second, 'Pay-in due', /Bogota Digital Custody SAS/);
    // The second person sees that a transfer was recorded, not what to type.
    const pending = await second.getByTestId('pay-in-pending').textContent();
    expect(pending).toContain('A transfer was recorded');
    expect(pending).not.toContain('BANREP-0002');
    expect(pending).not.toContain('12,500,000');
    const confirmed = await pay(second, '12500000.00', 'BANREP-0002');
    expect(confirmed).toMatchObject({ status: 200, body: { status: 'received' } });
    await second.getByTestId('pay-in-confirmed').waitFor();
    const payIns = second.getByRole('table', { name: 'Pay-ins' }).locator('tbody tr');
    const copRow = payIns.filter({ hasText: 'BANREP-0002' });
    await expect
      .poll(() => copRow.locator('[data-status]').getAttribute('data-status'))
      .toBe('received');
    expect(await copRow.textContent()).toContain(`PAY_IN_WRONG_AMOUNT: ${cop(COP_TO_Q + 1n)}`);
    await accessible(second, 'clearing-settlement-window');
  });

  it('a second platform officer approves the settlement address another proposed, then proposes one with its BIP322 proof', async () => {
    const page = await t.page('pia');
    await page.getByRole('link', { name: 'Settlement windows' }).click();
    const panel = page.getByTestId('settlement-address');
    const pending = panel.getByTestId('settlement-address-pending');
    await pending.waitFor();
    expect(await panel.getByTestId('settlement-address-active').textContent()).toContain(
      'No settlement address is active',
    );
    expect(await pending.textContent()).toContain(proposedKey.address);
    expect(await pending.textContent()).toContain('browser-test:maker');
    // Four eyes: Pia is another person than the maker, so her approval makes it the one paid.
    const approved = await answerOf(page, '/approve', () =>
      page.getByRole('button', { name: 'Approve address' }).click(),
    );
    expect(approved).toMatchObject({ status: 200, body: { status: 'active' } });
    await expect
      .poll(() => panel.getByTestId('settlement-address-active').textContent())
      .toContain(proposedKey.address);
    expect(await pending.count()).toBe(0);

    // Pia proposes a replacement: the server's statement, signed with the address's key.
    await page.getByLabel('New settlement address').fill(nextKey.address);
    await page.getByRole('button', { name: 'Get the statement to sign' }).click();
    const message = (await page.getByTestId('settlement-address-statement').textContent())!;
    expect(message).toBe(
      `Tradeclear settlement address: platform ${P} controls ${nextKey.address} and receives the clearing's pay-outs at it. Issued ${new Date().toISOString().slice(0, 10)}.`,
    );
    const put = async () => {
      const [response]: [Response, void] = await Promise.all([
        page.waitForResponse(
          (r) => r.url().endsWith('/v1/settlement-address') && r.request().method() === 'PUT',
        ),
        page.getByRole('button', { name: 'Propose address' }).click(),
      ]);
      return {
        status: response.status(),
        body: (await response.json()) as {
          code?: string;
          status?: string;
          issues?: { message: string }[];
        },
      };
    };
    // Signed by another key: refused in the API's words, nothing proposed.
    await page.getByLabel('Signature (base64)').fill(bip322(proposedKey, message));
    const refused = await put();
    expect(refused).toMatchObject({ status: 422, body: { code: 'OWNERSHIP_PROOF_INVALID' } });
    await page.getByText(refused.body.issues![0]!.message).waitFor();
    await page.getByLabel('Signature (base64)').fill(bip322(nextKey, message));
    expect(await put()).toMatchObject({ status: 200, body: { status: 'proposed' } });
    await pending.waitFor();
    expect(await pending.textContent()).toContain(nextKey.address);
    expect(await pending.textContent()).toContain('proposed');
    // Her own proposal: she may withdraw it, not approve it; the approved one is still paid.
    expect(await pending.getByRole('button', { name: 'Approve address' }).count()).toBe(0);
    await pending.getByRole('button', { name: 'Withdraw proposal' }).waitFor();
    expect(await panel.getByTestId('settlement-address-active').textContent()).toContain(
      proposedKey.address,
    );
    await accessible(page, 'clearing-settlement-address');
  });

  it('the supervisor reads the loop: the deals’ bitcoin at the day’s fixing, the windows’ valuations and the fixings used', async () => {
    const { rates, settlementWindows } = t.services;
    // The deals were matched today: their bitcoin at today's latest COP fixing (a correction
    // above, if it ran, made it a second version), summed, the whole day's at once, half-even.
    const days = new Set(deals.map((d) => d.createdAt.toISOString().slice(0, 10)));
    expect(days.size).toBe(1);
    const [day] = [...days];
    const fixing = (await rates.fixings!.forDay(currency('COP'), day!))!;
    const sold = deals.reduce((n, d) => n + d.amountSats, 0n);
    const soldValue = satsToFiat(sold, fixing.rate, 'halfEven').minor;
    const valuation = (await settlementWindows.getWindow(supervisor, windowId)).valuation!;
    // Its cut-off day's fixing, the live rate before it, or why there was no rate (a daily
    // window closed early is valued at its scheduled cut-off day).
    const windowBasis =
      valuation.rate === null
        ? (valuation.unavailableReason ?? 'no rate')
        : `${valuation.rate} COP per BTC (${valuation.fixingId ? `fixing ${valuation.fixingId}` : 'live rate before the fixing'})`;

    const page = await t.page('sofia');
    await page.getByRole('link', { name: 'Loop of mined coins' }).click();
    const valued = page.getByRole('table', { name: 'Valued in COP' });
    const soldRow = valued.locator('tbody tr').filter({ hasText: 'Sold' });
    await soldRow.waitFor();
    // Intl separates the currency with a no-break space: compared as plain spaces.
    const soldText = (await soldRow.textContent())!.replace(/\s/g, ' ');
    expect(soldText).toContain(btc(sold));
    expect(soldText).toContain(cop(soldValue).replace(/\s/g, ' '));
    expect(soldText).toContain(fixing.id);
    // The window's nets at the rate it was valued at when it closed, naming its fixing.
    const windowRow = page
      .getByRole('table', { name: 'Settlement windows' })
      .locator('tbody tr')
      .filter({ hasText: 'COP' })
      .first();
    expect(await windowRow.textContent()).toContain(windowBasis);
    // Every fixing used, and what for: the deals' prices at the first version (and the window's
    // nets at the one it names), the stages' values at the latest.
    const used = page.getByRole('table', { name: 'Fixings used' }).locator('tbody tr');
    expect(await used.filter({ hasText: deals[0]!.fixingId! }).textContent()).toContain(
      'deal prices',
    );
    if (valuation.fixingId)
      expect(await used.filter({ hasText: valuation.fixingId }).textContent()).toContain(
        'window nets',
      );
    expect(await used.filter({ hasText: fixing.id }).textContent()).toContain('stage values');
    await accessible(page, 'clearing-loop');
  });
});

import { mkdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHttpApp, openPlatform, type Platform } from '../../src/app';
import { seedDemoDatabase } from '../../src/cli/commands/demo';
import { DEMO_LOGINS, silentProgress } from '../../src/demo';
import { loadConfig } from '../../src/kernel';
import {
  CHROMIUM_AVAILABLE,
  CHROMIUM_PATH,
  ensureWebBuilt,
  NO_CHROMIUM_MESSAGE,
  SCREENSHOTS,
  seriousAxeViolations,
} from '../support/browser';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
type Viewport = (typeof VIEWPORTS)[number];
/** The tallest screenshot written, in CSS pixels. */
const MAX_SHOT_HEIGHT = 1400;

const passwordOf = (username: string) => DEMO_LOGINS.find((l) => l.username === username)!.password;

interface Home {
  queues: { key: string; items: { id: string; title: string; href: string }[] }[];
}
interface Payout {
  id: string;
  status: string;
  createdBy: string;
  memo: string;
  approvals: { actorId: string }[];
}

interface Deal {
  id: string;
  status: string;
  currency: string;
  minerPlatformId: string;
  importerPlatformId: string;
}

/** Errors the page reports: uncaught exceptions and console errors. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

/**
 * The guided tour of the README, step by step, in a real Chromium against the demo scheme as
 * `tradeclear demo seed` leaves it (the small size): each step's login, the screen it names and
 * the thing on it (alerts and their case, the gate's refusals with reasons, the suspended licence,
 * the ban calendar, reports, the pay page, a payout the first platform officer made and the second
 * approves, the audit chain). The desktop run writes the README's screenshots as `tour-<name>`.
 * Every queue link of every demo login's home page lands on its item.
 */
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: the guided tour on the demo scheme', () => {
  let dir = '';
  let platform: Platform;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tradeclear-tour-'));
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    await seedDemoDatabase(config, { size: 'small', seed: 3, progress: silentProgress });
    platform = await openPlatform(config);
    // The rate desk the demo's live activity sets at start (the last replayed rate stands in).
    platform.rateDesk.set('USD', '60000.00');
    app = await buildHttpApp(platform);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('the server has no address');
    baseUrl = `http://127.0.0.1:${address.port}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
    });
  }, 900_000);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await app?.close();
    await platform?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Logs a demo login in with its printed password. */
  async function open(username: string, viewport: Viewport = VIEWPORTS[0]): Promise<Page> {
    const context = await browser.newContext({
      baseURL: baseUrl,
      viewport: { width: viewport.width, height: viewport.height },
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    await page.goto('/');
    await page.getByLabel('Username').fill(username);
    await page.locator('input[autocomplete="current-password"]').fill(passwordOf(username));
    await page.getByRole('button', { name: 'Log in' }).click();
    // The phone layout keeps the user's name in the closed menu.
    await page.getByTestId('current-user').waitFor({ state: 'attached' });
    return page;
  }

  async function json<T>(page: Page, url: string): Promise<T> {
    const response = await page.request.get(url);
    expect(response.status(), url).toBe(200);
    return (await response.json()) as T;
  }

  /**
   * Axe finds nothing serious; on the desktop the README's screenshot is written, its height
   * capped (a long list's tail adds bytes, not information).
   */
  async function check(
    page: Page,
    viewport: Viewport,
    shot: string,
    /** The part of the page the screenshot shows (a panel), else the page from its top. */
    part?: Locator,
  ): Promise<void> {
    expect(await seriousAxeViolations(page), `${shot} (${viewport.name})`).toEqual([]);
    if (viewport.name !== 'desktop') return;
    mkdirSync(SCREENSHOTS, { recursive: true });
    if (part) {
      await part.screenshot({ path: path.join(SCREENSHOTS, `tour-${shot}.png`) });
      return;
    }
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    await page.screenshot({
      path: path.join(SCREENSHOTS, `tour-${shot}.png`),
      fullPage: true,
      clip: { x: 0, y: 0, width: viewport.width, height: Math.min(height, MAX_SHOT_HEIGHT) },
    });
  }

  const heading = (page: Page, name: string | RegExp) =>
    page.getByRole('heading', { name, level: 1 }).waitFor();
  const firstRow = (page: Page, table: string) =>
    page.getByRole('table', { name: table }).locator('tbody tr').first();

  it('lands every home queue link of every demo login on its item', async () => {
    const landed: string[] = [];
    for (const login of DEMO_LOGINS) {
      const page = await open(login.username);
      const errors = watchErrors(page);
      // Which request failed, when one does.
      page.on('response', (response) => {
        // A party with no KYC record yet (why it is on a KYC queue) answers 404 there: the
        // detail shows "not recorded", not an error.
        const noKycYet =
          response.status() === 404 && /\/v1\/participants\/[^/]+\/kyc$/.test(response.url());
        if (response.status() >= 400 && !noKycYet)
          errors.push(`${response.status()} ${response.url()}`);
      });
      const home = await json<Home>(page, '/v1/home');
      for (const queue of home.queues) {
        const item = queue.items[0];
        if (!item) continue;
        await page.goto('/');
        await page.getByTestId('home').waitFor();
        await page
          .getByTestId(`queue-${queue.key}`)
          .getByRole('link', { name: item.title })
          .first()
          .click();
        await page.waitForURL((url) => `${url.pathname}${url.search}` === item.href);
        await page.getByRole('heading', { level: 1 }).waitFor();
        const where = `${login.username} ${queue.key} ${item.href}`;
        expect(await page.getByTestId('not-found').count(), where).toBe(0);
        expect(await page.getByTestId('not-available').count(), where).toBe(0);
        expect(await page.getByTestId('focus-missing').count(), where).toBe(0);
        if (/^\/(trade\/(invoices|payouts)|compliance\/cases)\/[^/?]+$/.test(item.href)) {
          // A detail page: the item's own.
          const main = page.locator('main');
          if (item.href.startsWith('/compliance/cases/'))
            await main.getByText(item.title).first().waitFor();
          else await main.getByText(item.href.split('/').pop()!).first().waitFor();
        } else if (item.href.startsWith('/audit?')) {
          // The audit log filtered to the entity: the action the item names is there.
          await page.getByRole('cell', { name: item.title }).first().waitFor();
        } else {
          // A list page opened at the item: its row is highlighted.
          await page.locator('tr[data-focused="true"][aria-current="true"]').first().waitFor();
          if (item.href.startsWith('/registry/participants?')) {
            // The party's detail opens (its KYC and screening hits).
            await page.getByRole('dialog', { name: item.title }).waitFor();
          }
        }
        landed.push(`${login.username}:${queue.key}`);
      }
      // A failed request is listed above with its address; the console's line for it adds nothing.
      expect(
        errors.filter((e) => !e.startsWith('Failed to load resource')),
        login.username,
      ).toEqual([]);
    }
    // The demo leaves work on the queues the tour shows.
    for (const expected of [
      'supervisor:refusals',
      'supervisor:cases',
      'supervisor:violations',
      'platform2:approvals',
      'company:payouts',
      'company:contracts',
      'miner:output',
      'miner:lots',
      'miner:violations',
      'auditor:actions',
    ])
      expect(landed).toContain(expected);
  }, 600_000);

  for (const viewport of VIEWPORTS) {
    it(`steps 1 to 4: dashboard, alerts and their case, the gate, mining and reports (${viewport.name})`, async () => {
      const page = await open('supervisor', viewport);
      const errors = watchErrors(page);
      // 1. The dashboard: settlements by month and country (a map), mining, open alerts.
      await page.goto('/dashboard');
      await heading(page, 'Supervisor dashboard');
      await page
        .locator('[aria-label^="World map of settled BTC by partner country"] svg path')
        .first()
        .waitFor();
      await check(page, viewport, 'supervisor-dashboard');
      // The map: partner countries coloured by their settled volume; beside it the same
      // countries by name with their BTC (the map's accessible alternative).
      const byCountry = page.getByRole('table', { name: 'Settled volume by partner country' });
      await byCountry.locator('tbody tr').first().waitFor();
      const countryRows = await byCountry.locator('tbody tr').allInnerTexts();
      expect(countryRows.length, 'partner countries').toBeGreaterThan(1);
      for (const row of countryRows) {
        // A name ("Germany"), not a bare code, and its amount in BTC.
        expect(row).toMatch(/^[^\t]*[a-z]{3}/);
        expect(row).toMatch(/\d\.\d{8}/);
      }
      const fills = await page
        .locator('[aria-label^="World map of settled BTC by partner country"] svg path')
        .evaluateAll((paths: { getAttribute(name: string): string | null }[]) =>
          paths.map((p) => (p.getAttribute('fill') ?? '').replace(/\s/g, '').toLowerCase()),
        );
      const noData = ['#dee2e6', 'rgb(222,226,230)', '', 'none', 'transparent', '#fff', '#ffffff'];
      expect(
        fills.filter((f) => !noData.includes(f)).length,
        'countries coloured on the map',
      ).toBeGreaterThan(0);
      await check(page, viewport, 'supervisor-dashboard-map', page.getByTestId('country-panel'));

      // 2. Alerts, raised by the monitoring rules on the replayed transfers, and their cases.
      const alerts = await json<{ items: { rule: string; caseId: string }[] }>(
        page,
        '/v1/alerts?limit=500',
      );
      const structuring = alerts.items.find((a) => a.rule === 'rule.structuring@1');
      expect(structuring, 'a structuring alert').toBeDefined();
      await page.goto('/compliance/alerts');
      await heading(page, 'Alerts');
      await firstRow(page, 'Alerts').waitFor();
      await check(page, viewport, 'alerts');
      const cases = await json<{ items: { id: string; assignee: string | null }[] }>(
        page,
        '/v1/cases?limit=500',
      );
      const taken = cases.items.find((c) => c.id === structuring!.caseId);
      // Taken on by a person of the supervisor's staff (the `supervisor` login), named on the case.
      const staff = await json<{ items: { id: string; username: string; displayName: string }[] }>(
        page,
        '/v1/cases/assignees?limit=500',
      );
      const assignee = staff.items.find((p) => p.id === taken?.assignee);
      expect(assignee?.username, 'the structuring case is taken on').toBe('supervisor');
      await page.goto('/compliance/cases');
      await firstRow(page, 'Cases').waitFor();
      await page.goto(`/compliance/cases/${taken!.id}`);
      await heading(page, /^Case: /);
      await page
        .getByText(/structuring/)
        .first()
        .waitFor();
      await page.getByRole('heading', { name: /goAML report/ }).waitFor();
      await page.getByLabel('goAML report preview').waitFor();
      await page.locator('main').getByText(assignee!.displayName).first().waitFor();
      await check(page, viewport, 'case-goaml');

      // 3. The gate's refusals, each with its reason; the suspended licence.
      await page.goto('/compliance/decisions');
      await heading(page, 'Policy decisions');
      const decisions = page.getByRole('table', { name: 'Decisions' });
      await decisions.locator('tbody tr').first().waitFor();
      await expect.poll(() => decisions.innerText()).toMatch(/refus|licence|jurisdiction/i);
      await page.goto('/registry/licences');
      await page.getByRole('cell', { name: 'suspended', exact: true }).first().waitFor();
      await check(page, viewport, 'supervisor-licence-suspended');

      // 4. Mining: the ban calendar, the violations; reports.
      // The calendar opened on the month of the latest violation (its ban in force).
      const violations = await json<{ items: { blockTime: string }[] }>(
        page,
        '/v1/mining/violations?limit=1',
      );
      await page.goto(`/mining?month=${violations.items[0]!.blockTime.slice(0, 7)}`);
      const calendar = page.getByTestId('ban-calendar');
      await calendar.locator('td[data-banned]').first().waitFor({ state: 'attached' });
      // Every region by name and code; a banned day says which ban and why.
      const regionNames = await calendar.locator('tr[data-region] th').allInnerTexts();
      expect(regionNames.length, 'regions in the calendar').toBeGreaterThan(1);
      for (const name of regionNames) expect(name).toMatch(/^\S.* \([a-z0-9-]+\)$/);
      const banned = calendar.locator('td[data-banned]').first();
      expect(await banned.getAttribute('title')).toMatch(/(full|seasonal) ban|curtailment/);
      expect(await calendar.locator('caption').innerText()).toMatch(
        /^Mining bans in force in [A-Z][a-z]+ \d{4}/,
      );
      await check(page, viewport, 'mining-ban-calendar');
      await page.goto('/mining/violations');
      await firstRow(page, 'Ban violations').waitFor();
      await page.goto('/oversight/reports');
      await heading(page, 'Reports');
      // The year of the latest settlement: the balance of payments has figures then.
      const latest = await json<{ items: { settledAt: string }[] }>(
        page,
        '/v1/oversight/settlements?limit=1&sort=settledAt&order=desc',
      );
      const year = latest.items[0]!.settledAt.slice(0, 4);
      await page.getByLabel('Period').fill(year);
      await page.getByRole('button', { name: 'Show report' }).click();
      const preview = page.getByTestId('report-preview');
      await preview
        .getByRole('heading', { name: new RegExp(`^Balance of payments.*, ${year}$`) })
        .waitFor();
      // The scheme the report is for, named in its header.
      const { scheme } = await json<{ scheme: string }>(page, `/v1/reports/bop?period=${year}`);
      await preview.getByText(scheme).first().waitFor();
      // The sections hold rows of figures: a partner country by name, amounts formatted.
      const figures = await preview.locator('tbody tr').allInnerTexts();
      expect(figures.length, 'report rows').toBeGreaterThan(2);
      expect(figures.join('\n')).toMatch(/\d\.\d{8}/);
      await check(page, viewport, 'reports-preview');
      expect(errors).toEqual([]);
    }, 600_000);

    // A flow whose logic the viewport does not change: the phone layout is walked by steps 1–4.
    it.skipIf(viewport.name !== 'desktop')(
      `step 5: contracts, the pay page, and a payout the second officer approves (${viewport.name})`,
      async () => {
        const maker = await open('platform', viewport);
        const errors = watchErrors(maker);
        await maker.goto('/trade/contracts');
        await firstRow(maker, 'Contracts').waitFor();
        expect(await seriousAxeViolations(maker)).toEqual([]);
        // The company invoices its foreign buyer on an active export contract.
        const company = await open('company', viewport);
        const contracts = await json<{
          items: { id: string; direction: string; status: string }[];
        }>(company, '/v1/contracts?limit=500');
        const contract = contracts.items.find(
          (c) => c.direction === 'export' && c.status === 'active',
        );
        expect(contract, 'an active export contract').toBeDefined();
        const created = await company.request.post('/v1/invoices', {
          headers: { origin: baseUrl },
          data: { contractId: contract!.id, amount: '300.00', description: 'Tour invoice' },
        });
        expect(created.status(), await created.text()).toBe(201);
        const invoice = (await created.json()) as { id: string };
        await company.goto(`/trade/invoices/${invoice.id}`);
        await company.getByText(invoice.id).first().waitFor();
        await check(company, viewport, 'contract-invoice');
        // The buyer's pay page: the amount, the QR, the live status.
        await company.goto(`/pay/${invoice.id}`);
        await company.getByTestId('fiat').waitFor();
        await company.locator('img.qr').waitFor();
        await check(company, viewport, 'pay-page');

        // The payout the `platform` login made awaits a second officer: its maker cannot approve.
        const payouts = await json<{ items: Payout[] }>(maker, '/v1/payouts?limit=500');
        const made = payouts.items.filter((p) => p.memo.includes('second officer'));
        expect(made.length, 'the tour payout').toBe(1);
        const payout = made[0]!;
        if (payout.status === 'awaitingApproval') {
          await maker.goto('/trade/payouts');
          await maker.getByRole('button', { name: `Approve payout ${payout.id}` }).click();
          await expect
            .poll(() => maker.getByRole('alert').first().textContent())
            .toContain('another officer must');
          const checker = await open('platform2', viewport);
          // The payout is on the second officer's home queue, and approved from the list.
          await checker.getByTestId('queue-approvals').getByTestId('queue-item').first().waitFor();
          expect(
            await checker
              .getByTestId('queue-approvals')
              .locator(`[data-id="${payout.id}"]`)
              .count(),
          ).toBe(1);
          await checker.goto('/trade/payouts');
          await checker.getByRole('button', { name: `Approve payout ${payout.id}` }).click();
          await expect
            .poll(async () => (await json<Payout>(checker, `/v1/payouts/${payout.id}`)).status)
            .toBe('awaitingPayment');
          expect(await seriousAxeViolations(checker)).toEqual([]);
        }
        // Approved by another officer than its maker.
        const after = await json<Payout>(maker, `/v1/payouts/${payout.id}`);
        expect(after.approvals.length).toBe(1);
        expect(after.approvals[0]!.actorId).not.toBe(after.createdBy);
        await maker.goto(`/trade/payouts/${payout.id}`);
        await heading(maker, `Payout ${payout.id}`);
        await maker.getByText('1/1').first().waitFor();
        await check(maker, viewport, 'payout-approval');
        // The maker's refused approval is the one failed request.
        expect(errors.filter((e) => !e.includes('status of 403'))).toEqual([]);
      },
      600_000,
    );

    // A flow whose logic the viewport does not change: the phone layout is walked by steps 1–4.
    it.skipIf(viewport.name !== 'desktop')(
      `step 6: each role sees its own scope; the audit chain verifies (${viewport.name})`,
      async () => {
        for (const login of DEMO_LOGINS) {
          const page = await open(login.username, viewport);
          await page.getByTestId('home').waitFor();
          expect(await seriousAxeViolations(page), login.username).toEqual([]);
        }
        const page = await open('supervisor', viewport);
        await page.goto('/audit');
        await page.getByRole('button', { name: 'Verify chain' }).click();
        await page.getByTestId('verify-result').waitFor();
        await check(page, viewport, 'supervisor-audit-verified');
      },
      600_000,
    );

    // A flow whose logic the viewport does not change: the phone layout is walked by steps 1–4.
    it.skipIf(viewport.name !== 'desktop')(
      `step 7: the loop of mined coins, from the lot to the importer (${viewport.name})`,
      async () => {
        const page = await open('supervisor', viewport);
        const errors = watchErrors(page);
        // The seeded deal: a miner's cleared coins sold on the first platform's market to an
        // importer of the second, at the day's fixing, delivered against the bank's payment.
        const deals = await json<{ items: Deal[] }>(page, '/v1/market/deals?limit=500');
        expect(deals.items.map((d) => d.status)).toEqual(['settled']);
        const deal = deals.items[0]!;
        expect(deal.minerPlatformId).not.toBe(deal.importerPlatformId);
        await page.goto('/clearing/loop');
        await heading(page, 'The loop of mined coins');
        const stages = page.getByRole('table', { name: 'Stages of the loop' });
        const stage = (name: RegExp) => stages.locator('tbody tr').filter({ hasText: name });
        await stage(/^Sold/).waitFor();
        // Each stage's count: cells in order stage, count, amount, detail.
        const count = async (name: RegExp) =>
          Number(await stage(name).locator('td').nth(1).innerText());
        expect(await count(/^Mined/)).toBeGreaterThan(0);
        expect(await count(/^Cleared/)).toBeGreaterThan(0);
        expect(await count(/^Quarantined/)).toBeGreaterThan(0);
        expect(await count(/^Released/)).toBe(1);
        expect(await count(/^Offered on a market/)).toBe(1);
        expect(await count(/^Sold/)).toBe(1);
        expect(await stage(/^Sold/).innerText()).toContain('1 to an importer at another platform');
        expect(await count(new RegExp(`^Paid for in ${deal.currency}`))).toBe(1);
        expect(await count(/^Delivered/)).toBe(1);
        // The deal traced from its lot, settled; the windows the period overlaps are listed.
        const traced = page.getByRole('table', { name: 'Deals traced' }).locator('tbody tr');
        await expect.poll(() => traced.count()).toBe(1);
        expect(await traced.first().innerText()).toContain('settled');
        await firstRow(page, 'Settlement windows').waitFor();
        await check(page, viewport, 'clearing-loop');
        // The deals page: the same deal, settled.
        await page.goto('/clearing/deals');
        await heading(page, 'Deals of mined coins');
        expect(await firstRow(page, 'Deals').innerText()).toContain('settled');
        // The lot mined inside the ban, quarantined and released by the supervisor with a reason.
        const released = await json<{ items: { id: string; releaseReason: string }[] }>(
          page,
          '/v1/clearing/lots?status=released&limit=500',
        );
        expect(released.items.length).toBe(1);
        const lot = released.items[0]!;
        await page.goto(`/clearing/lots/${lot.id}`);
        await heading(page, `Lot ${lot.id}`);
        expect(await page.getByTestId('release-reason').innerText()).toBe(lot.releaseReason);
        await page.getByText('mined inside a ban', { exact: false }).first().waitFor();
        await check(page, viewport, 'clearing-lot-released');
        expect(errors).toEqual([]);
      },
      600_000,
    );
  }
});

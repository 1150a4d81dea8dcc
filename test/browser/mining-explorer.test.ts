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
  screenshot,
  seriousAxeViolations,
} from '../support/browser';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;
type Viewport = (typeof VIEWPORTS)[number];

const passwordOf = (role: string) => DEMO_LOGINS.find((l) => l.role === role)!.password;

/** Errors the page reports: uncaught exceptions and console errors (a NaN attribute is one). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  return errors;
}

/** The text of every cell of a table, for "no raw ids where a name exists". */
/**
 * Follows a link to another transaction's page and waits until that transaction is the one shown:
 * every transaction page has inputs and outputs, and the page being left stays on screen while
 * the next one loads, so counting right after the click may count the old one.
 */
async function followTx(page: Page, link: Locator): Promise<void> {
  const txid = (await link.getAttribute('href'))?.split('/').pop();
  if (!txid) throw new Error('the transaction link has no txid');
  await link.click();
  await page.getByText(txid, { exact: true }).waitFor();
}

async function cellTexts(page: Page, caption: string): Promise<string[]> {
  const table = page.getByRole('table', { name: caption });
  return table.locator('tbody td').allInnerTexts();
}

// The mining explorer over the demo scheme as seeded (small size): its miners mined in regions
// under a seasonal ban, their coinbase outputs became clearing lots (quarantined when mined under
// the ban), and two miners sold mined coins to a desk that paid a foreign buyer with them.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: the mining explorer on the demo scheme', () => {
  let dir = '';
  let platform: Platform;
  let app: FastifyInstance;
  let browser: Browser;
  let baseUrl = '';
  const contexts: BrowserContext[] = [];

  beforeAll(async () => {
    await ensureWebBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), 'tradeclear-explorer-'));
    const config = loadConfig({
      DATA_DIR: dir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000',
    });
    await seedDemoDatabase(config, { size: 'small', seed: 7, progress: silentProgress });
    platform = await openPlatform(config);
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

  async function open(role: 'supervisor' | 'miner', viewport: Viewport): Promise<Page> {
    const context = await browser.newContext({
      baseURL: baseUrl,
      viewport: { width: viewport.width, height: viewport.height },
    });
    contexts.push(context);
    const page = await context.newPage();
    page.setDefaultTimeout(30_000);
    // The shared login waits for the user's name, which the phone layout keeps in the closed menu.
    await page.goto('/');
    await page.getByLabel('Username').fill(role);
    await page.locator('input[autocomplete="current-password"]').fill(passwordOf(role));
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.getByTestId('current-user').waitFor({ state: 'attached' });
    return page;
  }

  for (const viewport of VIEWPORTS) {
    it(`the supervisor follows a violation into the provenance graph and through its transactions (${viewport.name})`, async () => {
      const page = await open('supervisor', viewport);
      const errors = watchErrors(page);
      // A coinbase mined under the ban and since sold: its lot is spent, its clearance quarantined.
      const lots = (await (await page.request.get('/v1/clearing/lots?status=spent')).json()) as {
        items: { txid: string; vout: number; clearance: string; blockTime: string }[];
      };
      const sold = lots.items.find((l) => l.clearance === 'quarantined');
      expect(sold, 'the demo sells a coin mined under a ban').toBeDefined();
      const violations = (await (await page.request.get('/v1/mining/violations')).json()) as {
        items: { minerName: string; blockTime: string }[];
      };
      expect(violations.items.length).toBeGreaterThan(0);

      await page.goto('/mining/violations');
      await page.getByRole('heading', { name: 'Ban violations', level: 1 }).waitFor();
      const table = page.getByRole('table', { name: 'Ban violations' });
      await table.locator('tbody tr').first().waitFor();
      // Names, not ids; the newest first.
      const cells = await cellTexts(page, 'Ban violations');
      expect(cells.join(' ')).not.toMatch(/\bpar_|\bsit_/);
      expect(await table.locator('tbody tr').first().innerText()).toContain(
        violations.items[0]!.minerName,
      );
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshot(page, `mining-violations-${viewport.name}`);

      // The server filters by region: only the Northern Highlands' rows remain.
      await page.goto('/mining/violations?region=arn-n');
      await expect
        .poll(async () =>
          (await table.locator('tbody tr').allInnerTexts()).every((row) =>
            row.includes('Northern Highlands'),
          ),
        )
        .toBe(true);

      // Follow the sold violation to its provenance: one coinbase, its lot spent. The server's
      // date filter finds it (the day it was mined, both ends included).
      const day = sold!.blockTime.slice(0, 10);
      await page.goto(`/mining/violations?from=${day}&to=${day}`);
      await table.locator('tbody tr').first().waitFor();
      await page.locator(`a[href="/mining/outputs/${sold!.txid}:${sold!.vout}"]`).click();
      await page.getByRole('heading', { name: 'Provenance of an output', level: 1 }).waitFor();
      const graph = page.getByTestId('provenance-graph');
      await graph.locator('[data-node]').first().waitFor();
      expect(await graph.locator('[data-node]').count()).toBe(1);
      await graph.locator('[data-node]').first().click();

      // The coinbase's transaction: its output spent by the sale.
      await page.getByRole('heading', { name: 'Transaction', level: 1 }).waitFor();
      await page.getByText('coinbase', { exact: true }).first().waitFor();
      const coinbaseOutput = page.getByTestId('tx-output').first();
      await followTx(page, coinbaseOutput.locator('a[href^="/mining/tx/"]'));

      // The sale: the miner's coinbases in, the desk's output and the change out.
      await expect.poll(() => page.getByTestId('tx-input').count()).toBeGreaterThan(0);
      expect(
        await page.getByTestId('tx-input').locator('[data-lot-status]').count(),
      ).toBeGreaterThan(0);
      expect(await page.getByTestId('tx-output').count()).toBe(2);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshot(page, `mining-transaction-sale-${viewport.name}`);
      await followTx(page, page.getByTestId('tx-output').first().locator('a[href^="/mining/tx/"]'));

      // The desk's payment to the foreign buyer: two bought coins in.
      await expect.poll(() => page.getByTestId('tx-input').count()).toBe(2);
      await page.getByRole('link', { name: 'Provenance graph of output 0' }).click();

      // Its path: the payment's output ← two sales ← three coinbases, every box placed.
      await page.getByRole('heading', { name: 'Provenance of an output', level: 1 }).waitFor();
      await expect.poll(() => graph.locator('[data-node]').count()).toBe(6);
      expect(await graph.locator('[data-node][data-depth="2"]').count()).toBe(3);
      expect(await graph.locator('[data-edge]').count()).toBe(5);
      const transforms = await graph
        .locator('[data-node]')
        .evaluateAll((nodes: { getAttribute(name: string): string | null }[]) =>
          nodes.map((n) => n.getAttribute('transform') ?? ''),
        );
      for (const t of transforms) expect(t).toMatch(/^translate\(\d+(\.\d+)? \d+(\.\d+)?\)$/);
      expect(await graph.innerHTML()).not.toContain('NaN');
      const origins = page.getByRole('table', { name: /Coinbase outputs this output/ });
      expect(await origins.locator('[data-lot-status]').count()).toBe(3);
      expect(
        (await cellTexts(page, "Coinbase outputs this output's mined coins came from")).join(' '),
      ).not.toMatch(/\bpar_/);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshot(page, `mining-provenance-graph-${viewport.name}`);
      expect(errors).toEqual([]);
    });

    it(`the dashboard shades the ban periods with finite coordinates (${viewport.name})`, async () => {
      const page = await open('supervisor', viewport);
      const errors = watchErrors(page);
      await page.goto('/dashboard');
      const chart = page.locator(
        '[aria-label^="Line chart of mining output per region and month with ban periods shaded"]',
      );
      await chart.locator('svg path').first().waitFor({ state: 'attached' });
      // The shading: markArea rectangles in the ban colour (rgb(250, 82, 82) at 15 %).
      const shading = chart.locator('svg path[fill="rgb(250,82,82)"], svg path[fill="#fa5252"]');
      await expect.poll(() => shading.count()).toBeGreaterThan(0);
      const shapes = await shading.evaluateAll(
        (paths: { getAttribute(name: string): string | null }[]) =>
          paths.map((p) => p.getAttribute('d') ?? ''),
      );
      for (const d of shapes) {
        expect(d).not.toContain('NaN');
        expect(d.length).toBeGreaterThan(0);
      }
      expect(await chart.innerHTML()).not.toContain('NaN');
      expect(errors).toEqual([]);
    });

    it(`the miner sees its output by month, its sites, lots, violations and its region's bans (${viewport.name})`, async () => {
      const page = await open('miner', viewport);
      const errors = watchErrors(page);
      await page.goto('/mining/mine');
      await page.getByRole('heading', { name: 'My mining', level: 1 }).waitFor();
      // Output by month: the chart and its table.
      await page
        .locator('[aria-label^="Bar chart of your attributed output per month"] svg')
        .waitFor();
      await page
        .getByRole('table', { name: 'Your output by month' })
        .locator('tbody tr')
        .first()
        .waitFor();
      // Its site, by name with its region's name.
      const sites = page.getByRole('table', { name: 'Your mining sites' });
      await sites.locator('tbody tr').first().waitFor();
      expect(await sites.innerText()).toContain('Northern Highlands');
      // Its lots, with status chips: quarantined (mined under the ban), cleared, spent (sold).
      const lots = page.getByRole('table', { name: 'Clearing lots of your coinbase outputs' });
      await lots.locator('[data-lot-status]').first().waitFor();
      const statuses = await lots
        .locator('[data-lot-status]')
        .evaluateAll((chips: { getAttribute(name: string): string | null }[]) =>
          chips.map((c) => c.getAttribute('data-lot-status')),
        );
      expect(statuses).toContain('quarantined');
      expect(statuses).toContain('cleared');
      // The two it sold are spent (older, so further down: the table's filter finds them).
      await page.getByLabel('Filter Clearing lots of your coinbase outputs').fill('spent');
      await expect.poll(() => lots.locator('[data-lot-status="spent"]').count()).toBe(2);
      // Its violations, named.
      const violations = page.getByRole('table', { name: 'Your ban violations' });
      await violations.locator('tbody tr').first().waitFor();
      const cells = await cellTexts(page, 'Your ban violations');
      expect(cells.join(' ')).toContain('Highland Hashworks SA');
      expect(cells.join(' ')).not.toMatch(/\bpar_|\bsit_/);
      // The calendar opens on the month of the latest violation, its region's ban drawn.
      const calendar = page.getByTestId('ban-calendar');
      await expect
        .poll(() => calendar.locator('tr[data-region="arn-n"] td[data-banned]').count())
        .toBeGreaterThan(0);
      expect(await seriousAxeViolations(page)).toEqual([]);
      await screenshot(page, `mining-miner-view-${viewport.name}`);
      expect(errors).toEqual([]);
    });
  }
});

import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type Locator,
  type Page,
} from 'playwright-core';
import axe from 'axe-core';
import type { Database } from '../../src/db';
import { buildApp } from '../../src/http';
import {
  loadConfig,
  SeededRandom,
  systemCaller,
  systemClock,
  type Config,
  type Role,
} from '../../src/kernel';
import { composeServices, type Ports, type Services } from '../../src/services';
import { openTestDatabase } from './db';

const ROOT = path.resolve(import.meta.dirname, '../..');
const WEB_DIST_INDEX = path.join(ROOT, 'web/dist/index.html');
export const SCREENSHOTS = path.join(ROOT, 'test-results/screenshots');

/** Debian's Chromium; CHROMIUM_PATH points elsewhere on other machines. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_AVAILABLE = existsSync(CHROMIUM_PATH);
export const NO_CHROMIUM_MESSAGE = `browser tests skipped: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`;

/**
 * The database behind the browser tests' server: PostgreSQL when the run has one. The embedded
 * database runs its queries in the test's own thread, so every query the server answers blocks
 * the event loop that also serves the pages Chromium is loading; a PostgreSQL server answers from
 * its own process. What a page shows does not depend on the driver (the storage tests run on
 * both); BROWSER_TEST_DRIVER=pglite forces the embedded one.
 */
const BROWSER_DRIVER: 'pglite' | 'postgres' =
  process.env.BROWSER_TEST_DRIVER === 'pglite' || !process.env.TEST_DATABASE_URL
    ? 'pglite'
    : 'postgres';

/** The password every seeded browser-test user has. */
export const PASSWORD = 'correct horse battery staple';

/**
 * Builds web/dist when it is missing (`npm run check` builds it before the tests). Test files
 * run in parallel workers, so a lock directory makes one of them build while the others wait.
 */
export async function ensureWebBuilt(): Promise<void> {
  if (existsSync(WEB_DIST_INDEX)) return;
  const lock = path.join(ROOT, 'test-results/.web-build.lock');
  mkdirSync(path.dirname(lock), { recursive: true });
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      // A stale lock (a worker killed mid-build) is taken over after two minutes.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000)
        rmSync(lock, { recursive: true, force: true });
      if (existsSync(WEB_DIST_INDEX)) return;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  try {
    if (existsSync(WEB_DIST_INDEX)) return;
    const { build } = await import('vite');
    await build({ configFile: path.join(ROOT, 'web/vite.config.ts'), logLevel: 'warn' });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export interface BrowserApp {
  app: FastifyInstance;
  db: Database;
  config: Config;
  services: Services;
  baseUrl: string;
  browser: Browser;
  /** Creates a person who logs in with PASSWORD; returns the username. */
  user(input: {
    username: string;
    role: Role;
    participantId: string;
    platformId?: string | null;
    displayName?: string;
  }): Promise<string>;
  /** A fresh browser context (its own cookies) with a page, logged in when a user is given. */
  page(username?: string): Promise<Page>;
  close(): Promise<void>;
}

/**
 * The real server (the whole app over a fresh test database) listening on a free port and
 * serving web/dist, and a headless Chromium driving it. The clock is the system clock: the
 * session cookie's expiry must be in the browser's future.
 */
export async function startBrowserApp(
  options: {
    env?: Record<string, string>;
    /** Trade's ports over the test database (a chain, the signer's passphrase), when a test needs them. */
    trade?: (db: Database) => Promise<NonNullable<Ports['trade']>>;
  } = {},
): Promise<BrowserApp> {
  await ensureWebBuilt();
  const db = await openTestDatabase(BROWSER_DRIVER);
  const config = loadConfig({
    LOG_LEVEL: 'warn',
    RATE_LIMIT_PER_MINUTE: '100000',
    SCHEME_NAME: 'Browser test scheme',
    ...options.env,
  });
  const services = composeServices({
    db,
    clock: systemClock,
    config,
    random: new SeededRandom(11),
    ...(options.trade ? { trade: await options.trade(db) } : {}),
  });
  const app = await buildApp({
    db,
    clock: systemClock,
    config,
    services,
    logStream: { write: () => {} },
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  if (!address || typeof address === 'string') throw new Error('the server has no TCP address');
  const baseUrl = `http://127.0.0.1:${address.port}`;
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
  const contexts: BrowserContext[] = [];
  return {
    app,
    db,
    config,
    services,
    baseUrl,
    browser,
    user: async (input) => {
      await services.users.create(systemCaller('browser-test'), {
        username: input.username,
        displayName: input.displayName ?? input.username,
        password: PASSWORD,
        role: input.role,
        participantId: input.participantId,
        platformId: input.platformId ?? null,
      });
      return input.username;
    },
    page: async (username) => {
      const context = await browser.newContext({
        baseURL: baseUrl,
        viewport: { width: 1280, height: 900 },
      });
      contexts.push(context);
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      if (username) await login(page, username);
      return page;
    },
    close: async () => {
      for (const context of contexts) await context.close().catch(() => undefined);
      await browser.close();
      await app.close();
      await db.close();
    },
  };
}

/** Logs in through the login form and waits for the app shell. */
export async function login(page: Page, username: string, password = PASSWORD): Promise<void> {
  await page.goto('/');
  await page.getByLabel('Username').fill(username);
  await page.locator('input[autocomplete="current-password"]').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByTestId('current-user').waitFor();
}

/**
 * Picks a country in a country picker (a searchable list of names): types the ISO code and takes
 * the option it finds ("France (FR)"). The options open outside a dialog, so they are looked for
 * in the whole page.
 */
export async function pickCountry(
  scope: Page | Locator,
  label: string,
  code: string,
): Promise<void> {
  const page = 'page' in scope ? scope.page() : scope;
  const input = scope.getByLabel(label, { exact: true }).first();
  await input.click();
  await input.fill(code);
  await page
    .getByRole('option', { name: new RegExp(`\\(${code}\\)$`) })
    .first()
    .click();
}

/** Saves a full-page screenshot under test-results/screenshots/ (gitignored). */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  targets: string[];
}

/** Runs axe-core in the page and returns its serious and critical violations. */
export async function seriousAxeViolations(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axe.source });
  // Evaluated as a string: this file is compiled for Node, without the DOM's types.
  const json = await page.evaluate<string>(`axe.run(document).then((result) => JSON.stringify(
    result.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? null,
      help: v.help,
      targets: v.nodes.map((n) => n.target.map(String).join(' ') + ': ' + (n.failureSummary ?? '')),
    }))))`);
  const violations = JSON.parse(json) as AxeViolation[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

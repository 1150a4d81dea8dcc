import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { systemCaller } from '../../src/kernel';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// Journeys of people logging in: each role sees its own navigation, a direct URL to another
// role's page says so, the theme toggles, live updates arrive without a reload, and the main
// pages pass axe-core without serious or critical violations.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: login, roles, layout, audit', () => {
  let t: BrowserApp;

  beforeAll(async () => {
    t = await startBrowserApp();
    await t.user({
      username: 'sofia',
      displayName: 'Sofia Supervisor',
      role: 'supervisor',
      participantId: 'scheme',
    });
    await t.user({
      username: 'ada',
      displayName: 'Ada Auditor',
      role: 'auditor',
      participantId: 'scheme',
    });
    await t.user({
      username: 'carl',
      displayName: 'Carl Company',
      role: 'company',
      participantId: 'cmp_acme',
      platformId: 'plt_north',
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('refuses a wrong password with the server’s message and no session', async () => {
    const page = await t.page();
    await page.goto('/');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByLabel('Username').fill('sofia');
    await page.locator('input[autocomplete="current-password"]').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect
      .poll(() => page.getByRole('alert').textContent())
      .toContain('unknown username, wrong password or wrong code');
    await screenshot(page, 'login-refused');
  });

  it('a supervisor logs in, sees the overview with charts, the audit log, and verifies the chain', async () => {
    const page = await t.page('sofia');
    await page.getByRole('heading', { name: 'Scheme overview' }).waitFor();
    const nav = page.getByRole('navigation', { name: 'Main navigation' });
    expect(await nav.getByRole('link').allTextContents()).toEqual([
      'Overview',
      'Dashboard',
      'Reports',
      'Ban violations',
      'Loop of mined coins',
      'Audit log',
      'Participants',
      'Wallets',
      'Licences',
      'Mining and bans',
      'Contracts',
      'Invoices',
      'Payouts',
      'Settlements',
      'Lots of mined coins',
      'Offers',
      'Bids',
      'Deals',
      'Held deals',
      'Settlement windows',
      'Reference rate',
      'Alerts',
      'Cases',
      'Decisions',
      'Screening',
      'Sanctions lists',
      'Jurisdictions',
      'API keys',
      'My account',
    ]);
    // The home page: the supervisor's figures and work queues (test/browser/home.test.ts checks them).
    await page.getByTestId('queue-cases').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-overview');

    // The audit log filtered to one entity type.
    await page.goto('/audit?entityType=user');
    await page.getByRole('heading', { name: 'Audit log' }).waitFor();
    await expect.poll(() => page.getByRole('cell', { name: /user\.created/ }).count()).toBe(3);
    await page.getByRole('button', { name: 'Verify chain' }).click();
    await expect.poll(() => page.getByTestId('verify-result').textContent()).toContain('link up');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-audit-verified');

    await page.getByRole('link', { name: 'API keys' }).click();
    await page.getByRole('heading', { name: 'API keys' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('shows the server’s validation error at the field', async () => {
    const page = await t.page('sofia');
    await page.goto('/keys');
    await page.getByLabel('Name').fill('integration');
    await page.getByLabel('Participant id').fill('not valid!');
    await page.getByRole('button', { name: 'Create key' }).click();
    await expect
      .poll(() => page.locator('[id$="-error"]').first().textContent())
      .toContain('must be a participant id');
    await screenshot(page, 'keys-field-error');
  });

  it('a company user sees only its navigation and cannot reach supervisor pages by URL', async () => {
    const page = await t.page('carl');
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
    await page.goto('/audit');
    await page.getByTestId('not-available').waitFor();
    expect(await page.getByTestId('not-available').textContent()).toBe(
      'Audit log is not available for your role (Company).',
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'company-audit-not-available');
    // The server refuses the data too, whatever the UI shows.
    const response = await page.request.get('/v1/audit');
    expect(response.status()).toBe(403);
  });

  it('a supervisor suspends a licence with a reason, and the dashboard counts it, drilling down to the licences', async () => {
    const supervisor = systemCaller('browser-test');
    const platform = await t.services.registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Northwind Exchange',
      country: 'DE',
    });
    await t.services.registry.grantLicence(supervisor, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and exchange',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const page = await t.page('sofia');
    await page.goto('/registry/licences');
    await page.getByRole('cell', { name: 'custody and exchange' }).click();
    await page.getByLabel('Reason').fill('late AML reporting, supervisory letter 2026/17');
    await page.getByRole('button', { name: 'Change status' }).click();
    await page
      .getByRole('cell', { name: 'late AML reporting, supervisory letter 2026/17' })
      .waitFor();
    expect(await page.getByRole('cell', { name: 'suspended', exact: true }).count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-licence-suspended');

    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.getByRole('heading', { name: 'Participants by licence status' }).waitFor();
    await page.locator('[aria-label^="Stacked bar chart of licensed participants"] svg').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-dashboard');

    await page.getByRole('link', { name: 'Participants' }).click();
    await page.getByRole('cell', { name: 'Northwind Exchange' }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    for (const path of [
      '/compliance/cases',
      '/compliance/decisions',
      '/compliance/lists',
      '/mining',
    ]) {
      await page.goto(path);
      await page.getByRole('heading', { level: 1 }).waitFor();
      await page.getByRole('button', { name: 'Export CSV' }).first().waitFor();
      expect(await seriousAxeViolations(page), path).toEqual([]);
    }
  });

  it('toggles the dark theme and keeps it after a reload', async () => {
    const page = await t.page('ada');
    await page.getByRole('button', { name: 'Switch to dark theme' }).click();
    expect(await page.locator('html').getAttribute('data-mantine-color-scheme')).toBe('dark');
    await page.reload();
    await page.getByTestId('current-user').waitFor();
    expect(await page.locator('html').getAttribute('data-mantine-color-scheme')).toBe('dark');
    await page.getByTestId('queue-actions').waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'auditor-overview-dark');
  });

  it('delivers live updates: a change made elsewhere appears without a reload', async () => {
    const page = await t.page('sofia');
    // The feed may already hold this login's own event; the status line says when the stream is open.
    await page.locator('[data-testid="live-status"][data-connected="true"]').waitFor();
    await t.services.users.create(systemCaller('elsewhere'), {
      username: 'newcomer',
      displayName: 'New Comer',
      password: 'a long enough password',
      role: 'miner',
      participantId: 'min_one',
    });
    await page.getByTestId('live-feed').getByText('user.created').waitFor();
    await screenshot(page, 'supervisor-live-update');
  });

  it('logs out back to the login form', async () => {
    const page = await t.page('carl');
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('button', { name: 'Log in' }).waitFor();
    const response = await page.request.get('/v1/session');
    expect(response.status()).toBe(401);
  });
});

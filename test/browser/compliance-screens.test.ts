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
import { newId, systemCaller, systemClock } from '../../src/kernel';
import type { TransferFacts } from '../../src/compliance';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

// UN consolidated list 2026-02-27, entity KPe.016: KOREA RYONHA MACHINERY JOINT VENTURE
// CORPORATION, listed under the DPRK regime with the Chinese-script alias 朝鲜联合机械贸易会社.
const LISTED_ALIAS = '朝鲜联合机械贸易会社';
const RENTITY_ID = '31337';

const VIEWPORTS = [
  { name: 'desktop', width: 1440, height: 900 },
  { name: 'phone', width: 390, height: 844 },
] as const;

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** axe clean, and nothing wider than the viewport (tables scroll inside their own box). */
async function expectAxeClean(page: Page): Promise<void> {
  expect(await seriousAxeViolations(page)).toEqual([]);
  const overflow = await page.evaluate<number>(
    'document.documentElement.scrollWidth - document.documentElement.clientWidth',
  );
  expect(overflow, `the page is ${overflow}px wider than the viewport`).toBeLessThanOrEqual(0);
}

// An analyst's journey through the compliance screens in a real Chromium against the real
// server, at a desktop and a phone viewport: screen a name and read the ranked matches, triage
// the alerts (grouped, by severity and amount, linked to the transfers), open the case, assign it
// to an officer picked by name, read the goAML preview and file it; then the decisions, blocked
// and held first. Each viewport works its own company's case.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: compliance screens an analyst works in', () => {
  let t: BrowserApp;
  const companies: Array<{ id: string; name: string; transfers: string[] }> = [];

  beforeAll(async () => {
    t = await startBrowserApp({
      env: {
        GOAML_RENTITY_ID: RENTITY_ID,
        GOAML_REPORTING_PERSON: 'Sofía Ramírez',
        GOAML_REPORTING_EMAIL: 'str@supervisor.example',
        GOAML_ADDRESS: 'Carrera 7 # 4-49',
        GOAML_CITY: 'Bogotá',
      },
    });
    const supervisor = systemCaller('browser-test');
    const { registry, compliance } = t.services;
    await registry.setSchemeJurisdiction(supervisor, {
      country: 'CO',
      name: 'Republic of Colombia (browser test scheme)',
    });
    await compliance.screening.importList(supervisor, {
      format: 'un-xml',
      bytes: new Uint8Array(
        readFileSync(
          new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url),
        ),
      ),
    });
    const platform = await registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Andes Exchange',
      country: 'CO',
    });
    await registry.grantLicence(supervisor, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const buyer = await registry.registerParticipant(supervisor, {
      kind: 'counterparty',
      legalName: 'Hamburg Roasters GmbH',
      country: 'DE',
      platformId: platform.id,
    });
    for (const name of ['Andes Coffee SA', 'Pacific Cacao SAS']) {
      const company = await registry.registerParticipant(supervisor, {
        kind: 'company',
        legalName: name,
        country: 'CO',
        platformId: platform.id,
      });
      companies.push({ id: company.id, name, transfers: [] });
    }
    const facts = (
      company: { id: string; name: string },
      overrides: Partial<TransferFacts>,
    ): TransferFacts => ({
      transferId: newId('invoice'),
      direction: 'inbound',
      occurredAt: systemClock.now(),
      amountSats: 2_000_000n,
      fiatValue: { minor: 51_200n, currency: 'USD', rate: '25600' },
      platform: { id: platform.id, licenceStatus: 'active' },
      company: { id: company.id, legalName: company.name, country: 'CO', kycStatus: 'verified' },
      counterparty: {
        id: buyer.id,
        legalName: 'Hamburg Roasters GmbH',
        otherNames: [],
        country: 'DE',
        kind: 'organization',
        kycStatus: 'verified',
        // Rated high risk by the scheme: with the contract overrun below, review.
        countryRiskLevel: 'high',
      },
      counterpartyAddress: {
        address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
        asset: 'XBT',
        ownership: 'hosted',
      },
      schemeCountry: 'CO',
      refusedJurisdictions: ['KP', 'IR'],
      // Paid over the contract's open amount (monitoring: contract mismatch).
      contract: { id: newId('contract'), openAmountSats: 1_000_000n, toleranceSats: 0n },
      travelRule: null,
      ...overrides,
    });
    const decide = (f: TransferFacts) =>
      t.db.transaction(() => compliance.gate.decide(supervisor, f));
    for (const company of companies) {
      // Three identical overruns from the same buyer: three identical alert lines per rule.
      for (let i = 0; i < 3; i++) {
        const f = facts(company, {});
        company.transfers.push(f.transferId);
        expect((await decide(f)).outcome).toBe('review');
      }
    }
    // A payout to a refused jurisdiction (blocked) and an ordinary one (allowed).
    const first = companies[0]!;
    const blocked = await decide(
      facts(first, {
        transferId: newId('payout'),
        direction: 'outbound',
        counterparty: {
          id: buyer.id,
          legalName: 'Pyongyang Trading Co',
          otherNames: [],
          country: 'KP',
          kind: 'organization',
          kycStatus: 'verified',
          countryRiskLevel: 'low',
        },
        contract: { id: newId('contract'), openAmountSats: 10_000_000n, toleranceSats: 0n },
      }),
    );
    expect(blocked.outcome).toBe('block');
    const allowed = await decide(
      facts(first, {
        transferId: newId('payout'),
        direction: 'outbound',
        counterparty: { ...facts(first, {}).counterparty, countryRiskLevel: 'low' },
        contract: { id: newId('contract'), openAmountSats: 10_000_000n, toleranceSats: 0n },
      }),
    );
    expect(allowed.outcome).toBe('allow');

    await t.user({
      username: 'sofia',
      displayName: 'Sofía Ramírez',
      role: 'supervisor',
      participantId: 'scheme',
    });
    await t.user({
      username: 'mateo',
      displayName: 'Mateo Vargas',
      role: 'supervisor',
      participantId: 'scheme',
    });
  }, 240_000);

  afterAll(async () => {
    await t?.close();
  });

  for (const [index, viewport] of VIEWPORTS.entries()) {
    it(`walks an analyst's journey at ${viewport.width}×${viewport.height}`, async () => {
      const company = companies[index]!;
      const page = await t.page('sofia');
      await page.setViewportSize({ width: viewport.width, height: viewport.height });

      // 1. Screening: ranked matches with the list entry, never raw JSON.
      await page.goto('/compliance/screening');
      await page.getByRole('textbox', { name: 'Name', exact: true }).fill(LISTED_ALIAS);
      await page.getByRole('button', { name: 'Screen', exact: true }).click();
      await page.getByRole('heading', { name: /^Match: a listed entry matches/ }).waitFor();
      const top = page.getByRole('listitem', { name: /^Match 1: / });
      await expect.poll(() => top.textContent()).toMatch(/KOREA RYONHA MACHINERY/i);
      const topText = (await top.textContent()) ?? '';
      expect(topText).toContain('UN Security Council consolidated list');
      expect(topText).toContain('entry KPe.016');
      expect(topText).toContain('Programme: DPRK');
      expect(topText).toContain(`Matched on: the alias “${LISTED_ALIAS}”`);
      expect(topText).toMatch(/Score \d+ %/);
      expect(topText).toMatch(/Snapshot \w{8} · published 2026-02-27 · imported /);
      const body = (await page.locator('main').textContent()) ?? '';
      expect(body).not.toContain('"listEntryId"');
      await expectAxeClean(page);
      await screenshot(page, `compliance-screening-${viewport.name}`);

      // 2. Alert triage: identical lines grouped with a count, worst first, linked transfers.
      await page.goto('/compliance/alerts');
      await page.getByRole('table', { name: 'Alerts' }).waitFor();
      const rows = page.getByRole('row').filter({ hasText: company.name });
      await expect.poll(() => rows.count()).toBe(2);
      // Contract overrun (60: high) above the high-risk country (30: medium); each ×3.
      const severities = await page
        .getByRole('row')
        .filter({ hasText: company.name })
        .locator('td:first-child')
        .allTextContents();
      expect(severities).toEqual(['high', 'medium']);
      await expect.poll(() => rows.first().getByLabel('3 identical alerts').count()).toBe(1);
      const links = rows.first().getByRole('link', { name: /^Invoice / });
      expect(await links.count()).toBe(3);
      const hrefs: string[] = [];
      for (const link of await links.all()) hrefs.push((await link.getAttribute('href')) ?? '');
      expect(hrefs.sort()).toEqual(company.transfers.map((id) => `/trade/invoices/${id}`).sort());
      await choose(page, 'Severity', 'high');
      await expect.poll(() => rows.count()).toBe(1);
      await expectAxeClean(page);
      await screenshot(page, `compliance-alerts-${viewport.name}`);
      await rows.first().getByRole('cell').nth(2).click();

      // 3. The case: party, severity, amount, age, evidence, assignee picker, timeline, goAML.
      await page.getByRole('heading', { name: `Case: ${company.name}` }).waitFor();
      const main = page.locator('main');
      await expect.poll(() => main.textContent()).toContain('$1,536.00');
      expect(await main.textContent()).toMatch(/Severityhigh/);
      const preview = page.getByLabel('goAML report preview');
      await preview.getByText('Ready to file').waitFor();
      expect(await preview.getByRole('row').count()).toBe(4);
      await preview.getByRole('button', { name: 'Show the XML' }).click();
      const xml = (await preview.getByLabel('goAML XML').textContent()) ?? '';
      expect(xml).toContain(`<rentity_id>${RENTITY_ID}</rentity_id>`);
      expect(xml).toContain('<country_code>CO</country_code>');
      expect(xml).toContain('<to_country>CO</to_country>');
      expect(xml).not.toMatch(/>XX<|<rentity_id>0</);

      await choose(page, 'Assignee', 'Mateo Vargas');
      await page.getByRole('button', { name: 'Assign', exact: true }).click();
      const timeline = page.getByLabel('Case timeline');
      await timeline
        .getByText('Sofía Ramírez: moved to investigating; assigned to Mateo Vargas')
        .waitFor();
      await expectAxeClean(page);
      await screenshot(page, `compliance-case-${viewport.name}`);

      await page
        .getByLabel('Note or reason')
        .fill('Three payments over the contract from a high-risk country; reported to the FIU.');
      await page.getByRole('button', { name: 'File the goAML report' }).click();
      const download = page.getByRole('link', { name: 'Download the filed goAML report (XML)' });
      await download.waitFor();
      await timeline.getByText(/closed as reported/).waitFor();
      const filed = await page.request.get((await download.getAttribute('href')) ?? '');
      expect(filed.status()).toBe(200);
      const filedXml = await filed.text();
      expect(filedXml).toContain(`<rentity_id>${RENTITY_ID}</rentity_id>`);
      expect(filedXml).toContain('Three payments over the contract');
      for (const id of company.transfers) expect(filedXml).toContain(id);
      await preview.getByText('Filed', { exact: true }).waitFor();
      await expectAxeClean(page);
      await screenshot(page, `compliance-case-filed-${viewport.name}`);

      // The cases list: the party by name, severity, amount, age, outcome and assignee by name.
      await page.goto('/compliance/cases');
      const caseRow = page.getByRole('row').filter({ hasText: company.name });
      await expect
        .poll(() => caseRow.textContent())
        .toMatch(/high\s*6\s*\$1,536\.00\s*\d+ min\s*closed\s*reported \(goAML\)\s*Mateo Vargas/);
      expect(await page.locator('main').textContent()).not.toContain(company.id);
      await expectAxeClean(page);
      await screenshot(page, `compliance-cases-${viewport.name}`);

      // 4. Decisions: blocked and held first, allowed only when asked for.
      await page.goto('/compliance/decisions');
      const decisions = page.getByRole('table', { name: 'Decisions' });
      await decisions.waitFor();
      const outcomes = await decisions.locator('tbody tr td:first-child').allTextContents();
      expect(outcomes[0]).toMatch(/^blocked/);
      expect(outcomes.length).toBe(7);
      expect(outcomes.slice(1).every((o) => o.startsWith('held for review'))).toBe(true);
      await choose(page, 'Outcome', 'Allowed');
      await expect
        .poll(() => decisions.locator('tbody tr td:first-child').allTextContents())
        .toEqual(['allowed']);
      await expectAxeClean(page);
      await screenshot(page, `compliance-decisions-${viewport.name}`);
      await page.close();
    }, 180_000);
  }

  it('sets a jurisdiction, the country picked by a name people use, and lists it by name', async () => {
    const page = await t.page('sofia');
    await page.goto('/compliance/jurisdictions');
    await page.getByRole('heading', { name: 'Jurisdictions', level: 1 }).waitFor();
    // The scheme's own jurisdiction, named.
    await page.getByText(/The scheme operates in .* \(Colombia\)/).waitFor();
    const form = page.getByRole('form', { name: 'Set a jurisdiction' });
    // No country: said at the field, nothing sent.
    await form.getByRole('button', { name: 'Save jurisdiction' }).click();
    await expect.poll(() => form.getByText('pick the country').count()).toBe(1);
    // "north korea" is no word of the ISO short name, a name people use: it finds KP.
    const country = form.getByLabel('Country', { exact: true });
    await country.click();
    await country.fill('north korea');
    await page
      .getByRole('option', { name: "Korea (Democratic People's Republic of) (KP)" })
      .click();
    await form.getByLabel('Reason').fill('UN Security Council sanctions');
    await form.getByRole('checkbox', { name: /Refuse settlement/ }).check();
    await form.getByRole('button', { name: 'Save jurisdiction' }).click();
    await page.getByTestId('jurisdiction-saved').waitFor();
    const row = page
      .getByRole('table', { name: 'Foreign jurisdictions' })
      .getByRole('row')
      .filter({ hasText: "Korea (Democratic People's Republic of)" });
    await expect.poll(() => row.textContent()).toMatch(/high\s*refused\s*UN Security Council/);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'compliance-jurisdictions');
    // Sent as its ISO code, and the gate's to apply.
    const refused = (await (await page.request.get('/v1/jurisdictions?refused=true')).json()) as {
      items: { country: string; riskLevel: string; refused: boolean }[];
    };
    expect(refused.items).toContainEqual(
      expect.objectContaining({ country: 'KP', riskLevel: 'high', refused: true }),
    );
    await page.close();
  });
});

import { readFile } from 'node:fs/promises';
import { strFromU8, unzipSync } from 'fflate';
import readXlsxFile from 'read-excel-file/node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Download, Page } from 'playwright-core';
import {
  CHROMIUM_AVAILABLE,
  NO_CHROMIUM_MESSAGE,
  screenshot,
  seriousAxeViolations,
  startBrowserApp,
  type BrowserApp,
} from '../support/browser';
import { LocalKeySigner } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource } from '../../src/chain';
import { BuyerWallet } from '../../src/demo';
import { systemCaller, systemClock, type Caller } from '../../src/kernel';
import { FixedRateSource } from '../../src/ledger';

if (!CHROMIUM_AVAILABLE) console.warn(NO_CHROMIUM_MESSAGE);

/** Picks an option of a Mantine Select by its label and the option's text. */
async function choose(page: Page, label: string, option: string | RegExp): Promise<void> {
  await page.getByLabel(label, { exact: true }).first().click();
  await page.getByRole('option', { name: option }).first().click();
}

/** The text of a field's error (Mantine gives it the id of the input followed by `-error`). */
async function fieldError(page: Page, label: string): Promise<string> {
  const id = await page.getByLabel(label, { exact: true }).first().getAttribute('id');
  const error = page.locator(`[id="${id}-error"]`);
  return (await error.count()) ? ((await error.textContent()) ?? '') : '';
}

async function downloaded(page: Page, button: string): Promise<{ name: string; body: Buffer }> {
  const [download]: [Download, void] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: button }).click(),
  ]);
  const path = await download.path();
  return { name: download.suggestedFilename(), body: await readFile(path) };
}

/** RFC 4180 CSV as the server writes it (fields quoted only when they must be). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

/** The quarter (`2026-Q4`) of an ISO timestamp, UTC as the server's periods are. */
const quarterOf = (iso: string) =>
  `${iso.slice(0, 4)}-Q${Math.floor((Number(iso.slice(5, 7)) - 1) / 3) + 1}`;

// The supervisor's oversight screens in a real Chromium against the real server: the world map
// of settled volume (a settlement made on simnet through the real services: a buyer pays an
// invoice, the watcher confirms it), the reports page and its files, and the ban calendar with
// the supervisor's declaration and lifting, seen read-only by a miner.
describe.skipIf(!CHROMIUM_AVAILABLE)('browser: world map, reports, ban calendar', () => {
  let t: BrowserApp;
  /** The invoice settled by the German buyer: 900.00 USD at 60,000 USD/BTC = 0.015 BTC. */
  const SETTLED_SATS = 1_500_000n;
  /** The Singaporean buyer's: 300.00 USD = 0.005 BTC (Singapore is too small for a 1:110m map). */
  const SINGAPORE_SATS = 500_000n;

  beforeAll(async () => {
    t = await startBrowserApp();
    const supervisor = systemCaller('browser-test');
    const { registry, trade, rates } = t.services;
    await registry.setSchemeJurisdiction(supervisor, {
      country: 'CO',
      name: 'Republic of Colombia (browser test scheme)',
    });
    for (const region of [
      { code: 'andes-north', name: 'Andes North', timeZone: 'America/Bogota' },
      { code: 'andes-south', name: 'Andes South', timeZone: 'America/Bogota' },
    ])
      await registry.createRegion(supervisor, region);

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
    const company = await registry.registerParticipant(supervisor, {
      kind: 'company',
      legalName: 'Andes Coffee SA',
      country: 'CO',
      platformId: platform.id,
    });
    const buyer = await registry.registerParticipant(supervisor, {
      kind: 'counterparty',
      legalName: 'Hamburg Roasters GmbH',
      country: 'DE',
      platformId: platform.id,
    });
    const singaporeBuyer = await registry.registerParticipant(supervisor, {
      kind: 'counterparty',
      legalName: 'Lion City Traders Pte Ltd',
      country: 'SG',
      platformId: platform.id,
    });
    for (const p of [company, buyer, singaporeBuyer])
      await registry.setKyc(supervisor, p.id, {
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
    const miner = await registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Cordillera Hash SAS',
      country: 'CO',
    });
    const officer: Caller = {
      role: 'platform',
      participantId: platform.id,
      platformId: platform.id,
      actorId: 'browser-test:setup-officer',
      personId: 'browser-test:setup-officer',
      requestId: null,
    };
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    await registry.registerWallet(officer, {
      companyId: company.id,
      descriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
    });
    if (!(rates.source instanceof FixedRateSource))
      throw new Error('expected the manual rate desk');
    rates.source.set('USD', '60000');

    // The chain: simnet in the same database, the buyers' wallet funded by mature coinbases, and
    // the watcher feeding trade's chain consumer (invoice payments, confirmations, settlement).
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

    const invoices = [];
    for (const [counterparty, amount, sats] of [
      [buyer, '900.00', SETTLED_SATS],
      [singaporeBuyer, '300.00', SINGAPORE_SATS],
    ] as const) {
      const contract = await trade.contracts.create(officer, {
        companyId: company.id,
        counterpartyId: counterparty.id,
        direction: 'export',
        goodsDescription: 'Green coffee',
        hsCode: '090111',
        incoterm: 'FOB',
        currency: 'USD',
        amount,
        pricingMode: 'fiat',
        schedule: [{ dueDate: '2026-12-15', amount }],
      });
      // Four eyes: another officer of the platform approves.
      for (const action of ['submit', 'approve', 'activate'] as const)
        await trade.contracts.transition(
          action === 'approve' ? { ...officer, actorId: 'checker', personId: 'checker' } : officer,
          contract.id,
          action,
        );
      const invoice = await trade.invoices.create(officer, { contractId: contract.id, amount });
      expect(invoice.amountSats).toBe(sats);
      await buyers.pay(invoice.address, invoice.amountSats);
      invoices.push(invoice);
    }
    // The platform's default depth is one confirmation.
    await simnet.mine(1, buyers.key.script);
    await watcher.syncOnce();
    for (const invoice of invoices)
      expect((await trade.invoices.get(officer, invoice.id)).status).toBe('settled');

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
      username: 'mira',
      displayName: 'Mira of Cordillera Hash',
      role: 'miner',
      participantId: miner.id,
    });
  });

  afterAll(async () => {
    await t?.close();
  });

  it('the supervisor sees the partner country coloured on the world map and clicks it to its settlements', async () => {
    const page = await t.page('sofia');
    // An uncaught error unmounts the whole app (a blank page): none may occur.
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.getByRole('link', { name: 'Dashboard' }).click();
    const map = page.locator('[aria-label^="World map of settled BTC by partner country"]');
    await map.locator('svg path').first().waitFor();
    // The table beside the map is the accessible alternative: the same country, by name, and
    // amount.
    await page.getByRole('cell', { name: 'Germany', exact: true }).waitFor();
    expect(await page.getByRole('cell', { name: '0.01500000' }).count()).toBeGreaterThan(0);
    await page.getByRole('cell', { name: 'Singapore', exact: true }).waitFor();
    // Singapore is not drawn at 1:110m: the map says so under it instead of dropping it.
    expect(await page.getByTestId('not-on-map').textContent()).toContain('SG (0.00500000 BTC)');

    // Of the ~175 countries drawn, exactly one has data (Germany; Singapore is not drawn) and is
    // filled from the colour scale (its top, Mantine blue.9 #1864ab, as the largest); the rest
    // are "no data" grey.
    const fills = await map
      .locator('svg path')
      .evaluateAll((paths: { getAttribute(name: string): string | null }[]) =>
        paths.map((p) => (p.getAttribute('fill') ?? '').replace(/\s/g, '').toLowerCase()),
      );
    const noData = fills.filter((f) => f === '#dee2e6' || f === 'rgb(222,226,230)').length;
    const coloured = fills
      .map((fill, index) => ({ fill, index }))
      .filter(({ fill }) => /^(#1864ab|rgba?\(24,100,171(,1)?\))$/.test(fill));
    expect(noData).toBeGreaterThan(150);
    expect(coloured).toHaveLength(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-dashboard-map');

    // Hovering names the country; clicking it opens the settlements behind it. The point is
    // taken first: a hovered region is redrawn (emphasis), which may reorder the SVG's paths.
    const box = await map.locator('svg path').nth(coloured[0]!.index).boundingBox();
    if (!box) throw new Error('the coloured country has no box on the page');
    const [x, y] = [box.x + box.width / 2, box.y + box.height / 2];
    await page.mouse.move(x, y);
    await expect
      .poll(() => page.getByText('Germany (DE): 0.01500000 BTC', { exact: true }).count())
      .toBe(1);
    await page.mouse.click(x, y);
    const drill = page.getByTestId('drilldown');
    await drill.getByRole('heading', { name: /country DE/ }).waitFor();
    await drill.getByText('Settlements (1)').waitFor();
    expect(await drill.getByRole('cell', { name: '0.01500000' }).count()).toBe(1);
    expect(await drill.getByRole('cell', { name: '090111' }).count()).toBe(1);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'supervisor-map-drilldown');
    // Closing the panel unmounts it (its effect's clean-up runs): the dashboard stays.
    await drill.getByRole('button', { name: 'Close' }).click();
    await drill.waitFor({ state: 'detached' });
    await map.waitFor();
    expect(pageErrors).toEqual([]);
  });

  it('the supervisor previews a report, is told at the field about a bad period, and downloads the CSVs (zipped), XLSX and PDF', async () => {
    const page = await t.page('sofia');
    const settlements = (await (
      await page.request.get('/v1/oversight/settlements?country=DE')
    ).json()) as { items: { settledAt: string; amountSats: string }[] };
    expect(settlements.items.map((s) => s.amountSats)).toEqual([SETTLED_SATS.toString()]);
    const period = quarterOf(settlements.items[0]!.settledAt);

    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    await choose(page, 'Report', /Balance of payments/);
    await page.getByLabel('Period').fill('2026-Q5');
    await page.getByRole('button', { name: 'Show report' }).click();
    await expect.poll(() => fieldError(page, 'Period')).toContain('quarter must be Q1 to Q4');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'reports-period-error');
    // A download with the same period is refused the same way, and nothing is saved.
    await page.getByLabel('Period').fill('last quarter');
    await page.getByRole('button', { name: 'Download XLSX' }).click();
    await expect.poll(() => fieldError(page, 'Period')).toContain('must be a reporting period');
    expect(await page.getByTestId('downloaded').count()).toBe(0);

    await page.getByLabel('Period').fill(period);
    await page.getByRole('button', { name: 'Show report' }).click();
    const preview = page.getByTestId('report-preview');
    await preview
      .getByRole('heading', { name: `Balance of payments: bitcoin-settled trade, ${period}` })
      .waitFor();
    await preview.getByRole('heading', { name: 'Totals by direction' }).waitFor();
    expect(
      await preview.getByRole('cell', { name: '2000000', exact: true }).count(),
    ).toBeGreaterThan(0);
    expect(await fieldError(page, 'Period')).toBe('');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'reports-preview');

    const json = (await (
      await page.request.get(`/v1/reports/bop?period=${period}&format=json`)
    ).json()) as {
      sections: { id: string; columns: { key: string }[]; rows: Record<string, string>[] }[];
    };
    const totals = json.sections.find((s) => s.id === 'totals')!;
    expect(totals.rows).toEqual([
      expect.objectContaining({
        direction: 'export',
        count: '2',
        sats: '2000000',
        btc: '0.02000000',
      }),
    ]);

    // One CSV per section, zipped: the totals file has one header row and the totals under it.
    const zip = await downloaded(page, 'Download CSV (ZIP)');
    expect(zip.name).toBe(`bop-${period}-csv.zip`);
    const files = unzipSync(new Uint8Array(zip.body));
    expect(Object.keys(files).sort()).toEqual(
      ['report.csv', ...json.sections.map((s) => `${s.id}.csv`)].sort(),
    );
    const [header, ...csvTotals] = parseCsv(strFromU8(files['totals.csv']!));
    expect(header).toEqual(totals.columns.map((c) => c.key));
    expect(csvTotals).toEqual(
      totals.rows.map((row) => totals.columns.map((c) => row[c.key] ?? '')),
    );
    await page.getByTestId('downloaded').getByText(`Downloaded bop-${period}-csv.zip.`).waitFor();

    const xlsx = await downloaded(page, 'Download XLSX');
    expect(xlsx.name).toBe(`bop-${period}.xlsx`);
    // An XLSX file is a ZIP archive (ECMA-376 Part 2): local file header "PK\x03\x04".
    expect([...xlsx.body.subarray(0, 4)]).toEqual([0x50, 0x4b, 0x03, 0x04]);
    const sheets = await readXlsxFile(xlsx.body);
    expect(sheets.find((s) => s.sheet === 'report')!.data).toContainEqual(['Period', period]);
    const totalsSheet = sheets.find((s) => s.sheet === 'totals')!.data;
    expect(totalsSheet[1]).toEqual(['export', 2, 2_000_000, 0.02, 'USD', expect.any(Number)]);
    // The partner country by name beside its code.
    const countries = sheets.find((s) => s.sheet === 'byCountry')!.data;
    expect(countries[0]).toContain('Partner country');
    expect(countries[0]).toContain('Country code');

    const pdf = await downloaded(page, 'Download PDF');
    expect(pdf.name).toBe(`bop-${period}.pdf`);
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.body.subarray(-6).toString('latin1')).toContain('%%EOF');
  });

  it('the supervisor declares bans from the form (field errors shown), sees them in the calendar and lifts one', async () => {
    const page = await t.page('sofia');
    await page.getByRole('link', { name: 'Mining and bans' }).click();
    await page.getByRole('heading', { name: 'Declare a ban' }).waitFor();
    await choose(page, 'Region', /Andes North/);
    await page.getByLabel('From', { exact: true }).fill('2026-12-10');
    await page.getByLabel('To', { exact: true }).fill('2026-12-01');
    await page
      .getByLabel('Reason', { exact: true })
      .fill('Dry season: hydro reservoirs below 30 %');
    await page.getByRole('button', { name: 'Declare ban' }).click();
    await expect.poll(() => fieldError(page, 'To')).toContain('is before from');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'mining-ban-field-error');

    await page.getByLabel('To', { exact: true }).fill('2026-12-24');
    await page.getByRole('button', { name: 'Declare ban' }).click();
    await page.getByTestId('ban-declared').waitFor();
    // The calendar shows the month of the ban just declared: 10 to 24 December, 15 days.
    const calendar = page.getByTestId('ban-calendar');
    await calendar.getByRole('table', { name: /December 2026/ }).waitFor();
    const north = calendar.locator('tr[data-region="andes-north"] td[data-banned]');
    await expect.poll(() => north.count()).toBe(15);
    expect(await north.first().textContent()).toContain('full ban');
    expect(
      await calendar.locator('tr[data-region="andes-north"] td').nth(9).getAttribute('data-banned'),
    ).toBeTruthy();
    expect(
      await calendar.locator('tr[data-region="andes-north"] td').nth(8).getAttribute('data-banned'),
    ).toBeNull();

    // A curtailment of the evening peak in the other region, the whole month.
    await choose(page, 'Region', /Andes South/);
    await choose(page, 'Kind', /Curtailment/);
    await page.getByLabel('From', { exact: true }).fill('2026-12-01');
    await page.getByLabel('To', { exact: true }).fill('2026-12-31');
    await page.getByLabel('Daily from').fill('18:00');
    await page.getByLabel('Daily to').fill('22:00');
    await page.getByLabel('Reason', { exact: true }).fill('Evening peak load on the southern grid');
    await page.getByRole('button', { name: 'Declare ban' }).click();
    const south = calendar.locator('tr[data-region="andes-south"] td[data-banned]');
    await expect.poll(() => south.count()).toBe(31);
    expect(await south.first().textContent()).toContain('curtailment (daily hours) 18:00–22:00');
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'mining-ban-calendar');

    // Lifting the curtailment: a reason is required, then the calendar no longer draws it.
    await page.getByRole('button', { name: /^Lift the curtailment ban on andes-south/ }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByRole('button', { name: 'Lift ban' }).click();
    await expect.poll(() => fieldError(page, 'Reason for lifting')).toContain('must not be empty');
    await dialog.getByLabel('Reason for lifting').fill('Grid reinforcement commissioned');
    await dialog.getByRole('button', { name: 'Lift ban' }).click();
    await dialog.waitFor({ state: 'hidden' });
    await expect.poll(() => south.count()).toBe(0);
    expect(await north.count()).toBe(15);
    await page.getByText(/^lifted /).waitFor();
    const bans = (await (await page.request.get('/v1/mining/bans')).json()) as {
      items: { regionCode: string; liftedAt: string | null; liftReason: string | null }[];
    };
    expect(bans.items.map((b) => [b.regionCode, b.liftReason])).toEqual(
      expect.arrayContaining([
        ['andes-north', null],
        ['andes-south', 'Grid reinforcement commissioned'],
      ]),
    );
    expect(await seriousAxeViolations(page)).toEqual([]);
  });

  it('a miner sees the ban calendar read-only: no declaration form, no lift button', async () => {
    const page = await t.page('mira');
    await page.getByRole('link', { name: 'Mining and bans' }).click();
    await page.getByRole('heading', { name: 'Ban calendar' }).waitFor();
    await page.getByLabel('Calendar month').fill('2026-12');
    const calendar = page.getByTestId('ban-calendar');
    await calendar.getByRole('table', { name: /December 2026/ }).waitFor();
    await expect
      .poll(() => calendar.locator('tr[data-region="andes-north"] td[data-banned]').count())
      .toBe(15);
    expect(await page.getByRole('heading', { name: 'Declare a ban' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Declare ban' }).count()).toBe(0);
    expect(await page.getByRole('button', { name: /^Lift/ }).count()).toBe(0);
    expect(await seriousAxeViolations(page)).toEqual([]);
    await screenshot(page, 'miner-ban-calendar');
    // The server refuses a miner's declaration whatever the UI shows.
    const refused = await page.request.post('/v1/mining/bans', {
      data: {
        kind: 'full',
        regionCode: 'andes-north',
        from: '2027-01-01',
        to: '2027-01-31',
        reason: 'not mine to declare',
      },
    });
    expect(refused.status()).toBe(403);
  });

  it('the auditor reaches the reports and sees the calendar without the form', async () => {
    const page = await t.page('ada');
    await page.getByRole('link', { name: 'Reports' }).click();
    await page.getByRole('heading', { name: 'Reports', level: 1 }).waitFor();
    expect(await seriousAxeViolations(page)).toEqual([]);
    await page.getByRole('link', { name: 'Mining and bans' }).click();
    await page.getByRole('heading', { name: 'Ban calendar' }).waitFor();
    expect(await page.getByRole('heading', { name: 'Declare a ban' }).count()).toBe(0);
  });
});

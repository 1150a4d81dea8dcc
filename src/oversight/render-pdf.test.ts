import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng, inkShare } from '../../test/support/png';
import { parsePeriod } from './period';
import {
  buildBop,
  reportHeader,
  type CountryAggregate,
  type MonthAggregate,
  type Report,
} from './report';
import { displayDate, groupDigits, renderPdf } from './render-pdf';

/**
 * The PDF report as a reader sees it: rendered to PNG by poppler's pdftoppm (Debian's
 * poppler-utils; .ci/run installs it) and read back with pdftotext. The PNGs are kept under
 * test-results/reports/ for a person to look at.
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const OUT = path.join(ROOT, 'test-results/reports');
const POPPLER = spawnSync('pdftoppm', ['-v']).status === 0;

const COUNTRIES = [
  'DE', 'FR', 'US', 'CN', 'JP', 'BR', 'IN', 'GB', 'IT', 'ES', 'NL', 'BE', 'CH', 'AT', 'PL',
  'SE', 'NO', 'DK', 'FI', 'PT', 'IE', 'GR', 'TR', 'MX', 'AR', 'CL', 'PE', 'EC', 'PA', 'CR',
  'ZA', 'NG', 'KE', 'EG', 'MA', 'AE', 'SA', 'SG', 'KR', 'AU',
]; // prettier-ignore

/** Known figures in the first row: 12,345.67890123 BTC for 15,000,000.00 USD. */
const DE_EXPORT: CountryAggregate = {
  direction: 'export',
  country: 'DE',
  currency: 'USD',
  count: 1234,
  sats: 1_234_567_890_123n,
  fiatMinor: 1_500_000_000n,
};

function report(): Report {
  const byCountry: CountryAggregate[] = [DE_EXPORT];
  COUNTRIES.slice(1).forEach((country, i) => {
    for (const direction of ['export', 'import'] as const)
      byCountry.push({
        direction,
        country,
        currency: i % 5 === 0 ? 'JPY' : 'USD',
        count: 3 + i,
        sats: BigInt(100_000_000 + i * 7_654_321),
        fiatMinor: i % 5 === 0 ? BigInt(15_000_000 + i) : BigInt(6_543_210 + i * 1000),
      });
  });
  const byMonth: MonthAggregate[] = ['2026-07', '2026-08', '2026-09'].map((month, i) => ({
    month,
    direction: 'export',
    currency: 'USD',
    count: 10 + i,
    sats: BigInt(2_100_000_000 * (i + 1)),
    fiatMinor: BigInt(123_456_789 * (i + 1)),
  }));
  const mining = [
    {
      region: 'andes-n',
      regionName: 'Andes North',
      month: '2026-07',
      outputs: 4321,
      sats: 1_350_000_000_000n,
      violations: 2,
      violationSats: 625_000_000n,
    },
  ];
  const period = parsePeriod('2026-Q3', 'period');
  return {
    ...reportHeader('bop', 'Test scheme', period, new Date('2026-10-02T08:05:00Z')),
    sections: buildBop({ byCountry, byMonth, mining }),
  };
}

function run(command: string, args: string[]): string {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  return result.stdout;
}

describe('PDF report, rendered', () => {
  it('formats numbers and dates for a reader without changing the figures', () => {
    expect(groupDigits('1234567890123')).toBe('1,234,567,890,123');
    expect(groupDigits('-12345.67890123')).toBe('-12,345.67890123');
    expect(groupDigits('999')).toBe('999');
    expect(groupDigits('0.00000001')).toBe('0.00000001');
    expect(displayDate('2026-07')).toBe('Jul 2026');
    expect(displayDate('2026-08-01')).toBe('1 Aug 2026');
    expect(displayDate('2026-08-10T14:03:09.120Z')).toBe('10 Aug 2026, 14:03 UTC');
    expect(displayDate('export')).toBeNull();
  });

  // Without poppler a developer's run skips this; CI installs poppler-utils and must run it.
  it.skipIf(!POPPLER && !process.env.CI)(
    'shows page numbers, the scheme and period, and formatted figures on every page, not blank',
    async () => {
      expect(POPPLER, 'pdftoppm (poppler-utils) is required in CI').toBe(true);
      rmSync(OUT, { recursive: true, force: true });
      mkdirSync(OUT, { recursive: true });
      const file = path.join(OUT, 'bop-2026-Q3.pdf');
      writeFileSync(file, await renderPdf(report(), { compress: true }));

      run('pdftoppm', ['-png', '-r', '60', file, path.join(OUT, 'bop-2026-Q3-page')]);
      const pngs = readdirSync(OUT)
        .filter((f) => f.startsWith('bop-2026-Q3-page') && f.endsWith('.png'))
        .sort();
      const pages = pngs.length;
      expect(pages).toBeGreaterThanOrEqual(3);

      for (let page = 1; page <= pages; page++) {
        const text = run('pdftotext', ['-layout', '-f', `${page}`, '-l', `${page}`, file, '-']);
        expect(text, `page ${page}`).toContain(`Page ${page} of ${pages}`);
        expect(text, `page ${page}`).toContain('Test scheme');
        expect(text, `page ${page}`).toContain('2026-Q3 (1 Jul 2026 – 30 Sep 2026)');
        expect(text, `page ${page}`).toContain('Generated 2 Oct 2026, 08:05 UTC');
        // No raw ISO date-time, and no BTC figure directly followed by a currency code.
        expect(text, `page ${page}`).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}/);
        expect(text, `page ${page}`).not.toMatch(/\d\.\d{8}\s*(USD|JPY)/);

        const image = decodePng(readFileSync(path.join(OUT, pngs[page - 1]!)));
        expect(image.width).toBeGreaterThan(image.height); // A4 landscape
        const ink = inkShare(image);
        expect(ink, `page ${page} ink`).toBeGreaterThan(0.002);
        expect(ink, `page ${page} ink`).toBeLessThan(0.4);
        // The page number, bottom right, and the running header, top, are drawn.
        const footer = { left: 0.75, top: 0.9, right: 1, bottom: 1 };
        expect(inkShare(image, footer), `page ${page} footer`).toBeGreaterThan(0);
        expect(inkShare(image, { left: 0, top: 0, right: 1, bottom: 0.06 })).toBeGreaterThan(0);
      }

      // The country table runs onto page 2, which repeats its column headings.
      expect(run('pdftotext', ['-layout', '-f', '2', '-l', '2', file, '-'])).toMatch(
        /Direction\s+Country code\s+Partner country/,
      );
      const all = run('pdftotext', ['-layout', file, '-']);
      // The first row's figures, grouped, with the fiat amount carrying its currency.
      const germany = all.split('\n').find((line) => line.includes('Germany'));
      expect(germany).toBeDefined();
      expect(germany).toMatch(/\bexport\b/);
      expect(germany).toContain('1,234');
      expect(germany).toContain('1,234,567,890,123');
      expect(germany).toMatch(/12,345\.67890123\s+15,000,000\.00 USD/);
      // A zero-decimal currency keeps no decimals: 15,000,000 JPY.
      expect(all).toMatch(/\b15,000,000 JPY\b/);
      // Names, not codes; months spelled out.
      expect(all).toContain('Andes North');
      expect(all).toContain('1,350,000,000,000');
      expect(all).toMatch(/Jul 2026\s+export/);
    },
  );
});

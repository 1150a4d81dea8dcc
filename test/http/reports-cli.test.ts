import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import readXlsxFile from 'read-excel-file/node';
import { afterAll, describe, expect, it } from 'vitest';
import { cliSandbox } from '../support/cli';

describe('tradeclear report (CLI)', () => {
  const sandbox = cliSandbox({ SCHEME_NAME: 'CLI test scheme' });
  afterAll(() => sandbox.cleanup());

  it('refuses a bad period naming --period and writes nothing', async () => {
    const out = path.join(sandbox.dataDir, 'bad.xlsx');
    const before = readdirSync(sandbox.dataDir);
    const run = await sandbox.run(
      'report',
      'bop',
      '--period',
      '2026-Q5',
      '--format',
      'xlsx',
      '--out',
      out,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: --period: .*"2026-Q5"/);
    expect(existsSync(out)).toBe(false);
    // Refused before the platform (and its database) is even opened.
    expect(readdirSync(sandbox.dataDir)).toEqual(before);
    const noOut = await sandbox.run('report', 'bop', '--period', '2026-Q3', '--format', 'pdf');
    expect(noOut.code).toBe(1);
    expect(noOut.stderr).toContain('--out');
  });

  it('writes the workbook with progress on stderr, and JSON to stdout', async () => {
    const out = path.join(sandbox.dataDir, 'bop.xlsx');
    const run = await sandbox.run(
      'report',
      'bop',
      '--period',
      '2026-Q3',
      '--format',
      'xlsx',
      '--out',
      out,
    );
    expect(run.stderr).toContain('computing bop for 2026-Q3');
    expect(run.code).toBe(0);
    expect(run.stderr).toContain(`wrote ${out}`);
    const sheets = await readXlsxFile(readFileSync(out));
    const cover = sheets.find((s) => s.sheet === 'report')!.data;
    expect(cover).toContainEqual(['Scheme', 'CLI test scheme']);
    expect(cover).toContainEqual(['Period', '2026-Q3']);
    const json = await sandbox.run('report', 'mining', '--period', '2026-07');
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as {
      period: string;
      scheme: string;
      sections: unknown[];
    };
    expect(report.period).toBe('2026-07');
    expect(report.scheme).toBe('CLI test scheme');
  }, 60_000);
});

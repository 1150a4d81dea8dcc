import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliSandbox } from '../support/cli';

/**
 * `tradeclear lists` and `tradeclear screen` on the real UN list and OFAC XBT addresses: output
 * that scripts can parse (progress never on stdout), and bad input refused with one line, exit 1.
 */
const sanctions = (file: string) => path.resolve(import.meta.dirname, '../vectors/sanctions', file);
const UN = sanctions('un-consolidated-2026-02-27.xml');
const XBT = sanctions('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt');
/** Line 7 of the OFAC XBT list (September 2024). */
const LISTED_XBT = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';

describe('tradeclear lists and screen', () => {
  const cli = cliSandbox();
  afterAll(() => cli.cleanup());

  it('imports a list with progress on stderr only, then shows it', async () => {
    const empty = await cli.run('lists');
    expect(empty.code).toBe(0);
    expect(empty.stdout).toContain('no lists loaded');

    const imported = await cli.run('lists', 'import', UN, '--format', 'un-xml');
    expect(imported.code).toBe(0);
    // Not a terminal: no bar drawing (carriage returns, escapes) anywhere, one line per phase.
    const output = imported.stdout + imported.stderr;
    expect(output.includes('\r') || output.includes(String.fromCharCode(27))).toBe(false);
    expect(imported.stderr).toMatch(/^parse: \d+\/\d+ done$/m);
    expect(imported.stderr).toMatch(/^store: 1003\/1003 done$/m);
    const fields: Record<string, string> = Object.fromEntries(
      imported.stdout
        .trim()
        .split('\n')
        .map((line) => {
          const [key, ...rest] = line.split(/\s{2,}/);
          return [key ?? '', rest.join('  ')];
        }),
    );
    expect(fields).toMatchObject({ list: 'un', created: 'true', publicationDate: '2026-02-27' });

    const json = await cli.run(
      'lists',
      'import',
      XBT,
      '--format',
      'address-list',
      '--asset',
      'XBT',
      '--json',
    );
    expect(json.code).toBe(0);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toMatchObject({
      list: 'address-list:XBT',
      created: true,
      counts: { addresses: 435 },
    });
    const again = await cli.run('lists', 'import', UN, '--format', 'un-xml', '--json');
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false });

    const listed = await cli.run('lists', '--json');
    const snapshots = JSON.parse(listed.stdout) as Array<{ listKey: string; active: boolean }>;
    expect(snapshots.map((s) => s.listKey).sort()).toEqual(['address-list:XBT', 'un']);
    const table = await cli.run('lists');
    // A header, its rule and one row per snapshot.
    const [header, , ...rows] = table.stdout.trim().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual([
      'snapshot',
      'list',
      'state',
      'published',
      'entries',
      'addresses',
      'sha256',
      'imported',
    ]);
    expect(rows).toHaveLength(2);
    expect(rows.find((r) => /\bun\b/.test(r))?.split(/\s{2,}/)[4]).toBe('1003');
  });

  it('screens a name in another script and an address, as JSON', async () => {
    const name = await cli.run(
      'screen',
      'name',
      '朝鲜联合机械贸易会社',
      '--type',
      'organization',
      '--json',
    );
    expect(name.code).toBe(0);
    const result = JSON.parse(name.stdout) as {
      outcome: string;
      matches: Array<{ listEntryId: string; matchedAlias: string | null }>;
    };
    expect(result.outcome).toBe('match');
    expect(result.matches[0]).toMatchObject({
      listEntryId: 'KPe.016',
      matchedAlias: '朝鲜联合机械贸易会社',
    });

    const clear = await cli.run('screen', 'name', 'Harbour Line Trading GmbH', '--json');
    expect(JSON.parse(clear.stdout)).toMatchObject({ outcome: 'clear' });

    const address = await cli.run('screen', 'address', LISTED_XBT, '--json');
    expect(JSON.parse(address.stdout)).toMatchObject({
      outcome: 'match',
      matches: [{ source: 'address-list', listEntryId: `XBT:${LISTED_XBT}` }],
    });
    const text = await cli.run('screen', 'address', LISTED_XBT);
    expect(text.stdout.split('\n')[0]).toMatch(/^MATCH {2}"12QtD5/);
  });

  it('refuses bad input with one line on stderr and exit 1, importing nothing', async () => {
    const bad: string[][] = [
      ['lists', 'import', sanctions('no-such-file.xml'), '--format', 'un-xml'],
      ['lists', 'import', UN, '--format', 'pdf'],
      ['lists', 'import', XBT, '--format', 'address-list'],
      ['lists', 'import', XBT, '--format', 'un-xml'],
      ['screen', 'name', 'Someone', '--type', 'alien'],
      ['screen', 'name', '   '],
      ['screen', 'address', 'short'],
    ];
    for (const argv of bad) {
      const run = await cli.run(...argv);
      expect(run.code, argv.join(' ')).toBe(1);
      expect(run.stderr.trim().split('\n'), argv.join(' ')).toHaveLength(1);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    }
    const listed = await cli.run('lists', '--all', '--json');
    expect((JSON.parse(listed.stdout) as unknown[]).length).toBe(2);
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { unzipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller } from '../../src/kernel';
import { buildProgram, createContext } from '../../src/cli/program';
import { cliSandbox } from '../support/cli';

/**
 * What the CLI prints: JSON on request from every command that reports data, headed columns
 * (never JSON) for a person, and a list import's re-screen counted against its real total with
 * the new hits named.
 */

/**
 * The commands that run a process or change state without a result to print as data: a server,
 * the standalone chain, the demo seeding and reset. Every other command reports data and takes
 * --json; a new command is held to that unless it is named here.
 */
const NOT_DATA = new Set(['serve', 'up', 'simnet', 'demo seed', 'demo reset']);

function leaves(command: Command, prefix: string[] = []): { name: string; command: Command }[] {
  if (command.commands.length === 0) return [{ name: prefix.join(' '), command }];
  const own =
    // A command with an action of its own and subcommands (`lists`, `lists import`) is both.
    (command as unknown as { _actionHandler: unknown })._actionHandler && prefix.length > 0
      ? [{ name: prefix.join(' '), command }]
      : [];
  return [...own, ...command.commands.flatMap((c) => leaves(c, [...prefix, c.name()]))];
}

const UN = path.resolve(import.meta.dirname, '../vectors/sanctions/un-consolidated-2026-02-27.xml');
// UN consolidated list 2026-02-27, individual CDi.041: MICHEL RUKUNDA.
const LISTED_INDIVIDUAL = 'Michel Rukunda';

describe('CLI output', () => {
  const cli = cliSandbox();
  afterAll(() => cli.cleanup());

  it('every data command accepts --json (walking the whole program)', async () => {
    const program = await buildProgram(createContext({}), null);
    const commands = leaves(program);
    expect(commands.length).toBeGreaterThan(20);
    const missing = commands
      .filter((c) => !NOT_DATA.has(c.name))
      .filter((c) => !c.command.options.some((o) => o.long === '--json'))
      .map((c) => c.name);
    expect(missing).toEqual([]);
    // Each exemption still names a real command (a rename would leave it stale).
    for (const name of NOT_DATA) expect(commands.map((c) => c.name)).toContain(name);
  });

  describe('on a registry with a listed person', () => {
    beforeAll(async () => {
      expect((await cli.run('migrate')).code).toBe(0);
      await createContext(cli.env).withPlatform(async (platform) => {
        const registry = platform.services.registry;
        const supervisor = systemCaller('test');
        await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
        const platformId = (
          await registry.registerParticipant(supervisor, {
            kind: 'platform',
            legalName: 'Alpha Custody GmbH',
            country: 'DE',
          })
        ).id;
        await registry.grantLicence(supervisor, {
          participantId: platformId,
          kind: 'vasp',
          scope: 'custody',
          validFrom: '2026-01-01T00:00:00Z',
          validTo: '2099-01-01T00:00:00Z',
        });
        const caller = {
          ...supervisor,
          role: 'platform' as const,
          participantId: platformId,
          platformId,
        };
        await registry.registerParticipant(caller, {
          kind: 'company',
          legalName: 'Nordwind Export Ltd',
          country: 'DE',
        });
        await registry.registerParticipant(caller, {
          kind: 'counterparty',
          personType: 'natural',
          legalName: LISTED_INDIVIDUAL,
          country: 'CD',
        });
      });
    }, 120_000);

    it('a list import counts the re-screen against every party and names the new hit', async () => {
      const imported = await cli.run('lists', 'import', UN, '--format', 'un-xml');
      expect(imported.code).toBe(0);
      // Three parties registered, each screened once: 3 of 3, never more done than the total.
      expect(imported.stderr).toMatch(/^rescreen: 3\/3 done$/m);
      expect(imported.stdout).not.toMatch(/[{}]/);
      const hitLine = imported.stdout.split('\n').find((l) => l.includes(LISTED_INDIVIDUAL));
      expect(hitLine).toBeDefined();
      expect(hitLine).toContain('CDi.041');
      expect(hitLine).toMatch(/MICHEL RUKUNDA/i);

      const json = await cli.run('lists', 'import', UN, '--format', 'un-xml', '--json');
      // The same publication again: nothing to re-screen.
      expect(JSON.parse(json.stdout)).toMatchObject({ created: false });
    });

    it('prints headed columns for a person and JSON on request, for the issue`s commands', async () => {
      const participants = await cli.run('registry', 'participants');
      expect(participants.code).toBe(0);
      const [header, rule, ...rows] = participants.stdout.trimEnd().split('\n');
      expect(header?.split(/\s{2,}/)).toEqual(['id', 'kind', 'country', 'LEI', 'legal name']);
      expect(rule).toMatch(/^-+( {2}-+){4}$/);
      expect(rows).toHaveLength(3);
      expect(rows.find((r) => r.includes('Nordwind Export Ltd'))).toMatch(/\bcompany\b.*\bDE\b/);

      const violations = await cli.run('mining', 'violations', '--json');
      expect(violations.code).toBe(0);
      expect(JSON.parse(violations.stdout)).toEqual([]);
      expect((await cli.run('mining', 'violations')).stdout.trim()).toBe('no violations');

      const keys = await cli.run('keys', 'list', '--json');
      expect(JSON.parse(keys.stdout)).toEqual([]);
      const migrated = await cli.run('migrate', '--json');
      expect(JSON.parse(migrated.stdout)).toEqual({ applied: true, database: 'pglite' });
    });

    it('clearing loop: a headed line per stage, JSON on request, a bad period refused', async () => {
      const loop = await cli.run('clearing', 'loop', '--from', '2026-07-01', '--to', '2026-08-01');
      expect(loop.code, loop.stderr).toBe(0);
      const lines = loop.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('The loop from 2026-07-01T00:00:00.000Z to 2026-08-01T00:00:00.000Z');
      expect(lines[1]?.split(/\s{2,}/)).toEqual(['stage', 'count', 'amount', 'detail']);
      expect(lines.find((l) => l.startsWith('mined'))).toMatch(/^mined\s+0\s+0\.00000000 BTC/);
      expect(loop.stdout).toContain('no deals in the period');
      const json = await cli.run(
        'clearing',
        'loop',
        '--from',
        '2026-07-01',
        '--to',
        '2026-08-01',
        '--json',
      );
      expect(JSON.parse(json.stdout)).toMatchObject({ mined: { lots: 0, sats: '0' }, trace: [] });
      const bad = await cli.run('clearing', 'loop', '--from', '2026-08-01', '--to', '2026-07-01');
      expect(bad.code).toBe(1);
      expect(bad.stderr).toContain('--to: must be after --from');
      const garbled = await cli.run('clearing', 'loop', '--from', 'July', '--to', '2026-08-01');
      expect(garbled.stderr).toContain('--from: must be a date');
    });

    it('report: one section as CSV, every section zipped, --json; a csv without its section refused', async () => {
      const report = (...args: string[]) =>
        cli.run('report', 'bop', '--period', '2026-Q3', ...args);
      const noSection = await report('--format', 'csv');
      expect(noSection.code).toBe(1);
      expect(noSection.stderr).toContain('--section: is required with --format csv');
      const unknown = await report('--format', 'csv', '--section', 'nope');
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toMatch(
        /--section: must be one of totals, net, byCountry, byMonth, mining/,
      );
      const mixed = await report(
        '--format',
        'xlsx',
        '--json',
        '--out',
        path.join(cli.dataDir, 'x'),
      );
      expect(mixed.stderr).toContain('--json: cannot be combined with --format xlsx');

      const csv = await report('--format', 'csv', '--section', 'byCountry');
      expect(csv.code).toBe(0);
      expect(csv.stdout.split('\r\n')[0]).toBe(
        'direction,country,countryName,count,sats,btc,currency,fiat',
      );
      const out = path.join(cli.dataDir, 'bop.zip');
      expect((await report('--format', 'csv-zip', '--out', out)).code).toBe(0);
      const files = unzipSync(new Uint8Array(readFileSync(out)));
      expect(Object.keys(files)).toEqual(expect.arrayContaining(['report.csv', 'byCountry.csv']));
      expect(JSON.parse((await report('--json')).stdout)).toMatchObject({ period: '2026-Q3' });
    });
  });
});

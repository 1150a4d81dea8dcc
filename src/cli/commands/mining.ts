import type { Command } from 'commander';
import { AppError, formatBtc, systemCaller } from '../../kernel';
import { printResult, printTable } from '../io';
import type { CliContext } from '../program';

export function registerMiningCommands(program: Command, context: CliContext): void {
  const mining = program
    .command('mining')
    .description('mining sites, the ban calendar, attributions and violations');

  mining
    .command('ban-status <region> [at]')
    .description('is the region banned at a time (ISO 8601, default now)?')
    .option('--json', 'print JSON')
    .action(async (region: string, at: string | undefined, options: { json?: boolean }) => {
      const when = at ? new Date(at) : new Date();
      if (Number.isNaN(when.getTime()))
        throw new AppError('VALIDATION_FAILED', `at must be an ISO 8601 date-time, got "${at}"`);
      const status = await context.withPlatform((platform) =>
        platform.services.mining.isBanned(region, when),
      );
      printResult(
        context.io,
        {
          region,
          at: when.toISOString(),
          banned: status.banned,
          local: `${status.localDate} ${status.localTime} ${status.timeZone}`,
          bans: status.bans.map((b) => `${b.id} ${b.description}`),
        },
        options.json ?? false,
      );
    });

  mining
    .command('violations')
    .description('output mined in a region under a ban (every page, newest block first)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const violations = await context.withPlatform(async (platform) => {
        const { everyItem } = await import('../../db');
        const all = [];
        for await (const v of everyItem((page) =>
          platform.services.mining.listViolations(systemCaller('cli'), {}, page),
        ))
          all.push(v);
        return all;
      });
      printTable(
        context.io,
        violations,
        [
          { header: 'code', value: (v) => v.code },
          { header: 'status', value: (v) => v.status },
          { header: 'height', value: (v) => String(v.height), align: 'right' },
          { header: 'BTC', value: (v) => formatBtc(v.valueSats), align: 'right' },
          { header: 'miner', value: (v) => v.minerId },
          { header: 'site', value: (v) => v.siteId },
          { header: 'region', value: (v) => v.regionCode },
          { header: 'ban', value: (v) => v.banId },
        ],
        { json: options.json ?? false, empty: 'no violations' },
      );
    });
}

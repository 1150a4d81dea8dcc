import type { Command } from 'commander';
import { everyItem } from '../../db';
import { systemCaller, formatBtc } from '../../kernel';
import { printResult, printTable } from '../io';
import type { CliContext } from '../program';

export function registerTradeCommands(program: Command, context: CliContext): void {
  const trade = program.command('trade').description('trade contracts, invoices and payouts');

  trade
    .command('contracts')
    .description('list contracts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const contracts = await context.withPlatform(async (platform) => {
        const all = [];
        const { contracts } = platform.services.trade;
        for await (const c of everyItem((page) => contracts.list(systemCaller('cli'), {}, page)))
          all.push(c);
        return all;
      });
      printTable(
        context.io,
        contracts,
        [
          { header: 'id', value: (c) => c.id },
          { header: 'direction', value: (c) => c.direction },
          { header: 'status', value: (c) => c.status },
          { header: 'amount', value: (c) => String(c.amount), align: 'right' },
          { header: 'currency', value: (c) => c.currency },
          { header: 'open', value: (c) => String(c.openAmount), align: 'right' },
          { header: 'open in', value: (c) => (c.unit === 'BTC' ? 'sats' : `${c.currency} minor`) },
          { header: 'company', value: (c) => c.companyId },
          { header: 'counterparty', value: (c) => c.counterpartyId },
        ],
        { json: options.json ?? false, empty: 'no contracts' },
      );
    });

  trade
    .command('invoices')
    .description('list invoices')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await context.withPlatform(async (platform) => {
        const all = [];
        const { invoices } = platform.services.trade;
        for await (const i of everyItem((page) => invoices.list(systemCaller('cli'), {}, page)))
          all.push(i);
        return all;
      });
      printTable(
        context.io,
        list,
        [
          { header: 'id', value: (i) => i.id },
          { header: 'status', value: (i) => i.status },
          { header: 'BTC', value: (i) => String(i.amountBtc), align: 'right' },
          { header: 'address', value: (i) => i.address },
          { header: 'additional status', value: (i) => i.additionalStatus.join(', ') || '-' },
        ],
        { json: options.json ?? false, empty: 'no invoices' },
      );
    });

  trade
    .command('payouts')
    .description('list payouts')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const list = await context.withPlatform(async (platform) => {
        const all = [];
        const { payouts } = platform.services.trade;
        for await (const p of everyItem((page) => payouts.list(systemCaller('cli'), {}, page)))
          all.push(p);
        return all;
      });
      printTable(
        context.io,
        list,
        [
          { header: 'id', value: (p) => p.id },
          { header: 'status', value: (p) => p.status },
          { header: 'BTC', value: (p) => formatBtc(p.amountSats), align: 'right' },
          {
            header: 'approvals',
            value: (p) => `${p.approvals.length}/${p.requiredApprovals}`,
            align: 'right',
          },
          { header: 'txid', value: (p) => p.txid ?? '-' },
        ],
        { json: options.json ?? false, empty: 'no payouts' },
      );
    });

  trade
    .command('resume')
    .description(
      're-broadcast signed payout batches that have not confirmed (after a restart); builds nothing new',
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const resumed = await context.withPlatform((platform) =>
        platform.services.trade.payouts.resume(),
      );
      printResult(
        context.io,
        options.json ? { resumed } : { resumed: resumed.join(', ') || '(none)' },
        options.json ?? false,
      );
    });

  trade
    .command('deliver-webhooks')
    .description('deliver due webhook events from the outbox')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const result = await context.withPlatform((platform) =>
        platform.services.trade.webhooks.drain(),
      );
      printResult(context.io, { ...result }, options.json ?? false);
    });
}

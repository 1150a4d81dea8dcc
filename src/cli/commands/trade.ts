import type { Command } from 'commander';
import { everyItem } from '../../db';
import { systemCaller, formatBtc } from '../../kernel';
import { printResult } from '../io';
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
      if (options.json) {
        context.io.stdout(
          JSON.stringify(
            contracts,
            (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v),
            2,
          ),
        );
        return;
      }
      for (const c of contracts) {
        context.io.stdout(
          `${c.id}  ${c.direction.padEnd(6)} ${c.status.padEnd(10)} ${c.amount} ${c.currency}  open ${c.openAmount} ${c.unit === 'BTC' ? 'sats' : `${c.currency} minor`}  ${c.companyId} ↔ ${c.counterpartyId}`,
        );
      }
    });

  trade
    .command('invoices')
    .description('list invoices')
    .action(async () => {
      await context.withPlatform(async (platform) => {
        const { invoices } = platform.services.trade;
        for await (const i of everyItem((page) => invoices.list(systemCaller('cli'), {}, page))) {
          context.io.stdout(
            `${i.id}  ${i.status.padEnd(10)} ${i.amountBtc} BTC  ${i.address}  ${i.additionalStatus.join(',')}`,
          );
        }
      });
    });

  trade
    .command('payouts')
    .description('list payouts')
    .action(async () => {
      await context.withPlatform(async (platform) => {
        const { payouts } = platform.services.trade;
        for await (const p of everyItem((page) => payouts.list(systemCaller('cli'), {}, page))) {
          context.io.stdout(
            `${p.id}  ${p.status.padEnd(16)} ${formatBtc(p.amountSats)} BTC  ${p.approvals.length}/${p.requiredApprovals} approvals  ${p.txid ?? ''}`,
          );
        }
      });
    });

  trade
    .command('resume')
    .description(
      're-broadcast signed payout batches that have not confirmed (after a restart); builds nothing new',
    )
    .action(async () => {
      const resumed = await context.withPlatform((platform) =>
        platform.services.trade.payouts.resume(),
      );
      printResult(context.io, { resumed: resumed.join(', ') || '(none)' }, false);
    });

  trade
    .command('deliver-webhooks')
    .description('deliver due webhook events from the outbox')
    .action(async () => {
      const result = await context.withPlatform((platform) =>
        platform.services.trade.webhooks.drain(),
      );
      printResult(context.io, result, false);
    });
}

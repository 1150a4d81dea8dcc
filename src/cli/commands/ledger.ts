import type { Command } from 'commander';
import { Simnet } from '../../chain';
import { AppError, formatBtc, systemCaller } from '../../kernel';
import { ACCOUNT_PURPOSES } from '../../ledger';
import { printResult } from '../io';
import type { CliContext } from '../program';

export function registerLedgerCommands(program: Command, context: CliContext): void {
  const ledger = program
    .command('ledger')
    .description('the double-entry ledger: balances, statements, reconciliation');

  ledger
    .command('reconcile')
    .description(
      "compare each company's ledger balance (client funds + in transit) with its wallet's unspent coins; exit 1 on any difference",
    )
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await context.withPlatform(async (platform) => {
        // On simnet the chain lives in the platform database: compare with its own UTXO set.
        const simnet =
          platform.simnet ??
          (platform.config.CHAIN === 'simnet'
            ? await Simnet.open({ db: platform.db, clock: platform.clock })
            : null);
        return platform.services.trade.reconcile(
          systemCaller('cli'),
          simnet
            ? {
                unspent: (address) =>
                  Promise.resolve(
                    simnet
                      .listUnspent(address)
                      .map((u) => ({ txid: u.txid, vout: u.vout, valueSats: u.value })),
                  ),
              }
            : undefined,
        );
      });
      if (options.json) {
        printResult(context.io, { ...report, lines: report.lines.map((l) => ({ ...l })) }, true);
      } else {
        for (const l of report.lines) {
          context.io.stdout(
            `${l.companyId}  ledger ${formatBtc(l.ledgerSats)}  chain ${formatBtc(l.chainSats ?? l.trackedSats)}  difference ${formatBtc(l.differenceSats)}`,
          );
        }
        context.io.stdout(
          `total difference ${formatBtc(report.totalDifferenceSats)} BTC (${report.totalDifferenceSats} sats); trial balance ${report.trialBalanceSats} sats`,
        );
      }
      if (report.totalDifferenceSats !== 0n || report.trialBalanceSats !== 0n) {
        throw new AppError(
          'CONFLICT',
          `the ledger and the chain differ by ${report.totalDifferenceSats} sats`,
        );
      }
    });

  ledger
    .command('balances')
    .description('account balances in sats (positive = debit)')
    .option('--participant <id>', 'only this participant')
    .option('--json', 'print JSON')
    .action(async (options: { participant?: string; json?: boolean }) => {
      const balances = await context.withPlatform((platform) =>
        platform.services.ledger.balances(
          systemCaller('cli'),
          options.participant ? { participantId: options.participant } : {},
        ),
      );
      if (options.json) {
        context.io.stdout(
          JSON.stringify(
            balances.map((b) => ({ ...b, balanceSats: b.balanceSats.toString() })),
            null,
            2,
          ),
        );
        return;
      }
      for (const b of balances)
        context.io.stdout(`${b.accountId.padEnd(50)} ${b.balanceSats.toString().padStart(18)}`);
    });

  ledger
    .command('statement')
    .description("a participant's account statement for a period")
    .requiredOption('--participant <id>', 'the company (or counterparty)')
    .requiredOption('--from <date>', 'start, ISO 8601 (inclusive)')
    .requiredOption('--to <date>', 'end, ISO 8601 (exclusive)')
    .option('--purpose <purpose>', `one of ${ACCOUNT_PURPOSES.join(', ')}`, 'clientFunds')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        participant: string;
        from: string;
        to: string;
        purpose: string;
        json?: boolean;
      }) => {
        const purpose = ACCOUNT_PURPOSES.find((p) => p === options.purpose);
        if (!purpose)
          throw new AppError(
            'VALIDATION_FAILED',
            `--purpose must be one of ${ACCOUNT_PURPOSES.join(', ')}, got "${options.purpose}"`,
          );
        const from = new Date(options.from);
        const to = new Date(options.to);
        if (Number.isNaN(from.getTime()))
          throw new AppError(
            'VALIDATION_FAILED',
            `--from must be an ISO 8601 date, got "${options.from}"`,
          );
        if (Number.isNaN(to.getTime()))
          throw new AppError(
            'VALIDATION_FAILED',
            `--to must be an ISO 8601 date, got "${options.to}"`,
          );
        const statement = await context.withPlatform((platform) =>
          platform.services.ledger.statement(
            systemCaller('cli'),
            options.participant,
            purpose,
            from,
            to,
          ),
        );
        if (options.json) {
          printResult(
            context.io,
            { ...statement, lines: statement.lines.map((l) => ({ ...l })) },
            true,
          );
          return;
        }
        context.io.stdout(`opening ${formatBtc(statement.openingSats)} BTC`);
        for (const l of statement.lines) {
          context.io.stdout(
            `${l.at.toISOString()}  ${l.kind.padEnd(18)} ${l.reference.padEnd(32)} ${formatBtc(l.amountSats).padStart(16)}  ${formatBtc(l.balanceSats).padStart(16)}`,
          );
        }
        context.io.stdout(`closing ${formatBtc(statement.closingSats)} BTC`);
      },
    );
}

import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { AppError, SeededRandom, cryptoRandom } from '../../kernel';
import { simulateScenario } from '../../trade';
import type { ScenarioReport } from '../../trade';
import { printResult, processIo, type CliIo } from '../io';

/**
 * `tradeclear coinselect simulate SCENARIO.csv [--json] [--seed N]`: replays a coin-selection
 * scenario (`amount_BTC,feerate_BTC_per_kvB` per line) through the wallet's coin selection and
 * prints the fees paid and the shape of the payments. A bad line is a VALIDATION_FAILED AppError
 * naming the line.
 */
export function registerCoinselectCommands(
  program: Command,
  io: Pick<CliIo, 'stdout'> = processIo,
): void {
  const coinselect = program.command('coinselect').description('coin selection tools');
  coinselect
    .command('simulate')
    .description('replay a deposit/payment scenario and report the fees paid')
    .argument('<scenario>', 'CSV file, one operation per line: amount_BTC,feerate_BTC_per_kvB')
    .option('--json', 'print JSON')
    .option('--seed <n>', 'seed for the selection randomness (reproducible runs)')
    .action(async (file: string, options: { json?: boolean; seed?: string }) => {
      const random =
        options.seed === undefined ? cryptoRandom : new SeededRandom(parseSeed(options.seed));
      const text = await readScenario(file);
      const report = simulateScenario(text, { random });
      printResult(io as CliIo, present(report), options.json ?? false);
    });
}

function parseSeed(text: string): number {
  if (!/^\d{1,10}$/.test(text) || Number(text) > 0xffff_ffff) {
    throw new AppError(
      'VALIDATION_FAILED',
      `--seed must be an integer from 0 to 4294967295, got "${text}"`,
      {
        issues: [{ field: 'seed', message: 'must be an integer from 0 to 4294967295' }],
      },
    );
  }
  return Number(text);
}

async function readScenario(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new AppError('VALIDATION_FAILED', `scenario: cannot read "${file}" (${reason})`, {
      issues: [{ field: 'scenario', message: `cannot read (${reason})` }],
    });
  }
}

function present(report: ScenarioReport): Record<string, unknown> {
  return {
    deposits: report.deposits,
    paymentsMade: report.paymentsMade,
    paymentsFailed: report.paymentsFailed,
    totalPaidSats: report.totalPaidSats,
    totalFeesSats: report.totalFeesSats,
    totalFeesBtc: report.totalFeesBtc,
    averageFeePerPaymentSats: report.averageFeePerPaymentSats,
    averageInputsPerPayment: report.averageInputsPerPayment.toFixed(3),
    changelessShare: report.changelessShare.toFixed(4),
    finalUtxoCount: report.finalUtxoCount,
    finalBalanceSats: report.finalBalanceSats,
    algorithmCounts: report.algorithmCounts,
  };
}

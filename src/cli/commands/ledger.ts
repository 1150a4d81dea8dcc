import type { Command } from 'commander';
import { Simnet, SimnetChainSource } from '../../chain';
import { AppError, formatBtc, systemCaller } from '../../kernel';
import { ACCOUNT_PURPOSES } from '../../ledger';
import { MAX_PAGE_SIZE, type PageRequest } from '../../db';
import type { ReconcileItem, ReconcileReport } from '../../trade';
import { printResult, printTable, toJson } from '../io';
import type { CliContext } from '../program';

export function registerLedgerCommands(program: Command, context: CliContext): void {
  const ledger = program
    .command('ledger')
    .description('the double-entry ledger: balances, statements, reconciliation');

  ledger
    .command('reconcile')
    .description(
      "compare each company's ledger balance (client funds + in transit) with its wallet's unspent coins and explain each difference; exit 1 on an unexplained one",
    )
    .option('--json', 'print the whole report as JSON')
    .action(async (options: { json?: boolean }) => {
      const report = await context.withPlatform(async (platform) => {
        // On simnet the chain lives in the platform database: compare with its own UTXO set, and
        // read the blocks above the watcher's cursor from it.
        const simnet =
          platform.simnet ??
          (platform.config.CHAIN === 'simnet'
            ? await Simnet.open({ db: platform.db, clock: platform.clock })
            : null);
        return platform.services.trade.reconcile(
          systemCaller('cli'),
          simnet
            ? {
                utxos: {
                  unspent: (address) =>
                    Promise.resolve(
                      simnet.listUnspent(address).map((u) => ({
                        txid: u.txid,
                        vout: u.vout,
                        valueSats: u.value,
                        height: u.height,
                      })),
                    ),
                },
                chain: platform.chain ?? new SimnetChainSource(simnet),
              }
            : {},
        );
      });
      if (options.json) printResult(context.io, { ...report }, true);
      else for (const line of reconcileTable(report)) context.io.stdout(line);
      if (!report.reconciled) {
        const unexplained = report.lines.flatMap((l) =>
          l.items
            .filter((i) => i.category === 'unexplained')
            .map((i) => `${l.companyId}: ${signedSats(i.sats)} sats, ${i.note}${references(i)}`),
        );
        throw new AppError(
          'CONFLICT',
          unexplained.length > 0
            ? `the ledger and the chain differ by what nothing explains: ${unexplained.join('; ')}`
            : `the trial balance is ${report.trialBalanceSats} sats, not zero`,
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
      printTable(
        context.io,
        balances,
        [
          { header: 'account', value: (b) => b.accountId },
          { header: 'balance (sats)', value: (b) => b.balanceSats.toString(), align: 'right' },
          { header: 'balance (BTC)', value: (b) => formatBtc(b.balanceSats), align: 'right' },
        ],
        { json: options.json ?? false, empty: 'no accounts' },
      );
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
        // Every line, page after page (the totals are the period's on each page).
        const statement = await context.withPlatform(async (platform) => {
          const read = (page: PageRequest) =>
            platform.services.ledger.statement(
              systemCaller('cli'),
              options.participant,
              purpose,
              from,
              to,
              page,
            );
          let page = await read({ limit: MAX_PAGE_SIZE });
          const lines = [...page.items];
          while (page.nextCursor) {
            page = await read({ limit: MAX_PAGE_SIZE, cursor: page.nextCursor });
            lines.push(...page.items);
          }
          return { ...page, items: lines, nextCursor: null };
        });
        if (options.json) {
          const { items, nextCursor: _last, ...totals } = statement;
          context.io.stdout(toJson({ ...totals, lines: items }));
          return;
        }
        context.io.stdout(`opening balance  ${formatBtc(statement.openingSats)} BTC`);
        printTable(
          context.io,
          statement.items,
          [
            { header: 'at', value: (l) => l.at.toISOString() },
            { header: 'kind', value: (l) => l.kind },
            { header: 'reference', value: (l) => l.reference },
            { header: 'amount (BTC)', value: (l) => formatBtc(l.amountSats), align: 'right' },
            { header: 'balance (BTC)', value: (l) => formatBtc(l.balanceSats), align: 'right' },
          ],
          { json: false, empty: 'no entries in the period' },
        );
        context.io.stdout(`closing balance  ${formatBtc(statement.closingSats)} BTC`);
      },
    );
}

const signedSats = (sats: bigint) => (sats > 0n ? `+${sats}` : sats.toString());
const signedBtc = (sats: bigint) => (sats > 0n ? `+${formatBtc(sats)}` : formatBtc(sats));

/** An item's references in brackets: invoice, decision, batch, coins, heights, ledger entries. */
function references(item: ReconcileItem): string {
  const r = item.references;
  const parts = [
    r.invoiceId,
    r.decisionId,
    r.batchId,
    ...(r.outpoints ?? []),
    r.outpoints?.length ? undefined : r.txid,
    r.height !== undefined ? `height ${r.height}` : undefined,
    r.requiredConfirmations !== undefined
      ? `${r.confirmations ?? 0}/${r.requiredConfirmations} conf`
      : undefined,
    ...(r.ledgerTransactionIds ?? []),
  ].filter((p): p is string => !!p);
  return parts.length > 0 ? ` [${parts.join(', ')}]` : '';
}

/** The report for a person: a headed table of the companies, then each one's explanations. */
export function reconcileTable(report: ReconcileReport): string[] {
  const out: string[] = [];
  const against =
    report.view === 'chain' ? "the chain's UTXO set" : 'the coins the watcher tracked';
  out.push(
    `Ledger (client funds + in transit) against ${against}; chain tip ${report.tipHeight ?? 'unknown'}, watcher at ${report.cursorHeight ?? 'no block yet'}`,
  );
  const header = ['company', 'ledger BTC', 'chain BTC', 'difference', 'explained', 'unexplained'];
  const rows = report.lines.map((l) => [
    l.companyId,
    formatBtc(l.ledgerSats),
    formatBtc(l.chainSats ?? l.trackedSats),
    signedBtc(l.differenceSats),
    signedBtc(l.explainedSats),
    l.explained ? signedBtc(l.unexplainedSats) : `${signedBtc(l.unexplainedSats)} !`,
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const row = (cells: readonly string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out.push('', row(header), widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) out.push(row(r));
  for (const l of report.lines) {
    if (l.items.length === 0) continue;
    out.push('', `${l.companyId} (${l.platformId}):`);
    const width = Math.max(...l.items.map((i) => i.category.length));
    for (const i of l.items)
      out.push(
        `  ${i.category.padEnd(width)}  ${signedSats(i.sats).padStart(12)} sats  ${i.note}${references(i)}`,
      );
  }
  out.push(
    '',
    `total difference ${report.totalDifferenceSats} sats; unexplained ${report.unexplainedSats} sats; trial balance ${report.trialBalanceSats} sats`,
    report.reconciled
      ? 'reconciled: every difference is explained'
      : 'NOT reconciled: a difference is unexplained',
  );
  return out;
}

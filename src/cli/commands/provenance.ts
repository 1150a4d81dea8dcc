import type { Command } from 'commander';
import { AppError, formatBtc, systemCaller } from '../../kernel';
import type { ProvenanceNode } from '../../mining';
import { formatTable, toJson } from '../io';
import type { CliContext } from '../program';

function pathLines(node: ProvenanceNode, depth: number, out: string[]): void {
  const tagged = node.provenance.reduce((sum, p) => sum + p.sats, 0n);
  out.push(
    `${'  '.repeat(depth)}${depth === 0 ? '' : '← '}${node.txid}:${node.vout}  ${formatBtc(node.valueSats)} BTC  (traced ${formatBtc(tagged)}, height ${node.height}${node.coinbase ? ', coinbase' : ''}${node.truncated ? ', path truncated' : ''})`,
  );
  for (const parent of node.from) pathLines(parent, depth + 1, out);
}

export function registerProvenanceCommands(program: Command, context: CliContext): void {
  program
    .command('provenance <outpoint>')
    .description(
      'show the provenance of an output (TXID:VOUT): origins, sats and the path back to the coinbases',
    )
    .option('--json', 'print JSON')
    .action(async (outpoint: string, options: { json?: boolean }) => {
      const match = /^([0-9a-fA-F]{64}):(\d{1,6})$/.exec(outpoint);
      if (!match)
        throw new AppError(
          'VALIDATION_FAILED',
          `outpoint must be TXID:VOUT (64 hex characters, a colon, an output index), got "${outpoint}"`,
        );
      const report = await context.withPlatform((platform) =>
        platform.services.mining.provenance(
          systemCaller('cli'),
          (match[1] ?? '').toLowerCase(),
          Number(match[2]),
        ),
      );
      if (options.json) {
        context.io.stdout(toJson(report));
        return;
      }
      context.io.stdout(
        `${report.txid}:${report.vout}  ${formatBtc(report.valueSats)} BTC  block ${report.height} ${report.blockHash}`,
      );
      context.io.stdout(`domestically mined: ${formatBtc(report.taggedSats)} BTC`);
      const origins = formatTable(report.provenance, [
        { header: 'BTC', value: (e) => formatBtc(e.sats), align: 'right' },
        { header: 'attribution', value: (e) => e.origin.attributionId },
        { header: 'miner', value: (e) => e.origin.minerId },
        { header: 'site', value: (e) => e.origin.siteId },
        { header: 'region', value: (e) => e.origin.regionCode },
        { header: 'block', value: (e) => String(e.origin.height), align: 'right' },
      ]);
      if (report.provenance.length > 0) for (const line of origins) context.io.stdout(`  ${line}`);
      const lines: string[] = [];
      pathLines(report.path, 0, lines);
      context.io.stdout('path:');
      for (const line of lines) context.io.stdout(`  ${line}`);
    });
}

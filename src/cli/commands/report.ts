import { rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { AppError, invalid, systemCaller } from '../../kernel';
import { parsePeriod, REPORT_FORMATS, REPORT_KINDS, type ReportFormat } from '../../oversight';
import type { CliContext } from '../program';

function parseFormat(text: string): ReportFormat {
  const format = REPORT_FORMATS.find((f) => f === text.toLowerCase());
  if (!format)
    throw invalid('--format', `must be one of ${REPORT_FORMATS.join(', ')}, got "${text}"`);
  return format;
}

export function registerReportCommands(program: Command, context: CliContext): void {
  const report = program
    .command('report')
    .description('statistics and reports for the supervisor (runs as the scheme itself)');

  for (const kind of REPORT_KINDS) {
    report
      .command(kind)
      .description(
        `the ${kind} report for a period, as json, csv (one section), csv-zip, xlsx or pdf`,
      )
      .requiredOption(
        '--period <period>',
        'a month (2026-07), a quarter (2026-Q3) or a year (2026)',
      )
      .option('--format <format>', REPORT_FORMATS.join(', '), 'json')
      .option('--json', 'the report as JSON (the same as --format json)')
      .option('--section <id>', 'with --format csv: the section to write (e.g. byCountry)')
      .option('--out <file>', 'write to this file (required for xlsx and pdf); default stdout')
      .option(
        '--platform <id>',
        kind === 'platform-activity' ? 'one platform only' : 'platform-activity only',
      )
      .action(
        async (options: {
          period: string;
          format: string;
          json?: boolean;
          section?: string;
          out?: string;
          platform?: string;
        }) => {
          // Every input is checked before anything is opened or written.
          const period = parsePeriod(options.period, '--period');
          const format = parseFormat(options.format);
          if (options.json && format !== 'json')
            throw invalid('--json', `cannot be combined with --format ${format}`);
          if (options.platform !== undefined && kind !== 'platform-activity') {
            throw invalid('--platform', `applies to platform-activity only, not to ${kind}`);
          }
          if (options.section === undefined && format === 'csv')
            throw invalid('--section', 'is required with --format csv (or use --format csv-zip)');
          if (options.section !== undefined && format !== 'csv')
            throw invalid('--section', `applies to --format csv only, not to ${format}`);
          if (!options.out && (format === 'xlsx' || format === 'pdf' || format === 'csv-zip')) {
            throw invalid('--out', `is required for ${format} (a binary file is not printed)`);
          }
          context.io.stderr(`computing ${kind} for ${period.label}…`);
          const file = await context.withPlatform(async (platform) => {
            const built = await platform.services.oversight.report(
              systemCaller('cli'),
              kind,
              period,
              { platformId: options.platform },
            );
            const sections = built.sections.map((s) => `${s.id} ${s.rows.length}`).join(', ');
            context.io.stderr(`rows: ${sections}`);
            context.io.stderr(`rendering ${format}…`);
            return platform.services.oversight.render(built, format, {
              section: options.section,
              sectionField: '--section',
            });
          });
          if (!options.out) {
            context.io.stdout(file.body.toString('utf8'));
            return;
          }
          // Written to a temporary file renamed into place, so a failure leaves no partial file.
          const target = path.resolve(options.out);
          const temporary = `${target}.${process.pid}.tmp`;
          try {
            await writeFile(temporary, file.body);
            await rename(temporary, target);
          } catch (error) {
            await rm(temporary, { force: true });
            throw new AppError(
              'VALIDATION_FAILED',
              `--out: cannot write ${options.out}: ${error instanceof Error ? error.message : String(error)}`,
            );
          }
          context.io.stderr(
            `wrote ${options.out} (${file.body.length} bytes, ${file.contentType})`,
          );
        },
      );
  }
}

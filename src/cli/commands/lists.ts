import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { AppError, systemCaller } from '../../kernel';
import {
  LIST_FORMATS,
  type ImportPhase,
  type ListFormat,
  type ListImportInput,
  type SnapshotView,
} from '../../compliance';
import { everyItem, type PageRequest } from '../../db';
import { printResult, printTable, processIo } from '../io';
import type { CliContext } from '../program';

function read(file: string): Uint8Array {
  if (!existsSync(file)) throw new AppError('LIST_IMPORT_FAILED', `FILE: no such file "${file}"`);
  return new Uint8Array(readFileSync(file));
}

/** OFAC's legacy CSV is three files: FILE is sdn.csv (add.csv and alt.csv beside it) or their directory. */
function ofacFiles(file: string): ListImportInput {
  const dir = statSync(file).isDirectory() ? file : path.dirname(file);
  const sdn = statSync(file).isDirectory() ? path.join(dir, 'sdn.csv') : file;
  return {
    format: 'ofac-csv',
    sdn: read(sdn),
    add: read(path.join(dir, 'add.csv')),
    alt: read(path.join(dir, 'alt.csv')),
  };
}

export function registerListsCommands(program: Command, context: CliContext): void {
  const lists = program
    .command('lists')
    .description('sanctions list snapshots: show what is loaded, import a new publication')
    .option('--all', 'include superseded snapshots')
    .option('--json', 'print JSON')
    .action(async (options: { all?: boolean; json?: boolean }) => {
      const snapshots = await context.withPlatform(async (platform) => {
        const all: SnapshotView[] = [];
        const list = (page: PageRequest) =>
          platform.services.compliance.screening.listSnapshots(
            systemCaller('cli'),
            { all: options.all ?? false },
            page,
          );
        for await (const snapshot of everyItem(list)) all.push(snapshot);
        return all;
      });
      printTable(
        context.io,
        snapshots,
        [
          { header: 'snapshot', value: (s) => s.id },
          { header: 'list', value: (s) => s.listKey },
          { header: 'state', value: (s) => (s.active ? 'active' : 'superseded') },
          { header: 'published', value: (s) => s.publicationDate ?? '-' },
          { header: 'entries', value: (s) => String(s.counts.entries), align: 'right' },
          { header: 'addresses', value: (s) => String(s.counts.addresses), align: 'right' },
          { header: 'sha256', value: (s) => `${s.contentHash.slice(0, 12)}…` },
          { header: 'imported', value: (s) => s.importedAt.toISOString() },
        ],
        {
          json: options.json ?? false,
          empty: 'no lists loaded: run `tradeclear lists import FILE --format …`',
        },
      );
    });

  lists
    .command('import <file>')
    .description(
      'import a list file as the new snapshot of its list, then re-screen every registered party and address',
    )
    .requiredOption('--format <format>', LIST_FORMATS.join(' | '))
    .option('--asset <ticker>', 'for --format address-list: the asset the file lists (e.g. XBT)')
    .option('--json', 'print JSON')
    .action(async (file: string, options: { format: string; asset?: string; json?: boolean }) => {
      // `lists` has its own --json: commander hands a trailing --json to the parent command.
      const json = options.json === true || lists.opts<{ json?: boolean }>().json === true;
      if (!(LIST_FORMATS as readonly string[]).includes(options.format)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `--format must be one of ${LIST_FORMATS.join(', ')}, got "${options.format}"`,
        );
      }
      const format = options.format as ListFormat;
      if (!existsSync(file))
        throw new AppError('LIST_IMPORT_FAILED', `FILE: no such file or directory "${file}"`);
      let input: ListImportInput;
      if (format === 'ofac-csv') input = ofacFiles(file);
      else if (format === 'address-list') {
        if (!options.asset)
          throw new AppError(
            'VALIDATION_FAILED',
            '--asset is required with --format address-list (e.g. --asset XBT)',
          );
        input = { format, bytes: read(file), asset: options.asset };
      } else input = { format, bytes: read(file) };
      // A bar on a terminal; elsewhere (pipes, CI, captured output) one line per finished phase
      // on stderr, so stdout carries only the result. --json prints no progress at all.
      const tty = context.io === processIo && process.stderr.isTTY;
      const bar = new cliProgress.SingleBar(
        { format: '{phase} [{bar}] {value}/{total}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      );
      let phase: { name: ImportPhase; done: number; total: number } | undefined;
      const finish = () => {
        if (!phase) return;
        if (tty) bar.stop();
        else
          context.io.stderr(
            `${phase.name}: ${phase.done}${phase.total > 0 ? `/${phase.total}` : ''} done`,
          );
      };
      const result = await context.withPlatform(async (platform) => {
        try {
          return await platform.services.compliance.screening.importList(
            systemCaller('cli'),
            input,
            (name, done, total) => {
              if (json) return;
              if (name !== phase?.name) {
                finish();
                phase = { name, done, total };
                if (tty) bar.start(Math.max(total, done), done, { phase: name.padEnd(8) });
              } else {
                phase.done = done;
                phase.total = total;
                if (tty) bar.update(done);
              }
            },
          );
        } finally {
          // A failed import leaves no "done" line behind, only the bar stopped.
          if (tty && phase) bar.stop();
        }
      });
      if (!tty) finish();
      printResult(
        context.io,
        {
          snapshot: result.snapshot.id,
          list: result.snapshot.listKey,
          created: result.created,
          publicationDate: result.snapshot.publicationDate,
          contentHash: result.snapshot.contentHash,
          counts: result.snapshot.counts,
          rescreen: result.rescreen ?? 'not needed (identical to a stored snapshot)',
        },
        json,
      );
    });
}

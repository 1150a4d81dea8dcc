import type { Command } from 'commander';
import { AppError, systemCaller } from '../../kernel';
import type { ScreeningResult } from '../../compliance';
import { formatTable } from '../io';
import type { CliContext } from '../program';
import { callServer } from '../server';

function print(context: CliContext, result: ScreeningResult, json: boolean): void {
  if (json) {
    context.io.stdout(JSON.stringify(result, null, 2));
    return;
  }
  context.io.stdout(
    `${result.outcome.toUpperCase()}  "${result.query}"  (lists ${result.listSnapshotIds.join(', ') || 'none loaded'})`,
  );
  if (result.matches.length === 0) return;
  const lines = formatTable(result.matches, [
    { header: 'score', value: (m) => m.score.toFixed(3), align: 'right' },
    { header: 'outcome', value: (m) => m.outcome },
    { header: 'list', value: (m) => m.source },
    { header: 'entry', value: (m) => m.listEntryId },
    { header: 'listed name', value: (m) => m.primaryName },
    { header: 'matched alias', value: (m) => m.matchedAlias ?? '-' },
    { header: 'snapshot', value: (m) => m.listSnapshotId },
  ]);
  for (const line of lines) context.io.stdout(`  ${line}`);
}

export function registerScreenCommands(program: Command, context: CliContext): void {
  const screen = program
    .command('screen')
    .description('screen a name or an address against the active sanctions lists');
  screen
    .command('name <name>')
    .option('--type <type>', 'person | organization')
    .option('--json', 'print JSON')
    .action(async (name: string, options: { type?: string; json?: boolean }) => {
      if (
        options.type !== undefined &&
        options.type !== 'person' &&
        options.type !== 'organization'
      ) {
        throw new AppError(
          'VALIDATION_FAILED',
          `--type must be person or organization, got "${options.type}"`,
        );
      }
      const type = options.type;
      // While a server holds the embedded database (the README's demo), it screens.
      const server = await context.runningServer();
      const result = server
        ? await callServer<ScreeningResult>(server, 'POST', '/v1/screenings', {
            name,
            ...(type ? { type } : {}),
          })
        : await context.withPlatform((platform) =>
            platform.services.compliance.screening.screenName(
              systemCaller('cli'),
              name,
              type ? { type } : {},
            ),
          );
      print(context, result, options.json ?? false);
    });
  screen
    .command('address <address>')
    .option('--json', 'print JSON')
    .action(async (address: string, options: { json?: boolean }) => {
      const server = await context.runningServer();
      const result = server
        ? await callServer<ScreeningResult>(server, 'POST', '/v1/screenings', { address })
        : await context.withPlatform((platform) =>
            platform.services.compliance.screening.screenAddress(systemCaller('cli'), address),
          );
      print(context, result, options.json ?? false);
    });
}

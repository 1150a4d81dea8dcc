import type { Command } from 'commander';
import { AppError, systemCaller } from '../../kernel';
import { PARTICIPANT_KINDS, type ParticipantKind } from '../../registry';
import type { CliContext } from '../program';

export function registerRegistryCommands(program: Command, context: CliContext): void {
  const registry = program
    .command('registry')
    .description('participants, licences and jurisdictions');

  registry
    .command('participants')
    .description('list participants (every page, newest first)')
    .option('--kind <kind>', PARTICIPANT_KINDS.join(', '))
    .option('--json', 'print JSON')
    .action(async (options: { kind?: string; json?: boolean }) => {
      if (options.kind && !(PARTICIPANT_KINDS as readonly string[]).includes(options.kind)) {
        throw new AppError(
          'VALIDATION_FAILED',
          `--kind must be one of ${PARTICIPANT_KINDS.join(', ')}, got "${options.kind}"`,
        );
      }
      const list = await context.withPlatform(async (platform) => {
        const { everyItem } = await import('../../db');
        const all = [];
        for await (const p of everyItem((page) =>
          platform.services.registry.listParticipants(
            systemCaller('cli'),
            { kind: options.kind as ParticipantKind | undefined },
            page,
          ),
        ))
          all.push(p);
        return all;
      });
      if (options.json) {
        context.io.stdout(JSON.stringify(list, null, 2));
        return;
      }
      for (const p of list)
        context.io.stdout(
          `${p.id}  ${p.kind.padEnd(12)}  ${p.country}  ${p.lei ?? '-'.padEnd(20)}  ${p.legalName}`,
        );
    });
}

import type { Command } from 'commander';
import { AppError, systemCaller } from '../../kernel';
import { PARTICIPANT_KINDS, type ParticipantKind } from '../../registry';
import { printTable } from '../io';
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
      printTable(
        context.io,
        list,
        [
          { header: 'id', value: (p) => p.id },
          { header: 'kind', value: (p) => p.kind },
          { header: 'country', value: (p) => p.country },
          { header: 'LEI', value: (p) => p.lei ?? '-' },
          { header: 'legal name', value: (p) => p.legalName },
        ],
        { json: options.json ?? false, empty: 'no participants' },
      );
    });
}

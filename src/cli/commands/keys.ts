import type { Command } from 'commander';
import { AppError, isRole, systemCaller, ROLES } from '../../kernel';
import { SCHEME_PARTICIPANT_ID } from '../../access';
import type { ApiKeyView, CreatedApiKey } from '../../access';
import { printResult, printTable } from '../io';
import type { CliContext } from '../program';
import { callServer, everyServerItem } from '../server';

/** An API key as the HTTP API returns it (dates as ISO strings). */
type KeyJson = Omit<ApiKeyView, 'createdAt' | 'revokedAt'> & {
  createdAt: string;
  revokedAt: string | null;
};

export function registerKeyCommands(program: Command, context: CliContext): void {
  const keys = program.command('keys').description('manage API keys');

  keys
    .command('create')
    .description('create an API key and print its token once (bootstraps the first supervisor key)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option(
      '--participant <id>',
      'participant the key acts for (default for supervisor/auditor: the scheme)',
    )
    .option('--platform <id>', "for a company key: the company's platform")
    .option('--name <name>', 'a label for the key', 'cli')
    .option(
      '--person <id>',
      "the person (user id) who holds the key (default: the participant's administrator)",
    )
    .option('--person-name <name>', 'a new person of the participant, named so, holds the key')
    .option('--json', 'print JSON')
    .action(
      async (options: {
        role: string;
        participant?: string;
        platform?: string;
        name: string;
        person?: string;
        personName?: string;
        json?: boolean;
      }) => {
        if (!isRole(options.role)) {
          throw new AppError(
            'VALIDATION_FAILED',
            `--role must be one of ${ROLES.join(', ')}, got "${options.role}"`,
          );
        }
        const participantId =
          options.participant ??
          (options.role === 'supervisor' || options.role === 'auditor'
            ? SCHEME_PARTICIPANT_ID
            : undefined);
        if (!participantId) {
          throw new AppError(
            'VALIDATION_FAILED',
            `--participant is required for a ${options.role} key`,
          );
        }
        // The operator at the console acts as the supervisor: the key goes to the person named,
        // or to the participant's administrator ("Scheme administrator" for the first key).
        const input = {
          role: options.role,
          participantId,
          platformId: options.platform ?? null,
          name: options.name,
          // Only the options given: the API takes them as optional strings, not nulls.
          ...(options.person ? { personId: options.person } : {}),
          ...(options.personName ? { personName: options.personName } : {}),
        };
        // While a server holds the embedded database, the key is created by the server (which
        // also writes its audit event), as the local operator.
        const server = await context.runningServer();
        const created: Pick<CreatedApiKey, 'id' | 'role' | 'participantId' | 'personId' | 'token'> =
          server
            ? await callServer<KeyJson & { token: string }>(server, 'POST', '/v1/keys', input)
            : await context.withPlatform((platform) =>
                platform.services.keys.create(systemCaller('cli'), input),
              );
        printResult(
          context.io,
          {
            id: created.id,
            role: created.role,
            participantId: created.participantId,
            personId: created.personId,
            token: created.token,
          },
          options.json ?? false,
        );
        if (!options.json) context.io.stderr('Store the token now: it is not shown again.');
      },
    );

  keys
    .command('list')
    .description('list API keys (every page)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const server = await context.runningServer();
      const list: (ApiKeyView | KeyJson)[] = server
        ? await everyServerItem<KeyJson>(server, '/v1/keys')
        : await context.withPlatform(async (platform) => {
            const { everyItem } = await import('../../db');
            const all: ApiKeyView[] = [];
            for await (const key of everyItem((page) =>
              platform.services.keys.list(systemCaller('cli'), page),
            ))
              all.push(key);
            return all;
          });
      printTable(
        context.io,
        list,
        [
          { header: 'id', value: (k) => k.id },
          { header: 'role', value: (k) => k.role },
          { header: 'participant', value: (k) => k.participantId },
          { header: 'state', value: (k) => (k.revokedAt ? 'revoked' : 'active') },
          { header: 'name', value: (k) => k.name },
        ],
        { json: options.json ?? false, empty: 'no API keys' },
      );
    });

  keys
    .command('revoke <id>')
    .description('revoke an API key')
    .option('--json', 'print JSON')
    .action(async (id: string, options: { json?: boolean }) => {
      const server = await context.runningServer();
      if (server) await callServer(server, 'DELETE', `/v1/keys/${encodeURIComponent(id)}`);
      else
        await context.withPlatform((platform) =>
          platform.services.keys.revoke(systemCaller('cli'), id),
        );
      printResult(context.io, { revoked: id }, options.json ?? false);
    });
}

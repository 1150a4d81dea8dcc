import type { Command } from 'commander';
import { AppError } from '../../kernel';
import { verifyAuditChain } from '../../audit';
import { printResult } from '../io';
import type { CliContext } from '../program';
import { callServer } from '../server';

export function registerAuditCommands(program: Command, context: CliContext): void {
  const audit = program.command('audit').description('the tamper-evident audit log');
  audit
    .command('verify')
    .description('recompute the hash chain; exits 2 and names the first broken event if any')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      // While a server holds the embedded database, the server recomputes the chain.
      const server = await context.runningServer();
      const result = server
        ? await callServer<Awaited<ReturnType<typeof verifyAuditChain>>>(
            server,
            'GET',
            '/v1/audit/verify',
          )
        : await context.withPlatform((platform) =>
            verifyAuditChain(platform.db.orm, (checked) => {
              if (!options.json && checked > 0 && checked % 10_000 === 0)
                context.io.stderr(`checked ${checked} events…`);
            }),
          );
      if (result.ok) {
        printResult(
          context.io,
          { ok: true, events: result.events, headHash: result.headHash },
          options.json ?? false,
        );
        return;
      }
      if (options.json) printResult(context.io, result, true);
      const where = result.brokenEvent
        ? `event ${result.brokenEvent.id} (seq ${result.brokenEvent.seq})`
        : 'the chain head';
      throw new AppError('AUDIT_CHAIN_BROKEN', `audit chain broken at ${where}: ${result.reason}`);
    });
}

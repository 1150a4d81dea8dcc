import type { Command } from 'commander';
import { openDatabase } from '../../db';
import path from 'node:path';
import { toJson } from '../io';
import type { CliContext } from '../program';

export function registerMigrateCommand(program: Command, context: CliContext): void {
  program
    .command('migrate')
    .description('apply the database migrations (also done at every start)')
    .option('--json', 'print JSON')
    .action(async (options: { json?: boolean }) => {
      const config = context.config();
      const db = await openDatabase({
        url: config.DATABASE_URL,
        dataDir: path.join(config.DATA_DIR, 'db'),
      });
      try {
        await db.migrate();
        if (options.json) context.io.stdout(toJson({ applied: true, database: db.kind }));
        else context.io.stdout(`migrations applied (${db.kind})`);
      } finally {
        await db.close();
      }
    });
}

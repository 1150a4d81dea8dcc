import type { Command } from 'commander';
import { openDatabase } from '../../db';
import path from 'node:path';
import type { CliContext } from '../program';

export function registerMigrateCommand(program: Command, context: CliContext): void {
  program
    .command('migrate')
    .description('apply the database migrations (also done at every start)')
    .action(async () => {
      const config = context.config();
      const db = await openDatabase({
        url: config.DATABASE_URL,
        dataDir: path.join(config.DATA_DIR, 'db'),
      });
      try {
        await db.migrate();
        context.io.stdout(`migrations applied (${db.kind})`);
      } finally {
        await db.close();
      }
    });
}

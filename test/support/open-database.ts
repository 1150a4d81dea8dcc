/**
 * A second process for the one-opener tests: opens the embedded database in the directory it is
 * given, says so on stdout, and closes it on SIGTERM or SIGINT (SIGKILL leaves its lock stale).
 * The signal handlers are installed before anything else, so a signal that arrives early (a busy
 * machine) is never met by Node's default action, which would leave the lock behind.
 */
import { openDatabase, type Database } from '../../src/db';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: open-database.ts DATA_DIR');
let opened: Promise<Database> | null = null;
const stop = () => {
  void (opened ?? Promise.resolve(null)).then((db) => db?.close()).finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
opened = openDatabase({ dataDir });
await opened;
process.stdout.write(`open ${process.pid}\n`);
setInterval(() => undefined, 60_000);

/**
 * A second process for the one-opener tests: opens the embedded database in the directory it is
 * given, says so on stdout, and closes it on SIGTERM or SIGINT (SIGKILL leaves its lock stale).
 */
import { openDatabase } from '../../src/db';

const dataDir = process.argv[2];
if (!dataDir) throw new Error('usage: open-database.ts DATA_DIR');
const db = await openDatabase({ dataDir });
process.stdout.write(`open ${process.pid}\n`);
const stop = () => {
  void db.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
setInterval(() => undefined, 60_000);

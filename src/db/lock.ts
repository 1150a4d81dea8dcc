import { randomBytes } from 'node:crypto';
import {
  linkSync,
  mkdirSync,
  openSync,
  closeSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { AppError } from '../kernel';

/**
 * One opener per embedded database. PGlite keeps its own copy of the data directory in memory
 * and writes it back as it goes, so two processes on one directory silently lose each other's
 * writes. The first opener takes `<dataDir>.lock`; any other process is refused with a line
 * naming the holder. PostgreSQL (DATABASE_URL) arbitrates its own clients and needs no lock.
 */

/** What the lock file says about its holder. */
export interface LockHolder {
  pid: number;
  host: string;
  /** The command that holds the database (`serve`, `keys create`, …). */
  command: string;
  startedAt: string;
  /** A server's address, once it listens. */
  url?: string;
  /** Tells this holder's file from a later one with the same pid (pid reuse). */
  nonce: string;
}

export interface DataDirLock {
  readonly path: string;
  /** Records the server's address in the lock file, so that a refused opener can name it. */
  annotate(fields: { url: string }): void;
  /** Releases this hold; the file goes when the process's last hold on it is released. */
  release(): void;
}

interface Held {
  holder: LockHolder;
  count: number;
}

/**
 * The holds of this process, by lock path. The lock belongs to the process (the file names its
 * pid), so one command may open the same directory several times (the server probes, seeds and
 * then serves) without refusing itself; this map is that process-wide state and nothing else.
 */
const held = new Map<string, Held>();
let exitHookInstalled = false;

export function lockPathFor(dataDir: string): string {
  return `${path.resolve(dataDir)}.lock`;
}

/**
 * Takes the exclusive lock on an embedded data directory, or throws CONFLICT with one line that
 * names the holder and what to do. A lock whose holder died (kill -9, a crash, a reboot) is
 * taken over.
 */
export function acquireDataDirLock(
  dataDir: string,
  options: { command?: string } = {},
): DataDirLock {
  const lockPath = lockPathFor(dataDir);
  const own = held.get(lockPath);
  if (own) {
    own.count += 1;
    return handle(lockPath);
  }
  mkdirSync(path.dirname(lockPath), { recursive: true });
  const holder: LockHolder = {
    pid: process.pid,
    host: hostname(),
    command: options.command ?? commandLine(),
    startedAt: new Date().toISOString(),
    nonce: randomBytes(8).toString('hex'),
  };
  for (let attempt = 0; attempt < 5; attempt += 1) {
    if (createExclusive(lockPath, holder)) {
      held.set(lockPath, { holder, count: 1 });
      installExitHook();
      return handle(lockPath);
    }
    const current = readHolder(lockPath);
    if (current === 'missing') continue;
    if (current !== 'unreadable' && isAlive(current)) throw inUse(dataDir, current);
    if (current === 'unreadable' && ageMs(lockPath) < 5_000) throw inUse(dataDir, null);
    takeOver(lockPath, current);
  }
  throw inUse(dataDir, null);
}

/** The live holder of a data directory's lock other than this process, or null. */
export function lockHolderOf(dataDir: string): LockHolder | null {
  const lockPath = lockPathFor(dataDir);
  if (held.has(lockPath)) return null;
  const current = readHolder(lockPath);
  if (current === 'missing' || current === 'unreadable') return null;
  return isAlive(current) ? current : null;
}

function handle(lockPath: string): DataDirLock {
  let released = false;
  return {
    path: lockPath,
    annotate(fields) {
      const own = held.get(lockPath);
      if (!own || released) return;
      own.holder = { ...own.holder, ...fields };
      // Written beside and renamed over the lock: a reader sees the old or the new file whole.
      const next = `${lockPath}.${own.holder.nonce}`;
      writeFileSync(next, JSON.stringify(own.holder), { mode: 0o644 });
      renameSync(next, lockPath);
    },
    release() {
      if (released) return;
      released = true;
      const own = held.get(lockPath);
      if (!own) return;
      own.count -= 1;
      if (own.count > 0) return;
      held.delete(lockPath);
      removeIfOurs(lockPath, own.holder);
    },
  };
}

/**
 * Creates the lock file with its content in one step: the content is written to a file of our
 * own and hard-linked to the lock path, which fails if the path exists (as O_EXCL does), so a
 * reader never sees a half-written lock.
 */
function createExclusive(lockPath: string, holder: LockHolder): boolean {
  const mine = `${lockPath}.${holder.nonce}`;
  writeFileSync(mine, JSON.stringify(holder), { mode: 0o644 });
  try {
    linkSync(mine, lockPath);
    return true;
  } catch (error) {
    if (errno(error) === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(mine);
  }
}

/**
 * Removes a dead holder's lock. Two openers may find the same stale lock at once; the one that
 * creates `<lock>.takeover` (O_EXCL) removes it, after checking it is still the same dead
 * holder's, and the other tries again. A guard left by an opener that died within those few
 * statements is removed once it is older than 10 s.
 */
function takeOver(lockPath: string, stale: LockHolder | 'unreadable'): void {
  const guard = `${lockPath}.takeover`;
  let fd: number;
  try {
    fd = openSync(guard, 'wx', 0o644);
  } catch (error) {
    if (errno(error) !== 'EEXIST') throw error;
    if (ageMs(guard) > 10_000) unlinkQuietly(guard);
    return;
  }
  try {
    const now = readHolder(lockPath);
    const same =
      now === 'unreadable'
        ? stale === 'unreadable'
        : now !== 'missing' && stale !== 'unreadable' && now.nonce === stale.nonce;
    if (same) unlinkQuietly(lockPath);
  } finally {
    closeSync(fd);
    unlinkQuietly(guard);
  }
}

function removeIfOurs(lockPath: string, holder: LockHolder): void {
  const current = readHolder(lockPath);
  if (current !== 'missing' && current !== 'unreadable' && current.nonce === holder.nonce)
    unlinkQuietly(lockPath);
}

function readHolder(lockPath: string): LockHolder | 'missing' | 'unreadable' {
  let text: string;
  try {
    text = readFileSync(lockPath, 'utf8');
  } catch (error) {
    if (errno(error) === 'ENOENT') return 'missing';
    throw error;
  }
  try {
    const value = JSON.parse(text) as Partial<LockHolder>;
    if (
      typeof value.pid === 'number' &&
      Number.isInteger(value.pid) &&
      value.pid > 0 &&
      typeof value.host === 'string' &&
      typeof value.nonce === 'string'
    ) {
      return {
        pid: value.pid,
        host: value.host,
        command: typeof value.command === 'string' ? value.command : 'tradeclear',
        startedAt: typeof value.startedAt === 'string' ? value.startedAt : '',
        nonce: value.nonce,
        ...(typeof value.url === 'string' ? { url: value.url } : {}),
      };
    }
  } catch {
    // fall through: not a lock we wrote
  }
  return 'unreadable';
}

/**
 * Whether the holder still runs. A lock from another host (a shared file system) cannot be
 * checked and counts as held. Our own pid without a hold in this process is a previous
 * incarnation's (a container restarts with the same pid), so it is stale.
 */
function isAlive(holder: LockHolder): boolean {
  if (holder.host !== hostname()) return true;
  if (holder.pid === process.pid) return false;
  try {
    process.kill(holder.pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to another user.
    return errno(error) === 'EPERM';
  }
}

function inUse(dataDir: string, holder: LockHolder | null): AppError {
  const where = `the embedded database in ${dataDir}`;
  if (!holder)
    return new AppError(
      'CONFLICT',
      `${where} is being opened by another process; try again in a moment`,
    );
  const pid = `pid ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}`;
  const starting = holder.command === 'serve' && !holder.url;
  const who = holder.url
    ? `the Tradeclear server at ${holder.url} (${pid})`
    : starting
      ? `the Tradeclear server, still starting (${pid})`
      : `\`tradeclear ${holder.command}\` (${pid})`;
  const what = holder.url
    ? 'use its API, or stop it (Ctrl-C in its terminal) and run this again'
    : starting
      ? 'run this again once it serves, or stop it'
      : 'wait for it to finish or stop it, then run this again';
  return new AppError('CONFLICT', `${where} is in use by ${who}: ${what}`, {
    details: { pid: holder.pid, ...(holder.url ? { url: holder.url } : {}) },
  });
}

/** The command line after `tradeclear`, for the refusal message of another opener. */
function commandLine(): string {
  const args = process.argv.slice(2).filter((arg) => !arg.startsWith('-'));
  return args.slice(0, 2).join(' ') || 'tradeclear';
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // A process that exits without closing its database (process.exit, an uncaught error) still
  // leaves no lock behind; a killed one leaves a stale lock the next opener takes over.
  process.on('exit', () => {
    for (const [lockPath, own] of held) removeIfOurs(lockPath, own.holder);
    held.clear();
  });
}

function ageMs(file: string): number {
  try {
    return Date.now() - statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch (error) {
    if (errno(error) !== 'ENOENT') throw error;
  }
}

function errno(error: unknown): string | undefined {
  return error instanceof Error && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined;
}

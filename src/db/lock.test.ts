import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAppError } from '../kernel';
import { acquireDataDirLock, lockHolderOf, lockPathFor, openDatabase } from '.';

/**
 * One opener per embedded database: a real second process opens the directory, and this one is
 * refused with a line naming it; a holder killed with SIGKILL leaves a lock the next opener
 * takes over; a holder stopped with SIGTERM or SIGINT leaves none.
 */
const OPENER = path.resolve(import.meta.dirname, '../../test/support/open-database.ts');

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function scratchDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tradeclear-lock-'));
  dirs.push(dir);
  return path.join(dir, 'db');
}

/** Starts a process that opens `dataDir` and resolves once it says it has. */
async function openInChild(dataDir: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', OPENER, dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().startsWith('open ')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`opener exited with ${code}: ${stderr}`)));
  });
  return child;
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function refusal(dataDir: string): Promise<Error> {
  const error = await openDatabase({ dataDir }).then(
    async (db) => {
      await db.close();
      throw new Error('the second opener was not refused');
    },
    (cause: unknown) => cause,
  );
  if (!(error instanceof Error)) throw new Error('not an error');
  return error;
}

/** A pid that no process has: one that just exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

describe('one opener per embedded database', () => {
  it('refuses a second process with one line naming the holder, until it stops (SIGTERM, SIGINT)', async () => {
    const dataDir = scratchDir();
    const child = await openInChild(dataDir);
    expect(lockHolderOf(dataDir)?.pid).toBe(child.pid);
    const error = await refusal(dataDir);
    expect(isAppError(error) && error.code).toBe('CONFLICT');
    expect(error.message).toContain(`the embedded database in ${dataDir} is in use by`);
    expect(error.message).toContain(`(pid ${child.pid})`);
    expect(error.message).toMatch(/wait for it to finish or stop it/);
    expect(error.message).not.toContain('\n');

    child.kill('SIGTERM');
    expect(await exited(child)).toBe(0);
    expect(existsSync(lockPathFor(dataDir))).toBe(false);
    const db = await openDatabase({ dataDir });
    expect(JSON.parse(readFileSync(lockPathFor(dataDir), 'utf8'))).toMatchObject({
      pid: process.pid,
    });
    await db.close();
    expect(existsSync(lockPathFor(dataDir))).toBe(false);

    const second = await openInChild(dataDir);
    second.kill('SIGINT');
    expect(await exited(second)).toBe(0);
    expect(existsSync(lockPathFor(dataDir))).toBe(false);
  }, 300_000);

  it('takes over the lock of a holder killed with SIGKILL', async () => {
    const dataDir = scratchDir();
    const child = await openInChild(dataDir);
    child.kill('SIGKILL');
    await exited(child);
    expect(JSON.parse(readFileSync(lockPathFor(dataDir), 'utf8'))).toMatchObject({
      pid: child.pid,
    });
    expect(lockHolderOf(dataDir)).toBeNull();
    const db = await openDatabase({ dataDir });
    expect(await db.ready()).toMatchObject({ reachable: true });
    await db.close();
    expect(existsSync(lockPathFor(dataDir))).toBe(false);
  }, 300_000);

  it('takes over a dead pid, refuses a live one, and is re-entrant within one process', () => {
    const dataDir = scratchDir();
    const lockPath = lockPathFor(dataDir);
    const write = (pid: number, host = hostname()) =>
      writeFileSync(lockPath, JSON.stringify({ pid, host, command: 'keys create', nonce: 'x' }));

    acquireDataDirLock(dataDir).release(); // creates the parent directory
    write(deadPid());
    const taken = acquireDataDirLock(dataDir);
    const again = acquireDataDirLock(dataDir);
    taken.release();
    expect(existsSync(lockPath)).toBe(true); // still held once
    again.release();
    expect(existsSync(lockPath)).toBe(false);

    // Our own pid in a lock this process does not hold: a previous incarnation's (pid reuse).
    write(process.pid);
    acquireDataDirLock(dataDir).release();
    expect(existsSync(lockPath)).toBe(false);

    // A live process (the parent of this one), and a holder on another host: held.
    write(process.ppid);
    expect(() => acquireDataDirLock(dataDir)).toThrow(
      `is in use by \`tradeclear keys create\` (pid ${process.ppid})`,
    );
    write(deadPid(), 'elsewhere.example');
    expect(() => acquireDataDirLock(dataDir)).toThrow('on elsewhere.example');
    // A file that is not a lock, fresh: being written by someone; refused, never removed.
    writeFileSync(lockPath, '');
    expect(() => acquireDataDirLock(dataDir)).toThrow('is being opened by another process');
    expect(existsSync(lockPath)).toBe(true);
  });
});

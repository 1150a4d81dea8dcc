import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../support/net';

/**
 * The README's newcomer path with real processes: `npm start`, then in another terminal
 * `npx tradeclear keys create --role supervisor`, then the key on `/v1/me`. The server holds the
 * embedded database, so the CLI goes through the server's API as the local operator: the key is
 * known to the server at once, its audit event is in the chain, and both survive a stop.
 * (`--no-demo` and no simnet blocks keep it short; the path is otherwise the README's.)
 */
const ROOT = path.resolve(import.meta.dirname, '../..');
const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-newcomer-'));
let server: ChildProcess | undefined;

afterAll(() => {
  // The server runs in its own process group (npm, tsx, node); end that group only.
  if (server?.pid && groupAlive(server.pid)) process.kill(-server.pid, 'SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const env = (port: number) => ({
  ...process.env,
  DATA_DIR: dataDir,
  PORT: String(port),
  SIMNET_BLOCK_INTERVAL_SECONDS: '0',
  LOG_LEVEL: 'warn',
  NODE_ENV: 'development',
});

/** Runs `npx tradeclear …` in the repository, as a newcomer's second terminal does. */
async function npx(port: number, ...args: string[]) {
  const child = spawn('npx', ['tradeclear', ...args], {
    cwd: ROOT,
    env: env(port),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { code, stdout, stderr };
}

describe('the README newcomer path', () => {
  it('start, create the first key in another terminal, use it; audited; kept after a stop', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    server = spawn('npm', ['start', '--', '--no-demo'], {
      cwd: ROOT,
      env: env(port),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let log = '';
    server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()));
    await new Promise<void>((resolve, reject) => {
      server?.stdout?.on('data', (chunk: Buffer) => {
        log += chunk.toString();
        if (log.includes('Tradeclear is serving')) resolve();
      });
      server?.once('exit', (code) => reject(new Error(`npm start exited with ${code}: ${log}`)));
    });

    // The web app at `/`, built by `npm start` when missing or stale: no other step.
    const home = await fetch(`${url}/`);
    expect(home.status).toBe(200);
    const page = await home.text();
    expect(page).toContain('<div id="root">');
    expect(page).toMatch(/<script type="module"[^>]*src="\/assets\/index-[\w-]+\.js"/);

    const created = await npx(port, 'keys', 'create', '--role', 'supervisor');
    expect(created.stderr).toBe('Store the token now: it is not shown again.\n');
    expect(created.code).toBe(0);
    const token = /^token\s+(tck_\S+)$/m.exec(created.stdout)?.[1];
    expect(token).toBeDefined();

    // curl -H "Authorization: Bearer tck_…" http://127.0.0.1:8080/v1/me
    const me = await fetch(`${url}/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ role: 'supervisor', participantId: 'scheme' });

    // The operator token lives beside the database, readable by its owner only.
    const serverFile = path.join(dataDir, 'server.json');
    expect(statSync(serverFile).mode & 0o777).toBe(0o600);

    // The key's audit event was written by the server, as the local operator, and is chained.
    const events = await fetch(`${url}/v1/audit?action=apiKey.created`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const { items: audited } = (await events.json()) as {
      items: { actor: string; hash: string }[];
    };
    expect(audited.map((e) => e.actor)).toEqual(['operator:cli']);
    const verified = await npx(port, 'audit', 'verify', '--json');
    expect(verified.code).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      ok: true,
      events: 1,
      headHash: audited[0]?.hash,
    });

    // The README's demo screening search goes through the server too.
    const screened = await npx(port, 'screen', 'name', 'Nobody In Particular', '--json');
    expect(screened.code).toBe(0);
    expect(JSON.parse(screened.stdout)).toMatchObject({ outcome: 'clear', listSnapshotIds: [] });

    // A command that would open the database itself is refused with one line naming the server.
    const migrate = await npx(port, 'migrate');
    expect(migrate.code).toBe(1);
    expect(migrate.stderr.trim().split('\n')).toHaveLength(1);
    expect(migrate.stderr).toContain(`in use by the Tradeclear server at ${url}`);

    // Ctrl-C in the server's terminal: the lock and the operator file go with it.
    const group = server.pid!;
    process.kill(-group, 'SIGINT');
    // npm may exit before the server it started has closed its database: wait for them all.
    while (groupAlive(group)) await new Promise((resolve) => setTimeout(resolve, 200));
    expect(existsSync(path.join(dataDir, 'db.lock'))).toBe(false);
    expect(existsSync(serverFile)).toBe(false);

    // The key and its event are in the database, not lost with the server's memory.
    const listed = await npx(port, 'keys', 'list', '--json');
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout)).toHaveLength(1);
    const offline = await npx(port, 'audit', 'verify', '--json');
    expect(JSON.parse(offline.stdout)).toMatchObject({ ok: true, events: 1 });
  }, 600_000);
});

import { readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AppError, isErrorCode, type Config } from '../kernel';

/**
 * The running server, as the CLI finds it. A server on the embedded database holds its lock, so
 * a CLI command cannot open the database beside it (PGlite would lose one side's writes); the
 * server writes `DATA_DIR/server.json` (mode 0600: its pid, a loopback URL and the local
 * operator token, see src/http/operator.ts) and commands that must work while it serves
 * (`keys create`, `keys list`, `keys revoke`, `audit verify`) go through its API with that token.
 */
export interface RunningServer {
  pid: number;
  /** Where this machine reaches the server (loopback). */
  url: string;
  token: string;
}

export function serverFilePath(dataDir: string): string {
  return path.join(dataDir, 'server.json');
}

export function writeServerFile(dataDir: string, server: RunningServer): void {
  const file = serverFilePath(dataDir);
  const next = `${file}.${server.pid}`;
  // Created 0600 (only its owner reads the token), then renamed into place whole.
  writeFileSync(next, JSON.stringify(server), { mode: 0o600 });
  renameSync(next, file);
}

/** Removes the server file if it is this server's (not a later server's). */
export function removeServerFile(dataDir: string, pid: number): void {
  const current = readServerFile(dataDir);
  if (current?.pid !== pid) return;
  try {
    unlinkSync(serverFilePath(dataDir));
  } catch {
    // already gone
  }
}

function readServerFile(dataDir: string): RunningServer | null {
  try {
    const value = JSON.parse(
      readFileSync(serverFilePath(dataDir), 'utf8'),
    ) as Partial<RunningServer>;
    if (
      typeof value.pid === 'number' &&
      typeof value.url === 'string' &&
      typeof value.token === 'string'
    )
      return { pid: value.pid, url: value.url, token: value.token };
  } catch {
    // absent or unreadable: no server to talk to
  }
  return null;
}

/**
 * The server serving this DATA_DIR's embedded database, or null: none runs (the command opens
 * the database itself), or the process holding the database is not a server that answers its
 * operator (then opening the database refuses with a line naming the holder).
 */
export async function runningServer(config: Config): Promise<RunningServer | null> {
  if (config.DATABASE_URL) return null;
  // Loaded here, not at the top: a command that only forwards loads no database driver.
  const { lockHolderOf } = await import('../db');
  const holder = lockHolderOf(path.join(config.DATA_DIR, 'db'));
  if (!holder) return null;
  const server = readServerFile(config.DATA_DIR);
  return server?.pid === holder.pid ? server : null;
}

/** Every item of a paged list of the running server (`{ items, nextCursor }`), page after page. */
export async function everyServerItem<T>(server: RunningServer, route: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const query = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page: { items: T[]; nextCursor: string | null } = await callServer(
      server,
      'GET',
      `${route}${route.includes('?') ? '&' : '?'}${query}`,
    );
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

/** One request to the running server as the local operator; its refusals become AppErrors. */
export async function callServer<T>(
  server: RunningServer,
  method: 'GET' | 'POST' | 'DELETE',
  route: string,
  body?: Record<string, unknown>,
): Promise<T> {
  let response: Response;
  try {
    response = await fetch(`${server.url}${route}`, {
      method,
      headers: {
        authorization: `Bearer ${server.token}`,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
  } catch (cause) {
    throw new AppError(
      'NOT_READY',
      `the Tradeclear server (pid ${server.pid}) holds the database but does not answer at ${server.url}; stop it and run this again`,
      { cause },
    );
  }
  const text = await response.text();
  let payload: unknown = null;
  try {
    payload = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported by status below
  }
  if (response.ok) return payload as T;
  const { code, message } = (payload ?? {}) as { code?: unknown; message?: unknown };
  throw new AppError(
    typeof code === 'string' && isErrorCode(code) ? code : 'INTERNAL',
    typeof message === 'string' ? message : `the server answered ${response.status}`,
  );
}

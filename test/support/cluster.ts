import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as bitcoinjs from 'bitcoinjs-lib';

/**
 * Separate processes of the built CLI on one PostgreSQL database: `tradeclear simnet` serving a
 * Bitcoin Core JSON-RPC, servers with CHAIN=bitcoind following it, a proxy in front of the RPC
 * that counts what the servers broadcast, and a webhook receiver that records each delivery.
 * Used by test/e2e/three-servers.test.ts and bench/two-servers.bench.ts.
 */

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/cli/main.js');

/** Builds dist/ (server and web app) when a source is newer than it. */
export function buildIfStale(): void {
  execFileSync(process.execPath, ['scripts/build.mjs', '--if-stale'], {
    cwd: ROOT,
    stdio: 'ignore',
  });
}

export interface CliProcess {
  readonly child: ChildProcess;
  /** The first capture of `ready` in the process's output. */
  readonly url: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  output(): string;
}

/** Starts `tradeclear <args>` from dist/ and waits for a line matching `ready` (its group 1). */
export function startCli(
  args: readonly string[],
  env: Record<string, string>,
  ready: RegExp,
  timeoutMs = 60_000,
): Promise<CliProcess> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => resolve(code)),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tradeclear ${args[0]} did not start in time:\n${text}`));
    }, timeoutMs);
    const read = (chunk: Buffer) => {
      text = (text + chunk.toString()).slice(-20_000);
      const match = ready.exec(text);
      if (match) {
        clearTimeout(timer);
        resolve({ child, url: match[1]!, exited, output: () => text });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`tradeclear ${args[0]} exited with ${code}:\n${text}`));
    });
  });
}

/** Runs `tradeclear <args>` to its end. */
export function runCli(
  args: readonly string[],
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => void (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

/** A server of the cluster: `tradeclear serve` with its own data directory. */
export class ServerProcess {
  #process: CliProcess | null = null;
  readonly dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-server-'));
  starts = 0;

  constructor(
    readonly name: string,
    readonly env: Record<string, string>,
  ) {}

  get url(): string | null {
    return this.#process?.url ?? null;
  }

  async start(): Promise<void> {
    this.#process = await startCli(
      ['serve', '--port', '0', '--host', '127.0.0.1'],
      { ...this.env, DATA_DIR: this.dataDir },
      /serving .* on (http:\/\/\S+)/,
      90_000,
    );
    this.starts++;
  }

  /** SIGKILL: no drain, no goodbye (a crash or a pulled plug). */
  async kill(): Promise<void> {
    const running = this.#process;
    this.#process = null;
    if (!running) return;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /** SIGTERM: the server drains its job runs, then exits. */
  async stop(): Promise<number | null> {
    const running = this.#process;
    this.#process = null;
    if (!running) return 0;
    running.child.kill('SIGTERM');
    return running.exited;
  }

  cleanup(): void {
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The JSON-RPC proxy: forwards every call, and counts `sendrawtransaction` per txid. */
export interface RpcProxy {
  /** The proxy's URL with the RPC's credentials, for BITCOIND_URL. */
  readonly url: string;
  /** How many times each txid was sent (by anyone through the proxy). */
  readonly sent: Map<string, number>;
  close(): Promise<void>;
}

function body(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

export async function startRpcProxy(rpcUrl: string): Promise<RpcProxy> {
  const target = new URL(rpcUrl);
  const sent = new Map<string, number>();
  const count = (call: { method?: unknown; params?: unknown }) => {
    if (call.method !== 'sendrawtransaction' || !Array.isArray(call.params)) return;
    const hex: unknown = call.params[0];
    if (typeof hex !== 'string') return;
    const txid = bitcoinjs.Transaction.fromHex(hex).getId();
    sent.set(txid, (sent.get(txid) ?? 0) + 1);
  };
  const server = createServer((request, response) => {
    void (async () => {
      const raw = await body(request);
      try {
        const parsed = JSON.parse(raw.toString()) as unknown;
        for (const call of Array.isArray(parsed) ? parsed : [parsed])
          count(call as { method?: unknown; params?: unknown });
      } catch {
        // Not JSON: forwarded as it is, the RPC answers the error.
      }
      const answer = await fetch(new URL(target.pathname, target.origin), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          authorization: request.headers.authorization ?? '',
        },
        body: raw,
      });
      response.writeHead(answer.status, { 'content-type': 'application/json' });
      response.end(Buffer.from(await answer.arrayBuffer()));
    })().catch(() => {
      response.writeHead(502);
      response.end();
    });
  });
  const port = await listen(server);
  const url = new URL(rpcUrl);
  url.host = `127.0.0.1:${port}`;
  return { url: url.toString(), sent, close: () => closeServer(server) };
}

/** A webhook endpoint that records every POST it receives, by delivery id. */
export interface WebhookReceiver {
  readonly url: string;
  /** Delivery id → how many times it arrived. */
  readonly received: Map<string, number>;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received = new Map<string, number>();
  const server = createServer((request, response) => {
    void body(request).then(() => {
      const id = request.headers['x-tradeclear-delivery'];
      if (typeof id === 'string') received.set(id, (received.get(id) ?? 0) + 1);
      response.writeHead(204);
      response.end();
    });
  });
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    close: () => closeServer(server),
  };
}

/** A Bitcoin Core JSON-RPC call (credentials in the URL). */
export async function rpc<T>(url: string, method: string, params: unknown[] = []): Promise<T> {
  const target = new URL(url);
  const auth = Buffer.from(
    `${decodeURIComponent(target.username)}:${decodeURIComponent(target.password)}`,
  ).toString('base64');
  const answer = await fetch(new URL(target.pathname, target.origin), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Basic ${auth}` },
    body: JSON.stringify({ jsonrpc: '1.0', id: 1, method, params }),
  });
  const json = (await answer.json()) as { result: T; error: { message: string } | null };
  if (json.error) throw new Error(`${method}: ${json.error.message}`);
  return json.result;
}

/** A small deterministic generator (mulberry32) for the kill schedule, seeded and logged. */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

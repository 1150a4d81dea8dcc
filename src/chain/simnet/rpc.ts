import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { AppError, isAppError } from '../../kernel';
import type { Simnet } from './simnet';
import {
  RPC_ERRORS,
  RpcError,
  serialize,
  type Json,
  type Params,
  type RpcMethod,
} from './rpc-json';
import { BLOCKCHAIN_METHODS } from './rpc-blockchain';
import { MEMPOOL_METHODS } from './rpc-mempool';
import { MINING_METHODS } from './rpc-mining';

/**
 * A Bitcoin Core JSON-RPC server over simnet: Bitcoin Core's method names, parameters (positional
 * or named), result fields and error codes (rpc/protocol.h), so that the bitcoind adapter and any
 * Bitcoin Core client can talk to it. JSON-RPC 1.0 (errors with HTTP 500/404) and 2.0 (HTTP 200),
 * batches, HTTP basic auth (401 otherwise).
 */

export { RPC_ERRORS } from './rpc-json';

// ------------------------------------------------------------------ dispatch

/** Every method, by Bitcoin Core's name; each family lives in its own file. */
const METHODS: Record<string, RpcMethod> = {
  ...BLOCKCHAIN_METHODS,
  ...MEMPOOL_METHODS,
  ...MINING_METHODS,
};

// ------------------------------------------------------------------ transport

interface RpcRequest {
  readonly jsonrpc?: unknown;
  readonly id?: unknown;
  readonly method?: unknown;
  readonly params?: unknown;
}

interface Reply {
  readonly body: Json | undefined;
  /** HTTP status for a single JSON-RPC 1.0 request (Bitcoin Core: 500 on error, 404 unknown method). */
  readonly status: number;
}

function toParams(method: RpcMethod, params: unknown): Params {
  if (params === undefined || params === null) return [];
  if (Array.isArray(params)) return params as unknown[];
  if (typeof params === 'object') {
    const names = method.params;
    const named = params as Record<string, unknown>;
    for (const key of Object.keys(named)) {
      if (!names.includes(key))
        throw new RpcError(RPC_ERRORS.MISC, `Unknown named parameter ${key}`);
    }
    return names.map((name) => named[name]);
  }
  throw new RpcError(RPC_ERRORS.INVALID_REQUEST, 'Params must be an array or object');
}

function errorJson(error: unknown): { code: number; message: string } {
  if (error instanceof RpcError) return { code: error.code, message: error.message };
  if (isAppError(error)) return { code: RPC_ERRORS.MISC, message: error.message };
  return { code: RPC_ERRORS.MISC, message: 'internal error' };
}

async function handleOne(simnet: Simnet, request: unknown): Promise<Reply> {
  if (typeof request !== 'object' || request === null || Array.isArray(request)) {
    return {
      body: {
        result: null,
        error: { code: RPC_ERRORS.INVALID_REQUEST, message: 'Invalid Request object' },
        id: null,
      },
      status: 400,
    };
  }
  const { jsonrpc, id, method, params } = request as RpcRequest;
  const v2 = jsonrpc === '2.0';
  const idJson = (id ?? null) as Json;
  const wrap = (
    result: Json,
    error: { code: number; message: string } | null,
    status: number,
  ): Reply => {
    // JSON-RPC 2.0 notifications (no id) get no reply.
    if (v2 && id === undefined) return { body: undefined, status: 204 };
    if (v2)
      return {
        body: error
          ? { jsonrpc: '2.0', error, id: idJson }
          : { jsonrpc: '2.0', result, id: idJson },
        status: 200,
      };
    return { body: { result, error, id: idJson }, status };
  };
  if (typeof method !== 'string') {
    return wrap(
      null,
      { code: RPC_ERRORS.INVALID_REQUEST, message: 'Method must be a string' },
      400,
    );
  }
  const handler = Object.hasOwn(METHODS, method) ? METHODS[method] : undefined;
  if (!handler)
    return wrap(null, { code: RPC_ERRORS.METHOD_NOT_FOUND, message: 'Method not found' }, 404);
  try {
    const result = await handler.run(simnet, toParams(handler, params));
    return wrap(result, null, 200);
  } catch (error) {
    return wrap(null, errorJson(error), 500);
  }
}

export interface SimnetRpcServerOptions {
  readonly simnet: Simnet;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host?: string;
  readonly username: string;
  readonly password: string;
}

export interface SimnetRpcServer {
  readonly url: string;
  close(): Promise<void>;
}

function authorized(request: IncomingMessage, expected: Buffer): boolean {
  const header = request.headers.authorization ?? '';
  if (!header.startsWith('Basic ')) return false;
  const given = Buffer.from(header.slice(6).trim(), 'base64');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > 32 * 1024 * 1024)
      throw new RpcError(RPC_ERRORS.INVALID_REQUEST, 'request too large');
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(response: ServerResponse, status: number, body: Json | undefined): void {
  if (body === undefined) {
    response.writeHead(status).end();
    return;
  }
  const text = `${serialize(body)}\n`;
  response.writeHead(status, { 'content-type': 'application/json' }).end(text);
}

/** Answers one HTTP request: basic auth, POST only, then one JSON-RPC request or a batch. */
async function handleHttp(
  simnet: Simnet,
  expected: Buffer,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  if (!authorized(request, expected)) {
    response.writeHead(401, { 'www-authenticate': 'Basic realm="jsonrpc"' }).end();
    return;
  }
  if (request.method !== 'POST') {
    response
      .writeHead(405, { 'content-type': 'text/plain' })
      .end('JSONRPC server handles only POST requests');
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readBody(request));
  } catch {
    send(response, 500, {
      result: null,
      error: { code: RPC_ERRORS.PARSE, message: 'Parse error' },
      id: null,
    });
    return;
  }
  if (Array.isArray(parsed)) {
    const replies = [];
    for (const item of parsed) replies.push(await handleOne(simnet, item));
    send(
      response,
      200,
      replies.flatMap((reply): Json[] => (reply.body === undefined ? [] : [reply.body])),
    );
    return;
  }
  const reply = await handleOne(simnet, parsed);
  send(response, reply.status, reply.body);
}

/** Starts the JSON-RPC server; resolves once it listens. */
export async function startSimnetRpcServer(
  options: SimnetRpcServerOptions,
): Promise<SimnetRpcServer> {
  if (!options.username || !options.password) {
    throw new AppError(
      'VALIDATION_FAILED',
      'username and password are required for the simnet RPC server',
    );
  }
  const expected = Buffer.from(`${options.username}:${options.password}`, 'utf8');
  const { simnet } = options;
  const server = createServer((request, response) => {
    handleHttp(simnet, expected, request, response).catch(() => {
      if (!response.headersSent) response.writeHead(500).end();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}/`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

import { z } from 'zod';
import { AppError, type ErrorCode } from '../../kernel';
import {
  backoffOf,
  networkReason,
  retryWithBackoff,
  RETRY,
  type Backoff,
  type BackoffOptions,
} from '../retry';

/**
 * A typed client for Bitcoin Core's JSON-RPC interface (HTTP POST, JSON-RPC 1.0 envelope as
 * bitcoin-cli sends it, basic auth with rpcuser/rpcpassword or the .cookie file's contents).
 *
 * Failures become AppErrors:
 * - the node cannot be reached (refused, reset, DNS, timeout, HTTP 503 "work queue depth
 *   exceeded") → CHAIN_UNAVAILABLE, after retrying with exponential backoff;
 * - HTTP 401/403 (bad credentials, rpcallowip) → CHAIN_UNAVAILABLE at once, no retry;
 * - a JSON-RPC error object → the code the typed method maps it to (see rpcErrorCode), with
 *   Core's message kept verbatim in the message and `details.rpcCode` / `details.rpcMessage`.
 *   JSON-RPC errors are never retried: the node answered.
 */

/** Bitcoin Core's RPC error codes used here (src/rpc/protocol.h). */
export const RPC_ERROR = {
  MISC_ERROR: -1,
  TYPE_ERROR: -3,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  IN_WARMUP: -28,
  DESERIALIZATION_ERROR: -22,
  VERIFY_ERROR: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  METHOD_NOT_FOUND: -32601,
} as const;

/** `retries`: attempts after the first on connection failures (default 3). */
export interface BitcoindRpcOptions extends BackoffOptions {
  /** http://user:password@host:port/ (credentials in the URL are used for basic auth). */
  readonly url: string;
  readonly username?: string;
  readonly password?: string;
  /** Per-request timeout in ms (default 30000). */
  readonly timeoutMs?: number;
}

export interface RpcCall {
  readonly method: string;
  readonly params?: readonly unknown[];
}

export type RpcOutcome =
  | { readonly ok: true; readonly result: unknown }
  | { readonly ok: false; readonly rpcCode: number; readonly rpcMessage: string };

/** Maps a JSON-RPC error of one method to one of our codes. */
export type RpcErrorMapper = (rpcCode: number, rpcMessage: string) => ErrorCode;

const rpcErrorSchema = z.object({ code: z.number().int(), message: z.string() });
const responseSchema = z.object({
  result: z.unknown().optional(),
  error: rpcErrorSchema.nullable().optional(),
  id: z.union([z.string(), z.number(), z.null()]).optional(),
});

/** Codes for errors the node raised while answering a method we know nothing specific about. */
function defaultMapper(rpcCode: number): ErrorCode {
  if (rpcCode === RPC_ERROR.IN_WARMUP) return 'CHAIN_UNAVAILABLE';
  return 'INTERNAL';
}

class ConnectionFailure extends Error {
  override readonly name = 'ConnectionFailure';
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class BitcoindRpcClient {
  readonly #endpoint: string;
  /** host:port only, for messages: never the credentials. */
  readonly #where: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #backoff: Backoff;
  #nextId = 1;

  constructor(options: BitcoindRpcOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new AppError(
        'CONFIG_INVALID',
        'BITCOIND_URL must be a URL like http://user:password@127.0.0.1:8332/',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError(
        'CONFIG_INVALID',
        `BITCOIND_URL must use http or https, got "${url.protocol}"`,
      );
    }
    const username = options.username ?? decodeURIComponent(url.username);
    const password = options.password ?? decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    this.#endpoint = url.toString();
    this.#where = url.host;
    this.#authorization =
      username || password
        ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
        : undefined;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#backoff = backoffOf(options);
  }

  /**
   * Calls one method and checks its result against `schema`. JSON-RPC errors are mapped by
   * `mapError` (default: INTERNAL, or CHAIN_UNAVAILABLE while the node warms up).
   */
  async call<T>(
    method: string,
    params: readonly unknown[],
    schema: z.ZodType<T>,
    mapError: RpcErrorMapper = defaultMapper,
  ): Promise<T> {
    const id = this.#nextId++;
    const body = await this.#post({ jsonrpc: '1.0', id, method, params });
    const parsed = responseSchema.safeParse(body);
    if (!parsed.success || Array.isArray(body)) {
      throw new AppError(
        'CHAIN_UNAVAILABLE',
        `Bitcoin Core at ${this.#where} sent a malformed answer to ${method}`,
      );
    }
    const { error, result } = parsed.data;
    if (error) throw this.#rpcError(method, error.code, error.message, mapError);
    return this.#check(method, schema, result);
  }

  /**
   * Sends several calls in one HTTP request (JSON-RPC batch). Each call's outcome is reported
   * separately, in the order of `calls`; a JSON-RPC error in one does not fail the others.
   */
  async batch(calls: readonly RpcCall[]): Promise<RpcOutcome[]> {
    if (calls.length === 0) return [];
    const firstId = this.#nextId;
    this.#nextId += calls.length;
    const request = calls.map((c, i) => ({
      jsonrpc: '1.0',
      id: firstId + i,
      method: c.method,
      params: c.params ?? [],
    }));
    const body = await this.#post(request);
    const parsed = z.array(responseSchema).safeParse(body);
    if (!parsed.success) {
      throw new AppError(
        'CHAIN_UNAVAILABLE',
        `Bitcoin Core at ${this.#where} sent a malformed answer to a batch of ${calls.length} calls`,
      );
    }
    // Responses may come in any order (JSON-RPC 2.0 §6); match them by id.
    const byId = new Map(parsed.data.map((r) => [Number(r.id), r]));
    return calls.map((call, i): RpcOutcome => {
      const response = byId.get(firstId + i);
      if (!response) {
        return {
          ok: false,
          rpcCode: RPC_ERROR.MISC_ERROR,
          rpcMessage: `no answer to ${call.method} in the batch`,
        };
      }
      if (response.error)
        return { ok: false, rpcCode: response.error.code, rpcMessage: response.error.message };
      return { ok: true, result: response.result };
    });
  }

  /** Checks a batch outcome like call() does with its answer. */
  unwrap<T>(
    method: string,
    outcome: RpcOutcome,
    schema: z.ZodType<T>,
    mapError: RpcErrorMapper = defaultMapper,
  ): T {
    if (!outcome.ok) throw this.#rpcError(method, outcome.rpcCode, outcome.rpcMessage, mapError);
    return this.#check(method, schema, outcome.result);
  }

  #check<T>(method: string, schema: z.ZodType<T>, result: unknown): T {
    const checked = schema.safeParse(result);
    if (!checked.success) {
      throw new AppError(
        'CHAIN_UNAVAILABLE',
        `Bitcoin Core at ${this.#where} answered ${method} with an unexpected shape: ${checked.error.issues[0]?.message ?? 'invalid'}`,
      );
    }
    return checked.data;
  }

  #rpcError(
    method: string,
    rpcCode: number,
    rpcMessage: string,
    mapError: RpcErrorMapper,
  ): AppError {
    return new AppError(
      mapError(rpcCode, rpcMessage),
      `Bitcoin Core ${method}: ${rpcMessage} (RPC error ${rpcCode})`,
      {
        details: { method, rpcCode, rpcMessage },
      },
    );
  }

  async #post(payload: unknown): Promise<unknown> {
    const body = JSON.stringify(payload);
    return retryWithBackoff<unknown>(this.#backoff, async (attempt, canRetry) => {
      try {
        return await this.#postOnce(body);
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        if (error.retryable && canRetry) return RETRY;
        throw new AppError(
          'CHAIN_UNAVAILABLE',
          `cannot reach Bitcoin Core at ${this.#where}: ${error.message}${error.retryable ? ` (after ${attempt + 1} attempts)` : ''}`,
          { cause: error },
        );
      }
    });
  }

  async #postOnce(body: string): Promise<unknown> {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.#authorization) headers.authorization = this.#authorization;
    let response: Response;
    try {
      response = await fetch(this.#endpoint, {
        method: 'POST',
        headers,
        body,
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
    } catch (cause) {
      throw new ConnectionFailure(networkReason(cause, this.#timeoutMs), true, { cause });
    }
    let text: string;
    try {
      text = await response.text();
    } catch (cause) {
      throw new ConnectionFailure(networkReason(cause, this.#timeoutMs), true, { cause });
    }
    if (response.status === 401 || response.status === 403) {
      throw new ConnectionFailure(
        `HTTP ${response.status}: the node refused the RPC credentials; check the user and password (or cookie) in BITCOIND_URL and rpcallowip`,
        false,
      );
    }
    if (response.status === 503) {
      // Core's HTTP server answers 503 when its work queue is full (-rpcworkqueue): retry later.
      throw new ConnectionFailure(
        `HTTP 503: ${text.trim().slice(0, 120) || 'service unavailable'}`,
        true,
      );
    }
    // Core answers JSON-RPC errors with HTTP 500 (404 for an unknown method) and a JSON body;
    // anything without a JSON body is a transport problem.
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new ConnectionFailure(
        `HTTP ${response.status} without a JSON-RPC body`,
        response.status >= 500,
      );
    }
  }
}

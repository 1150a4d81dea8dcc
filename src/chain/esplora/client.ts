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
 * A typed client for the Esplora HTTP API (Blockstream's esplora/electrs REST interface, also
 * served by mempool's electrs): plain GETs answering text, JSON or binary, and POST /tx to
 * broadcast. The base URL carries the instance's path prefix, e.g. `https://host/api` or
 * `https://host/testnet/api`; credentials in the URL are sent as HTTP basic auth.
 *
 * Failures become AppErrors:
 * - no answer (refused, reset, DNS, timeout) → retried with exponential backoff, then
 *   CHAIN_UNAVAILABLE;
 * - HTTP 5xx or 429 on a GET → retried the same way, then CHAIN_UNAVAILABLE; a POST that got
 *   an answer is never retried (the node saw it; its answer is final);
 * - HTTP 404 → the code the endpoint names (BLOCK_NOT_FOUND, TX_NOT_FOUND), CHAIN_UNAVAILABLE
 *   where nothing should be missing;
 * - HTTP 400 to POST /tx → TX_REJECTED with the node's reason;
 * - HTTP 401/403 → CHAIN_UNAVAILABLE at once;
 * - an answer that is not what the endpoint sends (bad JSON, wrong shape, bad hex, a block or
 *   transaction other than the one asked for) → CHAIN_UNAVAILABLE naming the endpoint.
 */

/** `retries`: attempts after the first on connection failures, 5xx and 429 (default 3). */
export interface EsploraClientOptions extends BackoffOptions {
  /** Base URL of the API, with its path prefix: `https://host/api`, `http://127.0.0.1:3002/`. */
  readonly url: string;
  /** Per-request timeout in ms, answer body included (default 30000). */
  readonly timeoutMs?: number;
}

/** One answer of the server, whatever its status. */
export interface EsploraAnswer {
  readonly status: number;
  readonly body: Uint8Array;
}

const HASH = /^[0-9a-f]{64}$/;
const hash = z.string().regex(HASH, 'expected 64 lowercase hex characters');

/** GET /block/:hash (electrs BlockValue); only the fields the adapter reads are required. */
export const esploraBlockSchema = z.object({
  id: hash,
  height: z.number().int().nonnegative(),
  version: z.number().int().optional(),
  timestamp: z.number().int().nonnegative(),
  tx_count: z.number().int().positive().optional(),
  size: z.number().int().positive().optional(),
  weight: z.number().int().positive().optional(),
  merkle_root: hash.optional(),
  // electrs omits it (null) for the genesis block.
  previousblockhash: hash.nullable().optional(),
  mediantime: z.number().int().optional(),
  nonce: z.number().int().optional(),
  bits: z.number().int().optional(),
  difficulty: z.number().optional(),
});
export type EsploraBlock = z.infer<typeof esploraBlockSchema>;

/**
 * GET /block/:hash/txs/:start (electrs TransactionValue, 25 a page): only what the adapter reads,
 * each input's `prevout` (null for a coinbase input).
 */
export const esploraBlockTxsSchema = z.array(
  z.object({
    txid: hash,
    vin: z.array(
      z.object({
        txid: hash,
        vout: z.number().int().nonnegative(),
        is_coinbase: z.boolean().optional(),
        prevout: z
          .object({
            scriptpubkey: z.string().regex(/^(?:[0-9a-f]{2})*$/),
            value: z.number().int().nonnegative(),
          })
          .nullable()
          .optional(),
      }),
    ),
  }),
);
export type EsploraBlockTxs = z.infer<typeof esploraBlockTxsSchema>;

/** Transactions per page of GET /block/:hash/txs/:start (electrs CHAIN_TXS_PER_PAGE). */
export const ESPLORA_BLOCK_TXS_PAGE = 25;

/** GET /block/:hash/status. `height` and `next_best` only for blocks in the best chain. */
export const esploraBlockStatusSchema = z.object({
  in_best_chain: z.boolean(),
  height: z.number().int().nonnegative().nullable().optional(),
  next_best: hash.nullable().optional(),
});
export type EsploraBlockStatus = z.infer<typeof esploraBlockStatusSchema>;

/** GET /fee-estimates: confirmation target (blocks) → fee rate in sat/vB (a float). */
export const esploraFeeEstimatesSchema = z.record(
  z.string().regex(/^[1-9]\d{0,3}$/, 'expected a confirmation target in blocks'),
  z.number().nonnegative(),
);

/**
 * POST /txs/test (mempool's electrs; not in Blockstream's): Bitcoin Core's testmempoolaccept
 * result, one entry per transaction. `allowed` is absent for a transaction a package failure
 * kept from being evaluated.
 */
export const esploraTestMempoolAcceptSchema = z.array(
  z.object({
    txid: hash,
    wtxid: hash.optional(),
    allowed: z.boolean().nullable().optional(),
    vsize: z.number().int().nullable().optional(),
    'reject-reason': z.string().nullable().optional(),
    'package-error': z.string().nullable().optional(),
  }),
);

class ConnectionFailure extends Error {
  override readonly name = 'ConnectionFailure';
  constructor(
    message: string,
    /** True when the server may have received the request (the status line came back). */
    readonly answered: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export class EsploraClient {
  /** The base URL without credentials, ending without a slash. */
  readonly #base: string;
  /** host:port only, for messages: never credentials or a path that may hold an API key. */
  readonly where: string;
  readonly #authorization: string | undefined;
  readonly #timeoutMs: number;
  readonly #backoff: Backoff;

  constructor(options: EsploraClientOptions) {
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw new AppError(
        'CONFIG_INVALID',
        'ESPLORA_URL must be a URL like https://esplora.example/api (with the path prefix of the instance)',
      );
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new AppError(
        'CONFIG_INVALID',
        `ESPLORA_URL must use http or https, got "${url.protocol}"`,
      );
    }
    if (url.search || url.hash) {
      throw new AppError(
        'CONFIG_INVALID',
        'ESPLORA_URL must not carry a query string or fragment: give the base of the API',
      );
    }
    const username = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    url.username = '';
    url.password = '';
    this.#base = url.toString().replace(/\/+$/, '');
    this.where = url.host;
    this.#authorization =
      username || password
        ? `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`
        : undefined;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#backoff = backoffOf(options);
  }

  // ------------------------------------------------------------------ typed endpoints

  /** GET /blocks/tip/height. */
  async tipHeight(): Promise<number> {
    const text = await this.getText('/blocks/tip/height');
    if (!/^\d{1,9}$/.test(text)) throw this.malformed('GET /blocks/tip/height', text);
    return Number(text);
  }

  /** GET /blocks/tip/hash. */
  async tipHash(): Promise<string> {
    return this.#hashText('/blocks/tip/hash', await this.getText('/blocks/tip/hash'));
  }

  /** GET /block-height/:height; BLOCK_NOT_FOUND above the tip. */
  async blockHashAt(height: number): Promise<string> {
    const path = `/block-height/${height}`;
    return this.#hashText(path, await this.getText(path, 'BLOCK_NOT_FOUND'));
  }

  /** GET /block/:hash; BLOCK_NOT_FOUND when the server does not know it. */
  async block(blockHash: string): Promise<EsploraBlock> {
    return this.getJson(`/block/${blockHash}`, esploraBlockSchema, 'BLOCK_NOT_FOUND');
  }

  /** GET /block/:hash/status (answers `in_best_chain: false` for an unknown block). */
  async blockStatus(blockHash: string): Promise<EsploraBlockStatus> {
    return this.getJson(`/block/${blockHash}/status`, esploraBlockStatusSchema, 'BLOCK_NOT_FOUND');
  }

  /** GET /block/:hash/txs/:start: 25 transactions of the block from index `start`. */
  async blockTxs(blockHash: string, start: number): Promise<EsploraBlockTxs> {
    return this.getJson(
      `/block/${blockHash}/txs/${start}`,
      esploraBlockTxsSchema,
      'BLOCK_NOT_FOUND',
    );
  }

  /** GET /block/:hash/raw: the block in consensus serialization. */
  async blockRaw(blockHash: string): Promise<Uint8Array> {
    return this.getBytes(`/block/${blockHash}/raw`, 'BLOCK_NOT_FOUND');
  }

  /**
   * GET /tx/:txid/hex. The hex form rather than /raw: every esplora version serves it, and
   * mempool transactions as well as confirmed ones.
   */
  async txHex(txid: string): Promise<Uint8Array> {
    const path = `/tx/${txid}/hex`;
    const text = await this.getText(path, 'TX_NOT_FOUND');
    if (text.length === 0 || text.length % 2 !== 0 || !/^[0-9a-fA-F]+$/.test(text)) {
      throw this.malformed(`GET ${path}`, text);
    }
    return Uint8Array.from(Buffer.from(text, 'hex'));
  }

  /** GET /mempool/txids (arbitrary order). */
  async mempoolTxids(): Promise<string[]> {
    return this.getJson('/mempool/txids', z.array(hash));
  }

  /** GET /fee-estimates: target → sat/vB. */
  async feeEstimates(): Promise<Record<string, number>> {
    return this.getJson('/fee-estimates', esploraFeeEstimatesSchema);
  }

  // ------------------------------------------------------------------ generic requests

  /** A GET answered with text (trimmed). */
  async getText(path: string, notFound?: ErrorCode): Promise<string> {
    const answer = await this.request('GET', path);
    this.#expectOk('GET', path, answer, notFound);
    return Buffer.from(answer.body).toString('utf8').trim();
  }

  /** A GET answered with JSON, checked against `schema`. */
  async getJson<T>(path: string, schema: z.ZodType<T>, notFound?: ErrorCode): Promise<T> {
    const text = await this.getText(path, notFound);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw this.malformed(`GET ${path}`, text, 'not JSON');
    }
    const checked = schema.safeParse(parsed);
    if (!checked.success) {
      const issue = checked.error.issues[0];
      throw this.malformed(
        `GET ${path}`,
        text,
        issue ? `${issue.path.join('.') || 'answer'}: ${issue.message}` : 'unexpected shape',
      );
    }
    return checked.data;
  }

  /** A GET answered with binary data. */
  async getBytes(path: string, notFound?: ErrorCode): Promise<Uint8Array> {
    const answer = await this.request('GET', path);
    this.#expectOk('GET', path, answer, notFound);
    return answer.body;
  }

  /**
   * Sends one request, retrying when there is no answer and, for GETs, on 5xx and 429. A POST
   * is retried only when no answer came back at all (connection refused, reset before the
   * status line, timeout): sending the same transaction again is harmless, and a POST that
   * was answered is never sent twice.
   */
  async request(
    method: 'GET' | 'POST',
    path: string,
    body?: { readonly contentType: string; readonly text: string },
  ): Promise<EsploraAnswer> {
    return retryWithBackoff<EsploraAnswer>(this.#backoff, async (attempt, canRetry) => {
      let answer: EsploraAnswer;
      try {
        answer = await this.#once(method, path, body);
      } catch (error) {
        if (!(error instanceof ConnectionFailure)) throw error;
        if (canRetry && !(method === 'POST' && error.answered)) return RETRY;
        throw new AppError(
          'CHAIN_UNAVAILABLE',
          `cannot reach Esplora at ${this.where}: ${method} ${path}: ${error.message}${attempt > 0 ? ` (after ${attempt + 1} attempts)` : ''}`,
          { cause: error, details: { method, path } },
        );
      }
      const retryable = method === 'GET' && (answer.status >= 500 || answer.status === 429);
      if (retryable && canRetry) return RETRY;
      if (retryable) {
        throw new AppError(
          'CHAIN_UNAVAILABLE',
          `Esplora at ${this.where} answered ${method} ${path} with ${describe(answer)} (after ${attempt + 1} attempts)`,
          { details: { method, path, status: answer.status } },
        );
      }
      return answer;
    });
  }

  /** CHAIN_UNAVAILABLE for an answer that is not what `endpoint` sends. */
  malformed(endpoint: string, text: string, why?: string): AppError {
    return new AppError(
      'CHAIN_UNAVAILABLE',
      `Esplora at ${this.where} sent a malformed answer to ${endpoint}${why ? ` (${why})` : ''}: "${abbreviate(text)}"`,
      { details: { endpoint } },
    );
  }

  /** Maps a non-200 answer to its AppError (see the class comment). */
  unexpected(method: string, path: string, answer: EsploraAnswer, notFound?: ErrorCode): AppError {
    const details = { method, path, status: answer.status };
    if (answer.status === 404 && notFound) {
      return new AppError(notFound, `Esplora at ${this.where}: ${method} ${path}: not found`, {
        details,
      });
    }
    if (answer.status === 401 || answer.status === 403) {
      return new AppError(
        'CHAIN_UNAVAILABLE',
        `Esplora at ${this.where} refused access (HTTP ${answer.status}); check the credentials in ESPLORA_URL`,
        { details },
      );
    }
    return new AppError(
      'CHAIN_UNAVAILABLE',
      `Esplora at ${this.where} answered ${method} ${path} with ${describe(answer)}`,
      { details },
    );
  }

  #expectOk(method: string, path: string, answer: EsploraAnswer, notFound?: ErrorCode): void {
    if (answer.status !== 200) throw this.unexpected(method, path, answer, notFound);
  }

  #hashText(path: string, text: string): string {
    if (!HASH.test(text)) throw this.malformed(`GET ${path}`, text);
    return text;
  }

  async #once(
    method: 'GET' | 'POST',
    path: string,
    body?: { readonly contentType: string; readonly text: string },
  ): Promise<EsploraAnswer> {
    const headers: Record<string, string> = {};
    if (this.#authorization) headers.authorization = this.#authorization;
    if (body) headers['content-type'] = body.contentType;
    const signal = AbortSignal.timeout(this.#timeoutMs);
    let response: Response;
    try {
      response = await fetch(`${this.#base}${path}`, {
        method,
        headers,
        ...(body ? { body: body.text } : {}),
        signal,
      });
    } catch (cause) {
      throw new ConnectionFailure(networkReason(cause, this.#timeoutMs), false, { cause });
    }
    try {
      return { status: response.status, body: new Uint8Array(await response.arrayBuffer()) };
    } catch (cause) {
      throw new ConnectionFailure(networkReason(cause, this.#timeoutMs), true, { cause });
    }
  }
}

function describe(answer: EsploraAnswer): string {
  const text = Buffer.from(answer.body.subarray(0, 200)).toString('utf8').trim();
  return `HTTP ${answer.status}${text ? `: ${abbreviate(text, 120)}` : ''}`;
}

function abbreviate(text: string, max = 80): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

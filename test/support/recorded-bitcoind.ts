import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { parseBlock } from '../../src/chain/blockfile/block';
import { parseTx } from '../../src/chain/simnet/model';

/**
 * For tests only: a real HTTP JSON-RPC server that answers like Bitcoin Core from a file of
 * answers (test/vectors/bitcoin/rpc/*.json), with Core's HTTP behaviour: basic auth (401 with an empty body
 * on bad credentials), HTTP 500 for a JSON-RPC error (404 for an unknown method), 200 for a
 * batch whatever its contents. Tests can also make it misbehave (drop connections, answer 503,
 * stall) to exercise the client's retries and timeouts.
 */

interface Recorded {
  readonly method: string;
  readonly params: readonly unknown[];
  readonly result?: unknown;
  readonly error?: { readonly code: number; readonly message: string };
}

interface RecordedFile {
  readonly auth: { readonly user: string; readonly password: string };
  readonly responses: readonly Recorded[];
}

export type Misbehaviour = 'drop' | '503' | 'stall';

export interface RecordedRpcServer {
  readonly url: string;
  /** The URL with the recorded credentials in it. */
  readonly authUrl: string;
  /** Every JSON-RPC method received, in order (a batch adds each of its methods). */
  readonly received: string[];
  /** HTTP requests received, including refused and dropped ones. */
  readonly httpRequests: () => number;
  /** The next requests misbehave in this order, then normal answers resume. */
  misbehave(...next: Misbehaviour[]): void;
  /** Answers `method` with this function instead of the file (returns result or error). */
  override(
    method: string,
    answer: (params: readonly unknown[]) => Omit<Recorded, 'method' | 'params'>,
  ): void;
  close(): Promise<void>;
}

const VECTORS = path.resolve(import.meta.dirname, '../vectors/bitcoin/blocks');

export async function startRecordedRpcServer(file: string): Promise<RecordedRpcServer> {
  const recorded = JSON.parse(
    readFileSync(path.resolve(import.meta.dirname, '../vectors/bitcoin/rpc', file), 'utf8'),
  ) as RecordedFile;
  const expectedAuth = `Basic ${Buffer.from(`${recorded.auth.user}:${recorded.auth.password}`).toString('base64')}`;
  const received: string[] = [];
  const plan: Misbehaviour[] = [];
  const overrides = new Map<
    string,
    (params: readonly unknown[]) => Omit<Recorded, 'method' | 'params'>
  >();
  const stalled = new Set<ServerResponse>();
  let httpRequests = 0;

  function answer(request: unknown): { status: number; body: unknown } {
    if (
      !request ||
      typeof request !== 'object' ||
      !('method' in request) ||
      typeof request.method !== 'string'
    ) {
      return {
        status: 400,
        body: {
          result: null,
          error: { code: -32600, message: 'Invalid Request object' },
          id: null,
        },
      };
    }
    const id = 'id' in request ? request.id : null;
    const params =
      'params' in request && Array.isArray(request.params) ? (request.params as unknown[]) : [];
    received.push(request.method);
    const override = overrides.get(request.method);
    const found = override
      ? override(params)
      : recorded.responses.find(
          (r) => r.method === request.method && JSON.stringify(r.params) === JSON.stringify(params),
        );
    if (!found) {
      const known = recorded.responses.some((r) => r.method === request.method);
      return known
        ? {
            status: 500,
            body: {
              result: null,
              error: { code: -1, message: `no recorded answer for these params` },
              id,
            },
          }
        : {
            status: 404,
            body: { result: null, error: { code: -32601, message: 'Method not found' }, id },
          };
    }
    if (found.error) return { status: 500, body: { result: null, error: found.error, id } };
    return { status: 200, body: { result: materialize(found.result), error: null, id } };
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    httpRequests++;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const misbehaviour = plan.shift();
      if (misbehaviour === 'drop') return void req.socket.destroy();
      if (misbehaviour === '503') return void res.writeHead(503).end('Work queue depth exceeded');
      if (misbehaviour === 'stall') return void stalled.add(res);
      if (req.headers.authorization !== expectedAuth) return void res.writeHead(401).end();
      let request: unknown;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
      } catch {
        res.writeHead(500, { 'content-type': 'application/json' });
        return void res.end(
          JSON.stringify({
            result: null,
            error: { code: -32700, message: 'Parse error' },
            id: null,
          }),
        );
      }
      if (Array.isArray(request)) {
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(JSON.stringify(request.map((r) => answer(r).body)));
      }
      const { status, body } = answer(request);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/`;
  const authUrl = `http://${encodeURIComponent(recorded.auth.user)}:${encodeURIComponent(recorded.auth.password)}@127.0.0.1:${port}/`;
  return {
    url,
    authUrl,
    received,
    httpRequests: () => httpRequests,
    misbehave: (...next) => void plan.push(...next),
    override: (method, fn) => void overrides.set(method, fn),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of stalled) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function materialize(result: unknown): unknown {
  if (
    result &&
    typeof result === 'object' &&
    '$rawBlockFile' in result &&
    typeof result.$rawBlockFile === 'string'
  ) {
    return readFileSync(path.join(VECTORS, result.$rawBlockFile)).toString('hex');
  }
  if (result && typeof result === 'object' && '$verboseBlock' in result) {
    const spec = result.$verboseBlock as { file?: string; hex?: string; height: number };
    const raw = spec.file
      ? readFileSync(path.join(VECTORS, spec.file))
      : Buffer.from(spec.hex ?? '', 'hex');
    return verboseBlock(new Uint8Array(raw), spec.height);
  }
  return result;
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

/**
 * Bitcoin Core's getblock verbosity 3 (TxToUniv per transaction) for a raw block, with what the
 * block alone determines. No input gets `prevout`: the spent outputs are not in the block, and
 * Core leaves prevout out when it has no undo data for the block.
 */
function verboseBlock(raw: Uint8Array, height: number): unknown {
  const { header, transactions } = parseBlock(raw);
  return {
    hash: header.hash,
    confirmations: 1,
    height,
    version: header.version,
    versionHex: (header.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: header.merkleRoot,
    time: header.time,
    nonce: header.nonce,
    bits: header.bits.toString(16).padStart(8, '0'),
    nTx: transactions.length,
    ...(header.previousHash ? { previousblockhash: header.previousHash } : {}),
    size: raw.length,
    tx: transactions.map((tx) => ({
      txid: tx.txid,
      vin: parseTx(tx.raw).inputs.map((input) => {
        const witness = input.witness.length > 0 ? { txinwitness: input.witness.map(hex) } : {};
        return tx.coinbase
          ? { coinbase: hex(input.scriptSig), ...witness, sequence: input.sequence }
          : {
              txid: input.prevTxid,
              vout: input.vout,
              scriptSig: { hex: hex(input.scriptSig) },
              ...witness,
              sequence: input.sequence,
            };
      }),
      vout: tx.outputs.map((output) => ({
        value: Number(output.valueSats) / 1e8,
        n: output.vout,
        scriptPubKey: { hex: hex(output.script) },
      })),
      hex: hex(tx.raw),
    })),
  };
}

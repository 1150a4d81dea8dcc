import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { timingSafeEqual } from 'node:crypto';
import { AppError, isAppError } from '../../kernel';
import { fromHex, toHex } from '../../bitcoin';
import { difficulty } from './consensus';
import { isCoinbase, parseTx, serializeHeader, type Tx } from './encoding';
import { POLICY, type BlockEntry, type Simnet } from './simnet';
import { classifyOutput, parseMultisig, scriptToAddress, scriptToAsm } from './script';

/**
 * A Bitcoin Core JSON-RPC server over simnet: Bitcoin Core's method names, parameters (positional
 * or named), result fields and error codes (rpc/protocol.h), so that the bitcoind adapter and any
 * Bitcoin Core client can talk to it. JSON-RPC 1.0 (errors with HTTP 500/404) and 2.0 (HTTP 200),
 * batches, HTTP basic auth (401 otherwise).
 */

export const RPC_ERRORS = {
  MISC: -1,
  TYPE: -3,
  INVALID_ADDRESS_OR_KEY: -5,
  INVALID_PARAMETER: -8,
  DESERIALIZATION: -22,
  VERIFY: -25,
  VERIFY_REJECTED: -26,
  VERIFY_ALREADY_IN_CHAIN: -27,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  PARSE: -32700,
} as const;

export class RpcError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

/** An amount rendered as Bitcoin Core does: a JSON number with exactly 8 decimals. */
class Btc {
  constructor(readonly sats: bigint) {}
}

type Json = null | boolean | number | string | Btc | Json[] | { [key: string]: Json | undefined };

function serialize(value: Json | undefined): string {
  if (value === null || value === undefined) return 'null';
  if (value instanceof Btc) {
    const negative = value.sats < 0n;
    const abs = negative ? -value.sats : value.sats;
    return `${negative ? '-' : ''}${abs / 100_000_000n}.${(abs % 100_000_000n).toString().padStart(8, '0')}`;
  }
  if (Array.isArray(value)) return `[${value.map(serialize).join(',')}]`;
  if (typeof value === 'object') {
    return `{${Object.entries(value)
      .filter(([, item]) => item !== undefined)
      .map(([key, item]) => `${JSON.stringify(key)}:${serialize(item)}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

// ------------------------------------------------------------------ parameters

type Params = readonly unknown[];

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

function typeError(value: unknown, expected: string): RpcError {
  return new RpcError(
    RPC_ERRORS.TYPE,
    `JSON value of type ${typeName(value)} is not of expected type ${expected}`,
  );
}

function required(params: Params, index: number, name: string): unknown {
  const value = params[index];
  if (value === undefined || value === null) {
    throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, `Missing required parameter "${name}"`);
  }
  return value;
}

function integer(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(value, 'number');
  return value;
}

function text(value: unknown): string {
  if (typeof value !== 'string') throw typeError(value, 'string');
  return value;
}

/** ParseHashV: 64 hex characters. */
function hash(value: unknown, name: string): string {
  const hex = text(value);
  if (hex.length !== 64) {
    throw new RpcError(
      RPC_ERRORS.INVALID_PARAMETER,
      `${name} must be of length 64 (not ${hex.length}, for '${hex}')`,
    );
  }
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) {
    throw new RpcError(
      RPC_ERRORS.INVALID_PARAMETER,
      `${name} must be hexadecimal string (not '${hex}')`,
    );
  }
  return hex.toLowerCase();
}

/** A verbosity given as a number or a boolean (Bitcoin Core accepts both). */
function verbosity(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return integer(value);
}

function bool(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw typeError(value, 'bool');
  return value;
}

/** A BTC/kvB amount parameter (number or string) as sat/kvB. */
function feeRateParam(value: unknown, fallbackSatPerKvB: bigint): bigint {
  if (value === undefined || value === null) return fallbackSatPerKvB;
  const textValue =
    typeof value === 'number' ? value.toFixed(8) : typeof value === 'string' ? value : null;
  if (textValue === null) throw typeError(value, 'number');
  const match = /^(\d+)(?:\.(\d{1,8}))?$/.exec(textValue);
  if (!match) throw new RpcError(RPC_ERRORS.TYPE, 'Invalid amount');
  return BigInt(match[1]!) * 100_000_000n + BigInt((match[2] ?? '').padEnd(8, '0'));
}

function decodeTx(value: unknown): Uint8Array {
  const hex = text(value);
  const failure = new RpcError(
    RPC_ERRORS.DESERIALIZATION,
    'TX decode failed. Make sure the tx has at least one input.',
  );
  if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw failure;
  const raw = fromHex(hex);
  try {
    parseTx(raw);
  } catch {
    throw failure;
  }
  return raw;
}

// ------------------------------------------------------------------ descriptors (BIP380 checksum)

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(c: bigint, value: number): bigint {
  const c0 = c >> 35n;
  let next = ((c & 0x7ffffffffn) << 5n) ^ BigInt(value);
  for (let i = 0; i < 5; i++) if ((c0 >> BigInt(i)) & 1n) next ^= GENERATORS[i]!;
  return next;
}

export function descriptorChecksum(descriptor: string): string {
  let c = 1n;
  let cls = 0;
  let count = 0;
  for (const ch of descriptor) {
    const position = INPUT_CHARSET.indexOf(ch);
    if (position < 0) return '';
    c = polymod(c, position & 31);
    cls = cls * 3 + (position >> 5);
    if (++count === 3) {
      c = polymod(c, cls);
      cls = 0;
      count = 0;
    }
  }
  if (count > 0) c = polymod(c, cls);
  for (let i = 0; i < 8; i++) c = polymod(c, 0);
  c ^= 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((c >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

/** InferDescriptor for a bare output script (no key origin information). */
function inferDescriptor(script: Uint8Array, address: string | undefined): string {
  const type = classifyOutput(script);
  let descriptor: string;
  if (type === 'witness_v1_taproot') descriptor = `rawtr(${toHex(script.subarray(2))})`;
  else if (type === 'pubkey') descriptor = `pk(${toHex(script.subarray(1, script.length - 1))})`;
  else if (type === 'multisig') {
    const multisig = parseMultisig(script)!;
    descriptor = `multi(${multisig.m},${multisig.pubkeys.map(toHex).join(',')})`;
  } else if (address) descriptor = `addr(${address})`;
  else descriptor = `raw(${toHex(script)})`;
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}

// ------------------------------------------------------------------ result shapes

function scriptPubKeyJson(simnet: Simnet, script: Uint8Array): Json {
  const address = scriptToAddress(script, simnet.network);
  return {
    asm: scriptToAsm(script),
    desc: inferDescriptor(script, address),
    hex: toHex(script),
    address,
    type: classifyOutput(script),
  };
}

/** The `prevout` of an input at verbosity 3 (TxToUniv with undo data). */
function prevoutJson(simnet: Simnet, txid: string, vout: number): Json | undefined {
  const spent = simnet.previousOutput(txid, vout);
  if (!spent) return undefined;
  return {
    generated: spent.coinbase,
    height: spent.height ?? undefined,
    value: new Btc(spent.value),
    scriptPubKey: scriptPubKeyJson(simnet, spent.script),
  };
}

/** TxToUniv (core_write.cpp); `withPrevouts` adds each input's spent output (verbosity 3). */
function txJson(
  simnet: Simnet,
  tx: Tx,
  fee?: bigint,
  withPrevouts = false,
): { [key: string]: Json | undefined } {
  const coinbase = isCoinbase(tx);
  return {
    txid: tx.txid,
    hash: tx.wtxid,
    version: tx.version,
    size: tx.size,
    vsize: tx.vsize,
    weight: tx.weight,
    locktime: tx.lockTime,
    vin: tx.inputs.map((input) => {
      const witness = input.witness.length > 0 ? input.witness.map(toHex) : undefined;
      if (coinbase)
        return { coinbase: toHex(input.scriptSig), txinwitness: witness, sequence: input.sequence };
      return {
        txid: input.prevTxid,
        vout: input.vout,
        scriptSig: { asm: scriptToAsm(input.scriptSig), hex: toHex(input.scriptSig) },
        txinwitness: witness,
        prevout: withPrevouts ? prevoutJson(simnet, input.prevTxid, input.vout) : undefined,
        sequence: input.sequence,
      };
    }),
    vout: tx.outputs.map((output, n) => ({
      value: new Btc(output.value),
      n,
      scriptPubKey: scriptPubKeyJson(simnet, output.script),
    })),
    fee: fee === undefined ? undefined : new Btc(fee),
    hex: toHex(tx.raw),
  };
}

function chainWorkHex(work: bigint): string {
  return work.toString(16).padStart(64, '0');
}

function headerJson(simnet: Simnet, entry: BlockEntry): { [key: string]: Json | undefined } {
  const header = entry.block.header;
  return {
    hash: entry.hash,
    confirmations: simnet.confirmations(entry.hash),
    height: entry.height,
    version: header.version,
    versionHex: (header.version >>> 0).toString(16).padStart(8, '0'),
    merkleroot: toHex(header.merkleRoot.slice().reverse()),
    time: header.time,
    mediantime: simnet.medianTimePast(entry.hash),
    nonce: header.nonce,
    bits: header.bits.toString(16).padStart(8, '0'),
    difficulty: Number(difficulty(header.bits).toPrecision(16)),
    chainwork: chainWorkHex(entry.chainWork),
    nTx: entry.block.txs.length,
    previousblockhash: entry.prevHash ?? undefined,
    nextblockhash: simnet.nextActive(entry.hash),
  };
}

function requireBlock(simnet: Simnet, value: unknown, name = 'blockhash'): BlockEntry {
  const entry = simnet.block(hash(value, name));
  if (!entry) throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Block not found');
  return entry;
}

function feeRateBtcPerKvB(fee: bigint, vsize: number): Btc {
  return new Btc((fee * 1000n) / BigInt(vsize));
}

// ------------------------------------------------------------------ methods

type Method = (simnet: Simnet, params: Params) => Json | Promise<Json>;

/** Parameter names per method, for JSON-RPC named parameters. */
const PARAM_NAMES: Record<string, readonly string[]> = {
  getblockchaininfo: [],
  getbestblockhash: [],
  getblockcount: [],
  getblockhash: ['height'],
  getblockheader: ['blockhash', 'verbose'],
  getblock: ['blockhash', 'verbosity'],
  getrawtransaction: ['txid', 'verbose', 'blockhash'],
  sendrawtransaction: ['hexstring', 'maxfeerate', 'maxburnamount'],
  testmempoolaccept: ['rawtxs', 'maxfeerate'],
  getmempoolinfo: [],
  getrawmempool: ['verbose', 'mempool_sequence'],
  getmempoolentry: ['txid'],
  estimatesmartfee: ['conf_target', 'estimate_mode'],
  generatetoaddress: ['nblocks', 'address', 'maxtries'],
  invalidateblock: ['blockhash'],
  reconsiderblock: ['blockhash'],
};

/** sendrawtransaction's default maxfeerate: 0.10 BTC/kvB (DEFAULT_MAX_RAW_TX_FEE_RATE). */
const DEFAULT_MAX_FEE_RATE = 10_000_000n;

function mempoolEntryJson(simnet: Simnet, txid: string): Json {
  const entry = simnet.mempoolEntry(txid)!;
  const pool = simnet.mempoolEntries();
  const byId = new Map(pool.map((item) => [item.tx.txid, item]));
  const walk = (start: string, next: (id: string) => Iterable<string>): Set<string> => {
    const seen = new Set<string>([start]);
    const stack = [start];
    while (stack.length > 0) {
      for (const id of next(stack.pop()!)) {
        if (!seen.has(id)) {
          seen.add(id);
          stack.push(id);
        }
      }
    }
    return seen;
  };
  const ancestors = walk(txid, (id) => byId.get(id)?.parents ?? []);
  const descendants = walk(txid, (id) => byId.get(id)?.children ?? []);
  const sum = (ids: Set<string>, pick: (id: string) => bigint) =>
    [...ids].reduce((total, id) => total + pick(id), 0n);
  return {
    vsize: entry.tx.vsize,
    weight: entry.tx.weight,
    time: entry.time,
    height: entry.height,
    descendantcount: descendants.size,
    descendantsize: Number(sum(descendants, (id) => BigInt(byId.get(id)!.tx.vsize))),
    ancestorcount: ancestors.size,
    ancestorsize: Number(sum(ancestors, (id) => BigInt(byId.get(id)!.tx.vsize))),
    wtxid: entry.tx.wtxid,
    fees: {
      base: new Btc(entry.fee),
      modified: new Btc(entry.fee),
      ancestor: new Btc(sum(ancestors, (id) => byId.get(id)!.fee)),
      descendant: new Btc(sum(descendants, (id) => byId.get(id)!.fee)),
    },
    depends: [...entry.parents],
    spentby: [...entry.children],
    'bip125-replaceable': entry.tx.inputs.some((input) => input.sequence < 0xfffffffe),
    unbroadcast: false,
  };
}

const METHODS: Record<string, Method> = {
  getblockchaininfo: (simnet) => {
    const tip = simnet.block(simnet.tip().hash)!;
    return {
      chain: 'regtest',
      blocks: tip.height,
      headers: tip.height,
      bestblockhash: tip.hash,
      difficulty: Number(difficulty(tip.block.header.bits).toPrecision(16)),
      time: tip.block.header.time,
      mediantime: simnet.medianTimePast(tip.hash),
      verificationprogress: 1,
      initialblockdownload: false,
      chainwork: chainWorkHex(tip.chainWork),
      size_on_disk: 0,
      pruned: false,
      warnings: [],
    };
  },
  getbestblockhash: (simnet) => simnet.tip().hash,
  getblockcount: (simnet) => simnet.height,
  getblockhash: (simnet, params) => {
    const height = integer(required(params, 0, 'height'));
    const found = simnet.blockHashAt(height);
    if (!found) throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, 'Block height out of range');
    return found;
  },
  getblockheader: (simnet, params) => {
    const entry = requireBlock(simnet, required(params, 0, 'blockhash'), 'hash');
    if (!bool(params[1], true)) return toHex(serializeHeader(entry.block.header));
    return headerJson(simnet, entry);
  },
  getblock: (simnet, params) => {
    const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
    const level = verbosity(params[1], 1);
    if (level <= 0) return toHex(entry.block.raw);
    const header = headerJson(simnet, entry);
    const block = entry.block;
    const txs: Json[] =
      level === 1
        ? block.txs.map((tx) => tx.txid)
        : block.txs.map((tx, i) =>
            txJson(simnet, tx, i > 0 ? entry.fees?.[i] : undefined, level >= 3),
          );
    return {
      hash: header.hash,
      confirmations: header.confirmations,
      height: header.height,
      version: header.version,
      versionHex: header.versionHex,
      merkleroot: header.merkleroot,
      time: header.time,
      mediantime: header.mediantime,
      nonce: header.nonce,
      bits: header.bits,
      difficulty: header.difficulty,
      chainwork: header.chainwork,
      nTx: header.nTx,
      previousblockhash: header.previousblockhash,
      nextblockhash: header.nextblockhash,
      strippedsize: block.strippedSize,
      size: block.size,
      weight: block.weight,
      tx: txs,
    };
  },
  getrawtransaction: (simnet, params) => {
    const txid = hash(required(params, 0, 'txid'), 'parameter 1');
    const level = verbosity(params[1], 0);
    let tx: Tx | undefined;
    let blockHash: string | undefined;
    let inActiveChain: boolean | undefined;
    if (params[2] !== undefined && params[2] !== null) {
      const entry = simnet.block(hash(params[2], 'parameter 3'));
      if (!entry) throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Block hash not found');
      tx = entry.block.txs.find((candidate) => candidate.txid === txid);
      if (!tx) {
        throw new RpcError(
          RPC_ERRORS.INVALID_ADDRESS_OR_KEY,
          'No such transaction found in the provided block. Use gettransaction for wallet transactions.',
        );
      }
      blockHash = entry.hash;
      inActiveChain = simnet.isActive(entry.hash);
    } else {
      const found = simnet.transaction(txid);
      if (!found) {
        throw new RpcError(
          RPC_ERRORS.INVALID_ADDRESS_OR_KEY,
          'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.',
        );
      }
      tx = found.tx;
      blockHash = found.blockHash;
    }
    if (level <= 0) return toHex(tx.raw);
    const body = txJson(simnet, tx);
    const result: { [key: string]: Json | undefined } = { in_active_chain: inActiveChain, ...body };
    if (blockHash) {
      const entry = simnet.block(blockHash)!;
      result.blockhash = blockHash;
      const confirmations = simnet.confirmations(blockHash);
      result.confirmations = confirmations > 0 ? confirmations : 0;
      result.time = entry.block.header.time;
      result.blocktime = entry.block.header.time;
    }
    return result;
  },
  sendrawtransaction: async (simnet, params) => {
    const raw = decodeTx(required(params, 0, 'hexstring'));
    const maxFeeRate = feeRateParam(params[1], DEFAULT_MAX_FEE_RATE);
    const preview = simnet.testMempoolAccept(raw);
    if (
      preview.allowed &&
      maxFeeRate > 0n &&
      preview.fee! * 1000n > maxFeeRate * BigInt(preview.vsize!)
    ) {
      throw new RpcError(
        RPC_ERRORS.VERIFY,
        'Fee exceeds maximum configured by user (e.g. -maxtxfee, maxfeerate)',
      );
    }
    const result = await simnet.submitTransaction(raw);
    if (result.allowed || result.rejectReason === 'txn-already-in-mempool') return result.txid;
    if (result.rejectKind === 'missing-inputs') {
      throw new RpcError(RPC_ERRORS.VERIFY, 'bad-txns-inputs-missingorspent');
    }
    if (result.rejectKind === 'already-in-chain') {
      throw new RpcError(
        RPC_ERRORS.VERIFY_ALREADY_IN_CHAIN,
        'Transaction outputs already in utxo set',
      );
    }
    const reason = result.rejectReason ?? 'rejected';
    throw new RpcError(
      RPC_ERRORS.VERIFY_REJECTED,
      result.rejectDetails ? `${reason}, ${result.rejectDetails}` : reason,
    );
  },
  testmempoolaccept: (simnet, params) => {
    const rawtxs = required(params, 0, 'rawtxs');
    if (!Array.isArray(rawtxs)) throw typeError(rawtxs, 'array');
    if (rawtxs.length < 1 || rawtxs.length > 25) {
      throw new RpcError(
        RPC_ERRORS.INVALID_PARAMETER,
        'Array must contain between 1 and 25 transactions.',
      );
    }
    const maxFeeRate = feeRateParam(params[1], DEFAULT_MAX_FEE_RATE);
    const decoded = rawtxs.map((item) => decodeTx(item));
    // Each transaction is checked on its own against the current mempool (no package evaluation).
    return decoded.map((raw) => {
      const result = simnet.testMempoolAccept(raw);
      if (!result.allowed) {
        return {
          txid: result.txid,
          wtxid: result.wtxid,
          allowed: false,
          'reject-reason': result.rejectReason ?? 'rejected',
        };
      }
      const fee = result.fee!;
      const vsize = result.vsize!;
      if (maxFeeRate > 0n && fee * 1000n > maxFeeRate * BigInt(vsize)) {
        return {
          txid: result.txid,
          wtxid: result.wtxid,
          allowed: false,
          'reject-reason': 'max-fee-exceeded',
        };
      }
      return {
        txid: result.txid,
        wtxid: result.wtxid,
        allowed: true,
        vsize,
        fees: {
          base: new Btc(fee),
          'effective-feerate': feeRateBtcPerKvB(fee, vsize),
          'effective-includes': [result.wtxid],
        },
      };
    });
  },
  getmempoolinfo: (simnet) => {
    const entries = simnet.mempoolEntries();
    const bytes = entries.reduce((sum, entry) => sum + entry.tx.vsize, 0);
    return {
      loaded: true,
      size: entries.length,
      bytes,
      usage: entries.reduce((sum, entry) => sum + entry.tx.size, 0),
      total_fee: new Btc(entries.reduce((sum, entry) => sum + entry.fee, 0n)),
      maxmempool: 300_000_000,
      mempoolminfee: new Btc(POLICY.minRelayFeeSatPerKvB),
      minrelaytxfee: new Btc(POLICY.minRelayFeeSatPerKvB),
      incrementalrelayfee: new Btc(POLICY.incrementalRelayFeeSatPerKvB),
      unbroadcastcount: 0,
      fullrbf: false,
    };
  },
  getrawmempool: (simnet, params) => {
    const verbose = bool(params[0], false);
    const txids = simnet.mempoolTxids();
    if (bool(params[1], false)) {
      if (verbose) {
        throw new RpcError(
          RPC_ERRORS.INVALID_PARAMETER,
          'Verbose results cannot contain mempool sequence values.',
        );
      }
      return { txids, mempool_sequence: txids.length };
    }
    if (!verbose) return txids;
    const out: { [key: string]: Json } = {};
    for (const txid of txids) out[txid] = mempoolEntryJson(simnet, txid);
    return out;
  },
  getmempoolentry: (simnet, params) => {
    const txid = hash(required(params, 0, 'txid'), 'parameter 1');
    if (!simnet.mempoolEntry(txid))
      throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Transaction not in mempool');
    return mempoolEntryJson(simnet, txid);
  },
  estimatesmartfee: (simnet, params) => {
    const target = integer(required(params, 0, 'conf_target'));
    if (target < 1 || target > 1008) {
      throw new RpcError(
        RPC_ERRORS.INVALID_PARAMETER,
        'Invalid conf_target, must be between 1 and 1008',
      );
    }
    const mode =
      params[1] === undefined || params[1] === null ? 'economical' : text(params[1]).toLowerCase();
    if (!['unset', 'economical', 'conservative'].includes(mode)) {
      throw new RpcError(
        RPC_ERRORS.INVALID_PARAMETER,
        'Invalid estimate_mode parameter, must be one of: "unset", "economical", "conservative"',
      );
    }
    // Bitcoin Core never estimates for the very next block: target 1 is answered for 2.
    const blocks = Math.max(target, 2);
    const rate = simnet.estimateFeeRateSatPerKvB(blocks);
    if (rate === null) return { errors: ['Insufficient data or no feerate found'], blocks: 0 };
    return { feerate: new Btc(rate), blocks };
  },
  generatetoaddress: async (simnet, params) => {
    const count = integer(required(params, 0, 'nblocks'));
    const address = text(required(params, 1, 'address'));
    let script: Uint8Array;
    try {
      script = simnet.scriptForAddress(address);
    } catch {
      throw new RpcError(RPC_ERRORS.INVALID_ADDRESS_OR_KEY, 'Error: Invalid address');
    }
    if (count < 0) throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, 'nblocks must be non-negative');
    return simnet.mine(count, script);
  },
  invalidateblock: async (simnet, params) => {
    const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
    await simnet.invalidateBlock(entry.hash);
    return null;
  },
  reconsiderblock: async (simnet, params) => {
    const entry = requireBlock(simnet, required(params, 0, 'blockhash'));
    await simnet.reconsiderBlock(entry.hash);
    return null;
  },
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

function toParams(method: string, params: unknown): Params {
  if (params === undefined || params === null) return [];
  if (Array.isArray(params)) return params as unknown[];
  if (typeof params === 'object') {
    const names = PARAM_NAMES[method] ?? [];
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
    const result = await handler(simnet, toParams(method, params));
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
    void (async () => {
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
    })().catch(() => {
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

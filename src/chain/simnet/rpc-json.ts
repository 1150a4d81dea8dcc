import { fromHex } from '../../bitcoin';
import { parseTx } from './model';
import type { Simnet } from './simnet';

/**
 * The JSON-RPC vocabulary shared by the simnet RPC server's method families: Bitcoin Core's error
 * codes (rpc/protocol.h), amounts rendered as Core renders them, and the parameter readers with
 * Core's error messages (rpc/util.cpp).
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
export class Btc {
  constructor(readonly sats: bigint) {}
}

export type Json =
  null | boolean | number | string | Btc | Json[] | { [key: string]: Json | undefined };

export type JsonObject = { [key: string]: Json | undefined };

/** Renders a result as Bitcoin Core does: amounts as numbers with exactly 8 decimals. */
export function serialize(value: Json | undefined): string {
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

export type Params = readonly unknown[];

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

export function typeError(value: unknown, expected: string): RpcError {
  return new RpcError(
    RPC_ERRORS.TYPE,
    `JSON value of type ${typeName(value)} is not of expected type ${expected}`,
  );
}

export function required(params: Params, index: number, name: string): unknown {
  const value = params[index];
  if (value === undefined || value === null) {
    throw new RpcError(RPC_ERRORS.INVALID_PARAMETER, `Missing required parameter "${name}"`);
  }
  return value;
}

export function integer(value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) throw typeError(value, 'number');
  return value;
}

export function text(value: unknown): string {
  if (typeof value !== 'string') throw typeError(value, 'string');
  return value;
}

/** ParseHashV: 64 hex characters. */
export function hash(value: unknown, name: string): string {
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
export function verbosity(value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value === 'boolean') return value ? 1 : 0;
  return integer(value);
}

export function bool(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw typeError(value, 'bool');
  return value;
}

/** A BTC/kvB amount parameter (number or string) as sat/kvB. */
export function feeRateParam(value: unknown, fallbackSatPerKvB: bigint): bigint {
  if (value === undefined || value === null) return fallbackSatPerKvB;
  const textValue =
    typeof value === 'number' ? value.toFixed(8) : typeof value === 'string' ? value : null;
  if (textValue === null) throw typeError(value, 'number');
  const match = /^(\d+)(?:\.(\d{1,8}))?$/.exec(textValue);
  if (!match) throw new RpcError(RPC_ERRORS.TYPE, 'Invalid amount');
  return BigInt(match[1]!) * 100_000_000n + BigInt((match[2] ?? '').padEnd(8, '0'));
}

export function decodeTx(value: unknown): Uint8Array {
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

// ------------------------------------------------------------------ methods

/** One RPC method: its parameter names (for JSON-RPC named parameters) and what it does. */
export interface RpcMethod {
  readonly params: readonly string[];
  readonly run: (simnet: Simnet, params: Params) => Json | Promise<Json>;
}

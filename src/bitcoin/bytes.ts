import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { AppError, type ErrorCode } from '../kernel';

/**
 * Hex at the edges only: these helpers convert and check, naming the field on failure. They are
 * the project's one hex codec (simnet's txids, the chain adapters, the API). @noble/hashes'
 * codec is used rather than @scure/base's `hex`, which on Node 20 (no Uint8Array.prototype.toHex)
 * goes bit by bit through its radix converter; noble's uses a 256-entry table.
 */
export function toHex(bytes: Uint8Array): string {
  return bytesToHex(bytes);
}

export function fromHex(
  text: string,
  field = 'hex',
  code: ErrorCode = 'VALIDATION_FAILED',
): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    throw new AppError(
      code,
      `${field} must be an even-length hex string, got "${abbreviate(text)}"`,
    );
  }
  return hexToBytes(text);
}

/**
 * Hashes are shown byte-reversed (the RPC/explorer convention for txids and block hashes).
 * Reverses into a scratch buffer and hex-encodes natively: one flat 64-character string, not a
 * rope of concatenations (which costs ~1 KB of heap per hash).
 */
const reverseScratch = Buffer.alloc(64);
export function toReversedHex(bytes: Uint8Array): string {
  const length = bytes.length;
  const target = length <= reverseScratch.length ? reverseScratch : Buffer.alloc(length);
  for (let i = 0; i < length; i++) target[i] = bytes[length - 1 - i] ?? 0;
  return target.toString('hex', 0, length);
}

export function fromReversedHex(text: string, field = 'hash'): Uint8Array {
  if (!/^[0-9a-fA-F]{64}$/.test(text)) {
    throw new AppError(
      'VALIDATION_FAILED',
      `${field} must be 64 hex characters, got "${abbreviate(text)}"`,
    );
  }
  return fromHex(text, field).reverse();
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function abbreviate(text: string, max = 80): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}

import { AppError, NETWORK_NAMES, type NetworkName } from '../kernel';
import { NETWORK_MAGIC } from './networks';

/**
 * Bitcoin Core stores blocks in blk*.dat files, each block framed as 4 magic bytes (the
 * network's message start, mainnet f9beb4d9) and a 4-byte little-endian length. Files are
 * preallocated, so a run of zero bytes after the last block is padding, not an error.
 */
export interface FramedBlock {
  readonly network: NetworkName;
  /** Offset of the block (after magic and length) in the file. */
  readonly offset: number;
  readonly bytes: Uint8Array;
}

function magicAt(bytes: Uint8Array, at: number): NetworkName | null {
  if (at + 4 > bytes.length) return null;
  const value =
    (((bytes[at] ?? 0) << 24) |
      ((bytes[at + 1] ?? 0) << 16) |
      ((bytes[at + 2] ?? 0) << 8) |
      (bytes[at + 3] ?? 0)) >>>
    0;
  for (const name of NETWORK_NAMES) {
    if (NETWORK_MAGIC[name] === value && name !== 'signet') return name;
  }
  return value === NETWORK_MAGIC.signet ? 'signet' : null;
}

export function isBlockFile(bytes: Uint8Array): boolean {
  return magicAt(bytes, 0) !== null;
}

export function readBlockFile(bytes: Uint8Array): FramedBlock[] {
  const blocks: FramedBlock[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    if (bytes[pos] === 0 && bytes.subarray(pos).every((b) => b === 0)) break;
    const network = magicAt(bytes, pos);
    if (network === null) {
      if (pos + 4 > bytes.length) throw truncatedFrame(pos, 'block file magic');
      throw new AppError(
        'INVALID_BLOCK',
        `no block file magic at byte ${pos} (expected f9beb4d9 or another network's)`,
      );
    }
    if (pos + 8 > bytes.length) throw truncatedFrame(pos + 4, 'block length');
    const length =
      ((bytes[pos + 4] ?? 0) |
        ((bytes[pos + 5] ?? 0) << 8) |
        ((bytes[pos + 6] ?? 0) << 16) |
        ((bytes[pos + 7] ?? 0) << 24)) >>>
      0;
    const start = pos + 8;
    if (start + length > bytes.length)
      throw truncatedFrame(bytes.length, `block of ${length} bytes starting at byte ${start}`);
    blocks.push({ network, offset: start, bytes: bytes.subarray(start, start + length) });
    pos = start + length;
  }
  return blocks;
}

function truncatedFrame(at: number, field: string): AppError {
  return new AppError('INVALID_BLOCK', `truncated at byte ${at} while reading ${field}`);
}

/**
 * Turns what a user hands us into raw blocks: blk*.dat framing, hex text (whitespace ignored)
 * or raw consensus bytes.
 */
export function decodeBlockInput(bytes: Uint8Array): Uint8Array[] {
  if (isBlockFile(bytes)) return readBlockFile(bytes).map((block) => block.bytes);
  if (looksLikeHex(bytes)) {
    const text = Buffer.from(bytes).toString('latin1').replace(/\s+/g, '');
    if (text.length % 2 !== 0) {
      throw new AppError('INVALID_BLOCK', `hex input has an odd number of digits (${text.length})`);
    }
    return [Uint8Array.from(Buffer.from(text, 'hex'))];
  }
  return [bytes];
}

function looksLikeHex(bytes: Uint8Array): boolean {
  if (bytes.length === 0) return false;
  const sample = Math.min(bytes.length, 4096);
  for (let i = 0; i < sample; i++) {
    const c = bytes[i] ?? 0;
    const hexDigit =
      (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
    const space = c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
    if (!hexDigit && !space) return false;
  }
  return /^[0-9a-fA-F\s]*$/.test(Buffer.from(bytes).toString('latin1'));
}

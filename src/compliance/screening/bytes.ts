import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { AppError } from '../../kernel';

export function sha256Hex(bytes: Uint8Array): string {
  return bytesToHex(sha256(bytes));
}

/**
 * Hash of a list published as several files: SHA-256 over "name:sha256hex\n" lines in a fixed
 * order, so that moving bytes from one file to another changes the hash.
 */
export function multiFileHash(files: ReadonlyArray<readonly [string, Uint8Array]>): string {
  const lines = files.map(([name, bytes]) => `${name}:${sha256Hex(bytes)}\n`).join('');
  return sha256Hex(utf8ToBytes(lines));
}

/**
 * Decode list bytes as UTF-8. The official files are UTF-8 (UN, EU) or plain ASCII (OFAC legacy
 * CSV); a file that is not valid UTF-8 is refused rather than silently mangled, because a wrong
 * letter in a name is a missed match.
 */
// eslint-disable-next-line no-control-regex -- 0x1A is exactly the character to strip
const CTRL_Z_AT_END = /\x1A+\s*$/;

export function decodeText(bytes: Uint8Array, file: string): string {
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    // OFAC's legacy files end with a DOS end-of-file marker (Ctrl-Z, 0x1A); a BOM may lead.
    return text.replace(/^\uFEFF/, '').replace(CTRL_Z_AT_END, '');
  } catch (cause) {
    throw new AppError('LIST_IMPORT_FAILED', `${file}: the file is not valid UTF-8 text`, {
      cause,
    });
  }
}

import { base58 } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { BIP32_VERSIONS } from '../networks';
import { abbreviate, equalBytes } from '../bytes';
import { descriptorError as fail } from './types';

// ---------------------------------------------------------------------------------------------
// SLIP-132 (ypub/zpub/…): wallets export account keys with a version that encodes the script
// type. Descriptors carry the script type themselves and take plain xpub/tpub.

const SLIP132_VERSIONS: Record<string, { version: number; network: 'mainnet' | 'testnet' }> = {
  ypub: { version: 0x049d7cb2, network: 'mainnet' },
  zpub: { version: 0x04b24746, network: 'mainnet' },
  Ypub: { version: 0x0295b43f, network: 'mainnet' },
  Zpub: { version: 0x02aa7ed3, network: 'mainnet' },
  upub: { version: 0x044a5262, network: 'testnet' },
  vpub: { version: 0x045f1cf6, network: 'testnet' },
  Upub: { version: 0x024289ef, network: 'testnet' },
  Vpub: { version: 0x02575483, network: 'testnet' },
};

/** Converts a SLIP-132 public key (zpub, vpub, …) to xpub/tpub; xpub/tpub pass through. */
export function convertSlip132(key: string): string {
  const prefix = key.slice(0, 4);
  if (prefix === 'xpub' || prefix === 'tpub') return key;
  const known = SLIP132_VERSIONS[prefix];
  if (!known)
    throw fail(
      `"${abbreviate(key, 16)}" is not an extended public key (xpub, tpub, ypub, zpub, upub, vpub, …)`,
    );
  let decoded: Uint8Array;
  try {
    decoded = base58.decode(key);
  } catch {
    throw fail(`"${abbreviate(key, 16)}" is not valid base58`);
  }
  const payload = decoded.subarray(0, decoded.length - 4);
  const checksum = sha256(sha256(payload)).subarray(0, 4);
  if (decoded.length !== 82 || !equalBytes(checksum, decoded.subarray(decoded.length - 4))) {
    throw fail(`extended key "${abbreviate(key, 16)}" has a bad checksum or length`);
  }
  const target = BIP32_VERSIONS[known.network].public;
  const converted = payload.slice();
  new DataView(converted.buffer).setUint32(0, target);
  const full = new Uint8Array(82);
  full.set(converted);
  full.set(sha256(sha256(converted)).subarray(0, 4), 78);
  return base58.encode(full);
}

import { base58, bech32, bech32m } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { AppError, type NetworkName } from '../kernel';
import {
  btcSignerNetwork,
  describeNetworks,
  networksForBase58Version,
  networksForBech32Prefix,
  BTC_SIGNER_NETWORKS,
} from './networks';
import { scriptType } from './script';
import { abbreviate, concatBytes, equalBytes } from './bytes';

export type AddressType = 'p2pkh' | 'p2sh' | 'p2wpkh' | 'p2wsh' | 'p2tr';

export interface ParsedAddress {
  readonly type: AddressType;
  readonly network: NetworkName;
  readonly scriptPubKey: Uint8Array;
  /** The form to store and compare: bech32 lowercased (BIP173), base58 unchanged (case matters). */
  readonly canonical: string;
}

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const BASE58_ALPHABET = /^[1-9A-HJ-NP-Za-km-z]+$/;
const KNOWN_BECH32_PREFIXES = ['bc', 'tb', 'bcrt'];

function addressError(text: string, reason: string): AppError {
  return new AppError('INVALID_ADDRESS', `address "${abbreviate(text, 100)}" ${reason}`);
}

/**
 * Parses and validates an address for `network`. Every failure is INVALID_ADDRESS with the
 * precise reason: wrong network (naming the one it is for), bad checksum, mixed-case bech32,
 * bech32 where bech32m is required or the reverse (BIP350), bad program or payload length.
 */
export function parseAddress(text: string, network: NetworkName): ParsedAddress {
  const trimmed = text.trim();
  if (trimmed === '') throw new AppError('INVALID_ADDRESS', 'address must not be empty');
  const lower = trimmed.toLowerCase();
  const separator = lower.lastIndexOf('1');
  if (separator > 0 && KNOWN_BECH32_PREFIXES.includes(lower.slice(0, separator))) {
    return parseSegwitAddress(trimmed, network);
  }
  return parseBase58Address(trimmed, network);
}

/** True when `text` is a valid address for `network`. */
export function isValidAddress(text: string, network: NetworkName): boolean {
  try {
    parseAddress(text, network);
    return true;
  } catch {
    return false;
  }
}

function parseSegwitAddress(text: string, network: NetworkName): ParsedAddress {
  const lower = text.toLowerCase();
  // BIP173: decoders must not accept strings with both upper and lower case characters.
  if (text !== lower && text !== text.toUpperCase()) {
    throw addressError(text, 'mixes upper and lower case; a bech32 address must be all one case');
  }
  const separator = lower.lastIndexOf('1');
  const prefix = lower.slice(0, separator);
  const expected = btcSignerNetwork(network).bech32;
  if (prefix !== expected) {
    const owners = networksForBech32Prefix(prefix);
    throw addressError(
      text,
      `is for ${describeNetworks(owners)} (prefix "${prefix}"), not ${network} (prefix "${expected}")`,
    );
  }
  const data = lower.slice(separator + 1);
  for (let i = 0; i < data.length; i++) {
    if (!BECH32_CHARSET.includes(data.charAt(i))) {
      throw addressError(text, `has a character that is not bech32: "${data.charAt(i)}"`);
    }
  }
  if (lower.length > 90)
    throw addressError(text, `is ${lower.length} characters; bech32 allows at most 90`);
  if (data.length < 7)
    throw addressError(text, 'is too short to hold a witness version and checksum');
  let words: number[];
  let encoding: 'bech32' | 'bech32m';
  const asBech32m = bech32m.decodeUnsafe(lower, 90);
  const asBech32 = asBech32m ? undefined : bech32.decodeUnsafe(lower, 90);
  if (asBech32m) {
    words = Array.from(asBech32m.words);
    encoding = 'bech32m';
  } else if (asBech32) {
    words = Array.from(asBech32.words);
    encoding = 'bech32';
  } else {
    throw addressError(text, 'has a bad checksum (neither bech32 nor bech32m verifies)');
  }
  const version = words[0];
  if (version === undefined) throw addressError(text, 'has no witness version');
  if (version > 16) throw addressError(text, `has witness version ${version}; the maximum is 16`);
  // BIP350: version 0 uses bech32, versions 1..16 use bech32m.
  if (version === 0 && encoding !== 'bech32') {
    throw addressError(
      text,
      'is a witness version 0 address encoded with bech32m; v0 must use bech32 (BIP173/BIP350)',
    );
  }
  if (version !== 0 && encoding !== 'bech32m') {
    throw addressError(
      text,
      `is a witness version ${version} address encoded with bech32; v1+ must use bech32m (BIP350)`,
    );
  }
  let program: Uint8Array;
  try {
    program = bech32.fromWords(words.slice(1));
  } catch {
    throw addressError(text, 'has invalid padding in its witness program');
  }
  let type: AddressType;
  if (version === 0) {
    if (program.length === 20) type = 'p2wpkh';
    else if (program.length === 32) type = 'p2wsh';
    else
      throw addressError(
        text,
        `has a ${program.length}-byte v0 witness program; it must be 20 or 32 bytes (BIP141)`,
      );
  } else if (version === 1) {
    if (program.length !== 32) {
      throw addressError(
        text,
        `has a ${program.length}-byte v1 witness program; taproot needs 32 bytes (BIP341)`,
      );
    }
    type = 'p2tr';
  } else {
    if (program.length < 2 || program.length > 40) {
      throw addressError(
        text,
        `has a ${program.length}-byte witness program; it must be 2 to 40 bytes (BIP141)`,
      );
    }
    throw addressError(
      text,
      `uses witness version ${version}, which is not in use yet and is not accepted`,
    );
  }
  const opVersion = version === 0 ? 0x00 : 0x50 + version;
  const scriptPubKey = concatBytes(Uint8Array.of(opVersion, program.length), program);
  return { type, network, scriptPubKey, canonical: lower };
}

function sha256d(data: Uint8Array): Uint8Array {
  return sha256(sha256(data));
}

function parseBase58Address(text: string, network: NetworkName): ParsedAddress {
  if (!BASE58_ALPHABET.test(text)) {
    const bad = [...text].find((c) => !BASE58_ALPHABET.test(c)) ?? '';
    throw addressError(
      text,
      `is neither bech32 nor base58 (character "${bad}" is not in the base58 alphabet)`,
    );
  }
  const decoded = base58.decode(text);
  if (decoded.length !== 25) {
    throw addressError(
      text,
      `decodes to ${decoded.length} bytes; a base58 address is 25 bytes (version, 20-byte hash, checksum)`,
    );
  }
  const payload = decoded.subarray(0, 21);
  const checksum = sha256d(payload).subarray(0, 4);
  if (!equalBytes(checksum, decoded.subarray(21))) throw addressError(text, 'has a bad checksum');
  const version = payload[0] ?? -1;
  const hash = payload.subarray(1);
  const params = BTC_SIGNER_NETWORKS[network];
  let type: AddressType;
  let scriptPubKey: Uint8Array;
  if (version === params.pubKeyHash) {
    type = 'p2pkh';
    scriptPubKey = concatBytes(Uint8Array.of(0x76, 0xa9, 0x14), hash, Uint8Array.of(0x88, 0xac));
  } else if (version === params.scriptHash) {
    type = 'p2sh';
    scriptPubKey = concatBytes(Uint8Array.of(0xa9, 0x14), hash, Uint8Array.of(0x87));
  } else {
    const owners = networksForBase58Version(version);
    if (owners.length > 0) {
      throw addressError(text, `is for ${describeNetworks(owners)}, not ${network}`);
    }
    throw addressError(
      text,
      `has version byte 0x${version.toString(16).padStart(2, '0')}, which is not a Bitcoin address version`,
    );
  }
  return { type, network, scriptPubKey, canonical: text };
}

/** The address of an output script, or INVALID_ADDRESS when the script type has none. */
export function addressFromScript(script: Uint8Array, network: NetworkName): string {
  const params = btcSignerNetwork(network);
  const type = scriptType(script);
  switch (type) {
    case 'p2pkh':
      return base58check(params.pubKeyHash, script.subarray(3, 23));
    case 'p2sh':
      return base58check(params.scriptHash, script.subarray(2, 22));
    case 'p2wpkh':
    case 'p2wsh':
      return bech32.encode(params.bech32, [0, ...bech32.toWords(script.subarray(2))], 90);
    case 'p2tr':
      return bech32m.encode(params.bech32, [1, ...bech32.toWords(script.subarray(2))], 90);
    default:
      throw new AppError('INVALID_ADDRESS', `a ${type} output script has no address`);
  }
}

function base58check(version: number, hash: Uint8Array): string {
  const payload = concatBytes(Uint8Array.of(version), hash);
  return base58.encode(concatBytes(payload, sha256d(payload).subarray(0, 4)));
}

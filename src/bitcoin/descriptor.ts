import { HDKey } from '@scure/bip32';
import { base58 } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { p2ms, p2pk, p2pkh, p2sh, p2tr, p2wpkh, p2wsh } from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { AppError, NETWORK_NAMES, type NetworkName } from '../kernel';
import { BIP32_VERSIONS, btcSignerNetwork, describeNetworks } from './networks';
import { abbreviate, equalBytes, fromHex, toHex } from './bytes';
import { addressFromScript } from './address';
import { scriptType, type ScriptType } from './script';

/**
 * Watch-only output script descriptors (BIP380 framework; BIP381 pk/pkh/sh, BIP382 wpkh/wsh,
 * BIP383 multi/sortedmulti, BIP386 tr without script tree, BIP389 multipath <0;1>).
 *
 * Tradeclear's server holds public keys only: private keys (xprv, WIF) in a descriptor are
 * refused, and so is hardened derivation after an xpub (it needs the private key).
 */

const HARDENED = 0x80000000;

export interface KeyOrigin {
  /** Master key fingerprint, 4 bytes. */
  readonly fingerprint: Uint8Array;
  readonly path: readonly number[];
}

/** A derivation step after an extended key: a child index, the range wildcard or <a;b;…>. */
export type PathStep = number | '*' | { readonly multipath: readonly number[] };

export type KeyExpression =
  | { readonly kind: 'pubkey'; readonly origin: KeyOrigin | null; readonly pubkey: Uint8Array }
  | {
      readonly kind: 'xpub';
      readonly origin: KeyOrigin | null;
      readonly key: HDKey;
      readonly text: string;
      readonly steps: readonly PathStep[];
    };

export type DescriptorNode =
  | { readonly type: 'pk' | 'pkh' | 'wpkh' | 'tr'; readonly key: KeyExpression }
  | { readonly type: 'sh' | 'wsh'; readonly inner: DescriptorNode }
  | {
      readonly type: 'multi' | 'sortedmulti';
      readonly threshold: number;
      readonly keys: readonly KeyExpression[];
    };

export interface Descriptor {
  readonly network: NetworkName;
  readonly root: DescriptorNode;
  /** True when some key has a `*` step: the descriptor describes a range of scripts. */
  readonly ranged: boolean;
  /** Number of alternatives of a BIP389 multipath step (<0;1> → 2), 1 when none. */
  readonly multipathCount: number;
}

function fail(message: string): AppError {
  return new AppError('INVALID_DESCRIPTOR', message);
}

// ---------------------------------------------------------------------------------------------
// BIP380 checksum

const INPUT_CHARSET =
  '0123456789()[],\'/*abcdefgh@:$%{}IJKLMNOPQRSTUVWXYZ&+-.;<=>?!^_|~ijklmnopqrstuvwxyzABCDEFGH`#"\\ ';
const CHECKSUM_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0xf5dee51989n, 0xa9fdca3312n, 0x1bab10e32dn, 0x3706b1677an, 0x644d626ffdn];

function polymod(symbols: readonly number[]): bigint {
  let chk = 1n;
  for (const value of symbols) {
    const top = chk >> 35n;
    chk = ((chk & 0x7ffffffffn) << 5n) ^ BigInt(value);
    for (let i = 0; i < 5; i++) {
      if ((top >> BigInt(i)) & 1n) chk ^= GENERATOR[i] ?? 0n;
    }
  }
  return chk;
}

function expand(text: string): number[] {
  const symbols: number[] = [];
  const groups: number[] = [];
  for (const char of text) {
    const v = INPUT_CHARSET.indexOf(char);
    if (v < 0)
      throw fail(`descriptor contains the character "${char}", which descriptors do not allow`);
    symbols.push(v & 31);
    groups.push(v >> 5);
    if (groups.length === 3) {
      symbols.push((groups[0] ?? 0) * 9 + (groups[1] ?? 0) * 3 + (groups[2] ?? 0));
      groups.length = 0;
    }
  }
  if (groups.length === 1) symbols.push(groups[0] ?? 0);
  else if (groups.length === 2) symbols.push((groups[0] ?? 0) * 3 + (groups[1] ?? 0));
  return symbols;
}

/** The 8-character BIP380 checksum of a descriptor (without its `#…` part). */
export function descriptorChecksum(descriptor: string): string {
  const value = polymod([...expand(descriptor), 0, 0, 0, 0, 0, 0, 0, 0]) ^ 1n;
  let out = '';
  for (let i = 0; i < 8; i++) out += CHECKSUM_CHARSET[Number((value >> BigInt(5 * (7 - i))) & 31n)];
  return out;
}

/** Appends `#checksum`. */
export function addDescriptorChecksum(descriptor: string): string {
  return `${descriptor}#${descriptorChecksum(descriptor)}`;
}

/**
 * Splits `SCRIPT#CHECKSUM`, verifying the checksum when present (BIP380: optional, but when
 * given it must be 8 characters and correct). Returns the descriptor without it.
 */
export function verifyDescriptorChecksum(text: string): string {
  const hash = text.indexOf('#');
  if (hash < 0) {
    expand(text);
    return text;
  }
  const body = text.slice(0, hash);
  const checksum = text.slice(hash + 1);
  if (checksum.length !== 8) {
    throw fail(`descriptor checksum must be 8 characters, got ${checksum.length} ("${checksum}")`);
  }
  if (![...checksum].every((c) => CHECKSUM_CHARSET.includes(c))) {
    throw fail(`descriptor checksum "${checksum}" has characters outside the checksum alphabet`);
  }
  const symbols = [...expand(body), ...[...checksum].map((c) => CHECKSUM_CHARSET.indexOf(c))];
  if (polymod(symbols) !== 1n) {
    throw fail(
      `descriptor checksum "${checksum}" does not match; expected "${descriptorChecksum(body)}"`,
    );
  }
  return body;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/** Splits `a,b(c,d),e` at top-level commas. */
function splitArgs(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of text) {
    if (char === '(' || char === '{' || char === '[') depth++;
    if (char === ')' || char === '}' || char === ']') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current);
      current = '';
    } else current += char;
  }
  parts.push(current);
  return parts;
}

function parseIndex(text: string, where: string): number {
  const match = /^(\d+)(h|')?$/.exec(text);
  if (!match)
    throw fail(
      `${where}: "${text}" is not a derivation step (a number, optionally followed by h or ')`,
    );
  const value = Number(match[1]);
  if (!Number.isSafeInteger(value) || value >= HARDENED) {
    throw fail(`${where}: derivation index ${match[1]} is out of range (must be below 2^31)`);
  }
  return match[2] ? value + HARDENED : value;
}

const SLIP132_PREFIXES = ['ypub', 'zpub', 'Ypub', 'Zpub', 'upub', 'vpub', 'Upub', 'Vpub'];

function parseKey(
  text: string,
  network: NetworkName,
  context: 'segwit' | 'taproot' | 'legacy',
): KeyExpression {
  let rest = text;
  let origin: KeyOrigin | null = null;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) throw fail(`key origin in "${abbreviate(text)}" is missing its closing "]"`);
    const parts = rest.slice(1, close).split('/');
    const fingerprint = parts[0] ?? '';
    if (!/^[0-9a-fA-F]{8}$/.test(fingerprint)) {
      throw fail(`key origin fingerprint must be 8 hex characters, got "${fingerprint}"`);
    }
    origin = {
      fingerprint: fromHex(fingerprint),
      path: parts.slice(1).map((step) => parseIndex(step, 'key origin')),
    };
    rest = rest.slice(close + 1);
    if (rest.startsWith('[')) throw fail(`key "${abbreviate(text)}" has more than one key origin`);
  } else if (rest.includes(']')) {
    throw fail(`key "${abbreviate(text)}" has a "]" without a key origin start "["`);
  }
  const [body = '', ...stepTexts] = rest.split('/');
  if (body === '') throw fail(`key origin in "${abbreviate(text)}" is not followed by a key`);
  if (/^[0-9a-fA-F]+$/.test(body)) {
    if (stepTexts.length > 0)
      throw fail(`public key ${abbreviate(body, 20)} cannot have derivation steps`);
    let pubkey = fromHex(body, 'public key', 'INVALID_DESCRIPTOR');
    if (pubkey.length === 32) {
      if (context !== 'taproot')
        throw fail('x-only (32-byte) public keys are only allowed inside tr()');
    } else if (pubkey.length === 33 || pubkey.length === 65) {
      try {
        secp256k1.Point.fromBytes(pubkey);
      } catch {
        throw fail(`public key ${abbreviate(body, 20)} is not a point on secp256k1`);
      }
      if (pubkey.length === 65 && context !== 'legacy') {
        throw fail(
          `uncompressed public key ${abbreviate(body, 20)} is not allowed in ${context === 'taproot' ? 'tr()' : 'segwit (wpkh/wsh)'} descriptors`,
        );
      }
      if (context === 'taproot') pubkey = pubkey.subarray(1);
    } else {
      throw fail(
        `public key must be 33 bytes (compressed), 65 (uncompressed) or 32 (x-only in tr()), got ${pubkey.length}`,
      );
    }
    return { kind: 'pubkey', origin, pubkey };
  }
  const prefix = body.slice(0, 4);
  if (prefix === 'xprv' || prefix === 'tprv' || /^[5KLc9]/.test(body)) {
    throw fail(
      'descriptors here are watch-only: private keys (xprv/tprv/WIF) are not accepted; give the xpub',
    );
  }
  if (SLIP132_PREFIXES.includes(prefix)) {
    throw fail(
      `${prefix} keys (SLIP-132) are not descriptor keys; convert to ${network === 'mainnet' ? 'xpub' : 'tpub'} with convertSlip132() and let the descriptor say the script type`,
    );
  }
  if (prefix !== 'xpub' && prefix !== 'tpub')
    throw fail(`"${abbreviate(body, 20)}" is not a public key or an xpub/tpub`);
  const expectedPrefix = network === 'mainnet' ? 'xpub' : 'tpub';
  if (prefix !== expectedPrefix) {
    const owners = NETWORK_NAMES.filter((n) => (n === 'mainnet' ? 'xpub' : 'tpub') === prefix);
    throw fail(
      `extended key ${abbreviate(body, 16)} is for ${describeNetworks(owners)}, not ${network}`,
    );
  }
  let key: HDKey;
  try {
    key = HDKey.fromExtendedKey(body, BIP32_VERSIONS[network]);
  } catch (error) {
    throw fail(
      `extended key ${abbreviate(body, 16)} is invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const steps: PathStep[] = [];
  stepTexts.forEach((step, i) => {
    const where = `key ${abbreviate(body, 16)} step ${i + 1}`;
    if (step === '*') {
      if (i !== stepTexts.length - 1) throw fail(`${where}: "*" must be the last step`);
      steps.push('*');
    } else if (step === "*'" || step === '*h') {
      throw fail(
        `${where}: hardened wildcard needs the private key; watch-only descriptors use unhardened "*"`,
      );
    } else if (step.startsWith('<')) {
      const match = /^<([^>]*)>$/.exec(step);
      const values = (match?.[1] ?? '').split(';');
      if (!match || values.length < 2)
        throw fail(`${where}: multipath step "${step}" must look like <0;1> (BIP389)`);
      const indexes = values.map((v) => parseIndex(v, where));
      if (indexes.some((v) => v >= HARDENED))
        throw fail(`${where}: hardened steps need the private key`);
      steps.push({ multipath: indexes });
    } else {
      const index = parseIndex(step, where);
      if (index >= HARDENED)
        throw fail(`${where}: hardened step "${step}" after an xpub needs the private key`);
      steps.push(index);
    }
  });
  if (steps.filter((s) => typeof s === 'object').length > 1)
    throw fail(`key ${abbreviate(body, 16)} has more than one multipath step`);
  return { kind: 'xpub', origin, key, text: body, steps };
}

type Context = 'top' | 'sh' | 'wsh';

function parseNode(text: string, network: NetworkName, context: Context): DescriptorNode {
  const open = text.indexOf('(');
  if (open < 0 || !text.endsWith(')')) {
    if (context === 'wsh' || context === 'sh')
      throw fail(`${context}() takes a script like multi(…), got "${abbreviate(text, 40)}"`);
    throw fail(
      `"${abbreviate(text, 40)}" is not a descriptor (expected e.g. wpkh(…), tr(…), wsh(sortedmulti(…)))`,
    );
  }
  const name = text.slice(0, open);
  const inner = text.slice(open + 1, -1);
  const keyContext = context === 'wsh' ? 'segwit' : 'legacy';
  switch (name) {
    case 'pk':
    case 'pkh':
      return { type: name, key: parseKey(inner, network, keyContext) };
    case 'wpkh':
      if (context === 'wsh') throw fail('wpkh() cannot be nested in wsh()');
      return { type: 'wpkh', key: parseKey(inner, network, 'segwit') };
    case 'tr':
      if (context !== 'top') throw fail('tr() is only allowed at the top level');
      if (splitArgs(inner).length > 1)
        throw fail('tr() with a script tree is not supported; use tr(KEY)');
      return { type: 'tr', key: parseKey(inner, network, 'taproot') };
    case 'sh':
      if (context !== 'top') throw fail('sh() is only allowed at the top level');
      return { type: 'sh', inner: parseNode(inner, network, 'sh') };
    case 'wsh':
      if (context === 'wsh') throw fail('wsh() cannot be nested in wsh()');
      return { type: 'wsh', inner: parseNode(inner, network, 'wsh') };
    case 'multi':
    case 'sortedmulti': {
      const [thresholdText = '', ...keyTexts] = splitArgs(inner);
      if (!/^\d+$/.test(thresholdText))
        throw fail(`${name}() threshold must be a number, got "${thresholdText}"`);
      const threshold = Number(thresholdText);
      const limit = context === 'top' ? 3 : context === 'sh' ? 15 : 20;
      if (keyTexts.length === 0) throw fail(`${name}() needs at least one key`);
      if (keyTexts.length > limit) {
        throw fail(
          `${name}() has ${keyTexts.length} keys; at most ${limit} are allowed ${context === 'top' ? 'at the top level' : `inside ${context}()`} (BIP383)`,
        );
      }
      if (threshold < 1 || threshold > keyTexts.length) {
        throw fail(
          `${name}() threshold must be between 1 and ${keyTexts.length} (the number of keys), got ${threshold}`,
        );
      }
      return { type: name, threshold, keys: keyTexts.map((k) => parseKey(k, network, keyContext)) };
    }
    default:
      throw fail(
        `"${name}(…)" is not a supported descriptor; supported: wpkh, tr, wsh, sh, pkh, pk, multi, sortedmulti`,
      );
  }
}

function keysOf(node: DescriptorNode): KeyExpression[] {
  if ('key' in node) return [node.key];
  if ('inner' in node) return keysOf(node.inner);
  return [...node.keys];
}

/**
 * Parses a descriptor for `network`. The checksum is verified when present. Whitespace around
 * it is ignored.
 */
export function parseDescriptor(text: string, network: NetworkName): Descriptor {
  const body = verifyDescriptorChecksum(text.trim());
  const root = parseNode(body, network, 'top');
  const keys = keysOf(root);
  let ranged = false;
  let multipathCount = 1;
  for (const key of keys) {
    if (key.kind !== 'xpub') continue;
    if (key.steps.includes('*')) ranged = true;
    for (const step of key.steps) {
      if (typeof step !== 'object') continue;
      if (multipathCount !== 1 && step.multipath.length !== multipathCount) {
        throw fail(
          'all multipath steps in a descriptor must have the same number of alternatives (BIP389)',
        );
      }
      multipathCount = step.multipath.length;
    }
  }
  return { network, root, ranged, multipathCount };
}

// ---------------------------------------------------------------------------------------------
// Printing

function formatIndex(index: number): string {
  return index >= HARDENED ? `${index - HARDENED}h` : String(index);
}

function formatKey(key: KeyExpression): string {
  const origin = key.origin
    ? `[${toHex(key.origin.fingerprint)}${key.origin.path.map((i) => `/${formatIndex(i)}`).join('')}]`
    : '';
  if (key.kind === 'pubkey') return origin + toHex(key.pubkey);
  const steps = key.steps
    .map((s) =>
      s === '*'
        ? '/*'
        : typeof s === 'number'
          ? `/${formatIndex(s)}`
          : `/<${s.multipath.map(formatIndex).join(';')}>`,
    )
    .join('');
  return origin + key.text + steps;
}

function formatNode(node: DescriptorNode): string {
  if ('key' in node) return `${node.type}(${formatKey(node.key)})`;
  if ('inner' in node) return `${node.type}(${formatNode(node.inner)})`;
  return `${node.type}(${node.threshold},${node.keys.map(formatKey).join(',')})`;
}

/** The descriptor in normal form (hardened steps as `h`) with its BIP380 checksum. */
export function descriptorToString(descriptor: Descriptor): string {
  return addDescriptorChecksum(formatNode(descriptor.root));
}

// ---------------------------------------------------------------------------------------------
// Derivation

export type Branch = 0 | 1;
export const RECEIVE: Branch = 0;
export const CHANGE: Branch = 1;

export interface DerivedKey {
  readonly pubkey: Uint8Array;
  /** Fingerprint of the master key (from the key origin, else of the key itself). */
  readonly fingerprint: number;
  /** Full BIP32 path from that master key. */
  readonly path: readonly number[];
}

export interface DerivedOutput {
  readonly scriptPubKey: Uint8Array;
  readonly type: ScriptType;
  /** Null for outputs without an address (bare multisig, p2pk). */
  readonly address: string | null;
  readonly redeemScript?: Uint8Array;
  readonly witnessScript?: Uint8Array;
  /** x-only internal key of a tr() output (BIP341/BIP86). */
  readonly tapInternalKey?: Uint8Array;
  readonly keys: readonly DerivedKey[];
}

function hash160(data: Uint8Array): Uint8Array {
  return ripemd160(sha256(data));
}

function fingerprintOf(pubkey: Uint8Array): number {
  const id = hash160(pubkey);
  return (((id[0] ?? 0) << 24) | ((id[1] ?? 0) << 16) | ((id[2] ?? 0) << 8) | (id[3] ?? 0)) >>> 0;
}

function deriveKey(key: KeyExpression, alternative: number, index: number): DerivedKey {
  const originFingerprint = key.origin
    ? (((key.origin.fingerprint[0] ?? 0) << 24) |
        ((key.origin.fingerprint[1] ?? 0) << 16) |
        ((key.origin.fingerprint[2] ?? 0) << 8) |
        (key.origin.fingerprint[3] ?? 0)) >>>
      0
    : null;
  const originPath = key.origin?.path ?? [];
  if (key.kind === 'pubkey') {
    return {
      pubkey: key.pubkey,
      fingerprint: originFingerprint ?? fingerprintOf(key.pubkey),
      path: originPath,
    };
  }
  let node = key.key;
  const path: number[] = [...originPath];
  for (const step of key.steps) {
    const child =
      step === '*' ? index : typeof step === 'number' ? step : (step.multipath[alternative] ?? 0);
    node = node.deriveChild(child);
    path.push(child);
  }
  const pubkey = node.publicKey;
  if (!pubkey) throw fail('derived key has no public key');
  return {
    pubkey,
    fingerprint: originFingerprint ?? key.key.fingerprint,
    path,
  };
}

function deriveNode(
  node: DescriptorNode,
  network: NetworkName,
  alternative: number,
  index: number,
): {
  script: Uint8Array;
  redeemScript?: Uint8Array;
  witnessScript?: Uint8Array;
  tapInternalKey?: Uint8Array;
  keys: DerivedKey[];
} {
  const net = btcSignerNetwork(network);
  switch (node.type) {
    case 'pk': {
      const key = deriveKey(node.key, alternative, index);
      return { script: p2pk(key.pubkey, net).script, keys: [key] };
    }
    case 'pkh': {
      const key = deriveKey(node.key, alternative, index);
      return { script: p2pkh(key.pubkey, net).script, keys: [key] };
    }
    case 'wpkh': {
      const key = deriveKey(node.key, alternative, index);
      return { script: p2wpkh(key.pubkey, net).script, keys: [key] };
    }
    case 'tr': {
      const key = deriveKey(node.key, alternative, index);
      const xonly = key.pubkey.length === 33 ? key.pubkey.subarray(1) : key.pubkey;
      const payment = p2tr(xonly, undefined, net);
      return { script: payment.script, tapInternalKey: xonly, keys: [{ ...key, pubkey: xonly }] };
    }
    case 'multi':
    case 'sortedmulti': {
      const keys = node.keys.map((k) => deriveKey(k, alternative, index));
      const pubkeys = keys.map((k) => k.pubkey);
      // BIP383: sortedmulti sorts the derived keys lexicographically.
      if (node.type === 'sortedmulti') pubkeys.sort(compareBytes);
      return { script: p2ms(node.threshold, pubkeys, true).script, keys };
    }
    case 'wsh': {
      const inner = deriveNode(node.inner, network, alternative, index);
      const payment = p2wsh({ type: 'unknown', script: inner.script }, net, true);
      return { script: payment.script, witnessScript: inner.script, keys: inner.keys };
    }
    case 'sh': {
      const inner = deriveNode(node.inner, network, alternative, index);
      const payment = p2sh({ type: 'unknown', script: inner.script }, net, true);
      return {
        script: payment.script,
        redeemScript: inner.script,
        ...(inner.witnessScript ? { witnessScript: inner.witnessScript } : {}),
        keys: inner.keys,
      };
    }
  }
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff;
  }
  return a.length - b.length;
}

function checkIndex(index: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= HARDENED) {
    throw fail(`index must be an integer from 0 to 2^31-1, got ${index}`);
  }
}

/**
 * Derives the output at `index` of the descriptor exactly as written (for a multipath
 * descriptor, of the alternative `alternative`).
 */
export function deriveOutput(
  descriptor: Descriptor,
  index: number,
  alternative = 0,
): DerivedOutput {
  checkIndex(index);
  if (!descriptor.ranged && index !== 0)
    throw fail(`descriptor has no "*" step, so only index 0 exists, got ${index}`);
  if (alternative < 0 || alternative >= descriptor.multipathCount) {
    throw fail(
      `multipath alternative must be 0..${descriptor.multipathCount - 1}, got ${alternative}`,
    );
  }
  const derived = deriveNode(descriptor.root, descriptor.network, alternative, index);
  const type = scriptType(derived.script);
  const hasAddress =
    type === 'p2pkh' || type === 'p2sh' || type === 'p2wpkh' || type === 'p2wsh' || type === 'p2tr';
  return {
    scriptPubKey: derived.script,
    type,
    address: hasAddress ? addressFromScript(derived.script, descriptor.network) : null,
    ...(derived.redeemScript ? { redeemScript: derived.redeemScript } : {}),
    ...(derived.witnessScript ? { witnessScript: derived.witnessScript } : {}),
    ...(derived.tapInternalKey ? { tapInternalKey: derived.tapInternalKey } : {}),
    keys: derived.keys,
  };
}

/**
 * The descriptor's branch (0 receive, 1 change; BIP44's "change" level): for a BIP389 multipath
 * descriptor (`…/<0;1>/*`) the alternative; otherwise every ranged key must end in `/0/*` or
 * `/1/*` (the usual receive descriptor) and that step is set to the branch.
 */
export function branchDescriptor(descriptor: Descriptor, branch: Branch): Descriptor {
  if (branch !== 0 && branch !== 1)
    throw fail(`branch must be 0 (receive) or 1 (change), got ${String(branch)}`);
  if (descriptor.multipathCount > 1) {
    if (descriptor.multipathCount !== 2)
      throw fail(
        'a multipath descriptor with a receive and a change branch has exactly two alternatives (<0;1>)',
      );
    return descriptor;
  }
  const rewrite = (key: KeyExpression): KeyExpression => {
    if (key.kind !== 'xpub' || !key.steps.includes('*')) return key;
    const last = key.steps[key.steps.length - 2];
    if (key.steps.length < 2 || (last !== 0 && last !== 1)) {
      throw fail(
        `key ${abbreviate(key.text, 16)} has no receive/change step; write it as …/0/* or …/<0;1>/*`,
      );
    }
    return { ...key, steps: [...key.steps.slice(0, -2), branch, '*'] };
  };
  const rewriteNode = (node: DescriptorNode): DescriptorNode => {
    if ('key' in node) return { ...node, key: rewrite(node.key) };
    if ('inner' in node) return { ...node, inner: rewriteNode(node.inner) };
    return { ...node, keys: node.keys.map(rewrite) };
  };
  if (!descriptor.ranged)
    throw fail('descriptor has no "*" step, so it has no receive and change branches');
  return { ...descriptor, root: rewriteNode(descriptor.root) };
}

/** The address (and scripts and key paths) at `index` of the receive (0) or change (1) branch. */
export function deriveAddress(
  descriptor: Descriptor | string,
  branch: Branch,
  index: number,
  network?: NetworkName,
): DerivedOutput {
  const parsed =
    typeof descriptor === 'string'
      ? parseDescriptor(descriptor, requireNetwork(network))
      : descriptor;
  const branched = branchDescriptor(parsed, branch);
  return deriveOutput(branched, index, branched.multipathCount > 1 ? branch : 0);
}

function requireNetwork(network: NetworkName | undefined): NetworkName {
  if (network === undefined) throw fail('network is required to parse a descriptor string');
  return network;
}

export interface GapScanResult {
  /** Highest index found used, or null when none was. */
  readonly lastUsed: number | null;
  /** The first index after the last used one: the next address to hand out. */
  readonly nextUnused: number;
  /** How many indexes were checked. */
  readonly scanned: number;
}

/**
 * Scans indexes from `start` until `gap` consecutive unused ones (BIP44's address gap limit,
 * 20 by default): wallet discovery, and the window a watcher must watch.
 */
export async function scanWithGapLimit(
  isUsed: (index: number) => boolean | Promise<boolean>,
  gap = 20,
  start = 0,
): Promise<GapScanResult> {
  if (!Number.isInteger(gap) || gap < 1)
    throw new AppError('VALIDATION_FAILED', `gap must be a positive integer, got ${gap}`);
  let lastUsed: number | null = null;
  let unusedRun = 0;
  let index = start;
  while (unusedRun < gap) {
    if (await isUsed(index)) {
      lastUsed = index;
      unusedRun = 0;
    } else unusedRun++;
    index++;
  }
  return { lastUsed, nextUnused: lastUsed === null ? start : lastUsed + 1, scanned: index - start };
}

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

import { HDKey } from '@scure/bip32';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { NETWORK_NAMES, type NetworkName } from '../../kernel';
import { BIP32_VERSIONS, describeNetworks } from '../networks';
import { abbreviate, fromHex } from '../bytes';
import { verifyDescriptorChecksum } from './checksum';
import {
  HARDENED,
  descriptorError as fail,
  type Descriptor,
  type DescriptorNode,
  type KeyExpression,
  type KeyOrigin,
  type PathStep,
} from './types';

/** Parsing descriptors (BIP380 expressions, BIP381–386 script functions, BIP389 multipath). */

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

type KeyContext = 'segwit' | 'taproot' | 'legacy';

/** Splits a leading `[fingerprint/path]` key origin off a key expression. */
function splitKeyOrigin(text: string): { origin: KeyOrigin | null; rest: string } {
  if (!text.startsWith('[')) {
    if (text.includes(']'))
      throw fail(`key "${abbreviate(text)}" has a "]" without a key origin start "["`);
    return { origin: null, rest: text };
  }
  const close = text.indexOf(']');
  if (close < 0) throw fail(`key origin in "${abbreviate(text)}" is missing its closing "]"`);
  const parts = text.slice(1, close).split('/');
  const fingerprint = parts[0] ?? '';
  if (!/^[0-9a-fA-F]{8}$/.test(fingerprint)) {
    throw fail(`key origin fingerprint must be 8 hex characters, got "${fingerprint}"`);
  }
  const origin = {
    fingerprint: fromHex(fingerprint),
    path: parts.slice(1).map((step) => parseIndex(step, 'key origin')),
  };
  const rest = text.slice(close + 1);
  if (rest.startsWith('[')) throw fail(`key "${abbreviate(text)}" has more than one key origin`);
  return { origin, rest };
}

/** A hex public key: x-only inside tr() only, uncompressed outside segwit and tr() only. */
function parsePublicKey(body: string, context: KeyContext): Uint8Array {
  const pubkey = fromHex(body, 'public key', 'INVALID_DESCRIPTOR');
  if (pubkey.length === 32) {
    if (context !== 'taproot')
      throw fail('x-only (32-byte) public keys are only allowed inside tr()');
    return pubkey;
  }
  if (pubkey.length !== 33 && pubkey.length !== 65) {
    throw fail(
      `public key must be 33 bytes (compressed), 65 (uncompressed) or 32 (x-only in tr()), got ${pubkey.length}`,
    );
  }
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
  return context === 'taproot' ? pubkey.subarray(1) : pubkey;
}

/** An xpub/tpub of `network`; private keys and SLIP-132 keys are refused with what to do. */
function parseExtendedKey(body: string, network: NetworkName): HDKey {
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
  try {
    return HDKey.fromExtendedKey(body, BIP32_VERSIONS[network]);
  } catch (error) {
    throw fail(
      `extended key ${abbreviate(body, 16)} is invalid: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
}

/** The unhardened steps after an xpub: indexes, a last `*`, at most one BIP389 `<a;b>`. */
function parseSteps(body: string, stepTexts: readonly string[]): PathStep[] {
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
  return steps;
}

function parseKey(text: string, network: NetworkName, context: KeyContext): KeyExpression {
  const { origin, rest } = splitKeyOrigin(text);
  const [body = '', ...stepTexts] = rest.split('/');
  if (body === '') throw fail(`key origin in "${abbreviate(text)}" is not followed by a key`);
  if (/^[0-9a-fA-F]+$/.test(body)) {
    if (stepTexts.length > 0)
      throw fail(`public key ${abbreviate(body, 20)} cannot have derivation steps`);
    return { kind: 'pubkey', origin, pubkey: parsePublicKey(body, context) };
  }
  const key = parseExtendedKey(body, network);
  return { kind: 'xpub', origin, key, text: body, steps: parseSteps(body, stepTexts) };
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

import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { p2ms, p2pk, p2pkh, p2sh, p2tr, p2wpkh, p2wsh } from '@scure/btc-signer';
import { AppError, type NetworkName } from '../../kernel';
import { btcSignerNetwork } from '../networks';
import { abbreviate } from '../bytes';
import { addressFromScript } from '../address';
import { scriptType, type ScriptType } from '../script';
import { parseDescriptor } from './parse';
import {
  HARDENED,
  descriptorError as fail,
  type Descriptor,
  type DescriptorNode,
  type KeyExpression,
} from './types';

/** Deriving output scripts and addresses from a parsed descriptor (BIP32 public derivation). */

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

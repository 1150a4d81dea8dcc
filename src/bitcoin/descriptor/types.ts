import type { HDKey } from '@scure/bip32';
import { AppError, type NetworkName } from '../../kernel';

/** The parsed form of a descriptor, shared by the parser, the printer and derivation. */

/** BIP32: child indexes from 2^31 are hardened. */
export const HARDENED = 0x80000000;

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

/** An INVALID_DESCRIPTOR error: every refusal of a descriptor, its keys or its derivation. */
export function descriptorError(message: string): AppError {
  return new AppError('INVALID_DESCRIPTOR', message);
}

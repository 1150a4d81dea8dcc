/**
 * Watch-only output script descriptors (BIP380 framework; BIP381 pk/pkh/sh, BIP382 wpkh/wsh,
 * BIP383 multi/sortedmulti, BIP386 tr without script tree, BIP389 multipath <0;1>).
 *
 * Tradeclear's server holds public keys only: private keys (xprv, WIF) in a descriptor are
 * refused, and so is hardened derivation after an xpub (it needs the private key).
 */
export type { Descriptor, DescriptorNode, KeyExpression, KeyOrigin, PathStep } from './types';
export { addDescriptorChecksum, descriptorChecksum, verifyDescriptorChecksum } from './checksum';
export { parseDescriptor } from './parse';
export { descriptorToString } from './format';
export {
  CHANGE,
  RECEIVE,
  branchDescriptor,
  deriveAddress,
  deriveOutput,
  scanWithGapLimit,
} from './derive';
export type { Branch, DerivedKey, DerivedOutput, GapScanResult } from './derive';
export { convertSlip132 } from './slip132';

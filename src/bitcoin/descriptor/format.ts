import { toHex } from '../bytes';
import { addDescriptorChecksum } from './checksum';
import { HARDENED, type Descriptor, type DescriptorNode, type KeyExpression } from './types';

/** Printing a descriptor in normal form. */

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

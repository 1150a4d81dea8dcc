/**
 * Exact address screening. Each address is reduced to a canonical form by its chain's rules,
 * and looked up in a Map (O(1)):
 * - bech32 / bech32m (BIP173 / BIP350; bc1…, tb1…, ltc1…): case-insensitive by definition,
 *   canonically lower case — lowered when the string decodes as bech32 or bech32m;
 * - 0x + 40 hex digits (Ethereum and ERC-20 tokens such as USDT): hex is case-insensitive (the
 *   mixed case of EIP-55 is only a checksum), so lowered;
 * - anything else (Bitcoin/Litecoin base58check, Tron, Monero, …): case-sensitive, as is.
 * Screening never throws: a string that is not an address of any kind simply matches nothing.
 */
import { bech32, bech32m } from '@scure/base';
import type { ListedAddress, ListSnapshot, ListSource } from './types';

export interface AddressMatch {
  listEntryId: string;
  source: ListSource;
  contentHash: string;
  primaryName: string;
  /** The address as the list wrote it, and the asset it gave. */
  listed: ListedAddress;
}

const HEX_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const BECH32_SHAPE = /^[a-zA-Z]{1,83}1[02-9ac-hj-np-zAC-HJ-NP-Z]{6,}$/;

function isBech32(text: string): boolean {
  // A mixed-case string is not valid bech32 (BIP173); the decoders enforce it.
  for (const codec of [bech32, bech32m]) {
    try {
      codec.decode(text as `${string}1${string}`, 120);
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

/** The canonical form of an address for comparison, or undefined for a string that cannot be one. */
export function canonicalAddress(input: string): string | undefined {
  if (typeof input !== 'string') return undefined;
  const text = input.trim();
  if (text.length < 14 || text.length > 120 || !/^[A-Za-z0-9]+$/.test(text)) return undefined;
  if (HEX_ADDRESS.test(text)) return text.toLowerCase();
  if (BECH32_SHAPE.test(text) && isBech32(text)) return text.toLowerCase();
  return text;
}

export class AddressIndex {
  private readonly byAddress = new Map<string, AddressMatch[]>();

  private constructor() {}

  static build(snapshots: readonly ListSnapshot[]): AddressIndex {
    const index = new AddressIndex();
    for (const snapshot of snapshots) {
      for (const entry of snapshot.entries) {
        for (const listed of entry.addresses) {
          const key = canonicalAddress(listed.address) ?? listed.address;
          const matches = index.byAddress.get(key) ?? [];
          matches.push({
            listEntryId: entry.listEntryId,
            source: snapshot.source,
            contentHash: snapshot.contentHash,
            primaryName: entry.primaryName,
            listed,
          });
          index.byAddress.set(key, matches);
        }
      }
    }
    return index;
  }

  get size(): number {
    return this.byAddress.size;
  }

  /** The list entries that list this address (empty when none, or when it is not an address). */
  screenAddress(address: string): AddressMatch[] {
    const key = canonicalAddress(address);
    if (key === undefined) return [];
    return this.byAddress.get(key) ?? [];
  }
}

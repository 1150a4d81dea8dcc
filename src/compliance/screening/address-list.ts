/**
 * Plain address lists: one address per line, case preserved (the format of the OFAC-derived
 * `sanctioned_addresses_<ASSET>.txt` files). Each address becomes one entry of kind 'other'
 * with no name, identified as `<ASSET>:<address>`. Blank lines and `#` comments are skipped.
 */
import { AppError } from '../../kernel';
import { decodeText, sha256Hex } from './bytes';
import { countEntries, type ImportOptions, type ListEntry, type ListSnapshot } from './types';

export interface AddressListOptions extends ImportOptions {
  /** The asset ticker the file lists (XBT, ETH, USDT, LTC, …). */
  asset: string;
  /** File name for error messages. */
  file?: string;
}

export function importAddressList(bytes: Uint8Array, options: AddressListOptions): ListSnapshot {
  const file = options.file ?? `address list (${options.asset})`;
  const asset = options.asset.trim().toUpperCase();
  if (!/^[A-Z0-9]{2,10}$/.test(asset)) {
    throw new AppError(
      'LIST_IMPORT_FAILED',
      `${file}: asset must be a ticker like XBT or ETH, got "${options.asset}"`,
    );
  }
  const lines = decodeText(bytes, file).split(/\r?\n/);
  const entries: ListEntry[] = [];
  const seen = new Set<string>();
  lines.forEach((raw, i) => {
    const address = raw.trim();
    if (address === '' || address.startsWith('#')) return;
    // Addresses of every chain we know are short runs of ASCII letters and digits (base58, bech32, hex).
    if (!/^[A-Za-z0-9]{20,120}$/.test(address)) {
      throw new AppError(
        'LIST_IMPORT_FAILED',
        `${file} line ${i + 1}: expected one address (20–120 letters and digits), got "${address.slice(0, 60)}"`,
      );
    }
    if (seen.has(address)) return;
    seen.add(address);
    entries.push({
      listEntryId: `${asset}:${address}`,
      kind: 'other',
      primaryName: '',
      aliases: [],
      countries: [],
      programs: [],
      addresses: [{ asset, address }],
    });
    if (options.onProgress && ((i + 1) % 100 === 0 || i === lines.length - 1))
      options.onProgress(i + 1, lines.length);
  });
  if (entries.length === 0)
    throw new AppError('LIST_IMPORT_FAILED', `${file}: the file lists no addresses`);
  return {
    source: 'address-list',
    publicationDate: null,
    contentHash: sha256Hex(bytes),
    counts: countEntries(entries),
    entries,
  };
}

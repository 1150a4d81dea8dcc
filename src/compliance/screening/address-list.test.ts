import { describe, expect, it } from 'vitest';
import { importAddressList } from './address-list';
import { AddressIndex, canonicalAddress } from './address-index';
import { loadOfac, readVector } from '../../../test/support/screening-lists';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('OFAC-derived address lists (September 2024)', () => {
  const counts = { XBT: 435, ETH: 152, USDT: 26, LTC: 10 } as const;
  const snapshots = Object.entries(counts).map(([asset, count]) => {
    const snapshot = importAddressList(
      readVector(`ofac-crypto-2024-09/sanctioned_addresses_${asset}.txt`),
      { asset },
    );
    return { asset, count, snapshot };
  });

  it.each(snapshots)('imports every $asset address ($count)', ({ snapshot, count }) => {
    expect(snapshot.counts.addresses).toBe(count);
    expect(snapshot.counts.entries).toBe(count);
    expect(snapshot.source).toBe('address-list');
  });

  const index = AddressIndex.build([...snapshots.map((s) => s.snapshot), loadOfac()]);

  it('matches base58 exactly and case-sensitively', () => {
    expect(
      index.screenAddress('123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX').map((m) => m.listEntryId),
    ).toEqual(['XBT:123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX']);
    expect(index.screenAddress('123wbudmsjv4gctdvez6qq6z8nxskrj4kx')).toEqual([]);
  });

  it('matches bech32 in either case, and 0x-hex lowercased', () => {
    const bech = snapshots[0]?.snapshot.entries.find((e) =>
      e.addresses[0]?.address.startsWith('bc1'),
    )?.addresses[0]?.address;
    expect(bech).toBeDefined();
    expect(index.screenAddress(bech ?? '').length).toBe(1);
    expect(index.screenAddress((bech ?? '').toUpperCase()).length).toBe(1);
    expect(
      index.screenAddress('0x01e2919679362dfbc9ee1644ba9c6da6d6245bb1')[0]?.listed.address,
    ).toBe('0x01e2919679362dFBC9ee1644Ba9C6da6D6245BB1');
  });

  it('finds an SDN entry by the address in its remarks (ent_num 25308, YAN Xiaobing)', () => {
    const hits = index.screenAddress('12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h');
    expect(hits.map((h) => [h.source, h.listEntryId, h.primaryName])).toContainEqual([
      'ofac-sdn',
      '25308',
      'YAN, Xiaobing',
    ]);
    // The same hex address is listed for ETH and ETC on SDN entry 29585, and in the 2024 ETH list.
    const eth = index.screenAddress('0xD882CFC20F52F2599D84B8E8D58C7FB62CFE344B');
    expect(
      eth
        .filter((h) => h.source === 'ofac-sdn')
        .map((h) => h.listed.asset)
        .sort(),
    ).toEqual(['ETC', 'ETH']);
    expect(eth.filter((h) => h.source === 'address-list')).toHaveLength(1);
  });

  it('never throws on odd input', () => {
    for (const odd of [
      '',
      ' ',
      'bc1',
      'BC1QmIxEd',
      '0x',
      'not an address',
      '🙂'.repeat(30),
      'x'.repeat(10_000),
    ]) {
      expect(index.screenAddress(odd)).toEqual([]);
    }
    expect(canonicalAddress('0xABCDEF0123456789abcdef0123456789ABCDEF01')).toBe(
      '0xabcdef0123456789abcdef0123456789abcdef01',
    );
  });

  it('refuses a line that is not an address, naming the line', () => {
    expect(() =>
      importAddressList(enc('1BoatSLRHtKNngkdXEeobR76b53LETtpyT\n<html>\n'), {
        asset: 'XBT',
        file: 'x.txt',
      }),
    ).toThrow(/x\.txt line 2/);
  });
});

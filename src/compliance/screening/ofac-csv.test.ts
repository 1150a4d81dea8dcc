import { describe, expect, it } from 'vitest';
import { isAppError } from '../../kernel';
import { importOfacSdnCsv, extractDigitalCurrencyAddresses } from './ofac-csv';
import { ofacFiles } from '../../../test/support/screening-lists';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('OFAC SDN legacy CSV (sdn.csv + add.csv + alt.csv, July 2021)', () => {
  const files = ofacFiles();
  const progress: Array<[number, number]> = [];
  const snapshot = importOfacSdnCsv(files, {
    onProgress: (done, total) => progress.push([done, total]),
  });
  const byId = new Map(snapshot.entries.map((e) => [e.listEntryId, e]));

  it('imports all 8,976 entries with the type column mapped to kinds', () => {
    expect(snapshot.source).toBe('ofac-sdn');
    expect(snapshot.publicationDate).toBeNull();
    expect(snapshot.counts.entries).toBe(8976);
    // Counted from the SDN_Type column of sdn.csv: individual / vessel / aircraft / -0-.
    expect(snapshot.counts.individuals).toBe(4620);
    expect(snapshot.counts.vessels).toBe(406);
    expect(snapshot.counts.aircraft).toBe(277);
    expect(snapshot.counts.entities).toBe(3673);
    expect(snapshot.contentHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('finds the 15 entries with "Digital Currency Address" remarks, with every address and asset', () => {
    const withAddresses = snapshot.entries.filter((e) => e.addresses.length > 0);
    expect(withAddresses).toHaveLength(15);
    // 81 occurrences of "Digital Currency Address - " in sdn.csv.
    expect(snapshot.counts.addresses).toBe(81);
    const yan = byId.get('25308');
    expect(yan?.primaryName).toBe('YAN, Xiaobing');
    expect(yan?.kind).toBe('person');
    expect(yan?.addresses).toContainEqual({
      asset: 'XBT',
      address: '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h',
    });
    expect(yan?.addresses).toHaveLength(6);
    expect(yan?.dateOfBirth).toBe('25 Mar 1977');
    const karasavidi = byId.get('29585');
    expect(new Set(karasavidi?.addresses.map((a) => a.asset))).toEqual(
      new Set(['XBT', 'ETH', 'XMR', 'LTC', 'ZEC', 'DASH', 'BTG', 'ETC']),
    );
    expect(karasavidi?.addresses).toContainEqual({
      asset: 'ETH',
      address: '0xd882cfc20f52f2599d84b8e8d58c7fb62cfe344b',
    });
    expect(byId.get('30520')?.addresses.map((a) => a.asset)).toContain('XVG');
    expect(byId.get('31212')?.addresses.map((a) => a.asset)).toContain('BCH');
  });

  it('reads aliases from alt.csv and weak AKAs from the remarks, programs split on "] ["', () => {
    const bnc = byId.get('306');
    expect(bnc?.primaryName).toBe('BANCO NACIONAL DE CUBA');
    expect(bnc?.aliases).toContainEqual({
      name: 'NATIONAL BANK OF CUBA',
      quality: 'aka',
      strength: 'strong',
    });
    expect(bnc?.aliases).toContainEqual({ name: 'BNC', quality: 'weak aka', strength: 'weak' });
    expect(bnc?.countries).toContain('Switzerland');
    expect(byId.get('30520')?.programs).toEqual(['CYBER2', 'ELECTION-EO13848']);
    expect(byId.get('173')?.primaryName).toBe('ANGLO-CARIBBEAN CO., LTD.'); // quoted comma kept
  });

  it('reports progress up to the total number of records', () => {
    const last = progress[progress.length - 1];
    expect(last?.[0]).toBe(last?.[1]);
    expect(last?.[1]).toBe(8976 + 13837 + 11910);
  });

  it('extracts addresses from a remark, the last one ending with a period', () => {
    expect(
      extractDigitalCurrencyAddresses(
        'Gender Male; Digital Currency Address - XBT 1ABCdefGHJ; alt. Digital Currency Address - USDT 0xabc123.',
      ),
    ).toEqual([
      { asset: 'XBT', address: '1ABCdefGHJ' },
      { asset: 'USDT', address: '0xabc123' },
    ]);
  });

  it.each([
    ['an unclosed quote', '36,"AEROCARIBBEAN AIRLINES,-0- ,"CUBA"\r\n', 'sdn.csv line 1'],
    ['a short record', '36,"AEROCARIBBEAN AIRLINES",-0-\r\n', 'sdn.csv line 1: expected 12 fields'],
    [
      'a non-numeric ent_num',
      'x,"A",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
      'ent_num',
    ],
    [
      'an unknown SDN_Type',
      '1,"A","robot","CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n',
      'SDN_Type',
    ],
  ])('refuses %s with LIST_IMPORT_FAILED naming the file and line', (_, sdn, message) => {
    try {
      importOfacSdnCsv({ sdn: enc(sdn), add: enc(''), alt: enc('') });
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.code).toBe('LIST_IMPORT_FAILED');
      expect((error as Error).message).toContain(message);
    }
  });

  it('refuses an alias for an entry that is not in sdn.csv', () => {
    const sdn = '1,"A",-0- ,"CUBA",-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- ,-0- \r\n';
    expect(() =>
      importOfacSdnCsv({ sdn: enc(sdn), add: enc(''), alt: enc('2,1,"aka","B",-0- \r\n') }),
    ).toThrow(/alt\.csv line 1: ent_num 2/);
  });

  it('refuses bytes that are not UTF-8 text', () => {
    expect(() =>
      importOfacSdnCsv({ sdn: new Uint8Array([0xff, 0xfe, 0x00]), add: enc(''), alt: enc('') }),
    ).toThrow(/sdn\.csv/);
  });
});

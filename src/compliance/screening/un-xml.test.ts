import { describe, expect, it } from 'vitest';
import { isAppError } from '../../kernel';
import { importUnConsolidatedXml } from './un-xml';
import { readVector } from '../../../test/support/screening-lists';

const enc = (text: string): Uint8Array => new TextEncoder().encode(text);

describe('UN Security Council consolidated list XML (generated 2026-02-27)', () => {
  const snapshot = importUnConsolidatedXml(readVector('un-consolidated-2026-02-27.xml'));
  const byId = new Map(snapshot.entries.map((e) => [e.listEntryId, e]));

  it('imports 730 individuals and 273 entities with the generation date', () => {
    expect(snapshot.source).toBe('un');
    expect(snapshot.counts.individuals).toBe(730);
    expect(snapshot.counts.entities).toBe(273);
    expect(snapshot.counts.entries).toBe(1003);
    expect(snapshot.publicationDate).toBe('2026-02-27');
  });

  it('joins FIRST_NAME … FOURTH_NAME and keeps aliases with their QUALITY', () => {
    const badege = byId.get('CDi.001');
    expect(badege?.primaryName).toBe('ERIC BADEGE');
    expect(badege?.aliases).toEqual([]); // <ALIAS_NAME/> is no alias
    expect(badege?.dateOfBirth).toBe('1971');
    const kakolele = byId.get('CDi.002');
    expect(kakolele?.primaryName).toBe('FRANK KAKOLELE BWAMBALE');
    expect(kakolele?.aliases).toContainEqual({
      name: 'AIGLE BLANC',
      quality: 'Good',
      strength: 'strong',
    });
    const rumuli = byId.get('CDi.003');
    expect(rumuli?.aliases).toContainEqual({ name: 'Rumuli', quality: 'Low', strength: 'weak' });
    const adf = byId.get('CDe.001');
    expect(adf?.kind).toBe('organization');
    expect(adf?.aliases.map((a) => a.quality)).toContain('f.k.a.');
  });

  it('keeps NAME_ORIGINAL_SCRIPT as an alias with its script', () => {
    const saddam = byId.get('IQi.001');
    expect(saddam?.primaryName).toBe('SADDAM HUSSEIN AL-TIKRITI');
    expect(saddam?.aliases).toContainEqual({
      name: 'صدام حسين التكريتي',
      quality: 'original script',
      strength: 'strong',
      script: 'Arab',
    });
  });

  it('refuses malformed XML naming the line', () => {
    try {
      importUnConsolidatedXml(
        enc('<CONSOLIDATED_LIST>\n<INDIVIDUALS>\n<INDIVIDUAL></INDIVIDUALS>'),
      );
      expect.unreachable();
    } catch (error) {
      expect(isAppError(error) && error.code).toBe('LIST_IMPORT_FAILED');
      expect((error as Error).message).toMatch(/UN consolidated list line \d+/);
    }
  });

  it('refuses a document of another kind and an individual without a name', () => {
    expect(() => importUnConsolidatedXml(enc('<export/>'))).toThrow(/CONSOLIDATED_LIST/);
    expect(() =>
      importUnConsolidatedXml(
        enc(
          '<CONSOLIDATED_LIST><INDIVIDUALS><INDIVIDUAL><REFERENCE_NUMBER>X.1</REFERENCE_NUMBER></INDIVIDUAL></INDIVIDUALS></CONSOLIDATED_LIST>',
        ),
      ),
    ).toThrow(/INDIVIDUAL #1 \(X\.1\) has no FIRST_NAME/);
  });
});

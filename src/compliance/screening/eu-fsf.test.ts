import { describe, expect, it } from 'vitest';
import { importEuFsfXml } from './eu-fsf';
import { normalizeText } from './normalize';
import { readVector } from '../../../test/support/screening-lists';

describe('EU financial sanctions file (FSF) XML excerpt, 2018', () => {
  const snapshot = importEuFsfXml(readVector('eu-fsf-excerpt-2018.xml'));

  it('imports the 2 entities with the generation date', () => {
    expect(snapshot.source).toBe('eu-fsf');
    expect(snapshot.publicationDate).toBe('2018-12-21');
    expect(snapshot.counts.entries).toBe(2);
    expect(snapshot.counts.individuals).toBe(1);
    expect(snapshot.counts.entities).toBe(1);
  });

  it('reads a person with birth date and programme', () => {
    const mugabe = snapshot.entries.find((e) => e.listEntryId === '1');
    expect(mugabe?.primaryName).toBe('Robert Gabriel Mugabe');
    expect(mugabe?.dateOfBirth).toBe('1924-02-21');
    expect(mugabe?.programs).toEqual(['ZWE']);
  });

  it('keeps the 18 other-language aliases, with their scripts', () => {
    const ibda = snapshot.entries.find((e) => e.listEntryId === '207');
    expect(ibda?.primaryName).toBe('İslami Büyük Doğu Akıncılar Cephesi');
    expect(ibda?.aliases).toHaveLength(18);
    const bulgarian = ibda?.aliases.find((a) => a.language === 'BG');
    expect(bulgarian).toMatchObject({
      name: 'Фронт на великите ислямски източни воини',
      script: 'Cyrl',
    });
    expect(ibda?.aliases.find((a) => a.language === 'EL')?.script).toBe('Grek');
    // The Greek spelling uses MICRO SIGN (U+00B5) for mu; NFKC folds it.
    expect(normalizeText(ibda?.aliases.find((a) => a.language === 'EL')?.name ?? '')).toBe(
      'mega islamiko metopo ton polemiston tis anatolis',
    );
  });
});

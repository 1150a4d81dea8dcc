import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeName, normalizeText } from './normalize';

describe('name normalization', () => {
  it.each([
    ['GRABCHAK, Evgeniy Petrovich', 'grabchak evgeniy petrovich'],
    // Russian Cyrillic, BGN/PCGN-like: й→y, х→kh, щ→shch, ю→yu, я→ya
    ['Грабчак Евгений Петрович', 'grabchak evgeniy petrovich'],
    ['Юлия Щербакова', 'yuliya shcherbakova'],
    ['Фронт на великите ислямски източни воини', 'front na velikite islyamski iztochni voini'],
    // Ukrainian and Serbian letters
    ['Олексій Ґонта', 'oleksiy gonta'],
    ['Ђорђе Јовановић', 'djordje jovanovic'],
    // Greek (ELOT 743 simplified); MICRO SIGN folds to mu
    ['Μέγα Ισλαµικό Μέτωπο', 'mega islamiko metopo'],
    ['Γεώργιος Παπαδόπουλος', 'georgios papadopoulos'],
    // Arabic: consonant skeleton with the article split off
    ['صدام حسين التكريتي', 'sdam hsyn al tkryty'],
    // Persian letters
    ['پرویز', 'prwyz'],
    // Hebrew, Armenian, Georgian
    ['שלום כהן', 'shlvm khn'],
    ['Հովհաննիսյան', 'hovhannisyan'],
    ['მიხეილ სააკაშვილი', 'mikheil saakashvili'],
    // Latin diacritics and letters NFKD does not decompose
    ['İslami Büyük Doğu Akıncılar Cephesi', 'islami buyuk dogu akincilar cephesi'],
    ['Straße Łódź Ærø', 'strasse lodz aero'],
    ["Mr. Seán O'Brien", 'sean obrien'],
    // punctuation, whitespace, digits
    ['  AL-QA‘IDA   (7 STAR) ', 'al qaida 7 star'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizeText(raw)).toBe(expected);
  });

  it.each([
    ['ANGLO-CARIBBEAN CO., LTD.', 'anglo caribbean', ['co', 'ltd']],
    ['CECOEX, S.A.', 'cecoex', ['sa']],
    ['OOO "Ромашка"', 'romashka', ['ooo']],
    ['ООО Ромашка', 'romashka', ['ooo']],
    ['Northwind Trading LLC', 'northwind trading', ['llc']],
    ['TEHRAN GOSTARESH COMPANY, P.J.S.', 'tehran gostaresh', ['company', 'pjs']],
    ['DONGMEI INVESTMENT GROUP CO. LIMTED', 'dongmei investment group', ['co', 'limted']],
    ['Emirates Gold FZCO', 'emirates gold', ['fzco']],
  ])('sets legal forms apart: %s', (raw, text, forms) => {
    const normalized = normalizeName(raw);
    expect(normalized.tokens.map((t) => t.text).join(' ')).toBe(text);
    expect(normalized.legalForms.sort()).toEqual([...forms].sort());
  });

  it('keeps ambiguous short forms in person names, and a lone legal form as a word', () => {
    expect(normalizeText('XIAO Ao')).toBe('xiao');
    expect(normalizeName('XIAO Ao', { person: true }).tokens.map((t) => t.text)).toEqual([
      'xiao',
      'ao',
    ]);
    expect(normalizeText('LLC')).toBe('llc');
  });

  it('marks words written in Arabic or Hebrew script', () => {
    expect(normalizeName('Saddam صدام').tokens.map((t) => t.abjad)).toEqual([false, true]);
  });

  it('property: output is lower-case letters and digits separated by single spaces, and idempotent', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (raw) => {
        const text = normalizeText(raw);
        expect(text).toBe(text.trim());
        expect(text).not.toMatch(/\s{2}/);
        expect(text).toBe(text.toLowerCase());
        expect(normalizeText(text)).toBe(text);
      }),
    );
  });
});

/**
 * Name normalization for matching: Unicode compatibility folding, transliteration of non-Latin
 * scripts (transliterate.ts), NFKD with diacritics stripped, case folding, punctuation to spaces,
 * whitespace collapsed. Digits are kept ("7 STAR", "SHIP 2").
 *
 * Legal-form words (LLC, OOO, GMBH, …) are set apart: they are not compared, so "Northwind
 * Trading LLC" and "Northwind Trading" match fully, and "Alpha LLC" against "Beta LLC" gets no
 * credit for the shared "LLC". Honorifics (Mr, Dr, Sheikh, …) are dropped.
 */
import { typoDistance } from './jaro-winkler';
import { isAbjadWord, transliterateWord } from './transliterate';

export interface NameToken {
  /** Latin, lower case, no diacritics. */
  text: string;
  /** The word was written in Arabic or Hebrew script: compare it by consonant skeleton. */
  abjad: boolean;
  /** Cached consonant skeleton (set by the index; computed on demand otherwise). */
  skeleton?: string;
}

export interface NormalizedName {
  tokens: NameToken[];
  /** Legal-form words found in the name (normalized), kept for display and never compared. */
  legalForms: string[];
}

/**
 * Legal forms that are unambiguous anywhere in a name (ISO 20275 entity legal forms, common
 * abbreviations; Russian/Ukrainian ones in BGN/PCGN transliteration: ООО → ooo, ТОВ → tov).
 */
const LEGAL_FORMS = new Set([
  'llc',
  'ltd',
  'limited',
  'ooo',
  'zao',
  'oao',
  'pao',
  'jsc',
  'ojsc',
  'cjsc',
  'pjsc',
  'tov',
  'gmbh',
  'sarl',
  'corp',
  'corporation',
  'inc',
  'incorporated',
  'plc',
  'fze',
  'fzco',
  'fzc',
  'fzllc',
  'llp',
  'ltda',
  'bhd',
  'pte',
  'pvt',
  'pty',
  'srl',
  'sae',
  'wll',
  'kft',
  'company',
  'gmbhco',
  'sprl',
  'eirl',
  'eireli',
  'oyj',
  'aps',
  'pjs',
]);

/**
 * Long legal-form words, also recognized with a typo ("LIMTED", "COMAPNY"): otherwise the
 * misspelt form would stay as a name token that the listed name (where the form was removed)
 * cannot match. One edit (two for 10+ letters), for a word of 6 letters or more.
 */
const LONG_LEGAL_FORMS = ['limited', 'corporation', 'company', 'incorporated'];

function isMisspeltLegalForm(text: string): boolean {
  if (text.length < 6) return false;
  return LONG_LEGAL_FORMS.some((form) => {
    const limit = form.length >= 10 ? 2 : 1;
    return typoDistance(form, text, limit) <= limit;
  });
}

/** Honorifics of 6+ letters are recognized with one typo too ("SHAYKH" written "SHAXKH"). */
function isHonorific(text: string): boolean {
  if (HONORIFICS.has(text)) return true;
  if (text.length < 6) return false;
  for (const honorific of HONORIFICS) {
    if (honorific.length >= 6 && typoDistance(honorific, text, 1) <= 1) return true;
  }
  return false;
}

/**
 * Legal forms that are also ordinary words or surnames ("Ao", "Co", "Sa", "As"): treated as legal
 * forms only as the first or last word of a name with other words.
 */
const EDGE_LEGAL_FORMS = new Set([
  'ao',
  'sa',
  'co',
  'ag',
  'as',
  'ab',
  'nv',
  'bv',
  'oy',
  'kg',
  'lp',
  'sl',
  'sas',
  'spa',
  'se',
  'cia',
  'est',
  'ue',
  'pp',
  'ip',
  'tp',
  'dd',
  'doo',
  'ad',
  'ead',
  'ood',
]);

const HONORIFICS = new Set([
  'mr',
  'mrs',
  'ms',
  'miss',
  'mx',
  'dr',
  'prof',
  'sir',
  'dame',
  'lord',
  'lady',
  'sheikh',
  'shaikh',
  'shaykh',
  'sheik',
  'haji',
  'hajji',
  'alhaji',
  'mullah',
  'mulla',
  'maulana',
  'mawlana',
  'maulvi',
  'mawlawi',
  'gospodin',
  'herr',
  'frau',
  'monsieur',
  'madame',
  'senor',
  'senora',
  'don',
  'dona',
]);

/** Latin letters that NFKD does not decompose into a base letter plus a mark. */
const SPECIAL_LATIN: Record<string, string> = {
  ß: 'ss',
  æ: 'ae',
  ø: 'o',
  đ: 'd',
  ł: 'l',
  ı: 'i',
  þ: 'th',
  œ: 'oe',
  ð: 'd',
  ħ: 'h',
  ŧ: 't',
  ŋ: 'ng',
  ĸ: 'k',
  ſ: 's',
  ɨ: 'i',
  ƒ: 'f',
  ʻ: '',
  ʼ: '',
};

// Apostrophes join ("O'Brien" → "obrien", "Sa'id" → "said"); other punctuation separates.
const APOSTROPHES = /['\u2018\u2019\u02BC\u02BB\u02B9\u0060\u00B4]/g;
const NON_WORD = /[^\p{L}\p{N}\p{M}]+/u;
const MARKS = /\p{M}+/gu;

function foldLatin(word: string): string {
  let out = '';
  for (const ch of word.normalize('NFKD').replace(MARKS, '')) out += SPECIAL_LATIN[ch] ?? ch;
  return out;
}

/** The words of a name, normalized and transliterated, before legal forms are set apart. */
export function normalizeWords(raw: string): NameToken[] {
  const words = raw.normalize('NFKC').toLowerCase().replace(APOSTROPHES, '').split(NON_WORD);
  const out: NameToken[] = [];
  for (const word of words) {
    if (word === '') continue;
    const abjad = isAbjadWord(word);
    for (const piece of transliterateWord(word).split(' ')) {
      let text = foldLatin(piece);
      // Compatibility letters that fold into another script only now (e.g. modifier letters).
      if (!/^[a-z0-9]*$/.test(text)) text = foldLatin(transliterateWord(text));
      text = text.replace(/[^\p{L}\p{N}]/gu, '');
      if (text !== '') out.push({ text, abjad });
    }
  }
  return out;
}

/** Join runs of one-letter words ("s a r l" → "sarl", "l l c" → "llc") when they spell a legal form. */
function joinSpelledLegalForms(words: NameToken[]): NameToken[] {
  const out: NameToken[] = [];
  let i = 0;
  while (i < words.length) {
    let j = i;
    while (j < words.length && (words[j]?.text.length ?? 0) === 1) j++;
    if (j - i >= 2) {
      const joined = words
        .slice(i, j)
        .map((w) => w.text)
        .join('');
      if (LEGAL_FORMS.has(joined) || EDGE_LEGAL_FORMS.has(joined)) {
        out.push({ text: joined, abjad: false });
        i = j;
        continue;
      }
    }
    const word = words[i];
    if (word !== undefined) out.push(word);
    i++;
  }
  return out;
}

export interface NormalizeOptions {
  /**
   * The name is known to be a person's: words that are legal forms only sometimes ("Ao", "Sa")
   * are then kept, since for a person they are more likely a name ("XIAO Ao").
   */
  person?: boolean;
}

export function normalizeName(raw: string, options: NormalizeOptions = {}): NormalizedName {
  const words = joinSpelledLegalForms(normalizeWords(raw));
  const legalForms: string[] = [];
  // Peel legal forms off the ends ("ANGLO-CARIBBEAN CO., LTD.", "OOO ROMASHKA"), keeping at
  // least one word.
  let start = 0;
  let end = words.length;
  const isLegalForm = (text: string): boolean =>
    LEGAL_FORMS.has(text) ||
    (options.person !== true && (EDGE_LEGAL_FORMS.has(text) || isMisspeltLegalForm(text)));
  while (end - start > 1 && isLegalForm(words[end - 1]?.text ?? '')) {
    legalForms.unshift(words[end - 1]?.text ?? '');
    end--;
  }
  while (end - start > 1 && isLegalForm(words[start]?.text ?? '')) {
    legalForms.push(words[start]?.text ?? '');
    start++;
  }
  const tokens: NameToken[] = [];
  const inner = words.slice(start, end);
  for (const word of inner) {
    const legal =
      LEGAL_FORMS.has(word.text) || (options.person !== true && isMisspeltLegalForm(word.text));
    if (legal && inner.length > 1) legalForms.push(word.text);
    else if (!isHonorific(word.text) || inner.length === 1) tokens.push(word);
  }
  return { tokens, legalForms };
}

/** The normalized name as one string (tokens joined by single spaces), for display and tests. */
export function normalizeText(raw: string): string {
  return normalizeName(raw)
    .tokens.map((t) => t.text)
    .join(' ');
}

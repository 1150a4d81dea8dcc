/**
 * Transliteration of non-Latin scripts to Latin, for matching only (never for display).
 *
 * No maintained transliteration library is installed, so the tables are ours:
 * - Cyrillic: Russian after BGN/PCGN (й→y, х→kh, ц→ts, ю→yu, я→ya — the spellings OFAC and the
 *   UN mostly use: "Evgeniy", "Yuriy"), plus the letters of Ukrainian (є ie, і i, ї yi, ґ g),
 *   Belarusian (ў u), Serbian/Macedonian (ђ dj, ј j, љ lj, њ nj, ћ c, џ dz, ѓ gj, ќ kj, ѕ dz).
 *   Language-specific values of shared letters (Ukrainian г→h, Bulgarian щ→sht, ъ→a) are not
 *   distinguished: we cannot tell the language from a name, and the similarity measure absorbs
 *   one-letter differences.
 * - Greek: ELOT 743 / ISO 843 simplified (η→i, υ→y, χ→ch, θ→th, ψ→ps), with the digraphs ου→ou,
 *   αυ→av, ευ→ev, μπ→b at a word start, ντ→d at a word start, γγ→ng, γκ→gk.
 * - Arabic and Persian: a consonant skeleton. Short vowels are not written in Arabic script, so
 *   no table can restore them: we map each letter to a Latin consonant (long vowels ا→a, و→w,
 *   ي→y), split the article ال off as "al", and the matcher compares such tokens by consonant
 *   skeleton (see similarity.ts).
 * - Hebrew: also a consonant skeleton (vowel points are usually absent).
 * - Armenian: ISO 9985-like (ու→u, և→ev). Georgian: national system of 2002.
 * Han, Hangul and other scripts are left as they are (a query in those scripts matches only an
 * alias written in the same script).
 */

const CYRILLIC: Record<string, string> = {
  а: 'a',
  б: 'b',
  в: 'v',
  г: 'g',
  д: 'd',
  е: 'e',
  ё: 'e',
  ж: 'zh',
  з: 'z',
  и: 'i',
  й: 'y',
  к: 'k',
  л: 'l',
  м: 'm',
  н: 'n',
  о: 'o',
  п: 'p',
  р: 'r',
  с: 's',
  т: 't',
  у: 'u',
  ф: 'f',
  х: 'kh',
  ц: 'ts',
  ч: 'ch',
  ш: 'sh',
  щ: 'shch',
  ъ: '',
  ы: 'y',
  ь: '',
  э: 'e',
  ю: 'yu',
  я: 'ya',
  є: 'ye',
  і: 'i',
  ї: 'yi',
  ґ: 'g',
  ў: 'u',
  ђ: 'dj',
  ј: 'j',
  љ: 'lj',
  њ: 'nj',
  ћ: 'c',
  џ: 'dz',
  ѓ: 'gj',
  ќ: 'kj',
  ѕ: 'dz',
  ә: 'a',
  ғ: 'g',
  қ: 'k',
  ң: 'n',
  ө: 'o',
  ұ: 'u',
  ү: 'u',
  һ: 'h',
  ҳ: 'kh',
  ҷ: 'j',
  ӣ: 'i',
  ӯ: 'u',
};

const GREEK_DIGRAPHS: Array<readonly [RegExp, string]> = [
  [/ου/g, 'ou'],
  [/ού/g, 'ou'],
  [/α[υύ]/g, 'av'],
  [/ε[υύ]/g, 'ev'],
  [/(^|\s)μπ/g, '$1b'],
  [/(^|\s)ντ/g, '$1d'],
  [/γγ/g, 'ng'],
  [/γκ/g, 'gk'],
];

const GREEK: Record<string, string> = {
  α: 'a',
  β: 'v',
  γ: 'g',
  δ: 'd',
  ε: 'e',
  ζ: 'z',
  η: 'i',
  θ: 'th',
  ι: 'i',
  κ: 'k',
  λ: 'l',
  μ: 'm',
  ν: 'n',
  ξ: 'x',
  ο: 'o',
  π: 'p',
  ρ: 'r',
  σ: 's',
  ς: 's',
  τ: 't',
  υ: 'y',
  φ: 'f',
  χ: 'ch',
  ψ: 'ps',
  ω: 'o',
  ά: 'a',
  έ: 'e',
  ή: 'i',
  ί: 'i',
  ϊ: 'i',
  ΐ: 'i',
  ό: 'o',
  ύ: 'y',
  ϋ: 'y',
  ΰ: 'y',
  ώ: 'o',
};

const ARABIC: Record<string, string> = {
  ا: 'a',
  أ: 'a',
  إ: 'i',
  آ: 'a',
  ٱ: 'a',
  ء: '',
  ؤ: 'w',
  ئ: 'y',
  ب: 'b',
  ت: 't',
  ث: 'th',
  ج: 'j',
  ح: 'h',
  خ: 'kh',
  د: 'd',
  ذ: 'dh',
  ر: 'r',
  ز: 'z',
  س: 's',
  ش: 'sh',
  ص: 's',
  ض: 'd',
  ط: 't',
  ظ: 'z',
  ع: '',
  غ: 'gh',
  ف: 'f',
  ق: 'q',
  ك: 'k',
  ل: 'l',
  م: 'm',
  ن: 'n',
  ه: 'h',
  ة: 'a',
  و: 'w',
  ي: 'y',
  ى: 'a',
  // Persian and Urdu letters
  پ: 'p',
  چ: 'ch',
  ژ: 'zh',
  گ: 'g',
  ک: 'k',
  ی: 'y',
  ۀ: 'h',
  ہ: 'h',
  ھ: 'h',
  ٹ: 't',
  ڈ: 'd',
  ڑ: 'r',
  ں: 'n',
  ے: 'e',
  // short-vowel marks, when present
  '\u064E': 'a',
  '\u064F': 'u',
  '\u0650': 'i',
  '\u064B': 'an',
  '\u064C': 'un',
  '\u064D': 'in',
  '\u0651': '',
  '\u0652': '',
  ـ: '',
};

const HEBREW: Record<string, string> = {
  א: '',
  ב: 'b',
  ג: 'g',
  ד: 'd',
  ה: 'h',
  ו: 'v',
  ז: 'z',
  ח: 'kh',
  ט: 't',
  י: 'y',
  כ: 'k',
  ך: 'k',
  ל: 'l',
  מ: 'm',
  ם: 'm',
  נ: 'n',
  ן: 'n',
  ס: 's',
  ע: '',
  פ: 'p',
  ף: 'f',
  צ: 'ts',
  ץ: 'ts',
  ק: 'k',
  ר: 'r',
  ש: 'sh',
  ת: 't',
};

const ARMENIAN: Record<string, string> = {
  ա: 'a',
  բ: 'b',
  գ: 'g',
  դ: 'd',
  ե: 'e',
  զ: 'z',
  է: 'e',
  ը: 'y',
  թ: 't',
  ժ: 'zh',
  ի: 'i',
  լ: 'l',
  խ: 'kh',
  ծ: 'ts',
  կ: 'k',
  հ: 'h',
  ձ: 'dz',
  ղ: 'gh',
  ճ: 'ch',
  մ: 'm',
  յ: 'y',
  ն: 'n',
  շ: 'sh',
  ո: 'o',
  չ: 'ch',
  պ: 'p',
  ջ: 'j',
  ռ: 'r',
  ս: 's',
  վ: 'v',
  տ: 't',
  ր: 'r',
  ց: 'ts',
  ւ: 'v',
  փ: 'p',
  ք: 'k',
  և: 'ev',
  օ: 'o',
  ֆ: 'f',
};

const GEORGIAN: Record<string, string> = {
  ა: 'a',
  ბ: 'b',
  გ: 'g',
  დ: 'd',
  ე: 'e',
  ვ: 'v',
  ზ: 'z',
  თ: 't',
  ი: 'i',
  კ: 'k',
  ლ: 'l',
  მ: 'm',
  ნ: 'n',
  ო: 'o',
  პ: 'p',
  ჟ: 'zh',
  რ: 'r',
  ს: 's',
  ტ: 't',
  უ: 'u',
  ფ: 'p',
  ქ: 'k',
  ღ: 'gh',
  ყ: 'q',
  შ: 'sh',
  ჩ: 'ch',
  ც: 'ts',
  ძ: 'dz',
  წ: 'ts',
  ჭ: 'ch',
  ხ: 'kh',
  ჯ: 'j',
  ჰ: 'h',
};

const ABJAD = /[\u0590-\u05FF\u0600-\u06FF\u0750-\u077F\uFB50-\uFDFF\uFE70-\uFEFF]/;

/** True when the word is written in Arabic-script or Hebrew letters (vowels mostly unwritten). */
export function isAbjadWord(word: string): boolean {
  return ABJAD.test(word);
}

function mapChars(word: string, table: Record<string, string>): string {
  let out = '';
  for (const ch of word) out += table[ch] ?? ch;
  return out;
}

/**
 * Transliterate one lower-cased, NFC-normalized word to Latin. Returns the word unchanged when it
 * has no letters of a handled script. An Arabic word starting with the article ال becomes two
 * words ("al" + rest) because Latin spellings write the article apart ("AL-TIKRITI").
 */
export function transliterateWord(word: string): string {
  if (/^[\p{Script=Latin}\p{N}\p{M}]*$/u.test(word)) return word;
  let w = word;
  if (/\p{Script=Greek}/u.test(w)) {
    for (const [pattern, replacement] of GREEK_DIGRAPHS) w = w.replace(pattern, replacement);
    w = mapChars(w, GREEK);
  }
  if (/\p{Script=Cyrillic}/u.test(w)) w = mapChars(w, CYRILLIC);
  if (/[\u0600-\u06FF\u0750-\u077F]/.test(w)) {
    w = w.normalize('NFC');
    if (w.startsWith('ال') && w.length > 3) w = `al ${w.slice(2)}`;
    w = mapChars(w, ARABIC);
  }
  if (/[\u0590-\u05FF]/.test(w)) w = mapChars(w.replace(/[\u0591-\u05C7]/g, ''), HEBREW);
  if (/\p{Script=Armenian}/u.test(w)) w = mapChars(w.replace(/ու/g, 'u'), ARMENIAN);
  if (/\p{Script=Georgian}/u.test(w)) w = mapChars(w, GEORGIAN);
  return w;
}

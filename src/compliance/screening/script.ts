/** ISO 15924 code of the dominant non-Latin script of a name, or undefined for Latin/other. */
const SCRIPTS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Cyrl', /\p{Script=Cyrillic}/u],
  ['Grek', /\p{Script=Greek}/u],
  ['Arab', /\p{Script=Arabic}/u],
  ['Hebr', /\p{Script=Hebrew}/u],
  ['Armn', /\p{Script=Armenian}/u],
  ['Geor', /\p{Script=Georgian}/u],
  ['Hani', /\p{Script=Han}/u],
  ['Hang', /\p{Script=Hangul}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Deva', /\p{Script=Devanagari}/u],
];

export function detectScript(name: string): string | undefined {
  for (const [code, pattern] of SCRIPTS) if (pattern.test(name)) return code;
  return undefined;
}

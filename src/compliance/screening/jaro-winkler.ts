/**
 * Jaro similarity (Jaro 1989) and the Jaro–Winkler variant (Winkler 1990: prefix scale 0.1,
 * common prefix up to 4 characters, boost applied only when Jaro similarity is above 0.7), on
 * UTF-16 code units (names are Latin letters and digits after normalization).
 */

const matchedA = new Uint8Array(256);
const matchedB = new Uint8Array(256);

export function jaro(a: string, b: string): number {
  if (a === b) return 1;
  const la = a.length;
  const lb = b.length;
  if (la === 0 || lb === 0) return 0;
  if (la > 256 || lb > 256) return a === b ? 1 : 0;
  const window = Math.max(0, Math.floor(Math.max(la, lb) / 2) - 1);
  matchedA.fill(0, 0, la);
  matchedB.fill(0, 0, lb);
  let matches = 0;
  for (let i = 0; i < la; i++) {
    const from = Math.max(0, i - window);
    const to = Math.min(lb - 1, i + window);
    const ca = a.charCodeAt(i);
    for (let j = from; j <= to; j++) {
      if (matchedB[j] === 0 && b.charCodeAt(j) === ca) {
        matchedA[i] = 1;
        matchedB[j] = 1;
        matches++;
        break;
      }
    }
  }
  if (matches === 0) return 0;
  let transpositions = 0;
  let k = 0;
  for (let i = 0; i < la; i++) {
    if (matchedA[i] === 0) continue;
    while (matchedB[k] === 0) k++;
    if (a.charCodeAt(i) !== b.charCodeAt(k)) transpositions++;
    k++;
  }
  const m = matches;
  return (m / la + m / lb + (m - transpositions / 2) / m) / 3;
}

export function jaroWinkler(a: string, b: string): number {
  const j = jaro(a, b);
  if (j <= 0.7) return j;
  let prefix = 0;
  const limit = Math.min(4, a.length, b.length);
  while (prefix < limit && a.charCodeAt(prefix) === b.charCodeAt(prefix)) prefix++;
  return j + prefix * 0.1 * (1 - j);
}

const previousRow = new Int32Array(257);
const currentRow = new Int32Array(257);
const beforePreviousRow = new Int32Array(257);

/**
 * Optimal-string-alignment distance (Damerau–Levenshtein restricted to non-overlapping edits:
 * insertion, deletion, substitution, transposition of adjacent letters), or `limit + 1` when it
 * exceeds `limit`. Used to recognize typos, which Jaro–Winkler underrates in short words.
 */
export function typoDistance(a: string, b: string, limit: number): number {
  const la = a.length;
  const lb = b.length;
  if (Math.abs(la - lb) > limit) return limit + 1;
  if (la > 256 || lb > 256) return a === b ? 0 : limit + 1;
  for (let j = 0; j <= lb; j++) previousRow[j] = j;
  for (let i = 1; i <= la; i++) {
    currentRow[0] = i;
    let rowMin = i;
    const ca = a.charCodeAt(i - 1);
    for (let j = 1; j <= lb; j++) {
      const cb = b.charCodeAt(j - 1);
      let d = Math.min(
        (previousRow[j] ?? 0) + 1,
        (currentRow[j - 1] ?? 0) + 1,
        (previousRow[j - 1] ?? 0) + (ca === cb ? 0 : 1),
      );
      if (i > 1 && j > 1 && ca === b.charCodeAt(j - 2) && a.charCodeAt(i - 2) === cb) {
        d = Math.min(d, (beforePreviousRow[j - 2] ?? 0) + 1);
      }
      currentRow[j] = d;
      if (d < rowMin) rowMin = d;
    }
    if (rowMin > limit) return limit + 1;
    beforePreviousRow.set(previousRow.subarray(0, lb + 1));
    previousRow.set(currentRow.subarray(0, lb + 1));
  }
  return Math.min(previousRow[lb] ?? 0, limit + 1);
}

/**
 * Name similarity: token-based Jaro–Winkler with weighted tokens.
 *
 * 1. Each pair (query token, candidate token) gets a similarity in [0, 1]: Jaro–Winkler
 *    (jaro-winkler.ts) rescaled so that MIN_TOKEN_SIMILARITY maps to 0 and 1 to 1 (below the
 *    floor the tokens are not paired at all: "northwind" and "northstar" share a prefix, not a
 *    name). A typo — one edit (insert, delete, substitute, swap) in a word of 4+ letters, or two
 *    in a word of 8+ — scores at least ONE_TYPO_SIMILARITY / TWO_TYPO_SIMILARITY, because
 *    Jaro–Winkler underrates typos in short words ("ROMAN"/"ROWAN"). A one-letter token against a
 *    word with that initial scores INITIAL_SIMILARITY. A word written in Arabic or Hebrew script
 *    is also compared by consonant skeleton (vowels are not written in those scripts), at a
 *    SKELETON_DISCOUNT.
 * 2. Pairs are assigned greedily by best similarity (highest first, each token used at most
 *    once). Greedy is not always the optimal assignment, but on names of 1–8 tokens with a
 *    similarity floor it differs from the optimum only when two pairs tie closely, and it costs
 *    O(nm log nm) instead of O(n³). Pairs below MIN_TOKEN_SIMILARITY are not paired.
 * 3. Score = Σ paired s·(wq + wc) / (Σ paired (wq + wc) + UNPAIRED_WEIGHT · Σ unpaired w),
 *    where w is a token's weight (in the index: its inverse document frequency over the loaded
 *    lists, so a rare surname weighs more than a common given name or "al"). Unpaired tokens
 *    count at UNPAIRED_WEIGHT (< 1) on both sides: a missing middle name lowers the score less
 *    than a different surname, which is an unpaired token on both sides. The formula is
 *    symmetric in query and candidate and lies in [0, 1]; identical names score 1.
 */
import { jaroWinkler, typoDistance } from './jaro-winkler';
import type { NameToken } from './normalize';

export { jaro, jaroWinkler, typoDistance } from './jaro-winkler';

// Calibrated on OFAC SDN 2021 + UN 2026 with calibration.test.ts (see thresholds.ts, README.md).
export const MIN_TOKEN_SIMILARITY = 0.75;
export const ONE_TYPO_SIMILARITY = 0.92;
export const TWO_TYPO_SIMILARITY = 0.85;
export const SKELETON_DISCOUNT = 0.95;
export const INITIAL_SIMILARITY = 0.5;
export const UNPAIRED_WEIGHT = 0.6;

/** Names longer than this many tokens are compared on their first MAX_TOKENS tokens. */
export const MAX_TOKENS = 32;

// Scratch buffers, reused across calls (the scorer is synchronous and not re-entrant).
const pairSims = new Float64Array(MAX_TOKENS * MAX_TOKENS);
const pairCodes = new Int32Array(MAX_TOKENS * MAX_TOKENS);
const usedQuery = new Uint8Array(MAX_TOKENS);
const usedCandidate = new Uint8Array(MAX_TOKENS);
/** Latin consonant skeleton: vowels and the glides y/w dropped, doubled letters collapsed. */
export function consonantSkeleton(text: string): string {
  const skeleton = text.replace(/[aeiouyw]/g, '').replace(/(.)\1+/g, '$1');
  return skeleton === '' ? text : skeleton;
}

export function tokenSimilarity(a: NameToken, b: NameToken): number {
  if (a.text === b.text) return 1;
  if (a.text.length === 1 || b.text.length === 1) {
    return a.text[0] === b.text[0] ? INITIAL_SIMILARITY : 0;
  }
  const scale = (raw: number): number =>
    raw < MIN_TOKEN_SIMILARITY ? 0 : (raw - MIN_TOKEN_SIMILARITY) / (1 - MIN_TOKEN_SIMILARITY);
  let scaled = scale(jaroWinkler(a.text, b.text));
  if (a.abjad || b.abjad) {
    const sa = a.skeleton ?? consonantSkeleton(a.text);
    const sb = b.skeleton ?? consonantSkeleton(b.text);
    if (sa.length >= 2 && sb.length >= 2) {
      scaled = Math.max(scaled, SKELETON_DISCOUNT * scale(jaroWinkler(sa, sb)));
    }
  }
  if (scaled === 0) return 0;
  // A typo: one edit in a word of 4+ letters, two edits in a word of 8+ letters.
  const shorter = Math.min(a.text.length, b.text.length);
  if (shorter < 4) return scaled;
  const limit = shorter >= 8 ? 2 : 1;
  const distance = typoDistance(a.text, b.text, limit);
  const typo =
    distance > limit
      ? 0
      : distance === 1
        ? ONE_TYPO_SIMILARITY
        : distance === 2
          ? TWO_TYPO_SIMILARITY
          : 0;
  return Math.max(scaled, typo);
}

/**
 * Score two weighted token lists. `pairSimilarity(i, j)` gives the similarity of query token i
 * and candidate token j (the index passes a cached version of tokenSimilarity).
 */
export function scoreWeighted(
  queryWeights: ArrayLike<number>,
  candidateWeights: ArrayLike<number>,
  pairSimilarity: (i: number, j: number) => number,
): number {
  const n = Math.min(queryWeights.length, MAX_TOKENS);
  const m = Math.min(candidateWeights.length, MAX_TOKENS);
  if (n === 0 || m === 0) return 0;
  // Collect pairs above the floor (insertion-sorted by similarity, ties by position so the
  // result never depends on iteration details), then take them greedily.
  let count = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const s = pairSimilarity(i, j);
      if (s <= 0) continue;
      let k = count++;
      while (k > 0 && (pairSims[k - 1] ?? 0) < s) {
        pairSims[k] = pairSims[k - 1] ?? 0;
        pairCodes[k] = pairCodes[k - 1] ?? 0;
        k--;
      }
      pairSims[k] = s;
      pairCodes[k] = i * MAX_TOKENS + j;
    }
  }
  if (count === 0) return 0;
  usedQuery.fill(0, 0, n);
  usedCandidate.fill(0, 0, m);
  let matched = 0;
  let pairedMass = 0;
  for (let k = 0; k < count; k++) {
    const code = pairCodes[k] ?? 0;
    const i = Math.floor(code / MAX_TOKENS);
    const j = code % MAX_TOKENS;
    if (usedQuery[i] === 1 || usedCandidate[j] === 1) continue;
    usedQuery[i] = 1;
    usedCandidate[j] = 1;
    const mass = (queryWeights[i] ?? 0) + (candidateWeights[j] ?? 0);
    pairedMass += mass;
    matched += (pairSims[k] ?? 0) * mass;
  }
  let unpaired = 0;
  for (let i = 0; i < n; i++) if (usedQuery[i] === 0) unpaired += queryWeights[i] ?? 0;
  for (let j = 0; j < m; j++) if (usedCandidate[j] === 0) unpaired += candidateWeights[j] ?? 0;
  const denominator = pairedMass + UNPAIRED_WEIGHT * unpaired;
  return denominator === 0 ? 0 : Math.min(1, matched / denominator);
}

/** Similarity of two normalized names with uniform token weights (no corpus statistics). */
export function nameSimilarity(
  query: readonly NameToken[],
  candidate: readonly NameToken[],
): number {
  return scoreWeighted(
    query.map(() => 1),
    candidate.map(() => 1),
    (i, j) => {
      const a = query[i];
      const b = candidate[j];
      return a === undefined || b === undefined ? 0 : tokenSimilarity(a, b);
    },
  );
}

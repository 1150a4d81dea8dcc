/**
 * Outcome thresholds on the name score (similarity.ts), calibrated on the real lists in
 * test/vectors/sanctions (OFAC SDN 2021 + UN 2026) by calibration.test.ts:
 * - every listed name tried (OFAC and UN primary names and aliases, with one- and two-letter
 *   typos, and names written in another script) scores at least MATCH_THRESHOLD against its
 *   own entry;
 * - none of ~50 ordinary unlisted names (invented people and companies in English, Spanish,
 *   pinyin, Arabic-Latin and Russian spellings) reaches REVIEW_THRESHOLD.
 * See README.md for the figures.
 */
export const MATCH_THRESHOLD = 0.9;
export const REVIEW_THRESHOLD = 0.8;

export type ScreeningOutcome = 'match' | 'review' | 'clear';

export function outcomeOf(score: number): ScreeningOutcome {
  if (score >= MATCH_THRESHOLD) return 'match';
  if (score >= REVIEW_THRESHOLD) return 'review';
  return 'clear';
}

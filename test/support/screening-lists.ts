/** Loads the real list files from test/vectors/sanctions for the screening tests and benchmarks. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  importOfacSdnCsv,
  importUnConsolidatedXml,
  type ListSnapshot,
} from '../../src/compliance/screening';

export const SANCTIONS_DIR = path.resolve(import.meta.dirname, '../vectors/sanctions');
export const SCREENING_VECTORS_DIR = path.resolve(import.meta.dirname, '../vectors/screening');

export function readVector(relative: string): Uint8Array {
  return new Uint8Array(readFileSync(path.join(SANCTIONS_DIR, relative)));
}

export function ofacFiles(): { sdn: Uint8Array; add: Uint8Array; alt: Uint8Array } {
  return {
    sdn: readVector('ofac-2021/sdn.csv'),
    add: readVector('ofac-2021/add.csv'),
    alt: readVector('ofac-2021/alt.csv'),
  };
}

export function loadOfac(): ListSnapshot {
  return importOfacSdnCsv(ofacFiles());
}

export function loadUn(): ListSnapshot {
  return importUnConsolidatedXml(readVector('un-consolidated-2026-02-27.xml'));
}

/** The invented unlisted names of test/vectors/screening/unlisted-names.txt. */
export function unlistedNames(): Array<{ type: 'person' | 'organization'; name: string }> {
  return readFileSync(path.join(SCREENING_VECTORS_DIR, 'unlisted-names.txt'), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('#'))
    .map((line) => {
      const comma = line.indexOf(',');
      const type = line.slice(0, comma) === 'person' ? 'person' : 'organization';
      return { type, name: line.slice(comma + 1).trim() };
    });
}

/** A small deterministic generator (LCG, glibc constants) so that test queries are reproducible. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    return state / 4294967296;
  };
}

/**
 * Apply `count` typos (substitution, deletion or insertion of one letter, never the first) to
 * distinct words of 5+ letters of a name; fewer when the name has fewer such words.
 */
export function withTypos(name: string, count: number, random: () => number): string {
  const words = name.split(/\s+/);
  const used = new Set<number>();
  for (let k = 0; k < count; k++) {
    const choices = words
      .map((word, i) => ({ word, i }))
      .filter(({ word, i }) => /^[A-Za-z]{5,}$/.test(word) && !used.has(i));
    const choice = choices[Math.floor(random() * choices.length)];
    if (choice === undefined) break;
    const { word, i } = choice;
    const at = 1 + Math.floor(random() * (word.length - 1));
    const letter = 'abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 26)] ?? 'x';
    const op = Math.floor(random() * 3);
    words[i] =
      op === 0
        ? word.slice(0, at) + letter + word.slice(at + 1)
        : op === 1
          ? word.slice(0, at) + word.slice(at + 1)
          : word.slice(0, at) + letter + word.slice(at);
    used.add(i);
  }
  return words.join(' ');
}

/** Listed names to query: every `step`-th person or organization of a snapshot, with commas removed. */
export function sampleListedNames(
  snapshot: ListSnapshot,
  step: number,
): Array<{ listEntryId: string; name: string }> {
  const out: Array<{ listEntryId: string; name: string }> = [];
  for (let i = 0; i < snapshot.entries.length; i += step) {
    const entry = snapshot.entries[i];
    if (entry === undefined || (entry.kind !== 'person' && entry.kind !== 'organization')) continue;
    out.push({
      listEntryId: entry.listEntryId,
      name: entry.primaryName.replace(/,/g, ' ').replace(/\s+/g, ' '),
    });
  }
  return out;
}

// Sanctions name screening: the blocking index against the naive full scan with the same scorer,
// on OFAC SDN 2021 + UN 2026, and address lookups. Run: npx tsx bench/screening.bench.ts
// (or `node --expose-gc --import tsx bench/screening.bench.ts` for heap figures after gc).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import {
  AddressIndex,
  importAddressList,
  importOfacSdnCsv,
  importUnConsolidatedXml,
  ScreeningIndex,
  type ListSnapshot,
} from '../src/compliance/screening';
import {
  sampleListedNames,
  seededRandom,
  unlistedNames,
  withTypos,
} from '../test/support/screening-lists';

const vectors = path.resolve(import.meta.dirname, '../test/vectors/sanctions');
const read = (relative: string): Uint8Array =>
  new Uint8Array(readFileSync(path.join(vectors, relative)));
const gc = (globalThis as { gc?: () => void }).gc;

function time<T>(run: () => T): [T, number] {
  const start = performance.now();
  const result = run();
  return [result, performance.now() - start];
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const ms = (x: number): string => `${x.toFixed(3)} ms`;

// --- import
const [ofac, ofacMs] = time(() =>
  importOfacSdnCsv({
    sdn: read('ofac-2021/sdn.csv'),
    add: read('ofac-2021/add.csv'),
    alt: read('ofac-2021/alt.csv'),
  }),
);
const [un, unMs] = time(() => importUnConsolidatedXml(read('un-consolidated-2026-02-27.xml')));
console.log(`import OFAC SDN CSV: ${ofacMs.toFixed(0)} ms (${ofac.counts.entries} entries)`);
console.log(`import UN XML:       ${unMs.toFixed(0)} ms (${un.counts.entries} entries)`);

// --- build
gc?.();
const heapBefore = process.memoryUsage().heapUsed;
const rssBefore = process.memoryUsage().rss;
const [index, buildMs] = time(() => ScreeningIndex.build([ofac, un]));
gc?.();
const heapDelta = (process.memoryUsage().heapUsed - heapBefore) / 2 ** 20;
const rssDelta = (process.memoryUsage().rss - rssBefore) / 2 ** 20;
console.log(
  `index build: ${buildMs.toFixed(0)} ms; ${index.stats.names} names, ${index.stats.tokens} tokens, ${index.stats.keys} keys`,
);
console.log(
  gc
    ? `index memory: ${heapDelta.toFixed(1)} MB heapUsed delta after gc (rss delta ${rssDelta.toFixed(1)} MB)`
    : `index memory: ${rssDelta.toFixed(1)} MB rss delta (run with --expose-gc for heapUsed after gc; heapUsed delta without gc ${heapDelta.toFixed(1)} MB)`,
);

// --- queries: listed names, typos, other-script names, unlisted names (~500)
const random = seededRandom(500);
const listed = [...sampleListedNames(ofac, 45), ...sampleListedNames(un, 12)];
const otherScript = un.entries
  .flatMap((e) => e.aliases.filter((a) => a.script !== undefined).map((a) => a.name))
  .filter((_, i) => i % 6 === 0);
const unlisted = unlistedNames().map((n) => n.name);
const firsts = unlisted.map((n) => n.split(' ')[0] ?? '');
const lasts = unlisted.map((n) => n.split(' ').slice(-1)[0] ?? '');
const invented = firsts.flatMap((f, i) => [`${f} ${lasts[(i * 7 + 3) % lasts.length] ?? ''}`]);
const queries = [
  ...listed.slice(0, 150).map((l) => l.name),
  ...listed.slice(0, 100).map((l) => withTypos(l.name, 1, random)),
  ...listed.slice(100, 160).map((l) => withTypos(l.name, 2, random)),
  ...otherScript.slice(0, 60),
  ...unlisted,
  ...invented,
].filter((q) => q.trim() !== '');
const mix = {
  listed: Math.min(150, listed.length),
  oneTypo: Math.min(100, listed.length),
  twoTypos: Math.max(0, Math.min(160, listed.length) - 100),
  otherScript: Math.min(60, otherScript.length),
  unlisted: unlisted.length + invented.length,
};
console.log(`queries: ${queries.length} (${JSON.stringify(mix)})`);

function run(screen: (q: string) => unknown): { latencies: number[]; totalMs: number } {
  for (const q of queries.slice(0, 30)) screen(q); // warm up
  const latencies: number[] = [];
  const start = performance.now();
  for (const q of queries) {
    const t = performance.now();
    screen(q);
    latencies.push(performance.now() - t);
  }
  const totalMs = performance.now() - start;
  latencies.sort((a, b) => a - b);
  return { latencies, totalMs };
}

const fast = run((q) => index.screenName(q, { limit: 10 }));
const full = run((q) => index.fullScan(q, { limit: 10 }));
const qps = (r: { totalMs: number }): number => (queries.length / r.totalMs) * 1000;
console.log(
  `index:     p50 ${ms(percentile(fast.latencies, 50))}, p99 ${ms(percentile(fast.latencies, 99))}, ${qps(fast).toFixed(0)} queries/s`,
);
console.log(
  `full scan: p50 ${ms(percentile(full.latencies, 50))}, p99 ${ms(percentile(full.latencies, 99))}, ${qps(full).toFixed(0)} queries/s`,
);
console.log(
  `speedup: ${(full.totalMs / fast.totalMs).toFixed(1)}x on total time, ${(percentile(full.latencies, 50) / percentile(fast.latencies, 50)).toFixed(1)}x on p50`,
);

let agree = 0;
let agreeAboveReview = 0;
let aboveReview = 0;
for (const q of queries) {
  const a = index.screenName(q, { limit: 1 })[0];
  const b = index.fullScan(q, { limit: 1 })[0];
  const same = a?.listEntryId === b?.listEntryId && a?.score === b?.score;
  if (same) agree++;
  if (b !== undefined && b.outcome !== 'clear') {
    aboveReview++;
    if (same) agreeAboveReview++;
  }
}
console.log(
  `top result agrees with the full scan: ${agree}/${queries.length} (${((100 * agree) / queries.length).toFixed(1)} %); ` +
    `where the full scan says review or match: ${agreeAboveReview}/${aboveReview}`,
);

// --- addresses
const addressSnapshots: ListSnapshot[] = ['XBT', 'ETH', 'USDT', 'LTC'].map((asset) =>
  importAddressList(read(`ofac-crypto-2024-09/sanctioned_addresses_${asset}.txt`), { asset }),
);
const addressIndex = AddressIndex.build([...addressSnapshots, ofac]);
const listedAddresses = addressSnapshots.flatMap((s) =>
  s.entries.map((e) => e.addresses[0]?.address ?? ''),
);
const probes = [
  ...listedAddresses,
  ...listedAddresses.map((a) => (a.startsWith('0x') || a.startsWith('bc1') ? a.toUpperCase() : a)),
  ...listedAddresses.map((a) => `${a.slice(0, -1)}${a.endsWith('a') ? 'b' : 'a'}`),
];
let hits = 0;
const rounds = 200;
const [, addressMs] = time(() => {
  for (let r = 0; r < rounds; r++)
    for (const p of probes) hits += addressIndex.screenAddress(p).length > 0 ? 1 : 0;
});
const lookups = rounds * probes.length;
const [, scanMs] = time(() => {
  for (const p of probes.slice(0, 200)) {
    const lower = p.toLowerCase();
    listedAddresses.some((a) => a === p || a.toLowerCase() === lower);
  }
});
console.log(
  `address lookups: ${((lookups / addressMs) * 1000).toFixed(0)} /s over ${addressIndex.size} listed addresses ` +
    `(${hits / rounds} of ${probes.length} probes listed); linear scan reference: ${((200 / scanMs) * 1000).toFixed(0)} /s`,
);

/**
 * Block parsing benchmark: our codec (src/bitcoin parseBlock, with every txid and wtxid as hex)
 * against two reference implementations measured in the same run:
 *   - bitcoinjs-lib: Block.fromBuffer, then getId() for every transaction;
 *   - @scure/btc-signer: Transaction.fromRaw + .id for every transaction (it has no block
 *     parser, so the transactions are split beforehand, outside the timed section).
 * A second row of ours also verifies the merkle root and the witness commitment and reads every
 * transaction's weight and vsize: the whole of what `tradeclear block inspect` needs.
 *
 * Run: npm run bench -- block   (or node --expose-gc --import tsx bench/block-parse.bench.ts)
 *
 * Time is the CPU time of the process (process.cpuUsage: user + system, all threads, to the
 * microsecond), not wall time: on a shared machine, time spent waiting for a core is not the
 * parser's. It includes the work of V8's helper threads (parallel and concurrent garbage
 * collection), a real cost of allocating; the median wall time is printed too, for reference.
 * Each implementation first runs for ~0.5 s so that the JIT has optimized it. Then they
 * are measured interleaved, not one after the other: each round times one sample of every
 * implementation (in rotating order), a sample being enough back-to-back parses to last ~4 ms
 * (one parse of a big block, hundreds of a small one, so that the clock's resolution does not
 * count). We print each one's median over the rounds, and the ratios against bitcoinjs-lib and
 * @scure/btc-signer as the median of the per-round ratios with their interquartile range: what
 * other work on the machine does to caches and clocks during a round, it does to every
 * implementation of that round.
 *
 * Memory, per parse, the input buffer excluded (it is allocated before measuring):
 *   - "heap allocated": every byte the parse put on the V8 heap, garbage included, averaged over
 *     at least 5 MB worth of parses of the block (thousands of parses of a small block, so a
 *     few stray kilobytes of the harness do not count). Method: v8.GCProfiler records each
 *     garbage collection with the heap's used size before and after it, synchronously;
 *     allocated = (usedHeapSize at end − at start) + Σ over GCs of (used before − used after).
 *     Results are dropped as they come, so that only the parse is measured.
 *   - "array buffers": bytes of ArrayBuffer backing stores (outside the V8 heap) allocated by a
 *     parse: after a full gc(), the growth of process.memoryUsage().arrayBuffers across one
 *     parse, averaged over 10 parses. Array buffers are swept on the main thread
 *     (--no-concurrent-array-buffer-sweeping) so that none freed earlier is counted against the
 *     parse. Exact when no GC runs during the parse; when one did (the references' big
 *     allocations), the figure is a lower bound, printed with "≥".
 *   - "retained": what stays reachable from one result after a full gc(), over 10 results.
 * gc() is node's --expose-gc (set by bench/run.ts), or exposed here via v8.setFlagsFromString.
 */
import { readFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as bitcoinjs from 'bitcoinjs-lib';
import { Transaction } from '@scure/btc-signer';
import { parseBlock } from '../src/bitcoin';

const vectors = new URL('../test/vectors/bitcoin/blocks/', import.meta.url);

function loadGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing) return existing;
  v8.setFlagsFromString('--expose-gc');
  return vm.runInNewContext('gc') as () => void;
}
const gc = loadGc();
// Array buffers freed by a GC are otherwise swept on a helper thread at some later moment, which
// can fall inside the parse being measured and hide its allocations (see arrayBuffersPerParse).
v8.setFlagsFromString('--no-concurrent-array-buffer-sweeping');

interface Subject {
  name: string;
  run: (bytes: Uint8Array, txs: Uint8Array[]) => unknown;
}

const ours: Subject = {
  name: 'tradeclear parseBlock + txids + wtxids',
  run: (bytes) => {
    const block = parseBlock(bytes);
    const ids: string[] = [];
    for (const tx of block.transactions) ids.push(tx.txid, tx.wtxid);
    return ids;
  },
};

const subjects: Subject[] = [
  ours,
  {
    name: 'tradeclear, also merkle + witness commitment + weights',
    run: (bytes) => {
      const block = parseBlock(bytes);
      if (!block.verifyMerkleRoot()) throw new Error('merkle root does not verify');
      if (block.verifyWitnessCommitment() === 'invalid') throw new Error('witness commitment');
      const ids: string[] = [];
      let vsize = 0;
      for (const tx of block.transactions) {
        ids.push(tx.txid, tx.wtxid);
        vsize += tx.vsize + tx.weight * 0;
      }
      return { ids, vsize, weight: block.totals.weight };
    },
  },
  {
    name: 'bitcoinjs-lib Block.fromBuffer + getId()',
    run: (bytes) => {
      const block = bitcoinjs.Block.fromBuffer(bytes);
      return (block.transactions ?? []).map((tx) => tx.getId());
    },
  },
  {
    name: '@scure/btc-signer Transaction.fromRaw + id',
    run: (_bytes, txs) =>
      txs.map(
        (raw) =>
          Transaction.fromRaw(raw, {
            allowUnknownOutputs: true,
            allowUnknownInputs: true,
            disableScriptCheck: true,
            allowLegacyWitnessUtxo: true,
          }).id,
      ),
  },
];

const BITCOINJS = 2;
const SCURE = 3;

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (sorted.length - 1) * q;
  const low = Math.floor(at);
  const high = Math.ceil(at);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (at - low);
}

const WARM_UP_MS = 500;
const SAMPLE_MS = 4;
const ROUNDS = 30;

/** CPU time of the process in ms (user + system, all threads), to the microsecond. */
function cpuNow(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}

/** CPU and wall milliseconds of `iterations` back-to-back runs. */
function measure(
  subject: Subject,
  bytes: Uint8Array,
  txs: Uint8Array[],
  iterations: number,
): { cpu: number; wall: number } {
  const cpu = cpuNow();
  const wall = performance.now();
  for (let i = 0; i < iterations; i++) subject.run(bytes, txs);
  return { cpu: cpuNow() - cpu, wall: performance.now() - wall };
}

/** Warms the subject up (JIT), then returns how many back-to-back parses last SAMPLE_MS. */
function calibrate(subject: Subject, bytes: Uint8Array, txs: Uint8Array[]): number {
  const warmUpStart = cpuNow();
  for (let runs = 0; runs < 10 || cpuNow() - warmUpStart < WARM_UP_MS; runs++) {
    subject.run(bytes, txs);
  }
  let iterations = 1;
  for (;;) {
    const elapsed = measure(subject, bytes, txs, iterations).cpu;
    if (elapsed >= SAMPLE_MS / 4 || iterations >= 1 << 16) {
      return Math.max(1, Math.round((iterations * SAMPLE_MS) / Math.max(elapsed, 0.001)));
    }
    iterations *= 4;
  }
}

/** Per subject, the CPU and wall ms per parse of each round (rounds interleave the subjects). */
function timeInterleaved(
  bytes: Uint8Array,
  txs: Uint8Array[],
): { cpu: number[][]; wall: number[][] } {
  const iterations = subjects.map((subject) => calibrate(subject, bytes, txs));
  const cpu: number[][] = subjects.map(() => []);
  const wall: number[][] = subjects.map(() => []);
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < subjects.length; k++) {
      const s = (round + k) % subjects.length;
      const subject = subjects[s];
      const n = iterations[s] ?? 1;
      if (!subject) continue;
      const sample = measure(subject, bytes, txs, n);
      cpu[s]?.push(sample.cpu / n);
      wall[s]?.push(sample.wall / n);
    }
  }
  return { cpu, wall };
}

function heapAllocatedPerParse(subject: Subject, bytes: Uint8Array, txs: Uint8Array[]): number {
  const runs = Math.max(10, Math.ceil(5e6 / bytes.length));
  gc();
  const profiler = new v8.GCProfiler();
  profiler.start();
  const start = v8.getHeapStatistics().used_heap_size;
  for (let i = 0; i < runs; i++) subject.run(bytes, txs);
  const end = v8.getHeapStatistics().used_heap_size;
  const profile = profiler.stop();
  let collected = 0;
  for (const event of profile.statistics) {
    collected +=
      event.beforeGC.heapStatistics.usedHeapSize - event.afterGC.heapStatistics.usedHeapSize;
  }
  return (end - start + collected) / runs;
}

function arrayBuffersPerParse(
  subject: Subject,
  bytes: Uint8Array,
  txs: Uint8Array[],
): { bytes: number; exact: boolean } {
  const runs = 10;
  let total = 0;
  let exact = true;
  for (let i = 0; i < runs; i++) {
    gc();
    const profiler = new v8.GCProfiler();
    profiler.start();
    const before = process.memoryUsage().arrayBuffers;
    subject.run(bytes, txs);
    total += process.memoryUsage().arrayBuffers - before;
    if (profiler.stop().statistics.length > 0) exact = false;
  }
  return { bytes: Math.max(0, total / runs), exact };
}

function retainedPerResult(subject: Subject, bytes: Uint8Array, txs: Uint8Array[]): number {
  const runs = 10;
  const keep: unknown[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < runs; i++) keep.push(subject.run(bytes, txs));
  gc();
  const retained = (process.memoryUsage().heapUsed - before) / runs;
  keep.length = 0;
  return retained;
}

const kb = (bytes: number) =>
  bytes < 1e6 ? `${(bytes / 1e3).toFixed(1)} kB` : `${(bytes / 1e6).toFixed(2)} MB`;

function benchBlock(label: string, bytes: Uint8Array): void {
  const txs = parseBlock(bytes).transactions.map((tx) => tx.bytes.slice());
  console.log(`\n${label}: ${bytes.length.toLocaleString('en')} bytes, ${txs.length} transactions`);
  const { cpu: samples, wall } = timeInterleaved(bytes, txs);
  /** Median (interquartile range) over the rounds of reference time ÷ this one's time. */
  const versus = (reference: number, mine: number[]) => {
    const ratios = mine.map((ms, round) => (samples[reference]?.[round] ?? ms) / ms);
    const q = (p: number) => quantile(ratios, p).toFixed(2);
    return `${q(0.5)} (${q(0.25)}–${q(0.75)})`;
  };
  const rows = subjects.map((subject, s) => {
    const mine = samples[s] ?? [];
    const ms = quantile(mine, 0.5);
    const heap = heapAllocatedPerParse(subject, bytes, txs);
    const buffers = arrayBuffersPerParse(subject, bytes, txs);
    return {
      implementation: subject.name,
      'CPU µs': (ms * 1000).toFixed(1),
      'wall µs': (quantile(wall[s] ?? [], 0.5) * 1000).toFixed(1),
      'tx/s': Math.round((txs.length / ms) * 1000).toLocaleString('en'),
      '× faster than bitcoinjs (IQR)': versus(BITCOINJS, mine),
      '× faster than scure (IQR)': versus(SCURE, mine),
      'heap allocated': kb(heap),
      'heap ÷ block': (heap / bytes.length).toFixed(2),
      'array buffers': `${buffers.exact ? '' : '≥ '}${kb(buffers.bytes)}`,
      '(heap + buffers) ÷ block': `${buffers.exact ? '' : '≥ '}${((heap + buffers.bytes) / bytes.length).toFixed(2)}`,
      retained: kb(Math.max(0, retainedPerResult(subject, bytes, txs))),
    };
  });
  console.table(rows);
}

const block413567 = new Uint8Array(readFileSync(new URL('mainnet-413567.raw', vectors)));
const fixtures = JSON.parse(
  readFileSync(new URL('bitcoinjs-block-fixtures.json', vectors), 'utf8'),
) as {
  valid: { witnessCommit?: string; hex: string; height?: string }[];
};
const segwit = fixtures.valid.find((f) => f.witnessCommit !== undefined);

console.log(
  `Block parsing: ours vs bitcoinjs-lib vs @scure/btc-signer (same run, interleaved, medians of CPU time)`,
);
benchBlock('mainnet 413,567 (pre-segwit, Bitcoin Core bench block)', block413567);
if (segwit)
  benchBlock(
    `mainnet ${segwit.height ?? '542,213'} (segwit, witness commitment)`,
    Uint8Array.from(Buffer.from(segwit.hex, 'hex')),
  );

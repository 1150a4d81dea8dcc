/**
 * Block parsing benchmark: our codec (src/bitcoin parseBlock, with every txid and wtxid as hex)
 * against two reference implementations measured in the same run:
 *   - bitcoinjs-lib: Block.fromBuffer, then getId() for every transaction;
 *   - @scure/btc-signer: Transaction.fromRaw + .id for every transaction (it has no block
 *     parser, so the transactions are split beforehand, outside the timed section).
 *
 * Run: npx tsx bench/block-parse.bench.ts   (also run by `npm run bench`)
 *
 * Time: after a warm-up, each implementation parses the block repeatedly (at least 15 times and
 * for at least ~1 s); we print the median, transactions per second and ratios.
 *
 * Memory: "allocated per block" is every byte the parse put on the V8 heap, garbage included.
 * Method: v8.GCProfiler records each garbage collection with the heap's used size before and
 * after it, synchronously; allocated = (usedHeapSize at end − at start) + Σ over GCs during the
 * run of (used before − used after), divided by the number of parses. The input buffer is
 * allocated before measuring and is not counted. "retained" is what stays reachable from the
 * result after a full GC (forced with gc(), exposed through v8.setFlagsFromString if node was
 * not started with --expose-gc).
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

interface Subject {
  name: string;
  run: (bytes: Uint8Array, txs: Uint8Array[]) => unknown;
}

const subjects: Subject[] = [
  {
    name: 'tradeclear parseBlock + txids + wtxids',
    run: (bytes) => {
      const block = parseBlock(bytes);
      const ids: string[] = [];
      for (const tx of block.transactions) ids.push(tx.txid, tx.wtxid);
      return ids;
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

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function timeIt(subject: Subject, bytes: Uint8Array, txs: Uint8Array[]): number {
  for (let i = 0; i < 5; i++) subject.run(bytes, txs); // warm-up (JIT)
  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < 15 || (performance.now() - started < 1000 && samples.length < 500)) {
    const t0 = performance.now();
    subject.run(bytes, txs);
    samples.push(performance.now() - t0);
  }
  return median(samples);
}

function allocatedPerParse(
  subject: Subject,
  bytes: Uint8Array,
  txs: Uint8Array[],
): { allocated: number; retained: number } {
  const runs = 10;
  const keep: unknown[] = [];
  gc();
  const before = process.memoryUsage().heapUsed;
  const profiler = new v8.GCProfiler();
  profiler.start();
  const start = v8.getHeapStatistics().used_heap_size;
  for (let i = 0; i < runs; i++) keep.push(subject.run(bytes, txs));
  const end = v8.getHeapStatistics().used_heap_size;
  const profile = profiler.stop();
  let collected = 0;
  for (const event of profile.statistics) {
    collected +=
      event.beforeGC.heapStatistics.usedHeapSize - event.afterGC.heapStatistics.usedHeapSize;
  }
  gc();
  const retained = (process.memoryUsage().heapUsed - before) / runs;
  keep.length = 0;
  return { allocated: (end - start + collected) / runs, retained };
}

// Below ~10 kB the GC-based figures are within measurement noise (they can even come out negative).
const mb = (bytes: number) => (bytes < 10_000 ? '< 0.01 MB' : `${(bytes / 1e6).toFixed(2)} MB`);

function benchBlock(label: string, bytes: Uint8Array): void {
  const txs = parseBlock(bytes).transactions.map((tx) => tx.bytes.slice());
  console.log(`\n${label}: ${bytes.length.toLocaleString('en')} bytes, ${txs.length} transactions`);
  const results = subjects.map((subject) => {
    const ms = timeIt(subject, bytes, txs);
    const memory = allocatedPerParse(subject, bytes, txs);
    return { subject, ms, ...memory };
  });
  const ours = results[0];
  if (!ours) return;
  const rows = results.map((r) => ({
    implementation: r.subject.name,
    'median ms': r.ms.toFixed(3),
    'tx/s': Math.round((txs.length / r.ms) * 1000).toLocaleString('en'),
    'ours is × faster': (r.ms / ours.ms).toFixed(2),
    'allocated/block': mb(r.allocated),
    'allocated ÷ block size': (r.allocated / bytes.length).toFixed(2),
    'retained/block': mb(r.retained),
  }));
  console.table(rows);
}

const block413567 = new Uint8Array(readFileSync(new URL('mainnet-413567.raw', vectors)));
const fixtures = JSON.parse(
  readFileSync(new URL('bitcoinjs-block-fixtures.json', vectors), 'utf8'),
) as {
  valid: { witnessCommit?: string; hex: string; height?: string }[];
};
const segwit = fixtures.valid.find((f) => f.witnessCommit !== undefined);

console.log('Block parsing: ours vs bitcoinjs-lib vs @scure/btc-signer (same run, medians)');
benchBlock('mainnet 413,567 (pre-segwit, Bitcoin Core bench block)', block413567);
if (segwit)
  benchBlock(
    `mainnet ${segwit.height ?? '542,213'} (segwit, witness commitment)`,
    Uint8Array.from(Buffer.from(segwit.hex, 'hex')),
  );

/**
 * What complete blocks cost the watcher: decoding mainnet block 413,567 (1,557 transactions,
 * 4,887 inputs) as the watcher delivers it, before and after inputs carried their previous
 * outputs, measured interleaved in one run and printed as ratios.
 *
 * - before: the raw block decoded to outputs with addresses and inputs as bare outpoints (the
 *   former decodeWatchedBlock); a consumer needing an input's value then asked the chain, one
 *   call per input, inside the block's transaction (not counted here: a network round trip each).
 * - after, raw + prevout map: decodeChainBlock with the inputs' previous outputs from a map (what
 *   the simnet, Esplora and block file adapters do once their prevouts are fetched).
 * - after, Core verbosity 3: JSON.parse + schema check + chainBlockFromVerbose of a getblock
 *   verbosity-3 answer (what the Bitcoin Core adapter does), against the former Core path:
 *   hex-decoding getblock verbosity 0 and the former decode.
 *
 * The block is real; its inputs' previous outputs are not in the repository, so the bench gives
 * every input a synthetic one (a P2PKH output of 1 BTC): the cost of carrying prevouts depends
 * on their number and script sizes, not their values.
 *
 * Run: npx tsx bench/chain-block.bench.ts. CPU time (process.cpuUsage), median of rounds; each
 * round times every subject once, in rotating order.
 */
import { readFileSync } from 'node:fs';
import { fromHex } from '../src/bitcoin';
import { decodeChainBlock, outpointKey, type KnownPrevout } from '../src/chain/block';
import { outputAddress, parseBlock } from '../src/chain/blockfile/block';
import { chainBlockFromVerbose, verboseBlockSchema } from '../src/chain/bitcoind/verbose-block';

const raw = new Uint8Array(
  readFileSync(new URL('../test/vectors/bitcoin/blocks/mainnet-413567.raw', import.meta.url)),
);
const HASH = '0000000000000000025aff8be8a55df8f89c77296db6198f272d6577325d4069';
const HEIGHT = 413_567;
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');

// Synthetic previous outputs: one P2PKH output of 1 BTC for every input.
const script = fromHex(`76a914${'11'.repeat(20)}88ac`);
const parsed = parseBlock(raw);
const prevouts = new Map<string, KnownPrevout>();
for (const tx of parsed.transactions)
  for (const input of tx.inputs)
    if (input.prevout)
      prevouts.set(outpointKey(input.prevout.txid, input.prevout.vout), {
        valueSats: 100_000_000n,
        script,
      });

// Core's verbosity 0 and verbosity 3 answers for the block (the fields the adapter reads).
const rawHex = JSON.stringify(hex(raw));
const verbose = JSON.stringify({
  hash: HASH,
  height: HEIGHT,
  version: 4,
  merkleroot: parsed.header.merkleRoot,
  time: parsed.header.time,
  nonce: parsed.header.nonce,
  bits: parsed.header.bits.toString(16).padStart(8, '0'),
  previousblockhash: parsed.header.previousHash,
  tx: parsed.transactions.map((tx) => ({
    txid: tx.txid,
    hex: hex(tx.raw),
    vin: tx.inputs.map((input) =>
      input.prevout
        ? {
            txid: input.prevout.txid,
            vout: input.prevout.vout,
            prevout: { value: 1, scriptPubKey: { hex: hex(script) } },
          }
        : { coinbase: '00' },
    ),
  })),
});

/** The former decodeWatchedBlock: outputs with addresses, inputs as outpoints. */
function decodeBefore(bytes: Uint8Array) {
  const block = parseBlock(bytes);
  return block.transactions.map((tx) => ({
    txid: tx.txid,
    coinbase: tx.coinbase,
    inputs: tx.inputs.flatMap((input) => (input.prevout ? [input.prevout] : [])),
    outputs: tx.outputs.map((output) => ({
      vout: output.vout,
      valueSats: output.valueSats,
      script: output.script.slice(),
      address: outputAddress(output.script, 'mainnet'),
    })),
  }));
}

const subjects: { name: string; run: () => unknown }[] = [
  { name: 'before: raw block, bare outpoints', run: () => decodeBefore(raw) },
  {
    name: 'after: raw block + prevout map',
    run: () =>
      decodeChainBlock(
        raw,
        { hash: HASH, height: HEIGHT },
        'mainnet',
        (t, v) => prevouts.get(outpointKey(t, v)),
        'bench',
      ),
  },
  {
    name: 'before, Core: getblock 0 (JSON hex) + decode',
    run: () => decodeBefore(fromHex(JSON.parse(rawHex) as string)),
  },
  {
    name: 'after, Core: getblock 3 (JSON) + checks + decode',
    run: () =>
      chainBlockFromVerbose(verboseBlockSchema.parse(JSON.parse(verbose)), HASH, 'mainnet'),
  },
];

function cpuMs(fn: () => unknown): number {
  const start = process.cpuUsage();
  fn();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
};

for (const subject of subjects) for (let i = 0; i < 3; i++) subject.run(); // warm-up
const ROUNDS = 15;
const times = subjects.map(() => [] as number[]);
for (let round = 0; round < ROUNDS; round++) {
  for (let k = 0; k < subjects.length; k++) {
    const index = (k + round) % subjects.length;
    times[index]?.push(cpuMs(() => subjects[index]?.run()));
  }
}
const medians = times.map(median);
console.log(
  `mainnet block 413,567: ${parsed.transactions.length} transactions, ${prevouts.size} inputs; median CPU ms of ${ROUNDS} rounds`,
);
for (const [i, subject] of subjects.entries())
  console.log(`  ${subject.name.padEnd(52)} ${medians[i]?.toFixed(1)} ms`);
const [before = NaN, after = NaN, coreBefore = NaN, coreAfter = NaN] = medians;
console.log(`  ratio after/before (raw + prevout map):  ${(after / before).toFixed(2)}×`);
console.log(`  ratio after/before (Bitcoin Core path):  ${(coreAfter / coreBefore).toFixed(2)}×`);
console.log(
  "  before, each input value a consumer needed (mining's haircut of a tagged coin spent with others) was one chain call inside the block's transaction; after, none",
);

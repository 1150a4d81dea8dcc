/**
 * Multilateral netting of a settlement window: `npx tsx bench/netting.bench.ts`.
 *
 * A generated day of 10,000 domestic deals between 20 platforms (each deal owes bitcoin from the
 * miner's platform to the importer's and local currency back; a few platforms host most miners,
 * others most importers, as in a scheme where mining is regional). Reports the transfers that
 * settle the day gross, with bilateral netting (the reference) and with multilateral netting, and
 * the time to compute the window's positions and instructions against the time of the bilateral
 * reference, both measured in this run.
 */
import {
  BTC,
  bilateralTransfers,
  netPositions,
  settlementInstructions,
  type Obligation,
} from '../src/clearing';
import { SeededRandom } from '../src/kernel';

const PLATFORMS = 20;
const DEALS = 5_000; // two obligations each: 10,000
const RUNS = 30;

function generateDay(seed: number): Obligation[] {
  const random = new SeededRandom(seed);
  const platform = (skewTo: 'miners' | 'importers'): string => {
    // Platforms 0–5 host most miners, 6–19 most importers; anyone may be on either side.
    const preferred = skewTo === 'miners' ? random.int(0, 5) : random.int(6, PLATFORMS - 1);
    return `plt_${String(random.next() < 0.8 ? preferred : random.int(0, PLATFORMS - 1)).padStart(2, '0')}`;
  };
  const obligations: Obligation[] = [];
  for (let deal = 0; deal < DEALS; deal++) {
    const miner = platform('miners');
    let importer = platform('importers');
    while (importer === miner) importer = platform('importers');
    // 0.001–2 BTC, log-uniform; the fiat leg at about 60,000,000 PYG per BTC.
    const sats = BigInt(Math.round(100_000 * Math.exp(random.next() * Math.log(2_000))));
    const pyg = (sats * 60_000_000n) / 100_000_000n;
    obligations.push({
      id: `obl_${deal}_btc`,
      from: miner,
      to: importer,
      asset: BTC,
      amount: sats,
    });
    obligations.push({
      id: `obl_${deal}_pyg`,
      from: importer,
      to: miner,
      asset: 'PYG',
      amount: pyg,
    });
  }
  return obligations;
}

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}

const day = generateDay(2026);
const { payIns, payOuts } = settlementInstructions(netPositions(day));
const multilateral = payIns.length + payOuts.length;
const bilateral = bilateralTransfers(day);

const multilateralMs: number[] = [];
const bilateralMs: number[] = [];
for (let run = 0; run < RUNS; run++) {
  let started = performance.now();
  settlementInstructions(netPositions(day));
  multilateralMs.push(performance.now() - started);
  started = performance.now();
  bilateralTransfers(day);
  bilateralMs.push(performance.now() - started);
}

const fewer = (n: number) => `${((1 - n / day.length) * 100).toFixed(2)} % fewer than gross`;
console.log(
  `one day: ${day.length.toLocaleString('en')} obligations between ${PLATFORMS} platforms`,
);
console.table({
  gross: { transfers: day.length, reduction: '' },
  'bilateral netting (reference)': { transfers: bilateral, reduction: fewer(bilateral) },
  'multilateral netting': { transfers: multilateral, reduction: fewer(multilateral) },
});
const ours = median(multilateralMs);
const reference = median(bilateralMs);
console.log(
  `positions + instructions: median ${ours.toFixed(2)} ms over ${RUNS} runs (target < 200 ms); ` +
    `bilateral reference ${reference.toFixed(2)} ms; ratio ${(ours / reference).toFixed(2)}×`,
);
console.log(
  `multilateral transfers are ${((multilateral / bilateral) * 100).toFixed(1)} % of bilateral`,
);

/**
 * Multilateral netting of a settlement window: `npx tsx bench/netting.bench.ts`.
 *
 * A generated day of 10,000 domestic deals between 20 platforms (each deal owes bitcoin from the
 * miner's platform to the importer's and local currency back; a few platforms host most miners,
 * others most importers, as in a scheme where mining is regional). Reports the transfers that
 * settle the day gross, with bilateral netting (the reference) and with multilateral netting, and
 * the time to compute the window's positions and instructions against the time of the bilateral
 * reference, both measured in this run. Then the on-chain figure the scheme is judged by: the
 * bitcoin legs settled gross are one on-chain transfer each; netted, each net payer pays in once
 * and the clearing pays every net receiver in one batched transaction. And a window where one
 * platform fails to pay in (take-out and recomputation). Exits non-zero when a target is missed:
 * on-chain transfers at least 90 % fewer than gross obligations, positions in under 200 ms.
 */
import {
  BTC,
  bilateralTransfers,
  netPositions,
  settlementInstructions,
  settleWithTakeOut,
  SettlementWindowService,
  type Obligation,
} from '../src/clearing';
import { openDatabase } from '../src/db';
import { LocalKeySigner } from '../src/bitcoin';
import { ManualClock, SeededRandom, newId, systemCaller } from '../src/kernel';
import { schemeConfirmationDepth } from '../src/trade';

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

// ---- on-chain: the bitcoin legs
const bitcoinLegs = day.filter((o) => o.asset === BTC).length;
const bitcoinPayIns = payIns.filter((t) => t.asset === BTC).length;
const bitcoinPayOuts = payOuts.filter((t) => t.asset === BTC).length;
const onChainTransactions = bitcoinPayIns + (bitcoinPayOuts > 0 ? 1 : 0);
const onChainReduction = 1 - onChainTransactions / bitcoinLegs;
const allReduction = 1 - multilateral / day.length;
console.log(
  `on-chain: ${bitcoinLegs.toLocaleString('en')} bitcoin legs gross → ${bitcoinPayIns} pay-ins + ` +
    `1 batched pay-out transaction (${bitcoinPayOuts} outputs) = ${onChainTransactions} transactions, ` +
    `${(onChainReduction * 100).toFixed(2)} % fewer (target ≥ 90 %); all transfers ` +
    `${(allReduction * 100).toFixed(2)} % fewer than the ${day.length.toLocaleString('en')} gross obligations`,
);

// ---- a platform fails to pay in: take-out and recomputation
const full = netPositions(day);
const paid = new Map<string, Map<string, bigint>>();
for (const t of payIns) {
  if (t.participant === 'plt_03') continue; // plt_03 pays nothing
  const byParticipant = paid.get(t.asset) ?? new Map<string, bigint>();
  byParticipant.set(t.participant, t.amount);
  paid.set(t.asset, byParticipant);
}
const takeOutMs: number[] = [];
let outcome = settleWithTakeOut(day, paid);
for (let run = 0; run < RUNS; run++) {
  const started = performance.now();
  outcome = settleWithTakeOut(day, paid);
  takeOutMs.push(performance.now() - started);
}
console.log(
  `take-out: ${outcome.takenOut.length} platform(s) out (${outcome.takenOut.join(', ')}), ` +
    `${outcome.rolled.length.toLocaleString('en')} obligations rolled, ` +
    `${outcome.settling.length.toLocaleString('en')} settle; median ${median(takeOutMs).toFixed(2)} ms ` +
    `(${(median(takeOutMs) / ours).toFixed(1)}× the plain netting); ${full.size} assets`,
);

// ---- the same day through the service on an embedded database: record, then close the window
const db = await openDatabase({ dataDir: 'memory://' });
await db.migrate();
const clock = new ManualClock('2026-07-01T00:00:00Z');
const random = new SeededRandom(11);
const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
const windows = new SettlementWindowService({
  db,
  clock,
  random,
  network: 'regtest',
  payInDescriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/0/*)`,
  confirmationDepth: schemeConfirmationDepth,
  addressScreening: null,
});
const supervisor = systemCaller('bench');
await windows.setSchedule(supervisor, { periodMinutes: 60, payInMinutes: 30, reason: 'bench' });
const platformIds = new Map<string, string>();
const idOf = (name: string) => {
  let id = platformIds.get(name);
  if (!id) platformIds.set(name, (id = newId('participant', clock.now(), random)));
  return id;
};
let started = performance.now();
await db.transaction(async (tx) => {
  for (const o of day) {
    await windows.record(
      {
        source: 'deal',
        sourceId: o.id,
        from: idOf(o.from),
        to: idOf(o.to),
        asset: o.asset,
        amount: o.amount,
        at: clock.now(),
      },
      tx,
    );
  }
});
const recordMs = performance.now() - started;
const [open] = (await windows.listWindows(supervisor)).items;
const readMs: number[] = [];
for (let run = 0; run < 5; run++) {
  started = performance.now();
  await db.orm.execute(`select * from clearing_obligations where window_id = '${open?.id ?? ''}'`);
  readMs.push(performance.now() - started);
}
started = performance.now();
await windows.closeWindow(supervisor, open?.id ?? '');
const closeMs = performance.now() - started;
const stored = await windows.listPositions(supervisor, open?.id ?? '', { limit: 500 });
console.log(
  `embedded database: recording 10,000 obligations ${(recordMs / day.length).toFixed(2)} ms each; ` +
    `closing the window (read, net, ${stored.items.length} positions and the pay-ins written, audited) ` +
    `${closeMs.toFixed(0)} ms = ${(closeMs / median(readMs)).toFixed(1)}× reading its obligations (${median(readMs).toFixed(0)} ms)`,
);
await db.close();

const missed: string[] = [];
if (onChainReduction < 0.9) missed.push('on-chain transfers are not 90 % fewer than gross');
if (allReduction < 0.9) missed.push('transfers are not 90 % fewer than gross obligations');
if (ours >= 200) missed.push('positions took 200 ms or more');
if (missed.length > 0) {
  console.log(`MISSED: ${missed.join('; ')}`);
  process.exitCode = 1;
} else {
  console.log('targets met: ≥ 90 % fewer transfers, positions < 200 ms');
}

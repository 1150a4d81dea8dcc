/**
 * Coin selection benchmark: `npx tsx bench/coinselect.bench.ts`.
 *
 * (a) Replays the bustabit 2019–2020 scenario and compares the total fees with Bitcoin Core's
 *     published result for the same scenario (0.4230–0.4301 BTC; test/vectors/README.md).
 * (b) Batching: the vbytes per payout of one transaction paying 1, 10, 100 and 1,000 P2WPKH
 *     payouts, measured on the serialized transaction (inputs chosen by selectCoins from a pool,
 *     P2WPKH witnesses with 72-byte signatures), against the unbatched case. The floor is the
 *     payout's own 31 vB output.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { NETWORK, RawTx, p2wpkh } from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { SATS_PER_BTC, SeededRandom, formatBtc } from '../src/kernel';
import { P2WPKH_OUTPUT_VBYTES, selectCoins, simulateScenario } from '../src/trade/coinselection';
import type { Utxo } from '../src/trade/coinselection';

const CORE_TOTAL_FEES_LOW = (4230n * SATS_PER_BTC) / 10_000n;
const CORE_TOTAL_FEES_HIGH = (4301n * SATS_PER_BTC) / 10_000n;

function scenarioComparison(): void {
  const file = path.resolve(
    import.meta.dirname,
    '../test/vectors/coinselection/scenarios_bustabit-2019-2020-tiny.csv',
  );
  const started = performance.now();
  const report = simulateScenario(readFileSync(file, 'utf8'), { random: new SeededRandom(2019) });
  const seconds = (performance.now() - started) / 1000;
  console.log('(a) bustabit 2019-2020 scenario, ours vs Bitcoin Core (published)');
  console.table({
    'total fees (BTC)': {
      ours: report.totalFeesBtc,
      core: `${formatBtc(CORE_TOTAL_FEES_LOW)}–${formatBtc(CORE_TOTAL_FEES_HIGH)}`,
    },
    'fees per payment (sat)': {
      ours: report.averageFeePerPaymentSats.toString(),
      core: '8,500–8,700',
    },
    'inputs per payment': { ours: report.averageInputsPerPayment.toFixed(2), core: '2.0–2.2' },
    'changeless payments': {
      ours: `${(report.changelessShare * 100).toFixed(1)} %`,
      core: '31–32 %',
    },
    'payments made / failed': {
      ours: `${report.paymentsMade} / ${report.paymentsFailed}`,
      core: '4,950',
    },
    'final UTXO count': { ours: String(report.finalUtxoCount), core: 'not published' },
  });
  const ratio = Number((report.totalFeesSats * 10_000n) / CORE_TOTAL_FEES_LOW) / 10_000;
  console.log(
    `fees ratio ours / Core (0.4230 BTC): ${ratio.toFixed(4)}   (replay took ${seconds.toFixed(1)} s)`,
  );
  console.log('algorithms chosen:', report.algorithmCounts);
}

/** vsize of the signed transaction, from its serialization (BIP141 weight = base × 3 + total). */
function serializedVsize(inputs: number, payoutOutputs: number, change: boolean): number {
  const key = secp256k1.getPublicKey(new Uint8Array(32).fill(1), true);
  const script = p2wpkh(key, NETWORK).script;
  const tx = {
    version: 2,
    inputs: Array.from({ length: inputs }, (_, i) => ({
      txid: new Uint8Array(32).fill(i % 256),
      index: i,
      finalScriptSig: new Uint8Array(0),
      sequence: 0xfffffffd,
    })),
    outputs: Array.from({ length: payoutOutputs + (change ? 1 : 0) }, () => ({
      amount: 1_000n,
      script,
    })),
    lockTime: 0,
  };
  const witness = [new Uint8Array(72).fill(0x30), key];
  const full = RawTx.encode({ ...tx, segwitFlag: true, witnesses: tx.inputs.map(() => witness) });
  const base = RawTx.encode({ ...tx, segwitFlag: false, witnesses: undefined });
  return Math.ceil((base.length * 3 + full.length) / 4);
}

function batchingComparison(): void {
  const random = new SeededRandom(7);
  // A pool like an exchange's: 2,000 coins from 0.001 to 0.5 BTC.
  const pool: Utxo[] = Array.from({ length: 2000 }, (_, i) => ({
    id: `coin${i}`,
    value: 100_000n + BigInt(random.int(0, 49_900_000)),
    inputVbytes: 68,
  }));
  const payout = 2_000_000n; // 0.02 BTC each
  const rows: Record<string, Record<string, string | number>> = {};
  let unbatched = 0;
  for (const count of [1, 10, 100, 1000]) {
    const selection = selectCoins({
      utxos: pool,
      target: payout * BigInt(count),
      paymentOutputBytes: new Array<number>(count).fill(P2WPKH_OUTPUT_VBYTES),
      feeRateSatPerKvB: 20_000n,
      random,
    });
    const vsize = serializedVsize(selection.inputs.length, count, selection.change !== undefined);
    if (vsize !== selection.vsize)
      throw new Error(`size model ${selection.vsize} ≠ serialized ${vsize}`);
    const perPayout = vsize / count;
    if (count === 1) unbatched = perPayout;
    rows[`${count} payouts`] = {
      inputs: selection.inputs.length,
      change: selection.change === undefined ? 'no' : 'yes',
      'tx vsize': vsize,
      'vB per payout': perPayout.toFixed(2),
      'ratio to unbatched': (perPayout / unbatched).toFixed(3),
      'fee per payout (sat)': (selection.fee / BigInt(count)).toString(),
    };
  }
  console.log('\n(b) batching at 20 sat/vB, P2WPKH payouts of 0.02 BTC (floor: 31 vB per payout)');
  console.table(rows);
}

scenarioComparison();
batchingComparison();

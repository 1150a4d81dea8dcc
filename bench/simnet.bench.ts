// Simnet throughput: signed P2WPKH spends accepted into the mempool per second, and blocks of
// 2,000 transactions mined per second, each compared with a reference measured in the same run:
// verifying the same ECDSA signatures with @noble/curves alone (sighashes precomputed), and
// parsing the same transactions with @scure/btc-signer.
//
//   npx tsx bench/simnet.bench.ts [transactionsPerBlock] [blocks]
import { performance } from 'node:perf_hooks';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { Transaction } from '@scure/btc-signer';
import { ManualClock } from '../src/kernel';
import { Simnet, type Utxo } from '../src/chain/simnet';
import { parseTx } from '../src/chain/simnet/model';
import { p2wpkhOf, signedTx, testKey } from '../test/support/simnet';
import { openTestDatabase } from '../test/support/db';

const perBlock = Number(process.argv[2] ?? 2000);
const rounds = Number(process.argv[3] ?? 3);
const FEE = 200n;

const alice = testKey('bench alice');
const aliceSpk = p2wpkhOf(alice).script;

function time<T>(fn: () => T): { result: T; ms: number } {
  const start = performance.now();
  const result = fn();
  return { result, ms: performance.now() - start };
}

async function timeAsync<T>(fn: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now();
  const result = await fn();
  return { result, ms: performance.now() - start };
}

const db = await openTestDatabase();
const simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
await simnet.mine(101, aliceSpk);

// Fan a coinbase out into `perBlock` coins (in chunks that stay under the standard weight).
let coins: Utxo[] = [];
const coinbases = simnet
  .listUnspent(aliceSpk)
  .filter((utxo) => simnet.height + 1 - utxo.height >= 100);
const chunk = 1000;
for (let made = 0, c = 0; made < perBlock; made += chunk, c++) {
  const source = coinbases[c]!;
  const count = Math.min(chunk, perBlock - made);
  const each = (source.value - 100_000n) / BigInt(count);
  const fanout = signedTx(
    [{ utxo: source }],
    Array.from({ length: count }, () => ({ script: aliceSpk, value: each })),
    [alice.secret],
  );
  const accepted = await simnet.submitTransaction(fanout.extract());
  if (!accepted.allowed) throw new Error(`fan-out refused: ${accepted.rejectReason}`);
  coins.push(
    ...Array.from({ length: count }, (_, vout) => ({
      txid: fanout.id,
      vout,
      value: each,
      script: aliceSpk,
      height: 0,
      coinbase: false,
    })),
  );
}
await simnet.mine(1, aliceSpk);

interface Prepared {
  raw: Uint8Array;
  sighash: Uint8Array;
  signature: Uint8Array;
}

function prepare(from: Utxo[]): Prepared[] {
  return from.map((utxo) => {
    const tx = signedTx(
      [{ utxo }],
      [{ script: aliceSpk, value: utxo.value - FEE }],
      [alice.secret],
    );
    const raw = tx.extract();
    const witness = parseTx(raw).inputs[0]!.witness;
    const scriptCode = Uint8Array.of(0x76, 0xa9, 0x14, ...aliceSpk.subarray(2), 0x88, 0xac);
    const sighash = Transaction.fromRaw(raw, { allowUnknownOutputs: true }).preimageWitnessV0(
      0,
      scriptCode,
      1,
      utxo.value,
    );
    return { raw, sighash, signature: witness[0]!.subarray(0, -1) };
  });
}

const rows: string[][] = [];
let acceptMs = 0;
let mineMs = 0;
let verifyMs = 0;
let parseMs = 0;
let accepted = 0;
for (let round = 0; round < rounds; round++) {
  const prepared = prepare(coins);
  // Reference 1: the signatures alone, with @noble/curves.
  verifyMs += time(() => {
    for (const item of prepared) {
      if (
        !secp256k1.verify(item.signature, item.sighash, alice.pubkey, {
          prehash: false,
          format: 'der',
        })
      )
        throw new Error('bad signature');
    }
  }).ms;
  // Reference 2: parsing with btc-signer.
  parseMs += time(() => {
    for (const item of prepared) Transaction.fromRaw(item.raw, { allowUnknownOutputs: true });
  }).ms;
  // Simnet: full mempool acceptance (policy, UTXO lookups, signatures, persistence).
  acceptMs += (
    await timeAsync(async () => {
      for (const item of prepared) {
        const result = await simnet.submitTransaction(item.raw);
        if (!result.allowed) throw new Error(`refused: ${result.rejectReason}`);
      }
    })
  ).ms;
  accepted += prepared.length;
  const { result: hashes, ms } = await timeAsync(() => simnet.mine(1, aliceSpk));
  mineMs += ms;
  const block = simnet.block(hashes[0]!)!;
  if (block.block.txs.length !== prepared.length + 1)
    throw new Error(`block holds ${block.block.txs.length - 1} transactions`);
  rows.push([
    `round ${round + 1}`,
    `${block.block.txs.length - 1} txs`,
    `${(block.block.size / 1e6).toFixed(2)} MB`,
    `${ms.toFixed(0)} ms to mine`,
  ]);
  coins = prepared.map((item) => {
    const tx = parseTx(item.raw);
    return {
      txid: tx.txid,
      vout: 0,
      value: tx.outputs[0]!.value,
      script: aliceSpk,
      height: 0,
      coinbase: false,
    };
  });
}

const perSecond = (count: number, ms: number) => (count / (ms / 1000)).toFixed(0);
console.log(`simnet: ${rounds} rounds of ${perBlock} signed P2WPKH spends (PGlite in memory)`);
for (const row of rows) console.log(`  ${row.join('  ')}`);
console.log('');
console.log(
  `mempool acceptance (simnet.submitTransaction)   ${perSecond(accepted, acceptMs)} tx/s`,
);
console.log(
  `  reference: ECDSA verify alone (@noble/curves)  ${perSecond(accepted, verifyMs)} tx/s   simnet costs ${(acceptMs / verifyMs).toFixed(2)}× the signature checks`,
);
console.log(
  `  reference: parse alone (btc-signer fromRaw)    ${perSecond(accepted, parseMs)} tx/s   simnet costs ${(acceptMs / parseMs).toFixed(2)}× the parsing`,
);
console.log(
  `blocks of ${perBlock} transactions mined           ${(rounds / (mineMs / 1000)).toFixed(2)} blocks/s (${(mineMs / rounds).toFixed(0)} ms each)`,
);
console.log(
  `  reference: verifying one block's signatures    ${(verifyMs / rounds).toFixed(0)} ms   mining costs ${(mineMs / verifyMs).toFixed(2)}× (scripts are cached from mempool acceptance)`,
);
await db.close();

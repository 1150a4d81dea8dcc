import { afterAll, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet, type Utxo } from './simnet';
import { fund, p2wpkhOf, resetSimnet, signedTx, testKey } from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Reorganizations of depth 1 to 6, injected both ways Bitcoin Core allows on regtest
 * (invalidateblock, and a competing branch with more work), checking the UTXO set against a
 * replay from genesis (a fresh Simnet over the same database) and the mempool after.
 */

const alice = testKey('alice');
const bob = testKey('bob');
const miner = testKey('miner');
const aliceSpk = p2wpkhOf(alice).script;
const bobSpk = p2wpkhOf(bob).script;
const minerSpk = p2wpkhOf(miner).script;

let db: Database;
let simnet: Simnet;
let coins: Utxo[];

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});
beforeEach(async () => {
  await resetSimnet(db);
  simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
  coins = await fund(simnet, aliceSpk, 3);
});

function pay(from: Utxo, to: Uint8Array, fee: bigint) {
  return signedTx([{ utxo: from }], [{ script: to, value: from.value - fee }], [alice.secret]);
}

async function replayed(): Promise<Simnet> {
  return Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
}

describe.each([1, 2, 3, 4, 5, 6])('reorg of depth %i', (depth) => {
  test('invalidateblock disconnects the blocks, restores the UTXO set and returns their transactions to the mempool', async () => {
    const forkHeight = simnet.height;
    const utxosBefore = simnet.allUtxos();
    const confirmed = pay(coins[0]!, bobSpk, 1_000n);
    await simnet.submitTransaction(confirmed.extract());
    const [first] = await simnet.mine(1, minerSpk);
    if (depth > 1) await simnet.mine(depth - 1, minerSpk);
    expect(simnet.getUtxo(confirmed.id, 0)).toBeDefined();

    await simnet.invalidateBlock(first!);
    expect(simnet.height).toBe(forkHeight);
    expect(simnet.allUtxos()).toEqual(utxosBefore);
    expect(simnet.mempoolTxids()).toEqual([confirmed.id]);
    expect(simnet.confirmations(first!)).toBe(-1);
    expect(simnet.block(first!)!.status).toBe('invalid');

    // Mining again confirms it in a new block; the invalid branch stays off.
    const [again] = await simnet.mine(1, minerSpk);
    expect(simnet.block(again!)!.block.txs.map((tx) => tx.txid)).toContain(confirmed.id);
    const fresh = await replayed();
    expect(fresh.tip()).toEqual(simnet.tip());
    expect(fresh.allUtxos()).toEqual(simnet.allUtxos());
  });

  test('a competing branch with more work takes over; a double spend in it evicts the original, other transactions return', async () => {
    const fork = simnet.tip().hash;
    const original = pay(coins[0]!, bobSpk, 1_000n);
    const unrelated = pay(coins[1]!, bobSpk, 2_000n);
    await simnet.submitTransaction(original.extract());
    await simnet.submitTransaction(unrelated.extract());
    const oldBranch = await simnet.mine(depth, minerSpk);
    const pending = pay(coins[2]!, bobSpk, 3_000n);
    await simnet.submitTransaction(pending.extract());

    // Same coin as `original`, paid back to alice: only valid on the new branch.
    const doubleSpend = pay(coins[0]!, aliceSpk, 5_000n);
    const equalWork = await simnet.mineOn(fork, depth, minerSpk, { txs: [doubleSpend.extract()] });
    expect(simnet.tip().hash).toBe(oldBranch[depth - 1]); // equal work: the first seen stays
    const [extra] = await simnet.mineOn(equalWork[depth - 1]!, 1, minerSpk);
    expect(simnet.tip().hash).toBe(extra);
    expect(simnet.height).toBe(simnet.block(fork)!.height + depth + 1);
    for (const hash of oldBranch) expect(simnet.confirmations(hash)).toBe(-1);

    expect(simnet.getUtxo(doubleSpend.id, 0)?.value).toBe(coins[0]!.value - 5_000n);
    expect(simnet.getUtxo(original.id, 0)).toBeUndefined();
    expect(simnet.transaction(original.id)).toBeUndefined();
    expect(new Set(simnet.mempoolTxids())).toEqual(new Set([unrelated.id, pending.id]));

    const fresh = await replayed();
    expect(fresh.tip()).toEqual(simnet.tip());
    expect(fresh.allUtxos()).toEqual(simnet.allUtxos());
    expect(new Set(fresh.mempoolTxids())).toEqual(new Set(simnet.mempoolTxids()));
  });
});

describe('invalid competing branch', () => {
  test('a longer branch holding an invalid transaction is marked invalid and the active chain stays', async () => {
    const fork = simnet.tip().hash;
    await simnet.mine(1, minerSpk);
    const tip = simnet.tip();
    const forged = signedTx(
      [{ utxo: { ...coins[0]!, value: coins[0]!.value + 1n } }],
      [{ script: bobSpk, value: coins[0]!.value - 1_000n }],
      [alice.secret],
    );
    const branch = await simnet.mineOn(fork, 3, minerSpk, { txs: [forged.extract()] });
    expect(simnet.tip()).toEqual(tip);
    for (const hash of branch) expect(simnet.block(hash)!.status).toBe('invalid');
  });
});

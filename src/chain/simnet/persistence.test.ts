import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { Simnet } from './simnet';
import { SimnetChainSource } from './source';
import { fund, p2wpkhOf, signedTx, testKey } from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * A restart resumes the same chain: a new Simnet over the same database has the same tip, the
 * same UTXO set, the same mempool (in order, with entry times) and remembers invalidated blocks.
 */

const alice = testKey('alice');
const bob = testKey('bob');
const aliceSpk = p2wpkhOf(alice).script;
const bobSpk = p2wpkhOf(bob).script;

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});

describe('restart on PGlite', () => {
  test('tip, UTXOs, mempool and invalid marks survive a restart', async () => {
    const clock = new ManualClock('2025-03-01T12:00:00Z');
    const simnet = await Simnet.open({ db, clock });
    const coins = await fund(simnet, aliceSpk, 3);
    // A confirmed payment, an invalidated block, a chain of two mempool transactions.
    const paid = signedTx(
      [{ utxo: coins[0]! }],
      [{ script: aliceSpk, value: coins[0]!.value - 1_000n }],
      [alice.secret],
    );
    await simnet.submitTransaction(paid.extract());
    await simnet.mine(2, bobSpk);
    const [doomed] = await simnet.mine(1, bobSpk);
    await simnet.invalidateBlock(doomed!);
    clock.advance(60_000);
    const parent = signedTx(
      [{ utxo: { txid: paid.id, vout: 0, value: coins[0]!.value - 1_000n, script: aliceSpk } }],
      [{ script: aliceSpk, value: coins[0]!.value - 2_000n }],
      [alice.secret],
    );
    const child = signedTx(
      [{ utxo: { txid: parent.id, vout: 0, value: coins[0]!.value - 2_000n, script: aliceSpk } }],
      [{ script: bobSpk, value: coins[0]!.value - 3_000n }],
      [alice.secret],
    );
    expect((await simnet.submitTransaction(parent.extract())).allowed).toBe(true);
    expect((await simnet.submitTransaction(child.extract())).allowed).toBe(true);

    const restarted = await Simnet.open({ db, clock: new ManualClock('2030-01-01T00:00:00Z') });
    expect(restarted.tip()).toEqual(simnet.tip());
    expect(restarted.allUtxos()).toEqual(simnet.allUtxos());
    expect(restarted.mempoolTxids()).toEqual([parent.id, child.id]);
    expect(restarted.mempoolEntries().map((entry) => [entry.time, entry.fee])).toEqual(
      simnet.mempoolEntries().map((entry) => [entry.time, entry.fee]),
    );
    expect(restarted.block(doomed!)!.status).toBe('invalid');
    // Mining on the restarted chain does not bring the invalidated block back.
    await restarted.mine(3, bobSpk);
    expect(restarted.confirmations(doomed!)).toBe(-1);

    const source = new SimnetChainSource(restarted);
    const tip = await source.getTip();
    expect(await source.getBlockHash(tip.height)).toBe(tip.hash);
    expect((await source.getBlockHeader(tip.hash)).confirmations).toBe(1);
    expect(await source.getRawTransaction(child.id)).toEqual(child.extract());
    await expect(source.getBlockHash(tip.height + 1)).rejects.toMatchObject({
      code: 'BLOCK_NOT_FOUND',
    });
    // Mined by now: Bitcoin Core refuses it as already known.
    await expect(source.broadcast(child.extract())).rejects.toMatchObject({
      code: 'TX_REJECTED',
      details: { reason: 'txn-already-known' },
    });
  });
});

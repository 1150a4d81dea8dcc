import fc from 'fast-check';
import { afterAll, beforeAll, expect, test } from 'vitest';
import type { Database } from '../../db';
import { ManualClock } from '../../kernel';
import { blockSubsidy } from './consensus';
import { Simnet } from './simnet';
import { fund, p2wpkhOf, resetSimnet, signedTx, testKey } from '../../../test/support/simnet';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Property: under any sequence of payments, mining, invalidations and competing branches,
 * (1) the UTXO set holds exactly the subsidies of the active chain (no value created or lost:
 * fees move from spenders to the coinbase), (2) the incremental UTXO set and mempool equal
 * those rebuilt from the database by a fresh Simnet, (3) no mempool transaction conflicts with
 * another or with the chain.
 */

const alice = testKey('alice');
const spk = p2wpkhOf(alice).script;

type Step =
  | { kind: 'pay'; coin: number; fee: number; sequence: number }
  | { kind: 'mine'; blocks: number }
  | { kind: 'invalidate'; depth: number }
  | { kind: 'fork'; depth: number; extra: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({
    kind: fc.constant('pay' as const),
    coin: fc.nat(40),
    fee: fc.integer({ min: 0, max: 5_000 }),
    sequence: fc.constantFrom(0xfffffffd, 0xffffffff),
  }),
  fc.record({ kind: fc.constant('mine' as const), blocks: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('invalidate' as const), depth: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('fork' as const),
    depth: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 0, max: 2 }),
  }),
);

let db: Database;

beforeAll(async () => {
  db = await openTestDatabase();
});
afterAll(async () => {
  await db.close();
});

test('value is conserved and the chain state survives a replay, whatever happens', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
      await resetSimnet(db);
      const clock = new ManualClock('2025-01-01T00:00:00Z');
      const simnet = await Simnet.open({ db, clock });
      await fund(simnet, spk, 2);
      for (const s of steps) {
        clock.advance(1_000);
        if (s.kind === 'pay') {
          const coins = simnet
            .listUnspent(spk)
            .filter((utxo) => !utxo.coinbase || simnet.height + 1 - utxo.height >= 100);
          const coin = coins[s.coin % Math.max(coins.length, 1)];
          if (!coin) continue;
          const tx = signedTx(
            [{ utxo: coin, sequence: s.sequence }],
            [{ script: spk, value: coin.value - BigInt(s.fee) }],
            [alice.secret],
          );
          await simnet.submitTransaction(tx.extract());
        } else if (s.kind === 'mine') {
          await simnet.mine(s.blocks, spk);
        } else if (s.kind === 'invalidate') {
          const hash = simnet.blockHashAt(Math.max(1, simnet.height - s.depth + 1));
          if (hash) await simnet.invalidateBlock(hash);
        } else {
          const parent = simnet.blockHashAt(Math.max(0, simnet.height - s.depth));
          if (parent) await simnet.mineOn(parent, s.depth + s.extra, spk);
        }
      }
      let subsidies = 0n;
      for (let height = 1; height <= simnet.height; height++) subsidies += blockSubsidy(height);
      expect(simnet.allUtxos().reduce((sum, utxo) => sum + utxo.value, 0n)).toBe(subsidies);

      const spent = new Set<string>();
      for (const entry of simnet.mempoolEntries()) {
        for (const input of entry.tx.inputs) {
          const key = `${input.prevTxid}:${input.vout}`;
          expect(spent.has(key)).toBe(false);
          spent.add(key);
          const fromChain = simnet.getUtxo(input.prevTxid, input.vout);
          expect(fromChain !== undefined || simnet.mempoolEntry(input.prevTxid) !== undefined).toBe(
            true,
          );
        }
      }

      const replayed = await Simnet.open({ db, clock });
      expect(replayed.tip()).toEqual(simnet.tip());
      expect(replayed.allUtxos()).toEqual(simnet.allUtxos());
      expect(replayed.mempoolTxids()).toEqual(simnet.mempoolTxids());
    }),
    { numRuns: 12 },
  );
});

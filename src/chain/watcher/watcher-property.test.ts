import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../kernel';
import { Simnet, SimnetChainSource } from '../simnet';
import { p2wpkhOf, testKey } from '../../../test/support/simnet';
import { ChainWatcher } from './index';
import {
  consumerState,
  createConsumerTables,
  events,
  recordingConsumer,
} from '../../../test/support/watcher';
import { openTestDatabase } from '../../../test/support/db';

/**
 * Property: whatever sequence of extensions and reorganizations (competing branches,
 * invalidateblock) happens, with syncs and watcher restarts at arbitrary points, the consumer's
 * state equals the final active chain, and replaying the event log (connect pushes, disconnect
 * pops the newest) gives that chain too: nothing missed, nothing repeated, disconnects in order.
 */

type Step =
  | { kind: 'mine'; count: number }
  | { kind: 'fork'; depth: number; extra: number }
  | { kind: 'invalidate'; depth: number; count: number }
  | { kind: 'sync' }
  | { kind: 'restart' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('mine' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({
    kind: fc.constant('fork' as const),
    depth: fc.integer({ min: 1, max: 4 }),
    extra: fc.integer({ min: 1, max: 2 }),
  }),
  fc.record({
    kind: fc.constant('invalidate' as const),
    depth: fc.integer({ min: 1, max: 4 }),
    count: fc.integer({ min: 0, max: 5 }),
  }),
  fc.constant({ kind: 'sync' as const }),
  fc.constant({ kind: 'restart' as const }),
);

describe('chain watcher property (simnet)', () => {
  it('consumer state and event log always equal the final active chain', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 3, maxLength: 12 }), async (steps) => {
        const db = await openTestDatabase();
        try {
          await createConsumerTables(db);
          const simnet = await Simnet.open({ db, clock: new ManualClock('2025-01-01T00:00:00Z') });
          const source = new SimnetChainSource(simnet);
          // A fresh payee per mined batch, so no two blocks (same parent, same time) coincide.
          let payees = 0;
          const payTo = () => p2wpkhOf(testKey(`property miner ${payees++}`)).script;
          await simnet.mine(6, payTo());
          const startHeight = 1;
          const open = async () => {
            const w = new ChainWatcher({ source, database: db, startHeight });
            await w.registerConsumer(recordingConsumer());
            return w;
          };
          let watcher = await open();
          await watcher.syncOnce();
          for (const s of steps) {
            if (s.kind === 'mine') await simnet.mine(s.count, payTo());
            if (s.kind === 'sync') await watcher.syncOnce();
            if (s.kind === 'restart') watcher = await open();
            // Reorganizations stay above the watcher's start, inside its window.
            const depth = 'depth' in s ? Math.min(s.depth, simnet.height - startHeight) : 0;
            if (s.kind === 'fork' && depth > 0) {
              const fork = simnet.blockHashAt(simnet.height - depth) as string;
              await simnet.mineOn(fork, depth + s.extra, payTo());
            }
            if (s.kind === 'invalidate' && depth > 0) {
              await simnet.invalidateBlock(simnet.blockHashAt(simnet.height - depth + 1) as string);
              if (s.count > 0) await simnet.mine(s.count, payTo());
            }
          }
          await watcher.syncOnce();

          const active: string[] = [];
          for (let h = startHeight; h <= simnet.height; h++)
            active.push(simnet.blockHashAt(h) as string);
          expect((await consumerState(db)).blocks).toEqual(active);
          const replay: string[] = [];
          for (const line of await events(db)) {
            const [kind, , hash] = line.split(' ');
            if (kind === 'connect') replay.push(hash as string);
            else expect(replay.pop()).toBe(hash);
          }
          expect(replay).toEqual(active);
        } finally {
          await db.close();
        }
      }),
      {
        numRuns: 5,
        // Found by this property: a block reorganized away comes back when the branch that
        // replaced it is invalidated; it is connected a second time, after its disconnect.
        examples: [
          [
            [
              { kind: 'fork', depth: 1, extra: 2 },
              { kind: 'sync' },
              { kind: 'invalidate', depth: 3, count: 0 },
              { kind: 'restart' },
            ],
          ],
        ],
      },
    );
  }, 300_000);
});

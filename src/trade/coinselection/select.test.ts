import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SeededRandom, isAppError } from '../../kernel';
import { selectBranchAndBound } from './bnb';
import type { Candidate } from './candidate';
import { selectCoins } from './select';
import type { CoinSelectionAlgorithm, Utxo } from './select';
import { feeForVbytes } from './sizes';

const utxo = (id: string, value: bigint): Utxo => ({ id, value, inputVbytes: 68 });

describe('Bitcoin Core coin selection: invariants (fast-check)', () => {
  const utxoArbitrary = fc.array(fc.bigInt({ min: 1n, max: 5_000_000_000n }), {
    minLength: 1,
    maxLength: 40,
  });
  const algorithmsArbitrary = fc.constantFrom<readonly CoinSelectionAlgorithm[] | undefined>(
    undefined,
    ['bnb'],
    ['coingrinder'],
    ['knapsack'],
    ['srd'],
  );

  it('inputs = payment + change + fee, fee ≥ vsize × rate, change never negative, deterministic', () => {
    fc.assert(
      fc.property(
        utxoArbitrary,
        fc.bigInt({ min: 1n, max: 10_000_000_000n }),
        fc.bigInt({ min: 1000n, max: 500_000n }),
        fc.integer({ min: 1, max: 5 }),
        algorithmsArbitrary,
        fc.integer(),
        (values, target, feeRateSatPerKvB, outputs, algorithms, seed) => {
          const utxos = values.map((value, i) => utxo(`u${i}`, value));
          const request = {
            utxos,
            target,
            feeRateSatPerKvB,
            paymentOutputBytes: new Array<number>(outputs).fill(31),
            algorithms,
          };
          let selection;
          try {
            selection = selectCoins({ ...request, random: new SeededRandom(seed) });
          } catch (error) {
            expect(isAppError(error) && error.code === 'INSUFFICIENT_FUNDS').toBe(true);
            return;
          }
          const inputs = selection.inputs.reduce((sum, input) => sum + input.value, 0n);
          expect(inputs).toBe(selection.inputValue);
          expect(inputs).toBe(target + (selection.change ?? 0n) + selection.fee);
          expect(selection.fee).toBeGreaterThanOrEqual(
            feeForVbytes(selection.vsize, feeRateSatPerKvB),
          );
          if (selection.change !== undefined) expect(selection.change).toBeGreaterThanOrEqual(294n);
          expect(new Set(selection.inputs.map((input) => input.id)).size).toBe(
            selection.inputs.length,
          );
          // The same seed gives the same selection.
          const again = selectCoins({ ...request, random: new SeededRandom(seed) });
          expect(again.inputs.map((input) => input.id)).toEqual(
            selection.inputs.map((input) => input.id),
          );
          expect(again.fee).toBe(selection.fee);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('fails with INSUFFICIENT_FUNDS, never a partial selection, when the coins cannot pay', () => {
    expect(() =>
      selectCoins({
        utxos: [utxo('a', 10_000n), utxo('b', 20_000n)],
        target: 30_000n,
        feeRateSatPerKvB: 1000n,
        random: new SeededRandom(1),
      }),
    ).toThrow(/cannot pay 30000 sats/);
  });

  it('skips coins worth less than their own fee', () => {
    const selection = selectCoins({
      utxos: [utxo('dust', 600n), utxo('big', 1_000_000n)],
      target: 100_000n,
      feeRateSatPerKvB: 10_000n, // 680 sats to spend a 68 vB input
      random: new SeededRandom(1),
    });
    expect(selection.inputs.map((input) => input.id)).toEqual(['big']);
  });
});

describe('branch and bound finds the changeless solution (Core coinselector_tests "bnb_search_test")', () => {
  // Core's test builds coins of effective value 1..4 "cents" with zero fees and asks for exact
  // sums; here with sats and zero fees.
  const candidates = (values: number[]): Candidate[] =>
    values.map((effectiveValue, position) => ({
      position,
      effectiveValue,
      fee: 0,
      longTermFee: 0,
      weight: 272,
    }));
  const pool = candidates([100_000, 200_000, 300_000, 400_000]);

  it('an exact match of one coin', () => {
    expect(selectBranchAndBound(pool, 100_000, 0)).toEqual([0]);
  });
  it('an exact match of two coins (three plus one or two plus ... the waste tie keeps the last found)', () => {
    const positions = selectBranchAndBound(pool, 300_000, 0)!;
    expect(positions.reduce((sum, p) => sum + (pool[p]?.effectiveValue ?? 0), 0)).toBe(300_000);
  });
  it('an exact match of all four coins', () => {
    expect(selectBranchAndBound(pool, 1_000_000, 0)?.sort()).toEqual([0, 1, 2, 3]);
  });
  it('no solution when the target is not reachable exactly and the window is zero', () => {
    expect(selectBranchAndBound(pool, 50_000, 0)).toBeUndefined();
    expect(selectBranchAndBound(pool, 1_100_000, 0)).toBeUndefined();
  });
  it('a solution within the cost-of-change window', () => {
    expect(selectBranchAndBound(pool, 95_000, 5_000)).toEqual([0]);
  });
  it('with fees above the long-term rate, prefers fewer inputs for the same amount', () => {
    const high = [
      { position: 0, effectiveValue: 300_000, fee: 680, longTermFee: 340, weight: 272 },
      { position: 1, effectiveValue: 200_000, fee: 680, longTermFee: 340, weight: 272 },
      { position: 2, effectiveValue: 100_000, fee: 680, longTermFee: 340, weight: 272 },
    ];
    expect(selectBranchAndBound(high, 300_000, 0)).toEqual([0]);
  });
});

describe('the choice between algorithms follows the waste metric', () => {
  it('takes the changeless BnB solution when one exists', () => {
    // One input (68 vB) + one P2WPKH output (31 vB) + 10.5 vB overhead = 110 vB at 1 sat/vB.
    const selection = selectCoins({
      utxos: [utxo('exact', 100_000n + 68n + 42n), utxo('big', 5_000_000n), utxo('c', 70_000n)],
      target: 100_000n,
      feeRateSatPerKvB: 1000n,
      random: new SeededRandom(7),
    });
    expect(selection.algorithm).toBe('bnb');
    expect(selection.inputs.map((input) => input.id)).toEqual(['exact']);
    expect(selection.change).toBeUndefined();
    expect(selection.fee).toBe(110n);
    expect(selection.vsize).toBe(110);
  });
});

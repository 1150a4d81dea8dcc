import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { haircut } from './haircut';

describe('haircut provenance', () => {
  it('splits each origin pro rata to the outputs, rounding down', () => {
    // 6 BTC tagged A and 2 untagged in; outputs 3 BTC and 4.9999 BTC (fee 10,000 sats).
    const [first, second] = haircut(
      [
        { value: 600_000_000n, tags: [{ origin: 'att_A', sats: 600_000_000n }] },
        { value: 200_000_000n, tags: [] },
      ],
      [300_000_000n, 499_990_000n],
    );
    // 6e8 × 3e8 / 8e8 = 225,000,000; 6e8 × 499,990,000 / 8e8 = 374,992,500.
    expect(first).toEqual([{ origin: 'att_A', sats: 225_000_000n }]);
    expect(second).toEqual([{ origin: 'att_A', sats: 374_992_500n }]);
  });

  it('refuses an input tagged above its value and outputs above the inputs', () => {
    expect(() => haircut([{ value: 5n, tags: [{ origin: 'a', sats: 6n }] }], [5n])).toThrow(
      /carries 6 tagged sats/,
    );
    expect(() => haircut([{ value: 5n, tags: [] }], [6n])).toThrow(/exceed inputs/);
  });

  const scenario = fc
    .array(
      fc.record({
        value: fc.bigInt({ min: 1n, max: 10n ** 12n }),
        tagged: fc.array(
          fc.tuple(
            fc.constantFrom('att_a', 'att_b', 'att_c'),
            fc.bigInt({ min: 1n, max: 10n ** 6n }),
          ),
          { maxLength: 3 },
        ),
      }),
      { minLength: 1, maxLength: 6 },
    )
    .chain((inputs) => {
      const total = inputs.reduce((sum, input) => sum + input.value, 0n);
      return fc
        .array(fc.bigInt({ min: 0n, max: 10n ** 6n }), { minLength: 1, maxLength: 6 })
        .map((weights) => {
          const weightSum = weights.reduce((s, x) => s + x, 0n) || 1n;
          const fee = total / 100n;
          return { inputs, outputs: weights.map((weight) => ((total - fee) * weight) / weightSum) };
        });
    });

  it('never creates tagged coins, never overfills an output, loses at most one sat per output and origin to rounding', () => {
    fc.assert(
      fc.property(scenario, ({ inputs, outputs }) => {
        const prepared = inputs.map((input) => {
          // Scale the tags down to fit the input's value, merged per origin.
          const merged = new Map<string, bigint>();
          for (const [origin, sats] of input.tagged)
            merged.set(origin, (merged.get(origin) ?? 0n) + sats);
          const sum = [...merged.values()].reduce((s, x) => s + x, 0n);
          const tags = [...merged].map(([origin, sats]) => ({
            origin,
            sats: sum > input.value ? (sats * input.value) / sum : sats,
          }));
          return { value: input.value, tags: tags.filter((t) => t.sats > 0n) };
        });
        const result = haircut(prepared, outputs);
        const total = prepared.reduce((s, i) => s + i.value, 0n);
        const spent = outputs.reduce((s, x) => s + x, 0n);
        for (const [j, shares] of result.entries()) {
          expect(shares.reduce((s, x) => s + x.sats, 0n) <= (outputs[j] ?? 0n)).toBe(true);
        }
        for (const origin of ['att_a', 'att_b', 'att_c']) {
          const before = prepared
            .flatMap((i) => i.tags)
            .filter((t) => t.origin === origin)
            .reduce((s, t) => s + t.sats, 0n);
          const after = result
            .flat()
            .filter((t) => t.origin === origin)
            .reduce((s, t) => s + t.sats, 0n);
          expect(after <= before).toBe(true);
          // Exact pro-rata part of the outputs, minus less than one sat per output.
          const exactTimesTotal = before * spent;
          expect(after * total <= exactTimesTotal).toBe(true);
          expect(exactTimesTotal - after * total < BigInt(outputs.length) * total).toBe(true);
        }
      }),
    );
  });
});

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { currency, parseRate, satsToFiat } from '../../kernel';
import { valueNets } from './valuation';

/**
 * The valuation of a settlement window's nets at the reference rate (pure): each bitcoin net
 * half-even to the minor unit, the rounding residue on the largest, so the values sum to zero.
 * On a database, with the fixing and the live rate: windows.test.ts.
 */

describe("the valuation of a window's nets", () => {
  const noRate = { currency: null, reason: 'none' };
  it('is the net itself in the valuation currency, none in another or without a rate', () => {
    const rate = parseRate('60000', 'USD');
    const nets = new Map([
      ['a', -5n],
      ['b', 5n],
    ]);
    const valued = { currency: 'USD', rate, rateId: 'rat_x', fixingId: null };
    expect(valueNets('USD', nets, valued)).toEqual(nets);
    expect(valueNets('COP', nets, valued).size).toBe(0);
    expect(valueNets('BTC', nets, noRate).size).toBe(0);
  });

  it('sums to exactly zero, each value its own half-even rounding but the largest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), {
          minLength: 1,
          maxLength: 8,
        }),
        fc.integer({ min: 1, max: 10 ** 9 }),
        fc.integer({ min: 0, max: 4 }),
        (payers, digits, scale) => {
          const nets = new Map(payers.map((n, i) => [`p${i}`, n]));
          nets.set('last', -payers.reduce((a, b) => a + b, 0n));
          const rate = { digits: BigInt(digits), scale, quote: currency('EUR') };
          const values = valueNets('BTC', nets, {
            currency: 'EUR',
            rate,
            rateId: 'rat_x',
            fixingId: null,
          });
          expect([...values.values()].reduce((a, b) => a + b, 0n)).toBe(0n);
          expect(values.size).toBe(nets.size);
          const abs = (n: bigint) => (n < 0n ? -n : n);
          const own = (n: bigint) =>
            satsToFiat(abs(n), rate, 'halfEven').minor * (n < 0n ? -1n : 1n);
          const off = [...nets].filter(([id, n]) => values.get(id) !== own(n));
          // Only the largest net (first in id order among equals) differs from its own rounding,
          // by less than half a minor unit per other position.
          expect(off.length).toBeLessThanOrEqual(1);
          for (const [id, n] of off) {
            const largest = Math.max(...[...nets.values()].map((v) => Number(abs(v))));
            expect(Number(abs(n))).toBe(largest);
            expect(2n * abs(values.get(id)! - own(n))).toBeLessThanOrEqual(BigInt(nets.size));
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

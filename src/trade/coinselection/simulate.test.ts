import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SATS_PER_BTC, SeededRandom } from '../../kernel';
import { parseScenario, simulateScenario } from './simulate';

const scenario = readFileSync(
  new URL(
    '../../../test/vectors/coinselection/scenarios_bustabit-2019-2020-tiny.csv',
    import.meta.url,
  ),
  'utf8',
);

describe('scenario parsing (amount_BTC,feerate_BTC_per_kvB)', () => {
  it('reads deposits, payments and fee rates in sat/kvB', () => {
    expect(parseScenario('0.01569000,0.00001139\n-0.00500000,0.00002000\n')).toEqual([
      { lineNumber: 1, amount: 1_569_000n, feeRateSatPerKvB: 1139n },
      { lineNumber: 2, amount: -500_000n, feeRateSatPerKvB: 2000n },
    ]);
  });

  it('names the line of a malformed operation and refuses the whole file', () => {
    expect(() => parseScenario('0.1,0.00001\n0.1;0.00001\n')).toThrow(/^line 2: /);
    expect(() => parseScenario('0.1,0.00001\n-0.123456789,0.00001\n')).toThrow(
      /line 2: .*8 decimal/,
    );
    expect(() => parseScenario('0.1,abc\n')).toThrow(/line 1: fee rate/);
    expect(() => parseScenario('\n')).toThrow(/no operations/);
  });

  it('the bustabit scenario has the documented 10,050 deposits and 4,950 payments', () => {
    const operations = parseScenario(scenario);
    expect(operations.filter((op) => op.amount > 0n)).toHaveLength(10_050);
    expect(operations.filter((op) => op.amount < 0n)).toHaveLength(4_950);
  });
});

describe('replaying the bustabit 2019–2020 scenario (Bitcoin Core: 0.4230–0.4301 BTC in fees)', () => {
  it('pays no more in total fees than Bitcoin Core did, with a pool of the same order of size', () => {
    const report = simulateScenario(scenario, { random: new SeededRandom(2019) });
    // Core's published figures for this scenario (test/vectors/README.md).
    expect(report.totalFeesSats).toBeLessThanOrEqual((4230n * SATS_PER_BTC) / 10_000n);
    expect(report.paymentsMade + report.paymentsFailed).toBe(4_950);
    expect(report.paymentsFailed).toBeLessThan(10);
    expect(report.averageInputsPerPayment).toBeGreaterThan(1.5);
    expect(report.averageInputsPerPayment).toBeLessThan(2.5);
    // Coins in = coins out: deposits + change outputs − inputs spent = final pool.
    expect(report.finalUtxoCount).toBeGreaterThan(1_000);
    expect(report.finalUtxoCount).toBeLessThan(10_000);
    const deposited = parseScenario(scenario).reduce(
      (sum, op) => (op.amount > 0n ? sum + op.amount : sum),
      0n,
    );
    // Money is conserved: what came in is what was paid, paid in fees, or is still held.
    expect(deposited).toBe(report.totalPaidSats + report.totalFeesSats + report.finalBalanceSats);
  }, 300_000);
});

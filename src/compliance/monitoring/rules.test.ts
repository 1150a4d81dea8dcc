/**
 * Each monitoring rule's pure evaluation (facts, config) → outcome at its boundaries: exactly at
 * a threshold, one unit either side, another currency, the edge of the time window. The
 * configurations go through each rule's schema, as the engine does.
 */
import { describe, expect, it } from 'vitest';
import {
  contractMismatch,
  fanInOut,
  highRiskJurisdiction,
  passThrough,
  roundAmount,
  sanctionedExposure,
  singleThreshold,
  structuring,
  velocity,
  type MonitoredTransfer,
  type MonitoringFacts,
  type Rule,
} from './rules';
import { compileMonitoring, DEFAULT_MONITORING, evaluateMonitoring } from './engine';
import { windowsFromHistory, type WindowSpec } from './windows';

const NOW = new Date('2026-07-01T12:00:00Z');
const HOUR = 3_600_000;

function transfer(overrides: Partial<MonitoredTransfer> = {}): MonitoredTransfer {
  return {
    transferId: 'pay_current',
    direction: 'outbound',
    companyId: 'par_company',
    counterpartyId: 'par_k0',
    counterpartyAddress: 'bc1qcurrent',
    amountSats: 1_000_000n,
    fiatMinor: 50_000n,
    fiatCurrency: 'USD',
    occurredAt: NOW,
    ...overrides,
  };
}
let earlier = 0;
const ago = (hours: number, overrides: Partial<MonitoredTransfer> = {}) =>
  transfer({
    transferId: `pay_earlier${++earlier}`,
    occurredAt: new Date(NOW.getTime() - hours * HOUR),
    ...overrides,
  });

/** Facts with the company's earlier transfers as rows; `withWindows` aggregates them. */
type FactsInput = Omit<MonitoringFacts, 'windows'> & { history: MonitoredTransfer[] };

function facts(overrides: Partial<FactsInput> = {}): FactsInput {
  return {
    transfer: transfer(),
    counterpartyCountry: 'DE',
    countryRiskLevel: 'low',
    contract: null,
    history: [],
    exposure: null,
    ...overrides,
  };
}
function withWindows(f: FactsInput, specs: readonly WindowSpec[]): MonitoringFacts {
  const { history, ...rest } = f;
  return { ...rest, windows: windowsFromHistory(specs, f.transfer, history) };
}
function run<C>(rule: Rule<C>, input: unknown, f: FactsInput) {
  const config = rule.configSchema.parse(input);
  return rule.evaluate(withWindows(f, rule.windows(config)), config);
}

describe('rule.single-threshold@1', () => {
  const config = { thresholdMinor: '100000', currency: 'USD', score: 30 };
  it('hits at the threshold and above, not one cent below, nor in another currency', () => {
    const at = (minor: bigint, currency = 'USD') =>
      run(
        singleThreshold,
        config,
        facts({ transfer: transfer({ fiatMinor: minor, fiatCurrency: currency }) }),
      );
    expect(at(100_000n)).toMatchObject({ outcome: 'hit', score: 30 });
    expect(at(100_001n).outcome).toBe('hit');
    expect(at(99_999n)).toMatchObject({ outcome: 'pass', score: 0 });
    expect(at(5_000_000n, 'EUR').outcome).toBe('pass');
  });
});

describe('rule.velocity@1', () => {
  const config = {
    windowHours: 24,
    maxCount: 3,
    maxSumMinor: '200000',
    currency: 'USD',
    score: 30,
  };
  it('counts the current transfer with those in the window; hits above either limit', () => {
    const small = { fiatMinor: 10_000n };
    // 2 earlier + this one = 3 = maxCount: within limits.
    expect(run(velocity, config, facts({ history: [ago(1, small), ago(2, small)] })).outcome).toBe(
      'pass',
    );
    // 3 earlier + this one = 4 > 3.
    expect(
      run(velocity, config, facts({ history: [ago(1, small), ago(2, small), ago(3, small)] })),
    ).toMatchObject({ outcome: 'hit', score: 30 });
    // Sum exactly at the limit passes; one cent more hits (50,000 current + 150,000 earlier).
    expect(
      run(velocity, config, facts({ history: [ago(1, { fiatMinor: 150_000n })] })).outcome,
    ).toBe('pass');
    expect(
      run(velocity, config, facts({ history: [ago(1, { fiatMinor: 150_001n })] })).outcome,
    ).toBe('hit');
  });
  it('looks back exactly windowHours: a transfer at the edge counts, one ms older does not', () => {
    const big = { fiatMinor: 150_001n };
    expect(run(velocity, config, facts({ history: [ago(24, big)] })).outcome).toBe('hit');
    const older = transfer({ ...big, occurredAt: new Date(NOW.getTime() - 24 * HOUR - 1) });
    expect(run(velocity, config, facts({ history: [older] })).outcome).toBe('pass');
  });
  it('sums only amounts in its currency (but counts every transfer)', () => {
    expect(
      run(
        velocity,
        config,
        facts({ history: [ago(1, { fiatMinor: 900_000n, fiatCurrency: 'EUR' })] }),
      ).outcome,
    ).toBe('pass');
  });
});

describe('rule.structuring@1', () => {
  // Just under 10,000.00 USD by at most 10 %: [9,000.00, 10,000.00).
  const config = {
    thresholdMinor: '1000000',
    currency: 'USD',
    marginPercent: 10,
    windowHours: 72,
    minCount: 3,
    score: 60,
  };
  const under = (minor: bigint) => ({ fiatMinor: minor });
  it('hits at minCount transfers in the band, including the current one', () => {
    const current = transfer(under(999_999n));
    expect(
      run(
        structuring,
        config,
        facts({ transfer: current, history: [ago(10, under(900_000n)), ago(70, under(950_000n))] }),
      ),
    ).toMatchObject({ outcome: 'hit', score: 60 });
    expect(
      run(structuring, config, facts({ transfer: current, history: [ago(10, under(900_000n))] }))
        .outcome,
    ).toBe('pass');
  });
  it('has the band [threshold − margin, threshold): its floor is in, the threshold and below the floor are out', () => {
    const history = [ago(1, under(950_000n)), ago(2, under(950_000n))];
    const at = (minor: bigint) =>
      run(structuring, config, facts({ transfer: transfer(under(minor)), history }));
    expect(at(900_000n).outcome).toBe('hit');
    expect(at(899_999n).outcome).toBe('pass');
    expect(at(1_000_000n).outcome).toBe('pass');
    // Earlier transfers outside the band or the window do not count.
    const outside = [ago(1, under(1_000_000n)), ago(73, under(950_000n))];
    expect(
      run(structuring, config, facts({ transfer: transfer(under(950_000n)), history: outside }))
        .outcome,
    ).toBe('pass');
  });
});

describe('rule.fan-in-out@1', () => {
  const config = { windowHours: 24, maxCounterparties: 2, score: 30 };
  it('counts distinct counterparties in the same direction only', () => {
    const two = [ago(1, { counterpartyId: 'par_k1' }), ago(2, { counterpartyId: 'par_k1' })];
    expect(run(fanInOut, config, facts({ history: two })).outcome).toBe('pass');
    const three = [...two, ago(3, { counterpartyId: 'par_k2' })];
    expect(run(fanInOut, config, facts({ history: three }))).toMatchObject({
      outcome: 'hit',
      score: 30,
    });
    expect(run(fanInOut, config, facts({ history: three })).reason).toContain('fan-out');
    const inbound = [...two, ago(3, { counterpartyId: 'par_k2', direction: 'inbound' })];
    expect(run(fanInOut, config, facts({ history: inbound })).outcome).toBe('pass');
  });
});

describe('rule.pass-through@1', () => {
  const config = { windowHours: 2, minPercent: 80, score: 40 };
  const received = (sats: bigint, hours = 1) =>
    ago(hours, { direction: 'inbound', amountSats: sats });
  it('hits an outbound transfer of at least minPercent of what came in within the window', () => {
    const out = (sats: bigint, history: MonitoredTransfer[]) =>
      run(passThrough, config, facts({ transfer: transfer({ amountSats: sats }), history }));
    expect(out(800_000n, [received(1_000_000n)])).toMatchObject({ outcome: 'hit', score: 40 });
    expect(out(799_999n, [received(1_000_000n)]).outcome).toBe('pass');
    expect(out(800_000n, [received(1_000_000n, 3)]).outcome).toBe('pass');
    expect(out(800_000n, []).outcome).toBe('pass');
  });
  it('never hits an inbound transfer', () => {
    const inbound = transfer({ direction: 'inbound', amountSats: 5_000_000n });
    expect(
      run(passThrough, config, facts({ transfer: inbound, history: [received(1_000_000n)] }))
        .outcome,
    ).toBe('pass');
  });
});

describe('rule.high-risk-jurisdiction@1', () => {
  it('hits only the configured levels', () => {
    const high = { levels: ['high'], score: 30 };
    expect(run(highRiskJurisdiction, high, facts({ countryRiskLevel: 'high' }))).toMatchObject({
      outcome: 'hit',
      score: 30,
    });
    expect(run(highRiskJurisdiction, high, facts({ countryRiskLevel: 'medium' })).outcome).toBe(
      'pass',
    );
    expect(
      run(
        highRiskJurisdiction,
        { levels: ['medium', 'high'], score: 5 },
        facts({ countryRiskLevel: 'medium' }),
      ).outcome,
    ).toBe('hit');
    expect(
      run(
        highRiskJurisdiction,
        { levels: ['medium', 'high'], score: 5 },
        facts({ countryRiskLevel: 'low' }),
      ).outcome,
    ).toBe('pass');
  });
});

describe('rule.round-amount@1', () => {
  const config = { multipleMinor: '100000', minMinor: '1000000', currency: 'USD', score: 10 };
  it('hits multiples of the round unit from the minimum up, in its currency', () => {
    const at = (minor: bigint, currency = 'USD') =>
      run(
        roundAmount,
        config,
        facts({ transfer: transfer({ fiatMinor: minor, fiatCurrency: currency }) }),
      );
    expect(at(1_000_000n)).toMatchObject({ outcome: 'hit', score: 10 });
    expect(at(1_100_000n).outcome).toBe('hit');
    expect(at(1_000_001n).outcome).toBe('pass');
    expect(at(900_000n).outcome).toBe('pass');
    expect(at(1_000_000n, 'EUR').outcome).toBe('pass');
  });
});

describe('rule.contract-mismatch@1', () => {
  const config = { score: 60 };
  it("hits a payment above the contract's open amount plus tolerance", () => {
    const at = (sats: bigint) =>
      run(
        contractMismatch,
        config,
        facts({
          transfer: transfer({ amountSats: sats }),
          contract: { openAmountSats: 1_000_000n, toleranceSats: 1_000n },
        }),
      );
    expect(at(1_001_000n).outcome).toBe('pass');
    expect(at(1_001_001n)).toMatchObject({ outcome: 'hit', score: 60 });
    expect(run(contractMismatch, config, facts({ contract: null })).outcome).toBe('pass');
  });
});

describe('rule.sanctioned-exposure@1', () => {
  const config = { maxHops: 2, score: 80 };
  const exposure = (hops: number) => ({
    hops,
    address: '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h',
    listEntryId: 'XBT:12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h',
  });
  it('scores fully at one hop, halves per further hop, and ignores beyond maxHops', () => {
    expect(run(sanctionedExposure, config, facts({ exposure: exposure(1) }))).toMatchObject({
      outcome: 'hit',
      score: 80,
    });
    expect(run(sanctionedExposure, config, facts({ exposure: exposure(2) }))).toMatchObject({
      outcome: 'hit',
      score: 40,
    });
    expect(run(sanctionedExposure, config, facts({ exposure: exposure(3) })).outcome).toBe('pass');
    expect(run(sanctionedExposure, config, facts({ exposure: null })).outcome).toBe('pass');
  });
  it('refuses a configuration beyond 6 hops', () => {
    expect(sanctionedExposure.configSchema.safeParse({ maxHops: 7, score: 80 }).success).toBe(
      false,
    );
  });
});

describe('the engine over the default rule set', () => {
  const config = compileMonitoring(DEFAULT_MONITORING);
  it('sums scores: review from 50, block from 100', () => {
    // high-risk jurisdiction 30 alone: allow.
    const evaluate = (f: FactsInput) => evaluateMonitoring(config, withWindows(f, config.windows));
    expect(evaluate(facts({ countryRiskLevel: 'high' }))).toMatchObject({
      outcome: 'allow',
      score: 30,
    });
    // + sanctioned exposure at 2 hops (40) = 70: review.
    expect(
      evaluate(
        facts({ countryRiskLevel: 'high', exposure: { hops: 2, address: 'a', listEntryId: 'e' } }),
      ),
    ).toMatchObject({ outcome: 'review', score: 70 });
    // + contract mismatch 60 = 130: block.
    const over = facts({
      countryRiskLevel: 'high',
      exposure: { hops: 2, address: 'a', listEntryId: 'e' },
      contract: { openAmountSats: 1n, toleranceSats: 0n },
    });
    expect(evaluate(over)).toMatchObject({ outcome: 'block', score: 130 });
  });
});

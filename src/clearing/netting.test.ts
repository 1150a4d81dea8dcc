import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BTC,
  bilateralTransfers,
  netPositions,
  settlementInstructions,
  settleWithTakeOut,
  type Obligation,
} from './netting';

const PLATFORMS = ['plt_a', 'plt_b', 'plt_c', 'plt_d', 'plt_e', 'plt_f'];
const ASSETS = [BTC, 'PYG', 'USD'];

const obligationArb = fc
  .record({
    from: fc.constantFrom(...PLATFORMS),
    to: fc.constantFrom(...PLATFORMS),
    asset: fc.constantFrom(...ASSETS),
    amount: fc.bigInt({ min: 1n, max: 2_100_000_000_000_000n }),
  })
  .filter((o) => o.from !== o.to);

const obligationsArb = fc
  .array(obligationArb, { maxLength: 60 })
  .map((list) => list.map((o, i): Obligation => ({ id: `obl_${i}`, ...o })));

/** Gross position of one participant in one asset, summed straight from the obligations. */
function gross(obligations: readonly Obligation[], participant: string, asset: string): bigint {
  let total = 0n;
  for (const o of obligations) {
    if (o.asset !== asset) continue;
    if (o.to === participant) total += o.amount;
    if (o.from === participant) total -= o.amount;
  }
  return total;
}

describe('multilateral netting', () => {
  it('conserves value: net positions sum to zero per asset, and each equals obligations in minus out', () => {
    fc.assert(
      fc.property(obligationsArb, (obligations) => {
        const positions = netPositions(obligations);
        for (const asset of ASSETS) {
          const byParticipant = positions.get(asset) ?? new Map<string, bigint>();
          let sum = 0n;
          for (const net of byParticipant.values()) sum += net;
          expect(sum).toBe(0n);
          for (const participant of PLATFORMS) {
            expect(byParticipant.get(participant) ?? 0n).toBe(
              gross(obligations, participant, asset),
            );
          }
        }
      }),
    );
  });

  it('settles with at most one transfer per participant and asset, pay-ins equal to pay-outs', () => {
    fc.assert(
      fc.property(obligationsArb, (obligations) => {
        const { payIns, payOuts } = settlementInstructions(netPositions(obligations));
        for (const asset of ASSETS) {
          const inTotal = payIns
            .filter((t) => t.asset === asset)
            .reduce((s, t) => s + t.amount, 0n);
          const outTotal = payOuts
            .filter((t) => t.asset === asset)
            .reduce((s, t) => s + t.amount, 0n);
          expect(inTotal).toBe(outTotal);
        }
        const keys = [...payIns, ...payOuts].map((t) => `${t.asset}/${t.participant}`);
        expect(new Set(keys).size).toBe(keys.length);
        for (const t of [...payIns, ...payOuts]) expect(t.amount > 0n).toBe(true);
        // Applying the transfers leaves each participant where gross settlement would.
        for (const t of payIns) expect(-t.amount).toBe(gross(obligations, t.participant, t.asset));
        for (const t of payOuts) expect(t.amount).toBe(gross(obligations, t.participant, t.asset));
      }),
    );
  });

  it('never needs more transfers than bilateral netting, nor bilateral more than gross', () => {
    fc.assert(
      fc.property(obligationsArb, (obligations) => {
        const { payIns, payOuts } = settlementInstructions(netPositions(obligations));
        const bilateral = bilateralTransfers(obligations);
        expect(bilateral).toBeLessThanOrEqual(obligations.length);
        // Each bilateral transfer touches two participants; multilateral needs at most one per
        // participant, so it is at most twice the bilateral count and usually far less.
        expect(payIns.length + payOuts.length).toBeLessThanOrEqual(2 * bilateral);
      }),
    );
  });

  it('refuses an obligation of no amount or to oneself, naming it', () => {
    expect(() =>
      netPositions([{ id: 'obl_x', from: 'plt_a', to: 'plt_b', asset: BTC, amount: 0n }]),
    ).toThrow(/obl_x: amount must be positive/);
    expect(() =>
      netPositions([{ id: 'obl_y', from: 'plt_a', to: 'plt_a', asset: BTC, amount: 5n }]),
    ).toThrow(/obl_y: a platform cannot owe itself/);
  });
});

describe('settlement with take-out (payment versus payment)', () => {
  it('a platform that does not pay in is taken out; the window settles for the others', () => {
    // A owes B 10 BTC-sats and C owes B 5; B owes A 3 PYG. C never pays in.
    const obligations: Obligation[] = [
      { id: 'o1', from: 'plt_a', to: 'plt_b', asset: BTC, amount: 10n },
      { id: 'o2', from: 'plt_c', to: 'plt_b', asset: BTC, amount: 5n },
      { id: 'o3', from: 'plt_b', to: 'plt_a', asset: 'PYG', amount: 3n },
    ];
    const paidIn = new Map([
      [BTC, new Map([['plt_a', 10n]])],
      ['PYG', new Map([['plt_b', 3n]])],
    ]);
    const outcome = settleWithTakeOut(obligations, paidIn);
    expect(outcome.takenOut).toEqual(['plt_c']);
    expect(outcome.rolled.map((o) => o.id)).toEqual(['o2']);
    expect(outcome.settling.map((o) => o.id)).toEqual(['o1', 'o3']);
    expect(outcome.payOuts).toEqual([
      { participant: 'plt_b', asset: BTC, amount: 10n },
      { participant: 'plt_a', asset: 'PYG', amount: 3n },
    ]);
    expect(outcome.refunds).toEqual([]);
  });

  it('a take-out that turns a receiver into a payer takes it out too, and refunds what it paid', () => {
    // B receives net from A but owes D; without A's pay-in B becomes a net payer it did not fund.
    const obligations: Obligation[] = [
      { id: 'o1', from: 'plt_a', to: 'plt_b', asset: BTC, amount: 10n },
      { id: 'o2', from: 'plt_b', to: 'plt_d', asset: BTC, amount: 4n },
      { id: 'o3', from: 'plt_e', to: 'plt_d', asset: BTC, amount: 2n },
    ];
    const paidIn = new Map([[BTC, new Map([['plt_e', 2n]])]]);
    const outcome = settleWithTakeOut(obligations, paidIn);
    expect(outcome.takenOut).toEqual(['plt_a', 'plt_b']);
    expect(outcome.settling.map((o) => o.id)).toEqual(['o3']);
    expect(outcome.payOuts).toEqual([{ participant: 'plt_d', asset: BTC, amount: 2n }]);
  });

  it('for any pay-ins: every remaining payer is covered and the clearing ends flat', () => {
    const paidInArb = fc.array(
      fc.record({
        participant: fc.constantFrom(...PLATFORMS),
        asset: fc.constantFrom(...ASSETS),
        // Often exactly the position, sometimes short, sometimes over.
        factorPercent: fc.constantFrom(0n, 50n, 100n, 100n, 100n, 150n),
      }),
      { maxLength: 18 },
    );
    fc.assert(
      fc.property(obligationsArb, paidInArb, (obligations, payments) => {
        const full = netPositions(obligations);
        const paidIn = new Map<string, Map<string, bigint>>();
        for (const p of payments) {
          const net = full.get(p.asset)?.get(p.participant) ?? 0n;
          if (net >= 0n) continue;
          const byParticipant = paidIn.get(p.asset) ?? new Map<string, bigint>();
          byParticipant.set(p.participant, (-net * p.factorPercent) / 100n);
          paidIn.set(p.asset, byParticipant);
        }
        const outcome = settleWithTakeOut(obligations, paidIn);
        // The two sets partition the obligations.
        expect(outcome.settling.length + outcome.rolled.length).toBe(obligations.length);
        const taken = new Set(outcome.takenOut);
        for (const o of outcome.settling) {
          expect(taken.has(o.from) || taken.has(o.to)).toBe(false);
        }
        for (const o of outcome.rolled) expect(taken.has(o.from) || taken.has(o.to)).toBe(true);
        // Every remaining payer is covered by what it paid.
        for (const [asset, byParticipant] of outcome.positions) {
          for (const [participant, net] of byParticipant) {
            if (net < 0n) {
              expect(paidIn.get(asset)?.get(participant) ?? 0n).toBeGreaterThanOrEqual(-net);
            }
          }
        }
        // The clearing ends flat: pay-ins = pay-outs + refunds, per asset.
        for (const asset of ASSETS) {
          let received = 0n;
          for (const amount of paidIn.get(asset)?.values() ?? []) received += amount;
          const paidOut = outcome.payOuts
            .filter((t) => t.asset === asset)
            .reduce((s, t) => s + t.amount, 0n);
          const refunded = outcome.refunds
            .filter((t) => t.asset === asset)
            .reduce((s, t) => s + t.amount, 0n);
          expect(received).toBe(paidOut + refunded);
        }
      }),
    );
  });
});

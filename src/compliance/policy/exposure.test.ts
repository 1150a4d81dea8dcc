/**
 * Sanctioned-address exposure (rule.sanctioned-exposure@1) over the scheme's transfer graph: the
 * graph is built here by hand so that the distance of the listed address is known by
 * construction, the address being listed only after the transfers that used it were allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SeededRandom, systemCaller } from '../../kernel';
import { openTestDatabase, type Database } from '../../db';
import { createCompliance, type Compliance } from '../service';
import { readVector } from '../screening/test-lists';
import type { PolicyDecision, TransferFacts } from './types';

/** Line 7 of the OFAC XBT address list (September 2024). */
const SANCTIONED = '12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h';

let n = 0;
function transfer(
  clock: ManualClock,
  company: string,
  counterparty: string,
  address: string,
): TransferFacts {
  n++;
  return {
    transferId: `pay_exposure${n}`,
    direction: 'outbound',
    occurredAt: clock.now(),
    amountSats: 800_000n + BigInt(n),
    // Below the Travel Rule threshold and below every amount rule, so nothing else scores.
    fiatValue: { minor: 51_234n + BigInt(n), currency: 'USD', rate: '63415.60' },
    platform: { id: 'par_platform1', licenceStatus: 'active' },
    company: { id: company, legalName: `Company ${company}`, country: 'XA', kycStatus: 'verified' },
    counterparty: {
      id: counterparty,
      legalName: `Counterparty ${counterparty}`,
      otherNames: [],
      country: 'DE',
      kind: 'organization',
      kycStatus: 'verified',
      countryRiskLevel: 'low',
    },
    counterpartyAddress: { address, asset: 'XBT', ownership: 'hosted' },
    schemeCountry: 'XA',
    refusedJurisdictions: [],
    contract: { id: 'ctr_1', openAmountSats: 1_000_000_000n, toleranceSats: 0n },
    travelRule: null,
  };
}

const exposureReason = (d: PolicyDecision) =>
  d.reasons.find((r) => r.rule === 'rule.sanctioned-exposure@1');

describe('sanctioned-address exposure in the transfer graph', () => {
  let db: Database;
  let compliance: Compliance;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const supervisor = systemCaller('test');
  const decide = (facts: TransferFacts) =>
    db.transaction((tx) => compliance.gate.decide(tx, supervisor, facts));

  beforeAll(async () => {
    db = await openTestDatabase();
    compliance = createCompliance({ db, clock, random: new SeededRandom(5) });
    // Before the listing: C1–K1 paid to the address, and a chain C7–K7–C8 that reaches it in 3.
    const before = [
      transfer(clock, 'par_c1', 'par_k1', SANCTIONED),
      transfer(clock, 'par_c2', 'par_k1', 'bc1qexposurea2'),
      transfer(clock, 'par_c7', 'par_k7', 'bc1qexposurea7'),
      transfer(clock, 'par_c8', 'par_k7', 'bc1qexposurea8'),
      transfer(clock, 'par_c8', 'par_k12', SANCTIONED),
    ];
    for (const facts of before) expect((await decide(facts)).outcome).toBe('allow');
    await compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: readVector('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
    });
  }, 120_000);
  afterAll(async () => db?.close());

  it('scores one hop fully and two hops half; three hops is beyond the default of 2', async () => {
    // C1 itself paid the listed address: 1 hop → full score 80 → review (≥ 50, < 100).
    const oneHop = await decide(transfer(clock, 'par_c1', 'par_k3', 'bc1qexposurea4'));
    expect(exposureReason(oneHop)?.message).toContain(`${SANCTIONED} (`);
    expect(exposureReason(oneHop)?.message).toContain('is 1 hop(s) away');
    expect(oneHop.monitoringScore).toBe(80);
    expect(oneHop.outcome).toBe('review');

    // C2 shares K1 with C1's transfer: C2 → K1 (hop 1) → the address (hop 2) → 40.
    const twoHops = await decide(transfer(clock, 'par_c2', 'par_k2', 'bc1qexposurea3'));
    expect(exposureReason(twoHops)?.message).toContain('is 2 hop(s) away');
    expect(twoHops.monitoringScore).toBe(40);
    expect(twoHops.outcome).toBe('allow');

    // C7 → K7 (1) → C8 (2) → the address (3): not within 2 hops.
    const threeHops = await decide(transfer(clock, 'par_c7', 'par_k20', 'bc1qexposurea20'));
    expect(exposureReason(threeHops)?.message).toBeUndefined();
    expect(threeHops.monitoringScore).toBe(0);

    // Nothing connects C30–K30.
    const apart = await decide(transfer(clock, 'par_c30', 'par_k30', 'bc1qexposurea30'));
    expect(apart.monitoringScore).toBe(0);
  });

  it('does not count blocked transfers as links (they moved nothing)', async () => {
    // K40 is linked only through a transfer to the listed address, which is now blocked.
    const blocked = await decide(transfer(clock, 'par_c40', 'par_k40', SANCTIONED));
    expect(blocked.outcome).toBe('block');
    const after = await decide(transfer(clock, 'par_c41', 'par_k40', 'bc1qexposurea41'));
    expect(exposureReason(after)?.message).toBeUndefined();
  });
});

/**
 * Sanctioned-address exposure (rule.sanctioned-exposure@1) over the scheme's transfer graph: the
 * graph is built here by hand so that the distance of the listed address is known by
 * construction, the address being listed only after the transfers that used it were allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { sql } from 'drizzle-orm';
import { ManualClock, SeededRandom, systemCaller } from '../../kernel';
import { rowsOf, type Database } from '../../db';
import { verifyAuditChain } from '../../audit';
import { createCompliance, type Compliance } from '../service';
import { readVector } from '../../../test/support/screening-lists';
import { searchExposure, transferNodes } from './store';
import type { PolicyDecision, TransferFacts } from './types';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';

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
    db.transaction(() => compliance.gate.decide(supervisor, facts));

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

/**
 * The exposure table (kept by a trigger as transfers are written, rebuilt when the lists change)
 * against a breadth-first search written here over the stored transfers, for random histories:
 * transfers before and after a listing, some to listed addresses (blocked once listed), some
 * decided again with another counterparty or address (which can remove a link), decided in
 * concurrent batches and one by one. One by one, each decision's exposure must also be what the
 * gate's full search finds just before it.
 */
describe.each(TEST_DRIVERS)('the exposure table on %s', (driver) => {
  /** Lines 1–4 of the OFAC XBT address list (September 2024). */
  const LISTED = [
    '123WBUDmSJv4GctdVEz6Qq6z8nXSKrJ4KX',
    '125W5ek3DT6Zqy5S2iPt4FHQdNMCbZA3FU',
    '1295rkVyNfFpqZpXvKGhDqwhP1jZcNNDMV',
    '129zKFLoVad9JtxSmDKeJoLCsjhGR7b3vr',
  ];
  const ADDRESSES = [
    ...LISTED,
    ...Array.from({ length: 8 }, (_, i) => `bc1qexposureclean${i}`),
    '',
  ];
  interface Step {
    company: number;
    counterparty: number;
    address: number;
    again: number | null;
    together: number;
  }
  const step: fc.Arbitrary<Step> = fc.record({
    company: fc.nat({ max: 5 }),
    counterparty: fc.nat({ max: 5 }),
    address: fc.nat({ max: ADDRESSES.length - 1 }),
    /** Decide an earlier transfer again (its id), when there is one. */
    again: fc.option(fc.nat(), { nil: null, freq: 4 }),
    /** How many steps go together as concurrent requests (1: one by one, checked). */
    together: fc.integer({ min: 1, max: 6 }),
  });

  /** Breadth-first from each listed address over the stored transfers not blocked. */
  async function expectedTable(db: Database, maxHops: number): Promise<Map<string, number>> {
    const rows = rowsOf(
      await db.orm.execute(sql`
        select company_id, counterparty_id, counterparty_address from compliance_transfers
         where outcome <> 'block'`),
    ).map((r) =>
      [`p:${String(r.company_id)}`, `p:${String(r.counterparty_id)}`].concat(
        r.counterparty_address === '' ? [] : [`a:${String(r.counterparty_address)}`],
      ),
    );
    const table = new Map<string, number>();
    for (const listed of LISTED) {
      if (!rows.some((nodes) => nodes.includes(`a:${listed}`))) continue;
      const hops = new Map([[`a:${listed}`, 0]]);
      let frontier = [`a:${listed}`];
      for (let hop = 1; hop <= maxHops; hop++) {
        const next: string[] = [];
        for (const nodes of rows) {
          if (!nodes.some((n) => frontier.includes(n))) continue;
          for (const n of nodes) {
            if (hops.has(n)) continue;
            hops.set(n, hop);
            next.push(n);
          }
        }
        frontier = next;
      }
      for (const [node, hop] of hops) if (hop > 0) table.set(`${listed} ${node}`, hop);
    }
    return table;
  }

  async function storedTable(db: Database): Promise<Map<string, number>> {
    const rows = rowsOf(
      await db.orm.execute(sql`select address, node, hops from compliance_exposure`),
    );
    return new Map(
      rows
        // Each listed address's own entry (0 hops) is never looked up: left out on both sides.
        .filter((r) => Number(r.hops) > 0)
        .map((r) => [`${String(r.address)} ${String(r.node)}`, Number(r.hops)]),
    );
  }

  it('agrees with a breadth-first search after every batch', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(step, { minLength: 10, maxLength: 30 }),
        fc.array(step, { minLength: 10, maxLength: 40 }),
        async (before, after) => {
          const db = await openTestDatabase(driver);
          try {
            const clock = new ManualClock('2026-07-01T09:00:00Z');
            const compliance = createCompliance({ db, clock, random: new SeededRandom(7) });
            const supervisor = systemCaller('test');
            const ids: string[] = [];
            const factsOf = (s: Step): TransferFacts => {
              const facts = transfer(
                clock,
                `par_c${s.company}`,
                `par_k${s.counterparty}`,
                ADDRESSES[s.address] ?? '',
              );
              const id = s.again === null || ids.length === 0 ? null : ids[s.again % ids.length];
              if (id) return { ...facts, transferId: id };
              ids.push(facts.transferId);
              return facts;
            };
            const run = async (steps: Array<Step>, listed: boolean) => {
              for (let i = 0; i < steps.length;) {
                const first = steps[i];
                if (!first) break;
                const group = steps.slice(i, i + first.together);
                i += group.length;
                if (group.length === 1) {
                  const facts = factsOf(first);
                  const decision = await db.transaction(async (tx) => {
                    const nodes = transferNodes({
                      companyId: facts.company.id,
                      counterpartyId: facts.counterparty.id,
                      counterpartyAddress: facts.counterpartyAddress.address,
                    });
                    const reached = await searchExposure(
                      tx,
                      { transferId: facts.transferId, nodes },
                      2,
                    );
                    const nearest = listed ? reached.find((r) => LISTED.includes(r.address)) : null;
                    const made = await compliance.gate.decide(supervisor, facts);
                    const message = exposureReason(made)?.message;
                    if (nearest) {
                      expect(message).toContain(`sanctioned address ${nearest.address} (`);
                      expect(message).toContain(`is ${nearest.hops} hop(s) away`);
                    } else {
                      expect(message).toBeUndefined();
                    }
                    return made;
                  });
                  expect(decision.transferId).toBe(facts.transferId);
                } else {
                  // Concurrent requests: one batch, or one by one when near a listed address.
                  const requests = group.map(factsOf);
                  await Promise.all(
                    requests.map((f) => compliance.gate.decideCommitted(supervisor, f)),
                  );
                }
                if (listed) {
                  expect(await storedTable(db)).toEqual(await expectedTable(db, 2));
                }
              }
            };
            await run(before, false);
            await compliance.screening.importList(supervisor, {
              format: 'address-list',
              asset: 'XBT',
              bytes: readVector('ofac-crypto-2024-09/sanctioned_addresses_XBT.txt'),
            });
            await run(after, true);
            expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
          } finally {
            await db.close();
          }
        },
      ),
      { numRuns: 4 },
    );
  }, 900_000);
});

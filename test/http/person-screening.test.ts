import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemCaller, type Caller } from '../../src/kernel';
import { ComplianceTransferGate } from '../../src/trade';
import { startTestApp, type TestApp } from '../support/http';

/**
 * A foreign counterparty may be a natural person (a sole trader). Its name must then be screened
 * against the listed individuals, both when a list is imported (re-screening) and when a transfer
 * passes the gate; a legal person is screened against listed entities. Before `personType`
 * existed every counterparty was screened as an organization, and a listed individual traded
 * unnoticed.
 */

// UN consolidated list 2026-02-27, individual CDi.041: MICHEL RUKUNDA.
const LISTED_INDIVIDUAL = 'Michel Rukunda';
const unXml = () =>
  new Uint8Array(
    readFileSync(new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url)),
  );

let t: TestApp;
let platformId = '';
let companyId = '';
let soleTrader = '';
let cleanSoleTrader = '';
const supervisor = systemCaller('test');
let platform: Caller;

beforeAll(async () => {
  t = await startTestApp();
  const registry = t.services.registry;
  await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
  platformId = (
    await registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Alpha Custody GmbH',
      country: 'DE',
    })
  ).id;
  await registry.grantLicence(supervisor, {
    participantId: platformId,
    kind: 'vasp',
    scope: 'custody',
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2028-01-01T00:00:00Z',
  });
  platform = { ...supervisor, role: 'platform', participantId: platformId, platformId };
  companyId = (
    await registry.registerParticipant(platform, {
      kind: 'company',
      legalName: 'Nordwind Export Ltd',
      country: 'DE',
    })
  ).id;
  soleTrader = (
    await registry.registerParticipant(platform, {
      kind: 'counterparty',
      personType: 'natural',
      legalName: LISTED_INDIVIDUAL,
      country: 'CD',
    })
  ).id;
  cleanSoleTrader = (
    await registry.registerParticipant(platform, {
      kind: 'counterparty',
      personType: 'natural',
      legalName: 'Jan Kowalski',
      country: 'PL',
    })
  ).id;
  for (const id of [companyId, soleTrader, cleanSoleTrader]) {
    await registry.setKyc(supervisor, id, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2027-06-30',
      beneficialOwners: [],
      documents: [{ type: 'passport', number: `P-${id.slice(-6)}`, issuer: 'state' }],
    });
  }
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('screening of natural persons', () => {
  it('registers a sole trader as a natural person, and refuses that for a company', async () => {
    const key = await t.keyFor('platform', platformId, platformId);
    const read = await t.app.inject({
      method: 'GET',
      url: `/v1/participants/${soleTrader}`,
      headers: { authorization: key.authorization },
    });
    expect(read.json()).toMatchObject({ personType: 'natural', kind: 'counterparty' });

    const company = await t.app.inject({
      method: 'POST',
      url: '/v1/participants',
      headers: { authorization: key.authorization },
      payload: { kind: 'company', personType: 'natural', legalName: 'Jane Doe', country: 'DE' },
    });
    expect(company.statusCode).toBe(400);
    expect(company.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ field: 'personType' })],
    });
    const unknown = await t.app.inject({
      method: 'POST',
      url: '/v1/participants',
      headers: { authorization: key.authorization },
      payload: { kind: 'counterparty', personType: 'robot', legalName: 'R2', country: 'DE' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.stringify(unknown.json())).toContain('personType');
  });

  it('re-screening finds the listed individual when the list is imported', async () => {
    const imported = await t.services.compliance.screening.importList(supervisor, {
      format: 'un-xml',
      bytes: unXml(),
    });
    // Every participant (the platform, the company, the two sole traders), one listed.
    expect(imported.rescreen).toMatchObject({ parties: 4, newHits: 1 });
    const key = await t.keyFor('supervisor', 'scheme');
    const response = await t.app.inject({
      method: 'GET',
      url: `/v1/alerts?partyId=${soleTrader}`,
      headers: { authorization: key.authorization },
    });
    const alerts = response.json<{ items: unknown[] }>().items;
    expect(alerts).toEqual([
      expect.objectContaining({ partyId: soleTrader, rule: 'screening.listed@1' }),
    ]);
    expect(JSON.stringify(alerts)).toContain('CDi.041');
  });

  it('the trade gate blocks a payment to the listed individual', async () => {
    const gate = new ComplianceTransferGate({
      db: t.db,
      gate: t.services.compliance.gate,
      registry: t.services.registry,
      clock: t.clock,
    });
    const decision = await t.db.transaction(() =>
      gate.decide(platform, {
        transferId: 'pay_persontest0001',
        occurredAt: t.clock.now(),
        direction: 'outbound',
        platformId,
        companyId,
        counterpartyId: soleTrader,
        contractId: 'ctr_persontest',
        address: null,
        amountSats: 100_000n,
        fiatMinor: 6_000n,
        currency: 'USD',
        rate: '60000',
        openAmountSats: 10_000_000n,
        toleranceSats: 0n,
        travelRule: null,
      }),
    );
    expect(decision.outcome).toBe('block');
    expect(decision.reasons.join('\n')).toContain('CDi.041');
  });
  it('screens a Travel Rule legal person as an individual too when the registry says the counterparty is one', async () => {
    const gate = new ComplianceTransferGate({
      db: t.db,
      gate: t.services.compliance.gate,
      registry: t.services.registry,
      clock: t.clock,
    });
    const legal = (name: string) => ({
      legalPerson: {
        name: {
          nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }],
        },
      },
    });
    const payout = (transferId: string, beneficiary: string) =>
      t.db.transaction(() =>
        gate.decide(platform, {
          transferId,
          occurredAt: t.clock.now(),
          direction: 'outbound',
          platformId,
          companyId,
          counterpartyId: cleanSoleTrader,
          contractId: 'ctr_persontest',
          address: null,
          amountSats: 100_000n,
          fiatMinor: 6_000n,
          currency: 'USD',
          rate: '60000',
          openAmountSats: 10_000_000n,
          toleranceSats: 0n,
          travelRule: {
            originator: {
              originatorPersons: [
                {
                  legalPerson: {
                    ...legal('Nordwind Export Ltd').legalPerson,
                    customerNumber: 'C-1',
                  },
                },
              ],
            },
            beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
            originatingVASP: { originatingVASP: legal('Alpha Custody GmbH') },
            beneficiaryVASP: { beneficiaryVASP: legal('Warsaw Exchange SA') },
          },
        }),
      );
    // The message calls the listed individual a legal person: still caught.
    const listed = await payout('pay_persontest0002', LISTED_INDIVIDUAL);
    expect(listed.outcome).toBe('block');
    expect(listed.reasons.join('\n')).toContain('CDi.041');
    // The same message with the counterparty's own (unlisted) name passes screening.
    const clean = await payout('pay_persontest0003', 'Jan Kowalski');
    expect(clean.reasons.join('\n')).not.toContain('SANCTIONS');
  });
});

import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../src/bitcoin';
import { systemCaller } from '../../src/kernel';
import { TEST_DRIVERS } from '../support/db';
import { startTestApp, type TestApp } from '../support/http';
import { regtestKey } from '../support/scheme';
import { testVasp } from '../support/vasp';

/**
 * Invoices and payouts are validated before anything is created: what the caller can mend (the
 * Travel Rule data, a party's verification, the address, the amount) is refused with a closed code
 * and leaves no row, no reservation and no address handed out; a transfer the screening stops is
 * still decided and recorded, refused.
 */

// Regtest P2WPKH addresses (BIP173's test programs with the regtest prefix).
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const LISTED_ADDRESS = 'bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry';
// Unregistered: nobody proved owning it.
const UNKNOWN_ADDRESS = regtestKey(11).address;

const legal = (name: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
  },
});
const OUTBOUND = {
  originator: {
    originatorPersons: [
      {
        legalPerson: {
          ...legal('Andes Coffee SA').legalPerson,
          customerNumber: 'CUST-0007',
        },
      },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal('Osaka Machinery KK')] },
  originatingVASP: { originatingVASP: legal('Bogota Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal('Osaka Exchange KK') },
};

type Headers = { authorization: string };

describe.each(TEST_DRIVERS)('validate before creating, on %s', (driver) => {
  let t: TestApp;
  let officer: Headers;
  let company: Headers;
  let supervisor: Headers;
  let supplierId = '';
  let unverifiedId = '';
  let walletId = '';
  const contracts = { supplier: '', unverified: '', listed: '', export: '' };

  const post = (url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
  const get = async <T>(url: string, headers: Headers) =>
    (await t.app.inject({ method: 'GET', url, headers })).json<T>();
  const payouts = async () => (await get<{ items: unknown[] }>('/v1/payouts', officer)).items;
  const invoices = async () => (await get<{ items: unknown[] }>('/v1/invoices', officer)).items;
  const openOf = async (id: string) =>
    (await get<{ openAmount: string }>(`/v1/contracts/${id}`, officer)).openAmount;

  beforeAll(async () => {
    t = await startTestApp({ driver });
    const registry = t.services.registry;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: 'Bogota Custody SAS',
      country: 'CO',
    });
    const platformId = platform.id;
    await registry.grantLicence(root, {
      participantId: platformId,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2029-01-01T00:00:00Z',
    });
    const kyc = (status: 'verified' | 'pending') => ({
      status,
      riskRating: 'low' as const,
      reviewDue: '2027-06-30',
      beneficialOwners: [],
      documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
    });
    const party = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
      const p = await registry.registerParticipant(root, { kind, legalName, country, platformId });
      await registry.setKyc(root, p.id, kyc('verified'));
      return p.id;
    };
    const companyId = await party('company', 'Andes Coffee SA', 'CO');
    const buyerId = await party('counterparty', 'Hamburg Roasters GmbH', 'DE');
    supplierId = await party('counterparty', 'Osaka Machinery KK', 'JP');
    unverifiedId = await party('counterparty', 'Nagoya Tools KK', 'JP');
    const listedId = await party('counterparty', 'Korea Ryonha Machinery Joint Venture Corp', 'CN');
    for (const [id, address, vasp] of [
      [supplierId, SUPPLIER_ADDRESS, 'Osaka Exchange KK'],
      [listedId, LISTED_ADDRESS, 'Dalian Exchange'],
    ] as const) {
      await registry.registerCounterpartyAddress(root, id, {
        address,
        ownership: 'hosted',
        vaspId: await testVasp(registry, vasp),
      });
    }
    supervisor = { authorization: (await t.keyFor('supervisor', 'scheme')).authorization };
    officer = { authorization: (await t.keyFor('platform', platformId, platformId)).authorization };
    const checker = {
      authorization: (await t.keyFor('platform', platformId, platformId)).authorization,
    };
    company = { authorization: (await t.keyFor('company', companyId, platformId)).authorization };
    const contract = async (counterpartyId: string, direction: 'import' | 'export') => {
      const created = await post('/v1/contracts', officer, {
        companyId,
        counterpartyId,
        direction,
        goodsDescription: direction === 'import' ? 'Roasting machines' : 'Green coffee',
        hsCode: direction === 'import' ? '841981' : '090111',
        incoterm: 'CIF',
        currency: 'USD',
        amount: '9000.00',
        pricingMode: 'fiat',
        schedule: [{ dueDate: '2026-12-15', amount: '9000.00' }],
      });
      expect(created.statusCode).toBe(201);
      const id = created.json<{ id: string }>().id;
      for (const action of ['submit', 'approve', 'activate']) {
        const moved = await post(
          `/v1/contracts/${id}/${action}`,
          action === 'approve' ? checker : officer,
        );
        expect(moved.statusCode).toBe(200);
      }
      return id;
    };
    contracts.supplier = await contract(supplierId, 'import');
    contracts.unverified = await contract(unverifiedId, 'import');
    contracts.listed = await contract(listedId, 'import');
    contracts.export = await contract(buyerId, 'export');
    // Verified when its contract was activated; its KYC is pending again since (a renewal).
    await registry.setKyc(root, unverifiedId, kyc('pending'));
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
    const descriptor = `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
    const wallet = await post('/v1/wallets', officer, { companyId, descriptor });
    expect(wallet.statusCode).toBe(201);
    walletId = wallet.json<{ id: string }>().id;
    const rate = await t.app.inject({
      method: 'PUT',
      url: '/v1/rates/manual/USD',
      headers: supervisor,
      payload: { rate: '60000' },
    });
    expect(rate.statusCode).toBe(204);
  }, 300_000);
  afterAll(async () => t?.close());

  it('refuses a payout without the Travel Rule data it needs, with the threshold in USD, and creates nothing', async () => {
    const before = await openOf(contracts.supplier);
    const refused = await post('/v1/payouts', company, {
      contractId: contracts.supplier,
      amount: '2000.00',
      address: SUPPLIER_ADDRESS,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({
      code: 'TRAVEL_RULE_INCOMPLETE',
      details: {
        travelRuleThreshold: { minor: '100000', currency: 'USD', formatted: 'USD 1,000.00' },
        inputIssues: [{ code: 'TRAVEL_RULE_MISSING' }],
      },
    });
    const message = refused.json<{ message: string }>().message;
    expect(message).toContain('USD 1,000.00');
    expect(message).not.toMatch(/minor units/);
    expect(await payouts()).toEqual([]);
    expect(await openOf(contracts.supplier)).toBe(before);
  });

  it('refuses a payout to a counterparty whose verification lapsed, naming it, and creates nothing', async () => {
    const refused = await post('/v1/payouts', company, {
      contractId: contracts.unverified,
      amount: '500.00',
      address: SUPPLIER_ADDRESS,
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({
      code: 'KYC_NOT_VERIFIED',
      message: expect.stringContaining('Nagoya Tools KK') as unknown,
      details: {
        party: 'counterparty',
        participantId: unverifiedId,
        participantName: 'Nagoya Tools KK',
        kycStatus: 'pending',
      },
    });
    expect(await payouts()).toEqual([]);
  });

  it('refuses a payout to an address nobody proved owning, at the address field', async () => {
    const refused = await post('/v1/payouts', officer, {
      contractId: contracts.supplier,
      amount: '500.00',
      address: UNKNOWN_ADDRESS,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'address' }],
    });
    expect(await payouts()).toEqual([]);
  });

  it('refuses an invoice without Travel Rule data and hands out no address', async () => {
    const refused = await post('/v1/invoices', company, {
      contractId: contracts.export,
      amount: '2500.00',
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json()).toMatchObject({ code: 'TRAVEL_RULE_INCOMPLETE' });
    expect(await invoices()).toEqual([]);
    const handedOut = await get<{ items: unknown[] }>(`/v1/wallets/${walletId}/addresses`, officer);
    expect(handedOut.items).toEqual([]);
  });

  it('refuses a listed party for its input alike, records the attempt for the supervisor, and decides it once mended', async () => {
    // The UN list arrives after the contracts (an onboarding screen would stop them earlier).
    await t.services.compliance.screening.importList(systemCaller('test'), {
      format: 'un-xml',
      bytes: new Uint8Array(
        readFileSync(
          new URL('../vectors/sanctions/un-consolidated-2026-02-27.xml', import.meta.url),
        ),
      ),
    });
    // No Travel Rule data: refused for that, exactly as an unlisted party is, so the refusal
    // says nothing about the lists (no screening oracle), and nothing is created.
    const refusalOf = async (contractId: string, address: string) => {
      const refused = await post('/v1/payouts', company, {
        contractId,
        amount: '2000.00',
        address,
      });
      expect(refused.statusCode).toBe(422);
      const body = refused.json<{ code: string; details: { inputIssues: { code: string }[] } }>();
      return { code: body.code, issues: body.details.inputIssues.map((i) => i.code) };
    };
    const listed = await refusalOf(contracts.listed, LISTED_ADDRESS);
    expect(listed).toEqual({ code: 'TRAVEL_RULE_INCOMPLETE', issues: ['TRAVEL_RULE_MISSING'] });
    expect(await refusalOf(contracts.supplier, SUPPLIER_ADDRESS)).toEqual(listed);
    expect(await payouts()).toEqual([]);
    // The supervisor's record keeps the listed party's attempt (and only that one), with what
    // would have stopped it; the company cannot read the audit log.
    const attempts = await get<{ items: { entityType: string; after: Record<string, unknown> }[] }>(
      '/v1/audit?action=transfer.attemptRefused',
      supervisor,
    );
    expect(attempts.items).toHaveLength(1);
    expect(attempts.items[0]).toMatchObject({
      entityType: 'payout',
      after: {
        contractId: contracts.listed,
        address: LISTED_ADDRESS,
        refusedFor: 'TRAVEL_RULE_INCOMPLETE',
      },
    });
    expect(attempts.items[0]!.after.stoppedBy).toEqual(
      expect.arrayContaining([expect.stringMatching(/SANCTION/)]),
    );
    expect(
      (await t.app.inject({ method: 'GET', url: '/v1/audit', headers: company })).statusCode,
    ).toBe(403);
    // Mended (below the Travel Rule threshold): the name match is what counts, and it is recorded.
    const blocked = await post('/v1/payouts', company, {
      contractId: contracts.listed,
      amount: '500.00',
      address: LISTED_ADDRESS,
    });
    expect(blocked.statusCode).toBe(422);
    expect(blocked.json()).toMatchObject({ code: 'TRANSFER_BLOCKED' });
    const payoutId = blocked.json<{ details: { payoutId: string } }>().details.payoutId;
    expect(await get(`/v1/payouts/${payoutId}`, officer)).toMatchObject({
      status: 'cancelled',
      gate: { outcome: 'block' },
    });
  });

  it('creates the payout once the request is mended', async () => {
    const created = await post('/v1/payouts', company, {
      contractId: contracts.supplier,
      amount: '2000.00',
      address: SUPPLIER_ADDRESS,
      travelRule: OUTBOUND,
    });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ status: 'awaitingApproval' });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';

/**
 * Tenancy of the registry's participant list for companies: a company sees itself and, read-only,
 * the foreign counterparties its own platform registered (so that it can name one on a contract),
 * and nothing more: not the other companies of its platform, not the platforms, not the miners,
 * not another platform's counterparties, and not what the registry keeps about a counterparty
 * (its KYC/KYB record and addresses stay with the platform).
 */
describe("tenancy: a company sees its platform's counterparties and nothing more", () => {
  let t: TestApp;
  const ids = {
    alpha: '',
    beta: '',
    miner: '',
    companyA1: '',
    companyA2: '',
    companyB1: '',
    counterpartyA1: '',
    counterpartyA2: '',
    counterpartyB1: '',
  };
  type Auth = { authorization: string };
  let asA1: Auth;
  let asB1: Auth;
  let asAlpha: Auth;

  async function list(auth: Auth, kind?: string): Promise<{ status: number; ids: string[] }> {
    const response = await t.app.inject({
      method: 'GET',
      url: kind ? `/v1/participants?kind=${kind}` : '/v1/participants',
      headers: auth,
    });
    const body = response.json<{ items?: { id: string }[] }>();
    return { status: response.statusCode, ids: (body.items ?? []).map((p) => p.id) };
  }

  const sorted = (values: string[]) => [...values].sort();

  beforeAll(async () => {
    t = await startTestApp();
    const supervisor = systemCaller('tenancy-test');
    const { registry } = t.services;
    const register = async (
      kind: 'platform' | 'company' | 'counterparty' | 'miner',
      legalName: string,
      country: string,
      platformId?: string,
    ) =>
      (
        await registry.registerParticipant(supervisor, {
          kind,
          legalName,
          country,
          ...(platformId ? { platformId } : {}),
        })
      ).id;
    ids.alpha = await register('platform', 'Alpha Exchange', 'CO');
    ids.beta = await register('platform', 'Beta Exchange', 'CO');
    for (const platformId of [ids.alpha, ids.beta])
      await registry.grantLicence(supervisor, {
        participantId: platformId,
        kind: 'vasp',
        scope: 'custody and transfer',
        validFrom: '2026-01-01T00:00:00Z',
      });
    ids.miner = await register('miner', 'Andes Hash SAS', 'CO');
    ids.companyA1 = await register('company', 'Andes Coffee SA', 'CO', ids.alpha);
    ids.companyA2 = await register('company', 'Quito Cacao SA', 'CO', ids.alpha);
    ids.companyB1 = await register('company', 'Bogota Textiles SA', 'CO', ids.beta);
    ids.counterpartyA1 = await register('counterparty', 'Hamburg Roasters GmbH', 'DE', ids.alpha);
    ids.counterpartyA2 = await register('counterparty', 'Osaka Machinery KK', 'JP', ids.alpha);
    ids.counterpartyB1 = await register('counterparty', 'Lyon Soieries SA', 'FR', ids.beta);
    await registry.setKyc(supervisor, ids.counterpartyA1, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2030-01-01',
      beneficialOwners: [{ name: 'Greta Brandt', country: 'DE', share: '60' }],
      documents: [{ type: 'Handelsregisterauszug', number: 'HRB 12345', issuer: 'AG Hamburg' }],
    });
    asA1 = await t.keyFor('company', ids.companyA1, ids.alpha);
    asB1 = await t.keyFor('company', ids.companyB1, ids.beta);
    asAlpha = await t.keyFor('platform', ids.alpha, ids.alpha);
  });
  afterAll(async () => t?.close());

  it("lists the company itself and its platform's counterparties, and no one else", async () => {
    const all = await list(asA1);
    expect(all.status).toBe(200);
    expect(sorted(all.ids)).toEqual(
      sorted([ids.companyA1, ids.counterpartyA1, ids.counterpartyA2]),
    );
    for (const hidden of [
      ids.alpha,
      ids.beta,
      ids.miner,
      ids.companyA2,
      ids.companyB1,
      ids.counterpartyB1,
    ])
      expect(all.ids).not.toContain(hidden);
    expect(sorted((await list(asA1, 'counterparty')).ids)).toEqual(
      sorted([ids.counterpartyA1, ids.counterpartyA2]),
    );
    expect((await list(asA1, 'company')).ids).toEqual([ids.companyA1]);
    expect((await list(asA1, 'platform')).ids).toEqual([]);
    expect((await list(asA1, 'miner')).ids).toEqual([]);
  });

  it("gives another platform's company only its own platform's counterparties", async () => {
    expect(sorted((await list(asB1)).ids)).toEqual(sorted([ids.companyB1, ids.counterpartyB1]));
  });

  it('derives the platform from the registry, not from the credential', async () => {
    // A company key that claims the other platform reveals that platform's counterparties no more
    // than a correct key does: the company's registry row names its platform.
    const forged = await t.keyFor('company', ids.companyA1, ids.beta);
    expect(sorted((await list(forged)).ids)).toEqual(
      sorted([ids.companyA1, ids.counterpartyA1, ids.counterpartyA2]),
    );
    // A company credential bound to a counterparty (not a company) sees that row and nothing more.
    const notACompany = await t.keyFor('company', ids.counterpartyB1, ids.beta);
    expect((await list(notACompany)).ids).toEqual([ids.counterpartyB1]);
  });

  it('keeps the platform view unchanged: its clients and its counterparties only', async () => {
    expect(sorted((await list(asAlpha)).ids)).toEqual(
      sorted([ids.alpha, ids.companyA1, ids.companyA2, ids.counterpartyA1, ids.counterpartyA2]),
    );
  });

  it("keeps a counterparty's KYC/KYB record and addresses hidden from the company (404)", async () => {
    for (const url of [
      `/v1/participants/${ids.counterpartyA1}/kyc`,
      `/v1/participants/${ids.counterpartyA1}/addresses`,
      `/v1/participants/${ids.companyA2}`,
      `/v1/participants/${ids.counterpartyB1}`,
    ]) {
      const response = await t.app.inject({ method: 'GET', url, headers: asA1 });
      expect(response.statusCode, url).toBe(404);
      expect(JSON.stringify(response.json()), url).not.toContain('Greta Brandt');
    }
    // The platform that keeps the record reads it.
    const own = await t.app.inject({
      method: 'GET',
      url: `/v1/participants/${ids.counterpartyA1}/kyc`,
      headers: asAlpha,
    });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ beneficialOwners: [{ name: 'Greta Brandt' }] });
  });

  it('is read-only: the company cannot change a counterparty it sees', async () => {
    const kyc = await t.app.inject({
      method: 'PUT',
      url: `/v1/participants/${ids.counterpartyA1}/kyc`,
      headers: asA1,
      payload: {
        status: 'rejected',
        riskRating: 'high',
        reviewDue: '2030-01-01',
        beneficialOwners: [],
        documents: [],
      },
    });
    expect(kyc.statusCode).toBe(403);
    const address = await t.app.inject({
      method: 'POST',
      url: `/v1/participants/${ids.counterpartyA1}/addresses`,
      headers: asA1,
      payload: {
        ownership: 'hosted',
        address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080',
        vaspId: 'vsp_01JAAAAAAAAAAAAAAAAAAAAAAA',
      },
    });
    expect(address.statusCode).toBe(403);
    const stillVerified = await t.app.inject({
      method: 'GET',
      url: `/v1/participants/${ids.counterpartyA1}/kyc`,
      headers: asAlpha,
    });
    expect(stillVerified.json()).toMatchObject({ status: 'verified' });
  });
  it("refuses a contract with another platform's counterparty, for the company and its platform", async () => {
    const contract = (counterpartyId: string) => ({
      counterpartyId,
      direction: 'export',
      goodsDescription: 'Green coffee beans, 18 t',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '1000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount: '1000.00' }],
    });
    const count = async () =>
      rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from trade_contracts`))[0]?.n;
    const before = await count();
    for (const [auth, body] of [
      [asA1, contract(ids.counterpartyB1)],
      [asAlpha, { ...contract(ids.counterpartyB1), companyId: ids.companyA1 }],
    ] as const) {
      const refused = await t.app.inject({
        method: 'POST',
        url: '/v1/contracts',
        headers: auth,
        payload: body,
      });
      expect(refused.statusCode).toBe(404);
      expect(refused.json()).toMatchObject({ code: 'PARTICIPANT_NOT_FOUND' });
    }
    expect(await count()).toBe(before);
    // Its own platform's counterparty is accepted (the same body otherwise).
    const own = await t.app.inject({
      method: 'POST',
      url: '/v1/contracts',
      headers: asA1,
      payload: contract(ids.counterpartyA1),
    });
    expect(own.statusCode).toBe(201);
  });
});

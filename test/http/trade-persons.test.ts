import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit';
import { newOperatorToken, OPERATOR_ACTOR } from '../../src/http/operator';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { licensedPlatform } from '../support/scheme';
import { testVasp } from '../support/vasp';

/**
 * Who counts as one of trade's two persons, over HTTP with real keys: the four eyes on a
 * contract (its creator or submitter never approves it; the supervisor's approval above the
 * threshold) and maker-checker on a payout. The operator channel (the CLI's token) is not a
 * person and takes none of these steps; two keys of one person are one person.
 */

// A regtest P2WPKH address (BIP173 test vector program, regtest prefix).
const supplierAddress = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const legal = (name: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
  },
});
/** IVMS101 data (FATF R.16) for the company paying the supplier. */
const OUTBOUND = {
  originator: {
    originatorPersons: [
      { legalPerson: { ...legal('Andes Coffee SA').legalPerson, customerNumber: 'CUST-0007' } },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal('Osaka Machinery KK')] },
  originatingVASP: { originatingVASP: legal('Bogota Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal('Osaka Exchange KK') },
};

type Headers = { authorization: string };

describe('trade’s two persons over HTTP', () => {
  const operatorToken = newOperatorToken();
  const operator: Headers = { authorization: `Bearer ${operatorToken}` };
  let t: TestApp;
  let supervisor: Headers;
  /** Officer P's two keys (one person), officer Q's key (another person). */
  let officerP: TestKey;
  let officerP2: TestKey;
  let officerQ: TestKey;
  let company: Headers;
  let companyId = '';
  let buyerId = '';
  let supplierId = '';

  beforeAll(async () => {
    t = await startTestApp({ operatorToken });
    const registry = t.services.registry;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: 'Bogota Custody SAS',
      country: 'CO',
    });
    const register = await licensedPlatform(registry, root, t.clock, platform.id);
    companyId = await register('company', 'Andes Coffee SA', 'CO');
    buyerId = await register('counterparty', 'Hamburg Roasters GmbH', 'DE');
    supplierId = await register('counterparty', 'Osaka Machinery KK', 'JP');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: supplierAddress,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    supervisor = { authorization: (await t.keyFor('supervisor', 'scheme')).authorization };
    officerP = await t.keyFor('platform', platform.id);
    officerP2 = await t.keyFor('platform', platform.id, null, { samePersonAs: officerP });
    officerQ = await t.keyFor('platform', platform.id);
    company = {
      authorization: (await t.keyFor('company', companyId, platform.id)).authorization,
    };
  });
  afterAll(async () => t.close());

  const post = (url: string, who: Headers, payload?: object) =>
    t.app.inject({
      method: 'POST',
      url,
      headers: { authorization: who.authorization },
      ...(payload === undefined ? {} : { payload }),
    });
  const get = (url: string, who: Headers) =>
    t.app.inject({ url, headers: { authorization: who.authorization } });
  const refusal = async (response: Promise<{ statusCode: number; json: <T>() => T }>) => {
    const answered = await response;
    return { status: answered.statusCode, ...answered.json<{ code: string; message: string }>() };
  };
  const auditActions = async (entityId: string) =>
    (await listAuditEvents(t.db.orm, { entityId }, { limit: 100 })).items.map((e) => e.action);

  const exportContract = (amount: string) => ({
    companyId,
    counterpartyId: buyerId,
    direction: 'export',
    goodsDescription: 'Green coffee, 18 t',
    hsCode: '090111',
    incoterm: 'FOB',
    currency: 'USD',
    amount,
    pricingMode: 'fiat',
    schedule: [{ dueDate: '2026-09-01', amount }],
  });

  it('the operator is not a person of a contract’s four eyes, not even as the supervisor', async () => {
    // Above the scheme's threshold of 10,000.00 USD: the supervisor approves after the platform.
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/v1/trade/settings/scheme',
          headers: supervisor,
          payload: { supervisorThresholds: { USD: '1000000' } },
        })
      ).statusCode,
    ).toBe(200);
    const notCreated = await refusal(post('/v1/contracts', operator, exportContract('30000.00')));
    expect(notCreated).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    const contract = (await post('/v1/contracts', company, exportContract('30000.00'))).json<{
      id: string;
    }>();
    const url = (action: string) => `/v1/contracts/${contract.id}/${action}`;
    expect(await refusal(post(url('submit'), operator))).toMatchObject({ status: 403 });
    expect((await post(url('submit'), company)).json()).toMatchObject({ status: 'submitted' });

    // The operator approves neither for the platform nor as the supervisor, and nothing moves.
    const asPlatform = await refusal(post(url('approve'), operator));
    expect(asPlatform).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(asPlatform.message).toMatch(/operator channel is not one/);
    expect((await get(`/v1/contracts/${contract.id}`, company)).json()).toMatchObject({
      status: 'submitted',
    });
    expect((await post(url('approve'), officerP)).json()).toMatchObject({
      status: 'approved',
      supervisorApproval: 'pending',
    });
    const asSupervisor = await refusal(post(url('approve'), operator));
    expect(asSupervisor).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(asSupervisor.message).toMatch(/operator channel is not one/);
    expect((await get(`/v1/contracts/${contract.id}`, company)).json()).toMatchObject({
      status: 'approved',
      supervisorApproval: 'pending',
    });
    expect(await refusal(post(url('activate'), officerQ))).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    expect(await auditActions(contract.id)).not.toContain('contract.supervisorApproved');

    // A named supervisor grants it.
    expect((await post(url('approve'), supervisor)).json()).toMatchObject({
      supervisorApproval: 'granted',
    });
    const events = (await listAuditEvents(t.db.orm, { entityId: contract.id }, { limit: 100 }))
      .items;
    expect(events.map((e) => e.actor)).not.toContain(OPERATOR_ACTOR);
  });

  it('counts two keys of one officer as one person on a contract', async () => {
    const contract = (await post('/v1/contracts', officerP, exportContract('500.00'))).json<{
      id: string;
    }>();
    const url = (action: string) => `/v1/contracts/${contract.id}/${action}`;
    expect((await post(url('submit'), officerP)).statusCode).toBe(200);
    expect(await refusal(post(url('approve'), officerP2))).toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect((await get(`/v1/contracts/${contract.id}`, company)).json()).toMatchObject({
      status: 'submitted',
    });
    expect((await post(url('approve'), officerQ)).json()).toMatchObject({
      status: 'approved',
      supervisorApproval: 'notRequired',
    });
  });

  it('the operator is neither maker nor checker of a payout; two keys of one officer are one person', async () => {
    const contract = (
      await post('/v1/contracts', officerP, {
        companyId,
        counterpartyId: supplierId,
        direction: 'import',
        goodsDescription: 'Roasting machine',
        hsCode: '841981',
        incoterm: 'CIF',
        currency: 'USD',
        amount: '6000.00',
        pricingMode: 'fixedBtc',
        btcAmountSats: '10000000',
        schedule: [{ dueDate: '2026-07-15', amount: '10000000' }],
      })
    ).json<{ id: string }>();
    for (const [action, who] of [
      ['submit', officerP],
      ['approve', officerQ],
      ['activate', officerP],
    ] as const) {
      expect((await post(`/v1/contracts/${contract.id}/${action}`, who)).statusCode).toBe(200);
    }
    expect(
      (
        await t.app.inject({
          method: 'PUT',
          url: '/v1/rates/manual/USD',
          headers: supervisor,
          payload: { rate: '60000' },
        })
      ).statusCode,
    ).toBe(204);
    const request = { contractId: contract.id, amount: '4000000', address: supplierAddress };
    const byOperator = await refusal(
      post('/v1/payouts', operator, { ...request, travelRule: OUTBOUND }),
    );
    expect(byOperator).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect((await get('/v1/payouts', officerQ)).json()).toMatchObject({ items: [] });

    const payout = (
      await post('/v1/payouts', officerP, { ...request, travelRule: OUTBOUND })
    ).json<{ id: string }>();
    const approve = (who: Headers) => post(`/v1/payouts/${payout.id}/approve`, who);
    const asOperator = await refusal(approve(operator));
    expect(asOperator).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(approve(officerP2))).toMatchObject({ code: 'SELF_APPROVAL' });
    expect((await get(`/v1/payouts/${payout.id}`, officerQ)).json()).toMatchObject({
      status: 'awaitingApproval',
      approvals: [],
    });
    expect((await approve(officerQ)).json()).toMatchObject({
      status: 'awaitingPayment',
      approvals: [{ personId: officerQ.personId }],
    });
    // A release is a named officer's, of the payout's platform, and only of a held payout.
    const release = (who: Headers, id = payout.id) => post(`/v1/payouts/${id}/release`, who);
    expect(await refusal(release(operator))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(release(company))).toMatchObject({ status: 403, code: 'FORBIDDEN' });
    expect(await refusal(release(officerQ))).toMatchObject({
      status: 409,
      code: 'INVALID_STATE_TRANSITION',
    });
    expect(await refusal(release(officerQ, 'pay_01J0000000000000000000000Z'))).toMatchObject({
      status: 404,
      code: 'PAYOUT_NOT_FOUND',
    });
    expect(await auditActions(payout.id)).not.toContain('payout.released');
  });
});

import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveAddress, LocalKeySigner } from '../../src/bitcoin';
import { rowsOf } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';
import { testVasp } from '../support/vasp';

/** The trade API over HTTP: contracts, invoices, pay page, payouts, rates, ledger, webhooks. */

// Registered through the registry in beforeAll (its ids).
let platformId = '';
let otherPlatformId = '';
let companyId = '';
let buyerId = '';
let supplierId = '';
let walletId = '';
// A regtest P2WPKH address (BIP173 test vector program, regtest prefix).
const supplierAddress = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';

const legal = (name: string, customerNumber?: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
    ...(customerNumber ? { customerNumber } : {}),
  },
});
/** IVMS101 data (FATF R.16) for the payout to the supplier (above the 1,000 USD threshold). */
const OUTBOUND = {
  originator: { originatorPersons: [legal('Andes Coffee SA', 'CUST-0007')] },
  beneficiary: { beneficiaryPersons: [legal('Osaka Machinery KK')] },
  originatingVASP: { originatingVASP: legal('Bogota Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal('Osaka Exchange KK') },
};

type Headers = { authorization: string };

describe('trade over HTTP', () => {
  let t: TestApp;
  let supervisor: Headers;
  let officerM: Headers;
  let officerA: Headers;
  let company: Headers;
  let stranger: Headers;

  beforeAll(async () => {
    t = await startTestApp();
    // The scheme in the registry: jurisdiction CO, two licensed platforms, a verified company and
    // two verified foreign counterparties, the supplier's address hosted by a VASP.
    const registry = t.services.registry;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = async (legalName: string) => {
      const p = await registry.registerParticipant(root, {
        kind: 'platform',
        legalName,
        country: 'CO',
      });
      await registry.grantLicence(root, {
        participantId: p.id,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2029-01-01T00:00:00Z',
      });
      return p.id;
    };
    platformId = await platform('Bogota Custody SAS');
    otherPlatformId = await platform('Medellin Custody SAS');
    const party = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
      const p = await registry.registerParticipant(root, { kind, legalName, country, platformId });
      await registry.setKyc(root, p.id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2027-06-30',
        beneficialOwners: [],
        documents: [
          {
            type: 'certificate of incorporation',
            number: `REG-${p.id.slice(-6)}`,
            issuer: 'registry',
          },
        ],
      });
      return p.id;
    };
    companyId = await party('company', 'Andes Coffee SA', 'CO');
    buyerId = await party('counterparty', 'Hamburg Roasters GmbH', 'DE');
    supplierId = await party('counterparty', 'Osaka Machinery KK', 'JP');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: supplierAddress,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    supervisor = { authorization: (await t.keyFor('supervisor', 'scheme')).authorization };
    officerM = {
      authorization: (await t.keyFor('platform', platformId, platformId)).authorization,
    };
    officerA = {
      authorization: (await t.keyFor('platform', platformId, platformId)).authorization,
    };
    company = { authorization: (await t.keyFor('company', companyId, platformId)).authorization };
    stranger = {
      authorization: (await t.keyFor('platform', otherPlatformId, otherPlatformId)).authorization,
    };
  });
  afterAll(async () => t.close());

  const post = (url: string, headers: Headers, payload?: object) =>
    t.app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
  const put = (url: string, headers: Headers, payload: object) =>
    t.app.inject({ method: 'PUT', url, headers, payload });
  const get = (url: string, headers?: Headers) =>
    t.app.inject({ method: 'GET', url, ...(headers ? { headers } : {}) });

  const exportContract = () => ({
    counterpartyId: buyerId,
    direction: 'export',
    goodsDescription: 'Green coffee, 18 t',
    hsCode: '090111',
    incoterm: 'FOB',
    currency: 'USD',
    amount: '30000.00',
    pricingMode: 'fiat',
    schedule: [
      { dueDate: '2026-08-01', amount: '10000.00' },
      { dueDate: '2026-09-01', amount: '20000.00' },
    ],
  });

  it('runs a contract through its states, with the supervisor approving above the threshold', async () => {
    const bad = await post('/v1/contracts', company, { ...exportContract(), hsCode: '0901' });
    expect(bad.statusCode).toBe(400);
    const unbalanced = await post('/v1/contracts', company, {
      ...exportContract(),
      schedule: [{ dueDate: '2026-08-01', amount: '100.00' }],
    });
    expect(unbalanced.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(unbalanced.json<{ message: string }>().message).toContain('instalments sum to 10000');

    const created = await post('/v1/contracts', company, exportContract());
    expect(created.statusCode).toBe(201);
    const contract = created.json<{
      id: string;
      status: string;
      totalAmount: string;
      openAmount: string;
    }>();
    expect(contract).toMatchObject({
      status: 'draft',
      totalAmount: '3000000',
      openAmount: '3000000',
    });
    expect((await get(`/v1/contracts/${contract.id}`, stranger)).statusCode).toBe(404);

    const thresholds = await put('/v1/trade/settings/scheme', supervisor, {
      supervisorThresholds: { USD: '1000000' },
    });
    expect(thresholds.statusCode).toBe(200);
    expect((await post(`/v1/contracts/${contract.id}/activate`, officerM)).json()).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    expect((await post(`/v1/contracts/${contract.id}/submit`, company)).json()).toMatchObject({
      status: 'submitted',
    });
    expect((await post(`/v1/contracts/${contract.id}/approve`, company)).statusCode).toBe(403);
    expect((await post(`/v1/contracts/${contract.id}/approve`, officerM)).json()).toMatchObject({
      status: 'approved',
      supervisorApproval: 'pending',
    });
    expect((await post(`/v1/contracts/${contract.id}/activate`, officerM)).statusCode).toBe(409);
    expect((await post(`/v1/contracts/${contract.id}/approve`, supervisor)).json()).toMatchObject({
      supervisorApproval: 'granted',
    });
    expect((await post(`/v1/contracts/${contract.id}/activate`, officerM)).json()).toMatchObject({
      status: 'active',
    });

    // ---- invoices: no rate → RATE_UNAVAILABLE and nothing written; then the pay page.
    const seed = new Uint8Array(32).fill(5);
    const signer = LocalKeySigner.fromSeed(seed, 'regtest');
    const descriptor = `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
    // The company's one wallet, registered in the registry: invoices take their addresses there.
    const wallet = await post('/v1/wallets', officerM, { companyId, descriptor });
    expect(wallet.statusCode).toBe(201);
    walletId = wallet.json<{ id: string }>().id;
    expect((await post('/v1/trade/wallets', officerM, { companyId, descriptor })).statusCode).toBe(
      404,
    );
    const noRate = await post('/v1/invoices', company, {
      contractId: contract.id,
      amount: '900.00',
    });
    expect(noRate.statusCode).toBe(503);
    expect(noRate.json()).toMatchObject({ code: 'RATE_UNAVAILABLE' });
    expect((await get('/v1/invoices', company)).json()).toEqual({ items: [], nextCursor: null });
    expect((await get('/v1/rates', company)).json()).toEqual({ items: [], nextCursor: null });

    expect((await put('/v1/rates/manual/USD', officerM, { rate: '60000' })).statusCode).toBe(403);
    expect((await put('/v1/rates/manual/USD', supervisor, { rate: '60000' })).statusCode).toBe(204);
    // 900.00 USD: under the 1,000 USD Travel Rule threshold, so no IVMS101 data is needed.
    const issued = await post('/v1/invoices', company, {
      contractId: contract.id,
      amount: '900.00',
    });
    expect(issued.statusCode).toBe(201);
    const invoice = issued.json<{
      id: string;
      address: string;
      amountSats: string;
      amountBtc: string;
      status: string;
      paymentUri: string;
      rateId: string;
    }>();
    // 900.00 USD at 60,000 USD/BTC = 0.015 BTC = 1,500,000 sats.
    expect(invoice).toMatchObject({
      amountSats: '1500000',
      amountBtc: '0.01500000',
      status: 'new',
      // The gate's verdict at creation is part of the invoice, with compliance's decision id.
      gateOutcome: 'allow',
      gateDecisions: [{ subject: 'creation', outcome: 'allow', resolution: null }],
    });
    expect(
      issued.json<{ gateDecisions: { decisionId: string | null }[] }>().gateDecisions[0]
        ?.decisionId,
    ).toMatch(/^dec_/);
    expect(invoice.paymentUri).toBe(
      `bitcoin:${invoice.address}?amount=0.015&message=Invoice%20${invoice.id}`,
    );
    // The first receive address of the wallet (the failed attempt did not use one up), recorded
    // in the registry as handed out to this invoice.
    expect(invoice.address).toBe(deriveAddress(descriptor, 0, 0, 'regtest').address);
    expect((await get(`/v1/wallets/${walletId}/addresses`, company)).json()).toMatchObject({
      items: [
        {
          address: invoice.address,
          branch: 'receive',
          derivationIndex: 0,
          purpose: `invoice ${invoice.id}`,
        },
      ],
    });
    const rate = (await get(`/v1/rates/${invoice.rateId}`, company)).json<{
      rate: string;
      sources: unknown[];
    }>();
    expect(rate).toMatchObject({
      rate: '60000',
      sources: [{ name: 'manual', rate: '60000', used: true }],
    });

    const page = await get(`/pay/${invoice.id}`);
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.body).toContain(invoice.address);
    expect(page.body).toContain('0.01500000 BTC');
    expect(page.body).toContain('900.00 USD');
    const svg = await get(`/pay/${invoice.id}/qr.svg`);
    expect(svg.headers['content-type']).toContain('image/svg+xml');
    expect(svg.body).toMatch(/^<svg/);
    const png = await get(`/pay/${invoice.id}/qr.png`);
    expect([...png.rawPayload.subarray(0, 8)]).toEqual([
      0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a,
    ]);
    expect((await get(`/pay/${invoice.id}/status`)).json()).toMatchObject({
      status: 'new',
      amountSats: '1500000',
    });
    // The checkout names the seller, warns off mainnet, and says what is still to pay.
    expect(page.body).toContain('<p class="seller" data-testid="seller">Andes Coffee SA</p>');
    expect(page.body).toContain('Test network (regtest).');
    expect(page.body).toContain('rel="icon"');
    expect((await get(`/pay/${invoice.id}/status`)).json()).toMatchObject({
      canPay: true,
      dueSats: '1500000',
      dueBtc: '0.01500000',
    });
    // An unknown or malformed invoice gets a page for people, not the API's JSON.
    for (const unknown of ['inv_01J00000000000000000000000', 'not-an-invoice']) {
      const missing = await get(`/pay/${unknown}`);
      expect(missing.statusCode).toBe(404);
      expect(missing.headers['content-type']).toContain('text/html');
      expect(missing.body).toContain('Invoice not found');
    }

    // The invoice's fiat counts against the contract: 30,000 − 900 open.
    expect((await get(`/v1/contracts/${contract.id}`, company)).json()).toMatchObject({
      openAmount: '2910000',
      reservedAmount: '90000',
    });
    // A described invoice shows its description (escaped); once expired, nothing invites payment.
    const described = (
      await post('/v1/invoices', company, {
        contractId: contract.id,
        amount: '100.00',
        description: 'Lot 7 <b>green</b> coffee',
        validitySeconds: 600,
      })
    ).json<{ id: string; address: string }>();
    const open = await get(`/pay/${described.id}`);
    expect(open.body).toContain('Lot 7 &lt;b&gt;green&lt;/b&gt; coffee');
    expect(open.body).toContain('Open in wallet');
    t.clock.advance(601_000);
    const late = await get(`/pay/${described.id}`);
    expect(late.statusCode).toBe(200);
    for (const gone of ['Open in wallet', described.address, '/qr.svg', 'Copy address'])
      expect(late.body).not.toContain(gone);
    expect((await get(`/pay/${described.id}/qr.svg`)).statusCode).toBe(404);
    expect((await get(`/pay/${described.id}/status`)).json()).toMatchObject({ canPay: false });
    // The rate desk's rate was set before the clock moved: set it again for what follows.
    expect((await put('/v1/rates/manual/USD', supervisor, { rate: '60000' })).statusCode).toBe(204);
  });

  it('takes payouts through maker-checker approval', async () => {
    const created = await post('/v1/contracts', officerM, {
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
    });
    const contract = created.json<{ id: string }>();
    // Four eyes: another officer approves.
    for (const [action, who] of [
      ['submit', officerM],
      ['approve', officerA],
      ['activate', officerM],
    ] as const) {
      expect((await post(`/v1/contracts/${contract.id}/${action}`, who)).statusCode).toBe(200);
    }
    const wrongDirection = await post('/v1/invoices', company, {
      contractId: contract.id,
      amount: '1000',
    });
    expect(wrongDirection.statusCode).toBe(400);
    const tooMuch = await post('/v1/payouts', officerM, {
      contractId: contract.id,
      amount: '10000001',
      address: supplierAddress,
    });
    expect(tooMuch.json()).toMatchObject({ code: 'AMOUNT_EXCEEDS_OPEN' });
    const badAddress = await post('/v1/payouts', officerM, {
      contractId: contract.id,
      amount: '1000',
      address: 'bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kemeawh',
    });
    expect(badAddress.json()).toMatchObject({ code: 'INVALID_ADDRESS' });
    // Below the dust limit of the destination's output type: refused at creation, naming amount.
    const dust = await post('/v1/payouts', officerM, {
      contractId: contract.id,
      amount: '1',
      address: supplierAddress,
      travelRule: OUTBOUND,
    });
    expect(dust.statusCode).toBe(400);
    expect(dust.json()).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'amount' }],
    });

    const payout = (
      await post('/v1/payouts', officerM, {
        contractId: contract.id,
        amount: '4000000',
        address: supplierAddress,
        travelRule: OUTBOUND,
      })
    ).json<{ id: string; status: string; requiredApprovals: number; fiatMinor: string }>();
    expect(payout).toMatchObject({
      status: 'awaitingApproval',
      requiredApprovals: 1,
      fiatMinor: '240000',
      gate: { outcome: 'allow', resolution: null },
    });
    expect((await post(`/v1/payouts/${payout.id}/approve`, officerM)).json()).toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect((await post(`/v1/payouts/${payout.id}/approve`, company)).statusCode).toBe(403);
    expect((await post(`/v1/payouts/${payout.id}/approve`, stranger)).statusCode).toBe(404);
    expect((await post(`/v1/payouts/${payout.id}/approve`, officerA)).json()).toMatchObject({
      status: 'awaitingPayment',
    });
    expect((await post(`/v1/payouts/${payout.id}/cancel`, company)).json()).toMatchObject({
      status: 'cancelled',
    });
    expect((await get(`/v1/contracts/${contract.id}`, company)).json()).toMatchObject({
      openAmount: '10000000',
    });
  });

  it('serves balances, reconciliation and the webhook delivery log', async () => {
    expect((await get('/v1/ledger/balances', company)).json()).toEqual({
      items: [],
      nextCursor: null,
    });
    const report = (await get('/v1/ledger/reconciliation', supervisor)).json<{
      totalDifferenceSats: string;
      trialBalanceSats: string;
    }>();
    expect(report).toMatchObject({
      totalDifferenceSats: '0',
      trialBalanceSats: '0',
      pageReconciled: true,
    });
    // What trade announced reaches the delivery queue through the outbox, as the server's
    // `events.relay` job hands it to the `trade.webhooks` subscriber.
    await t.services.events.run();
    const log = (await get('/v1/webhooks/deliveries', officerM)).json<{
      items: { event: string; status: string }[];
    }>();
    expect(log.items.map((d) => d.event).sort()).toEqual([
      'invoice.created',
      'invoice.created',
      'payout.approved',
      'payout.cancelled',
      'payout.created',
    ]);
    expect((await get('/v1/webhooks/deliveries', stranger)).json()).toEqual({
      items: [],
      nextCursor: null,
    });
    const settings = await put(`/v1/trade/settings/${platformId}`, officerM, {
      webhookUrl: 'https://hooks.example.test/tradeclear',
      webhookSecret: 'whsec_0123456789abcdef',
    });
    expect(settings.json()).toMatchObject({
      webhookUrl: 'https://hooks.example.test/tradeclear',
      webhookSecretSet: true,
    });
    // Stored sealed (AES-256-GCM, the simnet development key here), never as sent.
    const [row] = rowsOf(
      await t.db.orm.execute(
        sql`select webhook_secret from trade_settings where platform_id = ${platformId}`,
      ),
    );
    expect(String(row?.webhook_secret)).toMatch(/^v1:/);
    expect(String(row?.webhook_secret)).not.toContain('whsec_0123456789abcdef');
    expect(
      (await put(`/v1/trade/settings/${platformId}`, stranger, { confirmations: 0 })).statusCode,
    ).toBe(403);
    expect(
      (await put(`/v1/trade/settings/${platformId}`, officerM, { confirmations: 3 })).statusCode,
    ).toBe(400);
  });
});

describe('webhook secrets off simnet', () => {
  it('refuses to store a webhook secret when SECRETS_KEY is not configured', async () => {
    const t = await startTestApp({
      env: { CHAIN: 'bitcoind', NETWORK: 'signet', BITCOIND_URL: 'http://127.0.0.1:1' },
    });
    try {
      const supervisor = await t.keyFor('supervisor', 'scheme');
      const response = await t.app.inject({
        method: 'PUT',
        url: '/v1/trade/settings/plt_offsimnet',
        headers: { authorization: supervisor.authorization },
        payload: {
          webhookUrl: 'https://hooks.example.test/tradeclear',
          webhookSecret: 'whsec_0123456789abcdef',
        },
      });
      expect(response.statusCode).toBe(500);
      expect(response.json()).toMatchObject({
        code: 'CONFIG_INVALID',
        message: expect.stringMatching(/^SECRETS_KEY is not configured: set it/) as unknown,
      });
      const rows = rowsOf(
        await t.db.orm.execute(
          sql`select 1 from trade_settings where platform_id = 'plt_offsimnet'`,
        ),
      );
      expect(rows).toEqual([]);
    } finally {
      await t.close();
    }
  });
});

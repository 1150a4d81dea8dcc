import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../src/bitcoin';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp } from '../support/http';
import { testVasp } from '../support/vasp';

/**
 * No tipping-off (FATF Recommendation 21; issue 11, finding 5). A company runs a structuring
 * pattern (three payouts just under 10,000 USD within 72 hours: held for review) and trades with
 * a counterparty named on the UN list (refused). Every route the company reads (its payouts,
 * invoices, decisions, the errors it got, its live event stream, the buyer's public pay page)
 * says "held for compliance review" or "refused" with a reference, and never the rule, its
 * threshold, window or score, the list entry or the snapshot; the platform's officer, the
 * supervisor and the auditor read all of it.
 */

const vector = (file: string) =>
  new Uint8Array(readFileSync(new URL(`../vectors/${file}`, import.meta.url)));

// Regtest P2WPKH addresses (BIP173's test programs with the regtest prefix).
const SUPPLIER_ADDRESS = 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080';
const LISTED_ADDRESS = 'bcrt1qrp33g0q5c5txsp9arysrx4k6zdkfs4nce4xj0gdcccefvpysxf3qzf4jry';

// UN consolidated list 2026-02-27, entity KPe.016, as the list spells it (the counterparty is
// registered in mixed case, so the upper-case name can only come from the list entry).
const LIST_ENTRY_ID = 'KPe.016';
const LIST_ENTRY_NAME = 'KOREA RYONHA MACHINERY JOINT VENTURE CORPORATION';

const legal = (name: string, customerNumber?: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
    ...(customerNumber ? { customerNumber } : {}),
  },
});
const outbound = (beneficiary: string, vasp: string) => ({
  originator: { originatorPersons: [legal('Andes Coffee SA', 'CUST-0007')] },
  beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
  originatingVASP: { originatingVASP: legal('Bogota Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal(vasp) },
});
const inbound = (payer: string) => ({
  originator: { originatorPersons: [legal(payer, 'BUY-0001')] },
  beneficiary: { beneficiaryPersons: [legal('Andes Coffee SA')] },
  originatingVASP: { originatingVASP: legal('Pyongyang Trade Bank') },
  beneficiaryVASP: { beneficiaryVASP: legal('Bogota Custody SAS') },
});

type Headers = { authorization: string };

// What a role may do and see does not depend on the database: these run on the embedded one,
// and the driver is covered by the storage tests that run on both (TEST_DRIVERS).
describe.each(['pglite'] as const)('no tipping-off, on %s', (driver) => {
  let t: TestApp;
  let baseUrl = '';
  let supervisor: Headers;
  let auditor: Headers;
  let officer: Headers;
  let company: Headers;
  let miner: Headers;
  let platformId = '';
  let snapshotId = '';
  let structuredId = '';
  let sanctionedPayoutId = '';
  let sanctionedInvoiceId = '';
  /** Every body the company received, for the sweep at the end. */
  const companyBodies: { what: string; body: string }[] = [];
  const streams: { company: string; supervisor: string } = { company: '', supervisor: '' };
  const aborts: AbortController[] = [];

  const request = async (
    method: 'GET' | 'POST',
    url: string,
    headers?: Headers,
    payload?: object,
  ) => {
    const response = await t.app.inject({
      method,
      url,
      ...(headers ? { headers } : {}),
      ...(payload === undefined ? {} : { payload }),
    });
    if (headers === company || headers === undefined)
      companyBodies.push({ what: `${method} ${url}`, body: response.body });
    return response;
  };

  /** Reads a server-sent event stream into `sink` until aborted. */
  async function listen(headers: Headers, who: keyof typeof streams): Promise<void> {
    const abort = new AbortController();
    aborts.push(abort);
    const response = await fetch(`${baseUrl}/v1/events`, { headers, signal: abort.signal });
    expect(response.status).toBe(200);
    const body = response.body as unknown as AsyncIterable<Uint8Array>;
    const decoder = new TextDecoder();
    void (async () => {
      try {
        for await (const chunk of body) streams[who] += decoder.decode(chunk, { stream: true });
      } catch {
        // aborted at the end of the test
      }
    })();
  }

  beforeAll(async () => {
    t = await startTestApp({ driver });
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const registry = t.services.registry;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    const platform = await registry.registerParticipant(root, {
      kind: 'platform',
      legalName: 'Bogota Custody SAS',
      country: 'CO',
    });
    platformId = platform.id;
    await registry.grantLicence(root, {
      participantId: platformId,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2029-01-01T00:00:00Z',
    });
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
    const companyId = await party('company', 'Andes Coffee SA', 'CO');
    const supplierId = await party('counterparty', 'Osaka Machinery KK', 'JP');
    const listedId = await party('counterparty', 'Korea Ryonha Machinery Joint Venture Corp', 'CN');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: SUPPLIER_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    await registry.registerCounterpartyAddress(root, listedId, {
      address: LISTED_ADDRESS,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Dalian Exchange'),
    });
    supervisor = { authorization: (await t.keyFor('supervisor', 'scheme')).authorization };
    auditor = { authorization: (await t.keyFor('auditor', 'scheme')).authorization };
    officer = { authorization: (await t.keyFor('platform', platformId, platformId)).authorization };
    // Four eyes: another officer approves the contracts the first one registers.
    const checker = {
      authorization: (await t.keyFor('platform', platformId, platformId)).authorization,
    };
    company = { authorization: (await t.keyFor('company', companyId, platformId)).authorization };
    const minerId = (
      await registry.registerParticipant(root, {
        kind: 'miner',
        legalName: 'Cerro Hash SAS',
        country: 'CO',
      })
    ).id;
    miner = { authorization: (await t.keyFor('miner', minerId)).authorization };

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
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(5), 'regtest');
    const descriptor = `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
    expect(
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/wallets',
          headers: officer,
          payload: { companyId, descriptor },
        })
      ).statusCode,
    ).toBe(201);

    const contract = async (counterpartyId: string, direction: 'import' | 'export') => {
      const created = await t.app.inject({
        method: 'POST',
        url: '/v1/contracts',
        headers: officer,
        payload: {
          companyId,
          counterpartyId,
          direction,
          goodsDescription: direction === 'import' ? 'Roasting machines' : 'Green coffee',
          hsCode: direction === 'import' ? '841981' : '090111',
          incoterm: 'CIF',
          currency: 'USD',
          amount: '90000.00',
          pricingMode: 'fixedBtc',
          btcAmountSats: '150000000',
          schedule: [{ dueDate: '2026-12-15', amount: '150000000' }],
        },
      });
      expect(created.statusCode).toBe(201);
      const id = created.json<{ id: string }>().id;
      for (const action of ['submit', 'approve', 'activate']) {
        const moved = await t.app.inject({
          method: 'POST',
          url: `/v1/contracts/${id}/${action}`,
          headers: action === 'approve' ? checker : officer,
        });
        expect(moved.statusCode).toBe(200);
      }
      return id;
    };
    const supplierContract = await contract(supplierId, 'import');
    const listedImport = await contract(listedId, 'import');
    const listedExport = await contract(listedId, 'export');

    // The UN list arrives after the contracts (an onboarding screen would stop them earlier).
    const un = await t.services.compliance.screening.importList(systemCaller('test'), {
      format: 'un-xml',
      bytes: vector('sanctions/un-consolidated-2026-02-27.xml'),
    });
    snapshotId = un.snapshot.id;

    // Both streams listen before anything happens (they start from the newest audit event).
    await listen(company, 'company');
    await listen(supervisor, 'supervisor');
    await new Promise((resolve) => setTimeout(resolve, 400));

    // Structuring: three payouts just under 10,000 USD (9,500 USD at 60,000 USD/BTC) in a day.
    for (let i = 0; i < 3; i++) {
      const created = await request('POST', '/v1/payouts', company, {
        contractId: supplierContract,
        amount: '15833333',
        address: SUPPLIER_ADDRESS,
        travelRule: outbound('Osaka Machinery KK', 'Osaka Exchange KK'),
      });
      expect(created.statusCode).toBe(201);
      structuredId = created.json<{ id: string }>().id;
      t.clock.advance(3_600_000);
    }
    // A payout to, and an invoice from, the counterparty named on the UN list: refused.
    const payout = await request('POST', '/v1/payouts', company, {
      contractId: listedImport,
      amount: '1000000',
      address: LISTED_ADDRESS,
      travelRule: outbound('Korea Ryonha Machinery Joint Venture Corp', 'Dalian Exchange'),
    });
    expect(payout.statusCode).toBe(422);
    // The error says refused, with the decision to quote, and nothing of why.
    expect(payout.json()).toMatchObject({
      code: 'TRANSFER_BLOCKED',
      message: expect.stringMatching(/was refused \(reference dec_/) as unknown,
      details: { status: 'refused', reference: expect.stringMatching(/^dec_/) as unknown },
    });
    sanctionedPayoutId = payout.json<{ details: { payoutId: string } }>().details.payoutId;
    const invoice = await request('POST', '/v1/invoices', company, {
      contractId: listedExport,
      amount: '2000000',
      travelRule: inbound('Korea Ryonha Machinery Joint Venture Corp'),
    });
    expect(invoice.statusCode).toBe(422);
    expect(invoice.json()).toMatchObject({ code: 'TRANSFER_BLOCKED' });
    sanctionedInvoiceId = invoice.json<{ details: { invoiceId: string } }>().details.invoiceId;
    // The audit poll runs every second.
    await new Promise((resolve) => setTimeout(resolve, 1_800));
  });

  afterAll(async () => {
    for (const abort of aborts) abort.abort();
    await t?.close();
  });

  /** What a company must never read. */
  const LEAKS: [string, RegExp][] = [
    ['the rule id', /rule\.structuring|rule\.[a-z-]+@\d/],
    ['the rule name', /structuring/i],
    ['the threshold', /10\s?000\.00|10,000/],
    ['the window', /72 ?h/],
    ['a score', /score \d|"monitoringScore":\d|"score":/],
    ['a reason code', /SANCTIONS_|MONITORING_/],
    ['a check id', /gate\.[a-z-]+@\d|policyGate/],
    ['the list entry id', new RegExp(LIST_ENTRY_ID.replace('.', '\\.'))],
    ['the list entry name', new RegExp(LIST_ENTRY_NAME)],
    ['a list name', /\bun entry\b|ofac-sdn|eu-fsf/],
  ];
  const leaksIn = (body: string) => LEAKS.filter(([, re]) => re.test(body)).map(([w]) => w);

  it('tells the company only "held for compliance review" or "refused", with a reference', async () => {
    const list = await request('GET', '/v1/payouts', company);
    const payouts = list.json<{
      items: { id: string; status: string; gate: Record<string, unknown> }[];
    }>().items;
    const held = payouts.find((p) => p.id === structuredId);
    expect(held?.gate).toMatchObject({
      outcome: 'review',
      status: 'held for compliance review',
      reasons: [],
      decidedBy: 'compliance',
      disclosure: 'outcome',
      reference: expect.stringMatching(/^dec_/) as unknown,
    });
    const refused = payouts.find((p) => p.id === sanctionedPayoutId);
    expect(refused?.gate).toMatchObject({
      outcome: 'block',
      status: 'refused',
      reasons: [],
      reference: expect.stringMatching(/^dec_/) as unknown,
    });
    for (const id of [structuredId, sanctionedPayoutId])
      expect((await request('GET', `/v1/payouts/${id}`, company)).statusCode).toBe(200);

    const invoices = (await request('GET', '/v1/invoices', company)).json<{
      items: { id: string; gateDecisions: Record<string, unknown>[] }[];
    }>().items;
    expect(invoices.find((i) => i.id === sanctionedInvoiceId)?.gateDecisions).toEqual([
      expect.objectContaining({
        outcome: 'block',
        status: 'refused',
        reasons: [],
        reference: expect.stringMatching(/^dec_/) as unknown,
      }),
    ]);
    expect((await request('GET', `/v1/invoices/${sanctionedInvoiceId}`, company)).statusCode).toBe(
      200,
    );

    const decisions = (await request('GET', '/v1/decisions?limit=500', company)).json<{
      items: Record<string, unknown>[];
    }>().items;
    expect(decisions.length).toBeGreaterThanOrEqual(5);
    for (const d of decisions) {
      expect(d).toMatchObject({
        disclosure: 'outcome',
        reasons: [],
        ruleVersions: [],
        listSnapshotIds: [],
        monitoringScore: null,
      });
      expect((await request('GET', `/v1/decisions/${String(d.id)}`, company)).statusCode).toBe(200);
    }
    expect(decisions.map((d) => d.status)).toEqual(
      expect.arrayContaining(['held for compliance review', 'refused']) as unknown,
    );
  });

  it('shows the foreign buyer of a refused invoice only that it cannot be paid', async () => {
    const page = await request('GET', `/pay/${sanctionedInvoiceId}`);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('This invoice cannot be paid');
    expect(page.body).not.toContain('Open in wallet');
    const status = await request('GET', `/pay/${sanctionedInvoiceId}/status`);
    expect(status.json()).toMatchObject({ status: 'invalid', payable: false });
  });

  it('keeps alerts, cases and list screening from the company and the miner', async () => {
    for (const who of [company, miner]) {
      expect((await request('GET', '/v1/alerts', who)).statusCode).toBe(403);
      expect((await request('GET', '/v1/cases', who)).statusCode).toBe(403);
      const probe = await request('POST', '/v1/screenings', who, { name: LIST_ENTRY_NAME });
      expect(probe.statusCode).toBe(403);
    }
  });

  it('sends the company no compliance detail, anywhere it reads', () => {
    expect(companyBodies.length).toBeGreaterThan(10);
    for (const { what, body } of companyBodies) {
      expect({ what, leaks: leaksIn(body) }).toEqual({ what, leaks: [] });
      expect(body).not.toContain(snapshotId);
    }
    // Its live stream tells it of its payouts and invoices, not of alerts or cases on it.
    expect(streams.company).toContain('payout.created');
    expect(streams.company).not.toMatch(/alert\.raised|case\.opened/);
    expect(leaksIn(streams.company)).toEqual([]);
    expect(streams.supervisor).toMatch(/alert\.raised/);
  });

  it('shows the platform officer, the supervisor and the auditor every reason', async () => {
    for (const who of [officer, supervisor, auditor]) {
      const decisions = await t.app.inject({
        method: 'GET',
        url: '/v1/decisions?limit=500',
        headers: who,
      });
      const body = decisions.body;
      expect(body).toContain('rule.structuring@1');
      expect(body).toMatch(/under 10000\.00 USD in 72 h \(structuring\) \(score 60\)/);
      expect(body).toContain(LIST_ENTRY_ID);
      expect(body).toContain(LIST_ENTRY_NAME);
      expect(body).toContain(snapshotId);
      expect(body).toContain('"disclosure":"detail"');
      const payout = await t.app.inject({
        method: 'GET',
        url: `/v1/payouts/${structuredId}`,
        headers: who,
      });
      expect(payout.json()).toMatchObject({
        gate: { disclosure: 'detail', status: 'held for compliance review' },
      });
      expect(payout.body).toContain('(structuring) (score 60)');
    }
    // The officer who makes the same refused request reads why.
    const invoices = await t.app.inject({ method: 'GET', url: '/v1/invoices', headers: officer });
    expect(invoices.body).toContain('SANCTIONS_NAME_MATCH');
  });
});

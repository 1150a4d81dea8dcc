import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { p2wpkh } from '@scure/btc-signer';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { latestAuditSeq } from '../../src/audit';
import { systemCaller, type Ivms101Payload } from '../../src/kernel';
import type { TransferFacts } from '../../src/compliance';
import { startTestApp, type TestApp } from '../support/http';
import { testVasp } from '../support/vasp';

/**
 * Compliance over HTTP, on the whole app: screening against the real UN list (a name in another
 * script found with its entry, snapshot and alias), list snapshots, re-screening of what the
 * registry holds when a list arrives (alerts with a severity), decisions and their review (a
 * block is never released), cases up to the goAML STR, the Travel Rule inbox, roles and tenancy,
 * and bad input refused whole.
 */
const vector = (file: string) =>
  new Uint8Array(readFileSync(new URL(`../vectors/${file}`, import.meta.url)));
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const account = HDKey.fromMasterSeed(new Uint8Array(32).fill(9), {
  private: 0x04358394,
  public: 0x043587cf,
}).derive("m/84'/1'/0'");
const regtestAddress = (i: number) =>
  p2wpkh(account.deriveChild(0).deriveChild(i).publicKey!, REGTEST).address ?? '';

// UN consolidated list 2026-02-27, entity KPe.016: KOREA RYONHA MACHINERY JOINT VENTURE
// CORPORATION, listed with the Chinese-script alias 朝鲜联合机械贸易会社.
const LISTED_ENTITY = 'Korea Ryonha Machinery Joint Venture Corporation';
const LISTED_ALIAS = '朝鲜联合机械贸易会社';

let t: TestApp;
type Auth = { authorization: string };
let supervisor: Auth;
let auditor: Auth;
let asA: Auth;
let asB: Auth;
let asCompany: Auth;
let platformA = '';
let platformB = '';
let companyId = '';
let listedCounterparty = '';
let cleanCounterparty = '';
/** Holds the address a later list names: its hit holds its own transfers, not the clean party's. */
let addressHolder = '';
const sanctionedAddress = regtestAddress(1);

async function call(method: 'GET' | 'POST' | 'PATCH', url: string, auth: Auth, payload?: unknown) {
  const response = await t.app.inject({
    method,
    url,
    headers: { authorization: auth.authorization },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  const type = String(response.headers['content-type'] ?? '');
  return {
    status: response.statusCode,
    body: type.includes('json') ? response.json<Record<string, unknown>>() : {},
    text: response.body,
  };
}

const legal = (name: string) => ({
  legalPerson: {
    name: {
      nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' as const }],
    },
  },
});
const travelRule = (originator: string, beneficiary: string): Ivms101Payload => ({
  originator: {
    originatorPersons: [
      {
        legalPerson: {
          ...legal(originator).legalPerson,
          customerNumber: 'C-1001',
        },
      },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
  originatingVASP: { originatingVASP: legal('Alpha Custody GmbH') },
  beneficiaryVASP: { beneficiaryVASP: legal('Beta Exchange SA') },
});

let sequence = 0;
function facts(overrides: Partial<TransferFacts> = {}): TransferFacts {
  sequence++;
  return {
    transferId: `pay_http${String(sequence).padStart(4, '0')}`,
    direction: 'outbound',
    occurredAt: t.clock.now(),
    amountSats: 800_000n,
    // Below the 1,000 USD Travel Rule threshold and every amount rule.
    fiatValue: { minor: 51_234n, currency: 'USD', rate: '63415.60' },
    platform: { id: platformA, licenceStatus: 'active' },
    company: {
      id: companyId,
      legalName: 'Nordwind Export Ltd',
      country: 'XA',
      kycStatus: 'verified',
    },
    counterparty: {
      id: cleanCounterparty,
      legalName: 'Harbour Line Trading GmbH',
      otherNames: [],
      country: 'DE',
      kind: 'organization',
      kycStatus: 'verified',
      countryRiskLevel: 'low',
    },
    counterpartyAddress: { address: regtestAddress(50), asset: 'XBT', ownership: 'hosted' },
    schemeCountry: 'XA',
    refusedJurisdictions: ['KP', 'IR'],
    contract: { id: 'ctr_1', openAmountSats: 1_000_000_000n, toleranceSats: 0n },
    travelRule: null,
    ...overrides,
  };
}
const decide = (f: TransferFacts) =>
  t.db.transaction(() => t.services.compliance.gate.decide(systemCaller('test'), f));

beforeAll(async () => {
  t = await startTestApp({ env: { GOAML_RENTITY_ID: '31337' } });
  supervisor = await t.keyFor('supervisor', 'scheme');
  auditor = await t.keyFor('auditor', 'scheme');
  const registry = t.services.registry;
  const sup = systemCaller('test');
  platformA = (
    await registry.registerParticipant(sup, {
      kind: 'platform',
      legalName: 'Alpha Custody GmbH',
      country: 'DE',
    })
  ).id;
  platformB = (
    await registry.registerParticipant(sup, {
      kind: 'platform',
      legalName: 'Beta Exchange SA',
      country: 'FR',
    })
  ).id;
  for (const participantId of [platformA, platformB]) {
    await registry.grantLicence(sup, {
      participantId,
      kind: 'vasp',
      scope: 'custody and exchange',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2028-01-01T00:00:00Z',
    });
  }
  asA = await t.keyFor('platform', platformA, platformA);
  asB = await t.keyFor('platform', platformB, platformB);
  const platformCaller = {
    ...sup,
    role: 'platform' as const,
    participantId: platformA,
    platformId: platformA,
  };
  companyId = (
    await registry.registerParticipant(platformCaller, {
      kind: 'company',
      legalName: 'Nordwind Export Ltd',
      country: 'PK',
      registrationNumber: 'PK-0001',
    })
  ).id;
  asCompany = await t.keyFor('company', companyId, platformA);
  // Registered before any list is loaded: only re-screening can find it.
  listedCounterparty = (
    await registry.registerParticipant(platformCaller, {
      kind: 'counterparty',
      legalName: LISTED_ENTITY,
      country: 'CN',
    })
  ).id;
  cleanCounterparty = (
    await registry.registerParticipant(platformCaller, {
      kind: 'counterparty',
      legalName: 'Harbour Line Trading GmbH',
      country: 'DE',
    })
  ).id;
  addressHolder = (
    await registry.registerParticipant(platformCaller, {
      kind: 'counterparty',
      legalName: 'Harbour Line Logistics GmbH',
      country: 'DE',
    })
  ).id;
  await registry.registerCounterpartyAddress(platformCaller, addressHolder, {
    ownership: 'hosted',
    address: sanctionedAddress,
    vaspId: await testVasp(registry, 'Harbour Digital Exchange Ltd'),
  });
}, 120_000);

afterAll(async () => {
  await t?.close();
});

describe('compliance API', () => {
  let unSnapshot = '';

  it('re-screens every registered party and counterparty address when a list is imported', async () => {
    expect((await call('GET', '/v1/alerts', supervisor)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    const un = await t.services.compliance.screening.importList(systemCaller('test'), {
      format: 'un-xml',
      bytes: vector('sanctions/un-consolidated-2026-02-27.xml'),
    });
    unSnapshot = un.snapshot.id;
    // Every party re-screened (the two platforms, the company, three counterparties and the VASP
    // holding the hosted address), one listed.
    expect(un.rescreen).toMatchObject({ parties: 7, addresses: 1, newHits: 1 });
    const byName = await call('GET', `/v1/alerts?partyId=${listedCounterparty}`, supervisor);
    expect(byName.status).toBe(200);
    expect(byName.body.items).toEqual([
      expect.objectContaining({
        partyId: listedCounterparty,
        kind: 'screening',
        rule: 'screening.listed@1',
        severity: 'critical',
        caseState: 'open',
      }),
    ]);
    expect(JSON.stringify(byName.body.items)).toContain('entry KPe.016');

    // A list naming the clean counterparty's registered address (regtest: the scheme's network).
    const addresses = await t.services.compliance.screening.importList(systemCaller('test'), {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${sanctionedAddress}\n`),
    });
    expect(addresses.rescreen).toMatchObject({ addresses: 1, newHits: 1 });
    const byAddress = await call('GET', `/v1/alerts?partyId=${addressHolder}`, supervisor);
    expect(byAddress.body.items).toEqual([
      expect.objectContaining({ kind: 'screening', severity: 'critical' }),
    ]);
    expect(JSON.stringify(byAddress.body.items)).toContain(sanctionedAddress);
  });

  it('lists the loaded snapshots to every role', async () => {
    for (const auth of [supervisor, asA, asCompany]) {
      const lists = await call('GET', '/v1/lists', auth);
      expect(lists.status).toBe(200);
      const snapshots = lists.body.items as Array<Record<string, unknown>>;
      expect(snapshots.map((s) => s.listKey).sort()).toEqual(['address-list:XBT', 'un']);
      expect(snapshots.find((s) => s.listKey === 'un')).toMatchObject({
        id: unSnapshot,
        publicationDate: '2026-02-27',
        active: true,
      });
    }
  });

  it('screens a listed name written in another script, an unlisted name and an address', async () => {
    const listed = await call('POST', '/v1/screenings', asA, {
      name: LISTED_ALIAS,
      type: 'organization',
    });
    expect(listed.status).toBe(200);
    expect(listed.body.outcome).toBe('match');
    expect((listed.body.matches as unknown[])[0]).toMatchObject({
      outcome: 'match',
      source: 'un',
      listEntryId: 'KPe.016',
      listSnapshotId: unSnapshot,
      matchedAlias: LISTED_ALIAS,
      // The entry as the snapshot holds it: the UN's DPRK regime, the alias among its names.
      entry: { programs: ['DPRK'], entryKind: 'organization' },
    });
    expect(
      (listed.body.matches as Array<{ entry: { aliases: string[] } }>)[0]?.entry.aliases ?? [],
    ).toContain(LISTED_ALIAS);
    const clear = await call('POST', '/v1/screenings', asA, {
      name: 'Harbour Line Trading GmbH',
      type: 'organization',
    });
    expect(clear.body.outcome).toBe('clear');
    const address = await call('POST', '/v1/screenings', asA, { address: sanctionedAddress });
    expect(address.body).toMatchObject({
      outcome: 'match',
      matches: [{ listEntryId: `XBT:${sanctionedAddress}`, source: 'address-list' }],
    });
  });

  it('refuses bad screening input with the field, and writes nothing', async () => {
    const auditBefore = await latestAuditSeq(t.db.orm);
    const cases: Array<[unknown, string]> = [
      [{}, 'body'],
      [{ name: '   ' }, 'body'],
      [{ name: 'x', limit: 0 }, 'body'],
      [{ address: 'short' }, 'body'],
      [{ name: 'Ok Name', address: sanctionedAddress }, 'body'],
    ];
    for (const [payload, field] of cases) {
      const response = await call('POST', '/v1/screenings', asA, payload);
      expect(response.status).toBe(400);
      expect(response.body.code).toBe('VALIDATION_FAILED');
      expect(JSON.stringify(response.body.issues)).toContain(field);
    }
    const clearance = await call('POST', '/v1/screenings/clearances', supervisor, {
      partyId: listedCounterparty,
      source: 'un',
      listEntryId: 'KPe.016',
      reason: 'short',
    });
    expect(clearance).toMatchObject({
      status: 400,
      body: { code: 'VALIDATION_FAILED', issues: [{ field: 'body.reason' }] },
    });
    expect(await latestAuditSeq(t.db.orm)).toBe(auditBefore);
  });

  let reviewId = '';
  let blockId = '';
  let reviewTransfer = '';

  it('resolves a review once, by a supervisor with a reason; a block cannot be released', async () => {
    // Inbound, over the contract's open amount (review), from a high-risk country: monitoring
    // scores contract-mismatch 60 + high-risk-jurisdiction 30 = 90 → review.
    const review = await decide(
      facts({
        direction: 'inbound',
        amountSats: 2_000_000n,
        contract: { id: 'ctr_2', openAmountSats: 1_000_000n, toleranceSats: 0n },
        counterparty: { ...facts().counterparty, countryRiskLevel: 'high' },
      }),
    );
    expect(review.outcome).toBe('review');
    reviewId = review.decisionId;
    reviewTransfer = review.transferId;
    const block = await decide(
      facts({
        counterpartyAddress: { address: sanctionedAddress, asset: 'XBT', ownership: 'hosted' },
      }),
    );
    expect(block.outcome).toBe('block');
    blockId = block.decisionId;

    // Blocked and held, without the allowed ones.
    const attention = await call('GET', '/v1/decisions?attention=true', supervisor);
    expect((attention.body.items as Array<{ id: string }>).map((d) => d.id).sort()).toEqual(
      [reviewId, blockId].sort(),
    );
    const pending = await call('GET', '/v1/decisions?pendingReview=true', supervisor);
    expect((pending.body.items as Array<{ id: string }>).map((d) => d.id)).toEqual([reviewId]);

    const releaseBlock = await call('POST', `/v1/decisions/${blockId}/review`, supervisor, {
      outcome: 'allow',
      note: 'the officer would like to release it',
    });
    expect(releaseBlock).toMatchObject({
      status: 409,
      body: { code: 'INVALID_STATE_TRANSITION' },
    });
    expect((await call('GET', `/v1/decisions/${blockId}`, supervisor)).body).toMatchObject({
      outcome: 'block',
      finalOutcome: 'block',
      reviewedBy: null,
    });

    const noReason = await call('POST', `/v1/decisions/${reviewId}/review`, supervisor, {
      outcome: 'allow',
      note: 'ok',
    });
    expect(noReason).toMatchObject({
      status: 400,
      body: { issues: [{ field: 'body.note' }] },
    });
    const byPlatform = await call('POST', `/v1/decisions/${reviewId}/review`, asA, {
      outcome: 'allow',
      note: 'the platform would like to allow it',
    });
    expect(byPlatform.status).toBe(403);
    expect((await call('GET', `/v1/decisions/${reviewId}`, supervisor)).body).toMatchObject({
      finalOutcome: null,
    });

    const resolved = await call('POST', `/v1/decisions/${reviewId}/review`, supervisor, {
      outcome: 'allow',
      note: 'invoice and bill of lading checked against the contract',
    });
    expect(resolved).toMatchObject({
      status: 200,
      body: { outcome: 'review', finalOutcome: 'allow', reviewedBy: expect.any(String) as unknown },
    });
    const again = await call('POST', `/v1/decisions/${reviewId}/review`, supervisor, {
      outcome: 'block',
      note: 'changed my mind about this one',
    });
    expect(again.body).toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
  });

  it('scopes decisions: the carrying platform sees them, another platform gets 404', async () => {
    expect((await call('GET', `/v1/decisions/${reviewId}`, asA)).status).toBe(200);
    expect((await call('GET', `/v1/decisions/${reviewId}`, asB)).status).toBe(404);
    expect((await call('GET', '/v1/decisions', asB)).body).toEqual({ items: [], nextCursor: null });
    expect((await call('GET', `/v1/decisions/${reviewId}`, asCompany)).status).toBe(200);
  });

  it('lists alerts by severity, rule, party and case state, for the supervisor and auditor only', async () => {
    const mismatch = await call('GET', '/v1/alerts?rule=rule.contract-mismatch@1', auditor);
    expect(mismatch.body.items).toEqual([
      expect.objectContaining({
        partyId: companyId,
        kind: 'monitoring',
        score: 60,
        severity: 'high',
        transferId: reviewTransfer,
        decisionId: reviewId,
      }),
    ]);
    const medium = await call('GET', `/v1/alerts?severity=medium&partyId=${companyId}`, supervisor);
    expect((medium.body.items as Array<{ rule: string }>).map((a) => a.rule)).toEqual([
      'rule.high-risk-jurisdiction@1',
    ]);
    const critical = await call('GET', '/v1/alerts?severity=critical', supervisor);
    expect(
      (critical.body.items as Array<{ partyId: string }>).map((a) => a.partyId).sort(),
    ).toEqual([listedCounterparty, addressHolder].sort());
    expect((await call('GET', '/v1/alerts?state=closed', supervisor)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    for (const auth of [asA, asCompany]) {
      expect((await call('GET', '/v1/alerts', auth)).status).toBe(403);
    }
    const bad = await call('GET', '/v1/alerts?severity=urgent', supervisor);
    expect(bad).toMatchObject({
      status: 400,
      body: { issues: [{ field: 'querystring.severity' }] },
    });
  });

  it('works a case: assign, note, investigate, close as reported, export the goAML STR', async () => {
    const listed = await call('GET', `/v1/cases?partyId=${companyId}`, supervisor);
    const cases = listed.body.items as Array<{ id: string; state: string }>;
    expect(cases).toHaveLength(1);
    const caseId = cases[0]?.id ?? '';
    expect(cases[0]?.state).toBe('open');
    // Triaged by its worst alert, how many, and the value of the transfers they name (the
    // review transfer: 512.34 USD).
    expect(cases[0]).toMatchObject({
      severity: 'high',
      alertCount: 2,
      exposure: [{ minor: '51234', currency: 'USD' }],
    });

    // The report is read before filing: the alerted transfer, the configured entity id.
    const preview = await call('GET', `/v1/cases/${caseId}/goaml/preview`, supervisor);
    expect(preview).toMatchObject({
      status: 200,
      body: {
        problems: [],
        reportingEntityId: '31337',
        transactions: [{ transferId: reviewTransfer, amount: { minor: '51234', currency: 'USD' } }],
      },
    });
    expect(String(preview.body.xml)).toContain('<rentity_id>31337</rentity_id>');
    // The company's registration number from the registry; no internal id in its place.
    expect(String(preview.body.xml)).toContain(
      '<incorporation_number>PK-0001</incorporation_number>',
    );
    expect(String(preview.body.xml)).not.toContain('<incorporation_number>par_');
    expect(XMLValidator.validate(String(preview.body.xml))).toBe(true);

    // Assignees are the supervisor's staff, picked by id.
    const staff = await call('GET', '/v1/cases/assignees', auditor);
    const people = staff.body.items as Array<{ id: string; displayName: string }>;
    expect(people.length).toBeGreaterThan(0);
    for (const auth of [asA, asCompany]) {
      expect((await call('GET', '/v1/cases/assignees', auth)).status).toBe(403);
      expect((await call('GET', `/v1/cases/${caseId}/goaml/preview`, auth)).status).toBe(403);
    }

    // Platforms and companies never learn of a case (FATF R.21, tipping-off).
    for (const auth of [asA, asCompany]) {
      expect((await call('GET', '/v1/cases', auth)).status).toBe(403);
      expect((await call('GET', `/v1/cases/${caseId}`, auth)).status).toBe(403);
      expect((await call('GET', `/v1/cases/${caseId}/goaml`, auth)).status).toBe(403);
    }
    expect(
      (await call('PATCH', `/v1/cases/${caseId}`, auditor, { note: 'auditors read only' })).status,
    ).toBe(403);

    const before = (await call('GET', `/v1/cases/${caseId}`, supervisor)).body;
    const badOutcome = await call('PATCH', `/v1/cases/${caseId}`, supervisor, {
      outcome: 'reported',
      note: 'must not be kept',
    });
    expect(badOutcome).toMatchObject({ status: 400, body: { issues: [{ field: 'outcome' }] } });
    const skip = await call('PATCH', `/v1/cases/${caseId}`, supervisor, {
      state: 'closed',
      outcome: 'reported',
    });
    expect(skip.body).toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
    const unknownField = await call('PATCH', `/v1/cases/${caseId}`, supervisor, { colour: 'red' });
    expect(unknownField.status).toBe(400);
    // Assigned to a person by id, not to a role or login name typed by hand.
    for (const assignee of ['supervisor', 'Sofia Supervisor', 'usr_nobody']) {
      const byHand = await call('PATCH', `/v1/cases/${caseId}`, supervisor, {
        assignee,
        note: 'must not be kept',
      });
      expect(byHand, assignee).toMatchObject({
        status: 400,
        body: { code: 'VALIDATION_FAILED', issues: [{ field: 'assignee' }] },
      });
    }
    expect((await call('GET', `/v1/cases/${caseId}`, supervisor)).body).toEqual(before);
    expect((await call('GET', `/v1/cases/${caseId}/goaml`, supervisor)).body).toMatchObject({
      code: 'CONFLICT',
    });

    const assigned = await call('PATCH', `/v1/cases/${caseId}`, supervisor, {
      assignee: people[0]?.id,
      note: 'contract overrun from a high-risk country',
    });
    expect(assigned.body).toMatchObject({
      assignee: people[0]?.id,
      notes: [{ text: 'contract overrun from a high-risk country' }],
    });
    expect(
      (await call('PATCH', `/v1/cases/${caseId}`, supervisor, { state: 'investigating' })).body,
    ).toMatchObject({ state: 'investigating' });
    const closed = await call('PATCH', `/v1/cases/${caseId}`, supervisor, {
      state: 'closed',
      outcome: 'reported',
      note: 'reported to the FIU',
    });
    expect(closed.body).toMatchObject({ state: 'closed', outcome: 'reported' });
    const closedAlerts = await call('GET', `/v1/alerts?state=closed&partyId=${companyId}`, auditor);
    expect((closedAlerts.body.items as unknown[]).length).toBe(2);

    const goaml = await call('GET', `/v1/cases/${caseId}/goaml`, auditor);
    expect(goaml.status).toBe(200);
    const parsed = new XMLParser({
      isArray: (name) => name === 'transaction' || name === 'indicator',
    }).parse(goaml.text) as {
      report: {
        report_code: string;
        entity_reference: string;
        transaction: Array<{ transactionnumber: string }>;
        report_indicators: { indicator: string[] };
      };
    };
    expect(parsed.report.report_code).toBe('STR');
    expect(parsed.report.entity_reference).toBe(caseId);
    expect(parsed.report.transaction.map((x) => x.transactionnumber)).toEqual([reviewTransfer]);
    expect(parsed.report.report_indicators.indicator.sort()).toEqual([
      'rule.contract-mismatch@1',
      'rule.high-risk-jurisdiction@1',
    ]);
  });

  it("delivers Travel Rule data to the beneficiary platform's inbox only", async () => {
    const sent = await decide(
      facts({
        counterpartyAddress: {
          address: regtestAddress(60),
          asset: 'XBT',
          ownership: 'hosted',
          schemePlatformId: platformB,
        },
        travelRule: travelRule('Nordwind Export Ltd', 'Harbour Line Trading GmbH'),
      }),
    );
    expect(sent.outcome).toBe('allow');
    const inboxB = await call('GET', '/v1/travel-rule/inbox', asB);
    expect(inboxB.status).toBe(200);
    expect(inboxB.body.items).toEqual([
      expect.objectContaining({
        transferId: sent.transferId,
        decisionId: sent.decisionId,
        fromPlatformId: platformA,
        toPlatformId: platformB,
        payload: expect.objectContaining({
          beneficiaryVASP: expect.any(Object) as unknown,
        }) as unknown,
      }),
    ]);
    expect((await call('GET', '/v1/travel-rule/inbox', asA)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(
      ((await call('GET', '/v1/travel-rule/inbox', supervisor)).body.items as unknown[]).length,
    ).toBe(1);
    expect((await call('GET', '/v1/travel-rule/inbox', asCompany)).status).toBe(403);
  });

  it("tells the forms the gate's Travel Rule threshold (FATF R.16), whoever makes transfers", async () => {
    for (const auth of [asCompany, asA, supervisor, auditor]) {
      expect(await call('GET', '/v1/travel-rule/threshold', auth)).toMatchObject({
        status: 200,
        body: { minor: '100000', currency: 'USD', formatted: 'USD 1,000.00' },
      });
    }
    const anonymous = await t.app.inject({ method: 'GET', url: '/v1/travel-rule/threshold' });
    expect(anonymous.statusCode).toBe(401);
  });
});

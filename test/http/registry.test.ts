import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HDKey } from '@scure/bip32';
import { p2wpkh } from '@scure/btc-signer';
import { startTestApp, type TestApp } from '../support/http';
import { testVasp } from '../support/vasp';

/**
 * Registry over HTTP: roles, tenancy (404 for another platform's clients), licences gating what a
 * platform does, KYB, jurisdictions, wallets and counterparty addresses, and bad input refused
 * whole with precise codes.
 */
let t: TestApp;
let supervisor: { authorization: string };
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
// BIP32 testnet versions (tpub/tprv), used by testnet, signet and regtest.
const TESTNET_VERSIONS = { private: 0x04358394, public: 0x043587cf };
const account = HDKey.fromMasterSeed(new Uint8Array(32).fill(7), TESTNET_VERSIONS).derive(
  "m/84'/1'/0'",
);
const mainnetAccount = HDKey.fromMasterSeed(new Uint8Array(32).fill(7)).derive("m/84'/0'/0'");

async function call(
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  auth: { authorization: string },
  payload?: unknown,
) {
  const response = await t.app.inject({
    method,
    url,
    headers: { authorization: auth.authorization },
    ...(payload === undefined ? {} : { payload: payload as object }),
  });
  return { status: response.statusCode, body: response.json<Record<string, unknown>>() };
}

beforeAll(async () => {
  t = await startTestApp();
  supervisor = await t.keyFor('supervisor', 'scheme');
}, 60_000);

afterAll(async () => {
  await t?.close();
});

describe('registry API', () => {
  let platformA = '';
  let platformB = '';
  let asA: { authorization: string };
  let asB: { authorization: string };
  let companyA = '';
  let licenceA = '';

  it('registers platforms with a checked LEI and country, refusing bad ones whole', async () => {
    const before = await call('GET', '/v1/participants', supervisor);
    const badLei = await call('POST', '/v1/participants', supervisor, {
      kind: 'platform',
      legalName: 'Bad LEI AG',
      country: 'DE',
      lei: '5493001KJTIIGC8Y1R13',
    });
    expect(badLei).toMatchObject({ status: 400, body: { code: 'INVALID_LEI' } });
    const badCountry = await call('POST', '/v1/participants', supervisor, {
      kind: 'platform',
      legalName: 'Nowhere',
      country: 'XK',
    });
    expect(badCountry).toMatchObject({ status: 400, body: { code: 'INVALID_COUNTRY' } });
    const badAddress = await call('POST', '/v1/participants', supervisor, {
      kind: 'platform',
      legalName: 'Half',
      country: 'DE',
      addresses: [{ lines: ['1 Main St'], city: 'X', country: 'ZZ' }],
    });
    expect(badAddress.body).toMatchObject({
      code: 'INVALID_COUNTRY',
      issues: [{ field: 'addresses.0.country' }],
    });
    expect((await call('GET', '/v1/participants', supervisor)).body).toEqual(before.body);

    const a = await call('POST', '/v1/participants', supervisor, {
      kind: 'platform',
      legalName: 'Alpha Custody GmbH',
      otherNames: ['Альфа Кастоди', 'アルファ'],
      country: 'DE',
      lei: '7LTWFZYICNSX8D621K86',
    });
    expect(a.status).toBe(201);
    expect(a.body).toMatchObject({
      kind: 'platform',
      otherNames: ['Альфа Кастоди', 'アルファ'],
      lei: '7LTWFZYICNSX8D621K86',
      platformId: null,
    });
    platformA = String(a.body.id);
    platformB = String(
      (
        await call('POST', '/v1/participants', supervisor, {
          kind: 'platform',
          legalName: 'Beta Exchange',
          country: 'FR',
        })
      ).body.id,
    );
    asA = await t.keyFor('platform', platformA, platformA);
    asB = await t.keyFor('platform', platformB, platformB);
    // Only the supervisor registers platforms and miners.
    expect(
      (
        await call('POST', '/v1/participants', asA, {
          kind: 'miner',
          legalName: 'M',
          country: 'DE',
        })
      ).body,
    ).toMatchObject({ code: 'FORBIDDEN' });
  });

  it('refuses what a platform does without an active licence, and keeps licence history', async () => {
    const company = {
      kind: 'company',
      legalName: 'Exporter One Ltd',
      country: 'PK',
      registrationNumber: 'PK-0001',
    };
    expect(await call('POST', '/v1/participants', asA, company)).toMatchObject({
      status: 403,
      body: { code: 'LICENCE_NOT_ACTIVE' },
    });
    const granted = await call('POST', '/v1/licences', supervisor, {
      participantId: platformA,
      kind: 'vasp',
      scope: 'custody and exchange',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2028-01-01T00:00:00Z',
    });
    expect(granted).toMatchObject({ status: 201, body: { status: 'active' } });
    licenceA = String(granted.body.id);
    await call('POST', '/v1/licences', supervisor, {
      participantId: platformB,
      kind: 'vasp',
      scope: 'exchange',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const created = await call('POST', '/v1/participants', asA, company);
    expect(created).toMatchObject({
      status: 201,
      body: { kind: 'company', platformId: platformA },
    });
    companyA = String(created.body.id);

    const suspended = await call('POST', `/v1/licences/${licenceA}/status`, supervisor, {
      status: 'suspended',
      reason: 'late audit report',
    });
    expect(suspended.body).toMatchObject({
      status: 'suspended',
      statusReason: 'late audit report',
    });
    const refused = await call('POST', '/v1/participants', asA, {
      ...company,
      legalName: 'Exporter Two',
    });
    expect(refused.body).toMatchObject({ code: 'LICENCE_NOT_ACTIVE' });
    expect(
      (await call('POST', `/v1/licences/${licenceA}/status`, supervisor, { status: 'suspended' }))
        .status,
    ).toBe(400);
    const reinstated = await call('POST', `/v1/licences/${licenceA}/status`, supervisor, {
      status: 'active',
      reason: 'report filed',
    });
    expect((reinstated.body.history as { toStatus: string }[]).map((h) => h.toStatus)).toEqual([
      'active',
      'suspended',
      'active',
    ]);
  });

  it('keeps a platform out of another platform’s clients (404) and a company to itself', async () => {
    expect((await call('GET', `/v1/participants/${companyA}`, asB)).status).toBe(404);
    const listB = await call('GET', '/v1/participants?kind=company', asB);
    expect(listB.body).toEqual({ items: [], nextCursor: null });
    const asCompany = await t.keyFor('company', companyA, platformA);
    expect((await call('GET', '/v1/participants', asCompany)).body.items).toHaveLength(1);
    expect((await call('GET', `/v1/participants/${platformB}`, asCompany)).status).toBe(404);
  });

  it('records KYB with beneficial owners of at least 25 %', async () => {
    const kyb = {
      status: 'verified',
      riskRating: 'medium',
      reviewDue: '2027-07-01',
      beneficialOwners: [
        { name: 'Ayesha Khan', country: 'PK', share: '60' },
        { name: 'Omar Farooq', country: 'AE', share: '20' },
      ],
      documents: [{ type: 'certificate_of_incorporation', number: 'PK-0001', issuer: 'SECP' }],
    };
    const low = await call('PUT', `/v1/participants/${companyA}/kyc`, asA, kyb);
    expect(low.body).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'beneficialOwners.1.share' }],
    });
    expect((await call('GET', `/v1/participants/${companyA}/kyc`, asA)).status).toBe(404);
    const valid = {
      ...kyb,
      beneficialOwners: [
        kyb.beneficialOwners[0],
        { name: 'Omar Farooq', country: 'AE', share: '25.5' },
      ],
    };
    const ok = await call('PUT', `/v1/participants/${companyA}/kyc`, asA, valid);
    expect(ok).toMatchObject({
      status: 200,
      body: { status: 'verified', beneficialOwners: [{ share: '60' }, { share: '25.5' }] },
    });
    expect((await call('PUT', `/v1/participants/${companyA}/kyc`, asB, valid)).status).toBe(404);
    const facts = await t.services.registry.partyFacts(companyA);
    expect(facts).toMatchObject({
      kind: 'company',
      kycStatus: 'verified',
      riskRating: 'medium',
      platformId: platformA,
      licenceStatus: null,
    });
  });

  it('maintains jurisdictions and regions', async () => {
    expect(
      (
        await call('PUT', '/v1/jurisdictions/scheme', supervisor, {
          country: 'PK',
          name: 'Demo scheme',
        })
      ).status,
    ).toBe(200);
    expect(
      (await call('PUT', '/v1/jurisdictions/KP', supervisor, { riskLevel: 'high', refused: true }))
        .body,
    ).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(
      (
        await call('PUT', '/v1/jurisdictions/KP', supervisor, {
          riskLevel: 'high',
          refused: true,
          reason: 'UN comprehensive sanctions',
        })
      ).status,
    ).toBe(200);
    expect(
      (await call('PUT', '/v1/jurisdictions/XX', supervisor, { riskLevel: 'low', refused: false }))
        .body,
    ).toMatchObject({ code: 'INVALID_COUNTRY' });
    expect(
      (
        await call('POST', '/v1/regions', supervisor, {
          code: 'north',
          name: 'North',
          timeZone: 'Mars/Olympus',
        })
      ).body,
    ).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(
      (
        await call('POST', '/v1/regions', supervisor, {
          code: 'north',
          name: 'North',
          timeZone: 'Asia/Karachi',
        })
      ).status,
    ).toBe(201);
    const list = await call('GET', '/v1/jurisdictions', asA);
    expect(list.body).toMatchObject({
      items: [{ country: 'KP', refused: true }],
      nextCursor: null,
    });
    expect((await call('GET', '/v1/jurisdictions?refused=false', asA)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect((await call('GET', '/v1/jurisdictions/scheme', asA)).body).toMatchObject({
      scheme: { country: 'PK' },
    });
    expect((await call('GET', '/v1/regions', asA)).body).toMatchObject({
      items: [{ code: 'north', timeZone: 'Asia/Karachi' }],
      nextCursor: null,
    });
    expect(await t.services.registry.isJurisdictionRefused('KP')).toBe(true);
    expect(await t.services.registry.isJurisdictionRefused('FR')).toBe(false);
  });

  it('derives fresh receive addresses from a company wallet, refusing an xpub of another network', async () => {
    const wrong = await call('POST', '/v1/wallets', asA, {
      companyId: companyA,
      descriptor: `wpkh(${mainnetAccount.publicExtendedKey}/0/*)`,
    });
    expect(wrong.body).toMatchObject({ code: 'INVALID_DESCRIPTOR' });
    expect(String(wrong.body.message)).toMatch(/mainnet, not regtest/);
    const wallet = await call('POST', '/v1/wallets', asA, {
      companyId: companyA,
      descriptor: `wpkh(${account.publicExtendedKey}/0/*)`,
    });
    expect(wallet.status).toBe(201);
    expect(
      (
        await call('POST', '/v1/wallets', asB, {
          companyId: companyA,
          descriptor: `wpkh(${account.publicExtendedKey}/0/*)`,
        })
      ).status,
    ).toBe(404);
    const first = await call('POST', `/v1/wallets/${String(wallet.body.id)}/addresses`, asA, {
      purpose: 'invoice 1',
    });
    const second = await call('POST', `/v1/wallets/${String(wallet.body.id)}/addresses`, asA, {});
    // Independently: BIP84 receive path m/84'/1'/0'/0/i, P2WPKH on regtest (btc-signer, not the descriptor code).
    const expected = (i: number) =>
      p2wpkh(account.deriveChild(0).deriveChild(i).publicKey!, REGTEST).address;
    expect([first.body.address, second.body.address]).toEqual([expected(0), expected(1)]);
    expect([first.body.derivationIndex, second.body.derivationIndex]).toEqual([0, 1]);
    const listed = await call('GET', `/v1/wallets/${String(wallet.body.id)}/addresses`, asA);
    expect((listed.body.items as unknown[]).length).toBe(2);
    expect((await call('GET', `/v1/wallets/${String(wallet.body.id)}/addresses`, asB)).status).toBe(
      404,
    );
  });

  it('registers counterparty addresses vouched by their VASP, once', async () => {
    const counterparty = await call('POST', '/v1/participants', asA, {
      kind: 'counterparty',
      legalName: 'Buyer Co',
      country: 'SG',
    });
    const id = String(counterparty.body.id);
    const address = p2wpkh(account.deriveChild(5).deriveChild(0).publicKey!, REGTEST).address;
    const vaspId = await testVasp(t.services.registry, 'SG Exchange Pte', 'SG');
    const hosted = await call('POST', `/v1/participants/${id}/addresses`, asA, {
      ownership: 'hosted',
      address,
      vaspId,
    });
    expect(hosted).toMatchObject({
      status: 201,
      body: { ownership: 'hosted', vasp: { name: 'SG Exchange Pte' } },
    });
    const again = await call('POST', `/v1/participants/${id}/addresses`, asA, {
      ownership: 'hosted',
      address,
      vaspId,
    });
    expect(again.body).toMatchObject({ code: 'ADDRESS_ALREADY_ASSIGNED' });
    const mainnetAddress = 'bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l';
    expect(
      (
        await call('POST', `/v1/participants/${id}/addresses`, asA, {
          ownership: 'hosted',
          address: mainnetAddress,
          vaspId,
        })
      ).body,
    ).toMatchObject({ code: 'INVALID_ADDRESS' });
    expect((await call('GET', `/v1/participants/${id}/addresses`, asB)).status).toBe(404);
    expect(await t.services.registry.counterpartyAddress(address ?? '')).toMatchObject({
      counterpartyId: id,
      ownership: 'hosted',
    });
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { p2wpkh } from '@scure/btc-signer';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { startTestApp, type TestApp } from '../support/http';

/** Mining over HTTP: sites, payout addresses, the ban calendar and its bad input, roles. */
let t: TestApp;
let supervisor: { authorization: string };
const REGTEST = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };
const addressOf = (seed: number) =>
  p2wpkh(secp256k1.getPublicKey(new Uint8Array(32).fill(seed), true), REGTEST).address ?? '';

async function call(
  method: 'GET' | 'POST',
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

describe('mining API', () => {
  let minerA = '';
  let minerB = '';
  let asA: { authorization: string };
  let asB: { authorization: string };
  let siteA = '';

  it('lets a licensed miner register sites and payout addresses; one address, one miner', async () => {
    minerA = String(
      (
        await call('POST', '/v1/participants', supervisor, {
          kind: 'miner',
          legalName: 'Hash North',
          country: 'PK',
        })
      ).body.id,
    );
    minerB = String(
      (
        await call('POST', '/v1/participants', supervisor, {
          kind: 'miner',
          legalName: 'Hash South',
          country: 'PK',
        })
      ).body.id,
    );
    asA = await t.keyFor('miner', minerA);
    asB = await t.keyFor('miner', minerB);
    await call('POST', '/v1/regions', supervisor, {
      code: 'north',
      name: 'North',
      timeZone: 'Asia/Karachi',
    });
    const site = {
      regionCode: 'north',
      name: 'Site 1',
      gridConnection: '110 kV N-4',
      powerCapacityMw: '12.5',
      declaredHashrateThs: '350000',
      commissioningDate: '2025-09-01',
      poolName: 'Example Pool',
    };
    expect((await call('POST', '/v1/mining/sites', asA, site)).body).toMatchObject({
      code: 'LICENCE_NOT_ACTIVE',
    });
    for (const minerId of [minerA, minerB]) {
      await call('POST', '/v1/licences', supervisor, {
        participantId: minerId,
        kind: 'mining',
        scope: 'industrial',
        validFrom: '2026-01-01T00:00:00Z',
      });
    }
    expect(
      (await call('POST', '/v1/mining/sites', asA, { ...site, powerCapacityMw: '12.5005' })).body,
    ).toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(
      (await call('POST', '/v1/mining/sites', asA, { ...site, regionCode: 'nowhere' })).status,
    ).toBe(404);
    const created = await call('POST', '/v1/mining/sites', asA, site);
    expect(created).toMatchObject({
      status: 201,
      body: { minerId: minerA, powerCapacityMw: '12.5', declaredHashrateThs: '350000' },
    });
    siteA = String(created.body.id);

    const payout = await call('POST', `/v1/mining/sites/${siteA}/payout-addresses`, asA, {
      address: addressOf(1),
      kind: 'pool',
      poolName: 'Example Pool',
    });
    expect(payout.status).toBe(201);
    const siteB = String(
      (await call('POST', '/v1/mining/sites', asB, { ...site, name: 'B1' })).body.id,
    );
    const stolen = await call('POST', `/v1/mining/sites/${siteB}/payout-addresses`, asB, {
      address: addressOf(1),
      kind: 'solo',
    });
    expect(stolen).toMatchObject({ status: 409, body: { code: 'ADDRESS_ALREADY_ASSIGNED' } });
    expect((await call('GET', '/v1/mining/payout-addresses', asB)).body).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(
      (
        await call('POST', `/v1/mining/sites/${siteA}/payout-addresses`, asB, {
          address: addressOf(2),
          kind: 'solo',
        })
      ).status,
    ).toBe(404);
    expect(
      (
        await call('POST', `/v1/mining/sites/${siteA}/payout-addresses`, asA, {
          address: 'bc1q9vza2e8x573nczrlzms0wvx3gsqjx7vavgkx0l',
          kind: 'solo',
        })
      ).body,
    ).toMatchObject({ code: 'INVALID_ADDRESS' });
    expect((await call('GET', '/v1/mining/sites', asB)).body.items).toHaveLength(1);
  });

  it('keeps a ban calendar and answers whether a region is banned at a time', async () => {
    const seasonal = {
      kind: 'seasonal',
      regionCode: 'north',
      seasonStart: '11-15',
      seasonEnd: '03-15',
      startYear: 2025,
      endYear: 2026,
      reason: 'winter peak',
    };
    expect((await call('POST', '/v1/mining/bans', asA, seasonal)).status).toBe(403);
    const created = await call('POST', '/v1/mining/bans', supervisor, seasonal);
    expect(created).toMatchObject({
      status: 201,
      body: { fromDate: '2025-11-15', toDate: '2027-03-15' },
    });

    const inverted = await call('POST', '/v1/mining/bans', supervisor, {
      ...seasonal,
      startYear: 2028,
      endYear: 2027,
    });
    expect(inverted.body).toMatchObject({ code: 'BAN_PERIOD_INVALID' });
    const overlapping = await call('POST', '/v1/mining/bans', supervisor, {
      kind: 'full',
      regionCode: 'north',
      from: '2027-03-01',
      to: '2027-06-30',
      reason: 'x',
    });
    expect(overlapping.body).toMatchObject({
      code: 'BAN_PERIOD_INVALID',
      details: { overlapsBanId: created.body.id, firstOverlappingDate: '2027-03-01' },
    });
    const after = await call('POST', '/v1/mining/bans', supervisor, {
      kind: 'full',
      regionCode: 'north',
      from: '2027-03-16',
      to: '2027-06-30',
      reason: 'grid works',
    });
    expect(after.status).toBe(201);
    const curtail = await call('POST', '/v1/mining/bans', supervisor, {
      kind: 'curtailment',
      regionCode: 'north',
      from: '2027-07-01',
      to: '2027-12-31',
      dailyStart: '18:00',
      dailyEnd: '22:00',
      reason: 'evening peak',
    });
    expect(curtail.status).toBe(201);
    expect((await call('GET', '/v1/mining/bans?regionCode=north', asA)).body.items).toHaveLength(3);

    const at = async (iso: string) =>
      (await call('GET', `/v1/mining/regions/north/ban-status?at=${encodeURIComponent(iso)}`, asA))
        .body;
    expect(await at('2026-12-01T00:00:00Z')).toMatchObject({
      banned: true,
      localDate: '2026-12-01',
      localTime: '05:00',
    });
    expect(await at('2026-07-01T00:00:00Z')).toMatchObject({ banned: false });
    expect(await at('2027-08-01T13:30:00Z')).toMatchObject({ banned: true, localTime: '18:30' });
    expect(await at('2027-08-01T12:30:00Z')).toMatchObject({ banned: false });

    const lifted = await call('POST', `/v1/mining/bans/${String(after.body.id)}/lift`, supervisor, {
      reason: 'works finished early',
    });
    expect(lifted.body).toMatchObject({ liftReason: 'works finished early' });
    expect(await at('2027-04-01T00:00:00Z')).toMatchObject({ banned: false });
  });

  it('shows attributions, violations and statistics only to whom they belong', async () => {
    const empty = { items: [], nextCursor: null };
    expect((await call('GET', '/v1/mining/attributions', asA)).body).toEqual(empty);
    expect((await call('GET', '/v1/mining/violations', supervisor)).body).toEqual(empty);
    const stats = await call('GET', '/v1/mining/statistics?currency=USD', supervisor);
    expect(stats.body).toMatchObject({ currency: 'USD', items: [], nextCursor: null });
    const platform = await t.keyFor('platform', minerA, minerA);
    expect((await call('GET', '/v1/mining/statistics', platform)).status).toBe(403);
    expect((await call('GET', `/v1/provenance/${'ab'.repeat(32)}:0`, supervisor)).status).toBe(404);
    expect((await call('GET', '/v1/provenance/nothex:0', supervisor)).status).toBe(400);
  });
});

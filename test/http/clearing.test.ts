import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAddress } from '../../src/bitcoin';
import { systemCaller, type Caller } from '../../src/kernel';
import type { ChainBlock } from '../../src/chain';
import { TEST_DRIVERS } from '../support/db';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { p2wpkhOf, testKey } from '../support/simnet';

/**
 * The clearing routes over the real app: who sees which lots (supervisor and auditor all, a miner
 * its own, others 403), paging, the release (supervisor only, audited, 409 LOT_NOT_QUARANTINED
 * with a closed code), the cleared share of an output, and the rule's versions.
 */

const supervisor = systemCaller('http-test');
const SUBSIDY = 5_000_000_000n;
const hex = (n: number) => n.toString(16).padStart(64, '0');
const coinbase = (n: number, script: Uint8Array, time: string): ChainBlock => ({
  hash: hex(0xb000 + n),
  height: n,
  previousHash: null,
  complete: true,
  time: Date.parse(time) / 1000,
  transactions: [
    {
      txid: hex(n),
      coinbase: true,
      inputs: [],
      outputs: [{ vout: 0, valueSats: SUBSIDY, script, address: null }],
    },
  ],
});

describe.each(TEST_DRIVERS)('clearing routes on %s', (driver) => {
  let t: TestApp;
  let keys: Record<
    'supervisor' | 'auditor' | 'miner' | 'otherMiner' | 'company' | 'platform',
    TestKey
  >;
  const get = (url: string, key: TestKey) => t.app.inject({ method: 'GET', url, headers: key });
  const post = (url: string, key: TestKey, payload: object) =>
    t.app.inject({ method: 'POST', url, headers: key, payload });

  async function miner(name: string, label: string) {
    const m = await t.services.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: name,
      country: 'PK',
    });
    await t.services.registry.grantLicence(supervisor, {
      participantId: m.id,
      kind: 'mining',
      scope: 'mining',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2030-01-01T00:00:00Z',
    });
    const caller: Caller = { ...supervisor, role: 'miner', participantId: m.id };
    const site = await t.services.mining.registerSite(caller, {
      regionCode: 'north',
      name: `${name} site`,
      gridConnection: '110 kV',
      powerCapacityMw: '5',
      declaredHashrateThs: '1000',
      commissioningDate: '2026-01-01',
    });
    const address = p2wpkhOf(testKey(label)).address ?? '';
    await t.services.mining.registerPayoutAddress(caller, site.id, { address, kind: 'solo' });
    return { id: m.id, script: parseAddress(address, 'regtest').scriptPubKey };
  }

  beforeAll(async () => {
    t = await startTestApp({ driver });
    await t.services.registry.createRegion(supervisor, {
      code: 'north',
      name: 'North',
      timeZone: 'UTC',
    });
    await t.services.mining.declareBan(supervisor, 'north', {
      kind: 'full',
      from: '2026-08-01',
      to: '2026-08-31',
      reason: 'grid maintenance',
    });
    const a = await miner('Alpha Hash', 'alpha');
    const b = await miner('Beta Hash', 'beta');
    const blocks = [
      coinbase(1, a.script, '2026-07-02T00:00:00Z'),
      coinbase(2, a.script, '2026-08-02T00:00:00Z'), // inside the ban
      coinbase(3, a.script, '2026-07-03T00:00:00Z'),
      coinbase(4, b.script, '2026-07-04T00:00:00Z'),
    ];
    const mining = t.services.mining.chainConsumer();
    const clearing = t.services.clearing.chainConsumer();
    for (const block of blocks)
      await t.db.transaction(async (tx) => {
        await mining.blockConnected(block, tx);
        await clearing.blockConnected(block, tx);
      });
    keys = {
      supervisor: await t.keyFor('supervisor', 'scheme'),
      auditor: await t.keyFor('auditor', 'scheme'),
      miner: await t.keyFor('miner', a.id),
      otherMiner: await t.keyFor('miner', b.id),
      company: await t.keyFor('company', 'par_01JAAAAAAAAAAAAAAAAAAAAAAA'),
      platform: await t.keyFor(
        'platform',
        'par_01JBBBBBBBBBBBBBBBBBBBBBBB',
        'par_01JBBBBBBBBBBBBBBBBBBBBBBB',
      ),
    };
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('lists every lot to the supervisor and auditor, a page at a time', async () => {
    for (const key of [keys.supervisor, keys.auditor]) {
      const first = await get('/v1/clearing/lots?limit=3', key);
      expect(first.statusCode).toBe(200);
      const page = first.json<{ items: { id: string }[]; nextCursor: string | null }>();
      expect(page.items).toHaveLength(3);
      const rest = await get(`/v1/clearing/lots?limit=3&cursor=${page.nextCursor}`, key);
      const next = rest.json<{ items: { id: string }[]; nextCursor: string | null }>();
      expect(next.items).toHaveLength(1);
      expect(next.nextCursor).toBeNull();
    }
    const quarantined = await get('/v1/clearing/lots?status=quarantined', keys.supervisor);
    expect(quarantined.json<{ items: unknown[] }>().items).toMatchObject([
      {
        height: 2,
        status: 'quarantined',
        quarantineReason: 'MINED_IN_BAN',
        valueBtc: '50.00000000',
      },
    ]);
  });

  it('shows a miner its own lots only, and other roles none', async () => {
    const own = await get('/v1/clearing/lots', keys.otherMiner);
    expect(own.statusCode).toBe(200);
    const items = own.json<{ items: { height: number }[] }>().items;
    expect(items.map((l) => l.height)).toEqual([4]);
    const all = await get('/v1/clearing/lots', keys.supervisor);
    const alphaLot = all
      .json<{ items: { id: string; height: number }[] }>()
      .items.find((l) => l.height === 1)!;
    expect((await get(`/v1/clearing/lots/${alphaLot.id}`, keys.otherMiner)).statusCode).toBe(404);
    expect((await get(`/v1/clearing/lots/${alphaLot.id}`, keys.miner)).statusCode).toBe(200);
    for (const key of [keys.company, keys.platform]) {
      const refused = await get('/v1/clearing/lots', key);
      expect(refused.statusCode).toBe(403);
      expect(refused.json<{ code: string }>().code).toBe('FORBIDDEN');
    }
  });

  it('releases a quarantined lot for the supervisor only, audited; 409 when not quarantined', async () => {
    const all = (await get('/v1/clearing/lots', keys.supervisor)).json<{
      items: { id: string; height: number }[];
    }>().items;
    const quarantined = all.find((l) => l.height === 2)!;
    const cleared = all.find((l) => l.height === 1)!;
    const reason = { reason: 'exemption confirmed by the grid operator' };
    for (const key of [keys.auditor, keys.miner]) {
      const refused = await post(`/v1/clearing/lots/${quarantined.id}/release`, key, reason);
      expect(refused.statusCode).toBe(403);
    }
    const short = await post(`/v1/clearing/lots/${quarantined.id}/release`, keys.supervisor, {
      reason: 'ok',
    });
    expect(short.statusCode).toBe(400);
    const notQuarantined = await post(
      `/v1/clearing/lots/${cleared.id}/release`,
      keys.supervisor,
      reason,
    );
    expect(notQuarantined.statusCode).toBe(409);
    expect(notQuarantined.json<{ code: string }>().code).toBe('LOT_NOT_QUARANTINED');
    const released = await post(
      `/v1/clearing/lots/${quarantined.id}/release`,
      keys.supervisor,
      reason,
    );
    expect(released.statusCode).toBe(200);
    expect(released.json()).toMatchObject({
      status: 'released',
      clearance: 'released',
      releaseReason: reason.reason,
    });
    const again = await post(
      `/v1/clearing/lots/${quarantined.id}/release`,
      keys.supervisor,
      reason,
    );
    expect(again.statusCode).toBe(409);
    const audit = await get(`/v1/audit?entityId=${quarantined.id}&limit=50`, keys.auditor);
    const actions = audit.json<{ items: { action: string }[] }>().items.map((e) => e.action);
    expect(actions).toContain('clearing_lot.released');
  });

  it('answers the cleared share of a watched output', async () => {
    const share = await get(`/v1/clearing/outputs/${hex(2)}:0`, keys.auditor);
    expect(share.statusCode).toBe(200);
    expect(share.json()).toMatchObject({
      valueSats: SUBSIDY.toString(),
      clearedSats: SUBSIDY.toString(),
      quarantinedSats: '0',
      clearedShareBasisPoints: 10_000,
    });
    expect((await get(`/v1/clearing/outputs/${hex(99)}:0`, keys.supervisor)).statusCode).toBe(404);
    // Scheme-wide only: a platform could otherwise probe other platforms' clients' coins.
    for (const who of [keys.company, keys.platform])
      expect((await get(`/v1/clearing/outputs/${hex(2)}:0`, who)).statusCode).toBe(403);
    expect((await get('/v1/clearing/outputs/nothex:0', keys.supervisor)).statusCode).toBe(400);
  });

  it('keeps the rule off until the supervisor sets a version', async () => {
    const initial = await get('/v1/clearing/rule', keys.platform);
    expect(initial.json()).toEqual({ inForce: null, items: [], nextCursor: null });
    const body = { thresholdBasisPoints: 9_000, reason: 'cleared origin for supplier payouts' };
    expect((await post('/v1/clearing/rule', keys.auditor, body)).statusCode).toBe(403);
    expect(
      (await post('/v1/clearing/rule', keys.supervisor, { ...body, thresholdBasisPoints: 10_001 }))
        .statusCode,
    ).toBe(400);
    const set = await post('/v1/clearing/rule', keys.supervisor, body);
    expect(set.statusCode).toBe(201);
    expect(set.json()).toMatchObject({
      version: 1,
      id: 'clearing.cleared-origin@1#v1',
      thresholdBasisPoints: 9_000,
    });
    const state = await get('/v1/clearing/rule', keys.supervisor);
    expect(state.json()).toMatchObject({
      inForce: { version: 1 },
      items: [{ version: 1 }],
      nextCursor: null,
    });
  });

  it('gives the loop report of a period to the supervisor and auditors only, refusing a bad period', async () => {
    const url = '/v1/clearing/loop?from=2026-07-01&to=2026-09-01T00:00:00Z';
    for (const key of [keys.supervisor, keys.auditor]) {
      const loop = await get(url, key);
      expect(loop.statusCode, loop.body).toBe(200);
      // Four lots of 50 BTC from two miners; the one mined in the ban was released above.
      expect(loop.json()).toMatchObject({
        from: '2026-07-01T00:00:00.000Z',
        to: '2026-09-01T00:00:00.000Z',
        mined: { lots: 4, sats: (4n * SUBSIDY).toString(), miners: 2 },
        clearance: {
          cleared: { count: 3, sats: (3n * SUBSIDY).toString() },
          quarantined: { count: 0, sats: '0' },
          released: { count: 1, sats: SUBSIDY.toString() },
        },
        sold: { deals: 0, sats: '0' },
        trace: [],
        stuck: { quarantinedLots: 0, heldDeals: 0, items: [] },
      });
    }
    // July alone: the three lots mined before the ban.
    const july = await get('/v1/clearing/loop?from=2026-07-01&to=2026-08-01', keys.auditor);
    expect(july.json<{ mined: { lots: number } }>().mined.lots).toBe(3);
    for (const key of [keys.miner, keys.company, keys.platform])
      expect((await get(url, key)).statusCode).toBe(403);
    for (const bad of [
      '/v1/clearing/loop?from=2026-07-01',
      '/v1/clearing/loop?from=yesterday&to=2026-08-01',
      '/v1/clearing/loop?from=2026-08-01&to=2026-07-01',
      '/v1/clearing/loop?from=2020-01-01&to=2026-08-01',
    ]) {
      const refused = await get(bad, keys.supervisor);
      expect(refused.statusCode, bad).toBe(400);
      expect(refused.json<{ code: string }>().code).toBe('VALIDATION_FAILED');
    }
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../audit';
import { parseAddress } from '../bitcoin';
import type { Database } from '../db';
import { AppError, ManualClock, SeededRandom, systemCaller, type Caller } from '../kernel';
import type { ChainBlock, ChainTransaction } from '../trade';
import { MiningService } from '../mining';
import { RegistryService } from '../registry';
import { ClearingService } from './service';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';
import { p2wpkhOf, testKey } from '../../test/support/simnet';

/** The services these tests use, wired as services.ts wires them. */
interface Services {
  registry: RegistryService;
  mining: MiningService;
  clearing: ClearingService;
}
function composeServices(ports: {
  db: Database;
  clock: ManualClock;
  random: SeededRandom;
}): Services {
  const registry = new RegistryService({ ...ports, network: 'regtest' });
  const mining = new MiningService({ ...ports, network: 'regtest', registry });
  const clearing = new ClearingService({ ...ports, wallets: registry });
  return { registry, mining, clearing };
}

/**
 * Lots, quarantine, release, spend-following and reorgs, with the real mining and clearing
 * consumers fed hand-made blocks in one transaction each, as the chain watcher does. Amounts are
 * worked out here by the haircut rule: each output gets floor(tagged × value / inputs) per origin.
 */

const SUBSIDY = 5_000_000_000n;
const supervisor = systemCaller('supervisor-test');
const minerAddress = p2wpkhOf(testKey('clearing miner')).address ?? '';
const minerScript = parseAddress(minerAddress, 'regtest').scriptPubKey;
const elsewhere = parseAddress(p2wpkhOf(testKey('clearing elsewhere')).address ?? '', 'regtest');
const hex = (n: number) => n.toString(16).padStart(64, '0');
const seconds = (iso: string) => Date.parse(iso) / 1000;

type Tx = ChainTransaction;
// Every output the helpers made, so that a spend carries its inputs' previous outputs.
const made = new Map<string, ChainTransaction['inputs'][number]['prevout']>();
const record = (tx: Tx): Tx => {
  for (const o of tx.outputs) made.set(`${tx.txid}:${o.vout}`, o);
  return tx;
};
const coinbase = (txid: string, value: bigint, script = minerScript): Tx =>
  record({
    txid,
    coinbase: true,
    inputs: [],
    outputs: [{ vout: 0, valueSats: value, script, address: null }],
  });
const spend = (txid: string, inputs: [string, number][], values: bigint[]): Tx =>
  record({
    txid,
    coinbase: false,
    inputs: inputs.map(([t, vout]) => {
      const prevout = made.get(`${t}:${vout}`);
      if (!prevout) throw new Error(`the test spends ${t}:${vout}, which it never made`);
      return { txid: t, vout, prevout };
    }),
    outputs: values.map((valueSats, vout) => ({
      vout,
      valueSats,
      script: elsewhere.scriptPubKey,
      address: null,
    })),
  });
const block = (n: number, time: string, transactions: Tx[]): ChainBlock => ({
  hash: hex(0xb000 + n),
  height: n,
  previousHash: null,
  time: seconds(time),
  transactions,
  complete: true,
});

describe.each(TEST_DRIVERS)('clearing lots on %s', (driver) => {
  let db: Database;
  let services: Services;
  let minerId = '';
  let minerCaller: Caller;
  const mining = () => services.mining.chainConsumer();
  const clearing = () => services.clearing.chainConsumer();
  const connect = (b: ChainBlock, options: { clearing?: boolean } = {}) =>
    db.transaction(async (tx) => {
      await mining().blockConnected(b, tx);
      if (options.clearing ?? true) await clearing().blockConnected(b, tx);
    });
  const disconnect = (b: ChainBlock) =>
    db.transaction(async (tx) => {
      await clearing().blockDisconnected(b, tx);
      await mining().blockDisconnected(b, tx);
    });
  const lotOf = async (txid: string) => {
    const page = await services.clearing.listLots(supervisor, {}, { limit: 500 });
    return page.items.find((lot) => lot.txid === txid);
  };

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-06-01T00:00:00Z');
    services = composeServices({ db, clock, random: new SeededRandom(5) });
    const miner = await services.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Clearing Hash LLP',
      country: 'PK',
    });
    minerId = miner.id;
    minerCaller = {
      role: 'miner',
      participantId: minerId,
      platformId: null,
      actorId: 'key_miner',
      personId: 'key_miner',
      requestId: null,
    };
    await services.registry.grantLicence(supervisor, {
      participantId: minerId,
      kind: 'mining',
      scope: 'industrial mining',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2030-01-01T00:00:00Z',
    });
    await services.registry.createRegion(supervisor, {
      code: 'north',
      name: 'Northern region',
      timeZone: 'Asia/Karachi',
    });
    await services.mining.declareBan(supervisor, 'north', {
      kind: 'seasonal',
      seasonStart: '11-15',
      seasonEnd: '03-15',
      startYear: 2025,
      endYear: 2026,
      reason: 'winter grid load',
    });
    const site = await services.mining.registerSite(minerCaller, {
      regionCode: 'north',
      name: 'Site 1',
      gridConnection: '110 kV',
      powerCapacityMw: '10',
      declaredHashrateThs: '1000',
      commissioningDate: '2025-09-01',
    });
    await services.mining.registerPayoutAddress(minerCaller, site.id, {
      address: minerAddress,
      kind: 'solo',
    });
  }, 120_000);

  afterAll(async () => {
    await db?.close();
  });

  const b1 = block(1, '2026-07-01T00:00:00Z', [coinbase(hex(1), SUBSIDY)]);
  const b2 = block(2, '2026-12-01T00:00:00Z', [coinbase(hex(2), SUBSIDY)]); // inside the ban
  // Spends both coinbases into 60 and 39.9999 BTC (fee 10,000 sats).
  const b3 = block(3, '2026-12-02T12:00:00Z', [
    coinbase(hex(3), SUBSIDY, elsewhere.scriptPubKey),
    spend(
      hex(0x31),
      [
        [hex(1), 0],
        [hex(2), 0],
      ],
      [6_000_000_000n, 3_999_990_000n],
    ),
  ]);

  it('makes a cleared lot of an attributed coinbase and a quarantined one inside a ban', async () => {
    await connect(b1);
    await connect(b2);
    const cleared = await lotOf(hex(1));
    const quarantined = await lotOf(hex(2));
    expect(cleared).toMatchObject({
      minerId,
      regionCode: 'north',
      height: 1,
      blockHash: b1.hash,
      valueSats: SUBSIDY,
      status: 'cleared',
      clearance: 'cleared',
      quarantineReason: null,
    });
    expect(quarantined).toMatchObject({
      height: 2,
      status: 'quarantined',
      clearance: 'quarantined',
      quarantineReason: 'MINED_IN_BAN',
    });
    expect(quarantined?.banId).toMatch(/^ban_/);
    expect(await services.clearing.clearedShare(supervisor, hex(1), 0)).toMatchObject({
      valueSats: SUBSIDY,
      clearedSats: SUBSIDY,
      quarantinedSats: 0n,
      clearedShareBasisPoints: 10_000,
    });
    expect(await services.clearing.clearedShare(supervisor, hex(2), 0)).toMatchObject({
      clearedSats: 0n,
      quarantinedSats: SUBSIDY,
      clearedShareBasisPoints: 0,
    });
    const events = (
      await listAuditEvents(db.orm, { entityId: quarantined?.id ?? '' }, { limit: 100 })
    ).items;
    expect(events.map((e) => e.action)).toEqual(['clearing_lot.quarantined']);
  });

  it('does nothing for a block delivered again', async () => {
    await connect(b2);
    const page = await services.clearing.listLots(supervisor, {}, { limit: 500 });
    expect(page.items).toHaveLength(2);
  });

  it('follows the coins through a spend by the haircut rule and marks the lots spent', async () => {
    await connect(b3);
    const total = 2n * SUBSIDY;
    const x = await services.clearing.clearedShare(supervisor, hex(0x31), 0);
    const y = await services.clearing.clearedShare(supervisor, hex(0x31), 1);
    expect(x).toMatchObject({
      valueSats: 6_000_000_000n,
      clearedSats: (SUBSIDY * 6_000_000_000n) / total,
      quarantinedSats: (SUBSIDY * 6_000_000_000n) / total,
      clearedShareBasisPoints: 5_000,
    });
    expect(y).toMatchObject({
      clearedSats: (SUBSIDY * 3_999_990_000n) / total,
      quarantinedSats: (SUBSIDY * 3_999_990_000n) / total,
    });
    // The unattributed coinbase of block 3 is not watched.
    await expect(services.clearing.clearedShare(supervisor, hex(3), 0)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await lotOf(hex(1))).toMatchObject({
      status: 'spent',
      clearance: 'cleared',
      spentByTxid: hex(0x31),
    });
    expect(await lotOf(hex(2))).toMatchObject({ status: 'spent', clearance: 'quarantined' });
  });

  it('lets the supervisor release a quarantined lot, carrying the release to the outputs', async () => {
    const cleared = (await lotOf(hex(1)))!;
    const quarantined = (await lotOf(hex(2)))!;
    const reason = 'ban exemption granted for grid balancing';
    await expect(
      services.clearing.release(minerCaller, quarantined.id, reason),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(
      services.clearing.release(supervisor, quarantined.id, 'short'),
    ).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const refused = await services.clearing
      .release(supervisor, cleared.id, reason)
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('LOT_NOT_QUARANTINED');

    const released = await services.clearing.release(supervisor, quarantined.id, reason);
    expect(released).toMatchObject({
      status: 'spent',
      clearance: 'released',
      releaseReason: reason,
      releasedBy: 'supervisor-test',
    });
    expect(await services.clearing.clearedShare(supervisor, hex(0x31), 0)).toMatchObject({
      clearedSats: 6_000_000_000n,
      quarantinedSats: 0n,
      clearedShareBasisPoints: 10_000,
    });
    expect(await services.clearing.clearedShare(supervisor, hex(2), 0)).toMatchObject({
      clearedSats: SUBSIDY,
      quarantinedSats: 0n,
    });
    const again = await services.clearing
      .release(supervisor, quarantined.id, reason)
      .catch((e: unknown) => e);
    expect((again as AppError).code).toBe('LOT_NOT_QUARANTINED');
    const events = (await listAuditEvents(db.orm, { entityId: quarantined.id }, { limit: 100 }))
      .items;
    expect(events.map((e) => e.action).sort()).toEqual([
      'clearing_lot.quarantined',
      'clearing_lot.released',
    ]);
  });

  it('undoes a disconnected block: spends unmarked, its lots and outputs gone', async () => {
    await disconnect(b3);
    await expect(services.clearing.clearedShare(supervisor, hex(0x31), 0)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(await lotOf(hex(1))).toMatchObject({ status: 'cleared', spentByTxid: null });
    expect(await lotOf(hex(2))).toMatchObject({ status: 'released', clearance: 'released' });
    const released = (await lotOf(hex(2)))!;
    await disconnect(b2);
    expect(await lotOf(hex(2))).toBeUndefined();
    await expect(services.clearing.clearedShare(supervisor, hex(2), 0)).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    const events = (await listAuditEvents(db.orm, { entityId: released.id }, { limit: 100 })).items;
    expect(events.map((e) => e.action)).toContain('clearing_lot.withdrawn');
    // Connected again after the reorg (the same coinbase on the new branch): quarantined anew.
    await connect(b2);
    expect(await lotOf(hex(2))).toMatchObject({
      status: 'quarantined',
      quarantineReason: 'MINED_IN_BAN',
    });
  });

  it('quarantines a lot mined before its site was registered', async () => {
    // The site was registered on 1 June 2026 (the clock); a block of 1 May 2026 (no ban then).
    const early = block(4, '2026-05-01T00:00:00Z', [coinbase(hex(4), SUBSIDY)]);
    await connect(early);
    expect(await lotOf(hex(4))).toMatchObject({
      status: 'quarantined',
      quarantineReason: 'SITE_NOT_REGISTERED',
      banId: null,
    });
    // Within the two hours a header may run ahead, the site counts as registered.
    const close = block(5, '2026-05-31T22:30:00Z', [coinbase(hex(5), SUBSIDY)]);
    await connect(close);
    expect(await lotOf(hex(5))).toMatchObject({ status: 'cleared' });
  });

  it('stores sats of origins it has no lot for as undetermined', async () => {
    // Mining attributed block 6 while clearing did not follow the chain yet.
    const before = block(6, '2026-07-02T00:00:00Z', [coinbase(hex(6), SUBSIDY)]);
    await connect(before, { clearing: false });
    const after = block(7, '2026-07-03T00:00:00Z', [
      spend(hex(0x71), [[hex(6), 0]], [4_000_000_000n, 999_990_000n]),
    ]);
    await connect(after);
    expect(await services.clearing.clearedShare(supervisor, hex(0x71), 0)).toMatchObject({
      clearedSats: 0n,
      quarantinedSats: 0n,
      undeterminedSats: 4_000_000_000n,
    });
  });

  it('shows a miner its own lots only and refuses other roles', async () => {
    const own = await services.clearing.listLots(minerCaller, {}, { limit: 2 });
    expect(own.items).toHaveLength(2);
    expect(own.items.every((lot) => lot.minerId === minerId)).toBe(true);
    expect(own.nextCursor).not.toBeNull();
    const next = await services.clearing.listLots(
      minerCaller,
      {},
      { limit: 500, cursor: own.nextCursor },
    );
    const ids = [...own.items, ...next.items].map((lot) => lot.id);
    expect(new Set(ids).size).toBe(ids.length);
    await expect(
      services.clearing.listLots(minerCaller, { minerId: 'par_01JAAAAAAAAAAAAAAAAAAAAAAA' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    const company: Caller = { ...minerCaller, role: 'company' };
    await expect(services.clearing.listLots(company)).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await expect(services.clearing.clearedShare(company, hex(1), 0)).rejects.toMatchObject({
      code: 'FORBIDDEN',
    });
  });
});

describe('the cleared-origin rule versions', () => {
  let db: Database;
  let services: Services;
  let clock: ManualClock;

  beforeAll(async () => {
    db = await openTestDatabase();
    clock = new ManualClock('2026-06-01T00:00:00Z');
    services = composeServices({ db, clock, random: new SeededRandom(6) });
  });
  afterAll(async () => {
    await db?.close();
  });

  it('is off until the supervisor sets it, and each version takes effect at its time', async () => {
    const now = clock.now();
    expect(await services.clearing.ruleAt(now)).toBeNull();
    const v1 = await services.clearing.setRule(supervisor, {
      thresholdBasisPoints: 8_000,
      reason: 'cleared origin for supplier payouts',
    });
    expect(v1).toMatchObject({
      version: 1,
      id: 'clearing.cleared-origin@1#v1',
      thresholdBasisPoints: 8_000,
    });
    await services.clearing.setRule(supervisor, {
      thresholdBasisPoints: null,
      effectiveFrom: new Date('2026-07-01T00:00:00Z'),
      reason: 'suspended for the harvest season',
    });
    expect(await services.clearing.ruleAt(now)).toEqual({
      version: 'clearing.cleared-origin@1#v1',
      thresholdBasisPoints: 8_000,
    });
    expect(await services.clearing.ruleAt(new Date('2026-07-01T00:00:00Z'))).toBeNull();
    const state = await services.clearing.rule(supervisor);
    expect(state.inForce?.version).toBe(1);
    expect(state.items.map((v) => v.version)).toEqual([2, 1]);
  });

  it('refuses a time in the past, a threshold out of range and anyone but the supervisor', async () => {
    const bad = [
      { thresholdBasisPoints: 10_001, reason: 'too high' },
      { thresholdBasisPoints: 1.5, reason: 'not whole' },
      { thresholdBasisPoints: 100, reason: '  ' },
      {
        thresholdBasisPoints: 100,
        reason: 'backdated',
        effectiveFrom: new Date('2026-05-01T00:00:00Z'),
      },
    ];
    for (const input of bad)
      await expect(services.clearing.setRule(supervisor, input)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    const auditor: Caller = { ...supervisor, role: 'auditor' };
    await expect(
      services.clearing.setRule(auditor, { thresholdBasisPoints: 1, reason: 'not mine to set' }),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    expect((await services.clearing.rule(supervisor)).items).toHaveLength(2);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { ChainWatcher, Simnet, SimnetChainSource, type SimnetUtxo } from '../../src/chain';
import type { Database } from '../../src/db';
import {
  AppError,
  loadConfig,
  ManualClock,
  parseRate,
  SeededRandom,
  systemCaller,
  type Caller,
} from '../../src/kernel';
import { fixedRateLookup, MiningService } from '../../src/mining';
import { composeServices, type Services } from '../../src/services';
// Test-only helpers of simnet: deterministic keys and transactions signed by @scure/btc-signer.
import { p2wpkhOf, signedTx, testKey } from '../support/simnet';
import { openTestDatabase } from '../support/db';
import { guardChainCalls, type ChainGuard } from '../support/chain-guard';

/** A list's one page, by height (lists are newest first). */
async function oldestFirst<T extends { height: number }>(
  page: Promise<{ items: T[]; nextCursor: string | null }>,
): Promise<T[]> {
  const { items, nextCursor } = await page;
  expect(nextCursor).toBeNull();
  return [...items].sort((x, y) => x.height - y.height);
}

/**
 * The "done when", on simnet with the real chain watcher: a miner with a site in a region
 * under a seasonal ban (15 November – 15 March), blocks mined to its payout address inside and
 * outside the ban, the coinbases spent through two hops; then a reorganization that removes the
 * block of the second hop and a later in-ban block, replaced by a branch mined after the ban.
 *
 * Every expected amount below is worked out here from the amounts chosen, not read from the code:
 * the haircut rule gives each output floor(tagged × output value / total input value) of each origin.
 */

const SUBSIDY = 5_000_000_000n; // 50 BTC: regtest heights below 150 (no halving yet)
const share = (tagged: bigint, outputValue: bigint, totalInputs: bigint) =>
  (tagged * outputValue) / totalInputs;

const miner = testKey('miner payout');
const other = testKey('someone else');
const x = testKey('hop one, output 0');
const y = testKey('hop one, output 1');
const z = testKey('hop two, output 0');
const w = testKey('hop two, output 1');
const minerScript = p2wpkhOf(miner).script;
const otherScript = p2wpkhOf(other).script;

let db: Database;
let clock: ManualClock;
let simnet: Simnet;
let services: Services;
let mining: MiningService;
let watcher: ChainWatcher;
let guard: ChainGuard;
const supervisor: Caller = systemCaller('test');
let minerId = '';
let siteId = '';

async function sync() {
  return watcher.syncOnce();
}

beforeAll(async () => {
  db = await openTestDatabase();
  clock = new ManualClock('2026-06-01T00:00:00Z');
  services = composeServices({ db, clock, config: loadConfig({}), random: new SeededRandom(11) });
  mining = new MiningService({
    db,
    clock,
    random: new SeededRandom(12),
    network: 'regtest',
    registry: services.registry,
    rates: fixedRateLookup(parseRate('60000.00', 'USD')),
  });
  simnet = await Simnet.open({ db, clock });
  // The watcher reaches simnet and the database through the guard: a chain call while a
  // block's transaction is open (e.g. to look up an input's value) fails the block.
  guard = guardChainCalls(new SimnetChainSource(simnet), db);
  watcher = new ChainWatcher({
    source: guard.source,
    database: guard.database,
    startHeight: 1,
    clock,
  });
  await watcher.registerConsumer(mining.chainConsumer());

  const registered = await services.registry.registerParticipant(supervisor, {
    kind: 'miner',
    legalName: 'Northern Hash LLP',
    country: 'PK',
  });
  minerId = registered.id;
  await services.registry.grantLicence(supervisor, {
    participantId: minerId,
    kind: 'mining',
    scope: 'industrial mining, northern region',
    validFrom: '2026-01-01T00:00:00Z',
    validTo: '2030-01-01T00:00:00Z',
  });
  // Asia/Karachi has kept UTC+5 without daylight saving since 2009: local midnight is 19:00 UTC.
  await services.registry.createRegion(supervisor, {
    code: 'north',
    name: 'Northern region',
    timeZone: 'Asia/Karachi',
  });
  await mining.declareBan(supervisor, 'north', {
    kind: 'seasonal',
    seasonStart: '11-15',
    seasonEnd: '03-15',
    startYear: 2025,
    endYear: 2026,
    reason: 'winter grid load',
  });
  const minerCaller: Caller = {
    role: 'miner',
    participantId: minerId,
    platformId: null,
    actorId: 'key_miner',
    personId: 'key_miner',
    requestId: null,
  };
  const site = await mining.registerSite(minerCaller, {
    regionCode: 'north',
    name: 'Site 1',
    gridConnection: '110 kV substation N-4',
    powerCapacityMw: '12.5',
    declaredHashrateThs: '350000',
    commissioningDate: '2025-09-01',
  });
  siteId = site.id;
  await mining.registerPayoutAddress(minerCaller, siteId, {
    address: p2wpkhOf(miner).address ?? '',
    kind: 'solo',
  });
}, 120_000);

afterAll(async () => {
  await db?.close();
});

function coinbaseAt(height: number, script: Uint8Array): SimnetUtxo {
  const utxo = simnet.listUnspent(script).find((u) => u.coinbase && u.height === height);
  if (!utxo) throw new Error(`no coinbase at height ${height}`);
  return utxo;
}

describe('mining output attribution and provenance on simnet', () => {
  let hashes: { a: string; b: string; hop1Block: string; hop2Block: string; d: string };
  let tx1: string;
  let tx2: string;
  let tx2Raw: Uint8Array;
  let attributionA = '';
  let attributionB = '';

  it('attributes coinbase outputs to the miner and flags the one mined inside the ban', async () => {
    clock.set('2026-07-01T00:00:00Z'); // July: outside the 15 Nov – 15 Mar season
    const [a] = await simnet.mine(1, minerScript);
    clock.set('2026-12-01T00:00:00Z'); // 1 December, 05:00 in Karachi: inside the season
    const [b] = await simnet.mine(1, minerScript);
    // 100 blocks to someone else, so that the coinbases at heights 1–3 mature (100 confirmations).
    await simnet.mine(100, otherScript);
    const result = await sync();
    expect(result.connected).toBe(102);

    const attributions = await oldestFirst(mining.listAttributions(supervisor, {}, { limit: 500 }));
    expect(
      attributions.map((row) => [
        row.height,
        row.blockHash,
        row.valueSats,
        row.minerId,
        row.siteId,
        row.regionCode,
      ]),
    ).toEqual([
      [1, a, SUBSIDY, minerId, siteId, 'north'],
      [2, b, SUBSIDY, minerId, siteId, 'north'],
    ]);
    expect(attributions[0]?.blockTime.toISOString()).toBe('2026-07-01T00:00:00.000Z');
    attributionA = attributions[0]?.id ?? '';
    attributionB = attributions[1]?.id ?? '';

    const violations = await oldestFirst(mining.listViolations(supervisor, {}, { limit: 500 }));
    expect(violations).toHaveLength(1);
    expect(violations[0]).toMatchObject({
      attributionId: attributionB,
      code: 'MINING_BAN_VIOLATION',
      minerId,
      siteId,
      regionCode: 'north',
      blockHash: b,
      height: 2,
      valueSats: SUBSIDY,
      status: 'open',
      // The coinbase outpoint and the names behind the ids, for the explorer's table.
      txid: coinbaseAt(2, minerScript).txid,
      vout: 0,
      minerName: 'Northern Hash LLP',
      siteName: 'Site 1',
      regionName: 'Northern region',
    });
    // The date filter: mined in December only, then only in July (none).
    const december = {
      from: new Date('2026-12-01T00:00:00Z'),
      to: new Date('2027-01-01T00:00:00Z'),
    };
    expect((await mining.listViolations(supervisor, december)).items).toHaveLength(1);
    const july = { from: new Date('2026-07-01T00:00:00Z'), to: new Date('2026-08-01T00:00:00Z') };
    expect((await mining.listViolations(supervisor, july)).items).toHaveLength(0);
    expect((await mining.isBanned('north', new Date('2026-12-01T00:00:00Z'))).banned).toBe(true);
    expect((await mining.isBanned('north', new Date('2026-07-01T00:00:00Z'))).banned).toBe(false);
    hashes = { a: a ?? '', b: b ?? '', hop1Block: '', hop2Block: '', d: '' };
  }, 120_000);

  it('passes the tags through two hops by the haircut rule', async () => {
    // Hop 1: both attributed coinbases and one untagged coinbase, into two outputs (fee 10,000).
    const inputsA = coinbaseAt(1, minerScript);
    const inputsB = coinbaseAt(2, minerScript);
    const untagged = coinbaseAt(3, otherScript);
    const hop1Outputs = [7_000_000_000n, 7_999_990_000n];
    const hop1 = signedTx(
      [{ utxo: inputsA }, { utxo: inputsB }, { utxo: untagged }],
      [
        { script: p2wpkhOf(x).script, value: hop1Outputs[0] ?? 0n },
        { script: p2wpkhOf(y).script, value: hop1Outputs[1] ?? 0n },
      ],
      [miner.secret, other.secret],
    );
    const accepted = await simnet.submitTransaction(hop1.extract());
    expect(accepted.allowed).toBe(true);
    tx1 = hop1.id;
    const [hop1Block] = await simnet.mine(1, otherScript);

    // Hop 2: output 0 of hop 1 into two outputs (fee 5,000).
    const hop2Outputs = [3_000_000_000n, 3_999_995_000n];
    const hop2 = signedTx(
      [{ utxo: { txid: tx1, vout: 0, value: hop1Outputs[0] ?? 0n, script: p2wpkhOf(x).script } }],
      [
        { script: p2wpkhOf(z).script, value: hop2Outputs[0] ?? 0n },
        { script: p2wpkhOf(w).script, value: hop2Outputs[1] ?? 0n },
      ],
      [x.secret],
    );
    tx2Raw = hop2.extract();
    expect((await simnet.submitTransaction(tx2Raw)).allowed).toBe(true);
    tx2 = hop2.id;
    const [hop2Block] = await simnet.mine(1, otherScript);
    // One more block mined to the miner inside the ban (December): attributed and flagged.
    const [d] = await simnet.mine(1, minerScript);
    await sync();
    hashes = { ...hashes, hop1Block: hop1Block ?? '', hop2Block: hop2Block ?? '', d: d ?? '' };

    const hop1Total = 3n * SUBSIDY;
    // Worked by hand: 5e9 × 7e9 / 15e9 = 2,333,333,333.3… → 2,333,333,333; 5e9 × 7,999,990,000 / 15e9 → 2,666,663,333.
    expect(share(SUBSIDY, 7_000_000_000n, hop1Total)).toBe(2_333_333_333n);
    expect(share(SUBSIDY, 7_999_990_000n, hop1Total)).toBe(2_666_663_333n);

    const origins = [attributionA, attributionB].sort();
    const hop1Out1 = await mining.provenance(supervisor, tx1, 1);
    expect(hop1Out1.provenance.map((p) => [p.origin.attributionId, p.sats]).sort()).toEqual(
      origins.map((origin) => [origin, 2_666_663_333n]),
    );
    expect(hop1Out1.taggedSats).toBe(2n * 2_666_663_333n);

    // Hop 2 from hop 1's output 0 (2,333,333,333 of each origin in 7e9).
    const p0 = share(2_333_333_333n, 3_000_000_000n, 7_000_000_000n);
    const p1 = share(2_333_333_333n, 3_999_995_000n, 7_000_000_000n);
    expect([p0, p1]).toEqual([999_999_999n, 1_333_331_666n]);
    for (const [vout, expected] of [
      [0, p0],
      [1, p1],
    ] as const) {
      const report = await mining.provenance(supervisor, tx2, vout);
      expect(report.blockHash).toBe(hashes.hop2Block);
      expect(report.provenance.map((p) => [p.origin.attributionId, p.sats]).sort()).toEqual(
        origins.map((o) => [o, expected]),
      );
      expect(report.provenance.map((p) => [p.origin.minerId, p.origin.regionCode]).sort()).toEqual([
        [minerId, 'north'],
        [minerId, 'north'],
      ]);
      // The path back: hop 2's output ← hop 1's output 0 ← the two coinbases.
      expect(report.path.from.map((n) => [n.txid, n.vout])).toEqual([[tx1, 0]]);
      expect(report.path.from[0]?.from.map((n) => [n.txid, n.vout, n.coinbase, n.height])).toEqual([
        [inputsA.txid, 0, true, 1],
        [inputsB.txid, 0, true, 2],
      ]);
    }
    // The transaction pages: hop 2 spends hop 1's output 0 (both origins in it), and its two
    // outputs carry the shares above; the coinbase lists its attributed output.
    const hop2View = await mining.transaction(supervisor, tx2);
    expect(hop2View.coinbase).toBe(false);
    expect(hop2View.blockHash).toBe(hashes.hop2Block);
    expect(
      hop2View.inputs.map((i) => [i.prevTxid, i.prevVout, i.valueSats, i.traced, i.coinbase]),
    ).toEqual([[tx1, 0, hop1Outputs[0], true, false]]);
    expect(hop2View.inputs[0]?.provenance.map((p) => [p.originId, p.sats]).sort()).toEqual(
      origins.map((o) => [o, 2_333_333_333n]),
    );
    expect(hop2View.outputs.map((o) => [o.vout, o.valueSats, o.taggedSats])).toEqual([
      [0, hop2Outputs[0], 2n * p0],
      [1, hop2Outputs[1], 2n * p1],
    ]);
    expect(hop2View.origins.map((o) => [o.attributionId, o.minerName, o.siteName])).toEqual([
      [attributionA, 'Northern Hash LLP', 'Site 1'],
      [attributionB, 'Northern Hash LLP', 'Site 1'],
    ]);
    // Hop 1 spent an untraced coinbase too: listed, not traced.
    const hop1View = await mining.transaction(supervisor, tx1);
    expect(hop1View.inputs.map((i) => [i.prevTxid, i.traced, i.coinbase])).toEqual([
      [inputsA.txid, true, true],
      [inputsB.txid, true, true],
      [untagged.txid, false, false],
    ]);
    const coinbaseView = await mining.transaction(supervisor, inputsA.txid);
    expect(coinbaseView.coinbase).toBe(true);
    expect(coinbaseView.inputs).toEqual([]);
    expect(coinbaseView.outputs.map((o) => [o.vout, o.taggedSats, o.spentByTxid])).toEqual([
      [0, SUBSIDY, tx1],
    ]);
    await expect(mining.transaction(supervisor, untagged.txid)).rejects.toThrow(
      /moved no traced mined coins/,
    );
    await expect(mining.transaction({ ...supervisor, role: 'company' }, tx2)).rejects.toThrow(
      /provenance is for/,
    );
    // Outputs of untraced coins carry no provenance.
    await expect(mining.provenance(supervisor, untagged.txid, 0)).rejects.toThrow(
      /carries no provenance/,
    );

    const violations = await oldestFirst(mining.listViolations(supervisor, {}, { limit: 500 }));
    expect(violations.map((v) => [v.height, v.blockHash])).toEqual([
      [2, hashes.b],
      [105, hashes.d],
    ]);
    // Hop 1 mixed an untagged coin in: its value came with the block, not from a chain call
    // made while the block's transaction was open (the guard would have failed the block).
    expect(guard.calls.some((call) => call.method === 'getChainBlock')).toBe(true);
    expect(guard.insideTransactions()).toEqual([]);
  }, 120_000);

  it('stays exact after a reorganization removes the second hop and the last in-ban block', async () => {
    await simnet.invalidateBlock(hashes.hop2Block);
    // The competing branch is mined in April 2027, after the season ended on 15 March 2027.
    clock.set('2027-04-01T00:00:00Z');
    const branch = await simnet.mineOn(hashes.hop1Block, 2, minerScript, { txs: [tx2Raw] });
    const result = await sync();
    expect(result).toMatchObject({ disconnected: 2, connected: 2 });

    const attributions = await oldestFirst(mining.listAttributions(supervisor, {}, { limit: 500 }));
    // The first block of the branch also collects hop 2's 5,000 sat fee.
    expect(attributions.map((row) => [row.height, row.blockHash, row.valueSats])).toEqual([
      [1, hashes.a, SUBSIDY],
      [2, hashes.b, SUBSIDY],
      [104, branch[0], SUBSIDY + 5_000n],
      [105, branch[1], SUBSIDY],
    ]);
    const violations = await oldestFirst(mining.listViolations(supervisor, {}, { limit: 500 }));
    expect(violations.map((v) => [v.attributionId, v.height, v.blockHash])).toEqual([
      [attributionB, 2, hashes.b],
    ]);

    // Hop 2 is confirmed again, in the branch's first block, with the same provenance.
    const origins = [attributionA, attributionB].sort();
    for (const [vout, expected] of [
      [0, 999_999_999n],
      [1, 1_333_331_666n],
    ] as const) {
      const report = await mining.provenance(supervisor, tx2, vout);
      expect(report.blockHash).toBe(branch[0]);
      expect(report.provenance.map((p) => [p.origin.attributionId, p.sats]).sort()).toEqual(
        origins.map((o) => [o, expected]),
      );
    }
    const hop1Out0 = await mining.provenance(supervisor, tx1, 0);
    expect(hop1Out0.provenance.map((p) => p.sats)).toEqual([2_333_333_333n, 2_333_333_333n]);

    // The branch's own coinbases start new provenance (whole value of one origin each).
    const branchCoinbase = coinbaseAt(104, minerScript);
    const fresh = await mining.provenance(supervisor, branchCoinbase.txid, 0);
    expect(fresh.provenance.map((p) => [p.origin.height, p.sats])).toEqual([
      [104, SUBSIDY + 5_000n],
    ]);

    // Statistics: July 2026, December 2026, April 2027, at 60,000.00 USD per BTC (no fixing is
    // published, so each day is valued at the latest rate stored by its end, this one).
    await db.orm
      .execute(sql`insert into exchange_rates (id, quote, digits, scale, at, method, sources)
      values ('rat_MININGSTATISTICS', 'USD', 6000000, 2, '2026-01-01T00:00:00Z', 'manual', '[]'::jsonb)`);
    const stats = await mining.statistics(supervisor, { currency: 'USD' });
    expect(stats.totals?.byMonth.map((m) => [m.month, m.sats, m.fiat?.minor])).toEqual([
      ['2026-07', SUBSIDY, 300_000_000n], // 50 BTC × 60,000.00 = 3,000,000.00 USD
      ['2026-12', SUBSIDY, 300_000_000n],
      ['2027-04', 2n * SUBSIDY + 5_000n, 600_000_300n], // + 0.00005 BTC × 60,000 = 3.00 USD
    ]);
    expect(stats.totals?.missingRateDays).toEqual([]);
  }, 120_000);

  it('refuses to attribute a payout address registered to a second miner', async () => {
    const second = await services.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Copycat Mining',
      country: 'PK',
    });
    await services.registry.grantLicence(supervisor, {
      participantId: second.id,
      kind: 'mining',
      scope: 'small site',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const site = await mining.registerSite(supervisor, {
      minerId: second.id,
      regionCode: 'north',
      name: 'Copy',
      gridConnection: 'LV',
      powerCapacityMw: '1',
      declaredHashrateThs: '100',
      commissioningDate: '2026-01-01',
    });
    const attempt = mining.registerPayoutAddress(supervisor, site.id, {
      address: p2wpkhOf(miner).address ?? '',
      kind: 'solo',
    });
    await expect(attempt).rejects.toSatisfy(
      (error) => error instanceof AppError && error.code === 'ADDRESS_ALREADY_ASSIGNED',
    );
    expect((await mining.listPayoutAddresses(supervisor, site.id)).items).toEqual([]);
  }, 60_000);
});

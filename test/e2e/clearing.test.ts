import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit';
import type { LotView } from '../../src/clearing';
import { AppError, type Caller } from '../../src/kernel';
import {
  openScheme,
  outboundTravelRule,
  regtest,
  regtestKey,
  supervisor,
  SUPPLIER,
  supplierAddress,
  type Scheme,
} from '../support/scheme';
import { TEST_DRIVERS } from '../support/db';

/**
 * Regulatory clearing end to end, on simnet and PGlite with the real chain watcher (trade, mining
 * and clearing consumers in each block's transaction) and the real trade services: a block mined
 * to a registered miner gives a cleared lot, one mined inside its region's ban a quarantined lot;
 * the quarantined coins, sold to an importer, cannot fund its payout to a foreign supplier
 * (ORIGIN_NOT_CLEARED, the payout waits) until the supervisor releases the lot; then the same
 * payout is batched, signed, broadcast and completed, and its change is cleared.
 */

const SUBSIDY = 5_000_000_000n;
const SOLD = 100_000_000n; // 1 BTC sold to the importer
const PAYOUT = 10_000_000n; // 0.1 BTC to the supplier
const minerKey = regtestKey(21);
const REASON = 'exemption: the site ran on its own hydro plant during the ban';

describe.each(TEST_DRIVERS)('regulatory clearing on simnet (%s)', (driver) => {
  let s: Scheme;
  let minerId = '';
  let cleared: LotView;
  let quarantined: LotView;
  let companyCoin = { txid: '', vout: 0 };
  let payoutId = '';

  async function lotAt(height: number): Promise<LotView> {
    const page = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    const lot = page.items.find((l) => l.height === height);
    if (!lot) throw new Error(`no lot at height ${height}`);
    return lot;
  }

  async function originEvents(id: string) {
    return (await listAuditEvents(s.db.orm, { entityId: id }, { limit: 100 })).items
      .filter((e) => e.action === 'payout.originNotCleared')
      .reverse(); // oldest first
  }

  async function refusal(run: Promise<unknown>): Promise<AppError> {
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  beforeAll(async () => {
    s = await openScheme({ seed: 31, driver });
    const miner = await s.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Andes Hash SAS',
      country: 'CO',
    });
    minerId = miner.id;
    await s.registry.grantLicence(supervisor, {
      participantId: minerId,
      kind: 'mining',
      scope: 'industrial mining',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2030-01-01T00:00:00Z',
    });
    await s.registry.createRegion(supervisor, {
      code: 'north',
      name: 'Northern region',
      timeZone: 'America/Bogota',
    });
    await s.mining.declareBan(supervisor, 'north', {
      kind: 'seasonal',
      seasonStart: '11-15',
      seasonEnd: '03-15',
      startYear: 2025,
      endYear: 2026,
      reason: 'dry-season grid load',
    });
    const minerCaller: Caller = {
      role: 'miner',
      participantId: minerId,
      platformId: null,
      actorId: 'key_miner',
      personId: 'key_miner',
      requestId: null,
    };
    const site = await s.mining.registerSite(minerCaller, {
      regionCode: 'north',
      name: 'Hydro site 1',
      gridConnection: '34.5 kV feeder',
      powerCapacityMw: '8',
      declaredHashrateThs: '200000',
      commissioningDate: '2026-01-15',
    });
    await s.mining.registerPayoutAddress(minerCaller, site.id, {
      address: minerKey.address,
      kind: 'solo',
    });
  }, 180_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it('clears a block mined to a registered miner and quarantines one mined inside a ban', async () => {
    const start = s.simnet.height;
    await s.simnet.mine(1, minerKey.address); // July: outside the season
    s.clock.set('2026-12-01T15:00:00Z'); // 1 December in Bogotá: inside it
    await s.simnet.mine(1, minerKey.address);
    await s.mine(100); // the coinbases mature; the watcher follows
    cleared = await lotAt(start + 1);
    quarantined = await lotAt(start + 2);
    expect(cleared).toMatchObject({
      minerId,
      regionCode: 'north',
      valueSats: SUBSIDY,
      status: 'cleared',
      quarantineReason: null,
    });
    expect(quarantined).toMatchObject({
      minerId,
      status: 'quarantined',
      clearance: 'quarantined',
      quarantineReason: 'MINED_IN_BAN',
    });
  }, 120_000);

  it('follows the quarantined coins to the importer that bought them', async () => {
    const address = await s.db.transaction(() =>
      s.registry.nextReceiveAddress(s.companyId, 'mined coins bought from Andes Hash'),
    );
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: quarantined.txid,
      index: quarantined.vout,
      witnessUtxo: { script: minerKey.output, value: SUBSIDY },
    });
    psbt.addOutput({ address: address.address, value: SOLD });
    psbt.addOutput({ address: minerKey.address, value: SUBSIDY - SOLD - 2_000n });
    psbt.signAllInputs(minerKey.key);
    psbt.finalizeAllInputs();
    const sale = psbt.extractTransaction();
    await s.source.broadcast(sale.toBuffer());
    await s.mine(1);
    companyCoin = { txid: sale.getId(), vout: 0 };
    // The sale settles as the domestic market would settle it (delivery against the fiat leg):
    // the coin is credited to the importer's client funds, so a payout may spend it by the
    // ledger's rules; only its origin is left to refuse it.
    await s.db.transaction(() =>
      s.ledger.post(supervisor, {
        kind: 'test.market-sale',
        reference: `${companyCoin.txid}:0`,
        platformId: s.platformId,
        rate: null,
        postings: [
          {
            account: {
              participantId: s.companyId,
              purpose: 'clientFunds',
              platformId: s.platformId,
            },
            amountSats: SOLD,
          },
          {
            account: {
              participantId: minerId,
              purpose: 'counterpartySettled',
              platformId: s.platformId,
            },
            amountSats: -SOLD,
          },
        ],
        settles: [companyCoin],
      }),
    );
    // floor(50 BTC quarantined × 1 BTC / 50 BTC of inputs): the whole coin.
    expect(
      await s.clearing.clearedShare(supervisor, companyCoin.txid, companyCoin.vout),
    ).toMatchObject({
      valueSats: SOLD,
      clearedSats: 0n,
      quarantinedSats: SOLD,
      clearedShareBasisPoints: 0,
    });
    expect((await lotAt(quarantined.height)).status).toBe('spent');
  }, 60_000);

  it('refuses a payout funded by quarantined coins with ORIGIN_NOT_CLEARED; the payout waits', async () => {
    const contract = await s.trade.contracts.create(s.maker, {
      companyId: s.companyId,
      counterpartyId: s.supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine, 120 kg batch',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '6000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: PAYOUT.toString(),
      schedule: [{ dueDate: '2027-01-15', amount: PAYOUT.toString() }],
    });
    await s.trade.contracts.transition(s.maker, contract.id, 'submit');
    await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
    await s.trade.contracts.transition(s.maker, contract.id, 'activate');
    const payout = await s.trade.payouts.create(s.maker, {
      contractId: contract.id,
      amount: PAYOUT.toString(),
      address: supplierAddress,
      travelRule: outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp),
    });
    payoutId = payout.id;
    await s.trade.payouts.approve(s.officerA, payoutId);
    expect((await s.trade.payouts.approve(s.officerB, payoutId)).status).toBe('awaitingPayment');

    // The rule is off (the default), yet quarantined coins never fund a payout.
    const off = await refusal(s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }));
    expect(off.code).toBe('ORIGIN_NOT_CLEARED');
    expect(off.details).toMatchObject({
      skipped: [{ companyId: s.companyId, code: 'ORIGIN_NOT_CLEARED' }],
    });
    expect(await originEvents(payoutId)).toHaveLength(1);

    // The supervisor turns the rule on: coins wholly cleared only.
    await s.clearing.setRule(supervisor, {
      thresholdBasisPoints: 10_000,
      reason: 'supplier payouts from cleared mined coins only',
    });
    const on = await refusal(s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }));
    expect(on.code).toBe('ORIGIN_NOT_CLEARED');
    expect(on.message).toContain('clearing.cleared-origin@1#v1');
    // Once per payout and rule version, however many runs.
    await refusal(s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }));
    const events = await originEvents(payoutId);
    expect(events.map((e) => (e.after as { rule: string | null }).rule)).toEqual([
      null,
      'clearing.cleared-origin@1#v1',
    ]);
    const waiting = await s.trade.payouts.get(s.maker, payoutId);
    expect(waiting.status).toBe('awaitingPayment');
    // The payout's view carries the last refusal by origin (the API words it for the company).
    expect(waiting.originRefusal).toMatchObject({
      code: 'ORIGIN_NOT_CLEARED',
      rule: 'clearing.cleared-origin@1#v1',
    });
    expect(waiting.originRefusal!.message).toContain('clearing.cleared-origin@1#v1');
    expect(waiting.batchId).toBeNull();
    expect(s.simnet.mempoolTxids()).toEqual([]);
  }, 120_000);

  it('lets the payout proceed once the supervisor releases the lot', async () => {
    await expect(s.clearing.release(supervisor, cleared.id, REASON)).rejects.toMatchObject({
      code: 'LOT_NOT_QUARANTINED',
    });
    const released = await s.clearing.release(supervisor, quarantined.id, REASON);
    expect(released).toMatchObject({ clearance: 'released', status: 'spent' });
    expect(
      await s.clearing.clearedShare(supervisor, companyCoin.txid, companyCoin.vout),
    ).toMatchObject({ clearedSats: SOLD, quarantinedSats: 0n, clearedShareBasisPoints: 10_000 });

    const batch = (await s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }))!;
    expect(batch.payoutIds).toEqual([payoutId]);
    expect(batch.txid).not.toBeNull();
    expect(s.simnet.mempoolTxids()).toEqual([batch.txid]);
    const sent = bitcoinjs.Transaction.fromBuffer(await s.source.getRawTransaction(batch.txid!));
    expect(sent.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).toEqual([
      companyCoin.txid,
    ]);
    await s.mine(2);
    expect((await s.trade.payouts.get(s.maker, payoutId)).status).toBe('completed');
    // The change back to the importer's wallet is cleared too (the haircut of a cleared coin).
    const changeVout = sent.outs.findIndex((o) => o.value !== PAYOUT);
    const change = await s.clearing.clearedShare(supervisor, batch.txid!, changeVout);
    expect(change.clearedShareBasisPoints).toBe(10_000);
    expect(change.quarantinedSats).toBe(0n);
  }, 120_000);

  it('undoes the lots of a disconnected block', async () => {
    const tip = s.simnet.tip();
    const before = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    // A block mined to the miner, then reorganized away by a longer branch paying someone else.
    await s.simnet.mine(1, minerKey.address);
    await s.watcher.syncOnce();
    const added = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    expect(added.items).toHaveLength(before.items.length + 1);
    const orphan = s.simnet.tip();
    await s.simnet.invalidateBlock(orphan.hash);
    expect(s.simnet.tip().hash).toBe(tip.hash);
    await s.mine(2);
    const after = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    expect(after.items.map((l) => l.id).sort()).toEqual(before.items.map((l) => l.id).sort());
  }, 120_000);
});

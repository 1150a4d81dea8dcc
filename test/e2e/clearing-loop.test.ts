import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../../src/bitcoin';
import {
  MarketService,
  SettlementWindowService,
  fiatPayee,
  SimulatedBank,
  type DealView,
  type LoopReport,
  type LotView,
  type OfferView,
  type WindowView,
} from '../../src/clearing';
import { stageLines } from '../../src/cli/commands/clearing';
import { parseRate, satsToFiat, SeededRandom, type AppError, type Caller } from '../../src/kernel';
import { FixedRateSource, FixingService, RateService } from '../../src/ledger';
import { schemeConfirmationDepth } from '../../src/trade';
import { TEST_DRIVERS, openTestDatabase } from '../support/db';
import {
  caller,
  openScheme,
  outboundTravelRule,
  regtest,
  regtestKey,
  supervisor,
  SUPPLIER,
  supplierAddress,
  type Scheme,
} from '../support/scheme';

/**
 * The loop of domestically mined coins end to end, on simnet with the real watcher and services:
 * a registered miner mines a block in July (a cleared lot) and one inside a seasonal ban (a
 * quarantined lot); it offers coins of the cleared lot on the market of platform B and deposits
 * them into escrow; an importer of platform A bids for its import contract; B matches them at the
 * reference-rate fixing, the bank confirms the fiat leg, the coins are delivered to the
 * importer's wallet (gross, on-chain); the fiat leg the importer paid its own platform A, owed by A
 * to the miner's platform B, and a bitcoin transfer from A to B are netted in a settlement window
 * that closes, is paid in and settles; the importer's payout to
 * its foreign supplier spends the delivered coin under the cleared-origin rule. The loop report
 * of the period then gives each stage's figures as the flows' own amounts, traces the deal from
 * its lot to its window and payout, names the quarantined lot as stuck, and costs a constant
 * number of queries.
 */

const COIN = 100_000_000n;
const OFFERED = COIN;
const BOUGHT = 40_000_000n;
const TRANSFER = 15_000_000n; // a transfer of 0.15 BTC from A to B, in the deal's window
const PAYOUT = 10_000_000n;
const COP_PER_BTC = '250000000';
const SPREAD = 150;
const B_SEED = new Uint8Array(32).fill(43);
const minerKey = regtestKey(22);

function escrowDescriptor(seed: Uint8Array): string {
  const signer = LocalKeySigner.fromSeed(seed, 'regtest');
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  return `wpkh([${fingerprint}/84h/1h/7h]${signer.accountXpub("m/84'/1'/7'")}/0/*)`;
}

describe.each(TEST_DRIVERS)('the loop of mined coins (%s)', (driver) => {
  let s: Scheme;
  let market: MarketService;
  let windows: SettlementWindowService;
  const bank = new SimulatedBank();
  let queries = 0;
  let B = '';
  let bOfficer: Caller;
  let minerId = '';
  let minerCaller: Caller;
  let cleared: LotView;
  let quarantined: LotView;
  let contractId = '';
  let offer: OfferView;
  let deal: DealView;
  let window: WindowView;
  let payoutId = '';
  let batchTxid = '';
  let fixingId = '';

  async function lotAt(height: number): Promise<LotView> {
    const lot = (await s.clearing.listLots(supervisor, {}, { limit: 500 })).items.find(
      (l) => l.height === height,
    );
    if (!lot) throw new Error(`no lot at height ${height}`);
    return lot;
  }

  async function minerPays(lot: LotView, address: string, value: bigint): Promise<string> {
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: lot.txid,
      index: lot.vout,
      witnessUtxo: { script: minerKey.output, value: lot.valueSats },
    });
    psbt.addOutput({ address, value });
    psbt.addOutput({ address: minerKey.address, value: lot.valueSats - value - 2_000n });
    psbt.signAllInputs(minerKey.key);
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction();
    await s.source.broadcast(tx.toBuffer());
    return tx.getId();
  }

  async function registerMiner(): Promise<void> {
    minerId = (
      await s.registry.registerParticipant(supervisor, {
        kind: 'miner',
        legalName: 'Cordillera Hash SAS',
        country: 'CO',
      })
    ).id;
    minerCaller = caller('miner', minerId, 'key_loop_miner', null);
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
    const site = await s.mining.registerSite(minerCaller, {
      regionCode: 'north',
      name: 'Hydro site 2',
      gridConnection: '34.5 kV feeder',
      powerCapacityMw: '8',
      declaredHashrateThs: '200000',
      commissioningDate: '2026-01-15',
    });
    await s.mining.registerPayoutAddress(minerCaller, site.id, {
      address: minerKey.address,
      kind: 'solo',
    });
  }

  /** Platform B: licensed, with its sealed key (the market's escrow signer). */
  async function registerPlatformB(): Promise<void> {
    B = (
      await s.registry.registerParticipant(supervisor, {
        kind: 'platform',
        legalName: 'Medellin Digital Custody SAS',
        country: 'CO',
      })
    ).id;
    await s.registry.grantLicence(supervisor, {
      participantId: B,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2029-01-01T00:00:00Z',
    });
    await s.db.transaction((tx) => s.trade.sealedKeys.store(tx, B, B_SEED, 'regtest', 1 << 12));
    bOfficer = caller('platform', B, 'key_b_officer', B);
  }

  async function activeImportContract(btc: bigint): Promise<string> {
    const contract = await s.trade.contracts.create(s.maker, {
      companyId: s.companyId,
      counterpartyId: s.supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine, 120 kg batch',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '30000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: btc.toString(),
      schedule: [{ dueDate: '2027-01-15', amount: btc.toString() }],
    });
    await s.trade.contracts.transition(s.maker, contract.id, 'submit');
    await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
    await s.trade.contracts.transition(s.maker, contract.id, 'activate');
    return contract.id;
  }

  beforeAll(async () => {
    const db = await openTestDatabase(driver, { onQuery: () => void (queries += 1) });
    s = await openScheme({ seed: 47, driver, db });
    const desk = new FixedRateSource('desk', s.clock, { COP: COP_PER_BTC, USD: '60000' });
    const fixings = new FixingService({
      db: s.db,
      clock: s.clock,
      random: new SeededRandom(7),
      sources: [desk],
    });
    await fixings.setSettings(supervisor, {
      cutoffTime: '16:00',
      currencies: ['COP'],
      sources: ['desk'],
      minSources: 1,
      maxDeviationBps: 200,
      singleSource: { reason: 'test scheme: the manual desk is the only source' },
    });
    const rates = new RateService({
      db: s.db,
      clock: s.clock,
      random: new SeededRandom(8),
      source: desk,
      fixings,
    });
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(77), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    windows = new SettlementWindowService({
      db: s.db,
      clock: s.clock,
      network: 'regtest',
      payInDescriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
      confirmationDepth: schemeConfirmationDepth,
      addressScreening: s.compliance.screening,
      // The nets valued at the cut-off day's fixing (else the desk's live rate) in COP.
      valuation: {
        currency: async () => (await fixings.settings()).currencies[0] ?? null,
        rateOn: (quote, date) => rates.valuationOn(quote, date),
      },
    });
    await s.watcher.registerConsumer(windows.chainConsumer());
    // A market whose deals between platforms are netted in the settlement windows.
    market = new MarketService({
      db: s.db,
      clock: s.clock,
      network: 'regtest',
      chain: s.source,
      registry: s.registry,
      contracts: s.trade.contracts,
      // Deals are valued as invoices are: the day's fixing, else the desk's live rate.
      rates,
      ledger: s.ledger,
      signers: s.trade.signers,
      bank,
      gate: s.compliance.gate,
      obligations: windows,
    });
    await registerMiner();
    await registerPlatformB();
    // ---- mined: a block in July (cleared), one inside the ban (quarantined); both mature.
    const start = s.simnet.height;
    await s.simnet.mine(1, minerKey.address);
    s.clock.set('2026-12-01T15:00:00Z');
    await s.simnet.mine(1, minerKey.address);
    await s.mine(100);
    cleared = await lotAt(start + 1);
    quarantined = await lotAt(start + 2);
    fixingId = (await fixings.publish(supervisor, { quote: 'COP' })).id;
    await market.setSettings(bOfficer, {
      currency: 'COP',
      spreadBasisPoints: SPREAD,
      deadlineSeconds: 3600,
      escrowDescriptor: escrowDescriptor(B_SEED),
    });
    contractId = await activeImportContract(50_000_000n);
  }, 300_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it('sells cleared coins of the lot to an importer of another platform, delivered against payment', async () => {
    expect([cleared.status, quarantined.status]).toEqual(['cleared', 'quarantined']);
    offer = await market.createOffer(minerCaller, {
      platformId: B,
      lotId: cleared.id,
      amountSats: OFFERED,
    });
    const deposit = await minerPays(cleared, offer.escrowAddress, OFFERED);
    await s.mine(1);
    offer = await market.recordDeposit(minerCaller, offer.id, deposit);
    const bid = await market.createBid(s.company, {
      platformId: B,
      contractId,
      amountSats: BOUGHT,
    });
    deal = await market.match(bOfficer, { offerId: offer.id, bidId: bid.id });
    expect(deal).toMatchObject({ minerPlatformId: B, importerPlatformId: s.platformId });
    bank.deposit(s.companyId, 20_000_000_000n, 'COP');
    // The importer pays its own platform (A), which then owes the miner's platform (B).
    expect(fiatPayee(deal)).toBe(s.platformId);
    bank.transfer({
      from: s.companyId,
      to: fiatPayee(deal),
      amountMinor: deal.fiatMinor,
      currency: 'COP',
      dealReference: deal.id,
    });
    expect((await market.tick()).confirmed).toEqual([deal.id]);
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([deal.id]);
    deal = await market.getDeal(supervisor, deal.id);
    expect(deal.status).toBe('settled');
  }, 180_000);

  it('nets the platforms’ obligations in a settlement window that closes and settles', async () => {
    // A transfer of bitcoin from A to B, in the same window as the deal's fiat leg (the deal's
    // coins went gross on-chain: no bitcoin obligation of its own).
    await s.db.transaction((tx) =>
      windows.record(
        {
          source: 'transfer',
          sourceId: 'trf_loop_1',
          from: s.platformId,
          to: B,
          asset: 'BTC',
          amount: TRANSFER,
          at: s.clock.now(),
        },
        tx,
      ),
    );
    await windows.setSchedule(supervisor, {
      periodMinutes: 60,
      payInMinutes: 30,
      reason: 'hourly windows, pay-in within 30 minutes (scheme rule 4.2)',
    });
    s.clock.set('2026-12-01T16:00:05Z');
    const { closed } = await windows.runDue();
    expect(closed).toHaveLength(1);
    window = await windows.getWindow(supervisor, closed[0]!);
    const payIns = (await windows.listPayIns(supervisor, window.id)).items;
    const btc = payIns.find((p) => p.asset === 'BTC')!;
    expect(btc).toMatchObject({ platformId: s.platformId, amountDue: TRANSFER });
    await s.payFromMiner(btc.address!, btc.amountDue);
    await s.mine(1);
    const fiat = {
      amount: deal.fiatMinor,
      currency: 'COP',
      bankReference: 'BANREP-2026-12-01-0001',
    };
    // Four eyes: recorded by one person, counted when another confirms it.
    await windows.confirmFiatPayIn(supervisor, window.id, s.platformId, fiat);
    await windows.confirmFiatPayIn(
      caller('supervisor', 'system', 'key_supervisor_b', null),
      window.id,
      s.platformId,
      fiat,
    );
    window = await windows.getWindow(supervisor, window.id);
    expect(window.status).toBe('settled');
  }, 120_000);

  it("pays the importer's foreign supplier with the delivered coins (cleared origin)", async () => {
    await s.clearing.setRule(supervisor, {
      thresholdBasisPoints: 10_000,
      reason: 'supplier payouts from cleared mined coins only',
    });
    const payout = await s.trade.payouts.create(s.maker, {
      contractId,
      amount: PAYOUT.toString(),
      address: supplierAddress,
      travelRule: outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp),
    });
    payoutId = payout.id;
    await s.trade.payouts.approve(s.officerA, payout.id);
    await s.trade.payouts.approve(s.officerB, payout.id);
    const batch = (await s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }))!;
    batchTxid = batch.txid!;
    const sent = bitcoinjs.Transaction.fromBuffer(await s.source.getRawTransaction(batchTxid));
    expect(sent.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).toEqual([
      deal.deliveryTxid,
    ]);
    await s.mine(2);
    expect((await s.trade.payouts.get(s.maker, payout.id)).status).toBe('completed');
  }, 120_000);

  describe('the loop report of the period', () => {
    let report: LoopReport;
    let used = 0;
    const period = { from: new Date('2026-07-01'), to: new Date('2027-01-01') };

    beforeAll(async () => {
      const before = queries;
      report = await s.clearing.loop(supervisor, period);
      used = queries - before;
    });

    it('gives what was mined and its clearance as the lots’ own values', () => {
      expect(report.mined).toMatchObject({
        lots: 2,
        sats: cleared.valueSats + quarantined.valueSats,
        miners: 1,
      });
      // By month (of each lot's block) and region (of its site), by clearance.
      const month = (lot: LotView) => lot.blockTime.toISOString().slice(0, 7);
      const group = (lot: LotView, clearance: 'cleared' | 'quarantined') => ({
        month: month(lot),
        regionCode: lot.regionCode,
        lots: 1,
        sats: lot.valueSats,
        cleared: { count: 0, sats: 0n },
        quarantined: { count: 0, sats: 0n },
        released: { count: 0, sats: 0n },
        [clearance]: { count: 1, sats: lot.valueSats },
      });
      expect(month(cleared)).not.toBe(month(quarantined));
      expect(report.mined.byMonthRegion).toEqual(
        [group(cleared, 'cleared'), group(quarantined, 'quarantined')].sort((a, b) =>
          a.month.localeCompare(b.month),
        ),
      );
      expect(report.clearance).toEqual({
        cleared: { count: 1, sats: cleared.valueSats },
        quarantined: { count: 1, sats: quarantined.valueSats },
        released: { count: 0, sats: 0n },
        offers: 1,
        offeredSats: OFFERED,
      });
    });

    it('gives the deal at its fixing, between the two platforms', () => {
      expect(report.sold).toMatchObject({
        deals: 1,
        sats: BOUGHT,
        deliveredSats: deal.deliveredSats,
        feeSats: deal.feeSats,
        byStatus: [{ status: 'settled', deals: 1, sats: BOUGHT }],
        routes: [
          {
            minerPlatformId: B,
            importerPlatformId: s.platformId,
            crossPlatform: true,
            deals: 1,
            sats: BOUGHT,
          },
        ],
        fixings: [
          {
            fixingId,
            quote: 'COP',
            date: '2026-12-01',
            referenceRate: COP_PER_BTC,
            deals: 1,
            sats: BOUGHT,
          },
        ],
        currencies: [{ currency: 'COP', deals: 1, fiatMinor: deal.fiatMinor }],
      });
      expect(deal.fixingId).toBe(fixingId);
    });

    it('nets gross obligations into net positions, paid in and out', () => {
      const netted = report.netted.windows.find((w) => w.id === window.id)!;
      expect(netted.status).toBe('settled');
      const asset = (name: string) => netted.assets.find((a) => a.asset === name);
      expect(asset('BTC')).toMatchObject({
        obligations: 1,
        dealObligations: 0,
        gross: TRANSFER,
        net: TRANSFER,
        unpaid: 0n,
        paidIn: TRANSFER,
        paidOut: TRANSFER,
      });
      expect(asset('COP')).toMatchObject({
        obligations: 1,
        dealObligations: 1,
        gross: deal.fiatMinor,
        net: deal.fiatMinor,
        paidIn: deal.fiatMinor,
      });
      // Valued at close at the day's fixing, which the report lists with the deal's.
      expect(netted.valuation).toEqual({
        currency: 'COP',
        rate: COP_PER_BTC,
        fixingId,
        unavailableReason: null,
      });
      const copPerBtc = parseRate(COP_PER_BTC, 'COP');
      expect(asset('BTC')?.netValueMinor).toBe(satsToFiat(TRANSFER, copPerBtc, 'halfEven').minor);
      expect(asset('COP')?.netValueMinor).toBe(deal.fiatMinor);
      expect(report.fixings).toEqual([
        {
          fixingId,
          quote: 'COP',
          date: '2026-12-01',
          version: 1,
          usedBy: ['deals', 'windows', 'stages'],
        },
      ]);
      expect(report.netted.totals).toEqual([
        { asset: 'BTC', gross: TRANSFER, net: TRANSFER, unpaid: 0n },
        { asset: 'COP', gross: deal.fiatMinor, net: deal.fiatMinor, unpaid: 0n },
      ]);
    });

    it('values the lots and the deal’s sats at the fixing of their day, naming it', () => {
      // Only 2026-12-01 has a COP fixing: the quarantined lot's block and the deal fall on it,
      // the cleared lot's July block does not (its sats stay unvalued, not valued at December's).
      const day = (at: Date) => at.toISOString().slice(0, 10);
      expect(day(quarantined.blockTime)).toBe('2026-12-01');
      expect(day(deal.createdAt)).toBe('2026-12-01');
      expect(day(cleared.blockTime)).not.toBe('2026-12-01');
      const copPerBtc = parseRate(COP_PER_BTC, 'COP');
      const atFixing = (sats: bigint) => ({
        sats,
        valuedSats: sats,
        valueMinor: satsToFiat(sats, copPerBtc, 'halfEven').minor,
        unvaluedDays: [],
        fixingIds: [fixingId],
      });
      expect(report.valuations).toEqual([
        {
          currency: 'COP',
          stages: [
            {
              stage: 'cleared',
              sats: cleared.valueSats,
              valuedSats: 0n,
              valueMinor: 0n,
              unvaluedDays: [day(cleared.blockTime)],
              fixingIds: [],
            },
            { stage: 'quarantined', ...atFixing(quarantined.valueSats) },
            {
              stage: 'released',
              sats: 0n,
              valuedSats: 0n,
              valueMinor: 0n,
              unvaluedDays: [],
              fixingIds: [],
            },
            { stage: 'sold', ...atFixing(BOUGHT) },
          ],
        },
      ]);
      // The deal's sats at the reference rate, not at its price (the rate plus the spread).
      expect(report.valuations[0]?.stages[3]?.valueMinor).toBeLessThan(deal.fiatMinor);
    });

    it('gives the payout abroad that spends the delivered coin, under the rule in force', () => {
      expect(report.paidAbroad).toMatchObject({
        deliveredCoins: 1,
        deliveredSats: deal.deliveredSats,
        spentSats: deal.deliveredSats,
        unspentSats: 0n,
        payouts: 1,
        payoutSats: PAYOUT,
        completedPayouts: 1,
        completedSats: PAYOUT,
        rule: { thresholdBasisPoints: 10_000 },
      });
    });

    it('gives every payout abroad by partner country and HS chapter, with its cleared share', () => {
      // The batch spent only the delivered coin, wholly from the cleared lot (the rule at 100 %
      // let it through), so the whole payout counts as paid with cleared coins.
      const paid = {
        payouts: 1,
        sats: PAYOUT,
        clearedSats: PAYOUT,
        clearedShareBasisPoints: 10_000,
      };
      expect(report.paidAbroad.byPartner).toEqual([
        { country: SUPPLIER.country, hsChapter: '84', ...paid },
      ]);
      expect(report.paidAbroad.settled).toEqual(paid);
    });

    it('traces the deal from its lot through its window to the payout', () => {
      expect(report.trace).toEqual([
        expect.objectContaining({
          dealId: deal.id,
          offerId: offer.id,
          lotId: cleared.id,
          lotClearance: 'cleared',
          minerId,
          companyId: s.companyId,
          deliveryTxid: deal.deliveryTxid,
          windowIds: [window.id],
          spentByTxid: batchTxid,
          payoutIds: [payoutId],
        }),
      ]);
      expect(report.names[minerId]).toBe('Cordillera Hash SAS');
      expect(report.names[B]).toBe('Medellin Digital Custody SAS');
    });

    it('names the quarantined lot as stuck, and nothing else', () => {
      expect(report.stuck).toMatchObject({
        quarantinedLots: 1,
        heldDeals: 0,
        unsettledDeals: 0,
        unpaidWindows: 0,
      });
      expect(report.stuck.items).toEqual([
        expect.objectContaining({
          kind: 'quarantinedLot',
          id: quarantined.id,
          partyId: minerId,
          sats: quarantined.valueSats,
          detail: 'MINED_IN_BAN',
        }),
      ]);
    });

    it('costs ten queries, and prints one headed line per stage', () => {
      expect(used).toBe(10);
      const lines = stageLines(report);
      expect(lines.map((l) => l.stage)).toEqual([
        'mined',
        'cleared',
        'quarantined',
        'released',
        'offered',
        'sold',
        '  paid COP',
        'delivered',
        'netted BTC',
        'netted COP',
        'paid abroad',
        'stuck',
      ]);
      expect(lines.find((l) => l.stage === 'netted BTC')?.amount).toBe(`${TRANSFER} gross`);
    });

    it('is for the supervisor and auditors only, over a sound period', async () => {
      const refused = await s.clearing.loop(s.maker, period).catch((e: unknown) => e);
      expect((refused as AppError).code).toBe('FORBIDDEN');
      const backwards = await s.clearing
        .loop(supervisor, { from: period.to, to: period.from })
        .catch((e: unknown) => e);
      expect((backwards as AppError).code).toBe('VALIDATION_FAILED');
      const auditor = caller('auditor', 'par_auditor', 'key_auditor', null);
      const empty = await s.clearing.loop(auditor, {
        from: new Date('2026-01-01'),
        to: new Date('2026-02-01'),
      });
      expect(empty.mined.lots).toBe(0);
      expect(empty.trace).toEqual([]);
    });
  });
});

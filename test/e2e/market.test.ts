import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit';
import { LocalKeySigner } from '../../src/bitcoin';
import {
  MarketService,
  fiatPayee,
  SimulatedBank,
  type DealView,
  type LotView,
  type MarketObligation,
  type OfferView,
} from '../../src/clearing';
import type { Orm } from '../../src/db';
import { AppError, currency, formatRate, SeededRandom, type Caller } from '../../src/kernel';
import { FixedRateSource, FixingService, RateService } from '../../src/ledger';
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
import { TEST_DRIVERS } from '../support/db';
import { readBatch } from '../../src/compliance/policy/store';

/**
 * The domestic market end to end, on simnet with the real watcher (trade, mining and clearing
 * consumers), the real trade services and ledger, and the governed reference rate: a block mined
 * to a registered miner gives a cleared lot; the miner offers coins of it and deposits them into
 * the offer's escrow address (the platform's key); the importer bids for its import contract; the
 * platform matches them at the fixing plus its spread; the simulated bank confirms the fiat leg,
 * and only then are the coins delivered on-chain to the importer's wallet, credited to its client
 * funds and, under the cleared-origin rule, spent on its payout to a foreign supplier. Also: a
 * deal whose fiat leg never comes is unwound at its deadline, and every bad input is refused with
 * its code and nothing written.
 */

const COIN = 100_000_000n;
const OFFERED = COIN; // 1 BTC offered
const BOUGHT = 40_000_000n; // 0.4 BTC bought by the importer
const PAYOUT = 10_000_000n; // 0.1 BTC paid to the supplier
const COP_PER_BTC = '250000000'; // the desk's quote: 250 million pesos per bitcoin
const SPREAD = 150; // basis points over the reference rate
// 0.4 BTC × 250,000,000 × 1.015 = 101,500,000.00 COP, in centavos.
const FIAT = 10_150_000_000n;
const ESCROW_SEED = new Uint8Array(32).fill(42); // the platform's sealed key (openScheme's)
const minerKey = regtestKey(21);

function escrowDescriptor(): string {
  const signer = LocalKeySigner.fromSeed(ESCROW_SEED, 'regtest');
  const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
  return `wpkh([${fingerprint}/84h/1h/7h]${signer.accountXpub("m/84'/1'/7'")}/0/*)`;
}

async function refusal(run: Promise<unknown>): Promise<AppError> {
  const error = await run.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AppError);
  return error as AppError;
}

describe.each(TEST_DRIVERS)('the domestic market for cleared coins on simnet (%s)', (driver) => {
  let s: Scheme;
  let market: MarketService;
  let bank: SimulatedBank;
  const obligations: MarketObligation[] = [];
  let minerId = '';
  let minerCaller: Caller;
  let cleared: LotView;
  let quarantined: LotView;
  let contractId = '';
  let offer: OfferView;
  let deal: DealView;
  let rates: RateService;
  let desk: FixedRateSource;
  let fixings: FixingService;
  let fixingId = '';

  async function lotAt(height: number): Promise<LotView> {
    const page = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    const lot = page.items.find((l) => l.height === height);
    if (!lot) throw new Error(`no lot at height ${height}`);
    return lot;
  }

  /** The miner spends its lot's coinbase: `value` to `address`, the rest back to itself. */
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

  /** A fresh import contract of the company (fixed in BTC), moved to `state`. */
  async function importContract(state: 'draft' | 'active', btc: bigint): Promise<string> {
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
    if (state === 'active') {
      await s.trade.contracts.transition(s.maker, contract.id, 'submit');
      await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
      await s.trade.contracts.transition(s.maker, contract.id, 'activate');
    }
    return contract.id;
  }

  async function auditActions(id: string): Promise<string[]> {
    return (await listAuditEvents(s.db.orm, { entityId: id }, { limit: 100 })).items
      .map((e) => e.action)
      .reverse();
  }

  beforeAll(async () => {
    s = await openScheme({ seed: 41, driver });
    // ---- the reference rate: the desk alone, as the supervisor explicitly allows here.
    desk = new FixedRateSource('desk', s.clock, { COP: COP_PER_BTC, USD: '60000' });
    fixings = new FixingService({
      db: s.db,
      clock: s.clock,
      random: new SeededRandom(5),
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
    bank = new SimulatedBank();
    rates = new RateService({
      db: s.db,
      clock: s.clock,
      random: new SeededRandom(6),
      source: desk,
      fixings,
    });
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
      obligations: {
        record: (o: MarketObligation, _tx: Orm) => Promise.resolve(void obligations.push(o)),
      },
    });
    // ---- a registered miner with a site in a region with a seasonal ban.
    const miner = await s.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Andes Hash SAS',
      country: 'CO',
    });
    minerId = miner.id;
    minerCaller = caller('miner', minerId, 'key_miner', null);
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
    // ---- one block in July (cleared), one inside the ban (quarantined); both mature.
    const start = s.simnet.height;
    await s.simnet.mine(1, minerKey.address);
    s.clock.set('2026-12-01T15:00:00Z');
    await s.simnet.mine(1, minerKey.address);
    await s.mine(100);
    cleared = await lotAt(start + 1);
    quarantined = await lotAt(start + 2);
    expect(cleared.status).toBe('cleared');
    expect(quarantined.status).toBe('quarantined');
    fixingId = (await fixings.publish(supervisor, { quote: 'COP' })).id;
    // ---- the platform opens its market; the importer has an active import contract of 0.5 BTC.
    await market.setSettings(s.maker, {
      currency: 'COP',
      spreadBasisPoints: SPREAD,
      deadlineSeconds: 3600,
      escrowDescriptor: escrowDescriptor(),
    });
    contractId = await importContract('active', 50_000_000n);
  }, 300_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it('refuses offers of quarantined coins and beyond what the lot holds, writing nothing', async () => {
    const input = { platformId: s.platformId, amountSats: OFFERED };
    expect(
      (await refusal(market.createOffer(minerCaller, { ...input, lotId: quarantined.id }))).code,
    ).toBe('LOT_QUARANTINED');
    expect(
      (
        await refusal(
          market.createOffer(minerCaller, { ...input, lotId: cleared.id, amountSats: 51n * COIN }),
        )
      ).code,
    ).toBe('LOT_NOT_AVAILABLE');
    // Another participant's lot is no lot to a miner; a company cannot offer at all.
    const other = caller('miner', s.companyId, 'key_other_miner', null);
    expect((await refusal(market.createOffer(other, { ...input, lotId: cleared.id }))).code).toBe(
      'NOT_FOUND',
    );
    expect(
      (await refusal(market.createOffer(s.company, { ...input, lotId: cleared.id }))).code,
    ).toBe('FORBIDDEN');
    expect((await market.listOffers(supervisor, {})).items).toEqual([]);
  });

  it('offers cleared coins into escrow: matched only once the deposit is confirmed and cleared', async () => {
    offer = await market.createOffer(minerCaller, {
      platformId: s.platformId,
      lotId: cleared.id,
      amountSats: OFFERED,
    });
    expect(offer).toMatchObject({ status: 'awaitingDeposit', availableSats: OFFERED });
    // The rest of the lot may still be offered, but not more than it holds.
    expect(
      (
        await refusal(
          market.createOffer(minerCaller, {
            platformId: s.platformId,
            lotId: cleared.id,
            amountSats: 50n * COIN - OFFERED + 1n,
          }),
        )
      ).code,
    ).toBe('LOT_NOT_AVAILABLE');

    const bid = await market.createBid(s.company, {
      platformId: s.platformId,
      contractId,
      amountSats: BOUGHT,
    });
    expect((await refusal(market.match(s.maker, { offerId: offer.id, bidId: bid.id }))).code).toBe(
      'ESCROW_NOT_FUNDED',
    );

    // Quarantined coins paid into the escrow are no deposit (a deal must carry cleared coins).
    const tainted = await minerPays(quarantined, offer.escrowAddress, OFFERED);
    await s.mine(1);
    expect((await refusal(market.recordDeposit(minerCaller, offer.id, tainted))).code).toBe(
      'LOT_QUARANTINED',
    );
    expect((await market.getOffer(minerCaller, offer.id)).status).toBe('awaitingDeposit');

    const txid = await minerPays(cleared, offer.escrowAddress, OFFERED);
    // Seen in the mempool only: not yet a deposit.
    expect((await refusal(market.recordDeposit(minerCaller, offer.id, txid))).code).toBe(
      'ESCROW_NOT_FUNDED',
    );
    await s.mine(1);
    offer = await market.recordDeposit(minerCaller, offer.id, txid);
    expect(offer).toMatchObject({ status: 'open', depositTxid: txid });
    expect((await lotAt(cleared.height)).status).toBe('spent');

    deal = await market.match(s.maker, { offerId: offer.id, bidId: bid.id });
    expect(deal).toMatchObject({
      status: 'awaitingPayment',
      amountSats: BOUGHT,
      currency: 'COP',
      fiatMinor: FIAT,
      referenceRate: COP_PER_BTC,
      spreadBasisPoints: SPREAD,
      minerId,
      companyId: s.companyId,
    });
    // Valued through the ledger's helper invoices use: the stored rate names the day's fixing.
    expect(deal.fixingId).toBe(fixingId);
    const stored = await rates.get(deal.rateId!);
    expect(stored).toMatchObject({ fixingId, method: expect.stringContaining(fixingId) as string });
    expect(formatRate(stored.rate)).toBe(deal.referenceRate);
    expect((await market.getOffer(minerCaller, offer.id)).availableSats).toBe(OFFERED - BOUGHT);
    // Miner and importer sit at the same platform: no inter-platform obligation.
    expect(obligations).toEqual([]);
  }, 120_000);

  it('refuses bids without an active import contract and beyond the open amount', async () => {
    const draft = await importContract('draft', 50_000_000n);
    const bid = (contract: string, amount: bigint) =>
      market.createBid(s.company, {
        platformId: s.platformId,
        contractId: contract,
        amountSats: amount,
      });
    expect((await refusal(bid(draft, BOUGHT))).code).toBe('IMPORT_CONTRACT_REQUIRED');
    // 0.5 BTC open, 0.4 BTC in the live deal: 0.1 BTC left.
    const beyond = await refusal(bid(contractId, 10_000_001n));
    expect(beyond.code).toBe('AMOUNT_EXCEEDS_OPEN');
    expect(beyond.details).toMatchObject({ openSats: '50000000', committedSats: '40000000' });
    expect(
      (
        await refusal(
          market.createBid(s.maker, { platformId: s.platformId, contractId, amountSats: 1n }),
        )
      ).code,
    ).toBe('FORBIDDEN');
    expect((await market.listBids(s.company, { status: 'open' })).items).toEqual([]);
  });

  it('releases the coins only when the bank confirms the fiat leg of the right amount', async () => {
    // A confirmation of the wrong amount is refused and changes nothing.
    const before = await auditActions(deal.id);
    const wrong = await refusal(
      market.confirm(s.officerA, deal.id, {
        amountMinor: (FIAT - 1n).toString(),
        currency: 'COP',
        bankReference: 'WRONG-1',
      }),
    );
    expect(wrong.code).toBe('FIAT_AMOUNT_MISMATCH');
    // The officer who matched the deal cannot release its coins on their own word.
    expect(
      (
        await refusal(
          market.confirm(s.maker, deal.id, {
            amountMinor: FIAT.toString(),
            currency: 'COP',
            bankReference: 'SELF-1',
          }),
        )
      ).code,
    ).toBe('SELF_APPROVAL');
    expect((await market.getDeal(s.maker, deal.id)).status).toBe('awaitingPayment');
    expect(await auditActions(deal.id)).toEqual(before);
    expect(s.simnet.mempoolTxids()).toEqual([]);
    // Nobody but the market's platform confirms a fiat leg.
    expect(
      (
        await refusal(
          market.confirm(s.company, deal.id, {
            amountMinor: FIAT.toString(),
            currency: 'COP',
            bankReference: 'X',
          }),
        )
      ).code,
    ).toBe('FORBIDDEN');

    // The importer pays through its bank; the platform reads the confirmation in market.tick.
    bank.deposit(s.companyId, 20_000_000_000n, 'COP');
    const reference = bank.transfer({
      from: s.companyId,
      to: minerId,
      amountMinor: FIAT,
      currency: 'COP',
      dealReference: deal.id,
    });
    const ticked = await market.tick();
    expect(ticked.confirmed).toEqual([deal.id]);
    deal = await market.getDeal(s.maker, deal.id);
    expect(deal).toMatchObject({ status: 'delivered', bankReference: reference });
    expect(bank.balance(minerId, 'COP')).toBe(FIAT);
    expect(s.simnet.mempoolTxids()).toEqual([deal.deliveryTxid]);
    const sent = bitcoinjs.Transaction.fromBuffer(
      await s.source.getRawTransaction(deal.deliveryTxid!),
    );
    expect(sent.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).toEqual([
      offer.depositTxid,
    ]);
    const [toImporter, change] = sent.outs;
    expect(BigInt(toImporter!.value)).toBe(deal.deliveredSats);
    expect(deal.deliveredSats! + deal.feeSats!).toBe(BOUGHT);
    expect(BigInt(change!.value)).toBe(OFFERED - BOUGHT); // back to the escrow
    const owners = await s.registry.walletAddressOwners([
      bitcoinjs.address.fromOutputScript(toImporter!.script, regtest),
    ]);
    expect([...owners.values()].map((o) => o.companyId)).toEqual([s.companyId]);

    // Confirming twice is refused.
    expect(
      (
        await refusal(
          market.confirm(s.officerA, deal.id, {
            amountMinor: FIAT.toString(),
            currency: 'COP',
            bankReference: reference,
          }),
        )
      ).code,
    ).toBe('DEAL_ALREADY_CONFIRMED');

    // The watcher sees the delivery: the importer's coin is watched and wholly cleared.
    await s.mine(1);
    expect(await s.clearing.clearedShare(supervisor, deal.deliveryTxid!, 0)).toMatchObject({
      valueSats: deal.deliveredSats,
      clearedShareBasisPoints: 10_000,
    });
    expect((await market.tick()).settled).toEqual([deal.id]);
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmed',
      'market_deal.broadcast',
      'market_deal.settled',
    ]);
  }, 120_000);

  it("lets the importer's payout to its foreign supplier spend those coins (cleared origin)", async () => {
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
    await s.trade.payouts.approve(s.officerA, payout.id);
    expect((await s.trade.payouts.approve(s.officerB, payout.id)).status).toBe('awaitingPayment');
    const batch = (await s.trade.payouts.runBatch(s.maker, s.platformId, { force: true }))!;
    expect(batch.payoutIds).toEqual([payout.id]);
    const sent = bitcoinjs.Transaction.fromBuffer(await s.source.getRawTransaction(batch.txid!));
    expect(sent.ins.map((i) => Buffer.from(i.hash).reverse().toString('hex'))).toEqual([
      deal.deliveryTxid,
    ]);
    await s.mine(2);
    expect((await s.trade.payouts.get(s.maker, payout.id)).status).toBe('completed');
  }, 120_000);

  it('unwinds a deal whose fiat leg is not confirmed by its deadline', async () => {
    const bid = await market.createBid(s.company, {
      platformId: s.platformId,
      contractId,
      amountSats: PAYOUT,
    });
    const late = await market.match(s.maker, { offerId: offer.id, bidId: bid.id });
    expect((await market.getOffer(minerCaller, offer.id)).availableSats).toBe(
      OFFERED - BOUGHT - PAYOUT,
    );
    // Monitoring's window over the importer's transfers counts the coin leg allowed at matching…
    const counted = async () => {
      const [window] = (
        await readBatch(s.db.orm, {
          items: [
            {
              transferId: 'probe',
              direction: 'inbound',
              companyId: s.companyId,
              counterpartyId: late.minerId,
              counterpartyAddress: '',
              amountSats: 1n,
              fiatMinor: 1n,
              fiatCurrency: 'COP',
              occurredAt: s.clock.now(),
            },
          ],
          specs: [{ hours: 24 * 366 }],
          parties: [],
          nodes: [],
        })
      ).windows[0]!;
      return window!.count;
    };
    s.clock.advance(3601 * 1000);
    const countedMatched = await counted();
    const past = await refusal(
      market.confirm(s.officerA, late.id, {
        amountMinor: late.fiatMinor.toString(),
        currency: 'COP',
        bankReference: 'LATE-1',
      }),
    );
    expect(past.code).toBe('DEAL_PAST_DEADLINE');
    expect((await market.getDeal(supervisor, late.id)).status).toBe('awaitingPayment');

    expect((await market.tick()).unwound).toEqual([late.id]);
    expect((await market.getDeal(minerCaller, late.id)).status).toBe('unwound');
    // The escrowed sats are the miner's to sell again; the importer's bid lapsed.
    expect((await market.getOffer(minerCaller, offer.id)).availableSats).toBe(OFFERED - BOUGHT);
    expect((await market.listBids(s.company, { status: 'lapsed' })).items.map((b) => b.id)).toEqual(
      [bid.id],
    );
    expect(await auditActions(late.id)).toEqual([
      'market_deal.matched',
      'compliance_transfer.voided',
      'market_deal.unwound',
    ]);
    // …until it is unwound: no coins moved, so monitoring no longer counts it.
    expect(await counted()).toBe(countedMatched - 1);
    // A confirmation arriving after the unwinding is refused too; a second tick does nothing.
    expect(
      (
        await refusal(
          market.confirm(s.officerA, late.id, {
            amountMinor: late.fiatMinor.toString(),
            currency: 'COP',
            bankReference: 'LATE-2',
          }),
        )
      ).code,
    ).toBe('DEAL_PAST_DEADLINE');
    expect((await market.tick()).unwound).toEqual([]);
  }, 120_000);

  it('shows each party its own deals only, and pages them', async () => {
    const all = await market.listDeals(supervisor, {}, { limit: 1 });
    expect(all.items).toHaveLength(1);
    expect(all.nextCursor).not.toBeNull();
    const next = await market.listDeals(supervisor, {}, { limit: 1, cursor: all.nextCursor });
    expect(next.items).toHaveLength(1);
    expect(next.items[0]!.id).not.toBe(all.items[0]!.id);
    const stranger = caller('company', s.buyerId, 'key_stranger', s.platformId);
    expect((await market.listDeals(stranger, {})).items).toEqual([]);
    expect((await refusal(market.getDeal(stranger, deal.id))).code).toBe('NOT_FOUND');
    expect((await market.listDeals(minerCaller, {})).items).toHaveLength(2);
  });
  it('owes the fiat leg between the platforms when the importer sits at another: one obligation, once settled', async () => {
    const other = await s.registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Medellin Digital Custody SAS',
      country: 'CO',
    });
    await s.registry.grantLicence(supervisor, {
      participantId: other.id,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2029-01-01T00:00:00Z',
    });
    const verified = async (
      kind: 'company' | 'counterparty',
      legalName: string,
      country: string,
    ) => {
      const party = await s.registry.registerParticipant(supervisor, {
        kind,
        legalName,
        country,
        platformId: other.id,
      });
      await s.registry.setKyc(supervisor, party.id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2027-06-30',
        beneficialOwners: [],
        documents: [{ type: 'certificate of incorporation', number: 'REG-9', issuer: 'registry' }],
      });
      return party.id;
    };
    const importer = await verified('company', 'Medellin Textiles SA', 'CO');
    const supplier = await verified('counterparty', 'Guangzhou Looms Ltd', 'CN');
    const maker = caller('platform', other.id, 'key_other_maker', other.id);
    const contract = await s.trade.contracts.create(maker, {
      companyId: importer,
      counterpartyId: supplier,
      direction: 'import',
      goodsDescription: 'Jacquard looms, 2 units',
      hsCode: '844630',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '3000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '5000000',
      schedule: [{ dueDate: '2027-01-15', amount: '5000000' }],
    });
    await s.trade.contracts.transition(maker, contract.id, 'submit');
    await s.trade.contracts.transition(
      caller('platform', other.id, 'key_other_checker', other.id),
      contract.id,
      'approve',
    );
    await s.trade.contracts.transition(maker, contract.id, 'activate');
    const bid = await market.createBid(caller('company', importer, 'key_textiles', other.id), {
      platformId: s.platformId,
      contractId: contract.id,
      amountSats: 5_000_000n,
    });
    expect(bid.companyPlatformId).toBe(other.id);
    // The policy gate decides the coin leg: an importer no longer verified is refused, saying
    // nothing of why (its platform is not the market's), the decision kept, nothing else written.
    const available = (await market.getOffer(s.maker, offer.id)).availableSats;
    const kyb = (status: 'pending' | 'verified') =>
      s.registry.setKyc(supervisor, importer, {
        status,
        riskRating: 'low',
        reviewDue: '2027-06-30',
        beneficialOwners: [],
        documents: [{ type: 'certificate of incorporation', number: 'REG-9', issuer: 'registry' }],
      });
    await kyb('pending');
    const blocked = await refusal(market.match(s.maker, { offerId: offer.id, bidId: bid.id }));
    expect(blocked.code).toBe('TRANSFER_BLOCKED');
    expect(blocked.details).toBeUndefined();
    expect(blocked.message).not.toMatch(/kyc|kyb|verif|licen|sanction|screen/i);
    const [decision] = (
      await s.compliance.decisions.list(supervisor, { outcome: 'block' })
    ).items.filter((d) => d.companyId === importer);
    expect(decision).toMatchObject({ counterpartyId: minerId, platformId: s.platformId });
    expect(decision!.reasons.map((r) => r.code)).toEqual(['KYC_NOT_VERIFIED']);
    expect(decision!.ruleVersions).toContain('gate.domestic@1');
    expect((await market.getOffer(s.maker, offer.id)).availableSats).toBe(available);
    expect(obligations).toEqual([]);
    await kyb('verified');
    const matched = await market.match(s.maker, { offerId: offer.id, bidId: bid.id });
    expect(matched).toMatchObject({ minerPlatformId: s.platformId, importerPlatformId: other.id });
    // Nothing is owed before the fiat leg is paid.
    expect(obligations).toEqual([]);
    // The importer pays its own platform, which then owes the miner's platform the amount in
    // local currency; the coins go gross from escrow to the importer's wallet.
    expect(fiatPayee(matched)).toBe(other.id);
    // The importer's watch-only wallet at its platform, which the delivery pays.
    const wallet = LocalKeySigner.fromSeed(new Uint8Array(32).fill(61), 'regtest');
    await s.registry.registerWallet(maker, {
      companyId: importer,
      descriptor: `wpkh([${wallet.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${wallet.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
    });
    bank.deposit(importer, 10_000_000_000n, 'COP');
    const minerCop = bank.balance(minerId, 'COP');
    bank.transfer({
      from: importer,
      to: fiatPayee(matched),
      amountMinor: matched.fiatMinor,
      currency: 'COP',
      dealReference: matched.id,
    });
    expect(bank.balance(other.id, 'COP')).toBe(matched.fiatMinor);
    expect((await market.tick()).confirmed).toEqual([matched.id]);
    const delivered = await market.getDeal(supervisor, matched.id);
    expect(delivered.status).toBe('delivered');
    const of = (o: MarketObligation) => ({
      source: o.source,
      sourceId: o.sourceId,
      from: o.from,
      to: o.to,
      asset: o.asset,
      amount: o.amount,
    });
    // Nothing is owed until the coins arrived: a deal held at delivery never owes anything.
    expect(obligations).toEqual([]);
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([matched.id]);
    // Settled: one obligation, fiat, from the importer's platform to the miner's; no bitcoin one.
    expect(obligations.map(of)).toEqual([
      {
        source: 'deal',
        sourceId: matched.id,
        from: other.id,
        to: s.platformId,
        asset: 'COP',
        amount: matched.fiatMinor,
      },
    ]);
    // Not paid twice: the miner's own account saw nothing of it (its platform is paid in the
    // window), and the coins went once, on-chain.
    expect(bank.balance(minerId, 'COP')).toBe(minerCop);
  }, 120_000);

  it("checks a fiat contract's bid at the live rate before the day's fixing, at the fixing after", async () => {
    const fiat = await s.trade.contracts.create(s.maker, {
      companyId: s.companyId,
      counterpartyId: s.supplierId,
      direction: 'import',
      goodsDescription: 'Espresso machines, 40 units',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '30000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2027-01-15', amount: '30000.00' }],
    });
    await s.trade.contracts.transition(s.maker, fiat.id, 'submit');
    await s.trade.contracts.transition(s.officerA, fiat.id, 'approve');
    await s.trade.contracts.transition(s.maker, fiat.id, 'activate');
    const bid = (amount: bigint) =>
      market.createBid(s.company, {
        platformId: s.platformId,
        contractId: fiat.id,
        amountSats: amount,
      });
    // 30,000.00 USD in sats at a whole rate of USD per BTC, rounded down.
    const openAt = (usdPerBtc: bigint) => (30_000n * COIN) / usdPerBtc;
    const today = s.clock.now().toISOString().slice(0, 10);

    // The rule fixes COP only: no USD fixing today, so the desk's live rate counts, as it would
    // for a deal priced now (the check no longer refuses RATE_UNAVAILABLE).
    expect(await fixings.forDay(currency('USD'), today)).toBeNull();
    const live = openAt(60_000n);
    const beyondLive = await refusal(bid(live + 1n));
    expect(beyondLive.code).toBe('AMOUNT_EXCEEDS_OPEN');
    expect(beyondLive.details).toMatchObject({ openSats: String(live), committedSats: '0' });
    const first = await bid(1_000n);
    expect(first.status).toBe('open');

    // Once the day's USD fixing is published, it counts, not the desk as it moves after it.
    desk.set('USD', '48000');
    const fixing = await fixings.publish(supervisor, { quote: 'USD' });
    expect(formatRate(fixing.rate)).toBe('48000');
    desk.set('USD', '96000');
    const fixed = openAt(48_000n);
    const beyondFixed = await refusal(bid(fixed - 1_000n + 1n));
    expect(beyondFixed.code).toBe('AMOUNT_EXCEEDS_OPEN');
    expect(beyondFixed.details).toMatchObject({ openSats: String(fixed), committedSats: '1000' });
    // The whole rest at the fixing is taken: at the desk's 96,000 it would be refused.
    expect((await bid(fixed - 1_000n)).amountSats).toBe(fixed - 1_000n);
  });
});

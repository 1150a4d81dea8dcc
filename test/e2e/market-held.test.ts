import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit';
import { LocalKeySigner } from '../../src/bitcoin';
import {
  MarketService,
  SimulatedBank,
  type MarketServiceDeps,
  type DealView,
  type LotView,
  type OfferView,
} from '../../src/clearing';
import { backoffMs, MAX_ATTEMPTS } from '../../src/clearing/market/inbox';
import {
  AppError,
  OPERATOR_ACTOR,
  SeededRandom,
  systemCaller,
  type Caller,
} from '../../src/kernel';
import { MISSING_INPUT_ATTEMPTS } from '../../src/clearing/market/delivery';
import type { SignerProvider } from '../../src/trade';
import { FixedRateSource, FixingService, RateService } from '../../src/ledger';
import {
  caller,
  openScheme,
  regtest,
  regtestKey,
  supervisor,
  type Scheme,
} from '../support/scheme';
import { TEST_DRIVERS } from '../support/db';
import { createCompliance, registryPartySource } from '../../src/compliance';
import { readBatch } from '../../src/compliance/policy/store';
import { EventRelay } from '../../src/events';

/**
 * The market's ways out and its reliability, end to end on simnet (the real watcher, trade,
 * ledger, compliance's address screening and the simulated bank): a bank confirmation whose
 * application fails once (the signer unavailable) is kept in the inbox and applied on the next
 * due tick, once; a deal held by its screening is released by the supervisor only when the checks
 * pass again; a delivery the network refuses for good holds its deal (nothing credited) and the
 * supervisor refunds it (coins back to the miner's address, the fiat leg returned); a deposit of
 * another lot's coins is refused; an offer no deal holds is withdrawn to the miner.
 */

const COIN = 100_000_000n;
const OFFERED = COIN;
const BOUGHT = 10_000_000n;
const SMALL = 1_000_000n;
const COP_PER_BTC = '250000000';
const ESCROW_SEED = new Uint8Array(32).fill(42);
const minerKey = regtestKey(22);
/** A second supervisor (another person), and the first one's other credential. */
const supervisorB = caller('supervisor', 'system', 'key_supervisor_b', null);
const supervisorOtherKey: Caller = { ...supervisor, actorId: 'key_supervisor_a_2' };

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

describe.each(TEST_DRIVERS)("the market's held deals, inbox and withdrawals (%s)", (driver) => {
  let s: Scheme;
  let market: MarketService;
  let marketDeps: MarketServiceDeps;
  let bank: SimulatedBank;
  let minerId = '';
  let minerCaller: Caller;
  let lots: LotView[] = [];
  let contractId = '';
  let offer: OfferView;
  /** The signer is unavailable for this many more requests (then the platform's own). */
  let signerDown = 0;
  /** The chain refuses this many more broadcasts for good (a typed rejection). */
  let refuseBroadcasts = 0;
  /** The chain is unreachable for this many more broadcasts. */
  let chainDown = 0;
  /** The chain refuses this many more broadcasts for a missing input (as Core answers, -25). */
  let inputMissing = 0;

  async function lotAt(height: number): Promise<LotView> {
    const page = await s.clearing.listLots(supervisor, {}, { limit: 500 });
    const lot = page.items.find((l) => l.height === height);
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

  async function auditActions(id: string): Promise<string[]> {
    return (await listAuditEvents(s.db.orm, { entityId: id }, { limit: 100 })).items
      .map((e) => e.action)
      .reverse();
  }

  async function dealFor(amount: bigint): Promise<DealView> {
    const bid = await market.createBid(s.company, {
      platformId: s.platformId,
      contractId,
      amountSats: amount,
    });
    return market.match(s.maker, { offerId: offer.id, bidId: bid.id });
  }

  function pay(deal: DealView): string {
    return bank.transfer({
      from: s.companyId,
      to: minerId,
      amountMinor: deal.fiatMinor,
      currency: 'COP',
      dealReference: deal.id,
    });
  }

  const outputsOf = async (txid: string) =>
    bitcoinjs.Transaction.fromBuffer(await s.source.getRawTransaction(txid)).outs.map((o) => ({
      address: bitcoinjs.address.fromOutputScript(o.script, regtest),
      value: BigInt(o.value),
    }));

  beforeAll(async () => {
    s = await openScheme({ seed: 43, driver });
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
    bank = new SimulatedBank();
    const signers: SignerProvider = {
      signerFor: (platformId) => {
        if (signerDown > 0) {
          signerDown -= 1;
          return Promise.resolve(null);
        }
        return s.trade.signers.signerFor(platformId);
      },
    };
    const chain = {
      getRawTransaction: (txid: string) => s.source.getRawTransaction(txid),
      getMempoolTxids: () => s.source.getMempoolTxids(),
      estimateFeeRateSatPerKvB: (n: number) => s.source.estimateFeeRateSatPerKvB(n),
      broadcast: (raw: Uint8Array) => {
        if (chainDown > 0) {
          chainDown -= 1;
          return Promise.reject(new AppError('CHAIN_UNAVAILABLE', 'the node is down'));
        }
        if (inputMissing > 0) {
          inputMissing -= 1;
          return Promise.reject(
            new AppError('TX_REJECTED', 'refused: bad-txns-inputs-missingorspent', {
              details: {
                method: 'sendrawtransaction',
                rpcCode: -25,
                rpcMessage: 'bad-txns-inputs-missingorspent',
              },
            }),
          );
        }
        if (refuseBroadcasts > 0) {
          refuseBroadcasts -= 1;
          // As Bitcoin Core answers a script failure (RPC_VERIFY_REJECTED with its reason).
          const rpcMessage =
            'mandatory-script-verify-flag-failed (Signature must be zero for failed CHECK(MULTI)SIG operation)';
          return Promise.reject(
            new AppError('TX_REJECTED', `refused: ${rpcMessage}`, {
              details: { method: 'sendrawtransaction', rpcCode: -26, rpcMessage },
            }),
          );
        }
        return s.source.broadcast(raw);
      },
    };
    marketDeps = {
      db: s.db,
      clock: s.clock,
      network: 'regtest',
      chain,
      registry: s.registry,
      contracts: s.trade.contracts,
      // Deals are valued as invoices are: the day's fixing, else the desk's live rate.
      rates: new RateService({
        db: s.db,
        clock: s.clock,
        random: new SeededRandom(6),
        source: desk,
        fixings,
      }),
      ledger: s.ledger,
      signers,
      bank,
      addressScreening: s.compliance.screening,
      gate: s.compliance.gate,
    };
    market = new MarketService(marketDeps);
    const miner = await s.registry.registerParticipant(supervisor, {
      kind: 'miner',
      legalName: 'Cauca Hash SAS',
      country: 'CO',
    });
    minerId = miner.id;
    minerCaller = caller('miner', minerId, 'key_miner_2', null);
    await s.registry.grantLicence(supervisor, {
      participantId: minerId,
      kind: 'mining',
      scope: 'industrial mining',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2030-01-01T00:00:00Z',
    });
    await s.registry.createRegion(supervisor, {
      code: 'south',
      name: 'Southern region',
      timeZone: 'America/Bogota',
    });
    const site = await s.mining.registerSite(minerCaller, {
      regionCode: 'south',
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
    // ---- two cleared lots of the miner, mature.
    const start = s.simnet.height;
    await s.simnet.mine(3, minerKey.address);
    s.clock.set('2026-12-01T15:00:00Z');
    await s.mine(100);
    lots = [await lotAt(start + 1), await lotAt(start + 2), await lotAt(start + 3)];
    expect(lots.map((l) => l.status)).toEqual(['cleared', 'cleared', 'cleared']);
    await fixings.publish(supervisor, { quote: 'COP' });
    await market.setSettings(s.maker, {
      currency: 'COP',
      spreadBasisPoints: 100,
      deadlineSeconds: 3600,
      escrowDescriptor: escrowDescriptor(),
    });
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
      btcAmountSats: '50000000',
      schedule: [{ dueDate: '2027-01-15', amount: '50000000' }],
    });
    await s.trade.contracts.transition(s.maker, contract.id, 'submit');
    await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
    await s.trade.contracts.transition(s.maker, contract.id, 'activate');
    contractId = contract.id;
    bank.deposit(s.companyId, 100_000_000_000n, 'COP');
  }, 300_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it("refuses a deposit of another lot's coins, and takes the offered lot's", async () => {
    offer = await market.createOffer(minerCaller, {
      platformId: s.platformId,
      lotId: lots[0]!.id,
      amountSats: OFFERED,
    });
    const other = await minerPays(lots[1]!, offer.escrowAddress, OFFERED);
    await s.mine(1);
    const wrong = await refusal(market.recordDeposit(minerCaller, offer.id, other));
    expect(wrong.code).toBe('DEPOSIT_NOT_FROM_LOT');
    expect((await market.getOffer(minerCaller, offer.id)).status).toBe('awaitingDeposit');
    expect(await auditActions(offer.id)).toEqual(['market_offer.created']);
    const txid = await minerPays(lots[0]!, offer.escrowAddress, OFFERED);
    await s.mine(1);
    offer = await market.recordDeposit(minerCaller, offer.id, txid);
    expect(offer.status).toBe('open');
  }, 120_000);

  it('keeps a bank confirmation whose application failed and applies it once, on the next due tick', async () => {
    const deal = await dealFor(BOUGHT);
    const reference = pay(deal);
    signerDown = 1;
    const first = await market.tick();
    expect(first.confirmed).toEqual([]);
    expect(first.retrying).toEqual([
      expect.objectContaining({ dealReference: deal.id, bankReference: reference }),
    ]);
    expect(first.retrying[0]!.error).toContain('CONFIG_INVALID');
    expect((await market.getDeal(s.maker, deal.id)).status).toBe('awaitingPayment');
    const [pending] = (await market.listBankConfirmations(supervisor, { status: 'pending' })).items;
    expect(pending).toMatchObject({ bankReference: reference, attempts: 1, status: 'pending' });
    expect(pending!.lastError).toContain('signer');
    // Not due yet (backoff): the next tick leaves it.
    expect((await market.tick()).retrying).toEqual([]);
    s.clock.advance(31_000);
    const second = await market.tick();
    expect(second.confirmed).toEqual([deal.id]);
    expect((await market.getDeal(s.maker, deal.id)).status).toBe('delivered');
    // Applied once: a later tick has nothing; the row is consumed.
    s.clock.advance(3_600_000);
    expect(await market.tick()).toMatchObject({ confirmed: [], retrying: [], refused: [] });
    const [applied] = (await market.listBankConfirmations(s.maker, {})).items;
    expect(applied).toMatchObject({ status: 'applied', outcome: 'confirmed', attempts: 1 });
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmed',
      'market_deal.broadcast',
    ]);
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([deal.id]);
  }, 120_000);

  it('gives a bank confirmation up after five failed attempts, holds its deal for the supervisors, and applies it once requeued', async () => {
    const deal = await dealFor(BOUGHT);
    const reference = pay(deal);
    signerDown = MAX_ATTEMPTS;
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt += 1) {
      const tick = await market.tick();
      expect(tick.retrying.map((r) => r.bankReference)).toEqual([reference]);
      expect(tick.bankFailed).toEqual([]);
      s.clock.advance(backoffMs(attempt) + 1_000);
    }
    const last = await market.tick();
    expect(last.retrying).toEqual([]);
    expect(last.bankFailed).toEqual([
      expect.objectContaining({ dealReference: deal.id, bankReference: reference }),
    ]);
    // Listed as failed to the supervisor and to the market's platform, with its last error.
    let failedId = '';
    for (const reader of [supervisor, s.maker]) {
      const [failed] = (await market.listBankConfirmations(reader, { status: 'failed' })).items;
      expect(failed).toMatchObject({
        bankReference: reference,
        status: 'failed',
        outcome: 'ATTEMPTS_EXHAUSTED',
        attempts: MAX_ATTEMPTS,
      });
      expect(failed!.lastError).toContain('signer');
      failedId = failed!.id;
    }
    // The importer paid: the deal is held for the supervisors (their queue of held deals), with
    // the alert audited, and is not unwound at its deadline however long one waits.
    expect(await market.getDeal(supervisor, deal.id)).toMatchObject({
      status: 'held',
      heldFrom: 'awaitingPayment',
      bankReference: null,
    });
    const [held] = (
      await listAuditEvents(s.db.orm, { action: 'market_deal.confirmationFailed' }, { limit: 10 })
    ).items;
    expect(held).toMatchObject({ entityId: deal.id });
    expect(held?.after).toMatchObject({ bankConfirmationId: failedId, alert: 'supervisor' });
    s.clock.advance(3_601_000);
    const later = await market.tick();
    expect(later).toMatchObject({ confirmed: [], retrying: [], bankFailed: [], unwound: [] });
    expect((await market.getDeal(supervisor, deal.id)).status).toBe('held');
    const [abandoned] = (
      await listAuditEvents(
        s.db.orm,
        { action: 'market_bank_confirmation.abandoned' },
        { limit: 10 },
      )
    ).items;
    expect(abandoned?.after).toMatchObject({
      bankReference: reference,
      attempts: MAX_ATTEMPTS,
      dealHeld: true,
    });
    // No fiat leg is recorded to deliver against: the supervisors cannot release it.
    expect((await refusal(market.release(supervisor, deal.id, 'deliver it'))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
    // Requeued by the market's officer (a company cannot): pending again, the deal awaits it.
    expect((await refusal(market.requeueBankConfirmation(s.company, failedId))).code).toBe(
      'FORBIDDEN',
    );
    const requeued = await market.requeueBankConfirmation(s.maker, failedId);
    expect(requeued).toMatchObject({ status: 'pending', attempts: 0, outcome: null });
    expect((await market.getDeal(supervisor, deal.id)).status).toBe('awaitingPayment');
    // Queued twice is refused with a closed code, nothing changed.
    expect((await refusal(market.requeueBankConfirmation(supervisor, failedId))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
    // The tick applies it as any other, past the deadline (received in time), and delivers.
    const applied = await market.tick();
    expect(applied.confirmed).toEqual([deal.id]);
    expect(applied.unwound).toEqual([]);
    expect((await market.getDeal(supervisor, deal.id)).status).toBe('delivered');
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmationFailed',
      'market_deal.requeued',
      'market_deal.confirmed',
      'market_deal.broadcast',
    ]);
    expect(await auditActions(failedId)).toContain('market_bank_confirmation.requeued');
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([deal.id]);
  }, 120_000);

  it("moves a deal at once when an officer resolves its coin leg's review, and counts in monitoring only the transfers that happened", async () => {
    // A gate whose monitoring sends a high-risk counterparty to review (the rule alone reaches
    // `reviewAt`): the same rules as the scheme's, configured stricter.
    const strict = createCompliance(
      { db: s.db, clock: s.clock, random: new SeededRandom(91) },
      {
        parties: registryPartySource(s.registry),
        monitoring: {
          reviewAt: 30,
          blockAt: 1000,
          rules: [
            { rule: 'rule.high-risk-jurisdiction@1', config: { levels: ['high'], score: 30 } },
          ],
        },
      },
    );
    const reviewing = new MarketService({ ...marketDeps, gate: strict.gate });
    const relay = new EventRelay({ db: s.db, clock: s.clock });
    for (const subscriber of reviewing.subscribers()) relay.subscribe(subscriber);
    // Monitoring's window over the importer's transfers (what its rules count).
    const counted = async () => {
      const [window] = (
        await readBatch(s.db.orm, {
          items: [
            {
              transferId: 'probe',
              direction: 'inbound',
              companyId: s.companyId,
              counterpartyId: minerId,
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
    const before = await counted();
    const allowed = await dealFor(BOUGHT);
    const blocked = await dealFor(SMALL);
    await s.registry.setJurisdiction(supervisor, {
      country: 'CO',
      riskLevel: 'high',
      refused: false,
    });
    try {
      // A match sent to review is refused and no deal stored: its decision stays for the
      // officer, but monitoring does not count a transfer that never happened.
      const bid = await market.createBid(s.company, {
        platformId: s.platformId,
        contractId,
        amountSats: SMALL,
      });
      expect(
        (await refusal(reviewing.match(s.maker, { offerId: offer.id, bidId: bid.id }))).code,
      ).toBe('TRANSFER_BLOCKED');
      // Paid: the coin leg goes to review at delivery, and both deals are held for it.
      pay(allowed);
      pay(blocked);
      expect((await reviewing.tick()).confirmed.sort()).toEqual([allowed.id, blocked.id].sort());
      const review = async (id: string) => {
        const [decision] = (await strict.decisions.list(supervisor, { transferId: id })).items;
        expect(decision).toMatchObject({ outcome: 'review', finalOutcome: null });
        return decision!.id;
      };
      for (const deal of [allowed, blocked])
        expect(await market.getDeal(supervisor, deal.id)).toMatchObject({
          status: 'held',
          heldFrom: 'awaitingPayment',
        });
      // Allowed on review: the deal is delivering at once (no supervisor's release), sent by the tick.
      await strict.decisions.resolveReview(supervisor, await review(allowed.id), {
        outcome: 'allow',
        note: 'the miner is known to the scheme; risk accepted',
      });
      expect((await relay.run()).handled).toBeGreaterThan(0);
      expect(await market.getDeal(supervisor, allowed.id)).toMatchObject({
        status: 'delivering',
        heldFrom: null,
      });
      expect((await market.tick()).broadcast).toEqual([allowed.id]);
      // Blocked on review: refunded by the refund's path (coins back to the miner, bid lapsed).
      await strict.decisions.resolveReview(supervisor, await review(blocked.id), {
        outcome: 'block',
        note: 'the miner could not explain the source of funds',
      });
      await relay.run();
      const refunding = await market.tick();
      expect(refunding.refunded).toEqual([blocked.id]);
      const refunded = await market.getDeal(supervisor, blocked.id);
      expect(refunded.status).toBe('refunded');
      // The deal's sats to the miner (the rest of the escrow stays there, as change).
      expect((await outputsOf(refunded.refundTxid!))[0]!.address).toBe(minerKey.address);
      expect(await auditActions(blocked.id)).toEqual([
        'market_deal.matched',
        'market_deal.held',
        'market_deal.reviewBlocked',
        'compliance_transfer.voided',
        'market_deal.refunded',
        'market_deal.fiatReturned',
      ]);
      // Heard once: a second run changes nothing.
      expect((await market.tick()).refunded).toEqual([]);
    } finally {
      await s.registry.setJurisdiction(supervisor, {
        country: 'CO',
        riskLevel: 'low',
        refused: false,
      });
    }
    // Counted: the delivered deal alone; not the refused match, nor the refunded deal.
    expect(await counted()).toBe(before + 1);
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([allowed.id]);
  }, 120_000);

  it('releases a held deal only when the checks that held it pass again', async () => {
    const deal = await dealFor(BOUGHT);
    // A second later, so the decisions at matching and at delivery list in that order.
    s.clock.advance(1_000);
    await s.registry.setKyc(supervisor, s.companyId, {
      status: 'pending',
      riskRating: 'low',
      reviewDue: '2027-06-30',
      beneficialOwners: [],
      documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
    });
    pay(deal);
    expect((await market.tick()).confirmed).toEqual([deal.id]);
    expect(await market.getDeal(supervisor, deal.id)).toMatchObject({
      status: 'held',
      heldFrom: 'awaitingPayment',
      deliveryTxid: null,
    });
    // The policy gate decided the coin leg at matching (allowed) and at delivery (blocked for
    // the importer's KYB), by its domestic rule set, each decision recorded and audited.
    const decisions = async () =>
      (await s.compliance.decisions.list(supervisor, { transferId: deal.id })).items.reverse();
    const [atMatch, atDelivery] = await decisions();
    expect(atMatch).toMatchObject({
      outcome: 'allow',
      companyId: s.companyId,
      counterpartyId: minerId,
      platformId: s.platformId,
    });
    expect(atMatch!.ruleVersions).toContain('gate.domestic@1');
    expect(atMatch!.ruleVersions).not.toContain('gate.foreign-trade@1');
    expect(atDelivery!.outcome).toBe('block');
    expect(atDelivery!.reasons).toEqual([
      expect.objectContaining({
        code: 'KYC_NOT_VERIFIED',
        rule: 'gate.kyc@1',
        field: 'company.kycStatus',
      }),
    ]);
    const decisionAudits = (
      await listAuditEvents(s.db.orm, { action: 'decision.made' }, { limit: 500 })
    ).items.filter((e) => (e.after as { transferId?: string }).transferId === deal.id);
    expect(decisionAudits.map((e) => e.entityId).sort()).toEqual(
      [atMatch!.id, atDelivery!.id].sort(),
    );
    const [heldAudit] = (
      await listAuditEvents(s.db.orm, { entityId: deal.id, action: 'market_deal.held' })
    ).items;
    expect(heldAudit?.after).toMatchObject({ decisionId: atDelivery!.id });
    // Neither the miner nor the importer reads why: the miner is no party of the decision, the
    // importer's own view of it is the outcome alone (the HTTP layer's disclosure).
    expect((await s.compliance.decisions.list(minerCaller, { transferId: deal.id })).items).toEqual(
      [],
    );
    const reason = 'the importer is verified again';
    expect((await refusal(market.release(s.officerA, deal.id, reason))).code).toBe('FORBIDDEN');
    // Four eyes: the first supervisor only proposes; nothing runs.
    const proposed = await market.release(supervisor, deal.id, reason);
    expect(proposed).toMatchObject({
      status: 'held',
      pendingDecision: { action: 'release' },
      deliveryTxid: null,
    });
    // Only those who oversee the market see the proposal; the deal's parties learn the outcome.
    for (const party of [minerCaller, s.company]) {
      expect(await market.getDeal(party, deal.id)).toMatchObject({
        status: 'held',
        pendingDecision: null,
      });
      const listed = await market.listDeals(party, {});
      expect(listed.items.find((d) => d.id === deal.id)?.pendingDecision).toBeNull();
    }
    expect((await market.getDeal(supervisorB, deal.id)).pendingDecision).toMatchObject({
      action: 'release',
    });
    // The same person, with another credential, is refused, and told nothing of the checks.
    const self = await refusal(market.release(supervisorOtherKey, deal.id, reason));
    expect(self.code).toBe('SELF_APPROVAL');
    expect(self.details).toBeUndefined();
    expect(self.message).not.toMatch(/kyc|verif|screen|sanction|check/i);
    // The operator channel (the server's machine, not a named person) is not a second person.
    expect(
      (await refusal(market.release(systemCaller(OPERATOR_ACTOR), deal.id, reason))).code,
    ).toBe('FORBIDDEN');
    // Another person approves: the checks run again, and still fail (without saying which).
    const blocked = await refusal(market.release(supervisorB, deal.id, reason));
    expect(blocked.code).toBe('TRANSFER_BLOCKED');
    expect(blocked.details).toBeUndefined();
    expect(blocked.message).not.toMatch(/kyc|verif/i);
    // The refused release's decision is kept, though nothing else of it is.
    expect((await decisions()).map((d) => d.outcome)).toEqual(['allow', 'block', 'block']);
    expect(await market.getDeal(supervisor, deal.id)).toMatchObject({
      status: 'held',
      pendingDecision: { action: 'release' },
    });
    await s.registry.setKyc(supervisor, s.companyId, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2027-06-30',
      beneficialOwners: [],
      documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
    });
    const released = await market.release(supervisorB, deal.id, reason);
    expect(released).toMatchObject({ status: 'delivered', heldFrom: null, pendingDecision: null });
    expect(s.simnet.mempoolTxids()).toContain(released.deliveryTxid);
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.held',
      'market_deal.decisionProposed',
      'market_deal.released',
      'market_deal.broadcast',
    ]);
    const [audited] = (
      await listAuditEvents(s.db.orm, { entityId: deal.id, action: 'market_deal.released' })
    ).items;
    expect(audited?.after).toMatchObject({
      proposedBy: supervisor.personId,
      approvedBy: supervisorB.personId,
    });
    expect((await refusal(market.release(supervisor, deal.id, reason))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
    await s.mine(1);
    await market.tick();
  }, 120_000);

  it('holds a deal whose delivery the network refuses for good, and refunds it to the miner', async () => {
    const deal = await dealFor(BOUGHT);
    pay(deal);
    refuseBroadcasts = 1;
    const ticked = await market.tick();
    expect(ticked.confirmed).toEqual([deal.id]);
    const held = await market.getDeal(supervisor, deal.id);
    expect(held).toMatchObject({ status: 'held', heldFrom: 'delivering', deliveredSats: null });
    // Not retried by later ticks, nothing credited.
    expect((await market.tick()).broadcast).toEqual([]);
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmed',
      'market_deal.rejected',
    ]);
    const minerCop = bank.balance(minerId, 'COP');
    const companyCop = bank.balance(s.companyId, 'COP');
    expect((await refusal(market.refund(s.maker, deal.id, 'coins back'))).code).toBe('FORBIDDEN');
    // One person with two credentials at the same moment: one proposal, one refusal, no refund.
    const both = await Promise.allSettled([
      market.refund(supervisor, deal.id, 'the delivery cannot be sent'),
      market.refund(supervisorOtherKey, deal.id, 'the delivery cannot be sent'),
    ]);
    expect(both.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const [selfRefusal] = both.flatMap((r): unknown[] =>
      r.status === 'rejected' ? [r.reason] : [],
    );
    expect(selfRefusal).toBeInstanceOf(AppError);
    expect((selfRefusal as AppError).code).toBe('SELF_APPROVAL');
    expect(await market.getDeal(supervisor, deal.id)).toMatchObject({
      status: 'held',
      pendingDecision: { action: 'refund' },
      refundTxid: null,
    });
    expect(bank.balance(s.companyId, 'COP')).toBe(companyCop);
    const refunded = await market.refund(supervisorB, deal.id, 'the delivery cannot be sent');
    expect(refunded).toMatchObject({ status: 'refunded', refundAddress: minerKey.address });
    expect(refunded.fiatReturnReference).toMatch(/^SIMBANK-/);
    expect(s.simnet.mempoolTxids()).toContain(refunded.refundTxid);
    const [toMiner] = await outputsOf(refunded.refundTxid!);
    expect(toMiner!.address).toBe(minerKey.address);
    expect(toMiner!.value).toBeLessThan(BOUGHT);
    expect(toMiner!.value).toBeGreaterThan(BOUGHT - 10_000n);
    expect(bank.balance(minerId, 'COP')).toBe(minerCop - deal.fiatMinor);
    expect(bank.balance(s.companyId, 'COP')).toBe(companyCop + deal.fiatMinor);
    expect(await auditActions(deal.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmed',
      'market_deal.rejected',
      'market_deal.decisionProposed',
      // No coins reached the importer: monitoring no longer counts the coin leg.
      'compliance_transfer.voided',
      'market_deal.refunded',
      'market_deal.fiatReturned',
    ]);
    await s.mine(1);
  }, 120_000);

  it('sends deliveries in the order they were signed, and retries one whose input the network has not seen yet', async () => {
    const earlier = await dealFor(SMALL);
    s.clock.advance(1_000);
    const later = await dealFor(SMALL);
    // The later deal is confirmed first, while the chain is down: its delivery is signed first
    // (spending the escrow's coin), and not sent.
    chainDown = 2;
    pay(later);
    expect((await market.tick()).confirmed).toEqual([later.id]);
    expect(await market.getDeal(supervisor, later.id)).toMatchObject({
      status: 'delivering',
      deliveryAttempts: 0,
    });
    // The earlier deal's delivery spends the later one's change, which the network has not
    // seen: refused for a passing reason, it waits for its next attempt; the later one goes.
    pay(earlier);
    const ticked = await market.tick();
    expect(ticked).toMatchObject({ confirmed: [earlier.id], broadcast: [later.id], rejected: [] });
    const waiting = await market.getDeal(supervisor, earlier.id);
    expect(waiting).toMatchObject({ status: 'delivering', deliveryAttempts: 1 });
    expect(waiting.deliveryLastError).toMatch(/^missingInputs/);
    expect(waiting.deliveryNextAttemptAt!.getTime()).toBeGreaterThan(s.clock.now().getTime());
    // Not before its backoff; then sent, in order.
    expect((await market.tick()).broadcast).toEqual([]);
    s.clock.advance(61_000);
    expect((await market.tick()).broadcast).toEqual([earlier.id]);
    expect(s.simnet.mempoolTxids()).toEqual(
      expect.arrayContaining([
        waiting.deliveryTxid,
        (await market.getDeal(s.maker, later.id)).deliveryTxid,
      ]),
    );
    expect(await auditActions(earlier.id)).toEqual([
      'market_deal.matched',
      'market_deal.confirmed',
      'market_deal.deliveryRetrying',
      'market_deal.broadcast',
    ]);
    await s.mine(1);
    expect((await market.tick()).settled.sort()).toEqual([earlier.id, later.id].sort());
  }, 120_000);

  it('holds a deal whose escrow input stays missing after the capped attempts, backing off between them', async () => {
    const deal = await dealFor(SMALL);
    pay(deal);
    inputMissing = MISSING_INPUT_ATTEMPTS;
    expect((await market.tick()).confirmed).toEqual([deal.id]);
    const waits: number[] = [];
    for (let attempt = 1; attempt < MISSING_INPUT_ATTEMPTS; attempt += 1) {
      const waiting = await market.getDeal(supervisor, deal.id);
      expect(waiting).toMatchObject({ status: 'delivering', deliveryAttempts: attempt });
      expect(waiting.deliveryLastError).toMatch(/^missingInputs/);
      const next = waiting.deliveryNextAttemptAt!.getTime();
      waits.push(next - s.clock.now().getTime());
      // Not before its next attempt.
      expect((await market.tick()).deliveriesRetrying).toEqual([]);
      s.clock.set(new Date(next));
      const ticked = await market.tick();
      if (attempt < MISSING_INPUT_ATTEMPTS - 1)
        expect(ticked.deliveriesRetrying).toEqual([deal.id]);
      else expect(ticked.rejected).toEqual([deal.id]);
    }
    // Each wait longer than the one before (backoff doubling from the tick's period).
    for (const [i, wait] of waits.entries()) if (i > 0) expect(wait).toBeGreaterThan(waits[i - 1]!);
    const held = await market.getDeal(supervisor, deal.id);
    expect(held).toMatchObject({ status: 'held', heldFrom: 'delivering', deliveryTxid: null });
    expect(held.deliveryLastError).toMatch(/escrow input is still missing after 8 attempts/);
    const [rejected] = (
      await listAuditEvents(s.db.orm, { entityId: deal.id, action: 'market_deal.rejected' })
    ).items;
    expect(rejected?.after).toMatchObject({
      status: 'held',
      kind: 'missingInputs',
      attempts: MISSING_INPUT_ATTEMPTS,
      alert: 'supervisor',
    });
    // Not sent again by later ticks; the supervisors release it (the input is there now).
    expect((await market.tick()).broadcast).toEqual([]);
    await market.release(supervisor, deal.id, 'the escrow input is confirmed again');
    const released = await market.release(
      supervisorB,
      deal.id,
      'the escrow input is confirmed again',
    );
    expect(released.status).toBe('delivered');
    await s.mine(1);
    expect((await market.tick()).settled).toEqual([deal.id]);
  }, 120_000);

  it('withdraws an offer no live deal holds, returning its escrow to the miner', async () => {
    const live = await dealFor(BOUGHT);
    expect((await refusal(market.withdrawOffer(minerCaller, offer.id))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
    s.clock.advance(3_601_000);
    expect((await market.tick()).unwound).toEqual([live.id]);
    expect((await refusal(market.withdrawOffer(s.maker, offer.id))).code).toBe('FORBIDDEN');
    const withdrawn = await market.withdrawOffer(minerCaller, offer.id);
    expect(withdrawn).toMatchObject({ status: 'withdrawn', availableSats: 0n });
    expect(s.simnet.mempoolTxids()).toContain(withdrawn.withdrawalTxid);
    const outs = await outputsOf(withdrawn.withdrawalTxid!);
    expect(outs.map((o) => o.address)).toEqual([minerKey.address]);
    // What escrow still held: the offer less five deliveries and one refund (each its own fee).
    expect(outs[0]!.value).toBeGreaterThan(OFFERED - 5n * BOUGHT - 4n * SMALL - 16_000n);
    expect((await refusal(market.withdrawOffer(minerCaller, offer.id))).code).toBe(
      'INVALID_STATE_TRANSITION',
    );
  }, 120_000);
  it('refuses to withdraw an unfunded offer whose deposit is on-chain or in the mempool but not reported, so its coins are not stranded', async () => {
    const unfunded = await market.createOffer(minerCaller, {
      platformId: s.platformId,
      lotId: lots[2]!.id,
      amountSats: OFFERED,
    });
    const txid = await minerPays(lots[2]!, unfunded.escrowAddress, OFFERED);
    // Seen only in the mempool (not mined yet), the deposit is found there: refused too.
    expect(s.simnet.mempoolTxids()).toContain(txid);
    const unmined = await refusal(market.withdrawOffer(minerCaller, unfunded.id));
    expect(unmined.code).toBe('DEPOSIT_NOT_RECORDED');
    expect(unmined.details).toEqual({ depositTxid: txid, confirmed: false });
    expect(unmined.message).toContain('once it is mined');
    expect((await market.getOffer(minerCaller, unfunded.id)).status).toBe('awaitingDeposit');
    await s.mine(1);
    const refused = await refusal(market.withdrawOffer(minerCaller, unfunded.id));
    expect(refused.code).toBe('DEPOSIT_NOT_RECORDED');
    expect(refused.details).toEqual({ depositTxid: txid, confirmed: true });
    expect(refused.message).toContain('report it');
    expect((await market.getOffer(minerCaller, unfunded.id)).status).toBe('awaitingDeposit');
    expect(await auditActions(unfunded.id)).toEqual(['market_offer.created']);
    // Reported, it is withdrawn through the screened return: the coins go back to the miner.
    await market.recordDeposit(minerCaller, unfunded.id, txid);
    const withdrawn = await market.withdrawOffer(minerCaller, unfunded.id);
    expect(withdrawn.status).toBe('withdrawn');
    const outs = await outputsOf(withdrawn.withdrawalTxid!);
    expect(outs.map((o) => o.address)).toEqual([minerKey.address]);
    expect(outs[0]!.value).toBeGreaterThan(OFFERED - 10_000n);
  }, 120_000);
});

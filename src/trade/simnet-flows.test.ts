import { createHmac } from 'node:crypto';
import * as ecc from '@bitcoinerlab/secp256k1';
import * as bitcoinjs from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalKeySigner } from '../bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource, type MempoolTransaction } from '../chain';
import { sql } from 'drizzle-orm';
import { rowsOf, type Database } from '../db';
import { FixedRateSource, LedgerService, RateService } from '../ledger';
import { ManualClock, SeededRandom, systemCaller, type Caller } from '../kernel';
import { createCompliance, registryPartySource, type Compliance } from '../compliance';
import { RegistryService } from '../registry';
import { ComplianceTransferGate } from './compliance-gate';
import { RegistryPartyDirectory } from './directory';
import { TradeService } from './service';
import { SecretBox } from './secrets';
import { SIGNATURE_HEADER } from './webhooks';
import { PAYMENT_SETTLED } from './outbox';
import { testVasp } from '../../test/support/vasp';
import { openTestDatabase } from '../../test/support/db';
import { INBOUND, OUTBOUND, registerScheme } from '../../test/support/trade-scheme';

bitcoinjs.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);
const regtest = bitcoinjs.networks.regtest;

/**
 * Invoices paid on simnet (BTCPay semantics, a vanished payment), payouts signed by an external
 * signer, a stuck batch replaced (BIP125), and the webhooks of all of it. The tests run in order
 * on one scheme: each goes on from what the ones before left.
 */

describe('invoices, external signing and webhooks on simnet', () => {
  let db: Database;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(5);
  let platformId: string;
  let companyId: string;
  let buyerId: string;
  let company: Caller;
  let officer: Caller;
  let officer2: Caller;
  let registry: RegistryService;
  let compliance: Compliance;
  let gate: ComplianceTransferGate;
  const miner = ECPair.fromPrivateKey(new Uint8Array(32).fill(3), { network: regtest });
  const minerPay = bitcoinjs.payments.p2wpkh({ pubkey: miner.publicKey, network: regtest });
  const deliveries: { url: string; headers: Record<string, string>; body: string }[] = [];
  let answer = 500;
  let simnet: Simnet;
  let trade: TradeService;
  let watcher: ChainWatcher;
  let ledger: LedgerService;
  const seen: MempoolTransaction[] = [];
  let coinIndex = 0;

  beforeAll(async () => {
    db = await openTestDatabase();
    simnet = await Simnet.open({ db, clock });
    const source = new SimnetChainSource(simnet);
    ledger = new LedgerService({ db, clock, random });
    const rates = new RateService({
      db,
      clock,
      random,
      source: new FixedRateSource('desk', clock, { EUR: '50000' }),
    });
    registry = new RegistryService({ db, clock, random, network: 'regtest' });
    compliance = createCompliance(
      { db, clock, random },
      { parties: registryPartySource(registry) },
    );
    gate = new ComplianceTransferGate({ db, gate: compliance.gate, registry, clock });
    const scheme = await registerScheme(registry, clock);
    ({ platformId, companyId, buyerId } = scheme);
    company = scheme.company;
    officer = scheme.officer('key_officer');
    officer2 = scheme.officer('key_officer2');
    trade = new TradeService({
      db,
      clock,
      random,
      network: 'regtest',
      chain: source,
      ledger,
      rates,
      gate,
      directory: new RegistryPartyDirectory(registry),
      wallets: registry,
      secrets: SecretBox.withKey(new Uint8Array(32).fill(0x5e)),
      // hooks.example.test stands for a public endpoint: no DNS in tests.
      webhookResolver: () => Promise.resolve([{ address: '93.184.215.14', family: 4 }]),
      webhookPoster: (url, init) => {
        deliveries.push({ url, ...init });
        return Promise.resolve({ status: answer });
      },
    });
    const external = LocalKeySigner.fromSeed(new Uint8Array(32).fill(8), 'regtest');
    const descriptor = `wpkh([${external.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${external.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
    await registry.registerWallet(officer, { companyId, descriptor });
    // Zero confirmations is below the scheme's default floor: the supervisor lowers it first.
    await trade.updateFloors(systemCaller(), { minConfirmations: 0 });
    await trade.updateSettings(officer, platformId, {
      confirmations: 0,
      latePaymentWindowSeconds: 3600,
      feeFloorSatPerKvB: 1_000n,
      feeCapSatPerKvB: 1_000n,
    });
    await simnet.mine(110, minerPay.address!);
    // Payouts go to the miner's address: registered as the buyer's, hosted by a VASP.
    await registry.registerCounterpartyAddress(systemCaller(), buyerId, {
      address: minerPay.address!,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Banco Exchange SA'),
    });
    watcher = new ChainWatcher({ source, database: db, clock });
    await watcher.registerConsumer(trade.chainConsumer());
    await watcher.syncOnce();
    watcher.on('mempoolTx', (t) => void seen.push(t));
  });
  afterAll(async () => db.close());

  const sync = async () => {
    await watcher.syncOnce();
    await watcher.syncMempool();
    const tip = simnet.height;
    for (const t of seen.splice(0))
      await trade.invoices.mempoolTransaction(t, await simnet_raw(t.txid), tip);
  };
  const simnet_raw = (txid: string) => new SimnetChainSource(simnet).getRawTransaction(txid);
  /** The buyer pays from a fresh mature coinbase, with or without BIP125 signalling. */
  const pay = async (outputs: { address: string; value: bigint }[], rbf = false) => {
    const coin = simnet.listUnspent(minerPay.address!).filter((u) => u.coinbase)[coinIndex++]!;
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: coin.txid,
      index: coin.vout,
      sequence: rbf ? 0xfffffffd : 0xffffffff,
      witnessUtxo: { script: minerPay.output!, value: coin.value },
    });
    let left = coin.value - 1_000n;
    for (const o of outputs) {
      psbt.addOutput({ address: o.address, value: o.value });
      left -= o.value;
    }
    psbt.addOutput({ address: minerPay.address!, value: left });
    psbt.signAllInputs(miner);
    psbt.finalizeAllInputs();
    const tx = psbt.extractTransaction();
    await simnet.submitTransaction(tx.toBuffer());
    return tx.getId();
  };

  it('follows BTCPay semantics: partial, 0-conf only without RBF, expiry, late and over payment', async () => {
    const contract = await trade.contracts.create(company, {
      counterpartyId: buyerId,
      direction: 'export',
      goodsDescription: 'Wine, 1,200 bottles',
      hsCode: '220421',
      incoterm: 'EXW',
      currency: 'EUR',
      amount: '100000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount: '100000.00' }],
    });
    for (const a of ['submit'] as const) await trade.contracts.transition(company, contract.id, a);
    for (const a of ['approve', 'activate'] as const)
      await trade.contracts.transition(officer, contract.id, a);
    // 500.00 EUR at 50,000 EUR/BTC = 1,000,000 sats each.
    const a = await trade.invoices.create(company, {
      contractId: contract.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    const b = await trade.invoices.create(company, {
      contractId: contract.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    const c = await trade.invoices.create(company, {
      contractId: contract.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    const d = await trade.invoices.create(company, {
      contractId: contract.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    expect(a.amountSats).toBe(1_000_000n);
    expect(new Set([a.address, b.address, c.address, d.address]).size).toBe(4);

    // A: paid in two parts, no RBF: partial, then settled at 0 confirmations.
    await pay([{ address: a.address, value: 400_000n }]);
    await sync();
    expect(await trade.invoices.get(company, a.id)).toMatchObject({
      status: 'new',
      additionalStatus: ['paidPartial'],
    });
    await pay([{ address: a.address, value: 600_000n }]);
    await sync();
    expect(await trade.invoices.get(company, a.id)).toMatchObject({
      status: 'settled',
      additionalStatus: [],
    });

    // B: paid in full by a transaction signalling replacement: never 0-conf, settled once mined.
    await pay([{ address: b.address, value: 1_000_000n }], true);
    await sync();
    expect((await trade.invoices.get(company, b.id)).status).toBe('processing');

    // D: overpaid.
    await pay([{ address: d.address, value: 1_200_000n }]);
    await sync();
    expect(await trade.invoices.get(company, d.id)).toMatchObject({
      status: 'settled',
      additionalStatus: ['paidOver'],
    });

    await simnet.mine(1, minerPay.address!);
    await sync();
    expect((await trade.invoices.get(company, b.id)).status).toBe('settled');

    // C: expires after 15 minutes, then is paid late within the watch window.
    clock.advance(16 * 60_000);
    expect(await trade.invoices.expireDue(simnet.height)).toBe(1);
    expect((await trade.invoices.get(company, c.id)).status).toBe('expired');
    await pay([{ address: c.address, value: 1_000_000n }]);
    await sync();
    expect(await trade.invoices.get(company, c.id)).toMatchObject({
      status: 'settled',
      additionalStatus: ['paidLate'],
    });

    // The ledger holds what was received: 1.0 + 1.0 + 1.2 + 1.0 million sats.
    const balances = await ledger.balances(systemCaller());
    expect(balances.find((x) => x.accountId === `clientFunds:${companyId}`)?.balanceSats).toBe(
      4_200_000n,
    );
    // 0-conf settlements are unconfirmed coins: reconcile (confirmed coins) shows them until mined.
    await simnet.mine(1, minerPay.address!);
    await sync();
    expect((await trade.reconcile(systemCaller())).totalDifferenceSats).toBe(0n);
  });

  it('drops a payment whose transaction vanished and reverses the 0-conf settlement it carried', async () => {
    const {
      items: [contract],
    } = await trade.contracts.list(company, { status: 'active' });
    const invoice = await trade.invoices.create(company, {
      contractId: contract!.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    const coin = simnet.listUnspent(minerPay.address!).filter((u) => u.coinbase)[coinIndex++]!;
    const spend = (to: string, fee: bigint) => {
      const psbt = new bitcoinjs.Psbt({ network: regtest });
      psbt.addInput({
        hash: coin.txid,
        index: coin.vout,
        sequence: 0xffffffff,
        witnessUtxo: { script: minerPay.output!, value: coin.value },
      });
      psbt.addOutput({ address: to, value: 1_000_000n });
      psbt.addOutput({ address: minerPay.address!, value: coin.value - 1_000_000n - fee });
      psbt.signAllInputs(miner);
      psbt.finalizeAllInputs();
      return psbt.extractTransaction();
    };
    // No BIP125 signal: the platform accepts it at 0 confirmations…
    await simnet.submitTransaction(spend(invoice.address, 1_000n).toBuffer());
    await sync();
    expect((await trade.invoices.get(company, invoice.id)).status).toBe('settled');
    const before = await ledger.balances(systemCaller(), { participantId: companyId });
    // …then the node no longer knows it (a conflicting spend won): the payment is dropped.
    const dropped = await trade.invoices.dropVanishedPayments(
      () => Promise.resolve(false),
      simnet.height,
    );
    expect(dropped).toBe(1);
    const after = await trade.invoices.get(company, invoice.id);
    expect(after.status).toBe('new');
    expect(after.payments).toEqual([]);
    const balances = await ledger.balances(systemCaller(), { participantId: companyId });
    const funds = (list: typeof balances) =>
      list.find((b) => b.purpose === 'clientFunds')?.balanceSats ?? 0n;
    expect(funds(before) - funds(balances)).toBe(1_000_000n);
    // Here the transaction was in fact still in simnet's mempool: once mined it is found again.
    await simnet.mine(1, minerPay.address!);
    await sync();
    expect((await trade.invoices.get(company, invoice.id)).status).toBe('settled');
  });

  it('waits for an external signer and checks the PSBT it returns', async () => {
    const contract = await trade.contracts.create(officer, {
      companyId,
      counterpartyId: buyerId,
      direction: 'import',
      goodsDescription: 'Corks',
      hsCode: '450310',
      incoterm: 'DAP',
      currency: 'EUR',
      amount: '1000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount: '1000.00' }],
    });
    // Four eyes: another officer approves the contract.
    await trade.contracts.transition(officer, contract.id, 'submit');
    await trade.contracts.transition(officer2, contract.id, 'approve');
    await trade.contracts.transition(officer, contract.id, 'activate');
    const payout = await trade.payouts.create(officer, {
      contractId: contract.id,
      amount: '250.00',
      address: minerPay.address!,
      travelRule: OUTBOUND,
    });
    expect(payout.amountSats).toBe(500_000n);
    await trade.payouts.approve(officer2, payout.id);
    const batch = (await trade.payouts.runBatch(officer, platformId, { force: true }))!;
    expect(batch.status).toBe('awaitingSignature');
    const psbt = new Uint8Array(Buffer.from(batch.psbt, 'base64'));
    // An unsigned PSBT cannot be finalized; a key that holds none of the inputs signs nothing.
    const stranger = LocalKeySigner.fromSeed(new Uint8Array(32).fill(1), 'regtest');
    await expect(trade.payouts.submitSignedPsbt(officer, batch.id, psbt)).rejects.toMatchObject({
      code: 'INVALID_PSBT',
    });
    await expect(stranger.signPsbt(psbt)).rejects.toMatchObject({ code: 'INVALID_PSBT' });
    const device = LocalKeySigner.fromSeed(new Uint8Array(32).fill(8), 'regtest');
    const done = await trade.payouts.submitSignedPsbt(
      officer,
      batch.id,
      await device.signPsbt(psbt),
    );
    expect(done.status).toBe('broadcast');
    expect(simnet.mempoolTxids()).toContain(done.txid);
    await simnet.mine(1, minerPay.address!);
    await sync();
    expect((await trade.payouts.get(officer, payout.id)).status).toBe('completed');
    expect((await trade.reconcile(systemCaller())).totalDifferenceSats).toBe(0n);
  });

  it('replaces a batch stuck for rbfAfterBlocks blocks with a higher-fee transaction (BIP125)', async () => {
    // A node that loses the first broadcast: the batch is "sent" but never reaches a mempool.
    const real = new SimnetChainSource(simnet);
    let dropped = 0;
    const lossy = new Proxy(real, {
      get(target, property, receiver) {
        if (property === 'broadcast') {
          return (raw: Uint8Array) => {
            if (dropped++ === 0) return Promise.resolve('');
            return target.broadcast(raw);
          };
        }
        const value: unknown = Reflect.get(target, property, receiver);
        return typeof value === 'function'
          ? (value as (...a: unknown[]) => unknown).bind(target)
          : value;
      },
    });
    const local = new TradeService({
      db,
      clock,
      random,
      network: 'regtest',
      chain: lossy,
      ledger,
      rates: new RateService({
        db,
        clock,
        random,
        source: new FixedRateSource('desk', clock, { EUR: '50000' }),
      }),
      gate,
      directory: new RegistryPartyDirectory(registry),
      wallets: registry,
      signerPassphrase: () => 'a long enough passphrase',
    });
    await db.transaction((tx) =>
      local.sealedKeys.store(tx, platformId, new Uint8Array(32).fill(8), 'regtest', 1 << 10),
    );
    const {
      items: [contract],
    } = await local.contracts.list(officer, { status: 'active' });
    const payout = await local.payouts.create(officer, {
      contractId: contract!.id,
      amount: '200.00',
      address: minerPay.address!,
      travelRule: OUTBOUND,
    });
    await local.payouts.approve(officer2, payout.id);
    const batch = (await local.payouts.runBatch(officer, platformId, { force: true }))!;
    expect(batch.status).toBe('broadcast');
    expect(simnet.mempoolTxids()).not.toContain(batch.txid);
    await simnet.mine(2, minerPay.address!);
    await sync();
    expect(await local.payouts.bumpStuck()).toEqual([]); // 2 blocks: not stuck yet
    await simnet.mine(1, minerPay.address!);
    await sync();
    await local.updateSettings(officer, platformId, { feeCapSatPerKvB: 10_000n });
    expect(await local.payouts.bumpStuck()).toEqual([batch.id]);
    const bumped = await local.payouts.getBatch(officer, batch.id);
    expect(bumped.replacedTxids).toEqual([batch.txid]);
    expect(bumped.txid).not.toBe(batch.txid);
    // The fee rate doubles (1 → 2 sat/vB, under the cap): the extra fee is at least the size in sats.
    expect(bumped.feeRateSatPerKvB).toBe(2_000n);
    expect(bumped.feeSats - batch.feeSats).toBeGreaterThanOrEqual(BigInt(batch.vsize));
    expect(simnet.mempoolTxids()).toContain(bumped.txid);
    await simnet.mine(1, minerPay.address!);
    await sync();
    const done = await local.payouts.get(officer, payout.id);
    expect(done).toMatchObject({ status: 'completed', txid: bumped.txid });
    expect(done.feeShareSats).toBe(bumped.feeSats);
    expect((await local.reconcile(systemCaller())).totalDifferenceSats).toBe(0n);
    expect(await ledger.trialBalance()).toBe(0n);
  });

  it('delivers webhooks from the outbox, signed, retrying with backoff', async () => {
    await trade.updateSettings(officer, platformId, {
      webhookUrl: 'https://hooks.example.test/x',
      webhookSecret: 'whsec_0123456789abcdef',
    });
    answer = 500;
    const first = await trade.webhooks.drain(1_000);
    expect(first.pending).toBeGreaterThan(0);
    expect(first.delivered).toBe(0);
    const log = (await trade.webhooks.log(officer, { limit: 500 })).items;
    expect(log.every((d) => d.attempts === 1 && d.lastStatus === 500)).toBe(true);
    expect(log[0]!.nextAttemptAt.getTime() - clock.now().getTime()).toBe(30_000);
    const sample = deliveries[0]!;
    const [t, v1] = sample.headers[SIGNATURE_HEADER]!.split(',');
    const mac = createHmac('sha256', 'whsec_0123456789abcdef')
      .update(`${t!.slice(2)}.${sample.body}`)
      .digest('hex');
    expect(v1).toBe(`v1=${mac}`);
    answer = 200;
    expect((await trade.webhooks.drain(1_000)).delivered).toBe(0); // not due yet
    clock.advance(30_000);
    const second = await trade.webhooks.drain(1_000);
    expect(second.delivered).toBe(log.length);
    const events = deliveries.map((x) => (JSON.parse(x.body) as { type: string }).type);
    expect(events).toContain('invoice.settled');
    expect(events).toContain('payout.completed');
    // Each settlement and completion was also announced as trade.payment.settled, once.
    const settled = rowsOf(
      await db.orm.execute(
        sql`select payload->>'kind' as kind, key from outbox_events
            where topic = ${PAYMENT_SETTLED} order by seq`,
      ),
    ).map((r) => `${String(r.kind)} ${String(r.key)}`);
    const paid = (await trade.webhooks.log(officer, { limit: 500 })).items
      .filter((d) => d.event === 'invoice.settled' || d.event === 'payout.completed')
      .map((d) => `${d.event.split('.')[0]!} ${d.entityId}`);
    expect(settled.length).toBeGreaterThan(1);
    expect([...settled].sort()).toEqual([...paid].sort());
  });
});

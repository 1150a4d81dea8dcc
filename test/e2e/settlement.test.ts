import * as ecc from '@bitcoinerlab/secp256k1';
import * as bitcoinjs from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import { afterAll, describe, expect, it } from 'vitest';
import {
  ChainWatcher,
  SimnetChainSource,
  Simnet,
  type ChainSource,
  type WatchedTransaction,
} from '../../src/chain';
import { openTestDatabase, type Database } from '../../src/db';
import { LedgerService, FixedRateSource, RateService, type AccountBalance } from '../../src/ledger';
import { ManualClock, SeededRandom, systemCaller, type Caller, type Role } from '../../src/kernel';
import { createCompliance, registryPartySource } from '../../src/compliance';
import { RegistryService } from '../../src/registry';
import {
  ComplianceTransferGate,
  RegistryPartyDirectory,
  TradeService,
  type UtxoSource,
} from '../../src/trade';
import { LocalKeySigner } from '../../src/bitcoin';

/**
 * The "Done when", on simnet with the real watcher and a real PGlite database:
 * contract → invoice paid by a transaction built outside Tradeclear (bitcoinjs-lib) → settled
 * after the confirmation depth and posted; three payouts approved by two officers, batched in one
 * transaction, confirmed, settled; reorgs un-settle and re-settle; reconcile shows no difference;
 * a "crash" between signing and broadcast loses nothing and pays nothing twice.
 */

bitcoinjs.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);
const regtest = bitcoinjs.networks.regtest;

const PASSPHRASE = 'correct horse battery staple';
const random = new SeededRandom(2026);
// Registered through the registry at the start of the test (its ids).
let platformId = '';
let companyId = '';
let buyerId = '';
let supplierId = '';

const caller = (
  role: Role,
  participantId: string,
  actorId: string,
  platform: string | null,
): Caller => ({
  role,
  participantId,
  platformId: platform,
  actorId,
  requestId: null,
});
let company: Caller;
let maker: Caller;
let officerA: Caller;
let officerB: Caller;
const supervisor = systemCaller('supervisor-test');

const legal = (name: string, customerNumber?: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
    ...(customerNumber ? { customerNumber } : {}),
  },
});
/** IVMS101 data (FATF R.16): every transfer here is above the 1,000 USD threshold. */
const travelRule = (originator: string, beneficiary: string, from: string, to: string) => ({
  originator: { originatorPersons: [legal(originator, 'CUST-0001')] },
  beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
  originatingVASP: { originatingVASP: legal(from) },
  beneficiaryVASP: { beneficiaryVASP: legal(to) },
});
const PLATFORM_NAME = 'Bogota Digital Custody SAS';
const INBOUND = travelRule(
  'Hamburg Roasters GmbH',
  'Andes Coffee Exporters SA',
  'Hamburg Krypto Bank AG',
  PLATFORM_NAME,
);
const OUTBOUND = travelRule(
  'Andes Coffee Exporters SA',
  'Osaka Machinery KK',
  PLATFORM_NAME,
  'Osaka Exchange KK',
);

/**
 * The scheme in the registry: jurisdiction CO, a licensed platform, its company and two foreign
 * counterparties, all KYC/KYB-verified; the supplier's address hosted by a VASP.
 */
async function registerScheme(registry: RegistryService, clock: ManualClock) {
  await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
  const platform = await registry.registerParticipant(supervisor, {
    kind: 'platform',
    legalName: PLATFORM_NAME,
    country: 'CO',
  });
  await registry.grantLicence(supervisor, {
    participantId: platform.id,
    kind: 'vasp',
    scope: 'custody and transfer of bitcoin for foreign-trade settlement',
    validFrom: new Date(clock.now().getTime() - 86_400_000).toISOString(),
    validTo: new Date(clock.now().getTime() + 3 * 365 * 86_400_000).toISOString(),
  });
  const register = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
    const p = await registry.registerParticipant(supervisor, {
      kind,
      legalName,
      country,
      platformId: platform.id,
    });
    await registry.setKyc(supervisor, p.id, {
      status: 'verified',
      riskRating: 'low',
      reviewDue: '2027-06-30',
      beneficialOwners: [],
      documents: [
        {
          type: 'certificate of incorporation',
          number: `REG-${p.id.slice(-6)}`,
          issuer: 'registry',
        },
      ],
    });
    return p.id;
  };
  platformId = platform.id;
  companyId = await register('company', 'Andes Coffee Exporters SA', 'CO');
  buyerId = await register('counterparty', 'Hamburg Roasters GmbH', 'DE');
  supplierId = await register('counterparty', 'Osaka Machinery KK', 'JP');
  await registry.registerCounterpartyAddress(supervisor, supplierId, {
    address: supplierAddress,
    ownership: 'hosted',
    vasp: { name: 'Osaka Exchange KK' },
  });
  company = caller('company', companyId, 'key_company_user', platformId);
  maker = caller('platform', platformId, 'key_officer_maker', platformId);
  officerA = caller('platform', platformId, 'key_officer_a', platformId);
  officerB = caller('platform', platformId, 'key_officer_b', platformId);
}

const minerKey = ECPair.fromPrivateKey(new Uint8Array(32).fill(7), { network: regtest });
const minerPayment = bitcoinjs.payments.p2wpkh({ pubkey: minerKey.publicKey, network: regtest });
const supplierKey = ECPair.fromPrivateKey(new Uint8Array(32).fill(9), { network: regtest });
const supplierAddress = bitcoinjs.payments.p2wpkh({
  pubkey: supplierKey.publicKey,
  network: regtest,
}).address!;

function balanceOf(balances: readonly AccountBalance[], id: string): bigint {
  return balances.find((b) => b.accountId === id)?.balanceSats ?? 0n;
}

/** A ChainSource whose broadcast "crashes": the process dies after committing, before sending. */
function crashingBroadcast(source: ChainSource): ChainSource {
  return new Proxy(source, {
    get(target, property, receiver) {
      if (property === 'broadcast')
        return () => Promise.reject(new Error('process killed before broadcast'));
      const value: unknown = Reflect.get(target, property, receiver);
      return typeof value === 'function'
        ? (value as (...a: unknown[]) => unknown).bind(target)
        : value;
    },
  });
}

describe('settlement end to end on simnet', () => {
  let db: Database;
  afterAll(async () => db?.close());

  it('settles an invoice and a batch of payouts through reorgs and a crash', async () => {
    db = await openTestDatabase();
    const clock = new ManualClock('2026-07-01T09:00:00Z');
    const simnet = await Simnet.open({ db, clock });
    const source = new SimnetChainSource(simnet);
    const utxoSource: UtxoSource = {
      unspent: (address) =>
        Promise.resolve(
          simnet
            .listUnspent(address)
            .map((u) => ({ txid: u.txid, vout: u.vout, valueSats: u.value })),
        ),
    };
    const rateSource = new FixedRateSource('test-desk', clock, { USD: '60000' });
    const registry = new RegistryService({ db, clock, random, network: 'regtest' });
    const compliance = createCompliance(
      { db, clock, random },
      { parties: registryPartySource(registry) },
    );
    const gate = new ComplianceTransferGate({ gate: compliance.gate, registry, clock });
    await registerScheme(registry, clock);
    const build = (chain: ChainSource) => {
      const ledger = new LedgerService({ db, clock, random });
      const rates = new RateService({ db, clock, random, source: rateSource });
      return {
        ledger,
        trade: new TradeService({
          db,
          clock,
          random,
          network: 'regtest',
          chain,
          ledger,
          rates,
          gate,
          directory: new RegistryPartyDirectory(registry),
          signerPassphrase: () => PASSPHRASE,
        }),
      };
    };
    const { ledger, trade } = build(source);

    // ---- the scheme: a platform with a sealed local key, a company wallet, two counterparties.
    const seed = new Uint8Array(32).fill(42);
    const local = LocalKeySigner.fromSeed(seed, 'regtest');
    const fingerprint = local.fingerprint.toString(16).padStart(8, '0');
    const descriptor = `wpkh([${fingerprint}/84h/1h/0h]${local.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
    await db.transaction(async (tx) => {
      await trade.sealedKeys.store(tx, platformId, seed, 'regtest', 1 << 12);
    });
    await trade.registerWallet(maker, companyId, descriptor);
    await trade.updateSettings(supervisor, platformId, {
      confirmations: 2,
      quorumThresholdSats: 4_000_000n,
      approvalsAbove: 2,
      approvalsBelow: 1,
      // Floor = cap: a known fee rate, 2 sat/vB.
      feeFloorSatPerKvB: 2_000n,
      feeCapSatPerKvB: 2_000n,
    });

    // ---- the chain: 101 blocks so the first coinbase is mature; the watcher follows from here.
    await simnet.mine(101, minerPayment.address!);
    const watcher = new ChainWatcher({ source, database: db, clock });
    await watcher.registerConsumer(trade.chainConsumer());
    await watcher.syncOnce();
    const mempool: WatchedTransaction[] = [];
    watcher.on('mempoolTx', (t) => void mempool.push(t));
    const syncMempool = async () => {
      await watcher.syncMempool();
      const tip = (await source.getTip()).height;
      for (const t of mempool.splice(0))
        await trade.invoices.mempoolTransaction(t, await source.getRawTransaction(t.txid), tip);
    };
    const mine = async (count: number) => {
      await simnet.mine(count, minerPayment.address!);
      await watcher.syncOnce();
    };

    // ---- an export contract: 30,000.00 USD, priced in fiat; approved by the platform; active.
    const exportContract = await trade.contracts.create(company, {
      counterpartyId: buyerId,
      direction: 'export',
      goodsDescription: 'Green coffee beans, washed arabica, 18 t',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '30000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-08-01', amount: '30000.00' }],
      customsDeclarationRef: 'CO-DEX-2026-000123',
    });
    await trade.contracts.transition(company, exportContract.id, 'submit');
    await expect(
      trade.contracts.transition(company, exportContract.id, 'approve'),
    ).rejects.toMatchObject({ code: 'FORBIDDEN' });
    await trade.contracts.transition(maker, exportContract.id, 'approve');
    expect((await trade.contracts.transition(maker, exportContract.id, 'activate')).status).toBe(
      'active',
    );

    // ---- the invoice: 30,000.00 USD at 60,000 USD/BTC = 0.5 BTC.
    const invoice = await trade.invoices.create(company, {
      contractId: exportContract.id,
      amount: '30000.00',
      travelRule: INBOUND,
    });
    expect(invoice.amountSats).toBe(50_000_000n);
    expect(invoice.amountBtc).toBe('0.50000000');
    expect(invoice.paymentUri).toBe(
      `bitcoin:${invoice.address}?amount=0.5&message=Invoice%20${invoice.id}`,
    );
    expect(invoice.expiresAt.toISOString()).toBe('2026-07-01T09:15:00.000Z');
    // Nothing more than the open amount: another 0.01 USD is refused.
    await expect(
      trade.invoices.create(company, { contractId: exportContract.id, amount: '0.01' }),
    ).rejects.toMatchObject({ code: 'AMOUNT_EXCEEDS_OPEN' });

    // ---- the buyer pays from its own wallet: a transaction built by bitcoinjs-lib.
    const coinbase = simnet.listUnspent(minerPayment.address!)[0]!;
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: coinbase.txid,
      index: coinbase.vout,
      witnessUtxo: { script: minerPayment.output!, value: coinbase.value },
    });
    psbt.addOutput({ address: invoice.address, value: 50_000_000n });
    psbt.addOutput({
      address: minerPayment.address!,
      value: coinbase.value - 50_000_000n - 2_000n,
    });
    psbt.signAllInputs(minerKey);
    psbt.finalizeAllInputs();
    const paymentTx = psbt.extractTransaction();
    await source.broadcast(paymentTx.toBuffer());
    await syncMempool();
    let seen = await trade.invoices.get(company, invoice.id);
    expect(seen.status).toBe('processing');
    expect(seen.payments).toEqual([
      expect.objectContaining({
        txid: paymentTx.getId(),
        vout: 0,
        valueSats: 50_000_000n,
        blockHash: null,
        signalsRbf: false,
      }),
    ]);

    await mine(1);
    expect((await trade.invoices.get(company, invoice.id)).status).toBe('processing'); // 1 of 2 confirmations
    await mine(1);
    seen = await trade.invoices.get(company, invoice.id);
    expect(seen.status).toBe('settled');
    let balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(50_000_000n);
    expect(balanceOf(balances, `counterpartySettled:${buyerId}`)).toBe(-50_000_000n);
    expect((await trade.contracts.get(company, exportContract.id)).status).toBe('settled');

    // ---- a reorg takes the payment's block away: the invoice goes back and the ledger with it.
    const paymentBlock = simnet.blockHashAt(simnet.height - 1)!;
    await simnet.invalidateBlock(paymentBlock);
    await watcher.syncOnce();
    seen = await trade.invoices.get(company, invoice.id);
    expect(seen.status).toBe('processing');
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(0n);
    expect((await trade.contracts.get(company, exportContract.id)).status).toBe('active');
    // The payment is back in the mempool; the new branch confirms it twice: settled again, once.
    await mine(3);
    seen = await trade.invoices.get(company, invoice.id);
    expect(seen.status).toBe('settled');
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(50_000_000n);
    expect(await ledger.trialBalance()).toBe(0n);
    let report = await trade.reconcile(supervisor, utxoSource);
    expect(report.lines).toEqual([
      {
        companyId,
        platformId,
        ledgerSats: 50_000_000n,
        trackedSats: 50_000_000n,
        chainSats: 50_000_000n,
        differenceSats: 0n,
      },
    ]);

    // ---- an import contract at a fixed 0.1 BTC; three payouts to the supplier.
    const importContract = await trade.contracts.create(maker, {
      companyId,
      counterpartyId: supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine, 120 kg batch',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '6000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '10000000',
      schedule: [
        { dueDate: '2026-07-15', amount: '5000000' },
        { dueDate: '2026-08-15', amount: '5000000' },
      ],
    });
    for (const action of ['submit', 'approve', 'activate'] as const)
      await trade.contracts.transition(maker, importContract.id, action);
    const amounts = [5_000_000n, 3_000_000n, 2_000_000n];
    const payouts = [];
    for (const amount of amounts) {
      payouts.push(
        await trade.payouts.create(maker, {
          contractId: importContract.id,
          amount: amount.toString(),
          address: supplierAddress,
          travelRule: OUTBOUND,
        }),
      );
    }
    expect(payouts.map((p) => p.requiredApprovals)).toEqual([2, 1, 1]);
    expect(payouts[0]!.fiatMinor).toBe(300_000n); // 0.05 BTC × 60,000 = 3,000.00 USD
    await expect(trade.payouts.approve(maker, payouts[0]!.id)).rejects.toMatchObject({
      code: 'SELF_APPROVAL',
    });
    await expect(
      trade.payouts.create(maker, {
        contractId: importContract.id,
        amount: '1',
        address: supplierAddress,
      }),
    ).rejects.toMatchObject({ code: 'AMOUNT_EXCEEDS_OPEN' });
    for (const p of payouts) await trade.payouts.approve(officerA, p.id);
    await expect(trade.payouts.approve(officerA, payouts[0]!.id)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await trade.payouts.get(maker, payouts[0]!.id)).status).toBe('awaitingApproval');
    expect((await trade.payouts.approve(officerB, payouts[0]!.id)).status).toBe('awaitingPayment');

    // ---- the batch run, with a process that dies after committing the signed tx, before broadcast.
    const crashed = build(crashingBroadcast(source));
    const batch = (await crashed.trade.payouts.runBatch(maker, platformId, { force: true }))!;
    expect(batch.status).toBe('signed');
    expect(batch.lastBroadcastError).toBe('process killed before broadcast');
    expect([...batch.payoutIds].sort()).toEqual(payouts.map((p) => p.id).sort());
    // One input of 0.5 BTC, three payments and change, P2WPKH: 10.5 + 68 + 4 × 31 = 202.5 → 203 vB;
    // at 2 sat/vB the fee is 406 sats.
    expect(batch.feeSats).toBe(406n);
    expect(simnet.mempoolTxids()).toEqual([]);
    for (const p of payouts)
      expect((await trade.payouts.get(maker, p.id)).status).toBe('inProgress');

    // A new instance over the same database: re-broadcasts the same transaction, builds nothing.
    const restarted = build(source).trade;
    expect(await restarted.payouts.resume()).toEqual([batch.id]);
    expect(simnet.mempoolTxids()).toEqual([batch.txid]);
    expect(await restarted.payouts.runBatch(maker, platformId, { force: true })).toBeNull();
    expect(await restarted.payouts.resume()).toEqual([batch.id]); // idempotent
    expect(simnet.mempoolTxids()).toEqual([batch.txid]);
    expect((await restarted.payouts.listBatches(maker)).length).toBe(1);

    // The batch transaction, decoded independently: the three payments at vouts 0..2 and change.
    const batchTx = bitcoinjs.Transaction.fromBuffer(await source.getRawTransaction(batch.txid!));
    for (const p of payouts) {
      const vout = (await restarted.payouts.get(maker, p.id)).vout!;
      expect(batchTx.outs[vout]!.value).toBe(p.amountSats);
      expect(bitcoinjs.address.fromOutputScript(batchTx.outs[vout]!.script, regtest)).toBe(
        supplierAddress,
      );
    }
    expect(batchTx.outs.length).toBe(4);
    expect(batchTx.outs[3]!.value).toBe(50_000_000n - 10_000_000n - 406n);
    expect(batchTx.ins.every((i) => i.sequence === 0xfffffffd)).toBe(true);

    await mine(2);
    const done = await Promise.all(payouts.map((p) => restarted.payouts.get(maker, p.id)));
    expect(done.map((p) => p.status)).toEqual(['completed', 'completed', 'completed']);
    // 406 split 5:3:2 is 203, 121.8, 81.2 → 203, 121, 81 and the 1-sat remainder to the batch's
    // first payout (the one approved first, at vout 0).
    const shares = new Map(done.map((p) => [p.amountSats, p.feeShareSats]));
    const firstAmount = done.find((p) => p.vout === 0)!.amountSats;
    const expectedShares = new Map([
      [5_000_000n, 203n],
      [3_000_000n, 121n],
      [2_000_000n, 81n],
    ]);
    expectedShares.set(firstAmount, expectedShares.get(firstAmount)! + 1n);
    expect(shares).toEqual(expectedShares);
    expect(done.reduce((s, p) => s + p.feeShareSats, 0n)).toBe(406n);
    expect(
      simnet
        .listUnspent(supplierAddress)
        .map((u) => u.value)
        .sort(),
    ).toEqual([...amounts].sort());
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(39_999_594n);
    expect(balanceOf(balances, `inTransit:${companyId}`)).toBe(0n);
    expect(balanceOf(balances, `networkFees:${companyId}`)).toBe(406n);
    expect(balanceOf(balances, `counterpartySettled:${supplierId}`)).toBe(10_000_000n);
    expect((await restarted.contracts.get(maker, importContract.id)).status).toBe('settled');

    // ---- a reorg of the batch's block: payouts back in progress, then settled again, once.
    const batchBlock = simnet.blockHashAt(simnet.height - 1)!;
    await simnet.invalidateBlock(batchBlock);
    await watcher.syncOnce();
    expect((await restarted.payouts.get(maker, payouts[0]!.id)).status).toBe('inProgress');
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `inTransit:${companyId}`)).toBe(10_000_406n);
    report = await restarted.reconcile(supervisor, utxoSource);
    expect(report.totalDifferenceSats).toBe(0n);
    await mine(3);
    expect((await restarted.payouts.get(maker, payouts[2]!.id)).status).toBe('completed');
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(39_999_594n);
    expect(balanceOf(balances, `counterpartySettled:${supplierId}`)).toBe(10_000_000n);

    // ---- reconcile: ledger against the chain's own UTXO set, zero difference.
    report = await restarted.reconcile(supervisor, utxoSource);
    expect(report.lines).toEqual([
      {
        companyId,
        platformId,
        ledgerSats: 39_999_594n,
        trackedSats: 39_999_594n,
        chainSats: 39_999_594n,
        differenceSats: 0n,
      },
    ]);
    expect(report.totalDifferenceSats).toBe(0n);
    expect(report.trialBalanceSats).toBe(0n);
  }, 240_000);
});

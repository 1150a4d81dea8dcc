import * as ecc from '@bitcoinerlab/secp256k1';
import * as bitcoinjs from 'bitcoinjs-lib';
import { eq } from 'drizzle-orm';
import { ECPairFactory } from 'ecpair';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../audit';
import { LocalKeySigner } from '../bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource, type ChainSource } from '../chain';
import { createCompliance, registryPartySource, type Compliance } from '../compliance';
import type { Database } from '../db';
import { FixedRateSource, LedgerService, RateService } from '../ledger';
import { AppError, ManualClock, SeededRandom, systemCaller, type Caller } from '../kernel';
import { RegistryService, type SetKycInput } from '../registry';
import { ComplianceTransferGate } from './compliance-gate';
import { RegistryPartyDirectory } from './directory';
import type { InvoiceView } from './invoices';
import { INVOICE_STATUSES, INVOICE_TRANSITIONS, invoiceAction, type GateStep } from './lifecycle';
import { tradeWalletUtxos, tradeWebhookOutbox } from './schema';
import { TradeService } from './service';
import { testVasp } from '../../test/support/vasp';
import { openTestDatabase, TEST_DRIVERS } from '../../test/support/db';

bitcoinjs.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);
const regtest = bitcoinjs.networks.regtest;

const COMPANY_NAME = 'Vignobles du Sud SARL';
const SUPPLIER_NAME = 'Importadora Paulista Ltda';
const OTHER_COMPANY_NAME = 'Tonnellerie de Gascogne SAS';
const OTHER_SUPPLIER_NAME = 'Corticeira do Norte Lda';
const legal = (name: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
  },
});
/** IVMS101 (FATF R.16) data for the company paying its supplier, and the buyer paying it. */
const outbound = (company: string, supplier: string) => ({
  originator: {
    originatorPersons: [
      { legalPerson: { ...legal(company).legalPerson, customerNumber: 'CUST-0001' } },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal(supplier)] },
  originatingVASP: { originatingVASP: legal('Paris Custody SAS') },
  beneficiaryVASP: { beneficiaryVASP: legal('Banco Exchange SA') },
});
const OUTBOUND = outbound(COMPANY_NAME, SUPPLIER_NAME);
const OTHER_OUTBOUND = outbound(OTHER_COMPANY_NAME, OTHER_SUPPLIER_NAME);
const INBOUND = {
  originator: {
    originatorPersons: [
      { legalPerson: { ...legal(SUPPLIER_NAME).legalPerson, customerNumber: 'BUY-0042' } },
    ],
  },
  beneficiary: { beneficiaryPersons: [legal(COMPANY_NAME)] },
  originatingVASP: { originatingVASP: legal('Banco Exchange SA') },
  beneficiaryVASP: { beneficiaryVASP: legal('Paris Custody SAS') },
};

/**
 * A chain source that can fail on demand: a node that refuses broadcasts (the batch stays signed,
 * to be broadcast again later) or cannot look transactions up (a payer's previous output).
 */
function faultyChain(real: SimnetChainSource) {
  const faults = { broadcast: false, lookup: false };
  const source = new Proxy(real, {
    get(target, property) {
      if (property === 'broadcast' && faults.broadcast)
        return () => Promise.reject(new Error('connection refused'));
      if (property === 'getRawTransaction' && faults.lookup)
        return () =>
          Promise.reject(new AppError('CHAIN_UNAVAILABLE', 'the node did not answer the lookup'));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  }) as ChainSource;
  return { source, faults };
}

describe.each(TEST_DRIVERS)('controls at every step of a payout on %s', (driver) => {
  let db: Database;
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(23);
  let simnet: Simnet;
  let faults: { broadcast: boolean; lookup: boolean };
  let registry: RegistryService;
  let compliance: Compliance;
  let ledger: LedgerService;
  let trade: TradeService;
  let watcher: ChainWatcher;
  let platformId: string;
  let companyId: string;
  let supplierId: string;
  let licenceId: string;
  let contractId: string;
  // Another company of the platform paying another supplier: its payouts share the batches.
  let otherCompanyId: string;
  let otherSupplierId: string;
  let otherContractId: string;
  const supervisor = systemCaller('test.supervisor');
  const officer = (actorId: string, personId = actorId): Caller => ({
    role: 'platform',
    participantId: platformId,
    platformId,
    actorId,
    personId,
    requestId: null,
  });
  // Three people of the platform, each with a key; Alice also has a login session.
  const maker = () => officer('key_maker', 'usr_maker');
  const alice = () => officer('key_alice', 'usr_alice');
  const aliceSession = () => officer('ses_alice', 'usr_alice');
  const bob = () => officer('key_bob', 'usr_bob');
  const miner = ECPair.fromPrivateKey(new Uint8Array(32).fill(3), { network: regtest });
  const minerPay = bitcoinjs.payments.p2wpkh({ pubkey: miner.publicKey, network: regtest });
  const device = LocalKeySigner.fromSeed(new Uint8Array(32).fill(8), 'regtest');
  const otherDevice = LocalKeySigner.fromSeed(new Uint8Array(32).fill(9), 'regtest');
  const descriptorOf = (signer: LocalKeySigner) =>
    `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
  let keyIndex = 1;
  const kyc = (status: SetKycInput['status']): SetKycInput => ({
    status,
    riskRating: 'low',
    reviewDue: '2027-06-30',
    beneficialOwners: [],
    documents: [{ type: 'certificate of incorporation', number: 'REG-000001', issuer: 'registry' }],
    reason: status === 'verified' ? null : 'review date passed without new documents',
  });

  const spent = new Set<string>();
  /** Pays `outputs` from the miner's oldest unspent coinbase (mature: 100 blocks deep). */
  const pay = async (outputs: { address: string; value: bigint }[]) => {
    // The oldest mature coinbase not spent yet (a spend still in the mempool counts as spent).
    const [coin] = simnet
      .listUnspent(minerPay.address!)
      .filter(
        (u) =>
          u.coinbase && simnet.height - u.height + 1 > 100 && !spent.has(`${u.txid}:${u.vout}`),
      )
      .sort((a, b) => a.height - b.height);
    if (!coin) throw new Error('the miner has no mature coinbase left');
    spent.add(`${coin.txid}:${coin.vout}`);
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: coin.txid,
      index: coin.vout,
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

  /** A fresh address of the supplier, registered as hosted by its VASP. */
  const supplierAddress = async (owner = supplierId) => {
    const key = ECPair.fromPrivateKey(new Uint8Array(32).fill(0x40 + keyIndex++), {
      network: regtest,
    });
    const address = bitcoinjs.payments.p2wpkh({ pubkey: key.publicKey, network: regtest }).address!;
    await registry.registerCounterpartyAddress(supervisor, owner, {
      address,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Banco Exchange SA'),
    });
    return address;
  };

  /** Activates an address list (a new snapshot replaces the previous one of the same list). */
  const listAddresses = (addresses: readonly string[]) =>
    compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`${addresses.join('\n')}\n`),
    });

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    simnet = await Simnet.open({ db, clock });
    const real = new SimnetChainSource(simnet);
    const chain = faultyChain(real);
    faults = chain.faults;
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
    const gate = new ComplianceTransferGate({ gate: compliance.gate, registry, clock });
    trade = new TradeService({
      db,
      clock,
      random,
      network: 'regtest',
      chain: chain.source,
      ledger,
      rates,
      gate,
      directory: new RegistryPartyDirectory(registry),
      wallets: registry,
    });
    await registry.setSchemeJurisdiction(supervisor, { country: 'FR', name: 'France' });
    const platform = await registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Paris Custody SAS',
      country: 'FR',
    });
    platformId = platform.id;
    licenceId = (
      await registry.grantLicence(supervisor, {
        participantId: platformId,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: new Date(clock.now().getTime() - 86_400_000).toISOString(),
        validTo: new Date(clock.now().getTime() + 3 * 365 * 86_400_000).toISOString(),
      })
    ).id;
    const register = async (
      kind: 'company' | 'counterparty',
      legalName: string,
      country: string,
    ) => {
      const p = await registry.registerParticipant(supervisor, {
        kind,
        legalName,
        country,
        platformId,
      });
      await registry.setKyc(supervisor, p.id, kyc('verified'));
      return p.id;
    };
    companyId = await register('company', COMPANY_NAME, 'FR');
    supplierId = await register('counterparty', SUPPLIER_NAME, 'BR');
    otherCompanyId = await register('company', OTHER_COMPANY_NAME, 'FR');
    otherSupplierId = await register('counterparty', OTHER_SUPPLIER_NAME, 'PT');
    await registry.registerWallet(maker(), { companyId, descriptor: descriptorOf(device) });
    await registry.registerWallet(maker(), {
      companyId: otherCompanyId,
      descriptor: descriptorOf(otherDevice),
    });
    // Two people approve every payout; fees fixed at 1 sat/vB.
    await trade.updateSettings(maker(), platformId, {
      confirmations: 1,
      approvalsBelow: 2,
      approvalsAbove: 2,
      feeFloorSatPerKvB: 1_000n,
      feeCapSatPerKvB: 1_000n,
    });
    await simnet.mine(130, minerPay.address!);
    // The company's wallet holds twelve coins of 0.1 BTC, the other company's four.
    for (const [owner, coins] of [
      [companyId, 12],
      [otherCompanyId, 4],
    ] as const) {
      for (let i = 0; i < coins; i++) {
        const { address } = await db.transaction((tx) =>
          registry.nextReceiveAddress(tx, owner, 'funding'),
        );
        await pay([{ address, value: 10_000_000n }]);
      }
    }
    await simnet.mine(1, minerPay.address!);
    watcher = new ChainWatcher({ source: real, database: db, clock });
    await watcher.registerConsumer(trade.chainConsumer());
    await watcher.syncOnce();
    // Only coins the ledger credited fund payouts: each funding coin is settled as a receipt
    // (as a paid invoice's would be), client funds of its company.
    const coins = await db.orm.select().from(tradeWalletUtxos);
    await db.transaction(async (tx) => {
      for (const coin of coins)
        await ledger.post(tx, systemCaller('test.funding'), {
          kind: 'test.funding',
          reference: `${coin.txid}:${coin.vout}`,
          platformId: coin.platformId,
          rate: null,
          postings: [
            {
              account: {
                participantId: coin.companyId,
                purpose: 'clientFunds',
                platformId: coin.platformId,
              },
              amountSats: coin.valueSats,
            },
            {
              account: {
                participantId: supplierId,
                purpose: 'counterpartySettled',
                platformId: coin.platformId,
              },
              amountSats: -coin.valueSats,
            },
          ],
          settles: [{ txid: coin.txid, vout: coin.vout }],
        });
    });
    const contract = await trade.contracts.create(maker(), {
      companyId,
      counterpartyId: supplierId,
      direction: 'import',
      goodsDescription: 'Cork stoppers',
      hsCode: '450310',
      incoterm: 'DAP',
      currency: 'EUR',
      amount: '500000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '1000000000',
      schedule: [{ dueDate: '2026-12-01', amount: '1000000000' }],
    });
    await trade.contracts.transition(maker(), contract.id, 'submit');
    await trade.contracts.transition(alice(), contract.id, 'approve');
    await trade.contracts.transition(maker(), contract.id, 'activate');
    contractId = contract.id;
    const other = await trade.contracts.create(maker(), {
      companyId: otherCompanyId,
      counterpartyId: otherSupplierId,
      direction: 'import',
      goodsDescription: 'Natural cork bark',
      hsCode: '450110',
      incoterm: 'DAP',
      currency: 'EUR',
      amount: '500000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '1000000000',
      schedule: [{ dueDate: '2026-12-01', amount: '1000000000' }],
    });
    await trade.contracts.transition(maker(), other.id, 'submit');
    await trade.contracts.transition(alice(), other.id, 'approve');
    await trade.contracts.transition(maker(), other.id, 'activate');
    otherContractId = other.id;
  });
  afterAll(async () => db.close());

  const request = async (address: string, amount = '100000') =>
    trade.payouts.create(maker(), { contractId, amount, address, travelRule: OUTBOUND });
  const approve = async (id: string) => {
    await trade.payouts.approve(alice(), id);
    return trade.payouts.approve(bob(), id);
  };
  const inTransit = async (owner = companyId) =>
    (await ledger.balances(supervisor, { participantId: owner }))
      .filter((b) => b.purpose === 'inTransit')
      .reduce((s, b) => s + b.balanceSats, 0n);
  const signAndSubmit = async (batchId: string) => {
    const batch = await trade.payouts.getBatch(maker(), batchId);
    let psbt: Uint8Array = new Uint8Array(Buffer.from(batch.psbt, 'base64'));
    // Each company's key signs its own inputs (a key holding none of them refuses).
    for (const signer of [device, otherDevice])
      psbt = await signer.signPsbt(psbt).catch(() => psbt);
    return trade.payouts.submitSignedPsbt(maker(), batchId, psbt);
  };

  const causes: {
    name: string;
    apply: (address: string) => Promise<unknown>;
    undo: () => Promise<unknown>;
  }[] = [
    {
      name: 'a licence suspended',
      apply: () =>
        registry.changeLicenceStatus(supervisor, licenceId, 'suspended', 'inspection findings'),
      undo: () => registry.changeLicenceStatus(supervisor, licenceId, 'active', null),
    },
    {
      name: 'a KYC expired',
      apply: () => registry.setKyc(supervisor, companyId, kyc('expired')),
      undo: () => registry.setKyc(supervisor, companyId, kyc('verified')),
    },
    {
      name: 'a party listed (a list snapshot naming its address)',
      apply: (address) => listAddresses([address]),
      undo: () => listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']),
    },
  ];
  const steps: GateStep[] = ['approval', 'batching', 'signing', 'broadcast'];

  for (const cause of causes) {
    for (const step of steps) {
      it(`stops the payout at ${step} after ${cause.name}: held, never broadcast`, async () => {
        const listing = cause.name.startsWith('a party listed');
        const address = await supplierAddress();
        const payout = await request(address);
        // A payout of the other company to the other supplier, in the same batch: a listing of
        // the first supplier's address leaves it clean (a suspended licence or the first
        // company's expired KYC would not, so it rides along only with a listing).
        const companion =
          listing && (step === 'signing' || step === 'broadcast')
            ? await trade.payouts.create(maker(), {
                contractId: otherContractId,
                amount: '200000',
                address: await supplierAddress(otherSupplierId),
                travelRule: OTHER_OUTBOUND,
              })
            : null;
        let refused: unknown = null;
        let batchId: string | null = null;
        if (step === 'approval') {
          await trade.payouts.approve(alice(), payout.id);
          await cause.apply(address);
          refused = await trade.payouts.approve(bob(), payout.id).catch((e: unknown) => e);
        } else {
          await approve(payout.id);
          if (companion) await approve(companion.id);
          if (step === 'batching') {
            await cause.apply(address);
            expect(await trade.payouts.runBatch(maker(), platformId, { force: true })).toBeNull();
          } else {
            const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
            expect(batch.status).toBe('awaitingSignature');
            batchId = batch.id;
            if (step === 'signing') {
              await cause.apply(address);
              refused = await signAndSubmit(batch.id).catch((e: unknown) => e);
            } else {
              // Signed, then the node refuses the broadcast: the batch waits, in transit.
              faults.broadcast = true;
              expect((await signAndSubmit(batch.id)).status).toBe('signed');
              faults.broadcast = false;
              expect(await inTransit()).toBeGreaterThan(0n);
              await cause.apply(address);
              await trade.payouts.resume();
            }
          }
        }
        const held = await trade.payouts.get(maker(), payout.id);
        expect(held).toMatchObject({ status: 'held', batchId: null, hold: { step } });
        expect(held.hold!.outcome).not.toBe('allow');
        expect(held.hold!.reasons.length).toBeGreaterThan(0);
        expect(held.hold!.decisionId).toMatch(/^dec/);
        if (refused !== null) {
          // The caller gets a reference, not the rules behind it (no tipping-off).
          expect(refused).toMatchObject({
            code: 'TRANSFER_BLOCKED',
            details: { payoutId: payout.id, reference: held.hold!.decisionId },
          });
          const message = (refused as AppError).message;
          expect(message).toContain(held.hold!.decisionId!);
          for (const reason of held.hold!.reasons)
            expect(message).not.toContain(reason.split(':')[0]!);
        }
        if (batchId) {
          expect((await trade.payouts.getBatch(maker(), batchId)).status).toBe('abandoned');
        }
        if (companion) {
          expect(await trade.payouts.get(maker(), companion.id)).toMatchObject({
            status: 'awaitingPayment',
            batchId: null,
            hold: null,
          });
        }
        // Nothing broadcast; funds back from in transit; the books and the audit chain hold.
        expect(simnet.mempoolTxids()).toEqual([]);
        expect(await inTransit()).toBe(0n);
        expect(await inTransit(otherCompanyId)).toBe(0n);
        expect(await ledger.trialBalance()).toBe(0n);
        expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
        // The platform's webhook, and the platform and supervisor see it held with its reasons.
        const events = await db.orm
          .select({ event: tradeWebhookOutbox.event })
          .from(tradeWebhookOutbox)
          .where(eq(tradeWebhookOutbox.entityId, payout.id));
        expect(events.map((e) => e.event)).toContain('payout.held');
        expect(
          (await trade.payouts.list(maker(), { status: 'held' })).items.map((p) => p.id),
        ).toContain(payout.id);
        expect((await trade.payouts.get(supervisor, payout.id)).hold).toEqual(held.hold);
        // The step's decision is compliance's, kept under the payout's id.
        const { items: decisions } = await compliance.decisions.list(supervisor, {
          transferId: payout.id,
        });
        expect(decisions.map((d) => d.id)).toContain(held.hold!.decisionId);
        if (companion) {
          // The other payout goes back to be batched again, alone, and is sent.
          const again = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
          expect(again.payoutIds).toEqual([companion.id]);
          const sent = await signAndSubmit(again.id);
          expect(sent.status).toBe('broadcast');
          expect(simnet.mempoolTxids()).toEqual([sent.txid]);
          await simnet.mine(1, minerPay.address!);
          await watcher.syncOnce();
          expect((await trade.payouts.get(maker(), companion.id)).status).toBe('completed');
          expect(await inTransit(otherCompanyId)).toBe(0n);
          expect(await ledger.trialBalance()).toBe(0n);
          expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({ status: 'held' });
        }
        await cause.undo();
        // A held payout can be cancelled; it never moves on by itself.
        expect((await trade.payouts.cancel(maker(), payout.id)).status).toBe('cancelled');
      });
    }
  }

  it('counts people, not credentials: a second credential of one person is one approval', async () => {
    const payout = await request(await supplierAddress());
    await trade.payouts.approve(alice(), payout.id);
    await expect(trade.payouts.approve(aliceSession(), payout.id)).rejects.toMatchObject({
      code: 'CONFLICT',
    });
    expect((await trade.payouts.get(maker(), payout.id)).approvals).toHaveLength(1);
    // The maker, through a credential other than the one that made it, is still the maker.
    const makerSession = officer('ses_maker', 'usr_maker');
    await expect(trade.payouts.approve(makerSession, payout.id)).rejects.toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect((await trade.payouts.get(maker(), payout.id)).status).toBe('awaitingApproval');
    expect((await trade.payouts.approve(bob(), payout.id)).status).toBe('awaitingPayment');
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
    await trade.payouts.cancel(maker(), payout.id);
  });

  it('needs four eyes on a contract: the approver is neither its creator nor its submitter', async () => {
    const draft = await trade.contracts.create(maker(), {
      companyId,
      counterpartyId: supplierId,
      direction: 'import',
      goodsDescription: 'Oak barrels',
      hsCode: '441600',
      incoterm: 'DAP',
      currency: 'EUR',
      amount: '1000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-12-01', amount: '1000.00' }],
    });
    await trade.contracts.transition(alice(), draft.id, 'submit');
    // The creator, through another credential; the submitter, through another credential.
    for (const who of [officer('ses_maker', 'usr_maker'), aliceSession()]) {
      await expect(trade.contracts.transition(who, draft.id, 'approve')).rejects.toMatchObject({
        code: 'SELF_APPROVAL',
      });
    }
    expect((await trade.contracts.get(maker(), draft.id)).status).toBe('submitted');
    expect((await trade.contracts.transition(bob(), draft.id, 'approve')).status).toBe('approved');
  });

  it('refuses a payout below the dust limit of its output type, naming the amount', async () => {
    const address = await supplierAddress();
    const before = (await trade.payouts.list(maker(), {}, { limit: 500 })).items.length;
    const refused = await request(address, '293').catch((e: unknown) => e);
    expect(refused).toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [{ field: 'amount' }],
    });
    expect((refused as AppError).message).toMatch(/dust limit of a p2wpkh output \(294 sats\)/);
    expect((await trade.payouts.list(maker(), {}, { limit: 500 })).items.length).toBe(before);
    // A P2TR output's limit is 330 sats.
    const taproot = bitcoinjs.payments.p2tr({
      internalPubkey: ECPair.fromPrivateKey(new Uint8Array(32).fill(0x77)).publicKey.subarray(1),
      network: regtest,
    }).address!;
    await registry.registerCounterpartyAddress(supervisor, supplierId, {
      address: taproot,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Banco Exchange SA'),
    });
    await expect(request(taproot, '329')).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    const smallest = await request(address, '294');
    expect(smallest.status).toBe('awaitingApproval');
    await trade.payouts.cancel(maker(), smallest.id);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
  });

  /** An active export contract and an invoice on it, paid by the miner in a mined block. */
  const paidInvoice = async (lookupFails: boolean, mined = true) => {
    const contract = await trade.contracts.create(maker(), {
      companyId,
      counterpartyId: supplierId,
      direction: 'export',
      goodsDescription: 'Wine, 600 bottles',
      hsCode: '220421',
      incoterm: 'EXW',
      currency: 'EUR',
      amount: '10000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-12-01', amount: '10000.00' }],
    });
    await trade.contracts.transition(maker(), contract.id, 'submit');
    await trade.contracts.transition(alice(), contract.id, 'approve');
    await trade.contracts.transition(maker(), contract.id, 'activate');
    const invoice = await trade.invoices.create(maker(), {
      contractId: contract.id,
      amount: '500.00',
      travelRule: INBOUND,
    });
    expect(invoice.amountSats).toBe(1_000_000n);
    await pay([{ address: invoice.address, value: invoice.amountSats }]);
    // The node cannot look transactions up while the payment is seen and mined: the block hands
    // the watcher its inputs' previous outputs, so the payer is known without a lookup.
    faults.lookup = lookupFails;
    try {
      await watcher.syncMempool();
      if (mined) await confirm();
    } finally {
      faults.lookup = false;
    }
    return invoice;
  };
  const confirm = async () => {
    await simnet.mine(1, minerPay.address!);
    await watcher.syncOnce();
  };
  const lookupHolds = (view: Pick<InvoiceView, 'gateDecisions'>) =>
    view.gateDecisions.filter((d) => d.lookup);

  it('screens the payer from the block itself, with no lookup that could fail, and settles', async () => {
    const invoice = await paidInvoice(true);
    const settled = await trade.invoices.get(maker(), invoice.id);
    expect(settled).toMatchObject({ status: 'settled', gateOutcome: 'allow' });
    expect(lookupHolds(settled)).toHaveLength(0);
    expect(
      settled.gateDecisions.some(
        (d) => d.payerAddress === minerPay.address && d.outcome === 'allow' && d.decisionId,
      ),
    ).toBe(true);
    const { items: events } = await listAuditEvents(
      db.orm,
      { entityId: invoice.id },
      { limit: 500 },
    );
    expect(events.map((e) => e.action)).toEqual(
      expect.arrayContaining(['invoice.created', 'invoice.settled']),
    );
    expect(await ledger.trialBalance()).toBe(0n);
  });

  it('turns an invoice invalid when the payer its block names is listed', async () => {
    await listAddresses([minerPay.address!]);
    try {
      const invoice = await paidInvoice(true);
      clock.advance(61_000);
      await trade.tick();
      const refused = await trade.invoices.get(maker(), invoice.id);
      expect(refused.status).toBe('invalid');
      expect(refused.gateOutcome).toBe('block');
      expect(refused.settlementId).toBeNull();
      expect(lookupHolds(refused)).toHaveLength(0);
    } finally {
      await listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
    }
    expect(await ledger.trialBalance()).toBe(0n);
    expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
  });
});

describe('the invoice transition table', () => {
  it('names every move between statuses except back to new from expired or invalid (a clock set back)', () => {
    const missing: string[] = [];
    for (const from of INVOICE_STATUSES) {
      for (const to of INVOICE_STATUSES) {
        if (from !== to && !invoiceAction(from, to)) missing.push(`${from}→${to}`);
      }
    }
    expect(missing.sort()).toEqual(['expired→new', 'invalid→new']);
  });

  it('has one move per pair, and only settlement needs the gate', () => {
    const pairs = Object.values(INVOICE_TRANSITIONS).flatMap((r) =>
      r.from.map((f) => `${f}→${r.to}`),
    );
    expect(new Set(pairs).size).toBe(pairs.length);
    const gated = Object.entries(INVOICE_TRANSITIONS).filter(([, r]) => r.gate);
    expect(gated.map(([action]) => action)).toEqual(['settled']);
  });
});

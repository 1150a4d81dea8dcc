import * as ecc from '@bitcoinerlab/secp256k1';
import * as bitcoinjs from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import { LocalKeySigner } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource, type ChainSource } from '../../src/chain';
import { createCompliance, registryPartySource } from '../../src/compliance';
import type { Database } from '../../src/db';
import { FixedRateSource, LedgerService, RateService } from '../../src/ledger';
import { AppError, ManualClock, SeededRandom, systemCaller, type Caller } from '../../src/kernel';
import { RegistryService, type SetKycInput } from '../../src/registry';
import { ComplianceTransferGate, RegistryPartyDirectory, TradeService } from '../../src/trade';
import { tradeWalletUtxos } from '../../src/trade/schema';
import { testVasp } from './vasp';
import { openTestDatabase } from './db';
import { BUYER_NAME, COMPANY_NAME, outbound } from './trade-scheme';

/**
 * The scheme trade's payout-control tests run on (src/trade/payout-*.test.ts and
 * invoice-payer.test.ts), on PGlite or PostgreSQL: simnet behind a chain source that can fail
 * on demand, a licensed platform whose payouts need two people's approvals, two companies with
 * funded watch-only wallets (twelve and four coins of 0.1 BTC, credited to the ledger) and an
 * active fixed-BTC import contract each with its own supplier, all KYC/KYB-verified.
 */

bitcoinjs.initEccLib(ecc);
export const ECPair = ECPairFactory(ecc);
export const regtest = bitcoinjs.networks.regtest;

const SUPPLIER_NAME = BUYER_NAME;
const OTHER_COMPANY_NAME = 'Tonnellerie de Gascogne SAS';
const OTHER_SUPPLIER_NAME = 'Corticeira do Norte Lda';
export const OUTBOUND = outbound(COMPANY_NAME, SUPPLIER_NAME);
export const OTHER_OUTBOUND = outbound(OTHER_COMPANY_NAME, OTHER_SUPPLIER_NAME);

/**
 * A chain source that can fail on demand: a node that refuses broadcasts (the batch stays signed,
 * to be broadcast again later) or cannot look transactions up (a payer's previous output). With
 * `stallAfterSend` the broadcast reaches the node and then its caller waits until the promise
 * given resolves: a process stopped (or killed, if it never resolves) between sending a
 * transaction and recording that it did.
 */
function faultyChain(real: SimnetChainSource, db: Database) {
  const faults: { broadcast: boolean; lookup: boolean; stallAfterSend: Promise<void> | null } = {
    broadcast: false,
    lookup: false,
    stallAfterSend: null,
  };
  /** Every chain method called while one of `db`'s transactions was open (must stay empty). */
  const callsInTransaction: string[] = [];
  const source = new Proxy(real, {
    get(target, property) {
      if (db.inTransaction()) callsInTransaction.push(String(property));
      if (property === 'broadcast' && faults.broadcast)
        return () => Promise.reject(new Error('connection refused'));
      if (property === 'broadcast' && faults.stallAfterSend) {
        const stall = faults.stallAfterSend;
        return async (raw: Uint8Array) => {
          const txid = await target.broadcast(raw);
          await stall;
          return txid;
        };
      }
      if (property === 'getRawTransaction' && faults.lookup)
        return () =>
          Promise.reject(new AppError('CHAIN_UNAVAILABLE', 'the node did not answer the lookup'));
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  }) as ChainSource;
  return { source, faults, callsInTransaction };
}

export type PayoutControls = Awaited<ReturnType<typeof openPayoutControls>>;

/** Opens the scheme on a fresh database of `driver`; close it with `db.close()`. */
export async function openPayoutControls(driver: 'pglite' | 'postgres') {
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const random = new SeededRandom(23);
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
  let keyIndex = 1;

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

  const db = await openTestDatabase(driver);
  const simnet = await Simnet.open({ db, clock });
  const real = new SimnetChainSource(simnet);
  const chain = faultyChain(real, db);
  const faults = chain.faults;
  const ledger = new LedgerService({ db, clock, random });
  const rates = new RateService({
    db,
    clock,
    random,
    source: new FixedRateSource('desk', clock, { EUR: '50000' }),
  });
  const registry = new RegistryService({ db, clock, random, network: 'regtest' });
  const compliance = createCompliance(
    { db, clock, random },
    { parties: registryPartySource(registry) },
  );
  const gate = new ComplianceTransferGate({ db, gate: compliance.gate, registry, clock });
  const trade = new TradeService({
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
  const platformId = platform.id;
  const licenceId = (
    await registry.grantLicence(supervisor, {
      participantId: platformId,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: new Date(clock.now().getTime() - 86_400_000).toISOString(),
      validTo: new Date(clock.now().getTime() + 3 * 365 * 86_400_000).toISOString(),
    })
  ).id;
  const register = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
    const p = await registry.registerParticipant(supervisor, {
      kind,
      legalName,
      country,
      platformId,
    });
    await registry.setKyc(supervisor, p.id, kyc('verified'));
    return p.id;
  };
  const companyId = await register('company', COMPANY_NAME, 'FR');
  const supplierId = await register('counterparty', SUPPLIER_NAME, 'BR');
  // Another company of the platform paying another supplier: its payouts share the batches.
  const otherCompanyId = await register('company', OTHER_COMPANY_NAME, 'FR');
  const otherSupplierId = await register('counterparty', OTHER_SUPPLIER_NAME, 'PT');
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
      const { address } = await db.transaction(() => registry.nextReceiveAddress(owner, 'funding'));
      await pay([{ address, value: 10_000_000n }]);
    }
  }
  await simnet.mine(1, minerPay.address!);
  const watcher = new ChainWatcher({ source: real, database: db, clock });
  await watcher.registerConsumer(trade.chainConsumer());
  await watcher.syncOnce();
  await creditFunding(db, ledger, supplierId);
  const people = { maker: maker(), checker: alice() };
  const contractId = await activeImportContract(trade, people, {
    companyId,
    counterpartyId: supplierId,
    goodsDescription: 'Cork stoppers',
    hsCode: '450310',
  });
  const otherContractId = await activeImportContract(trade, people, {
    companyId: otherCompanyId,
    counterpartyId: otherSupplierId,
    goodsDescription: 'Natural cork bark',
    hsCode: '450110',
  });

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

  return {
    db,
    clock,
    simnet,
    faults,
    chainCallsInTransaction: chain.callsInTransaction,
    registry,
    compliance,
    ledger,
    trade,
    watcher,
    platformId,
    companyId,
    supplierId,
    licenceId,
    contractId,
    otherCompanyId,
    otherSupplierId,
    otherContractId,
    supervisor,
    officer,
    maker,
    alice,
    aliceSession,
    bob,
    minerPay,
    kyc,
    pay,
    supplierAddress,
    listAddresses,
    request,
    approve,
    inTransit,
    signAndSubmit,
  };
}

/** KYC/KYB data of a party in `status` (one document; a reason unless verified). */
export const kyc = (status: SetKycInput['status']): SetKycInput => ({
  status,
  riskRating: 'low',
  reviewDue: '2027-06-30',
  beneficialOwners: [],
  documents: [{ type: 'certificate of incorporation', number: 'REG-000001', issuer: 'registry' }],
  reason: status === 'verified' ? null : 'review date passed without new documents',
});

/** A BIP84 watch-only descriptor of a signer's first account (regtest). */
const descriptorOf = (signer: LocalKeySigner) =>
  `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;

/**
 * Only coins the ledger credited fund payouts: each funding coin is settled as a receipt (as a
 * paid invoice's would be), client funds of its company.
 */
async function creditFunding(db: Database, ledger: LedgerService, supplierId: string) {
  const coins = await db.orm.select().from(tradeWalletUtxos);
  await db.transaction(async () => {
    for (const coin of coins)
      await ledger.post(systemCaller('test.funding'), {
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
}

/**
 * An active fixed-BTC import contract of 10 BTC (500,000.00 EUR), created and activated by
 * `maker`, approved by `checker` (four eyes). Returns its id.
 */
async function activeImportContract(
  trade: TradeService,
  people: { maker: Caller; checker: Caller },
  terms: { companyId: string; counterpartyId: string; goodsDescription: string; hsCode: string },
): Promise<string> {
  const contract = await trade.contracts.create(people.maker, {
    ...terms,
    direction: 'import',
    incoterm: 'DAP',
    currency: 'EUR',
    amount: '500000.00',
    pricingMode: 'fixedBtc',
    btcAmountSats: '1000000000',
    schedule: [{ dueDate: '2026-12-01', amount: '1000000000' }],
  });
  await trade.contracts.transition(people.maker, contract.id, 'submit');
  await trade.contracts.transition(people.checker, contract.id, 'approve');
  await trade.contracts.transition(people.maker, contract.id, 'activate');
  return contract.id;
}

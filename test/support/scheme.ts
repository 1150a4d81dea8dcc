import * as ecc from '@bitcoinerlab/secp256k1';
import * as bitcoinjs from 'bitcoinjs-lib';
import { ECPairFactory } from 'ecpair';
import {
  ChainWatcher,
  SimnetChainSource,
  Simnet,
  type ChainSource,
  type MempoolTransaction,
} from '../../src/chain';
import type { Database } from '../../src/db';
import { LedgerService, FixedRateSource, RateService, type AccountBalance } from '../../src/ledger';
import { ManualClock, SeededRandom, systemCaller, type Caller, type Role } from '../../src/kernel';
import { createCompliance, registryPartySource, type Compliance } from '../../src/compliance';
import { RegistryService } from '../../src/registry';
import { MiningService } from '../../src/mining';
import { ClearingService } from '../../src/clearing';
import {
  ComplianceTransferGate,
  RegistryPartyDirectory,
  TradeService,
  type SettingsPatch,
  type UtxoSource,
} from '../../src/trade';
import { LocalKeySigner } from '../../src/bitcoin';
import { testVasp } from './vasp';
import { openTestDatabase } from './db';
import { guardChainCalls, type ChainGuard } from './chain-guard';

/**
 * The scheme the end-to-end trade tests run on: simnet and a real PGlite database, the real
 * registry, compliance (policy gate), ComplianceTransferGate, ledger and TradeService, wired as
 * src/services.ts wires them. The registry holds jurisdiction CO, a licensed platform with a
 * sealed local signing key, its company with a watch-only wallet, and two foreign counterparties,
 * all KYC/KYB-verified; the supplier's address is hosted by a VASP. The chain has 101 blocks (the
 * first coinbase is mature) and the watcher follows it.
 */

bitcoinjs.initEccLib(ecc);
const ECPair = ECPairFactory(ecc);
export const regtest = bitcoinjs.networks.regtest;

export const PASSPHRASE = 'correct horse battery staple';
export const PLATFORM_NAME = 'Bogota Digital Custody SAS';
export const COMPANY_NAME = 'Andes Coffee Exporters SA';
export const BUYER = {
  name: 'Hamburg Roasters GmbH',
  country: 'DE',
  vasp: 'Hamburg Krypto Bank AG',
};
export const SUPPLIER = { name: 'Osaka Machinery KK', country: 'JP', vasp: 'Osaka Exchange KK' };

export const caller = (
  role: Role,
  participantId: string,
  actorId: string,
  platform: string | null,
): Caller => ({
  role,
  participantId,
  platformId: platform,
  actorId,
  personId: actorId,
  requestId: null,
});
export const supervisor = systemCaller('supervisor-test');

export const legal = (name: string, customerNumber?: string) => ({
  legalPerson: {
    name: { nameIdentifier: [{ legalPersonName: name, legalPersonNameIdentifierType: 'LEGL' }] },
    ...(customerNumber ? { customerNumber } : {}),
  },
});
/** IVMS101 data (FATF R.16): every transfer of these tests is above the 1,000 USD threshold. */
export const travelRule = (originator: string, beneficiary: string, from: string, to: string) => ({
  originator: { originatorPersons: [legal(originator, 'CUST-0001')] },
  beneficiary: { beneficiaryPersons: [legal(beneficiary)] },
  originatingVASP: { originatingVASP: legal(from) },
  beneficiaryVASP: { beneficiaryVASP: legal(to) },
});
/** A foreign payer (through its VASP) paying the company, whose VASP is the platform. */
export const inboundTravelRule = (payer: string, payerVasp: string) =>
  travelRule(payer, COMPANY_NAME, payerVasp, PLATFORM_NAME);
/** The company paying a foreign beneficiary whose address its VASP hosts. */
export const outboundTravelRule = (beneficiary: string, beneficiaryVasp: string) =>
  travelRule(COMPANY_NAME, beneficiary, PLATFORM_NAME, beneficiaryVasp);

/** A P2WPKH regtest key whose private key is 32 bytes of `fill`. */
export function regtestKey(fill: number) {
  const key = ECPair.fromPrivateKey(new Uint8Array(32).fill(fill), { network: regtest });
  const payment = bitcoinjs.payments.p2wpkh({ pubkey: key.publicKey, network: regtest });
  return { key, output: payment.output!, address: payment.address! };
}
/** The miner whose coinbases fund the foreign buyers' payments. */
export const miner = regtestKey(7);
export const supplierAddress = regtestKey(9).address;

export function balanceOf(balances: readonly AccountBalance[], id: string): bigint {
  return balances.find((b) => b.accountId === id)?.balanceSats ?? 0n;
}

/** The test scheme's trade settings: 2 confirmations, a quorum of 2 above 0.04 BTC, 2 sat/vB. */
export const SCHEME_SETTINGS: SettingsPatch = {
  confirmations: 2,
  quorumThresholdSats: 4_000_000n,
  approvalsAbove: 2,
  approvalsBelow: 1,
  // Floor = cap: a known fee rate, 2 sat/vB.
  feeFloorSatPerKvB: 2_000n,
  feeCapSatPerKvB: 2_000n,
};

export interface Scheme {
  readonly db: Database;
  readonly clock: ManualClock;
  readonly simnet: Simnet;
  readonly source: ChainSource;
  /** Records the chain calls made through `source`; those inside a block transaction fail. */
  readonly chainGuard: ChainGuard;
  /** The chain's own UTXO set (simnet's listUnspent), for reconcile. */
  readonly utxoSource: UtxoSource;
  readonly registry: RegistryService;
  readonly compliance: Compliance;
  readonly ledger: LedgerService;
  readonly trade: TradeService;
  /** Mining and clearing, wired as services.ts wires them (their consumers follow the chain). */
  readonly mining: MiningService;
  readonly clearing: ClearingService;
  readonly watcher: ChainWatcher;
  /** A fresh ledger and TradeService over the same database and gate (another process). */
  readonly build: (chain: ChainSource) => { ledger: LedgerService; trade: TradeService };
  readonly platformId: string;
  readonly companyId: string;
  readonly buyerId: string;
  readonly supplierId: string;
  readonly company: Caller;
  /** The platform officer who makes contracts and payouts, and the two checkers. */
  readonly maker: Caller;
  readonly officerA: Caller;
  readonly officerB: Caller;
  /** Registers a KYC-verified counterparty of the platform, with a VASP-hosted address if given. */
  readonly registerCounterparty: (
    legalName: string,
    country: string,
    hosted?: { address: string; vasp: string },
  ) => Promise<string>;
  /** Mines blocks to the miner and lets the watcher follow. */
  readonly mine: (count: number) => Promise<void>;
  /** Hands the mempool transactions the watcher saw to the invoice matcher. */
  readonly syncMempool: () => Promise<void>;
  /**
   * A foreign buyer pays from its own wallet: a transaction built by bitcoinjs-lib spending the
   * miner's oldest mature coin (change back to the miner, 2,000 sats fee), broadcast to simnet.
   */
  readonly payFromMiner: (address: string, valueSats: bigint) => Promise<bitcoinjs.Transaction>;
}

export async function openScheme(
  /** `db`: a migrated database to build the scheme in (default: a fresh test database on `driver`). */
  options: {
    seed?: number;
    settings?: SettingsPatch;
    driver?: 'pglite' | 'postgres';
    db?: Database;
  } = {},
): Promise<Scheme> {
  const random = new SeededRandom(options.seed ?? 2026);
  const db = options.db ?? (await openTestDatabase(options.driver));
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const simnet = await Simnet.open({ db, clock });
  // Everything reaches simnet through the guard: a chain call inside a block's transaction fails.
  const chainGuard = guardChainCalls(new SimnetChainSource(simnet), db);
  const source = chainGuard.source;
  const utxoSource: UtxoSource = {
    unspent: (address) =>
      Promise.resolve(
        simnet
          .listUnspent(address)
          .map((u) => ({ txid: u.txid, vout: u.vout, valueSats: u.value, height: u.height })),
      ),
  };
  const rateSource = new FixedRateSource('test-desk', clock, { USD: '60000' });
  const registry = new RegistryService({ db, clock, random, network: 'regtest' });
  const compliance = createCompliance(
    { db, clock, random },
    { parties: registryPartySource(registry) },
  );
  const gate = new ComplianceTransferGate({ db, gate: compliance.gate, registry, clock });
  const mining = new MiningService({ db, clock, random, network: 'regtest', registry });
  const clearing = new ClearingService({ db, clock, random, wallets: registry });

  // ---- the registry: jurisdiction CO, a licensed platform, its company, two counterparties.
  await registry.setSchemeJurisdiction(supervisor, { country: 'CO', name: 'Colombia' });
  const platform = await registry.registerParticipant(supervisor, {
    kind: 'platform',
    legalName: PLATFORM_NAME,
    country: 'CO',
  });
  const register = await licensedPlatform(registry, supervisor, clock, platform.id);
  const registerCounterparty = async (
    legalName: string,
    country: string,
    hosted?: { address: string; vasp: string },
  ) => {
    const id = await register('counterparty', legalName, country);
    if (hosted) {
      await registry.registerCounterpartyAddress(supervisor, id, {
        address: hosted.address,
        ownership: 'hosted',
        vaspId: await testVasp(registry, hosted.vasp),
      });
    }
    return id;
  };
  const platformId = platform.id;
  const companyId = await register('company', COMPANY_NAME, 'CO');
  const buyerId = await registerCounterparty(BUYER.name, BUYER.country);
  const supplierId = await registerCounterparty(SUPPLIER.name, SUPPLIER.country, {
    address: supplierAddress,
    vasp: SUPPLIER.vasp,
  });

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
        wallets: registry,
        origins: clearing,
        signerPassphrase: () => PASSPHRASE,
      }),
    };
  };
  const { ledger, trade } = build(source);
  const maker = caller('platform', platformId, 'key_officer_maker', platformId);

  // ---- the platform's sealed local key and the company's watch-only wallet; the settings.
  const seed = new Uint8Array(32).fill(42);
  const local = LocalKeySigner.fromSeed(seed, 'regtest');
  const fingerprint = local.fingerprint.toString(16).padStart(8, '0');
  const descriptor = `wpkh([${fingerprint}/84h/1h/0h]${local.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
  await db.transaction(async (tx) => {
    await trade.sealedKeys.store(tx, platformId, seed, 'regtest', 1 << 12);
  });
  await registry.registerWallet(maker, { companyId, descriptor });
  await trade.updateSettings(supervisor, platformId, options.settings ?? SCHEME_SETTINGS);

  // ---- the chain: 101 blocks so the first coinbase is mature; the watcher follows from here.
  await simnet.mine(101, miner.address);
  const watcher = new ChainWatcher({ source, database: chainGuard.database, clock });
  await watcher.registerConsumer(trade.chainConsumer());
  await watcher.registerConsumer(mining.chainConsumer());
  await watcher.registerConsumer(clearing.chainConsumer());
  await watcher.syncOnce();
  const mempool: MempoolTransaction[] = [];
  watcher.on('mempoolTx', (t) => void mempool.push(t));
  const spent = new Set<string>();

  return {
    db,
    clock,
    simnet,
    source,
    chainGuard,
    utxoSource,
    registry,
    compliance,
    ledger,
    trade,
    mining,
    clearing,
    watcher,
    build,
    platformId,
    companyId,
    buyerId,
    supplierId,
    company: caller('company', companyId, 'key_company_user', platformId),
    maker,
    officerA: caller('platform', platformId, 'key_officer_a', platformId),
    officerB: caller('platform', platformId, 'key_officer_b', platformId),
    registerCounterparty,
    mine: async (count) => {
      await simnet.mine(count, miner.address);
      await watcher.syncOnce();
    },
    syncMempool: async () => {
      await watcher.syncMempool();
      const tip = (await source.getTip()).height;
      for (const t of mempool.splice(0))
        await trade.invoices.mempoolTransaction(t, await source.getRawTransaction(t.txid), tip);
    },
    payFromMiner: async (address, valueSats) => {
      // A coinbase output is spendable from 100 confirmations on (consensus maturity).
      const coin = simnet
        .listUnspent(miner.address)
        .find(
          (u) =>
            (!u.coinbase || u.height + 100 <= simnet.height + 1) &&
            !spent.has(`${u.txid}:${u.vout}`),
        );
      if (!coin) throw new Error('the miner has no mature coin left');
      spent.add(`${coin.txid}:${coin.vout}`);
      const psbt = new bitcoinjs.Psbt({ network: regtest });
      psbt.addInput({
        hash: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: miner.output, value: coin.value },
      });
      psbt.addOutput({ address, value: valueSats });
      psbt.addOutput({ address: miner.address, value: coin.value - valueSats - 2_000n });
      psbt.signAllInputs(miner.key);
      psbt.finalizeAllInputs();
      const tx = psbt.extractTransaction();
      await source.broadcast(tx.toBuffer());
      return tx;
    },
  };
}

/**
 * Licenses `platformId` for three years from a day before `clock`'s now, and answers a function
 * that registers a KYC-verified company or counterparty under it (its id).
 */
export async function licensedPlatform(
  registry: RegistryService,
  by: Caller,
  clock: ManualClock,
  platformId: string,
): Promise<
  (kind: 'company' | 'counterparty', legalName: string, country: string) => Promise<string>
> {
  await registry.grantLicence(by, {
    participantId: platformId,
    kind: 'vasp',
    scope: 'custody and transfer of bitcoin for foreign-trade settlement',
    validFrom: new Date(clock.now().getTime() - 86_400_000).toISOString(),
    validTo: new Date(clock.now().getTime() + 3 * 365 * 86_400_000).toISOString(),
  });
  return async (kind, legalName, country) => {
    const p = await registry.registerParticipant(by, { kind, legalName, country, platformId });
    await registry.setKyc(by, p.id, {
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
}

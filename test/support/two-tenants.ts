import * as bitcoinjs from 'bitcoinjs-lib';
import type { FastifyInstance } from 'fastify';
import { sql } from 'drizzle-orm';
import { LocalKeySigner } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource } from '../../src/chain';
import { rowsOf, type Database } from '../../src/db';
import { buildApp } from '../../src/http';
import { loadConfig, ManualClock, SeededRandom, systemCaller, type Role } from '../../src/kernel';
import { composeServices, type Services } from '../../src/services';
import { miner, regtest, regtestKey } from './scheme';
import { testVasp } from './vasp';
import { openTestDatabase } from './db';

/**
 * A scheme with two tenants, A and B, for tenancy and escalation tests: each platform is licensed,
 * has a sealed signing key (simnet), a company with a registered wallet and a second company
 * without one, a foreign buyer and a foreign supplier (KYC/KYB-verified; the supplier's address
 * hosted by a VASP), and keys for two officers and the company. Platform B also has contracts in
 * every state an action starts from, an open invoice, a payout awaiting approval, an approved
 * payout awaiting its batch and a broadcast batch. Two licensed miners each have a site. Built
 * through the services and the HTTP API of one app, over simnet, on either driver.
 */

export type Auth = { authorization: string };
export type Key = Auth & { id: string };

const PASSPHRASE = 'correct horse battery staple';
export const seedOf = (fill: number) => new Uint8Array(32).fill(fill);
/** A BIP84 watch-only descriptor of the local signer with the seed `fill` repeated. */
export const descriptorOf = (seed: Uint8Array) => {
  const signer = LocalKeySigner.fromSeed(seed, 'regtest');
  return `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
};

export interface Tenant {
  readonly platformId: string;
  readonly licenceId: string;
  readonly companyId: string;
  /** A second company of the platform, with no wallet yet (a wallet can be registered for it). */
  readonly bareCompanyId: string;
  readonly buyerId: string;
  readonly supplierId: string;
  readonly supplierAddress: string;
  readonly walletId: string;
  readonly descriptor: string;
  /** The seed of the platform's signing key (simnet). */
  readonly seed: Uint8Array;
  /** The officer who makes contracts and payouts. */
  readonly officer: Key;
  /** A second officer (the checker). */
  readonly checker: Key;
  readonly company: Key;
}

export type ContractState = 'draft' | 'submitted' | 'approved' | 'active' | 'disputed';

export interface TwoTenants {
  readonly db: Database;
  readonly app: FastifyInstance;
  readonly services: Services;
  readonly simnet: Simnet;
  readonly supervisor: Key;
  readonly auditor: Key;
  readonly A: Tenant;
  readonly B: Tenant;
  readonly regionCode: string;
  readonly banId: string;
  readonly miners: {
    readonly own: { id: string; siteId: string; key: Key };
    readonly other: { id: string; siteId: string; key: Key };
  };
  /** A username and password of an officer of B (a login session exists for it). */
  readonly userB: { username: string; password: string; sessionCookie: string };
  /** A fresh contract of B (or `of`) in the given state (export for invoices, import for payouts). */
  contract(state: ContractState, direction?: 'export' | 'import', of?: Tenant): Promise<string>;
  /** A fresh open invoice of B. */
  invoice(): Promise<string>;
  /** Pays an address from the miner's mature coins (in the mempool until `mine`). */
  payFromMiner(address: string, valueSats: bigint): Promise<void>;
  /** Mines blocks and lets the watcher follow them. */
  mine(blocks: number): Promise<void>;
  /** A fresh payout of B awaiting approval (approved: awaiting its batch). */
  payout(approved?: boolean): Promise<string>;
  /** B's broadcast batch. */
  readonly batchId: string;
  /** A fresh API key of B's platform. */
  keyOfB(): Promise<Key>;
  /** A fresh API key, created directly through the service. */
  keyFor(role: Role, participantId: string, platformId: string | null): Promise<Key>;
  /** The next unused regtest address (for bodies that register one). */
  freshAddress(): string;
  /** A fingerprint of every table, by table name (what any write would change). */
  snapshot(): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export async function openTwoTenants(
  driver: 'pglite' | 'postgres',
  options: Parameters<typeof openTestDatabase>[1] = {},
): Promise<TwoTenants> {
  const db = await openTestDatabase(driver, options);
  const clock = new ManualClock('2026-07-01T09:00:00Z');
  const simnet = await Simnet.open({ db, clock });
  const source = new SimnetChainSource(simnet);
  const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '1000000' });
  const services = composeServices({
    db,
    clock,
    config,
    random: new SeededRandom(23),
    trade: { chain: source, signerPassphrase: () => PASSPHRASE },
  });
  const app = await buildApp({
    db,
    clock,
    config,
    services,
    logStream: { write: () => undefined },
  });
  const root = systemCaller('escalation.setup');
  const { registry, keys } = services;

  let persons = 0;
  const key = async (
    role: Role,
    participantId: string,
    platformId: string | null,
  ): Promise<Key> => {
    // Each key its own person (maker and checker must be two people).
    const created = await keys.create(root, {
      role,
      participantId,
      platformId,
      name: 'test',
      personName: `Test person ${++persons}`,
    });
    return { authorization: `Bearer ${created.token}`, id: created.id };
  };
  const call = async (
    method: 'POST' | 'PUT',
    url: string,
    auth: Auth,
    payload?: object,
    expected = [200, 201, 204],
  ) => {
    const response = await app.inject({
      method,
      url,
      headers: auth,
      ...(payload === undefined ? {} : { payload }),
    });
    if (!expected.includes(response.statusCode))
      throw new Error(`setup: ${method} ${url} → ${response.statusCode} ${response.body}`);
    return response.statusCode === 204 ? {} : response.json<Record<string, unknown>>();
  };

  await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
  const supervisor = await key('supervisor', 'scheme', null);
  const auditor = await key('auditor', 'scheme', null);
  await call('PUT', '/v1/rates/manual/USD', supervisor, { rate: '60000' });

  let addressSeed = 100;
  const freshAddress = () => regtestKey(addressSeed++).address;

  const tenant = async (name: string, seedFill: number): Promise<Tenant> => {
    const platformId = (
      await registry.registerParticipant(root, {
        kind: 'platform',
        legalName: `${name} Custody SAS`,
        country: 'CO',
      })
    ).id;
    const licenceId = (
      await registry.grantLicence(root, {
        participantId: platformId,
        kind: 'vasp',
        scope: 'custody and transfer of bitcoin for foreign-trade settlement',
        validFrom: '2026-01-01T00:00:00Z',
        validTo: '2029-01-01T00:00:00Z',
      })
    ).id;
    const party = async (kind: 'company' | 'counterparty', legalName: string, country: string) => {
      const p = await registry.registerParticipant(root, { kind, legalName, country, platformId });
      await registry.setKyc(root, p.id, {
        status: 'verified',
        riskRating: 'low',
        reviewDue: '2027-06-30',
        beneficialOwners: [],
        documents: [{ type: 'certificate of incorporation', number: 'REG-1', issuer: 'registry' }],
      });
      return p.id;
    };
    const companyId = await party('company', `${name} Coffee SA`, 'CO');
    const bareCompanyId = await party('company', `${name} Cacao SA`, 'CO');
    const buyerId = await party('counterparty', `${name} Roasters GmbH`, 'DE');
    const supplierId = await party('counterparty', `${name} Machinery KK`, 'JP');
    const supplierAddress = freshAddress();
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: supplierAddress,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    const seed = seedOf(seedFill);
    await db.transaction((tx) =>
      services.trade.sealedKeys.store(tx, platformId, seed, 'regtest', 1 << 10),
    );
    const officer = await key('platform', platformId, platformId);
    const checker = await key('platform', platformId, platformId);
    const company = await key('company', companyId, platformId);
    const descriptor = descriptorOf(seed);
    const walletId = String(
      (await call('POST', '/v1/wallets', officer, { companyId, descriptor })).id,
    );
    await call('PUT', `/v1/trade/settings/${platformId}`, supervisor, {
      confirmations: 1,
      feeFloorSatPerKvB: '2000',
      feeCapSatPerKvB: '2000',
    });
    return {
      platformId,
      licenceId,
      companyId,
      bareCompanyId,
      buyerId,
      supplierId,
      supplierAddress,
      walletId,
      descriptor,
      seed,
      officer,
      checker,
      company,
    };
  };
  const A = await tenant('Alpha', 31);
  const B = await tenant('Beta', 32);

  // ---- the chain: mature coins for the buyers, and the watcher following it.
  await simnet.mine(101, miner.address);
  const watcher = new ChainWatcher({ source, database: db, clock });
  await watcher.registerConsumer(services.trade.chainConsumer());
  await watcher.syncOnce();
  const spent = new Set<string>();
  const payFromMiner = async (address: string, valueSats: bigint) => {
    const coin = simnet
      .listUnspent(miner.address)
      .find(
        (u) =>
          u.coinbase && u.height + 100 <= simnet.height + 1 && !spent.has(`${u.txid}:${u.vout}`),
      );
    if (!coin) throw new Error('the miner has no mature coin');
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
    await simnet.submitTransaction(psbt.extractTransaction().toBuffer());
  };
  const mine = async (blocks: number) => {
    await simnet.mine(blocks, miner.address);
    await watcher.syncOnce();
  };

  // ---- B's trade: contracts in every state, invoices, payouts and a batch.
  const steps: Record<ContractState, readonly string[]> = {
    draft: [],
    submitted: ['submit'],
    approved: ['submit', 'approve'],
    active: ['submit', 'approve', 'activate'],
    disputed: ['submit', 'approve', 'activate', 'dispute'],
  };
  const contract = async (
    state: ContractState,
    direction: 'export' | 'import' = 'import',
    of: Tenant = B,
  ) => {
    const body =
      direction === 'export'
        ? {
            counterpartyId: of.buyerId,
            direction,
            amount: '50000.00',
            pricingMode: 'fiat',
            schedule: [{ dueDate: '2026-09-01', amount: '50000.00' }],
          }
        : {
            counterpartyId: of.supplierId,
            direction,
            amount: '6000.00',
            pricingMode: 'fixedBtc',
            btcAmountSats: '10000000',
            schedule: [{ dueDate: '2026-09-01', amount: '10000000' }],
          };
    const id = String(
      (
        await call('POST', '/v1/contracts', of.officer, {
          companyId: of.companyId,
          goodsDescription: 'Green coffee, 18 t',
          hsCode: '090111',
          incoterm: 'FOB',
          currency: 'USD',
          ...body,
        })
      ).id,
    );
    for (const action of steps[state]) {
      // The maker submits; the second officer approves and activates (four eyes).
      const by = action === 'submit' || action === 'dispute' ? of.officer : of.checker;
      await call('POST', `/v1/contracts/${id}/${action}`, by);
    }
    return id;
  };
  const exportContract = await contract('active', 'export');
  const importContract = await contract('active', 'import');
  const invoice = async () =>
    String(
      (
        await call('POST', '/v1/invoices', B.company, {
          contractId: exportContract,
          amount: '600.00',
        })
      ).id,
    );
  // Two paid invoices fund B's company wallet (1,000,000 sats each at 60,000 USD/BTC).
  for (let i = 0; i < 2; i++) {
    const paid = await call('POST', '/v1/invoices', B.company, {
      contractId: exportContract,
      amount: '600.00',
    });
    await payFromMiner(String(paid.address), BigInt(String(paid.amountSats)));
  }
  await mine(1);
  const payout = async (approved = false) => {
    const id = String(
      (
        await call('POST', '/v1/payouts', B.officer, {
          contractId: importContract,
          amount: '100000',
          address: B.supplierAddress,
        })
      ).id,
    );
    if (approved) await call('POST', `/v1/payouts/${id}/approve`, B.checker);
    return id;
  };
  await payout(true);
  const batch = await call('POST', '/v1/payout-batches', B.officer, { platformId: B.platformId });
  const batchId = String((batch.batch as { id: string }).id);
  await mine(1);

  // ---- mining: a region under a ban and two licensed miners with a site each.
  const regionCode = 'north';
  await registry.createRegion(root, {
    code: regionCode,
    name: 'North',
    timeZone: 'America/Bogota',
  });
  const banId = (
    await services.mining.declareBan(root, regionCode, {
      kind: 'full',
      from: '2027-01-01',
      to: '2027-02-01',
      reason: 'grid maintenance',
    })
  ).id;
  const minerWithSite = async (legalName: string) => {
    const id = (
      await registry.registerParticipant(root, { kind: 'miner', legalName, country: 'CO' })
    ).id;
    await registry.grantLicence(root, {
      participantId: id,
      kind: 'mining',
      scope: 'industrial',
      validFrom: '2026-01-01T00:00:00Z',
    });
    const minerKey = await key('miner', id, null);
    const siteId = String(
      (
        await call('POST', '/v1/mining/sites', minerKey, {
          regionCode,
          name: `${legalName} site`,
          gridConnection: '110 kV N-4',
          powerCapacityMw: '12.5',
          declaredHashrateThs: '350000',
          commissioningDate: '2025-09-01',
          poolName: 'Example Pool',
        })
      ).id,
    );
    return { id, siteId, key: minerKey };
  };
  const miners = {
    own: await minerWithSite('Hash North SAS'),
    other: await minerWithSite('Hash South SAS'),
  };

  // ---- a person of B with a live login session.
  const userB = {
    username: 'beta.officer',
    password: 'beta-officer-password-1',
    sessionCookie: '',
  };
  await services.users.create(root, {
    username: userB.username,
    displayName: 'Beta Officer',
    password: userB.password,
    role: 'platform',
    participantId: B.platformId,
    platformId: B.platformId,
  });
  const login = await app.inject({
    method: 'POST',
    url: '/v1/session',
    payload: { username: userB.username, password: userB.password },
  });
  if (login.statusCode !== 200) throw new Error(`setup: login → ${login.body}`);
  const cookie = login.cookies.find((c) => c.name === 'tc_session');
  userB.sessionCookie = `tc_session=${cookie?.value ?? ''}`;

  const tables = rowsOf(
    await db.orm.execute(
      sql`select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`,
    ),
  ).map((r) => String(r.table_name));
  const fingerprint = sql.join(
    tables.map(
      (table) =>
        // A row count and an order-free sum of row hashes: cheap, and any insert, update or
        // delete of the table changes it.
        sql`select ${table}::text as t, count(*)::text || ':' || coalesce(sum(hashtext(x::text)::bigint), 0)::text as h from ${sql.identifier(table)} x`,
    ),
    sql` union all `,
  );

  return {
    db,
    app,
    services,
    simnet,
    supervisor,
    auditor,
    A,
    B,
    regionCode,
    banId,
    miners,
    userB,
    contract,
    invoice,
    payFromMiner,
    mine,
    payout,
    batchId,
    keyOfB: () => key('platform', B.platformId, B.platformId),
    keyFor: key,
    freshAddress,
    snapshot: async () =>
      new Map(rowsOf(await db.orm.execute(fingerprint)).map((r) => [String(r.t), String(r.h)])),
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

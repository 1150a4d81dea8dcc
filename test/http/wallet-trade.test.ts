import { HDKey } from '@scure/bip32';
import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { deriveAddress, LocalKeySigner } from '../../src/bitcoin';
import { ChainWatcher, Simnet, SimnetChainSource } from '../../src/chain';
import { rowsOf, type Database } from '../../src/db';
import { buildApp } from '../../src/http';
import { loadConfig, ManualClock, SeededRandom, systemCaller } from '../../src/kernel';
import { composeServices, type Services } from '../../src/services';
import { miner, regtest, regtestKey } from '../support/scheme';
import { testVasp } from '../support/vasp';
import { openTestDatabase, TEST_DRIVERS } from '../support/db';

/**
 * One wallet per company, the registry's: a wallet registered with POST /v1/wallets (as on the
 * registry's wallets screen) is the one invoices (POST /v1/invoices) take their receive addresses
 * from and payouts send their change to, on its change branch. Over the whole HTTP app with a
 * simnet chain, on PGlite and (with TEST_DATABASE_URL) PostgreSQL, where concurrent invoices must
 * still get distinct addresses.
 */

const PASSPHRASE = 'correct horse battery staple';
const SEED = new Uint8Array(32).fill(21);
const signer = LocalKeySigner.fromSeed(SEED, 'regtest');
const DESCRIPTOR = `wpkh([${signer.fingerprint.toString(16).padStart(8, '0')}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`;
const receive = (index: number) => deriveAddress(DESCRIPTOR, 0, index, 'regtest').address ?? '';
const change = (index: number) => deriveAddress(DESCRIPTOR, 1, index, 'regtest').address ?? '';
const supplierAddress = regtestKey(9).address;

type Headers = { authorization: string };

describe.each(TEST_DRIVERS)('the registry wallet supplies trade, on %s', (driver) => {
  let db: Database;
  let services: Services;
  let app: Awaited<ReturnType<typeof buildApp>>;
  let simnet: Simnet;
  let watcher: ChainWatcher;
  let platformId = '';
  let companyId = '';
  let buyerId = '';
  let supplierId = '';
  let walletId = '';
  let supervisor: Headers;
  let maker: Headers;
  let checker: Headers;
  let company: Headers;

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    const clock = new ManualClock('2026-07-01T09:00:00Z');
    simnet = await Simnet.open({ db, clock });
    const source = new SimnetChainSource(simnet);
    const config = loadConfig({ LOG_LEVEL: 'silent', RATE_LIMIT_PER_MINUTE: '100000' });
    services = composeServices({
      db,
      clock,
      config,
      random: new SeededRandom(11),
      trade: { chain: source, signerPassphrase: () => PASSPHRASE },
    });
    app = await buildApp({ db, clock, config, services, logStream: { write: () => undefined } });
    const { registry, keys } = services;
    const root = systemCaller('test.supervisor');
    await registry.setSchemeJurisdiction(root, { country: 'CO', name: 'Colombia' });
    platformId = (
      await registry.registerParticipant(root, {
        kind: 'platform',
        legalName: 'Bogota Custody SAS',
        country: 'CO',
      })
    ).id;
    await registry.grantLicence(root, {
      participantId: platformId,
      kind: 'vasp',
      scope: 'custody and transfer of bitcoin for foreign-trade settlement',
      validFrom: '2026-01-01T00:00:00Z',
      validTo: '2029-01-01T00:00:00Z',
    });
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
    companyId = await party('company', 'Andes Coffee SA', 'CO');
    buyerId = await party('counterparty', 'Hamburg Roasters GmbH', 'DE');
    supplierId = await party('counterparty', 'Osaka Machinery KK', 'JP');
    await registry.registerCounterpartyAddress(root, supplierId, {
      address: supplierAddress,
      ownership: 'hosted',
      vaspId: await testVasp(registry, 'Osaka Exchange KK'),
    });
    const key = async (role: 'supervisor' | 'platform' | 'company', participant: string) => ({
      authorization: `Bearer ${
        // Each key its own person: maker and checker are two officers.
        (
          await keys.issue(
            root,
            {
              role,
              participantId: participant,
              platformId: role === 'supervisor' ? null : platformId,
              name: 'test',
            },
            { newPerson: { displayName: `${role} officer` } },
          )
        ).token
      }`,
    });
    supervisor = await key('supervisor', 'scheme');
    maker = await key('platform', platformId);
    checker = await key('platform', platformId);
    company = await key('company', companyId);
    // The platform's signing key (sealed locally, as on simnet) holds the wallet's keys.
    await db.transaction((tx) =>
      services.trade.sealedKeys.store(tx, platformId, SEED, 'regtest', 1 << 10),
    );
    await simnet.mine(101, miner.address);
    watcher = new ChainWatcher({ source, database: db, clock });
    await watcher.registerConsumer(services.trade.chainConsumer());
    await watcher.syncOnce();
  }, 120_000);
  afterAll(async () => {
    await app?.close();
    await db?.close();
  });

  const post = (url: string, headers: Headers, payload?: object) =>
    app.inject({ method: 'POST', url, headers, ...(payload === undefined ? {} : { payload }) });
  const put = (url: string, headers: Headers, payload: object) =>
    app.inject({ method: 'PUT', url, headers, payload });
  const get = (url: string, headers: Headers) => app.inject({ method: 'GET', url, headers });

  const activeContract = async (body: object) => {
    const created = await post('/v1/contracts', maker, {
      companyId,
      goodsDescription: 'Green coffee',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      ...body,
    });
    expect(created.statusCode).toBe(201);
    const id = created.json<{ id: string }>().id;
    // Four eyes: the checker approves what the maker created and submitted.
    for (const [action, who] of [
      ['submit', maker],
      ['approve', checker],
      ['activate', maker],
    ] as const)
      expect((await post(`/v1/contracts/${id}/${action}`, who)).statusCode).toBe(200);
    return id;
  };
  const exportContract = () =>
    activeContract({
      counterpartyId: buyerId,
      direction: 'export',
      amount: '5000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-09-01', amount: '5000.00' }],
    });
  type Invoice = { id: string; address: string; amountSats: string; status: string };

  it('a wallet registered in the registry gives the invoice its address', async () => {
    // Without a wallet, no invoice: the company's platform registers one first.
    expect((await put('/v1/rates/manual/USD', supervisor, { rate: '60000' })).statusCode).toBe(204);
    expect(
      (
        await put(`/v1/trade/settings/${platformId}`, maker, {
          confirmations: 1,
          feeFloorSatPerKvB: '2000',
          feeCapSatPerKvB: '2000',
        })
      ).statusCode,
    ).toBe(200);
    const contractId = await exportContract();
    const refused = await post('/v1/invoices', company, { contractId, amount: '900.00' });
    expect(refused.statusCode).toBe(409);
    expect(refused.json<{ message: string }>().message).toContain('has no registered wallet');

    const wallet = await post('/v1/wallets', maker, { companyId, descriptor: DESCRIPTOR });
    expect(wallet.statusCode).toBe(201);
    walletId = wallet.json<{ id: string }>().id;
    // Registered once: a second wallet for the company is refused; trade has no wallet endpoint.
    const again = await post('/v1/wallets', maker, { companyId, descriptor: DESCRIPTOR });
    expect(again.json()).toMatchObject({ code: 'CONFLICT' });
    expect(
      (await post('/v1/trade/wallets', maker, { companyId, descriptor: DESCRIPTOR })).statusCode,
    ).toBe(404);

    const issued = await post('/v1/invoices', company, { contractId, amount: '900.00' });
    expect(issued.statusCode).toBe(201);
    const invoice = issued.json<Invoice>();
    // BIP84 receive path m/84'/1'/0'/0/0, computed independently with bitcoinjs-lib.
    const independent = bitcoinjs.payments.p2wpkh({
      pubkey: HDKey.fromMasterSeed(SEED).derive("m/84'/1'/0'/0/0").publicKey ?? undefined,
      network: regtest,
    }).address;
    expect(invoice.address).toBe(independent);
    expect(invoice.address).toBe(receive(0));
    const addresses = await get(`/v1/wallets/${walletId}/addresses?unused=1`, company);
    expect(addresses.json()).toEqual({
      nextCursor: null,
      items: [
        expect.objectContaining({
          address: receive(0),
          branch: 'receive',
          derivationIndex: 0,
          purpose: `invoice ${invoice.id}`,
        }),
      ],
      // The address handed to the invoice is never offered again.
      unused: [{ derivationIndex: 1, address: receive(1) }],
    });

    // The buyer pays it; one confirmation settles it and the coin is the company's.
    await payFromMiner(invoice.address, BigInt(invoice.amountSats));
    await simnet.mine(1, miner.address);
    await watcher.syncOnce();
    expect((await get(`/v1/invoices/${invoice.id}`, company)).json()).toMatchObject({
      status: 'settled',
    });
  });

  it('sends a payout’s change to the change branch of that wallet', async () => {
    const contractId = await activeContract({
      counterpartyId: supplierId,
      direction: 'import',
      amount: '600.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '1000000',
      schedule: [{ dueDate: '2026-09-01', amount: '1000000' }],
    });
    const payout = await post('/v1/payouts', maker, {
      contractId,
      amount: '400000',
      address: supplierAddress,
    });
    expect(payout.statusCode).toBe(201);
    const payoutId = payout.json<{ id: string }>().id;
    expect((await post(`/v1/payouts/${payoutId}/approve`, checker)).json()).toMatchObject({
      status: 'awaitingPayment',
    });
    const run = await post('/v1/payout-batches', maker, { platformId });
    expect(run.statusCode).toBe(200);
    const batch = run.json<{ batch: { id: string; txid: string; feeSats: string } }>().batch;
    const tx = bitcoinjs.Transaction.fromBuffer(
      Buffer.from(await new SimnetChainSource(simnet).getRawTransaction(batch.txid)),
    );
    const outputs = tx.outs.map((o) => ({
      address: bitcoinjs.address.fromOutputScript(o.script, regtest),
      value: o.value,
    }));
    // The invoice's coin (1,500,000 sats) pays 400,000 to the supplier; the rest, less the fee,
    // goes back to the company's wallet at change index 0.
    expect(outputs).toEqual([
      { address: supplierAddress, value: 400_000n },
      { address: change(0), value: 1_500_000n - 400_000n - BigInt(batch.feeSats) },
    ]);
    const wallet = await get(`/v1/wallets/${walletId}`, maker);
    expect(wallet.json()).toMatchObject({ nextIndex: 1, nextChangeIndex: 1 });
    const addresses = await get(`/v1/wallets/${walletId}/addresses`, maker);
    expect(addresses.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({ branch: 'receive', derivationIndex: 0, address: receive(0) }),
      expect.objectContaining({
        branch: 'change',
        derivationIndex: 0,
        address: change(0),
        purpose: `change of batch ${batch.id}`,
      }),
    ]);
    // Confirmed, the change is a coin of the company's wallet again, and the ledger agrees.
    await simnet.mine(1, miner.address);
    await watcher.syncOnce();
    const coins = rowsOf(
      await db.orm.execute(
        sql`select address, company_id from trade_wallet_utxos where spent_by_txid is null`,
      ),
    );
    expect(coins).toEqual([{ address: change(0), company_id: companyId }]);
    const reconciliation = await get('/v1/ledger/reconciliation', supervisor);
    expect(reconciliation.json()).toMatchObject({ totalDifferenceSats: '0', pageReconciled: true });
  });

  it('gives invoices issued at the same time distinct addresses, each handed out once', async () => {
    const contracts = await Promise.all([0, 1, 2, 3].map(() => exportContract()));
    // Eight invoices and, at the same time, four addresses handed out by hand on the wallet's
    // page (which pass no policy gate): twelve writers of the one wallet at once.
    const [invoices, byHand] = await Promise.all([
      Promise.all(
        contracts.flatMap((contractId) =>
          [0, 1].map(() => post('/v1/invoices', company, { contractId, amount: '100.00' })),
        ),
      ),
      Promise.all(
        [0, 1, 2, 3].map((i) =>
          post(`/v1/wallets/${walletId}/addresses`, maker, { purpose: `deposit ${i}` }),
        ),
      ),
    ]);
    expect([...invoices, ...byHand].map((r) => r.statusCode)).toEqual(Array(12).fill(201));
    const addresses = [...invoices, ...byHand].map((r) => r.json<{ address: string }>().address);
    // Receive index 0 went to the first invoice; these twelve take 1…12, each exactly once.
    const expected = Array.from({ length: 12 }, (_, i) => receive(i + 1));
    expect([...addresses].sort()).toEqual([...expected].sort());
    const listed = await get(`/v1/wallets/${walletId}/addresses`, maker);
    const receiveRows = listed
      .json<{ items: { branch: string; derivationIndex: number; address: string }[] }>()
      .items.filter((a) => a.branch === 'receive');
    expect(receiveRows.map((a) => [a.derivationIndex, a.address])).toEqual(
      Array.from({ length: 13 }, (_, i) => [i, receive(i)]),
    );
    expect((await get(`/v1/wallets/${walletId}`, maker)).json()).toMatchObject({ nextIndex: 13 });
  });

  /** The miner pays `address` from its oldest mature coinbase (bitcoinjs-lib, 2,000 sats fee). */
  async function payFromMiner(address: string, valueSats: bigint): Promise<void> {
    const coin = simnet
      .listUnspent(miner.address)
      .find((u) => u.coinbase && u.height + 100 <= simnet.height + 1);
    if (!coin) throw new Error('the miner has no mature coin');
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
  }
});

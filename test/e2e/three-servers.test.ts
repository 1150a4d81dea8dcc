import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPlatform, type Platform } from '../../src/app';
import { openDatabase, type Database } from '../../src/db';
import { loadConfig, systemCaller, isAppError } from '../../src/kernel';
import { LocalKeySigner } from '../../src/bitcoin';
import { scratchPostgresDatabase } from '../support/db';
import {
  BUYER,
  inboundTravelRule,
  miner,
  openScheme,
  outboundTravelRule,
  regtest,
  SCHEME_SETTINGS,
  SUPPLIER,
  supervisor,
  supplierAddress,
  type Scheme,
} from '../support/scheme';
import {
  buildIfStale,
  rpc,
  runCli,
  seededRng,
  ServerProcess,
  sleep,
  startCli,
  startRpcProxy,
  startWebhookReceiver,
  type CliProcess,
  type RpcProxy,
  type WebhookReceiver,
} from '../support/cluster';

/**
 * Issue 12: three servers on one PostgreSQL, following one chain (`tradeclear simnet` serving a
 * Bitcoin Core JSON-RPC; the servers run CHAIN=bitcoind against it), under a trickle of trade
 * (invoices paid, payouts approved, batched by the servers, signed by this test as the platform's
 * external signer, broadcast and confirmed, webhooks to a receiver here, blocks mined), while one
 * server at a time is killed (SIGKILL) at random moments and started again. Then: each batch is
 * one transaction on the chain, announced once; each payout paid once; each webhook event written
 * once and delivered (raw repeats counted: delivery is at least once, the delivery id is stable);
 * each block processed once (one cursor row per height, no ledger entry twice); `tradeclear
 * ledger reconcile` and `tradeclear audit verify` exit 0.
 *
 * PostgreSQL only (TEST_DATABASE_URL); the kill schedule's seed is printed (KILL_SEED repeats it).
 */
const ACTIVITY_MS = 60_000;
const RPC_PASSWORD = 'three-servers';
const SECRETS_KEY = Buffer.alloc(32, 7).toString('base64');
const SIGNER_SEED = new Uint8Array(32).fill(42); // openScheme's platform key

describe.runIf(process.env.TEST_DATABASE_URL)('three servers on one PostgreSQL (issue 12)', () => {
  let database: Awaited<ReturnType<typeof scratchPostgresDatabase>>;
  let db: Database;
  let pool: pg.Pool;
  let scheme: Scheme;
  let simnet: CliProcess;
  let proxy: RpcProxy;
  let receiver: WebhookReceiver;
  let platform: Platform;
  let env: Record<string, string>;
  const servers: ServerProcess[] = [];
  const simnetDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-simnet-'));

  beforeAll(async () => {
    buildIfStale();
    database = await scratchPostgresDatabase();
    db = await openDatabase({ url: database.url, poolSize: 4 });
    await db.migrate();
    pool = new pg.Pool({ connectionString: database.url, max: 2 });
    // The scheme (registry, the platform's key, a company wallet) and 141 blocks: the miner's
    // first 42 coinbases are mature, one for each payment a buyer makes.
    scheme = await openScheme({
      db,
      settings: { ...SCHEME_SETTINGS, confirmations: 1, batchWindowSeconds: 1 },
    });
    await scheme.mine(40);
    simnet = await startCli(
      ['simnet', '--rpc-port', '0', '--rpc-password', RPC_PASSWORD],
      { DATABASE_URL: database.url, LOG_LEVEL: 'warn', DATA_DIR: simnetDir },
      /JSON-RPC: (http:\/\/\S+)/,
    );
    const rpcUrl = new URL(simnet.url);
    rpcUrl.username = 'simnet';
    rpcUrl.password = RPC_PASSWORD;
    proxy = await startRpcProxy(rpcUrl.toString());
    receiver = await startWebhookReceiver();
    env = {
      DATABASE_URL: database.url,
      CHAIN: 'bitcoind',
      NETWORK: 'regtest',
      BITCOIND_URL: proxy.url,
      SECRETS_KEY,
      WEBHOOK_ALLOW_LOOPBACK: 'true',
      LOG_LEVEL: 'warn',
      RATE_LIMIT_PER_MINUTE: '100000',
    };
    platform = await openPlatform(loadConfig(env), { chain: true });
    platform.rateDesk.set('USD', '60000');
    await platform.services.trade.updateSettings(supervisor, scheme.platformId, {
      webhookUrl: receiver.url,
      webhookSecret: 'three-servers-webhook-secret',
    });
    for (const name of ['a', 'b', 'c']) servers.push(new ServerProcess(name, env));
    await Promise.all(servers.map((s) => s.start()));
  }, 180_000);

  afterAll(async () => {
    for (const server of servers) {
      await server.kill();
      server.cleanup();
    }
    simnet?.child.kill('SIGKILL');
    await simnet?.exited;
    await proxy?.close();
    await receiver?.close();
    await platform?.close();
    await pool?.end();
    await db?.close();
    await database?.drop();
    rmSync(simnetDir, { recursive: true, force: true });
  });

  const query = async <T extends pg.QueryResultRow>(text: string, values: unknown[] = []) =>
    (await pool.query<T>(text, values)).rows;
  const count = async (text: string, values: unknown[] = []) =>
    Number((await query<{ n: string }>(text, values))[0]!.n);

  it('does every batch, webhook and block once while servers are killed', async () => {
    const seed = Number(process.env.KILL_SEED ?? Date.now() % 1_000_000);
    console.log(`three servers: kill schedule seed ${seed} (KILL_SEED=${seed} repeats it)`);
    const random = seededRng(seed);
    const trade = platform.services.trade;
    const { company, maker, officerA, officerB, companyId, platformId } = scheme;

    // ---- contracts: an export contract for the invoices, an import one for the payouts.
    const exportContract = await trade.contracts.create(company, {
      counterpartyId: scheme.buyerId,
      direction: 'export',
      goodsDescription: 'Green coffee beans, washed arabica',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '5000000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2027-08-01', amount: '5000000.00' }],
      customsDeclarationRef: 'CO-DEX-2026-000912',
    });
    await trade.contracts.transition(company, exportContract.id, 'submit');
    await trade.contracts.transition(maker, exportContract.id, 'approve');
    await trade.contracts.transition(maker, exportContract.id, 'activate');
    const importContract = await trade.contracts.create(maker, {
      companyId,
      counterpartyId: scheme.supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machines',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '600000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '1000000000',
      schedule: [{ dueDate: '2027-08-15', amount: '1000000000' }],
    });
    await trade.contracts.transition(maker, importContract.id, 'submit');
    await trade.contracts.transition(officerA, importContract.id, 'approve');
    await trade.contracts.transition(maker, importContract.id, 'activate');

    // ---- the buyers' coins: the miner's mature coinbases, one per payment.
    const coins = scheme.simnet
      .listUnspent(miner.address)
      .filter((u) => u.height + 100 <= scheme.simnet.height + 1)
      .sort((a, b) => a.height - b.height);
    const startHeight = scheme.simnet.height;
    const pay = async (address: string, sats: bigint) => {
      const coin = coins.shift();
      if (!coin) return null;
      const psbt = new bitcoinjs.Psbt({ network: regtest });
      psbt.addInput({
        hash: coin.txid,
        index: coin.vout,
        witnessUtxo: { script: miner.output, value: coin.value },
      });
      psbt.addOutput({ address, value: sats });
      psbt.addOutput({ address: miner.address, value: coin.value - sats - 2_000n });
      psbt.signAllInputs(miner.key);
      psbt.finalizeAllInputs();
      return rpc<string>(proxy.url, 'sendrawtransaction', [psbt.extractTransaction().toHex()]);
    };

    // ---- the external signer: signs each batch awaiting it, submits it to a live server.
    const signer = LocalKeySigner.fromSeed(SIGNER_SEED, 'regtest');
    const key = await platform.services.keys.issue(
      systemCaller('test'),
      { role: 'platform', participantId: platformId, platformId, name: 'external signer' },
      { newPerson: { displayName: 'Signing officer' } },
    );
    const live = () => servers.filter((s) => s.url !== null);
    const signPending = async () => {
      const waiting = await query<{ id: string; psbt: string }>(
        "select id, psbt from trade_batches where status = 'awaitingSignature'",
      );
      for (const batch of waiting) {
        const signed = await signer.signPsbt(new Uint8Array(Buffer.from(batch.psbt, 'base64')));
        const server = live()[Math.floor(random() * live().length)];
        if (!server?.url) continue;
        await fetch(`${server.url}/v1/payout-batches/${batch.id}/signed-psbt`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ psbt: Buffer.from(signed).toString('base64') }),
        }).catch(() => undefined); // a server killed meanwhile: the next round signs again
      }
    };
    const mine = () => rpc<string[]>(proxy.url, 'generatetoaddress', [1, miner.address]);
    const clientFunds = async () =>
      (await platform.services.ledger.balances(supervisor, { participantId: companyId }))
        .filter((b) => b.purpose === 'clientFunds')
        .reduce((sum, b) => sum + b.balanceSats, 0n);

    // ---- activity, with kills: one server at a time, at random moments, started again.
    const invoices: string[] = [];
    const payouts: string[] = [];
    let kills = 0;
    let activity = true;
    const restarts: Promise<void>[] = [];
    const killer = (async () => {
      while (activity) {
        await sleep(4_000 + random() * 8_000);
        if (!activity) break;
        const victim = servers[Math.floor(random() * servers.length)]!;
        if (!victim.url) continue; // still starting again
        await victim.kill();
        kills++;
        const downMs = 500 + random() * 3_000;
        restarts.push(sleep(downMs).then(() => victim.start()));
      }
    })();
    const started = Date.now();
    let step = 0;
    while (Date.now() - started < ACTIVITY_MS) {
      step++;
      const roll = random();
      try {
        if (roll < 0.45 && coins.length > 0) {
          const usd = 3_000 + Math.floor(random() * 40) * 100;
          const invoice = await trade.invoices.create(company, {
            contractId: exportContract.id,
            amount: `${usd}.00`,
            travelRule: inboundTravelRule(BUYER.name, BUYER.vasp),
          });
          invoices.push(invoice.id);
          if (invoice.gateOutcome !== 'block') await pay(invoice.address, invoice.amountSats);
        } else if (roll < 0.75) {
          const amount = 1_000_000n + BigInt(Math.floor(random() * 5_000_000));
          if ((await clientFunds()) > amount * 3n) {
            const payout = await trade.payouts.create(maker, {
              contractId: importContract.id,
              amount: amount.toString(),
              address: supplierAddress,
              travelRule: outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp),
            });
            payouts.push(payout.id);
            for (const officer of [officerA, officerB]) {
              const view = await trade.payouts.get(maker, payout.id);
              if (view.status === 'awaitingApproval')
                await trade.payouts.approve(officer, payout.id);
            }
          }
        }
      } catch (error) {
        // The gate may refuse (a monitoring rule); the trickle goes on.
        if (!isAppError(error)) throw error;
      }
      await signPending();
      if (step % 2 === 0) await mine();
      await sleep(700);
    }
    activity = false;
    await killer;
    await Promise.all(restarts);
    expect(kills).toBeGreaterThanOrEqual(3);
    for (const server of servers) if (!server.url) await server.start();

    // ---- quiescence: every paid invoice settled, every approved payout completed, every batch
    // done, every webhook delivered, the watcher at the tip.
    const pending = async () => ({
      // Announced invoice and payout changes not yet queued by the `trade.webhooks` subscriber.
      announced: await count(
        `select count(*) n from outbox_events e
          where e.topic in ('trade.invoice.changed', 'trade.payout.changed')
            and e.seq >= coalesce((select below_seq from outbox_marks
                                    where subscriber = 'trade.webhooks'), 0)
            and not exists (select 1 from outbox_deliveries d
                             where d.subscriber = 'trade.webhooks' and d.seq = e.seq
                               and d.handled_at is not null)`,
      ),
      webhooks: await count(
        'select count(*) n from trade_webhook_outbox where delivered_at is null and failed_at is null',
      ),
      batches: await count(
        "select count(*) n from trade_batches where status not in ('completed', 'abandoned')",
      ),
      payouts: await count(
        "select count(*) n from trade_payouts where status in ('awaitingPayment', 'inProgress')",
      ),
      invoices: await count("select count(*) n from trade_invoices where status = 'processing'"),
      lag:
        (await rpc<number>(proxy.url, 'getblockcount')) -
        ((await query<{ h: number }>('select max(height) h from chain_watcher_blocks'))[0]?.h ?? 0),
    });
    const quietBy = Date.now() + 90_000;
    let left = await pending();
    while (Object.values(left).some((n) => n > 0)) {
      if (Date.now() > quietBy) throw new Error(`not quiet: ${JSON.stringify(left)}`);
      await signPending();
      await mine();
      await sleep(2_000);
      left = await pending();
    }
    for (const server of servers) expect(await server.stop()).toBe(0);

    // ---- each batch: one transaction, announced once, its payouts paid once on the chain.
    const batches = await query<{ id: string; txid: string; status: string }>(
      'select id, txid, status from trade_batches',
    );
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((b) => b.status === 'completed')).toBe(true);
    expect(new Set(batches.map((b) => b.txid)).size).toBe(batches.length);
    for (const b of batches) expect(proxy.sent.get(b.txid) ?? 0).toBeGreaterThan(0);
    const announced = await query<{ entity_id: string; n: string }>(
      "select entity_id, count(*) n from audit_events where action = 'batch.broadcast' group by entity_id",
    );
    expect(announced.map((a) => Number(a.n))).toEqual(batches.map(() => 1));
    const paid = await query<{ id: string; amount_sats: string }>(
      "select id, amount_sats from trade_payouts where status = 'completed'",
    );
    expect(paid.length).toBeGreaterThan(0);
    const tip = await rpc<number>(proxy.url, 'getblockcount');
    const toSupplier: bigint[] = [];
    for (let height = startHeight + 1; height <= tip; height++) {
      const hash = await rpc<string>(proxy.url, 'getblockhash', [height]);
      const block = await rpc<{
        tx: { vout: { value: number; scriptPubKey: { address?: string } }[] }[];
      }>(proxy.url, 'getblock', [hash, 2]);
      for (const tx of block.tx)
        for (const out of tx.vout)
          if (out.scriptPubKey.address === supplierAddress)
            toSupplier.push(BigInt(Math.round(out.value * 1e8)));
    }
    expect(toSupplier.length).toBe(paid.length);
    expect(toSupplier.reduce((a, b) => a + b, 0n)).toBe(
      paid.reduce((sum, p) => sum + BigInt(p.amount_sats), 0n),
    );

    // ---- each block processed once: one cursor row per height, each ledger entry once.
    expect(
      await count(
        'select count(*) n from (select height from chain_watcher_blocks group by height having count(*) > 1) d',
      ),
    ).toBe(0);
    const twice = await query(
      `select kind, reference, count(*) n from ledger_transactions
        where kind <> 'reversal' and id not in (select reverses from ledger_transactions where reverses is not null)
        group by kind, reference having count(*) > 1`,
    );
    expect(twice).toEqual([]);
    expect(
      await count("select count(*) n from ledger_transactions where kind = 'invoice.settled'"),
    ).toBe(await count("select count(*) n from trade_invoices where status = 'settled'"));

    // ---- each webhook event written once, delivered, and received under its delivery id.
    const events = await query<{ id: string; event: string; entity_id: string }>(
      'select id, event, entity_id from trade_webhook_outbox',
    );
    const keys = events.map((e) => `${e.event} ${e.entity_id}`);
    expect(keys.length - new Set(keys).size).toBe(0);
    // One queued delivery per announced change: the subscriber handled each event exactly once.
    expect(events.length).toBe(
      await count(
        "select count(*) n from outbox_events where topic in ('trade.invoice.changed', 'trade.payout.changed')",
      ),
    );
    expect(
      await count('select count(*) n from trade_webhook_outbox where delivered_at is null'),
    ).toBe(0);
    expect([...receiver.received.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    const repeats = [...receiver.received.values()].reduce((sum, n) => sum + n - 1, 0);
    // At least once: a server killed between a POST and its commit sends that delivery again.
    expect(repeats).toBeLessThanOrEqual(kills);

    // ---- the books and the audit chain.
    const cliEnv = { ...env, DATA_DIR: servers[0]!.dataDir };
    const reconcile = await runCli(['ledger', 'reconcile'], cliEnv);
    expect(reconcile.code, reconcile.stderr).toBe(0);
    const verify = await runCli(['audit', 'verify'], cliEnv);
    expect(verify.code, verify.stderr).toBe(0);

    const sends = [...proxy.sent.values()].reduce((a, b) => a + b, 0);
    console.log(
      `three servers: ${kills} kills over ${servers.reduce((n, s) => n + s.starts, 0)} starts; ` +
        `${invoices.length} invoices, ${payouts.length} payouts in ${batches.length} batches, ` +
        `${events.length} webhooks (${repeats} raw repeats), ${tip - startHeight} blocks; ` +
        `${sends} sendrawtransaction calls for ${proxy.sent.size} txids`,
    );
  }, 300_000);
});

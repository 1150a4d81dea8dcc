import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/http';
import { openDatabase, type Database } from '../../src/db';
import { loadConfig, SeededRandom, systemCaller } from '../../src/kernel';
import { composeServices } from '../../src/services';
import type { ReconcileItem } from '../../src/trade';
import { cliSandbox } from '../support/cli';
import { scratchPostgresDatabase, TEST_DRIVERS } from '../support/db';
import {
  BUYER,
  SUPPLIER,
  balanceOf,
  inboundTravelRule,
  miner,
  openScheme,
  outboundTravelRule,
  supervisor,
  supplierAddress,
  type Scheme,
} from '../support/scheme';

/**
 * Issue 12, `ledger reconcile`: on simnet, a company whose wallet holds more than its ledger for
 * four reasons at once (a receipt held for compliance review, a payment below the confirmations
 * settlement needs, a block the watcher has not processed, and a payout batch broadcast but not
 * mined) is reconciled: each difference explained by its category and sats, the CLI exits 0.
 * Then a ledger entry no invoice or payout posted and a coin the chain does not have make it exit
 * 1, naming both.
 */

/** 0.5432 BTC on a 0.5 BTC invoice that is all its contract: over the open amount, so review. */
const OVERPAID_SATS = 54_320_000n;
const PAYOUT_SATS = 5_000_000n;

/** A database the CLI can open afterwards: a PGlite data directory or a PostgreSQL database. */
async function cliDatabase(driver: 'pglite' | 'postgres'): Promise<{
  env: Record<string, string>;
  open: () => Promise<Database>;
  drop: () => Promise<void>;
}> {
  if (driver === 'pglite') {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-reconcile-'));
    const open = async () => openDatabase({ dataDir: path.join(dataDir, 'db') });
    return {
      env: { DATA_DIR: dataDir },
      open,
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const scratch = await scratchPostgresDatabase();
  const dataDir = mkdtempSync(path.join(tmpdir(), 'tradeclear-reconcile-'));
  const open = async () => openDatabase({ url: scratch.url, poolSize: 3 });
  return {
    env: { DATA_DIR: dataDir, DATABASE_URL: scratch.url },
    open,
    drop: async () => {
      await scratch.drop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** An active export contract with the buyer for `usd` and its invoice for all of it. */
async function exportInvoice(s: Scheme, usd: string) {
  const contract = await s.trade.contracts.create(s.company, {
    counterpartyId: s.buyerId,
    direction: 'export',
    goodsDescription: 'Green coffee beans, washed arabica',
    hsCode: '090111',
    incoterm: 'FOB',
    currency: 'USD',
    amount: usd,
    pricingMode: 'fiat',
    schedule: [{ dueDate: '2026-08-01', amount: usd }],
  });
  await s.trade.contracts.transition(s.company, contract.id, 'submit');
  await s.trade.contracts.transition(s.maker, contract.id, 'approve');
  await s.trade.contracts.transition(s.maker, contract.id, 'activate');
  return s.trade.invoices.create(s.company, {
    contractId: contract.id,
    amount: usd,
    travelRule: inboundTravelRule(BUYER.name, BUYER.vasp),
  });
}

const only = (items: readonly ReconcileItem[], category: ReconcileItem['category']) =>
  items.filter((i) => i.category === category);

describe.each(TEST_DRIVERS)('ledger reconcile explains every difference (%s)', (driver) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('classifies a review-held receipt, a payment below its confirmations, watcher lag and a batch in transit; exits 1 only for what is unexplained', async () => {
    const target = await cliDatabase(driver);
    cleanups.push(target.drop);
    const db: Database = await target.open();
    await db.migrate();
    let open: Database | null = db;
    cleanups.push(async () => open?.close());
    const s = await openScheme({ db });

    // ---- funds: 0.5 BTC paid and settled at two confirmations.
    const funding = await exportInvoice(s, '30000.00');
    await s.payFromMiner(funding.address, 50_000_000n);
    await s.syncMempool();
    await s.mine(2);
    expect((await s.trade.invoices.get(s.company, funding.id)).status).toBe('settled');

    // ---- a receipt held for review: 0.5432 BTC on a 0.5 BTC invoice, confirmed twice, not settled.
    const held = await exportInvoice(s, '30000.00');
    const heldTx = await s.payFromMiner(held.address, OVERPAID_SATS);
    await s.syncMempool();
    await s.mine(2);
    const heldView = await s.trade.invoices.get(s.company, held.id);
    expect(heldView).toMatchObject({ status: 'processing', gateOutcome: 'review' });
    const decisionId = heldView.gateDecisions.find(
      (d) => d.outcome === 'review' && d.resolution === null,
    )!.decisionId!;

    // ---- a payment of 0.1 BTC with one of the two confirmations settlement needs.
    const pending = await exportInvoice(s, '6000.00');
    const pendingTx = await s.payFromMiner(pending.address, 10_000_000n);
    await s.syncMempool();
    await s.mine(1);
    expect((await s.trade.invoices.get(s.company, pending.id)).status).toBe('processing');
    const cursor = (await s.watcher.cursor())!.height;

    // ---- a block the watcher has not processed: it pays a fourth invoice 0.05 BTC.
    const lagging = await exportInvoice(s, '3000.00');
    const laggingTx = await s.payFromMiner(lagging.address, 5_000_000n);
    await s.simnet.mine(1, miner.address);
    expect(s.simnet.height).toBe(cursor + 1);

    // ---- a payout of 0.05 BTC, approved by two officers, batched and broadcast, not mined.
    const contract = await s.trade.contracts.create(s.maker, {
      companyId: s.companyId,
      counterpartyId: s.supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '6000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '10000000',
      schedule: [{ dueDate: '2026-08-15', amount: '10000000' }],
    });
    await s.trade.contracts.transition(s.maker, contract.id, 'submit');
    await s.trade.contracts.transition(s.officerA, contract.id, 'approve');
    await s.trade.contracts.transition(s.maker, contract.id, 'activate');
    const payout = await s.trade.payouts.create(s.maker, {
      contractId: contract.id,
      amount: PAYOUT_SATS.toString(),
      address: supplierAddress,
      travelRule: outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp),
    });
    await s.trade.payouts.approve(s.officerA, payout.id);
    await s.trade.payouts.approve(s.officerB, payout.id);
    const run = await s.trade.tick();
    expect(run.failures).toEqual([]);
    expect(run.batches).toHaveLength(1);
    const batch = (await s.trade.payouts.listBatches(s.maker)).items[0]!;
    expect(s.simnet.mempoolTxids()).toEqual([batch.txid]);
    const outgoing = PAYOUT_SATS + batch.feeSats;
    const balances = await s.ledger.balances(supervisor);
    expect(balanceOf(balances, `inTransit:${s.companyId}`)).toBe(outgoing);
    expect(balanceOf(balances, `clientFunds:${s.companyId}`)).toBe(50_000_000n - outgoing);

    // ---- reconcile against the chain's UTXO set: every difference explained.
    const report = await s.trade.reconcile(supervisor, { utxos: s.utxoSource });
    expect(report).toMatchObject({
      view: 'chain',
      tipHeight: cursor + 1,
      cursorHeight: cursor,
      trialBalanceSats: 0n,
      unexplainedSats: 0n,
      reconciled: true,
    });
    expect(report.lines).toHaveLength(1);
    const line = report.lines[0]!;
    expect(line).toMatchObject({
      companyId: s.companyId,
      ledgerSats: 50_000_000n,
      clientFundsSats: 50_000_000n - outgoing,
      inTransitSats: outgoing,
      chainSats: 50_000_000n + OVERPAID_SATS + 10_000_000n + 5_000_000n,
      trackedSats: 50_000_000n + OVERPAID_SATS + 10_000_000n,
      differenceSats: OVERPAID_SATS + 10_000_000n + 5_000_000n,
      explainedSats: OVERPAID_SATS + 10_000_000n + 5_000_000n,
      unexplainedSats: 0n,
      explained: true,
    });
    expect(line.items.map((i) => i.category)).toEqual([
      'reviewHeldReceipt',
      'unsettledConfirmation',
      'inTransitBatch',
      'watcherLag',
    ]);
    expect(only(line.items, 'reviewHeldReceipt')).toMatchObject([
      {
        sats: OVERPAID_SATS,
        references: {
          invoiceId: held.id,
          decisionId,
          outpoints: [`${heldTx.getId()}:0`],
          confirmations: 3,
          requiredConfirmations: 2,
        },
      },
    ]);
    const [unsettled] = only(line.items, 'unsettledConfirmation');
    expect(only(line.items, 'unsettledConfirmation')).toMatchObject([
      {
        sats: 10_000_000n,
        references: {
          invoiceId: pending.id,
          outpoints: [`${pendingTx.getId()}:0`],
          height: cursor,
          confirmations: 1,
        },
      },
    ]);
    expect(unsettled!.note).toContain('1 of the 2 confirmations');
    // Broadcast, not mined: its inputs are still unspent, so the transit is no difference yet.
    const [transit] = only(line.items, 'inTransitBatch');
    expect(only(line.items, 'inTransitBatch')).toMatchObject([
      { sats: 0n, references: { batchId: batch.id, payoutIds: [payout.id], txid: batch.txid } },
    ]);
    expect(transit!.note).toContain(`${outgoing} sats in transit`);
    expect(only(line.items, 'watcherLag')).toMatchObject([
      {
        sats: 5_000_000n,
        references: { outpoints: [`${laggingTx.getId()}:0`], height: cursor + 1 },
      },
    ]);
    expect(report.byCategory).toMatchObject({
      reviewHeldReceipt: OVERPAID_SATS,
      unsettledConfirmation: 10_000_000n,
      inTransitBatch: 0n,
      watcherLag: 5_000_000n,
      unexplained: 0n,
    });

    // Against the coins the watcher tracked, the unprocessed block is no difference at all.
    const tracked = await s.trade.reconcile(supervisor);
    expect(tracked).toMatchObject({ view: 'tracked', reconciled: true });
    expect(tracked.lines[0]!.differenceSats).toBe(OVERPAID_SATS + 10_000_000n);
    expect(tracked.lines[0]!.items.map((i) => i.category)).toEqual([
      'reviewHeldReceipt',
      'unsettledConfirmation',
      'inTransitBatch',
    ]);

    // ---- the HTTP route: the same report; a platform sees its own companies only.
    const other = await s.registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Cartagena Custody SAS',
      country: 'CO',
    });
    const config = loadConfig({ LOG_LEVEL: 'warn', RATE_LIMIT_PER_MINUTE: '100000' });
    const composed = composeServices({ db, clock: s.clock, config, random: new SeededRandom(3) });
    const app = await buildApp({
      db,
      clock: s.clock,
      config,
      services: { ...composed, registry: s.registry, ledger: s.ledger, trade: s.trade },
      logStream: { write: () => undefined },
    });
    const key = async (role: 'supervisor' | 'platform', participantId: string) =>
      `Bearer ${
        (
          await composed.keys.issue(
            systemCaller('test'),
            {
              role,
              participantId,
              platformId: role === 'platform' ? participantId : null,
              name: `${role} officer`,
            },
            { newPerson: { displayName: `${role} officer` } },
          )
        ).token
      }`;
    const get = async (authorization: string) => {
      const response = await app.inject({
        method: 'GET',
        url: '/v1/ledger/reconciliation',
        headers: { authorization },
      });
      expect(response.statusCode).toBe(200);
      return response.json<{
        pageReconciled: boolean;
        items: {
          companyId: string;
          differenceSats: string;
          items: { category: string; sats: string; references: Record<string, unknown> }[];
        }[];
      }>();
    };
    const bySupervisor = await get(await key('supervisor', 'scheme'));
    expect(bySupervisor.pageReconciled).toBe(true);
    expect(bySupervisor.items.map((l) => l.companyId)).toEqual([s.companyId]);
    expect(bySupervisor.items[0]!.items).toMatchObject([
      {
        category: 'reviewHeldReceipt',
        sats: OVERPAID_SATS.toString(),
        references: { invoiceId: held.id, decisionId },
      },
      { category: 'unsettledConfirmation', sats: '10000000' },
      { category: 'inTransitBatch', sats: '0', references: { batchId: batch.id } },
    ]);
    expect((await get(await key('platform', s.platformId))).items.map((l) => l.companyId)).toEqual([
      s.companyId,
    ]);
    expect((await get(await key('platform', other.id))).items).toEqual([]);
    await app.close();

    // ---- the CLI over the same database: a table, the explanations, exit 0.
    await db.close();
    open = null;
    const cli = cliSandbox(target.env);
    cleanups.push(() => Promise.resolve(cli.cleanup()));
    const shown = await cli.run('ledger', 'reconcile');
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(
      /company\s+ledger BTC\s+chain BTC\s+difference\s+explained\s+unexplained/,
    );
    expect(shown.stdout).toMatch(new RegExp(`reviewHeldReceipt\\s+\\+${OVERPAID_SATS} sats`));
    expect(shown.stdout).toMatch(/unsettledConfirmation\s+\+10000000 sats/);
    expect(shown.stdout).toMatch(/watcherLag\s+\+5000000 sats/);
    expect(shown.stdout).toMatch(new RegExp(`inTransitBatch\\s+0 sats\\s+batch ${batch.id}`));
    expect(shown.stdout).toContain('reconciled: every difference is explained');
    const json = await cli.run('ledger', 'reconcile', '--json');
    expect(json.code).toBe(0);
    const parsed = JSON.parse(json.stdout) as {
      reconciled: boolean;
      lines: { differenceSats: string; items: { category: string }[] }[];
    };
    expect(parsed.reconciled).toBe(true);
    expect(parsed.lines[0]!.differenceSats).toBe(String(OVERPAID_SATS + 15_000_000n));
    expect(parsed.lines[0]!.items.map((i) => i.category)).toEqual(
      report.lines[0]!.items.map((i) => i.category),
    );

    // ---- an entry no invoice or payout posted (balanced, so the trial balance stays zero) and a
    // coin the chain does not have, both written straight into the database: exit 1, named.
    const again = await target.open();
    open = again;
    const adjustment = 'ltx_manual_adjustment_1';
    const fake = 'ab'.repeat(32);
    await again.transaction(async (tx) => {
      await tx.execute(
        sql`insert into ledger_transactions (id, at, kind, reference, platform_id, memo) values (${adjustment}, now(), 'manual.adjustment', ${s.companyId}, ${s.platformId}, 'typed in by hand')`,
      );
      await tx.execute(sql`insert into ledger_postings (transaction_id, account_id, amount_sats)
        select ${adjustment}, id, case purpose when 'clientFunds' then 1234 else -1234 end
        from ledger_accounts
        where (participant_id = ${s.companyId} and purpose = 'clientFunds')
           or (participant_id = ${s.buyerId} and purpose = 'counterpartySettled')`);
      await tx.execute(sql`insert into trade_wallet_utxos
        (txid, vout, company_id, platform_id, address, value_sats, block_hash, block_height)
        values (${fake}, 0, ${s.companyId}, ${s.platformId}, ${funding.address}, 777, ${'00'.repeat(32)}, ${cursor})`);
    });
    await again.close();
    open = null;
    const broken = await cli.run('ledger', 'reconcile');
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('NOT reconciled');
    expect(broken.stderr).toContain(adjustment);
    expect(broken.stderr).toContain('manual.adjustment');
    expect(broken.stderr).toContain(`${fake}:0`);
    const brokenJson = await cli.run('ledger', 'reconcile', '--json');
    expect(brokenJson.code).toBe(1);
    const brokenReport = JSON.parse(brokenJson.stdout) as {
      reconciled: boolean;
      trialBalanceSats: string;
      lines: {
        unexplainedSats: string;
        items: { category: string; sats: string; references: Record<string, unknown> }[];
      }[];
    };
    expect(brokenReport.reconciled).toBe(false);
    expect(brokenReport.trialBalanceSats).toBe('0');
    // The entry makes the ledger 1,234 sats richer than the chain: −1,234 unexplained. The fake
    // coin is tracked but not on the chain: +777 as a stray coin, −777 as missing from the chain.
    expect(brokenReport.lines[0]!.unexplainedSats).toBe('-1234');
    expect(
      brokenReport.lines[0]!.items.filter((i) => i.category === 'unexplained').map((i) => [
        i.sats,
        i.references,
      ]),
    ).toEqual(
      expect.arrayContaining([
        ['-1234', { ledgerTransactionIds: [adjustment] }],
        ['777', expect.objectContaining({ outpoints: [`${fake}:0`] })],
        ['-777', expect.objectContaining({ outpoints: [`${fake}:0`] })],
      ]),
    );
  }, 240_000);
});

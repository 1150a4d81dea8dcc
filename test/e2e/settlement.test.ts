import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, describe, expect, it } from 'vitest';
import type { ChainSource } from '../../src/chain';
import type { Database } from '../../src/db';
import {
  BUYER,
  SUPPLIER,
  balanceOf,
  inboundTravelRule,
  openScheme,
  outboundTravelRule,
  regtest,
  supervisor,
  supplierAddress,
} from '../support/scheme';

/**
 * The "Done when", on simnet with the real watcher and a real PGlite database:
 * contract → invoice paid by a transaction built outside Tradeclear (bitcoinjs-lib) → settled
 * after the confirmation depth and posted; three payouts approved by two officers, batched in one
 * transaction, confirmed, settled; reorgs un-settle and re-settle; reconcile shows no difference;
 * a "crash" between signing and broadcast loses nothing and pays nothing twice.
 */

const INBOUND = inboundTravelRule(BUYER.name, BUYER.vasp);
const OUTBOUND = outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp);

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
    // ---- the scheme (test/support/scheme.ts): a platform with a sealed local key, a company
    // wallet, two counterparties; 101 blocks mined and the watcher following.
    const scheme = await openScheme();
    db = scheme.db;
    const { simnet, source, utxoSource, ledger, trade, watcher, build, mine, syncMempool } = scheme;
    const { platformId, companyId, buyerId, supplierId, company, maker, officerA, officerB } =
      scheme;

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
    const paymentTx = await scheme.payFromMiner(invoice.address, 50_000_000n);
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
    let report = await trade.reconcile(supervisor, { utxos: utxoSource });
    expect(report.lines).toEqual([
      expect.objectContaining({
        companyId,
        platformId,
        ledgerSats: 50_000_000n,
        trackedSats: 50_000_000n,
        chainSats: 50_000_000n,
        differenceSats: 0n,
        items: [],
        explained: true,
      }),
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
    await trade.contracts.transition(maker, importContract.id, 'submit');
    await trade.contracts.transition(officerA, importContract.id, 'approve');
    await trade.contracts.transition(maker, importContract.id, 'activate');
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
    expect((await restarted.payouts.listBatches(maker)).items.length).toBe(1);

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
    report = await restarted.reconcile(supervisor, { utxos: utxoSource });
    expect(report.totalDifferenceSats).toBe(0n);
    // In transit again: the batch's inputs are unspent on the chain, so nothing differs.
    expect(report.lines[0]!.items).toEqual([
      expect.objectContaining({ category: 'inTransitBatch', sats: 0n }),
    ]);
    expect(report.reconciled).toBe(true);
    await mine(3);
    expect((await restarted.payouts.get(maker, payouts[2]!.id)).status).toBe('completed');
    balances = await ledger.balances(supervisor);
    expect(balanceOf(balances, `clientFunds:${companyId}`)).toBe(39_999_594n);
    expect(balanceOf(balances, `counterpartySettled:${supplierId}`)).toBe(10_000_000n);

    // ---- reconcile: ledger against the chain's own UTXO set, zero difference.
    report = await restarted.reconcile(supervisor, { utxos: utxoSource });
    expect(report.lines).toEqual([
      expect.objectContaining({
        companyId,
        platformId,
        ledgerSats: 39_999_594n,
        trackedSats: 39_999_594n,
        chainSats: 39_999_594n,
        differenceSats: 0n,
        items: [],
        explained: true,
      }),
    ]);
    expect(report.totalDifferenceSats).toBe(0n);
    expect(report.trialBalanceSats).toBe(0n);
  }, 240_000);
});

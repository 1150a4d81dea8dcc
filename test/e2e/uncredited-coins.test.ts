import { afterAll, describe, expect, it } from 'vitest';
import {
  BUYER,
  SUPPLIER,
  inboundTravelRule,
  openScheme,
  outboundTravelRule,
  supplierAddress,
  type Scheme,
} from '../support/scheme';

/**
 * A payout spends only coins the ledger credited as client funds. A receipt still short of its
 * confirmations sits in the company's wallet but is not yet the company's money: a batch run
 * finds nothing to pay with and the payout waits; once the receipt settles, the same payout is
 * batched with it. (Review-held and refused receipts are never settled, so never spent.)
 */
describe('payouts spend credited coins only', () => {
  let s: Scheme;
  afterAll(async () => s?.db.close());

  it('waits for the receipt to settle before spending it', async () => {
    s = await openScheme({ seed: 17 });
    const { trade, company, maker, officerA, officerB } = s;
    const exportContract = await trade.contracts.create(company, {
      counterpartyId: s.buyerId,
      direction: 'export',
      goodsDescription: 'Green coffee beans, washed arabica, 18 t',
      hsCode: '090111',
      incoterm: 'FOB',
      currency: 'USD',
      amount: '30000.00',
      pricingMode: 'fiat',
      schedule: [{ dueDate: '2026-08-01', amount: '30000.00' }],
    });
    await trade.contracts.transition(company, exportContract.id, 'submit');
    await trade.contracts.transition(maker, exportContract.id, 'approve');
    await trade.contracts.transition(maker, exportContract.id, 'activate');
    const invoice = await trade.invoices.create(company, {
      contractId: exportContract.id,
      amount: '30000.00',
      travelRule: inboundTravelRule(BUYER.name, BUYER.vasp),
    });
    await s.payFromMiner(invoice.address, invoice.amountSats);
    await s.mine(1); // 1 of the 2 confirmations settlement needs
    expect(await trade.invoices.get(company, invoice.id)).toMatchObject({
      status: 'processing',
      seenSats: invoice.amountSats,
      settlementId: null,
    });

    const importContract = await trade.contracts.create(maker, {
      companyId: s.companyId,
      counterpartyId: s.supplierId,
      direction: 'import',
      goodsDescription: 'Coffee roasting machine, 120 kg batch',
      hsCode: '841981',
      incoterm: 'CIF',
      currency: 'USD',
      amount: '6000.00',
      pricingMode: 'fixedBtc',
      btcAmountSats: '10000000',
      schedule: [{ dueDate: '2026-07-15', amount: '10000000' }],
    });
    await trade.contracts.transition(maker, importContract.id, 'submit');
    await trade.contracts.transition(officerA, importContract.id, 'approve');
    await trade.contracts.transition(maker, importContract.id, 'activate');
    const payout = await trade.payouts.create(maker, {
      contractId: importContract.id,
      amount: '10000000',
      address: supplierAddress,
      travelRule: outboundTravelRule(SUPPLIER.name, SUPPLIER.vasp),
    });
    await trade.payouts.approve(officerA, payout.id);
    await trade.payouts.approve(officerB, payout.id);

    // The wallet holds the 0.5 BTC coin, but it is not credited yet: nothing to pay with.
    await expect(
      trade.payouts.runBatch(maker, s.platformId, { force: true }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_FUNDS' });
    expect(await trade.payouts.get(maker, payout.id)).toMatchObject({
      status: 'awaitingPayment',
      batchId: null,
    });

    // The second confirmation settles the receipt: the same payout is batched with that coin.
    await s.mine(1);
    expect((await trade.invoices.get(company, invoice.id)).status).toBe('settled');
    const batch = await trade.payouts.runBatch(maker, s.platformId, { force: true });
    expect(batch).not.toBeNull();
    expect(batch!.payoutIds).toEqual([payout.id]);
    expect((await trade.payouts.get(maker, payout.id)).batchId).toBe(batch!.id);
  }, 120_000);
});

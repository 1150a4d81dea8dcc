import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../audit';
import { SimnetChainSource, type MempoolTransaction } from '../chain';
import type { InvoiceView } from './invoices';
import { TEST_DRIVERS } from '../../test/support/db';
import { openPayoutControls, type PayoutControls } from '../../test/support/payout-controls';
import { INBOUND } from '../../test/support/trade-scheme';

/**
 * An invoice's payer screened from the block that carries the payment (its inputs' previous
 * outputs), with no lookup at the node that could fail: settled when clean, invalid when listed.
 */
describe.each(TEST_DRIVERS)("an invoice's payer screened from its block on %s", (driver) => {
  let s: PayoutControls;
  beforeAll(async () => {
    s = await openPayoutControls(driver);
  });
  afterAll(async () => s.db.close());

  /** An active export contract and an invoice on it, paid by the miner in a mined block. */
  const paidInvoice = async (lookupFails: boolean, mined = true) => {
    const { trade, maker, alice, companyId, supplierId, pay, faults, watcher } = s;
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
    const seen: MempoolTransaction[] = [];
    const off = watcher.on('mempoolTx', (t) => void seen.push(t));
    try {
      await watcher.syncMempool();
      // Unmined, the payment reaches trade as the server hands it a mempool transaction.
      for (const t of mined ? [] : seen) {
        const raw = await new SimnetChainSource(s.simnet).getRawTransaction(t.txid);
        await trade.invoices.mempoolTransaction(t, raw, s.simnet.height);
      }
      if (mined) await confirm();
    } finally {
      off();
      faults.lookup = false;
    }
    return invoice;
  };
  const confirm = async () => {
    const { simnet, minerPay, watcher } = s;
    await simnet.mine(1, minerPay.address!);
    await watcher.syncOnce();
  };
  const lookupHolds = (view: Pick<InvoiceView, 'gateDecisions'>) =>
    view.gateDecisions.filter((d) => d.lookup);

  it('screens the payer from the block itself, with no lookup that could fail, and settles', async () => {
    const { db, ledger, trade, maker, minerPay } = s;
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

  it("looks a mempool payment's payer up at the chain before its transaction opens", async () => {
    const { trade, maker, minerPay, chainCallsInTransaction } = s;
    chainCallsInTransaction.length = 0;
    const invoice = await paidInvoice(false, false);
    const seen = await trade.invoices.get(maker(), invoice.id);
    expect(lookupHolds(seen)).toHaveLength(0);
    expect(
      seen.gateDecisions.some(
        (d) => d.payerAddress === minerPay.address && d.outcome === 'allow' && d.decisionId,
      ),
    ).toBe(true);
    // The lookup happened (the payer is known from it), and not while a transaction was open.
    expect(chainCallsInTransaction).toEqual([]);
    await confirm();
  });

  it('holds a mempool payment whose payer cannot be looked up, with no chain call in a transaction', async () => {
    const { trade, maker, chainCallsInTransaction } = s;
    chainCallsInTransaction.length = 0;
    const invoice = await paidInvoice(true, false);
    const held = await trade.invoices.get(maker(), invoice.id);
    expect(held.gateOutcome).toBe('review');
    const [hold] = lookupHolds(held);
    expect(hold?.reasons.join(' ')).toMatch(/^CHECK_FAILED: the payer behind .*CHAIN_UNAVAILABLE/);
    expect(hold?.payerAddress).toBeNull();
    expect(chainCallsInTransaction).toEqual([]);
    await confirm();
  });

  it('turns an invoice invalid when the payer its block names is listed', async () => {
    const { db, clock, ledger, trade, maker, minerPay, listAddresses } = s;
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

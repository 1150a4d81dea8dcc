import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditChain } from '../audit';
import type { AppError } from '../kernel';
import { testVasp } from '../../test/support/vasp';
import { TEST_DRIVERS } from '../../test/support/db';
import {
  ECPair,
  openPayoutControls,
  regtest,
  type PayoutControls,
} from '../../test/support/payout-controls';

/** Who may approve a payout or a contract (people, not credentials; four eyes), and dust. */
describe.each(TEST_DRIVERS)(
  'who approves payouts and contracts, and the dust limit, on %s',
  (driver) => {
    let s: PayoutControls;
    beforeAll(async () => {
      s = await openPayoutControls(driver);
    });
    afterAll(async () => s.db.close());

    it('counts people, not credentials: a second credential of one person is one approval', async () => {
      const { db, trade, officer, maker, alice, aliceSession, bob, supplierAddress, request } = s;
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
      const { trade, companyId, supplierId, officer, maker, alice, aliceSession, bob } = s;
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
      expect((await trade.contracts.transition(bob(), draft.id, 'approve')).status).toBe(
        'approved',
      );
    });

    it('refuses a payout below the dust limit of its output type, naming the amount', async () => {
      const { db, registry, trade, supplierId, supervisor, maker, supplierAddress, request } = s;
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
  },
);

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../audit';
import { EventRelay } from '../events';
import { TEST_DRIVERS } from '../../test/support/db';
import {
  OTHER_OUTBOUND,
  openPayoutControls,
  type PayoutControls,
} from '../../test/support/payout-controls';

/**
 * A platform's licence suspended (`registry.licence.changed`, the relay's `trade.licences`) or a
 * list snapshot activated (`compliance.list.activated`, `trade.lists`) reaches trade through the
 * outbox: the approved payouts not yet broadcast that the gate no longer allows are held at once,
 * not at their next step, each exactly once.
 */
describe.each(TEST_DRIVERS)(
  'payouts rechecked when a licence or a list changes on %s',
  (driver) => {
    let s: PayoutControls;
    let relay: EventRelay;
    beforeAll(async () => {
      s = await openPayoutControls(driver);
      relay = new EventRelay({ db: s.db, clock: s.clock });
      for (const subscriber of s.trade.subscribers()) relay.subscribe(subscriber);
      await relay.run(); // what the set-up announced
    });
    afterAll(async () => s.db.close());

    const heldAudits = async (id: string) =>
      (await listAuditEvents(s.db.orm, { entityId: id, action: 'payout.held' })).items.length;

    it('holds the approved payouts and abandons the batch not signed, once', async () => {
      const { trade, registry, maker, supervisor, licenceId, platformId, approve, request } = s;
      const batched = await request(await s.supplierAddress());
      await approve(batched.id);
      const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
      expect(batch.status).toBe('awaitingSignature');
      const waiting = await request(await s.supplierAddress());
      await approve(waiting.id);
      // Announced but not yet heard: nothing moved.
      await registry.changeLicenceStatus(supervisor, licenceId, 'suspended', 'inspection findings');
      expect((await trade.payouts.get(maker(), waiting.id)).status).toBe('awaitingPayment');

      await relay.run();
      const heldWaiting = await trade.payouts.get(maker(), waiting.id);
      const heldBatched = await trade.payouts.get(maker(), batched.id);
      expect(heldWaiting).toMatchObject({ status: 'held', hold: { step: 'batching' } });
      expect(heldBatched).toMatchObject({
        status: 'held',
        batchId: null,
        hold: { step: 'signing' },
      });
      for (const held of [heldWaiting, heldBatched]) {
        expect(held.hold!.outcome).toBe('block');
        expect(held.hold!.reasons.some((r) => r.startsWith('LICENCE_NOT_ACTIVE'))).toBe(true);
        expect(held.hold!.decisionId).toMatch(/^dec/);
      }
      expect((await trade.payouts.getBatch(maker(), batch.id)).status).toBe('abandoned');

      // Exactly once: later runs hear nothing new and hold nothing again.
      await relay.run();
      expect(await heldAudits(waiting.id)).toBe(1);
      expect(await heldAudits(batched.id)).toBe(1);
      expect(s.simnet.mempoolTxids()).toEqual([]);
      expect(await s.inTransit()).toBe(0n);
      expect(await s.ledger.trialBalance()).toBe(0n);
      expect(await verifyAuditChain(s.db.orm)).toMatchObject({ ok: true });

      // Reinstated and heard: both held on the licence alone, both decided again and released,
      // once each, back to waiting for a batch.
      await registry.changeLicenceStatus(supervisor, licenceId, 'active', null);
      expect((await trade.payouts.get(maker(), waiting.id)).status).toBe('held');
      await relay.run();
      await relay.run();
      for (const id of [waiting.id, batched.id]) {
        expect(await trade.payouts.get(maker(), id)).toMatchObject({
          status: 'awaitingPayment',
          hold: null,
          batchId: null,
        });
        const released = await listAuditEvents(s.db.orm, {
          entityId: id,
          action: 'payout.released',
        });
        expect(released.items.map((e) => e.actor)).toEqual(['trade.licenceHolds']);
      }
      expect(await verifyAuditChain(s.db.orm)).toMatchObject({ ok: true });
      for (const id of [waiting.id, batched.id])
        expect((await trade.payouts.cancel(maker(), id)).status).toBe('cancelled');
    });

    it('holds nothing when the licence is active again before the event is heard', async () => {
      const { trade, registry, maker, supervisor, licenceId, approve, request } = s;
      const payout = await request(await s.supplierAddress());
      await approve(payout.id);
      await registry.changeLicenceStatus(supervisor, licenceId, 'suspended', 'a clerical error');
      await registry.changeLicenceStatus(supervisor, licenceId, 'active', null);
      await relay.run();
      expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({
        status: 'awaitingPayment',
        hold: null,
      });
      expect(await heldAudits(payout.id)).toBe(0);
      expect((await trade.payouts.cancel(maker(), payout.id)).status).toBe('cancelled');
    });

    it('leaves a batch that may be out to the broadcaster, which asks the chain first', async () => {
      const { trade, registry, maker, supervisor, licenceId, platformId, approve, request } = s;
      const payout = await request(await s.supplierAddress());
      await approve(payout.id);
      const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
      // Signed, then the node refuses the broadcast: one attempt made, the batch waits, in transit.
      s.faults.broadcast = true;
      expect((await s.signAndSubmit(batch.id)).status).toBe('signed');
      s.faults.broadcast = false;
      await registry.changeLicenceStatus(supervisor, licenceId, 'suspended', 'inspection findings');
      await relay.run();
      expect((await trade.payouts.get(maker(), payout.id)).status).toBe('inProgress');
      expect((await trade.payouts.getBatch(maker(), batch.id)).status).toBe('signed');
      // The broadcaster's own check (the chain has not got it) holds it before the next send.
      await trade.payouts.resume();
      expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({
        status: 'held',
        hold: { step: 'broadcast' },
      });
      expect(s.simnet.mempoolTxids()).toEqual([]);
      expect(await s.inTransit()).toBe(0n);
      await registry.changeLicenceStatus(supervisor, licenceId, 'active', null);
      await relay.run();
    });

    it('holds the payout whose address an activated list names, and only that one', async () => {
      const { trade, maker, approve, request, listAddresses } = s;
      const address = await s.supplierAddress();
      const listed = await request(address);
      await approve(listed.id);
      // The other company's payout to the other supplier: the list names none of its parties.
      const clean = await trade.payouts.create(maker(), {
        contractId: s.otherContractId,
        amount: '200000',
        address: await s.supplierAddress(s.otherSupplierId),
        travelRule: OTHER_OUTBOUND,
      });
      await approve(clean.id);
      await listAddresses([address]);
      await relay.run();
      const held = await trade.payouts.get(maker(), listed.id);
      expect(held).toMatchObject({ status: 'held', hold: { step: 'batching' } });
      expect(held.hold!.outcome).not.toBe('allow');
      expect(held.hold!.decisionId).toMatch(/^dec/);
      expect(await trade.payouts.get(maker(), clean.id)).toMatchObject({
        status: 'awaitingPayment',
        hold: null,
      });
      await relay.run();
      expect(await heldAudits(listed.id)).toBe(1);
      // Another version of the list, not naming it: the clean one still waits, the held one stays.
      await listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
      await relay.run();
      expect((await trade.payouts.get(maker(), clean.id)).status).toBe('awaitingPayment');
      expect((await trade.payouts.get(maker(), listed.id)).status).toBe('held');
      for (const id of [listed.id, clean.id])
        expect((await trade.payouts.cancel(maker(), id)).status).toBe('cancelled');
      expect(await verifyAuditChain(s.db.orm)).toMatchObject({ ok: true });
    });
  },
);

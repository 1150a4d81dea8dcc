import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../audit';
import type { AppError } from '../kernel';
import type { GateStep } from './lifecycle';
import { tradeWebhookOutbox } from './schema';
import { TEST_DRIVERS } from '../../test/support/db';
import {
  OTHER_OUTBOUND,
  openPayoutControls,
  type PayoutControls,
} from '../../test/support/payout-controls';

/**
 * A payout stopped at every step after its approval (approval, batching, signing, broadcast)
 * when a licence is suspended, a KYC expires or a party is listed: held, never broadcast, its
 * funds back from in transit, and the other payouts of its batch sent without it (issue 11).
 */
describe.each(TEST_DRIVERS)('controls at every step of a payout on %s', (driver) => {
  let s: PayoutControls;
  beforeAll(async () => {
    s = await openPayoutControls(driver);
  });
  afterAll(async () => s.db.close());

  const causes: {
    name: string;
    apply: (address: string) => Promise<unknown>;
    undo: () => Promise<unknown>;
  }[] = [
    {
      name: 'a licence suspended',
      apply: () =>
        s.registry.changeLicenceStatus(
          s.supervisor,
          s.licenceId,
          'suspended',
          'inspection findings',
        ),
      undo: () => s.registry.changeLicenceStatus(s.supervisor, s.licenceId, 'active', null),
    },
    {
      name: 'a KYC expired',
      apply: () => s.registry.setKyc(s.supervisor, s.companyId, s.kyc('expired')),
      undo: () => s.registry.setKyc(s.supervisor, s.companyId, s.kyc('verified')),
    },
    {
      name: 'a party listed (a list snapshot naming its address)',
      apply: (address) => s.listAddresses([address]),
      undo: () => s.listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']),
    },
  ];
  const steps: GateStep[] = ['approval', 'batching', 'signing', 'broadcast'];

  for (const cause of causes) {
    for (const step of steps) {
      it(`stops the payout at ${step} after ${cause.name}: held, never broadcast`, async () => {
        const {
          db,
          simnet,
          faults,
          compliance,
          ledger,
          trade,
          watcher,
          platformId,
          otherCompanyId,
          otherSupplierId,
          otherContractId,
          supervisor,
          maker,
          alice,
          bob,
          minerPay,
          supplierAddress,
          request,
          approve,
          inTransit,
          signAndSubmit,
        } = s;
        const listing = cause.name.startsWith('a party listed');
        const address = await supplierAddress();
        const payout = await request(address);
        // A payout of the other company to the other supplier, in the same batch: a listing of
        // the first supplier's address leaves it clean (a suspended licence or the first
        // company's expired KYC would not, so it rides along only with a listing).
        const companion =
          listing && (step === 'signing' || step === 'broadcast')
            ? await trade.payouts.create(maker(), {
                contractId: otherContractId,
                amount: '200000',
                address: await supplierAddress(otherSupplierId),
                travelRule: OTHER_OUTBOUND,
              })
            : null;
        let refused: unknown = null;
        let batchId: string | null = null;
        if (step === 'approval') {
          await trade.payouts.approve(alice(), payout.id);
          await cause.apply(address);
          refused = await trade.payouts.approve(bob(), payout.id).catch((e: unknown) => e);
        } else {
          await approve(payout.id);
          if (companion) await approve(companion.id);
          if (step === 'batching') {
            await cause.apply(address);
            expect(await trade.payouts.runBatch(maker(), platformId, { force: true })).toBeNull();
          } else {
            const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
            expect(batch.status).toBe('awaitingSignature');
            batchId = batch.id;
            if (step === 'signing') {
              await cause.apply(address);
              refused = await signAndSubmit(batch.id).catch((e: unknown) => e);
            } else {
              // Signed, then the node refuses the broadcast: the batch waits, in transit.
              faults.broadcast = true;
              expect((await signAndSubmit(batch.id)).status).toBe('signed');
              faults.broadcast = false;
              expect(await inTransit()).toBeGreaterThan(0n);
              await cause.apply(address);
              await trade.payouts.resume();
            }
          }
        }
        const held = await trade.payouts.get(maker(), payout.id);
        expect(held).toMatchObject({ status: 'held', batchId: null, hold: { step } });
        expect(held.hold!.outcome).not.toBe('allow');
        expect(held.hold!.reasons.length).toBeGreaterThan(0);
        expect(held.hold!.decisionId).toMatch(/^dec/);
        if (refused !== null) {
          // The caller gets a reference, not the rules behind it (no tipping-off).
          expect(refused).toMatchObject({
            code: 'TRANSFER_BLOCKED',
            details: { payoutId: payout.id, reference: held.hold!.decisionId },
          });
          const message = (refused as AppError).message;
          expect(message).toContain(held.hold!.decisionId!);
          for (const reason of held.hold!.reasons)
            expect(message).not.toContain(reason.split(':')[0]!);
        }
        if (batchId) {
          expect((await trade.payouts.getBatch(maker(), batchId)).status).toBe('abandoned');
        }
        if (companion) {
          expect(await trade.payouts.get(maker(), companion.id)).toMatchObject({
            status: 'awaitingPayment',
            batchId: null,
            hold: null,
          });
        }
        // Nothing broadcast; funds back from in transit; the books and the audit chain hold.
        expect(simnet.mempoolTxids()).toEqual([]);
        expect(await inTransit()).toBe(0n);
        expect(await inTransit(otherCompanyId)).toBe(0n);
        expect(await ledger.trialBalance()).toBe(0n);
        expect(await verifyAuditChain(db.orm)).toMatchObject({ ok: true });
        // The platform's webhook (announced in the outbox, queued by trade's subscriber), and the
        // platform and supervisor see it held with its reasons.
        await trade.webhooks.drain();
        const events = await db.orm
          .select({ event: tradeWebhookOutbox.event })
          .from(tradeWebhookOutbox)
          .where(eq(tradeWebhookOutbox.entityId, payout.id));
        expect(events.map((e) => e.event)).toContain('payout.held');
        expect(
          (await trade.payouts.list(maker(), { status: 'held' })).items.map((p) => p.id),
        ).toContain(payout.id);
        expect((await trade.payouts.get(supervisor, payout.id)).hold).toEqual(held.hold);
        // The step's decision is compliance's, kept under the payout's id.
        const { items: decisions } = await compliance.decisions.list(supervisor, {
          transferId: payout.id,
        });
        expect(decisions.map((d) => d.id)).toContain(held.hold!.decisionId);
        if (companion) {
          // The other payout goes back to be batched again, alone, and is sent.
          const again = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
          expect(again.payoutIds).toEqual([companion.id]);
          const sent = await signAndSubmit(again.id);
          expect(sent.status).toBe('broadcast');
          expect(simnet.mempoolTxids()).toEqual([sent.txid]);
          await simnet.mine(1, minerPay.address!);
          await watcher.syncOnce();
          expect((await trade.payouts.get(maker(), companion.id)).status).toBe('completed');
          expect(await inTransit(otherCompanyId)).toBe(0n);
          expect(await ledger.trialBalance()).toBe(0n);
          expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({ status: 'held' });
        }
        await cause.undo();
        // A held payout can be cancelled; it never moves on by itself.
        expect((await trade.payouts.cancel(maker(), payout.id)).status).toBe('cancelled');
      });
    }
  }

  // A process that sent a batch and stopped before it recorded the send (a kill, or a pause
  // while another server goes on): the announcement is recorded once, by whoever learns of it
  // first, and a transaction that is out is never abandoned.
  const sentThenStopped = async () => {
    const { trade, faults, simnet, maker, approve, request, platformId, signAndSubmit } = s;
    const address = await s.supplierAddress();
    const payout = await request(address);
    await approve(payout.id);
    const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
    let resume!: () => void;
    faults.stallAfterSend = new Promise<void>((r) => (resume = r));
    const submitted = signAndSubmit(batch.id);
    while (simnet.mempoolTxids().length === 0) await new Promise((r) => setTimeout(r, 5));
    faults.stallAfterSend = null;
    const [txid] = simnet.mempoolTxids();
    expect((await trade.payouts.getBatch(maker(), batch.id)).status).toBe('signed');
    return { payout, batchId: batch.id, address, txid: txid!, submitted, resume };
  };
  const audited = async (batchId: string, action: string) =>
    (await listAuditEvents(s.db.orm, { entityId: batchId, action })).items.length;
  const announcements = (batchId: string) => audited(batchId, 'batch.broadcast');

  it('records a send the sender did not, when the block shows it, and once', async () => {
    const { trade, simnet, watcher, maker, minerPay, ledger } = s;
    const { payout, batchId, txid, submitted, resume } = await sentThenStopped();
    await simnet.mine(1, minerPay.address!);
    await watcher.syncOnce();
    expect(await trade.payouts.getBatch(maker(), batchId)).toMatchObject({
      status: 'completed',
      txid,
    });
    expect(await announcements(batchId)).toBe(1);
    // The stopped sender goes on: it finds the batch moved on and changes nothing.
    resume();
    await submitted;
    expect((await trade.payouts.getBatch(maker(), batchId)).status).toBe('completed');
    expect(await announcements(batchId)).toBe(1);
    expect((await trade.payouts.get(maker(), payout.id)).status).toBe('completed');
    expect(await ledger.trialBalance()).toBe(0n);
    expect(await verifyAuditChain(s.db.orm)).toMatchObject({ ok: true });
  });

  it('never abandons a batch that is out, though a check fails after the send', async () => {
    const { trade, simnet, watcher, maker, minerPay, ledger, listAddresses } = s;
    const { payout, batchId, address, txid } = await sentThenStopped();
    // The sender is gone (its call never returns); the address is listed; a restart resumes.
    await listAddresses([address]);
    expect(await trade.payouts.resume()).toContain(batchId);
    const after = await trade.payouts.getBatch(maker(), batchId);
    expect(after).toMatchObject({ status: 'broadcast', txid });
    expect(await announcements(batchId)).toBe(1);
    expect(await audited(batchId, 'batch.checkFailedAfterBroadcast')).toBe(1);
    await simnet.mine(1, minerPay.address!);
    await watcher.syncOnce();
    expect((await trade.payouts.get(maker(), payout.id)).status).toBe('completed');
    expect(await ledger.trialBalance()).toBe(0n);
    await listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents, verifyAuditChain } from '../audit';
import { OPERATOR_ACTOR, type Caller } from '../kernel';
import { TEST_DRIVERS } from '../../test/support/db';
import {
  OTHER_OUTBOUND,
  openPayoutControls,
  type PayoutControls,
} from '../../test/support/payout-controls';
import { tradeWebhookOutbox } from './schema';
import { eq } from 'drizzle-orm';

/**
 * A held payout released once what held it cleared (Known gap 12): every check runs again at the
 * release, by an officer of its platform who is not its maker; a sanctions hold is never released
 * this way; two releases at once make one transition and one decision.
 */
describe.each(TEST_DRIVERS)('releasing a held payout on %s', (driver) => {
  let s: PayoutControls;
  beforeAll(async () => {
    s = await openPayoutControls(driver);
  });
  afterAll(async () => s.db.close());

  const suspend = () =>
    s.registry.changeLicenceStatus(s.supervisor, s.licenceId, 'suspended', 'inspection findings');
  const reinstate = () => s.registry.changeLicenceStatus(s.supervisor, s.licenceId, 'active', null);
  const decisions = async (payoutId: string) =>
    (await s.compliance.decisions.list(s.supervisor, { transferId: payoutId })).items.length;
  const audited = async (payoutId: string, action: string) =>
    (await listAuditEvents(s.db.orm, { entityId: payoutId, action })).items.length;
  const refusal = (p: Promise<unknown>) =>
    p.then(
      () => null,
      (e: unknown) => e,
    );

  /** An approved payout held at batching while the platform's licence is suspended. */
  const heldOnLicence = async () => {
    const payout = await s.request(await s.supplierAddress());
    await s.approve(payout.id);
    await suspend();
    expect(await s.trade.payouts.runBatch(s.maker(), s.platformId, { force: true })).toBeNull();
    const held = await s.trade.payouts.get(s.maker(), payout.id);
    expect(held).toMatchObject({ status: 'held', hold: { step: 'batching' } });
    expect(held.hold!.reasons.map((r) => r.split(':')[0])).toEqual(['LICENCE_NOT_ACTIVE']);
    return held;
  };

  it('refuses while the licence is still suspended, then releases, batches and pays it', async () => {
    const { trade, maker, alice, platformId, signAndSubmit, simnet, watcher, minerPay } = s;
    const held = await heldOnLicence();
    const before = await decisions(held.id);
    // Still suspended: the checks run again, a new decision is recorded, and it stays held.
    const refused = await refusal(trade.payouts.release(alice(), held.id));
    const still = await trade.payouts.get(maker(), held.id);
    expect(still).toMatchObject({ status: 'held', hold: { step: 'release' } });
    expect(refused).toMatchObject({
      code: 'HOLD_NOT_CLEARED',
      details: { payoutId: held.id, reference: still.hold!.decisionId },
    });
    expect((refused as Error).message).not.toContain('LICENCE_NOT_ACTIVE');
    expect(await decisions(held.id)).toBe(before + 1);
    expect(await audited(held.id, 'payout.released')).toBe(0);

    await reinstate();
    const released = await trade.payouts.release(alice(), held.id);
    // It had its quorum: back in the queue for the next batch, the hold gone.
    expect(released).toMatchObject({ status: 'awaitingPayment', hold: null, batchId: null });
    expect(await decisions(held.id)).toBe(before + 2);
    const [event] = (
      await listAuditEvents(s.db.orm, { entityId: held.id, action: 'payout.released' })
    ).items;
    expect(event!.actor).toBe('key_alice');
    expect(event!.after).toMatchObject({
      status: 'awaitingPayment',
      releasedByPerson: 'usr_alice',
      releasedHold: { step: 'release' },
      gate: { step: 'release' },
    });
    await trade.webhooks.drain();
    const events = await s.db.orm
      .select({ event: tradeWebhookOutbox.event })
      .from(tradeWebhookOutbox)
      .where(eq(tradeWebhookOutbox.entityId, held.id));
    expect(events.map((e) => e.event)).toContain('payout.released');

    // Batched (the batching check again), signed, sent and confirmed on simnet.
    const batch = (await trade.payouts.runBatch(maker(), platformId, { force: true }))!;
    expect(batch.payoutIds).toEqual([held.id]);
    const sent = await signAndSubmit(batch.id);
    expect(sent.status).toBe('broadcast');
    expect(simnet.mempoolTxids()).toEqual([sent.txid]);
    await simnet.mine(1, minerPay.address!);
    await watcher.syncOnce();
    expect((await trade.payouts.get(maker(), held.id)).status).toBe('completed');
    expect(await s.inTransit()).toBe(0n);
    expect(await s.ledger.trialBalance()).toBe(0n);
    expect(await verifyAuditChain(s.db.orm)).toMatchObject({ ok: true });
  });

  it('sends a payout held before its quorum back to approval', async () => {
    const { trade, maker, alice, bob } = s;
    const payout = await s.request(await s.supplierAddress());
    await trade.payouts.approve(alice(), payout.id);
    await s.registry.setKyc(s.supervisor, s.companyId, s.kyc('expired'));
    await refusal(trade.payouts.approve(bob(), payout.id));
    expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({
      status: 'held',
      hold: { step: 'approval' },
    });
    await s.registry.setKyc(s.supervisor, s.companyId, s.kyc('verified'));
    const released = await trade.payouts.release(bob(), payout.id);
    expect(released).toMatchObject({ status: 'awaitingApproval', hold: null });
    expect(await audited(payout.id, 'payout.releasedToApproval')).toBe(1);
    // Alice's approval stands; Bob's makes the quorum.
    expect((await trade.payouts.approve(bob(), payout.id)).status).toBe('awaitingPayment');
    expect((await trade.payouts.cancel(maker(), payout.id)).status).toBe('cancelled');
  });

  it('is refused to the wrong tenant, the wrong role, the maker and the operator channel', async () => {
    const { trade, maker, platformId, companyId } = s;
    const held = await heldOnLicence();
    await reinstate();
    const base = { requestId: null };
    const otherPlatform: Caller = {
      ...base,
      role: 'platform',
      participantId: 'prt_other',
      platformId: 'prt_other',
      actorId: 'key_other',
      personId: 'usr_other',
    };
    const company: Caller = {
      ...base,
      role: 'company',
      participantId: companyId,
      platformId,
      actorId: 'key_company',
      personId: 'usr_company',
    };
    const operator: Caller = { ...s.alice(), actorId: OPERATOR_ACTOR, personId: OPERATOR_ACTOR };
    const before = await decisions(held.id);
    // Another platform's officer learns nothing: the same answer as for a payout that does not exist.
    const foreign = await refusal(trade.payouts.release(otherPlatform, held.id));
    const missing = await refusal(trade.payouts.release(otherPlatform, 'pay_missing'));
    expect(foreign).toMatchObject({ code: 'PAYOUT_NOT_FOUND' });
    expect((foreign as Error).message).toBe(
      (missing as Error).message.replace('pay_missing', held.id),
    );
    expect(await refusal(trade.payouts.release(company, held.id))).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await refusal(trade.payouts.release(s.supervisor, held.id))).toMatchObject({
      code: 'FORBIDDEN',
    });
    expect(await refusal(trade.payouts.release(operator, held.id))).toMatchObject({
      code: 'FORBIDDEN',
    });
    // The maker, with another credential of the same person too.
    expect(await refusal(trade.payouts.release(maker(), held.id))).toMatchObject({
      code: 'SELF_APPROVAL',
    });
    expect(
      await refusal(trade.payouts.release(s.officer('ses_maker', 'usr_maker'), held.id)),
    ).toMatchObject({ code: 'SELF_APPROVAL' });
    // Nothing changed: still held, no decision taken.
    expect((await trade.payouts.get(maker(), held.id)).status).toBe('held');
    expect(await decisions(held.id)).toBe(before);
    expect((await trade.payouts.cancel(maker(), held.id)).status).toBe('cancelled');
    // Not held (any more): nothing to release.
    expect(await refusal(trade.payouts.release(s.alice(), held.id))).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
  });

  it('never releases a hold for a sanctions match, though the list changed', async () => {
    const { trade, maker, alice, platformId, listAddresses } = s;
    const address = await s.supplierAddress();
    const payout = await s.request(address);
    await s.approve(payout.id);
    await listAddresses([address]);
    expect(await trade.payouts.runBatch(maker(), platformId, { force: true })).toBeNull();
    const held = await trade.payouts.get(maker(), payout.id);
    expect(held.hold!.reasons.map((r) => r.split(':')[0])).toContain('SANCTIONS_ADDRESS_MATCH');
    // The entry gone from the active list: still not this action's to release.
    await listAddresses(['12QtD5BFwRsdNsAZY76UVE1xyCGNTojH9h']);
    const before = await decisions(payout.id);
    const refused = await refusal(trade.payouts.release(alice(), payout.id));
    expect(refused).toMatchObject({
      code: 'HOLD_NOT_RELEASABLE',
      details: { payoutId: payout.id, reference: held.hold!.decisionId },
    });
    expect((refused as Error).message).not.toContain('SANCTIONS');
    expect(await trade.payouts.get(maker(), payout.id)).toMatchObject({
      status: 'held',
      hold: held.hold,
    });
    expect(await decisions(payout.id)).toBe(before);
    // Nor does the automatic re-evaluation after a licence change touch it.
    expect(await trade.payouts.releaseLicenceHolds(platformId)).toEqual({
      released: [],
      stillHeld: [],
    });
    expect((await trade.payouts.cancel(maker(), payout.id)).status).toBe('cancelled');
  });

  it('makes one transition and one decision of two releases at once', async () => {
    const { trade, maker, alice, bob } = s;
    const held = await heldOnLicence();
    await reinstate();
    const before = await decisions(held.id);
    const results = await Promise.allSettled([
      trade.payouts.release(alice(), held.id),
      trade.payouts.release(bob(), held.id),
    ]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({
      code: 'INVALID_STATE_TRANSITION',
    });
    expect(await audited(held.id, 'payout.released')).toBe(1);
    expect(await decisions(held.id)).toBe(before + 1);
    expect((await trade.payouts.get(maker(), held.id)).status).toBe('awaitingPayment');
    expect((await trade.payouts.cancel(maker(), held.id)).status).toBe('cancelled');
  });

  it('re-evaluates the holds of a suspended licence alone once it is active again', async () => {
    const { trade, maker, platformId, otherCompanyId } = s;
    const onLicence = await heldOnLicence();
    await reinstate();
    // The other company's payout, held on its expired KYC as well as the licence: not released.
    const other = await trade.payouts.create(maker(), {
      contractId: s.otherContractId,
      amount: '200000',
      address: await s.supplierAddress(s.otherSupplierId),
      travelRule: OTHER_OUTBOUND,
    });
    await s.approve(other.id);
    await s.registry.setKyc(s.supervisor, otherCompanyId, s.kyc('expired'));
    await suspend();
    expect(await trade.payouts.runBatch(maker(), platformId, { force: true })).toBeNull();
    const mixed = await trade.payouts.get(maker(), other.id);
    expect(mixed.status).toBe('held');
    expect(new Set(mixed.hold!.reasons.map((r) => r.split(':')[0]))).toEqual(
      new Set(['LICENCE_NOT_ACTIVE', 'KYC_NOT_VERIFIED']),
    );
    // Still suspended: decided again, still held.
    expect(await trade.payouts.releaseLicenceHolds(platformId)).toEqual({
      released: [],
      stillHeld: [onLicence.id],
    });
    await reinstate();
    expect(await trade.payouts.releaseLicenceHolds(platformId)).toEqual({
      released: [onLicence.id],
      stillHeld: [],
    });
    expect(await audited(onLicence.id, 'payout.released')).toBe(1);
    expect((await trade.payouts.get(maker(), onLicence.id)).status).toBe('awaitingPayment');
    expect((await trade.payouts.get(maker(), other.id)).status).toBe('held');
    await s.registry.setKyc(s.supervisor, otherCompanyId, s.kyc('verified'));
    for (const id of [onLicence.id, other.id])
      expect((await trade.payouts.cancel(maker(), id)).status).toBe('cancelled');
  });
});

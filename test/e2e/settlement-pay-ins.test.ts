import * as bitcoinjs from 'bitcoinjs-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../src/audit';
import { LocalKeySigner } from '../../src/bitcoin';
import {
  FROZEN_PAY_IN_RULE,
  HELD_PAY_IN_RULE,
  SettlementWindowService,
  type PayInView,
  type WindowView,
} from '../../src/clearing';
import { AppError, OPERATOR_ACTOR, systemCaller, type Caller } from '../../src/kernel';
import { schemeConfirmationDepth } from '../../src/trade';
import { TEST_DRIVERS } from '../support/db';
import {
  caller,
  openScheme,
  regtest,
  regtestKey,
  supervisor,
  type Scheme,
} from '../support/scheme';

/**
 * Settlement-window pay-ins as the clearing counts them (issue 13), on simnet with the real
 * watcher and compliance's address screening: a bitcoin pay-in counts only at the scheme's
 * confirmation depth (the supervisor's floor raised to 2 here), and only once the addresses
 * paying it pass address screening; one paid from a listed address is held and does not count,
 * and the platform sees only that it is held. A reorganization takes a pay-in back: out of its
 * block it awaits again, below the depth it confirms again.
 */

const M = 1_000_000n;
const listed = regtestKey(31);
/** A second supervisor (another person), and the first one's other credential. */
const supervisorB = caller('supervisor', 'system', 'key_supervisor_b', null);
const supervisorOtherKey: Caller = { ...supervisor, actorId: 'key_supervisor_a_2' };

describe.each(TEST_DRIVERS)('settlement-window pay-ins (%s)', (driver) => {
  let s: Scheme;
  let windows: SettlementWindowService;
  let B = '';
  let hour = 10;

  /**
   * The open window closed at its cut-off, with `sats` owed by the scheme's platform to B and
   * `pesos` owed by B to the scheme's platform.
   */
  async function closedWindow(sats: bigint, pesos = 0n): Promise<WindowView> {
    const owed: { from: string; to: string; asset: string; amount: bigint }[] = [];
    if (sats > 0n) owed.push({ from: s.platformId, to: B, asset: 'BTC', amount: sats });
    if (pesos > 0n) owed.push({ from: B, to: s.platformId, asset: 'COP', amount: pesos });
    for (const o of owed)
      await s.db.transaction((tx) =>
        windows.record(
          { source: 'transfer', sourceId: `trf_${hour}_${o.asset}`, ...o, at: s.clock.now() },
          tx,
        ),
      );
    s.clock.set(`2026-07-01T${String(hour).padStart(2, '0')}:00:01Z`);
    hour += 1;
    const [closed] = (await windows.runDue()).closed;
    return windows.getWindow(supervisor, closed!);
  }

  async function payInOf(windowId: string, as = supervisor, asset = 'BTC'): Promise<PayInView> {
    const payIn = (await windows.listPayIns(as, windowId)).items.find((p) => p.asset === asset);
    return payIn!;
  }

  async function refusal(run: Promise<unknown>): Promise<AppError> {
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  const actions = async (id: string) =>
    (await listAuditEvents(s.db.orm, { entityId: id }, { limit: 100 })).items
      .map((e) => e.action)
      .reverse();

  const holding = async (windowId: string) =>
    (await windows.reconcile(supervisor, windowId)).balances.find(
      (b) => b.account === 'holding' && b.asset === 'BTC',
    )?.balance ?? 0n;

  beforeAll(async () => {
    s = await openScheme({ seed: 47, driver });
    const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(78), 'regtest');
    const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
    windows = new SettlementWindowService({
      db: s.db,
      clock: s.clock,
      network: 'regtest',
      payInDescriptor: `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/<0;1>/*)`,
      confirmationDepth: schemeConfirmationDepth,
      addressScreening: s.compliance.screening,
    });
    await s.watcher.registerConsumer(windows.chainConsumer());
    B = (
      await s.registry.registerParticipant(supervisor, {
        kind: 'platform',
        legalName: 'Medellin Custodia SAS',
        country: 'CO',
      })
    ).id;
    s.clock.set('2026-07-01T09:10:00Z');
    await windows.setSchedule(supervisor, {
      periodMinutes: 60,
      payInMinutes: 30,
      reason: 'hourly windows, pay-in within 30 minutes',
    });
    // The scheme's confirmation depth: the supervisor's floor, 2 (trade's default is 1).
    await s.trade.updateFloors(supervisor, { minConfirmations: 2 });
  }, 180_000);

  afterAll(async () => {
    await s?.db.close();
  });

  it("counts a bitcoin pay-in only at the scheme's confirmation depth", async () => {
    const window = await closedWindow(10n * M);
    const due = await payInOf(window.id);
    const paid = await s.payFromMiner(due.address!, due.amountDue);
    await s.mine(1);
    expect(await payInOf(window.id)).toMatchObject({ status: 'confirming', txid: paid.getId() });
    expect(await holding(window.id)).toBe(0n);
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('closed');
    await s.mine(1);
    expect(await payInOf(window.id)).toMatchObject({ status: 'received', txid: paid.getId() });
    expect(await holding(window.id)).toBe(0n); // paid out again: the window settled
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('settled');
    expect(await actions(due.id)).toEqual(['settlement_pay_in.seen', 'settlement_pay_in.received']);
  }, 120_000);

  it('holds a pay-in from a listed address: it does not count, and the platform learns only that it is held', async () => {
    // A wallet funded by the miner, whose address a sanctions list then names.
    const funding = await s.payFromMiner(listed.address, 20n * M);
    await s.mine(1);
    await s.compliance.screening.importList(supervisor, {
      format: 'address-list',
      asset: 'XBT',
      bytes: new TextEncoder().encode(`# test list\n${listed.address}\n`),
    });
    const window = await closedWindow(10n * M);
    const due = await payInOf(window.id);
    expect(due.amountDue).toBe(10n * M);
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: funding.getId(),
      index: 0,
      witnessUtxo: { script: listed.output, value: 20n * M },
    });
    psbt.addOutput({ address: due.address!, value: 10n * M });
    psbt.addOutput({ address: listed.address, value: 10n * M - 2_000n });
    psbt.signAllInputs(listed.key);
    psbt.finalizeAllInputs();
    await s.source.broadcast(psbt.extractTransaction().toBuffer());
    await s.mine(1);
    expect((await payInOf(window.id)).status).toBe('confirming');
    await s.mine(1);
    const held = await payInOf(window.id);
    expect(held.status).toBe('held');
    expect(await holding(window.id)).toBe(0n);
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('closed');
    expect(await actions(due.id)).toEqual(['settlement_pay_in.seen', 'settlement_pay_in.held']);
    // In the same transaction a screening alert (critical) went into the paying platform's case,
    // naming the listed address, for the supervisor's usual alerts list.
    const alerts = (
      await s.compliance.cases.alerts(supervisor, { partyId: s.platformId }, { limit: 500 })
    ).items.filter((a) => a.rule === HELD_PAY_IN_RULE);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ kind: 'screening', severity: 'critical' });
    expect(alerts[0]!.message).toContain(due.id);
    expect(alerts[0]!.message).toContain(listed.address);
    const heldEvent = (await listAuditEvents(s.db.orm, { entityId: due.id }, { limit: 10 }))
      .items[0]!;
    expect(heldEvent.after).toMatchObject({
      alertId: alerts[0]!.id,
      caseId: alerts[0]!.caseId,
      heldReason: 'listMatch',
    });
    // The supervisor sees why: a list match, with the alert and its case.
    expect(held.hold).toEqual({
      reason: 'listMatch',
      alertId: alerts[0]!.id,
      caseId: alerts[0]!.caseId,
    });
    // The platform's own view says held, and nothing of the screening.
    const own = await payInOf(window.id, s.maker);
    expect(own).toMatchObject({ status: 'held', hold: null });
    const text = JSON.stringify(own, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v));
    expect(text).not.toContain(listed.address);
    expect(text).not.toMatch(/match|list|screen/i);
    // Only the supervisor decides it, and only a held pay-in is decided.
    const reason = 'reviewed: the listed wallet is the payer, returned under the sanctions rules';
    expect(
      (
        await refusal(
          windows.decideHeldPayIn(s.maker, window.id, due.id, { decision: 'accept', reason }),
        )
      ).code,
    ).toBe('FORBIDDEN');
    expect(
      (
        await refusal(
          windows.decideHeldPayIn(systemCaller(OPERATOR_ACTOR), window.id, due.id, {
            decision: 'accept',
            reason,
          }),
        )
      ).code,
    ).toBe('FORBIDDEN');
    expect(
      (
        await refusal(
          windows.decideHeldPayIn(supervisor, window.id, due.id, {
            decision: 'accept',
            reason: 'ok',
          }),
        )
      ).code,
    ).toBe('VALIDATION_FAILED');
    // The supervisor's loop report shows it as stuck, with the window unpaid.
    const loop = await s.clearing.loop(supervisor, {
      from: new Date('2026-07-01T00:00:00Z'),
      to: new Date('2026-07-02T00:00:00Z'),
    });
    expect(loop.stuck.items).toContainEqual(
      expect.objectContaining({ kind: 'heldPayIn', id: due.id, partyId: s.platformId }),
    );
    expect(loop.netted.windows.find((w) => w.id === window.id)).toBeDefined();
    expect(loop.stuck.unpaidWindows).toBeGreaterThan(0);
    // At the deadline the platform is taken out, as if it had not paid in.
    s.clock.set(new Date(window.payInDeadline!.getTime() + 1_000).toISOString());
    expect((await windows.runDue()).settled).toEqual([window.id]);
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('settled');
    const positions = (await windows.listPositions(supervisor, window.id)).items;
    expect(positions.find((p) => p.platformId === s.platformId)?.status).toBe('takenOut');
    expect((await windows.reconcile(supervisor, window.id)).balanced).toBe(true);
    // Settled without it, it can no longer count: the supervisor rejects it, and as a listed
    // address paid it, its coins are frozen (to be reported), not returned.
    const late = await refusal(
      windows.decideHeldPayIn(supervisor, window.id, due.id, { decision: 'accept', reason }),
    );
    expect(late.code).toBe('WINDOW_ALREADY_SETTLED');
    const rejected = await windows.decideHeldPayIn(supervisor, window.id, due.id, {
      decision: 'reject',
      reason,
    });
    const caseId = alerts[0]!.caseId;
    expect(rejected).toMatchObject({
      status: 'frozen',
      decision: { decision: 'reject', reason, decidedBy: supervisor.personId, caseId },
    });
    // A critical alert for the report, in the same case; the decision noted on the case.
    const frozenAlerts = (
      await s.compliance.cases.alerts(supervisor, { partyId: s.platformId }, { limit: 500 })
    ).items.filter((a) => a.rule === FROZEN_PAY_IN_RULE);
    expect(frozenAlerts).toHaveLength(1);
    expect(frozenAlerts[0]).toMatchObject({ kind: 'screening', severity: 'critical', caseId });
    expect(frozenAlerts[0]!.message).toContain(due.id);
    const noted = (await s.compliance.cases.get(supervisor, caseId)).notes.at(-1);
    expect(noted?.text).toContain(due.id);
    expect(noted?.text).toContain('frozen (a sanctions list match)');
    const frozenEvent = (
      await listAuditEvents(
        s.db.orm,
        { entityId: due.id, action: 'settlement_pay_in.frozen' },
        { limit: 1 },
      )
    ).items[0]!;
    expect(frozenEvent.after).toMatchObject({
      toReturn: false,
      caseId,
      caseNoted: true,
      frozenAlertId: frozenAlerts[0]!.id,
    });
    // Settled already: the due is not reopened.
    expect((await windows.listPayIns(supervisor, window.id)).items).toHaveLength(1);
    expect(
      (
        await refusal(
          windows.decideHeldPayIn(supervisorB, window.id, due.id, { decision: 'reject', reason }),
        )
      ).code,
    ).toBe('PAY_IN_NOT_HELD');
    expect(await actions(due.id)).toEqual([
      'settlement_pay_in.seen',
      'settlement_pay_in.held',
      'settlement_pay_in.frozen',
    ]);
    expect(await holding(window.id)).toBe(0n);
    expect((await windows.reconcile(supervisor, window.id)).balanced).toBe(true);
    // The platform learns the closed outcome, not the supervisor's reason nor the list entry:
    // to it a frozen pay-in reads as rejected, like one returned (no tipping off).
    const ownFrozen = await payInOf(window.id, s.maker);
    expect(ownFrozen).toMatchObject({ status: 'rejected', decision: null, hold: null });
    const ownText = JSON.stringify(ownFrozen, (_k, v: unknown) =>
      typeof v === 'bigint' ? `${v}` : v,
    );
    expect(ownText).not.toContain(listed.address);
    expect(ownText).not.toMatch(/match|list|screen|cas_|alr_/i);
  }, 120_000);

  it('takes a pay-in back when a reorganization takes its block or its depth away', async () => {
    // The held window's take-out rolled 10 M sats into this one: 20 M due. B owes pesos too,
    // so the window stays open while the bitcoin pay-in comes and goes.
    const window = await closedWindow(10n * M, 5n * M);
    const due = await payInOf(window.id);
    expect(due.amountDue).toBe(20n * M);
    const paid = await s.payFromMiner(due.address!, due.amountDue);
    await s.mine(2);
    expect((await payInOf(window.id)).status).toBe('received');
    expect(await holding(window.id)).toBe(20n * M);
    // Counted at 2 confirmations; the second block goes: 1 confirmation, confirming again.
    await s.simnet.invalidateBlock(s.simnet.tip().hash);
    await s.watcher.syncOnce();
    expect(await payInOf(window.id)).toMatchObject({ status: 'confirming', txid: paid.getId() });
    expect(await holding(window.id)).toBe(0n);
    // Its own block goes too: it awaits again.
    await s.simnet.invalidateBlock(s.simnet.tip().hash);
    await s.watcher.syncOnce();
    expect(await payInOf(window.id)).toMatchObject({ status: 'awaiting', txid: null });
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('closed');
    // The transaction is back in the mempool; the new branch confirms it twice: counted once.
    await s.mine(2);
    expect(await payInOf(window.id)).toMatchObject({ status: 'received', txid: paid.getId() });
    expect(await holding(window.id)).toBe(20n * M);
    const fiat = { amount: 5n * M, currency: 'COP', bankReference: 'BANREP-2026-07-01-0501' };
    await windows.confirmFiatPayIn(supervisor, window.id, B, fiat);
    await windows.confirmFiatPayIn(supervisorB, window.id, B, fiat);
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('settled');
    expect((await windows.reconcile(supervisor, window.id)).balanced).toBe(true);
    expect(await actions(due.id)).toEqual([
      'settlement_pay_in.seen',
      'settlement_pay_in.received',
      'settlement_pay_in.withdrawn',
      'settlement_pay_in.withdrawn',
      'settlement_pay_in.seen',
      'settlement_pay_in.received',
    ]);
  }, 120_000);
  it('counts a fiat pay-in only when a second person confirms the transfer one person recorded', async () => {
    const window = await closedWindow(0n, 7n * M);
    const due = await payInOf(window.id, supervisor, 'COP');
    const transfer = { amount: 7n * M, currency: 'COP', bankReference: 'BANREP-0601' };
    const recorded = await windows.confirmFiatPayIn(supervisor, window.id, B, transfer);
    expect(recorded).toMatchObject({
      status: 'awaiting',
      pendingConfirmation: { amount: 7n * M, bankReference: 'BANREP-0601' },
      bankReference: null,
    });
    // The second person sees that a record exists, by whom and when, but not what to type: the
    // amount and the reference come from the bank, not from the first person's record (nor
    // from the audit log, which keeps a digest until the confirmation).
    const seen = await payInOf(window.id, supervisorB, 'COP');
    expect(seen.pendingConfirmation).toEqual({
      recordedAt: recorded.pendingConfirmation!.recordedAt,
      recordedBy: supervisor.personId,
      amount: null,
      bankReference: null,
    });
    const officerB = caller('platform', B, 'key_officer_b', B);
    expect((await payInOf(window.id, officerB, 'COP')).pendingConfirmation).toMatchObject({
      recordedBy: null,
      amount: null,
      bankReference: null,
    });
    const audited = JSON.stringify(
      (await listAuditEvents(s.db.orm, { entityId: due.id }, { limit: 10 })).items,
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v),
    );
    expect(audited).toContain('settlement_pay_in.recorded');
    expect(audited).not.toContain('BANREP-0601');
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('closed');
    // The same person, with another credential: refused, nothing counted.
    const self = await refusal(
      windows.confirmFiatPayIn(supervisorOtherKey, window.id, B, transfer),
    );
    expect(self.code).toBe('SELF_APPROVAL');
    // Nor may the operator channel confirm it: it stands for the server's machine, not a person.
    const operator = await refusal(
      windows.confirmFiatPayIn(systemCaller(OPERATOR_ACTOR), window.id, B, transfer),
    );
    expect(operator.code).toBe('FORBIDDEN');
    // Another person reports another transfer: it replaces the record, counting nothing.
    const other = { ...transfer, bankReference: 'BANREP-0602' };
    expect(await windows.confirmFiatPayIn(supervisorB, window.id, B, other)).toMatchObject({
      status: 'awaiting',
      pendingConfirmation: { bankReference: 'BANREP-0602', recordedBy: supervisorB.personId },
    });
    expect((await payInOf(window.id, supervisor, 'COP')).pendingConfirmation).toMatchObject({
      recordedBy: supervisorB.personId,
      amount: null,
      bankReference: null,
    });
    expect((await refusal(windows.confirmFiatPayIn(supervisorB, window.id, B, other))).code).toBe(
      'SELF_APPROVAL',
    );
    // The first person confirms that one: it counts, and the window settles.
    const received = await windows.confirmFiatPayIn(supervisorOtherKey, window.id, B, other);
    expect(received).toMatchObject({
      status: 'received',
      bankReference: 'BANREP-0602',
      pendingConfirmation: null,
    });
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('settled');
    expect((await windows.reconcile(supervisor, window.id)).balanced).toBe(true);
    expect(await actions(due.id)).toEqual([
      'settlement_pay_in.recorded',
      'settlement_pay_in.recorded',
      'settlement_pay_in.received',
      'settlement_pay_in.confirmed',
    ]);
  }, 120_000);

  it('counts a held pay-in two supervisors accept (four eyes), with the reason, audited', async () => {
    // The listed wallet's change (from the held test's transaction) pays this window's pay-in.
    const window = await closedWindow(3n * M);
    const due = await payInOf(window.id);
    const funding = (
      await listAuditEvents(s.db.orm, { action: 'settlement_pay_in.frozen' }, { limit: 1 })
    ).items[0]!.after as { txid: string };
    const psbt = new bitcoinjs.Psbt({ network: regtest });
    psbt.addInput({
      hash: funding.txid,
      index: 1,
      witnessUtxo: { script: listed.output, value: 10n * M - 2_000n },
    });
    psbt.addOutput({ address: due.address!, value: 3n * M });
    psbt.addOutput({ address: listed.address, value: 7n * M - 4_000n });
    psbt.signAllInputs(listed.key);
    psbt.finalizeAllInputs();
    await s.source.broadcast(psbt.extractTransaction().toBuffer());
    await s.mine(2);
    expect((await payInOf(window.id)).status).toBe('held');
    expect(await holding(window.id)).toBe(0n);
    const reason = 'the analytics provider attributes the address to a delisted namesake';
    // Four eyes: one supervisor's accept is a proposal; the pay-in stays held, counting nothing.
    const proposed = await windows.decideHeldPayIn(supervisor, window.id, due.id, {
      decision: 'accept',
      reason,
    });
    expect(proposed.status).toBe('held');
    expect(await holding(window.id)).toBe(0n);
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('closed');
    const again = await refusal(
      windows.decideHeldPayIn(supervisor, window.id, due.id, { decision: 'accept', reason }),
    );
    expect(again.code).toBe('SELF_APPROVAL');
    const accepted = await windows.decideHeldPayIn(supervisorB, window.id, due.id, {
      decision: 'accept',
      reason,
    });
    expect(accepted).toMatchObject({
      status: 'received',
      decision: { decision: 'accept', reason, decidedBy: supervisorB.personId },
    });
    // It counted: the window settled with it and its books are at zero.
    expect((await windows.getWindow(supervisor, window.id)).status).toBe('settled');
    expect((await windows.reconcile(supervisor, window.id)).balanced).toBe(true);
    expect((await windows.payOutBatch(supervisor, window.id)).inputs.map((i) => i.payInId)).toEqual(
      [due.id],
    );
    expect(await actions(due.id)).toEqual([
      'settlement_pay_in.seen',
      'settlement_pay_in.held',
      'settlement_pay_in.acceptProposed',
      'settlement_pay_in.accepted',
      'settlement_pay_in.received',
    ]);
    expect((await payInOf(window.id, s.maker)).decision).toBeNull();
    // Both steps are noted on the held alert's case, which the decision names.
    const caseId = accepted.decision!.caseId!;
    expect(accepted.hold).toMatchObject({ reason: 'listMatch', caseId });
    const notes = (await s.compliance.cases.get(supervisor, caseId)).notes
      .map((n) => n.text)
      .filter((t) => t.includes(due.id));
    expect(notes).toHaveLength(2);
    expect(notes[0]).toContain('proposed to accept');
    expect(notes[1]).toContain(`accepted with ${supervisor.personId}`);
  }, 120_000);
});

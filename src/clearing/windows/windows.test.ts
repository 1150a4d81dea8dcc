import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../audit';
import { LocalKeySigner } from '../../bitcoin';
import type { Database } from '../../db';
import {
  AppError,
  ManualClock,
  SeededRandom,
  newId,
  parseRate,
  satsToFiat,
  systemCaller,
} from '../../kernel';
import { FixedRateSource, FixingService, RateService } from '../../ledger';
import { schemeConfirmationDepth } from '../../trade';
import { nextCutoff } from './schedule';
import type { ObligationInput } from './obligations';
import { SettlementWindowService } from './service';
import { HELD_PAY_IN_RULE } from './pay-ins';
import { recordedDigest } from './fiat';
import { feeShares } from './pay-outs';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';
import { addressScreening } from '../../../test/support/address-screening';

/**
 * Settlement windows on a real database, with hand-made blocks fed to the windows' chain
 * consumer in one transaction each, as the watcher does: a bitcoin pay-in found in a block,
 * taken back when the block is disconnected (its books entry reversed) and found again; bad
 * obligations and schedules refused whole.
 */

const supervisor = systemCaller('supervisor-test');
const signer = LocalKeySigner.fromSeed(new Uint8Array(32).fill(3), 'regtest');
const fingerprint = signer.fingerprint.toString(16).padStart(8, '0');
const DESCRIPTOR = `wpkh([${fingerprint}/84h/1h/0h]${signer.accountXpub("m/84'/1'/0'")}/0/*)`;
const hex = (n: number) => n.toString(16).padStart(64, '0');

describe('the cut-off', () => {
  it('is the next multiple of the period from midnight UTC, strictly after the time', () => {
    expect(nextCutoff(new Date('2026-07-01T09:10:00Z'), 60).toISOString()).toBe(
      '2026-07-01T10:00:00.000Z',
    );
    expect(nextCutoff(new Date('2026-07-01T10:00:00Z'), 60).toISOString()).toBe(
      '2026-07-01T11:00:00.000Z',
    );
    expect(nextCutoff(new Date('2026-07-01T23:50:00Z'), 1440).toISOString()).toBe(
      '2026-07-02T00:00:00.000Z',
    );
  });
});

describe.each(TEST_DRIVERS)('settlement windows on the database (%s)', (driver) => {
  let db: Database;
  let clock: ManualClock;
  let windows: SettlementWindowService;
  let fixings: FixingService;
  const random = new SeededRandom(19);
  const desk = new FixedRateSource('desk', new ManualClock('2026-07-01T09:00:00Z'));
  const A = newId('participant', new Date('2026-07-01'), random);
  const B = newId('participant', new Date('2026-07-01'), random);

  const record = (o: Partial<ObligationInput>) =>
    db.transaction((tx) =>
      windows.record(
        {
          source: 'deal',
          sourceId: 'deal_1',
          from: A,
          to: B,
          asset: 'BTC',
          amount: 1_000n,
          at: clock.now(),
          ...o,
        },
        tx,
      ),
    );

  async function refusal(run: Promise<unknown>): Promise<AppError> {
    const error = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  }

  beforeAll(async () => {
    db = await openTestDatabase(driver);
    clock = new ManualClock('2026-07-01T09:10:00Z');
    // The reference rate: the manual desk alone (no rate until a test sets one), fixing COP.
    fixings = new FixingService({ db, clock, random, sources: [desk] });
    await fixings.setSettings(supervisor, {
      cutoffTime: '14:30',
      currencies: ['COP'],
      sources: ['desk'],
      minSources: 1,
      maxDeviationBps: 200,
      singleSource: { reason: 'test scheme: the manual desk is the only source' },
    });
    const rates = new RateService({ db, clock, random, source: desk, fixings });
    windows = new SettlementWindowService({
      db,
      clock,
      random,
      network: 'regtest',
      payInDescriptor: DESCRIPTOR,
      confirmationDepth: schemeConfirmationDepth,
      addressScreening: addressScreening({ db, clock, random }),
      valuation: {
        currency: async () => (await fixings.settings()).currencies[0] ?? null,
        rateOn: (quote, date) => rates.valuationOn(quote, date),
      },
    });
  });

  afterAll(async () => {
    await db?.close();
  });

  it('refuses bad obligations and schedules whole', async () => {
    for (const bad of [
      { asset: 'btc' },
      { amount: 0n },
      { from: 'someone' },
      { to: A },
      { sourceId: '' },
    ]) {
      expect((await refusal(record(bad))).code).toBe('VALIDATION_FAILED');
    }
    expect((await windows.listWindows(supervisor)).items).toEqual([]);
    const past = await refusal(
      windows.setSchedule(supervisor, {
        periodMinutes: 60,
        payInMinutes: 30,
        effectiveFrom: new Date('2026-07-01T09:00:00Z'),
        reason: 'back-dated',
      }),
    );
    expect(past.code).toBe('VALIDATION_FAILED');
    const odd = await refusal(
      windows.setSchedule(supervisor, { periodMinutes: 7, payInMinutes: 30, reason: 'odd' }),
    );
    expect(odd.code).toBe('VALIDATION_FAILED');
    expect((await windows.schedule(supervisor)).versions).toEqual([]);
  });

  it('takes a bitcoin pay-in back when its block is disconnected, and counts it again after', async () => {
    await windows.setSchedule(supervisor, {
      periodMinutes: 60,
      payInMinutes: 30,
      reason: 'hourly',
    });
    await record({});
    await record({ sourceId: 'deal_1', from: B, to: A, asset: 'COP', amount: 5_000n });
    clock.set('2026-07-01T10:00:00Z');
    const [windowId] = (await windows.runDue()).closed;
    const payIns = (await windows.listPayIns(supervisor, windowId!)).items;
    const btc = payIns.find((p) => p.asset === 'BTC')!;
    expect(btc).toMatchObject({ platformId: A, amountDue: 1_000n, status: 'awaiting' });
    const consumer = windows.chainConsumer();
    const block = {
      hash: hex(0xb1),
      height: 200,
      transactions: [
        {
          txid: hex(0x71),
          inputs: [{ prevout: { address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' } }],
          outputs: [{ vout: 0, valueSats: 1_000n, address: btc.address }],
        },
      ],
    };
    await db.transaction((tx) => consumer.blockConnected(block, tx));
    const holding = async () =>
      (await windows.reconcile(supervisor, windowId!)).balances.find(
        (b) => b.account === 'holding' && b.asset === 'BTC',
      )?.balance;
    expect(
      (await windows.listPayIns(supervisor, windowId!)).items.find((p) => p.id === btc.id),
    ).toMatchObject({ status: 'received', txid: hex(0x71) });
    expect(await holding()).toBe(1_000n);

    await db.transaction((tx) => consumer.blockDisconnected(block, tx));
    expect(
      (await windows.listPayIns(supervisor, windowId!)).items.find((p) => p.id === btc.id),
    ).toMatchObject({ status: 'awaiting', txid: null });
    expect(await holding()).toBe(0n);
    const actions = (await listAuditEvents(db.orm, { entityId: btc.id }, { limit: 10 })).items.map(
      (e) => e.action,
    );
    expect(actions).toEqual(
      expect.arrayContaining(['settlement_pay_in.received', 'settlement_pay_in.withdrawn']),
    );

    // Found again in the block that replaces it; the fiat leg then settles the window.
    await db.transaction((tx) => consumer.blockConnected({ ...block, hash: hex(0xb2) }, tx));
    const fiat = { amount: 5_000n, currency: 'COP', bankReference: 'REF-9' };
    await windows.confirmFiatPayIn(supervisor, windowId!, B, fiat);
    await windows.confirmFiatPayIn(systemCaller('second-supervisor'), windowId!, B, fiat);
    const settled = await windows.getWindow(supervisor, windowId!);
    expect(settled.status).toBe('settled');
    expect((await windows.reconcile(supervisor, windowId!)).balanced).toBe(true);
    // No fixing of the day and no live rate at the desk: the window netted and settled in its
    // assets all the same, without a valuation, and says why.
    expect(settled.valuation).toEqual({
      currency: 'COP',
      rate: null,
      rateId: null,
      fixingId: null,
      unavailableReason: expect.stringContaining('no fixing of BTC/COP for 2026-07-01') as string,
    });
    const positions = (await windows.listPositions(supervisor, windowId!)).items;
    expect(positions.map((p) => p.valueMinor)).toEqual([null, null, null, null]);
  });

  it('holds a pay-in that cannot be screened, raises an alert, rejects it to be returned and counts a clean second payment', async () => {
    await record({ sourceId: 'deal_2', amount: 2_000n });
    clock.set('2026-07-01T11:00:00Z');
    const [windowId] = (await windows.runDue()).closed;
    const btc = (await windows.listPayIns(supervisor, windowId!)).items.find(
      (p) => p.asset === 'BTC',
    )!;
    const consumer = windows.chainConsumer();
    // An input without an address form: it cannot be screened, so the pay-in is held.
    const block = {
      hash: hex(0xc1),
      height: 300,
      transactions: [
        {
          txid: hex(0x81),
          inputs: [{ prevout: { address: null } }],
          outputs: [{ vout: 0, valueSats: 2_000n, address: btc.address }],
        },
      ],
    };
    await db.transaction((tx) => consumer.blockConnected(block, tx));
    expect(
      (await windows.listPayIns(supervisor, windowId!)).items.find((p) => p.id === btc.id),
    ).toMatchObject({ status: 'held', decision: null });
    // The alert, raised in the block's transaction (read through the audit log: clearing may
    // not import compliance).
    const [held] = (
      await listAuditEvents(db.orm, { entityId: btc.id, action: 'settlement_pay_in.held' }, {})
    ).items;
    const { alertId } = held!.after as { alertId: string };
    const [raised] = (await listAuditEvents(db.orm, { entityId: alertId }, {})).items;
    expect(raised).toMatchObject({
      action: 'alert.raised',
      after: { rule: HELD_PAY_IN_RULE, kind: 'screening', partyId: A, platformId: A },
    });
    expect((raised!.after as { message: string }).message).toContain('cannot be screened');

    // Held because an address could not be screened (not a list match): the hold says so, with
    // the alert and its case, to the supervisor; the platform sees none of it.
    const { caseId } = held!.after as { caseId: string };
    expect(caseId).toMatch(/^cas_/);
    expect(held!.after).toMatchObject({ heldReason: 'unscreenable' });
    const heldView = (await windows.listPayIns(supervisor, windowId!)).items.find(
      (p) => p.id === btc.id,
    );
    expect(heldView?.hold).toEqual({ reason: 'unscreenable', alertId, caseId });
    const officerA = { ...systemCaller('officer-a'), role: 'platform' as const, participantId: A };
    expect((await windows.listPayIns(officerA, windowId!)).items[0]).toMatchObject({
      status: 'held',
      hold: null,
      decision: null,
    });

    const rejected = await windows.decideHeldPayIn(supervisor, windowId!, btc.id, {
      decision: 'reject',
      reason: 'the payer cannot be screened; return it',
    });
    // Rejected to be returned (not frozen: no list named the payer), the decision showing the
    // case it was noted on.
    expect(rejected).toMatchObject({
      status: 'rejected',
      decision: { decision: 'reject', caseId },
      hold: { reason: 'unscreenable', caseId },
    });
    const [decided] = (
      await listAuditEvents(db.orm, { entityId: btc.id, action: 'settlement_pay_in.rejected' }, {})
    ).items;
    expect(decided!.after).toMatchObject({ toReturn: true, caseId, caseNoted: true });
    const [noted] = (
      await listAuditEvents(db.orm, { entityId: caseId, action: 'case.updated' }, {})
    ).items;
    const notes = (noted!.after as { notes: { text: string; by: string }[] }).notes;
    expect(notes.at(-1)?.text).toContain(`Settlement pay-in ${btc.id}`);
    expect(notes.at(-1)?.text).toContain('rejected: to be returned to the payer');
    expect(notes.at(-1)?.text).toContain('the payer cannot be screened; return it');

    // Before the deadline the due reopens: a second attempt at a fresh deposit address.
    const dues = (await windows.listPayIns(supervisor, windowId!)).items;
    expect(dues).toHaveLength(2);
    const second = dues.find((p) => p.id !== btc.id)!;
    expect(second).toMatchObject({
      platformId: A,
      asset: 'BTC',
      amountDue: 2_000n,
      attempt: 2,
      status: 'awaiting',
      hold: null,
    });
    expect(second.address).toMatch(/^bcrt1/);
    expect(second.address).not.toBe(btc.address);
    expect((await listAuditEvents(db.orm, { entityId: second.id }, {})).items[0]).toMatchObject({
      action: 'settlement_pay_in.reopened',
      after: { previousPayInId: btc.id, attempt: 2 },
    });
    // The platform sees both: the rejected one (status only) and where to pay again.
    expect(
      (await windows.listPayIns(officerA, windowId!)).items.map((p) => [p.attempt, p.status]),
    ).toEqual(
      expect.arrayContaining([
        [1, 'rejected'],
        [2, 'awaiting'],
      ]),
    );
    expect((await windows.getWindow(supervisor, windowId!)).status).toBe('closed');

    // The rejected payment's block goes: the decision stays recorded beside the reopened due.
    await db.transaction((tx) => consumer.blockDisconnected(block, tx));
    expect(
      (await windows.listPayIns(supervisor, windowId!)).items.find((p) => p.id === btc.id),
    ).toMatchObject({ status: 'rejected', txid: hex(0x81), decision: { decision: 'reject' } });
    expect(
      (await listAuditEvents(db.orm, { entityId: btc.id }, {})).items.map((e) => e.action)[0],
    ).toBe('settlement_pay_in.reorgedAfterDecision');

    // A clean payment to the old address does not count; one to the new address does, and the
    // window settles with it (payment versus payment, nobody taken out).
    await db.transaction((tx) =>
      consumer.blockConnected(
        {
          hash: hex(0xc2),
          height: 301,
          transactions: [
            {
              txid: hex(0x82),
              inputs: [{ prevout: { address: 'bcrt1qw508d6qejxtdg4y5r3zarvary0c5xw7kygt080' } }],
              outputs: [
                { vout: 0, valueSats: 2_000n, address: btc.address },
                { vout: 1, valueSats: 2_000n, address: second.address },
              ],
            },
          ],
        },
        tx,
      ),
    );
    const after = (await windows.listPayIns(supervisor, windowId!)).items;
    expect(after.find((p) => p.id === btc.id)).toMatchObject({
      status: 'rejected',
      refusals: [expect.objectContaining({ reason: 'PAY_IN_ALREADY_RECEIVED', vout: 0 })],
    });
    expect(after.find((p) => p.id === second.id)).toMatchObject({
      status: 'received',
      txid: hex(0x82),
      vout: 1,
    });
    expect((await windows.getWindow(supervisor, windowId!)).status).toBe('settled');
    expect((await windows.listPositions(supervisor, windowId!)).items.map((p) => p.status)).toEqual(
      ['settled', 'settled'],
    );
    expect((await windows.reconcile(supervisor, windowId!)).balanced).toBe(true);
    expect((await windows.payOutBatch(supervisor, windowId!)).inputs).toEqual([
      expect.objectContaining({ payInId: second.id, valueSats: 2_000n }),
    ]);
  });

  it('keeps a fiat recording in the audit log as an HMAC under a random key named only at its confirmation', async () => {
    await record({ sourceId: 'deal_3', from: B, to: A, asset: 'COP', amount: 7_000n });
    clock.set('2026-07-01T12:00:00Z');
    const [windowId] = (await windows.runDue()).closed;
    const due = (await windows.listPayIns(supervisor, windowId!)).items[0]!;
    const transfer = { amount: 7_000n, currency: 'COP', bankReference: 'REF-31' };
    await windows.confirmFiatPayIn(supervisor, windowId!, B, transfer);
    const [recorded] = (
      await listAuditEvents(db.orm, { entityId: due.id, action: 'settlement_pay_in.recorded' }, {})
    ).items;
    const digest = (recorded!.after as { recorded: string }).recorded;
    expect(digest).toMatch(/^[0-9a-f]{64}$/);
    // Not the plain digest a reader could recompute by trying references against the amount due.
    const plain = createHash('sha256').update(`${due.id}\n7000\nREF-31`).digest('hex');
    expect(digest).not.toBe(plain);
    const before = JSON.stringify(
      (await listAuditEvents(db.orm, { entityId: due.id }, {})).items,
      (_k, v: unknown) => (typeof v === 'bigint' ? `${v}` : v),
    );
    expect(before).not.toContain('REF-31');
    expect(before).not.toContain('recordedSalt');
    // Nor does any view name the key.
    const seen = (await windows.listPayIns(supervisor, windowId!)).items[0]!;
    expect(Object.keys(seen)).not.toContain('recordedSalt');
    // Confirmed by another person: the event names the values and the key, and the auditor
    // recomputes the recorded digest from them.
    await windows.confirmFiatPayIn(systemCaller('second-supervisor'), windowId!, B, transfer);
    const [confirmed] = (
      await listAuditEvents(db.orm, { entityId: due.id, action: 'settlement_pay_in.confirmed' }, {})
    ).items;
    const after = confirmed!.after as { recorded: string; recordedSalt: string };
    expect(after.recordedSalt).toMatch(/^[0-9a-f]{64}$/);
    expect(after.recorded).toBe(digest);
    expect(recordedDigest(due.id, 7_000n, 'REF-31', after.recordedSalt)).toBe(digest);
    expect(recordedDigest(due.id, 7_000n, 'REF-32', after.recordedSalt)).not.toBe(digest);
    expect((await windows.getWindow(supervisor, windowId!)).status).toBe('settled');
  });
  it('takes out at the deadline a platform whose reopened due is not paid again', async () => {
    await record({ sourceId: 'deal_4', amount: 3_000n });
    clock.set('2026-07-01T13:00:00Z');
    const [windowId] = (await windows.runDue()).closed;
    const first = (await windows.listPayIns(supervisor, windowId!)).items[0]!;
    const consumer = windows.chainConsumer();
    await db.transaction((tx) =>
      consumer.blockConnected(
        {
          hash: hex(0xd1),
          height: 400,
          transactions: [
            {
              txid: hex(0x91),
              inputs: [{ prevout: { address: null } }],
              outputs: [{ vout: 0, valueSats: 3_000n, address: first.address }],
            },
          ],
        },
        tx,
      ),
    );
    await windows.decideHeldPayIn(supervisor, windowId!, first.id, {
      decision: 'reject',
      reason: 'the payer cannot be screened; return it',
    });
    const second = (await windows.listPayIns(supervisor, windowId!)).items.find(
      (p) => p.attempt === 2,
    )!;
    expect(second.status).toBe('awaiting');
    // Not due yet: the reopened attempt is awaited until the deadline.
    clock.set('2026-07-01T13:20:00Z');
    expect((await windows.runDue()).settled).toEqual([]);
    clock.set('2026-07-01T13:30:01Z');
    expect((await windows.runDue()).settled).toEqual([windowId]);
    const positions = (await windows.listPositions(supervisor, windowId!)).items;
    expect(positions.find((p) => p.platformId === A)?.status).toBe('takenOut');
    const [takenOut] = (
      await listAuditEvents(
        db.orm,
        { entityId: windowId!, action: 'settlement_window.takenOut' },
        {},
      )
    ).items;
    expect(takenOut!.after).toMatchObject({
      platformId: A,
      missingPayIns: [{ asset: 'BTC', amount: '3000' }],
    });
    expect((await windows.reconcile(supervisor, windowId!)).balanced).toBe(true);
    expect((await windows.payOutBatch(supervisor, windowId!)).inputs).toEqual([]);
  });

  it("values the net positions at the live rate before the day's fixing, at the fixing after it, summing to zero", async () => {
    const C = newId('participant', new Date('2026-07-01'), random);
    const close = async (at: string) => {
      clock.set(at);
      const [id] = (await windows.runDue()).closed;
      return {
        window: await windows.getWindow(supervisor, id!),
        positions: (await windows.listPositions(supervisor, id!, { limit: 100 })).items,
      };
    };
    const obligations = async (tag: string) => {
      await record({ sourceId: `${tag}_1`, from: A, to: B, amount: 1_234_567n });
      await record({ sourceId: `${tag}_2`, from: C, to: B, amount: 333_333n });
      await record({ sourceId: `${tag}_3`, from: A, to: C, amount: 10n });
      await record({ sourceId: `${tag}_4`, from: B, to: A, asset: 'COP', amount: 5_000n });
    };
    // Before the fixing's cut-off the desk's live rate values the nets (no fixing named).
    desk.set('COP', '250000000.5');
    await obligations('live');
    const live = await close('2026-07-01T14:00:00Z');
    expect(live.window.valuation).toMatchObject({
      currency: 'COP',
      rate: '250000000.5',
      fixingId: null,
      unavailableReason: null,
    });
    expect(live.window.valuation?.rateId).toMatch(/^rat_/);

    // The day's fixing published: the next window is valued at it, whatever the desk says next.
    clock.set('2026-07-01T14:40:00Z');
    desk.set('COP', '260000000');
    const fixing = await fixings.publish(supervisor, { quote: 'COP' });
    desk.set('COP', '1');
    await obligations('fixed');
    const fixed = await close('2026-07-01T15:00:00Z');
    expect(fixed.window.valuation).toMatchObject({
      currency: 'COP',
      rate: '260000000',
      fixingId: fixing.id,
      unavailableReason: null,
    });
    const [closedEvent] = (
      await listAuditEvents(
        db.orm,
        { entityId: fixed.window.id, action: 'settlement_window.closed' },
        {},
      )
    ).items;
    expect(closedEvent!.after).toMatchObject({
      valuation: { currency: 'COP', fixingId: fixing.id, rate: '260000000' },
    });

    const rate = parseRate('260000000', 'COP');
    const btc = fixed.positions.filter((p) => p.asset === 'BTC');
    expect(btc).toHaveLength(3);
    // Each bitcoin net at the fixing, half-even; the largest takes the residue; they sum to zero.
    expect(btc.reduce((sum, p) => sum + p.valueMinor!, 0n)).toBe(0n);
    const largest = btc.reduce((a, b) =>
      (a.netAtClose < 0n ? -a.netAtClose : a.netAtClose) >=
      (b.netAtClose < 0n ? -b.netAtClose : b.netAtClose)
        ? a
        : b,
    );
    for (const p of btc) {
      const abs = p.netAtClose < 0n ? -p.netAtClose : p.netAtClose;
      const own = satsToFiat(abs, rate, 'halfEven').minor * (p.netAtClose < 0n ? -1n : 1n);
      if (p.id !== largest.id) expect(p.valueMinor).toBe(own);
      else expect(p.valueMinor! - own).toBeLessThanOrEqual(1n);
    }
    // A net in the valuation currency is its own value.
    for (const p of fixed.positions.filter((x) => x.asset === 'COP'))
      expect(p.valueMinor).toBe(p.netAtClose);
  });
});

describe('the network fee of a pay-out transaction', () => {
  it('is borne by the outputs pro rata, the rounding remainder on the largest, to the sat', () => {
    expect(feeShares([30_000_000n, 10_000_000n], 282n)).toEqual([212n, 70n]);
    expect(feeShares([5n, 5n, 5n], 10n)).toEqual([4n, 3n, 3n]);
    expect(feeShares([1_000n], 141n)).toEqual([141n]);
    for (const [amounts, fee] of [
      [[7n, 11n, 13n, 1_000_003n], 997n],
      [[546n, 546n], 1n],
      [[2n ** 40n, 3n], 12_345n],
    ] as const) {
      const shares = feeShares(amounts, fee);
      expect(shares.reduce((a, b) => a + b, 0n)).toBe(fee);
      const total = amounts.reduce((a, b) => a + b, 0n);
      shares.forEach((share, i) =>
        expect(
          share >= (fee * amounts[i]!) / total &&
            share <= (fee * amounts[i]!) / total + BigInt(amounts.length),
        ).toBe(true),
      );
    }
  });
});

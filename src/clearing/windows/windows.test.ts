import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listAuditEvents } from '../../audit';
import { LocalKeySigner } from '../../bitcoin';
import type { Database } from '../../db';
import { AppError, ManualClock, SeededRandom, newId, systemCaller } from '../../kernel';
import { schemeConfirmationDepth } from '../../trade';
import { nextCutoff } from './schedule';
import { SettlementWindowService, type ObligationInput } from './service';
import { HELD_PAY_IN_RULE } from './pay-ins';
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

describe.each(TEST_DRIVERS)('settlement windows on the database (%s)', (driver) => {
  let db: Database;
  let clock: ManualClock;
  let windows: SettlementWindowService;
  const random = new SeededRandom(19);
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
    windows = new SettlementWindowService({
      db,
      clock,
      random,
      network: 'regtest',
      payInDescriptor: DESCRIPTOR,
      confirmationDepth: schemeConfirmationDepth,
      addressScreening: addressScreening({ db, clock, random }),
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
    expect((await windows.getWindow(supervisor, windowId!)).status).toBe('settled');
    expect((await windows.reconcile(supervisor, windowId!)).balanced).toBe(true);
  });

  it('holds a pay-in that cannot be screened, raises an alert, and forgets a rejection its block takes away', async () => {
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

    const rejected = await windows.decideHeldPayIn(supervisor, windowId!, btc.id, {
      decision: 'reject',
      reason: 'the payer cannot be screened; return it',
    });
    expect(rejected).toMatchObject({ status: 'rejected', decision: { decision: 'reject' } });
    // The block goes: the rejection was about a transaction no longer in the chain.
    await db.transaction((tx) => consumer.blockDisconnected(block, tx));
    expect(
      (await windows.listPayIns(supervisor, windowId!)).items.find((p) => p.id === btc.id),
    ).toMatchObject({ status: 'awaiting', txid: null, decision: null });
  });
});

import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../../src/db';
import { EventRelay } from '../../src/events';
import { ManualClock, SeededRandom, systemCaller } from '../../src/kernel';
import { LICENCE_CHANGED, RegistryService } from '../../src/registry';
import { createCompliance, LIST_ACTIVATED } from '../../src/compliance';
import { INVOICE_CHANGED, PAYMENT_SETTLED, PAYOUT_CHANGED } from '../../src/trade';
import { announce as announceTrade, webhookSubscriber } from '../../src/trade/outbox';
import { openTestDatabase, TEST_DRIVERS } from '../support/db';

/**
 * What the modules announce through the outbox (src/events), each in the transaction of its
 * change: trade's invoice and payout changes and settlements (and the webhook deliveries its
 * subscriber queues from them), the registry's licence changes, compliance's list activations.
 * Here rather than in src/events/outbox.test.ts: events may import no module above it.
 */
/** The events of a topic, oldest first. */
async function announced(db: Database, topic: string) {
  const rows = rowsOf(
    await db.orm.execute(
      sql`select key, payload from outbox_events where topic = ${topic} order by seq`,
    ),
  );
  return rows.map((r) => ({ key: String(r.key), payload: r.payload as Record<string, unknown> }));
}

describe.each(TEST_DRIVERS)('what modules announce (%s)', (driver) => {
  let db: Database;
  const clock = new ManualClock('2026-12-07T09:00:00Z');
  const supervisor = systemCaller('outbox-test');

  beforeEach(async () => {
    db = await openTestDatabase(driver);
  });
  afterEach(async () => {
    await db.close();
  });

  it('trade: a change and a settlement, in the change’s transaction; each change one webhook delivery, once', async () => {
    const data = { invoiceId: 'inv_1', contractId: 'ctr_1', amountSats: 1500n, status: 'settled' };
    await db.transaction(async (tx) => {
      await announceTrade(tx, { clock }, 'plt_1', 'invoice.settled', 'inv_1', data);
      await announceTrade(tx, { clock }, 'plt_1', 'payout.created', 'pay_1', { payoutId: 'pay_1' });
    });
    // A change that rolls back announces nothing.
    await expect(
      db.transaction(async (tx) => {
        await announceTrade(tx, { clock }, 'plt_1', 'payout.completed', 'pay_1', {});
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await announced(db, INVOICE_CHANGED)).toEqual([
      {
        key: 'inv_1',
        payload: {
          event: 'invoice.settled',
          platformId: 'plt_1',
          entityId: 'inv_1',
          data: { invoiceId: 'inv_1', contractId: 'ctr_1', amountSats: '1500', status: 'settled' },
        },
      },
    ]);
    expect((await announced(db, PAYOUT_CHANGED)).map((e) => e.payload.event)).toEqual([
      'payout.created',
    ]);
    expect(await announced(db, PAYMENT_SETTLED)).toEqual([
      {
        key: 'inv_1',
        payload: {
          kind: 'invoice',
          id: 'inv_1',
          platformId: 'plt_1',
          contractId: 'ctr_1',
          amountSats: '1500',
        },
      },
    ]);

    // Two relays racing on trade's subscriber queue each change once.
    const first = new EventRelay({ db, clock });
    const second = new EventRelay({ db, clock });
    first.subscribe(webhookSubscriber(new SeededRandom(1)));
    second.subscribe(webhookSubscriber(new SeededRandom(2)));
    await Promise.all([first.run(), second.run()]);
    await first.run();
    const queue = rowsOf(
      await db.orm.execute(
        sql`select id, platform_id, event, entity_id, payload, created_at from trade_webhook_outbox
            order by entity_id`,
      ),
    );
    expect(queue.map((r) => [r.event, r.entity_id, r.platform_id])).toEqual([
      ['invoice.settled', 'inv_1', 'plt_1'],
      ['payout.created', 'pay_1', 'plt_1'],
    ]);
    // The body a receiver gets: its delivery id is the queue row's, the time the change's.
    expect(queue[0]!.payload).toEqual({
      id: queue[0]!.id,
      type: 'invoice.settled',
      createdAt: clock.now().toISOString(),
      platformId: 'plt_1',
      data: { invoiceId: 'inv_1', contractId: 'ctr_1', amountSats: '1500', status: 'settled' },
    });
  });

  it('registry: a licence granted, suspended and reinstated; a refused change announces nothing', async () => {
    const registry = new RegistryService({
      db,
      clock,
      random: new SeededRandom(3),
      network: 'mainnet',
    });
    const platform = await registry.registerParticipant(supervisor, {
      kind: 'platform',
      legalName: 'Alpha VASP',
      country: 'DE',
    });
    const licence = await registry.grantLicence(supervisor, {
      participantId: platform.id,
      kind: 'vasp',
      scope: 'custody',
      validFrom: '2026-01-01T00:00:00Z',
    });
    await registry.changeLicenceStatus(supervisor, licence.id, 'suspended', 'inspection');
    await registry.changeLicenceStatus(supervisor, licence.id, 'active', null);
    await registry.changeLicenceStatus(supervisor, licence.id, 'revoked', 'fraud');
    await expect(
      registry.changeLicenceStatus(supervisor, licence.id, 'active', null),
    ).rejects.toMatchObject({ code: 'INVALID_STATE_TRANSITION' });
    const events = await announced(db, LICENCE_CHANGED);
    expect(events.every((e) => e.key === licence.id)).toBe(true);
    expect(events.map((e) => e.payload)).toEqual([
      {
        licenceId: licence.id,
        participantId: platform.id,
        fromStatus: null,
        toStatus: 'active',
        reason: 'granted',
      },
      {
        licenceId: licence.id,
        participantId: platform.id,
        fromStatus: 'active',
        toStatus: 'suspended',
        reason: 'inspection',
      },
      {
        licenceId: licence.id,
        participantId: platform.id,
        fromStatus: 'suspended',
        toStatus: 'active',
        reason: null,
      },
      {
        licenceId: licence.id,
        participantId: platform.id,
        fromStatus: 'active',
        toStatus: 'revoked',
        reason: 'fraud',
      },
    ]);
  });

  it('compliance: a list snapshot activated by an import and by republishing an older version', async () => {
    const compliance = createCompliance({ db, clock, random: new SeededRandom(4) });
    const list = (text: string) => ({
      format: 'address-list' as const,
      asset: 'XBT',
      bytes: new TextEncoder().encode(text),
    });
    const a = await compliance.screening.importList(
      supervisor,
      list('bc1qlistedaaaaaaaaaaaaaaaaaaaaaa\n'),
    );
    const b = await compliance.screening.importList(
      supervisor,
      list('bc1qlistedbbbbbbbbbbbbbbbbbbbbbb\n'),
    );
    // The active version again: nothing changes, nothing is announced.
    await compliance.screening.importList(supervisor, list('bc1qlistedbbbbbbbbbbbbbbbbbbbbbb\n'));
    const again = await compliance.screening.importList(
      supervisor,
      list('bc1qlistedaaaaaaaaaaaaaaaaaaaaaa\n'),
    );
    expect(again.snapshot.id).toBe(a.snapshot.id);
    const events = await announced(db, LIST_ACTIVATED);
    expect(events.map((e) => e.key)).toEqual([a.snapshot.id, b.snapshot.id, a.snapshot.id]);
    expect(events.map((e) => [e.payload.previousSnapshotId, e.payload.reactivated])).toEqual([
      [null, false],
      [a.snapshot.id, false],
      [b.snapshot.id, true],
    ]);
    expect(events.every((e) => e.payload.source === 'address-list')).toBe(true);
  });
});

import { sql } from 'drizzle-orm';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ENTITY_CHANGED } from '../../src/audit';
import { rowsOf, type Database } from '../../src/db';
import { publish } from '../../src/events';
import { loadConfig, ManualClock, SeededRandom, systemCaller } from '../../src/kernel';
import { LICENCE_CHANGED } from '../../src/registry';
import { composeServices } from '../../src/services';
import { openTestDatabase, TEST_DRIVERS } from '../support/db';

/**
 * The server's relay (services.ts), the one the `events.prune` job runs, prunes under the
 * deployment's retention: the live feed's `entity.changed` after OUTBOX_FEED_RETENTION_MINUTES,
 * and never an event a subscriber of the deployment has not handled. The audit log stays whole.
 * Here rather than in src/events: events may import no module above it.
 */
describe.each(TEST_DRIVERS)(
  'the composed relay prunes under the configured retention (%s)',
  (driver) => {
    let db: Database;
    const clock = new ManualClock('2026-12-07T09:00:00Z');

    beforeEach(async () => {
      db = await openTestDatabase(driver);
    });
    afterEach(async () => {
      await db.close();
    });

    const topics = async () =>
      rowsOf(await db.orm.execute(sql`select topic from outbox_events order by seq`)).map((r) =>
        String(r.topic),
      );

    it('lets the feed’s events go after its retention, keeps what a subscriber has not handled', async () => {
      const config = loadConfig({
        OUTBOX_FEED_RETENTION_MINUTES: '5',
        OUTBOX_RETENTION_HOURS: '1',
      });
      const { events, registry } = composeServices({
        db,
        clock,
        config,
        random: new SeededRandom(3),
      });
      // An audited change: its audit event, announced as entity.changed.
      await registry.setSchemeJurisdiction(systemCaller('test.supervisor'), {
        country: 'FR',
        name: 'France',
      });
      // A licence change trade hears, not yet handled (the relay has not run).
      await db.transaction((tx) =>
        publish(tx, clock, {
          topic: LICENCE_CHANGED,
          key: 'lic_1',
          payload: {
            licenceId: 'lic_1',
            participantId: 'plt_1',
            fromStatus: 'active',
            toStatus: 'suspended',
            reason: 'x',
          },
        }),
      );
      const audited = async () =>
        rowsOf(await db.orm.execute(sql`select count(*)::int as n from audit_events`))[0]?.n;
      const before = await audited();
      expect(await topics()).toEqual([ENTITY_CHANGED, LICENCE_CHANGED]);
      clock.advance(4 * 60_000);
      expect(await events.prune()).toBe(0);
      clock.advance(2 * 60_000);
      expect(await events.prune()).toBe(1);
      expect(await topics()).toEqual([LICENCE_CHANGED]);
      // Days later, still not handled by trade: kept.
      clock.advance(3 * 24 * 3_600_000);
      expect(await events.prune()).toBe(0);
      expect(await topics()).toEqual([LICENCE_CHANGED]);
      expect(await audited()).toBe(before);
    });
  },
);

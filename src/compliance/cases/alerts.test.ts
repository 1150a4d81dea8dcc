/** The documented severity rule of alerts (alertSeverity in alerts.ts), and raising one. */
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rowsOf, type Database } from '../../db';
import { cryptoRandom, ManualClock, systemCaller } from '../../kernel';
import { openTestDatabase, TEST_DRIVERS } from '../../../test/support/db';
import { AuditLog, verifyAuditChain } from '../../audit';
import { alerts, cases } from '../schema';
import { alertSeverity, closeClearedAlerts, raiseAlert } from './alerts';

describe('alertSeverity', () => {
  it('makes every sanctions screening hit critical, whatever its score', () => {
    for (const score of [0.8, 0.93, 1]) {
      expect(alertSeverity({ kind: 'screening', rule: 'screening.listed@1', score })).toBe(
        'critical',
      );
    }
  });
  it('grades monitoring by score: below 30 low, from 30 medium, from 60 high', () => {
    const at = (score: number) =>
      alertSeverity({ kind: 'monitoring', rule: 'rule.velocity@1', score });
    expect(at(0)).toBe('low');
    expect(at(29.99)).toBe('low');
    expect(at(30)).toBe('medium');
    expect(at(59.99)).toBe('medium');
    expect(at(60)).toBe('high');
    expect(at(500)).toBe('high');
  });
  it('keeps exposure to a sanctioned address at least high however far it is', () => {
    for (const score of [80, 40, 20, 10]) {
      expect(alertSeverity({ kind: 'monitoring', rule: 'rule.sanctioned-exposure@1', score })).toBe(
        'high',
      );
    }
  });
  it('grades a clearing hold by its score as monitoring (raised at 60: high)', () => {
    expect(alertSeverity({ kind: 'clearing', rule: 'clearing.pay-out-held@1', score: 60 })).toBe(
      'high',
    );
  });
});

// Two raisers for a party with no open case, at once: both alerts land in one case, and neither
// fails (one open case per party is a unique index: the second insert waits for the first).
describe.each(TEST_DRIVERS)(
  'raiseAlert for a party with no open case, twice at once (%s)',
  (driver) => {
    let db: Database;
    beforeAll(async () => {
      db = await openTestDatabase(driver);
    });
    afterAll(async () => {
      await db.close();
    });

    it('opens one case and puts both alerts in it', async () => {
      const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
      const input = (subject: string) => ({
        partyId: 'swn_raced',
        platformId: null,
        kind: 'clearing' as const,
        rule: 'clearing.pay-out-held@1',
        score: 60,
        message: `held (${subject})`,
        subject,
      });
      const raise = (subject: string) =>
        db.transaction((tx) =>
          raiseAlert(tx, systemCaller('test'), clock, cryptoRandom, input(subject), []),
        );
      let releaseFirst = (): void => undefined;
      const held = new Promise<void>((resolve) => (releaseFirst = resolve));
      // The first opens the case and waits, uncommitted; the second starts meanwhile.
      let firstOpened = (): void => undefined;
      const opened = new Promise<void>((resolve) => (firstOpened = resolve));
      const first = db.transaction(async (tx) => {
        const raised = await raiseAlert(
          tx,
          systemCaller('test'),
          clock,
          cryptoRandom,
          input('a'),
          [],
        );
        firstOpened();
        await held;
        return raised;
      });
      await opened;
      const second = raise('b');
      if (driver === 'postgres') {
        // On PostgreSQL the second runs at once: wait until its insert waits for the first's case.
        const waiting = async () =>
          Number(
            rowsOf(
              await db.orm.execute(
                sql`select count(*)::int as n from pg_stat_activity
                   where datname = current_database() and wait_event_type = 'Lock'`,
              ),
            )[0]?.n,
          );
        await expect.poll(waiting, { timeout: 30_000 }).toBe(1);
      }
      releaseFirst();
      const [a, b] = await Promise.all([first, second]);
      expect(a.caseCreated).toBe(true);
      expect(b.caseCreated).toBe(false);
      expect(b.caseId).toBe(a.caseId);
      const rows = await db.orm.select().from(alerts).where(eq(alerts.partyId, 'swn_raced'));
      expect(rows.map((r) => r.subject).sort()).toEqual(['a', 'b']);
      expect(new Set(rows.map((r) => r.caseId))).toEqual(new Set([a.caseId]));
    });
  },
);

// Holds another module raised, cleared: the case is noted, and closed by the system only when
// nothing in it asks a person (no screening finding, nobody has taken it up).
describe.each(TEST_DRIVERS)('closeClearedAlerts (%s)', (driver) => {
  let db: Database;
  let audit: AuditLog;
  const clock = new ManualClock(new Date('2026-12-01T00:00:00Z'));
  const caller = systemCaller('test');
  beforeAll(async () => {
    db = await openTestDatabase(driver);
    audit = new AuditLog({ db, clock });
  });
  afterAll(async () => {
    await db.close();
  });

  const raise = (partyId: string, kind: 'clearing' | 'screening', subject: string) =>
    db.transaction((tx) =>
      raiseAlert(
        tx,
        caller,
        clock,
        cryptoRandom,
        {
          partyId,
          platformId: null,
          kind,
          rule: 'clearing.pay-out-held@1',
          score: 60,
          message: `held (${subject})`,
          subject,
        },
        audit,
      ),
    );
  const clear = (partyId: string, subjects: string[]) =>
    db.transaction((tx) =>
      closeClearedAlerts(tx, caller, { clock, audit }, { partyId, subjects, note: 'cleared' }),
    );
  const caseOf = async (id: string) =>
    (await db.orm.select().from(cases).where(eq(cases.id, id)))[0]!;

  it('closes a case of cleared operational holds only', async () => {
    const { caseId } = await raise('plt_licence', 'clearing', 'w1:LICENCE_NOT_ACTIVE');
    expect(await clear('plt_licence', ['w1:LICENCE_NOT_ACTIVE'])).toEqual({ caseId, closed: true });
    expect(await caseOf(caseId)).toMatchObject({ state: 'closed', outcome: 'confirmed' });
  });

  it('only notes a case holding a screening finding, or one a person has taken up', async () => {
    const screened = await raise('plt_listed', 'screening', 'w1:TRANSFER_BLOCKED');
    expect(await clear('plt_listed', ['w1:TRANSFER_BLOCKED'])).toEqual({
      caseId: screened.caseId,
      closed: false,
    });
    const noted = await caseOf(screened.caseId);
    expect(noted.state).toBe('open');
    expect((noted.notes as { text: string }[]).at(-1)?.text).toBe('cleared');

    const taken = await raise('plt_taken', 'clearing', 'w1:LICENCE_NOT_ACTIVE');
    await db.orm.update(cases).set({ assignee: 'usr_officer' }).where(eq(cases.id, taken.caseId));
    expect(await clear('plt_taken', ['w1:LICENCE_NOT_ACTIVE'])).toEqual({
      caseId: taken.caseId,
      closed: false,
    });
    expect((await caseOf(taken.caseId)).state).toBe('open');
    expect((await verifyAuditChain(db.orm)).ok).toBe(true);
  });
});

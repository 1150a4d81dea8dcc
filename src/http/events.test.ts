import { describe, expect, it } from 'vitest';
import type { Caller, Role } from '../kernel';
import { disclosedTo, EventBus, visibleTo, type LiveEvent } from './events';

const caller = (role: Role, participantId: string, platformId: string | null = null): Caller => ({
  role,
  participantId,
  platformId,
  actorId: 'usr_test',
  personId: 'usr_test',
  requestId: null,
});

const event = (participantId: string | null, platformId: string | null = null): LiveEvent => ({
  topic: 'audit',
  at: '2026-07-01T09:00:00.000Z',
  participantId,
  platformId,
  payload: {},
});

// The live stream must scope like the database does (src/db scopeTo): supervisor and auditor see
// everything, a platform its own and its clients' events, a company or miner only its own.
describe('live events scoping', () => {
  it('follows the tenancy rule of scopeTo', () => {
    const cases: [Caller, LiveEvent, boolean][] = [
      [caller('supervisor', 'scheme'), event('cmp_a'), true],
      [caller('auditor', 'scheme'), event(null), true],
      [caller('company', 'cmp_a', 'plt_n'), event('cmp_a', 'plt_n'), true],
      [caller('company', 'cmp_a', 'plt_n'), event('cmp_b', 'plt_n'), false],
      [caller('company', 'cmp_a', 'plt_n'), event(null), false],
      [caller('platform', 'plt_n', 'plt_n'), event('cmp_a', 'plt_n'), true],
      [caller('platform', 'plt_n', 'plt_n'), event('plt_n'), true],
      [caller('platform', 'plt_n', 'plt_n'), event('cmp_z', 'plt_s'), false],
      [caller('miner', 'min_1'), event('min_2'), false],
    ];
    for (const [who, what, expected] of cases) expect(visibleTo(who, what)).toBe(expected);
  });

  it('delivers to every subscriber, drops a failing one, and stops after unsubscribe', () => {
    const bus = new EventBus(() => new Date('2026-07-01T09:00:00Z'));
    const received: LiveEvent[] = [];
    const unsubscribe = bus.subscribe((e) => received.push(e));
    bus.subscribe(() => {
      throw new Error('socket closed');
    });
    bus.publish('invoice', { id: 'inv_1' }, { participantId: 'cmp_a', platformId: 'plt_n' });
    expect(received).toEqual([
      {
        topic: 'invoice',
        at: '2026-07-01T09:00:00.000Z',
        participantId: 'cmp_a',
        platformId: 'plt_n',
        payload: { id: 'inv_1' },
      },
    ]);
    expect(bus.subscribers).toBe(1);
    unsubscribe();
    bus.publish('invoice', { id: 'inv_2' });
    expect(received).toHaveLength(1);
    expect(bus.subscribers).toBe(0);
  });

  it("keeps compliance's work on a company out of its stream, and reasons out of its payloads", () => {
    const company = caller('company', 'cmp_a', 'plt_n');
    const officer = caller('platform', 'plt_n', 'plt_n');
    const audit = (action: string, entityType: string, extra: Record<string, unknown> = {}) => ({
      ...event('cmp_a', 'plt_n'),
      payload: { action, entityType, entityId: 'x_1', ...extra },
    });
    // FATF R.21: an alert raised or a case opened on the company is not the company's to know.
    expect(disclosedTo(company, audit('alert.raised', 'alert'))).toBeNull();
    expect(disclosedTo(company, audit('case.opened', 'case'))).toBeNull();
    expect(disclosedTo(officer, audit('alert.raised', 'alert'))).not.toBeNull();
    const withReasons = audit('payout.created', 'payout', {
      reasons: ['MONITORING_HIT: 3 transfers … (structuring) (score 60)'],
      monitoringScore: 60,
    });
    expect(disclosedTo(company, withReasons)?.payload).toEqual({
      action: 'payout.created',
      entityType: 'payout',
      entityId: 'x_1',
    });
    expect(disclosedTo(officer, withReasons)?.payload).toMatchObject({ monitoringScore: 60 });
    expect(disclosedTo(caller('company', 'cmp_b', 'plt_n'), withReasons)).toBeNull();
  });
});

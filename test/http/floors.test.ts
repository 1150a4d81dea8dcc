import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { systemCaller } from '../../src/kernel';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * The supervisor's floors under platforms' trade settings (issue 11, finding 2): a platform
 * lowered its own quorum (approvalsAbove/Below: 1) and confirmations (0), or could raise its
 * quorum threshold to keep every payout in the lower tier. Now a PUT below a floor is a 400
 * naming the field; settings stored before a floor was raised take effect at the floor; only the
 * supervisor changes the floors, and each change is audited.
 */
describe.each(TEST_DRIVERS)('settings floors, on %s', (driver) => {
  let t: TestApp;
  let platform = '';
  let asPlatform: TestKey;
  let supervisor: TestKey;

  const put = async (url: string, key: TestKey, payload: object) =>
    t.app.inject({ method: 'PUT', url, headers: { authorization: key.authorization }, payload });
  const settings = async () =>
    (
      await t.app.inject({
        method: 'GET',
        url: `/v1/trade/settings/${platform}`,
        headers: { authorization: asPlatform.authorization },
      })
    ).json<{
      approvalsAbove: number;
      approvalsBelow: number;
      confirmations: number;
      quorumThresholdSats: string;
    }>();

  beforeAll(async () => {
    t = await startTestApp({ driver });
    platform = (
      await t.services.registry.registerParticipant(systemCaller('test'), {
        kind: 'platform',
        legalName: 'Alpha Exchange',
        country: 'CO',
      })
    ).id;
    asPlatform = await t.keyFor('platform', platform, platform);
    supervisor = await t.keyFor('supervisor', 'scheme');
  }, 60_000);
  afterAll(async () => t?.close());

  it('refuses a platform’s settings below the floors, naming the field, and writes nothing', async () => {
    const before = await settings();
    for (const [field, value] of [
      ['approvalsAbove', 1],
      ['confirmations', 0],
      ['quorumThresholdSats', '200000000'],
    ] as const) {
      const response = await put(`/v1/trade/settings/${platform}`, asPlatform, { [field]: value });
      expect(response.statusCode, field).toBe(400);
      expect(response.json()).toMatchObject({
        code: 'VALIDATION_FAILED',
        issues: [{ field }],
      });
    }
    expect(await settings()).toEqual(before);
  });

  it('lets only the supervisor change the floors, audited', async () => {
    const refused = await put('/v1/trade/floors', asPlatform, { minApprovalsAbove: 1 });
    expect(refused.statusCode).toBe(403);
    // Settings stored at today's floors …
    const stored = await put(`/v1/trade/settings/${platform}`, asPlatform, {
      approvalsBelow: 1,
      confirmations: 1,
      quorumThresholdSats: '50000000',
    });
    expect(stored.statusCode).toBe(200);
    const raised = await put('/v1/trade/floors', supervisor, {
      minApprovalsBelow: 2,
      minConfirmations: 2,
      maxQuorumThresholdSats: '20000000',
    });
    expect(raised.statusCode).toBe(200);
    expect(raised.json()).toEqual({
      minApprovalsAbove: 2,
      minApprovalsBelow: 2,
      maxQuorumThresholdSats: '20000000',
      minConfirmations: 2,
    });
    // … take effect at the raised floors, without being rewritten.
    expect(await settings()).toMatchObject({
      approvalsBelow: 2,
      confirmations: 2,
      quorumThresholdSats: '20000000',
    });
    const below = await put(`/v1/trade/settings/${platform}`, asPlatform, { approvalsBelow: 1 });
    expect(below.statusCode).toBe(400);
    expect(below.json()).toMatchObject({ issues: [{ field: 'approvalsBelow' }] });
    // A change of another field is fine: the stored values are lifted to the floors.
    const other = await put(`/v1/trade/settings/${platform}`, asPlatform, { toleranceBps: 10 });
    expect(other.statusCode).toBe(200);

    const events = rowsOf(
      await t.db.orm.execute(
        sql`select action, actor_role from audit_events where action = 'trade.floorsChanged'`,
      ),
    );
    expect(events).toEqual([{ action: 'trade.floorsChanged', actor_role: 'supervisor' }]);
    const verify = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: { authorization: supervisor.authorization },
    });
    expect(verify.json()).toMatchObject({ ok: true });
  });

  it('refuses floors out of range with the field named', async () => {
    const response = await put('/v1/trade/floors', supervisor, { minApprovalsAbove: 0 });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ code: 'VALIDATION_FAILED' });
    const floors = await t.app.inject({
      method: 'GET',
      url: '/v1/trade/floors',
      headers: { authorization: asPlatform.authorization },
    });
    expect(floors.json()).toMatchObject({ minApprovalsAbove: 2 });
  });
});

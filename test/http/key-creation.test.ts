import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'drizzle-orm';
import { rowsOf } from '../../src/db';
import { systemCaller, type Role } from '../../src/kernel';
import { startTestApp, type TestApp, type TestKey } from '../support/http';
import { TEST_DRIVERS } from '../support/db';

/**
 * Who may create an API key for whom (issue 11, finding 1): every caller role × every target,
 * through POST /v1/keys, and exactly the pairs of the access module's table succeed. Before the
 * fix a platform key minted keys for another platform's company, for another platform, for the
 * scheme, a miner and ids the registry does not know.
 */
const CALLERS = ['supervisor', 'platform A', 'company of A', 'miner', 'auditor'] as const;
type CallerName = (typeof CALLERS)[number];

const TARGETS = [
  'self',
  'another person of its own participant',
  'a new person (personName) of its own participant',
  'company of A',
  'company of B',
  'company of B claimed under A',
  'platform A',
  'platform B',
  'scheme (supervisor)',
  'scheme (auditor)',
  'a miner',
  'an unknown id',
  'platform A claimed as a company',
  'company of A claimed as a miner',
  'a counterparty of A claimed as a company',
] as const;
type TargetName = (typeof TARGETS)[number];

/** The table: what each caller may create. Everything else is refused. */
const ALLOWED: Record<CallerName, readonly TargetName[]> = {
  supervisor: [
    'self',
    'another person of its own participant',
    'a new person (personName) of its own participant',
    'company of A',
    'company of B',
    'platform A',
    'platform B',
    'scheme (supervisor)',
    'scheme (auditor)',
    'a miner',
  ],
  'platform A': ['self', 'platform A'],
  'company of A': ['self', 'company of A'],
  miner: ['self', 'a miner'],
  auditor: [],
};

describe.each(TEST_DRIVERS)('who may create a key for whom, on %s', (driver) => {
  let t: TestApp;
  const ids = { a: '', b: '', coA: '', coB: '', miner: '', cpA: '' };
  const callers = {} as Record<CallerName, TestKey & { binding: Binding }>;
  const others = {} as Record<CallerName, TestKey>;
  type Binding = { role: Role; participantId: string; platformId: string | null };

  beforeAll(async () => {
    t = await startTestApp({ driver });
    const root = systemCaller('test');
    const register = async (
      kind: 'platform' | 'company' | 'miner' | 'counterparty',
      legalName: string,
      platformId?: string,
    ) =>
      (
        await t.services.registry.registerParticipant(root, {
          kind,
          legalName,
          country: 'CO',
          ...(platformId ? { platformId } : {}),
        })
      ).id;
    ids.a = await register('platform', 'Alpha Exchange');
    ids.b = await register('platform', 'Beta Exchange');
    for (const platformId of [ids.a, ids.b])
      await t.services.registry.grantLicence(root, {
        participantId: platformId,
        kind: 'vasp',
        scope: 'custody and transfer',
        validFrom: '2026-01-01T00:00:00Z',
      });
    ids.coA = await register('company', 'Andes Coffee SA', ids.a);
    ids.coB = await register('company', 'Bogota Flowers SA', ids.b);
    ids.miner = await register('miner', 'Chaco Hash SA');
    ids.cpA = await register('counterparty', 'Hamburg Roasters GmbH', ids.a);
    const bindings: Record<CallerName, Binding> = {
      supervisor: { role: 'supervisor', participantId: 'scheme', platformId: null },
      'platform A': { role: 'platform', participantId: ids.a, platformId: ids.a },
      'company of A': { role: 'company', participantId: ids.coA, platformId: ids.a },
      miner: { role: 'miner', participantId: ids.miner, platformId: null },
      auditor: { role: 'auditor', participantId: 'scheme', platformId: null },
    };
    for (const name of CALLERS) {
      const b = bindings[name];
      callers[name] = { ...(await t.keyFor(b.role, b.participantId, b.platformId)), binding: b };
      others[name] = await t.keyFor(b.role, b.participantId, b.platformId);
    }
  }, 120_000);
  afterAll(async () => t?.close());

  function body(caller: CallerName, target: TargetName): Record<string, unknown> {
    const own = callers[caller].binding;
    const ownBody = {
      role: own.role,
      participantId: own.participantId,
      ...(own.platformId ? { platformId: own.platformId } : {}),
    };
    switch (target) {
      case 'self':
        return ownBody;
      case 'another person of its own participant':
        return { ...ownBody, personId: others[caller].personId };
      case 'a new person (personName) of its own participant':
        return { ...ownBody, personName: 'Second Officer' };
      case 'company of A':
        return { role: 'company', participantId: ids.coA, platformId: ids.a };
      case 'company of B':
        return { role: 'company', participantId: ids.coB, platformId: ids.b };
      case 'company of B claimed under A':
        return { role: 'company', participantId: ids.coB, platformId: ids.a };
      case 'platform A':
        return { role: 'platform', participantId: ids.a };
      case 'platform B':
        return { role: 'platform', participantId: ids.b };
      case 'scheme (supervisor)':
        return { role: 'supervisor', participantId: 'scheme' };
      case 'scheme (auditor)':
        return { role: 'auditor', participantId: 'scheme' };
      case 'a miner':
        return { role: 'miner', participantId: ids.miner };
      case 'an unknown id':
        return { role: 'platform', participantId: 'par_01K0000000000000000000UNKN' };
      case 'platform A claimed as a company':
        return { role: 'company', participantId: ids.a, platformId: ids.a };
      case 'company of A claimed as a miner':
        return { role: 'miner', participantId: ids.coA };
      case 'a counterparty of A claimed as a company':
        return { role: 'company', participantId: ids.cpA, platformId: ids.a };
    }
  }

  const keyCount = async () =>
    Number(rowsOf(await t.db.orm.execute(sql`select count(*)::int as n from api_keys`))[0]?.n);

  it('lets exactly the allowed caller × target pairs create a key, and no other', async () => {
    const outcomes: string[] = [];
    const expected: string[] = [];
    for (const caller of CALLERS) {
      for (const target of TARGETS) {
        const before = await keyCount();
        const response = await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: { authorization: callers[caller].authorization },
          payload: { ...body(caller, target), name: 'matrix' },
        });
        const allowed = ALLOWED[caller].includes(target);
        expected.push(`${caller} → ${target}: ${allowed ? 'created' : 'refused'}`);
        if (response.statusCode === 201) {
          outcomes.push(`${caller} → ${target}: created`);
          // The minted key is bound to what was asked, and works.
          const created = response.json<{ token: string; participantId: string }>();
          const me = await t.app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${created.token}` },
          });
          expect(me.statusCode).toBe(200);
          expect(me.json()).toMatchObject({ participantId: body(caller, target).participantId });
        } else {
          // A refusal is a 4xx with a closed code, and nothing is written.
          expect(response.statusCode, `${caller} → ${target}`).toBeGreaterThanOrEqual(400);
          expect(response.statusCode, `${caller} → ${target}`).toBeLessThan(500);
          expect(['FORBIDDEN', 'VALIDATION_FAILED']).toContain(
            response.json<{ code: string }>().code,
          );
          expect(await keyCount()).toBe(before);
          outcomes.push(`${caller} → ${target}: refused`);
        }
      }
    }
    expect(outcomes).toEqual(expected);
    const audit = await t.app.inject({
      method: 'GET',
      url: '/v1/audit/verify',
      headers: { authorization: callers.supervisor.authorization },
    });
    expect(audit.json()).toMatchObject({ ok: true });
  }, 120_000);

  it('binds a key created for oneself to one’s own person; the supervisor’s to the administrator', async () => {
    const own = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { authorization: callers['platform A'].authorization },
      payload: { role: 'platform', participantId: ids.a, name: 'second key' },
    });
    expect(own.statusCode).toBe(201);
    expect(own.json()).toMatchObject({ personId: callers['platform A'].personId });
    const me = await t.app.inject({
      method: 'GET',
      url: '/v1/me',
      headers: { authorization: `Bearer ${own.json<{ token: string }>().token}` },
    });
    expect(me.json()).toMatchObject({
      personId: callers['platform A'].personId,
      actorId: own.json<{ id: string }>().id,
    });
    // The supervisor's keys for a participant go to that participant's administrator: one person.
    const forB = async () =>
      (
        await t.app.inject({
          method: 'POST',
          url: '/v1/keys',
          headers: { authorization: callers.supervisor.authorization },
          payload: { role: 'platform', participantId: ids.b, name: 'admin' },
        })
      ).json<{ personId: string }>().personId;
    const first = await forB();
    expect(await forB()).toBe(first);
    const [admin] = rowsOf(
      await t.db.orm.execute(
        sql`select display_name, password_hash from users where id = ${first}`,
      ),
    );
    expect(admin).toEqual({ display_name: 'Administrator of Beta Exchange', password_hash: null });
  });
});

describe('forged keys over HTTP (finding 1)', () => {
  let t: TestApp;
  let a = '';
  let b = '';
  let coB = '';
  let asA: TestKey;
  let asB: TestKey;

  beforeAll(async () => {
    t = await startTestApp();
    const root = systemCaller('test');
    const reg = async (kind: 'platform' | 'company', legalName: string, platformId?: string) =>
      (
        await t.services.registry.registerParticipant(root, {
          kind,
          legalName,
          country: 'CO',
          ...(platformId ? { platformId } : {}),
        })
      ).id;
    a = await reg('platform', 'Alpha Exchange');
    b = await reg('platform', 'Beta Exchange');
    for (const platformId of [a, b])
      await t.services.registry.grantLicence(root, {
        participantId: platformId,
        kind: 'vasp',
        scope: 'custody and transfer',
        validFrom: '2026-01-01T00:00:00Z',
      });
    coB = await reg('company', 'Bogota Flowers SA', b);
    asA = await t.keyFor('platform', a, a);
    asB = await t.keyFor('platform', b, b);
  }, 60_000);
  afterAll(async () => t?.close());

  it('refuses a company key for another platform’s client, however it is dressed', async () => {
    for (const platformId of [a, b, undefined]) {
      const response = await t.app.inject({
        method: 'POST',
        url: '/v1/keys',
        headers: { authorization: asA.authorization },
        payload: {
          role: 'company',
          participantId: coB,
          name: 'x',
          ...(platformId ? { platformId } : {}),
        },
      });
      expect(response.statusCode).toBe(403);
      expect(response.json()).toMatchObject({ code: 'FORBIDDEN' });
    }
  });

  it('refuses A a key bound to platform B, and A cannot list or revoke B’s keys', async () => {
    const minted = await t.app.inject({
      method: 'POST',
      url: '/v1/keys',
      headers: { authorization: asA.authorization },
      payload: { role: 'platform', participantId: b, platformId: b, name: 'x' },
    });
    expect(minted.statusCode).toBe(403);
    const list = await t.app.inject({ method: 'GET', url: '/v1/keys', headers: asA });
    const listed = list.json<{ items: { id: string; participantId: string }[] }>().items;
    expect(listed.map((k) => k.participantId)).toEqual([a]);
    const revoke = await t.app.inject({
      method: 'DELETE',
      url: `/v1/keys/${asB.id}`,
      headers: { authorization: asA.authorization },
    });
    expect(revoke.statusCode).toBe(404);
    const stillWorks = await t.app.inject({ method: 'GET', url: '/v1/me', headers: asB });
    expect(stillWorks.statusCode).toBe(200);
  });

  it('answers /v1/me with the person; two keys of one person name the same one', async () => {
    const second = await t.keyFor('platform', a, a, { samePersonAs: asA });
    const third = await t.keyFor('platform', a, a);
    const personOf = async (key: TestKey) =>
      (await t.app.inject({ method: 'GET', url: '/v1/me', headers: key })).json<{
        personId: string;
      }>().personId;
    expect(await personOf(asA)).toBe(asA.personId);
    expect(await personOf(second)).toBe(asA.personId);
    expect(await personOf(third)).not.toBe(asA.personId);
  });

  it('refuses every key of a person who is disabled', async () => {
    const key = await t.keyFor('platform', a, a);
    await t.db.orm.execute(sql`update users set disabled_at = now() where id = ${key.personId}`);
    const me = await t.app.inject({ method: 'GET', url: '/v1/me', headers: key });
    expect(me.statusCode).toBe(401);
  });
});
